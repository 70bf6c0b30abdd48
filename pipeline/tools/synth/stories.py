"""The planted stories of the demo data and the contact centre they happen in: queues, channels,
call shares and repeat rates. The reports and tests look for exactly these."""

from __future__ import annotations

import numpy as np

STORIES = {
    "spike": "sms_code_missing triples in the last week: SMS from one mobile operator (МегаФон) "
    "do not arrive",
    "decline": "card_not_delivered is high until the owner changes the courier service "
    "(week of ACTION_WEEK_OFFSET), then falls",
    "rising": "fee_dispute rises steadily over all weeks (a tariff change nobody explained)",
    "pingpong": "the 'Кредиты' queue bounces callers: ≥ 2 transfers on about half of its calls",
    "drops": "branch lines drop or abandon calls at lunch (13:00-14:00) and after 17:00",
    "sla": "complaints received after 14:00 often miss the 11:00-next-business-day deadline",
    "repeats": "unresolved payment and service problems bring the same customer back within days",
    "emerging": "a topic outside the taxonomy (QR / Mir Pay payments) grows in the last weeks",
    "handoff_lost": "«Операционный центр» loses about 15 % of its promised call-backs, worse in "
    "the last weeks (about 10 % early, about 30 % in the last LOST_LATE_WEEKS weeks); the client "
    "often comes back before anyone calls",
    "handoff_rate": "card_reissue contacts are handed over to a department about twice as often "
    "as other reasons' contacts",
}
SPIKE_REASON = "sms_code_missing"
DECLINE_REASON = "card_not_delivered"
RISING_REASON = "fee_dispute"
ACTION_WEEK_OFFSET = 6  # the owner's action starts this many weeks before the last week
PINGPONG_QUEUE = "Кредиты"
BRANCH_QUEUES = ("Отделение №12 (Тверская)", "Отделение №7 (Ленинский)")
QUEUE_BY_OWNER = {
    "digital": "Дистанционное обслуживание",
    "cards": "Карты",
    "payments": "Платежи и переводы",
    "antifraud": "Безопасность",
    "lending": PINGPONG_QUEUE,
    "deposits": "Вклады",
    "sales": "Продажи",
}
GENERAL_QUEUE = "Общая линия"
REPEAT_PRONE = {
    "transfer_not_arrived": 0.30,
    "callback_missed": 0.35,
    "complaint_unanswered": 0.35,
    "unknown_charge": 0.25,
    "card_blocked": 0.20,
    "transferred_around": 0.25,
}
REPEAT_DEFAULT = 0.04
CALL_SHARE = {
    "branch_unreachable": 0.9,
    "complaint_unanswered": 0.25,
    "loan_insurance": 0.35,
    "statement_request": 0.4,
    "transferred_around": 0.5,
}
CALL_SHARE_DEFAULT = 0.62
WEEKDAY_WEIGHT = np.array([1.25, 1.1, 1.05, 1.0, 0.95, 0.45, 0.35])
CRM_CHANNELS = {"E-mail": 0.35, "Web-форма": 0.3, "Чат в приложении": 0.25, "Отделение": 0.1}
DESK_CHANNELS = {"Service Desk": 0.55, "ВКонтакте": 0.25, "Telegram": 0.2}
DESK_SHARE = 0.22
# CRM hand-off events (handoffs.py)
HANDOFF_RATE_DEFAULT = 0.2  # share of contacts handed over to a department
HANDOFF_RATE = {"card_reissue": 0.4}  # the planted hand-off rate story
PROMISE_SHARE = 0.45  # of hand-offs: a promised call-back instead of a transfer
LOST_OWNER = "operations"  # the department that loses promised call-backs
LOST_PROMISE_SHARE = (0.10, 0.2, 0.36)  # early weeks, the ramp week, the last LOST_LATE_WEEKS
LOST_LATE_WEEKS = 3
LOST_PROMISE_SHARE_OWNER = 0.6  # the lost-call-back department gets more promises
HANDOFF_LOST_DEFAULT = 0.03  # a normal department: lost and late hand-offs
HANDOFF_LATE_DEFAULT = 0.10


def base_story(reason: str, week: int, weeks: int) -> str:
    if reason == DECLINE_REASON and week >= weeks - ACTION_WEEK_OFFSET:
        return "decline"
    if reason == RISING_REASON:
        return "rising"
    return "base"
