"""The documentation of the hand-off tables in the warehouse (``COMMENT ON``, in Russian):
every table and every column, so an auditor can recompute a figure from ``handoffs``."""

from __future__ import annotations

TABLE_DOCS = {
    "handoff_events": "События выгрузки передач (data/raw/handoffs/), принятые ingest: "
    "назначения, передачи, обещанные и выполненные звонки, эскалации, обновления статуса, "
    "закрытия; отклонённые строки — в quarantine (kind = 'handoff').",
    "handoffs": "Каждая передача (перевод, назначение, эскалация в отдел или обещанный звонок) "
    "с судьбой на конец отчётной недели: в срок, с опозданием, потеряна, ещё открыта "
    "(правила — README, «Hand-off fates»); переданные начиная с недели, чья передача ещё может "
    "решиться в окне тренда (trend_weeks + lost_business_days / 5 + 3 недели до отчётной), "
    "все события — в handoff_events.",
    "handoff_department_weeks": "Отдел-получатель × ISO-неделя: получено передач (по неделе "
    "передачи), решено в срок / с опозданием / потеряно (по неделе, когда судьба стала "
    "известна), доли, медиана времени до взятия в работу.",
    "handoff_departments": "Отдел-получатель за отчётную неделю: получено, потеряно и с "
    "опозданием (доли), ещё открыто на конец недели, медиана времени до взятия в работу, "
    "тренд доли потерянных, цель и её статус, владелец.",
    "handoff_reasons": "Причина контакта за последние недели (aggregate.recent_weeks): сколько "
    "контактов передавали, передач на 100 контактов, во сколько раз чаще прочих, сколько "
    "передач потеряно.",
}
_COUNTS = {
    "received": "передач, полученных отделом за неделю (по времени передачи)",
    "settled": "передач, чья судьба стала известна за неделю: on_time + late + lost",
    "on_time": "сделано к сроку (обещание — не позже обещанного времени; перевод — до конца "
    "pickup_business_days-го рабочего дня после дня перевода)",
    "late": "сделано после срока, но до предела lost_business_days рабочих дней",
    "lost": "не сделано до конца lost_business_days-го рабочего дня после дня перевода или "
    "обещанного дня (учтено в неделе, когда предел истёк)",
    "lost_share": "lost / settled; NULL, если за неделю ничего не решено",
    "late_share": "late / settled",
    "median_pickup_hours": "медиана рабочих часов от передачи до взятия в работу у передач, "
    "сделанных за неделю (в срок или с опозданием); выходные и праздники не считаются",
    "lost_came_back": "контактов того же клиента, пришедших после передачи, пока она "
    "не была сделана, — у потерянных передач этой недели",
    "promises_settled": "из settled — обещанных звонков",
    "promises_lost": "из lost — обещанных звонков",
}
COLUMN_DOCS = {
    **{("handoff_events", c): d for c, d in {
        "event_id": "ид события в выгрузке",
        "contact_id": "контакт (kind:id), к которому относится событие",
        "event_at": "время события (UTC)",
        "event_type": "assigned | transferred | callback_promised | callback_done | escalated "
        "| status_update | closed",
        "from_department": "отдел, сделавший событие (текст выгрузки)",
        "to_department": "отдел, которому передано (текст выгрузки)",
        "promised_at": "обещанное время звонка (UTC)",
        "source_file": "файл выгрузки",
        "source_row": "строка файла",
    }.items()},
    **{("handoffs", c): d for c, d in {
        "handoff_id": "ид события передачи",
        "contact_id": "контакт (kind:id)",
        "handoff_type": "transfer (перевод, назначение, эскалация) | promise (обещан звонок)",
        "event_type": "тип события передачи",
        "from_department": "кто передал",
        "department": "отдел-получатель: to_department, у обещания без него — пообещавший",
        "handed_at": "время передачи (UTC)",
        "promised_at": "обещанное время звонка (UTC)",
        "due_at": "срок: обещанное время либо конец pickup_business_days-го рабочего дня "
        "после дня передачи (23:59:59 местного)",
        "lost_at": "предел: конец lost_business_days-го рабочего дня после дня передачи "
        "или обещанного дня",
        "done_at": "первое последующее событие отдела-получателя (у обещания — «звонок "
        "выполнен»), известное на конец отчётной недели",
        "done_by": "тип этого события",
        "fate": "on_time | late | lost | open",
        "settled_at": "когда судьба стала известна: done_at либо lost_at у потерянных",
        "received_week": "ISO-неделя передачи (местное время)",
        "settled_week": "ISO-неделя settled_at; NULL у открытых",
        "pickup_hours": "рабочих часов от передачи до done_at",
        "returned_to_sender": "отдел-получатель вернул передачу отправителю",
        "reason_id": "причина контакта",
        "customer_id": "клиент контакта",
        "contact_week": "ISO-неделя контакта",
        "came_back": "контактов того же клиента после передачи и до done_at (или до конца "
        "отчётной недели)",
    }.items()},
    **{("handoff_department_weeks", c): d for c, d in {
        "department": "отдел-получатель (текст выгрузки)",
        "iso_week": "ISO-неделя",
        **_COUNTS,
    }.items()},
    **{("handoff_departments", c): d for c, d in {
        "department": "отдел-получатель (текст выгрузки)",
        "owner_id": "владелец из taxonomy/reasons.yaml, чьё название, id или departments "
        "совпадает с отделом; NULL — не сопоставлен",
        **_COUNTS,
        "open": "передач, ещё открытых на конец отчётной недели (не сделаны, предел не истёк)",
        "returned_to_sender": "передач, которые отдел за неделю вернул отправителю",
        "lost_share_recent": "lost / settled за последние aggregate.recent_weeks недель",
        "lost_share_before": "lost / settled за столько же недель до них",
        "promise_lost_share_recent": "доля несостоявшихся обещанных звонков (promises_lost / "
        "promises_settled) за последние aggregate.recent_weeks недель",
        "trend_verdict": "rising | falling | flat | insufficient: тренд недельной доли "
        "потерянных (Манн–Кендалл, наклон Тейла–Сена) за aggregate.trend_weeks недель",
        "trend_ru": "тренд по-русски: растёт | снижается | без тренда | мало данных",
        "trend_slope": "наклон Тейла–Сена доли потерянных, в долях за неделю",
        "trend_p": "p-значение теста Манна–Кендалла",
        "target_lost_share": "цель: доля потерянных не выше (aggregate.handoffs)",
        "target_status": "met | off_track по доле потерянных за последние aggregate.recent_weeks "
        "недель (lost_share_recent), как цель причины; NULL — ничего не решено",
        "series": "JSON: недельные доли потерянных за aggregate.trend_weeks недель",
    }.items()},
    **{("handoff_reasons", c): d for c, d in {
        "reason_id": "причина контакта",
        "contacts": "контактов причины за последние недели",
        "handed_contacts": "из них передавались хотя бы раз",
        "handoffs": "передач этих контактов",
        "handoffs_per_100": "передач на 100 контактов причины",
        "rate_vs_others": "передач на контакт причины / передач на контакт всех прочих",
        "settled": "передач с известной судьбой",
        "lost": "из них потеряно",
        "lost_share": "lost / settled",
        "lost_came_back": "контактов клиентов, пришедших снова, пока потерянная передача ждала",
    }.items()},
}  # fmt: skip
