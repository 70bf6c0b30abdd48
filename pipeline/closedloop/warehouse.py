"""The DuckDB warehouse analysts and notebooks query: its final tables and their documentation
(``COMMENT ON``, in Russian)."""

from __future__ import annotations

import duckdb
import pandas as pd

from pipeline.closedloop import handoff_docs
from pipeline.closedloop.tables import store_frame

TABLE_DOCS = {
    "contacts": "Каждый принятый контакт с причиной, уверенностью, владельцем, стоимостью и "
    "признаком повтора; текст с замаскированными персональными данными.",
    "weekly": "Недельные факты: ISO-неделя × причина × канал (причина NULL у контактов без "
    "текста): объём, доля, CPX, стоимость, повторы, переводы.",
    "closed_loop": "Замкнутый цикл за отчётную неделю: строка на причину — владелец, тренд, "
    "всплеск, цель и её статус, заметка владельца, SLA, повторы, переводы, "
    "стоимость, объём с поправкой на ошибки модели и ожидаемая точность.",
    "weekly_estimated": "ISO-неделя × причина: сырой счёт (контакты, которым модель присвоила "
    "причину) и оценка настоящего числа контактов причины с поправкой на ошибки модели, "
    "с интервалом; «Не определено» и контакты без текста не входят.",
    "closed_loop_history": "Замкнутый цикл за отчётную и предыдущие недели (архив отчётов): "
    "те же колонки, что closed_loop, по report_week.",
    "quarantine": "Строки выгрузок, которые не удалось принять: файл, строка, исходный текст, "
    "причина.",
    "sla": "Обращения с дедлайном SLA, 3-дневным пределом и статусом на конец отчётной недели.",
    "repeats": "С какой причиной клиент вернулся в окне повтора: исходная причина → причина "
    "следующего контакта.",
    "transfer_pairs": "Переводы звонков между очередями: пары «откуда → куда» по неделе и "
    "причине.",
    "queue_transfers": "По очереди (отделу): доля звонков с ≥ 2 переводами, среднее число "
    "переводов, доля звонков, вернувшихся в очередь после перевода "
    "(пинг-понг).",
    "drivers": "Число клиентов по неделям — знаменатель CPX (контактов на 1 000 клиентов).",
    "drops": "Звонки без ответа (сброшенные и брошенные) по очереди и часу суток.",
    "reasons": "Таксономия причин из taxonomy/reasons.yaml: название, владелец, квадрант, цель.",
    "owner_notes": "Заметки владельцев причин: объяснение роста, действие, даты.",
    "run_info": "Параметры прогона: отчётная неделя, момент расчёта SLA, версии модели и "
    "таксономии.",
    **handoff_docs.TABLE_DOCS,
}
COLUMN_DOCS = {
    ("contacts", "reason_id"): "причина; 'unknown' — не определено, NULL — контакт без текста",
    ("contacts", "class_status"): "classified | below_threshold (не определено) | no_text",
    ("contacts", "repeated"): "тот же клиент обратился снова в окне повтора (дней); false у "
    "последнего контакта клиента",
    ("contacts", "resolved_date_only"): "дата решения пришла без времени: resolved_at — конец "
    "этого дня (по местному времени)",
    ("contacts", "status_conflict"): "closed_without_time — «закрыто» без времени решения "
    "(просрочка, когда срок прошёл); open_with_time — «в работе» со временем решения (открыто)",
    ("sla", "deadline_week"): "ISO-неделя, на которую приходится срок: в ней обращение "
    "учитывается в соблюдении SLA",
    ("contacts", "repeat_observed"): "окно повтора целиком внутри данных",
    ("contacts", "text"): "текст обращения с замаскированными телефонами, e-mail, картами",
    ("weekly", "cpx"): "контактов на 1 000 клиентов за неделю",
    ("closed_loop", "target_status"): "met | on_track | off_track | no_target",
    ("closed_loop", "flag"): "«нет объяснения владельца», если причина выросла без заметки",
    ("sla", "met_deadline"): "решено к дедлайну; NULL — дедлайн ещё не наступил",
    **{
        (table, column): doc
        for table in ("weekly_estimated", "closed_loop")
        for column, doc in {
            "volume_estimated": "контактов недели, на самом деле относящихся к причине: "
            "скорректированный «классифицируй и считай» по out-of-fold матрице ошибок модели "
            "(pipeline/model/quantify.py); по неделе сумма равна сумме сырых счётов",
            "volume_estimated_low": "нижняя граница интервала оценки (уровень — "
            "run_info.volume_interval; перцентильный бутстреп)",
            "volume_estimated_high": "верхняя граница интервала оценки",
            "expected_precision": "доля верных среди out-of-fold предсказаний этой причины, "
            "которые модель присвоила бы (на размеченных примерах); NULL — модель её "
            "не предсказывала",
            "expected_precision_support": "число таких предсказаний — знаменатель точности",
        }.items()
    },
    ("weekly_estimated", "iso_week"): "ISO-неделя контакта по местному времени, например 2026-W47",
    ("weekly_estimated", "reason_id"): "причина таксономии (контакты выведенной из употребления "
    "причины — под её преемником)",
    ("weekly_estimated", "contacts"): "сырой счёт: контакты недели, которым модель присвоила "
    "причину (не «Не определено»)",
    ("run_info", "volume_interval"): "уровень интервала оценки объёма (0,9 = 90 %)",
    **handoff_docs.COLUMN_DOCS,
}


def _literal(text: str) -> str:
    """A SQL string literal (COMMENT ON takes no bound parameters); only our own constants."""
    return "'" + text.replace("'", "''") + "'"


def write_warehouse(
    con: duckdb.DuckDBPyConnection,
    loop: pd.DataFrame,
    sla: pd.DataFrame,
    notes: pd.DataFrame,
    run_info: dict,
    history: pd.DataFrame,
    estimated: pd.DataFrame,
) -> None:
    for name, frame in (
        ("closed_loop", loop),
        ("closed_loop_history", history),
        ("weekly_estimated", estimated),
        ("sla", sla),
        ("owner_notes", notes),
        ("run_info", pd.DataFrame([run_info])),
    ):
        store_frame(con, name, frame)
    for table, doc in TABLE_DOCS.items():
        con.execute(f"COMMENT ON TABLE {table} IS {_literal(doc)}")
    for (table, column), doc in COLUMN_DOCS.items():
        con.execute(f"COMMENT ON COLUMN {table}.{column} IS {_literal(doc)}")
    con.execute("DROP TABLE IF EXISTS handle_defaults")
