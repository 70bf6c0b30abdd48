"""The fate of a hand-off, worked by hand on the Russian business calendar (README, "Hand-off
fates"): each case states the clock times and the fate an auditor would write down."""

from __future__ import annotations

import pandas as pd
import pytest
from test_aggregate import handoff_events

from pipeline.closedloop.calendar import BusinessCalendar
from pipeline.closedloop.handoffs import HandoffRule, business_hours, fates

TZ = "Europe/Moscow"
CALENDAR = BusinessCalendar([2026, 2027])


def moment(text: str | None) -> pd.Timestamp:
    return pd.NaT if text is None else pd.Timestamp(text, tz=TZ).tz_convert("UTC")


def fate_of(rows, as_of: str, rule: HandoffRule | None = None) -> pd.DataFrame:
    table = fates(handoff_events(rows), rule or HandoffRule(), TZ, CALENDAR, moment(as_of))
    return table.set_index("handoff_id")


PROMISE = ("П1", "complaint:RQ-1", "2026-11-24 11:40", "callback_promised", "Контакт-центр",
           "Операционный центр", "2026-11-25 15:00")  # fmt: skip


def test_a_promise_kept_one_minute_late_is_late_not_lost():
    rows = [PROMISE, ("З1", "complaint:RQ-1", "2026-11-25 15:01", "callback_done",
                      "Операционный центр", None, None)]  # fmt: skip
    row = fate_of(rows, "2026-11-29 23:59:59").loc["П1"]
    assert row["fate"] == "late"
    assert row["due_at"] == moment("2026-11-25 15:00")
    # lost: the end of the 3rd business day after Wed 25 Nov = Mon 30 Nov
    assert row["lost_at"] == moment("2026-11-30 23:59:59")
    assert row["settled_week"] == "2026-W48"
    # Tue 11:40 -> Wed 15:01, both business days: 27 h 21 min
    assert row["pickup_hours"] == pytest.approx(27 + 21 / 60)


def test_a_promise_kept_at_the_minute_is_on_time():
    rows = [PROMISE, ("З1", "complaint:RQ-1", "2026-11-25 15:00", "callback_done",
                      "Операционный центр", None, None)]  # fmt: skip
    assert fate_of(rows, "2026-11-29 23:59:59").loc["П1", "fate"] == "on_time"


def test_a_promise_on_a_friday_evening_is_lost_only_after_three_business_days():
    # promised for Friday 27 Nov 19:00; the weekend does not count: lost at the end of
    # Wednesday 2 Dec (Mon, Tue, Wed)
    promise = ("П2", "call:77", "2026-11-27 17:30", "callback_promised", "Контакт-центр",
               "Карточный бизнес", "2026-11-27 19:00")  # fmt: skip
    kept_monday = ("З2", "call:77", "2026-11-30 10:00", "callback_done", "Карточный бизнес",
                   None, None)  # fmt: skip
    row = fate_of([promise], "2026-11-29 23:59:59").loc["П2"]
    assert (row["fate"], row["lost_at"]) == ("open", moment("2026-12-02 23:59:59"))
    assert pd.isna(row["settled_week"])  # open at the end of W48: not settled yet
    assert fate_of([promise, kept_monday], "2026-12-06 23:59:59").loc["П2", "fate"] == "late"
    row = fate_of([promise], "2026-12-06 23:59:59").loc["П2"]
    assert (row["fate"], row["settled_week"]) == ("lost", "2026-W49")
    # kept on Thursday after the limit: still lost (the client waited too long)
    kept_thursday = ("З2", "call:77", "2026-12-03 09:00", "callback_done", "Карточный бизнес",
                     None, None)  # fmt: skip
    row = fate_of([promise, kept_thursday], "2026-12-06 23:59:59").loc["П2"]
    assert (row["fate"], row["settled_at"]) == ("lost", moment("2026-12-02 23:59:59"))


def test_a_transfer_on_a_friday_evening_is_due_by_the_end_of_monday():
    transfer = ("П3", "call:78", "2026-11-27 19:00", "transferred", "Контакт-центр",
                "Розничное кредитование", None)  # fmt: skip
    picked = ("С3", "call:78", "2026-11-30 17:00", "status_update", "Розничное кредитование",
              None, None)  # fmt: skip
    row = fate_of([transfer, picked], "2026-12-06 23:59:59").loc["П3"]
    assert (row["fate"], row["due_at"]) == ("on_time", moment("2026-11-30 23:59:59"))
    # Friday 19:00-24:00 (5 h) + Monday 00:00-17:00 (17 h); the weekend is not counted
    assert row["pickup_hours"] == pytest.approx(22.0)


def test_a_transfer_back_to_the_sender_closes_it_and_gives_the_sender_a_new_one():
    there = ("П4", "complaint:RQ-9", "2026-11-23 10:00", "transferred", "Карточный бизнес",
             "Операционный центр", None)  # fmt: skip
    back = ("П5", "complaint:RQ-9", "2026-11-23 12:00", "transferred", "Операционный центр",
            "Карточный бизнес", None)  # fmt: skip
    table = fate_of([there, back], "2026-11-29 23:59:59")
    assert table.loc["П4", "fate"] == "on_time"
    assert bool(table.loc["П4", "returned_to_sender"])
    assert table.loc["П4", "pickup_hours"] == pytest.approx(2.0)
    # nobody at the sender touched it again: lost at the end of Thu 26 Nov (3 business days)
    assert (table.loc["П5", "department"], table.loc["П5", "fate"]) == ("Карточный бизнес", "lost")
    assert table.loc["П5", "lost_at"] == moment("2026-11-26 23:59:59")


def test_only_the_receiving_department_picks_a_transfer_up():
    transfer = ("П6", "call:79", "2026-11-23 10:00", "assigned", "Контакт-центр",
                "Сеть отделений", None)  # fmt: skip
    other = ("С6", "call:79", "2026-11-23 11:00", "status_update", "Контакт-центр", None, None)
    row = fate_of([transfer, other], "2026-11-29 23:59:59").loc["П6"]
    assert (row["fate"], row["settled_week"]) == ("lost", "2026-W48")  # end of Thu 26 Nov


def test_an_event_after_the_report_week_is_not_known_yet():
    rows = [PROMISE, ("З1", "complaint:RQ-1", "2026-11-30 09:00", "callback_done",
                      "Операционный центр", None, None)]  # fmt: skip
    assert fate_of(rows, "2026-11-29 23:59:59").loc["П1", "fate"] == "open"


def test_new_year_holidays_are_not_business_days():
    # promised for Wed 30 Dec 2026; 31 Dec (transfer decree) and 1-10 Jan 2027 are days off:
    # the 3rd business day after 30 Dec is Wed 13 Jan 2027 (11, 12, 13 Jan)
    promise = ("П7", "call:80", "2026-12-29 10:00", "callback_promised", "Контакт-центр",
               "Операционный центр", "2026-12-30 12:00")  # fmt: skip
    row = fate_of([promise], "2027-01-17 23:59:59").loc["П7"]
    assert row["lost_at"] == moment("2027-01-13 23:59:59")
    assert row["fate"] == "lost"


def test_business_hours_leave_out_days_off_only():
    start = pd.Series([moment("2026-11-27 19:00"), moment("2026-11-24 09:00")])
    end = pd.Series([moment("2026-11-30 01:00"), moment("2026-11-24 09:30")])
    hours = business_hours(start, end, TZ, CALENDAR)
    assert hours.tolist() == pytest.approx([6.0, 0.5])


def test_the_lost_limit_cannot_come_before_the_pickup_deadline():
    with pytest.raises(ValueError, match="lost_business_days"):
        HandoffRule(pickup_business_days=3, lost_business_days=2)
