"""Complaint SLA (rule 003): deadlines at the rule's edges on the real 2026-2027 Russian calendar.

Times in the tables are Moscow wall-clock times (UTC+3) unless marked with Z.
"""

from __future__ import annotations

import datetime as dt

import holidays
import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from pipeline.closedloop.compliance import METRIC_COLUMNS, compliance
from pipeline.closedloop.sla import BusinessCalendar, SlaError, SlaRule, deadlines, sla_status

MSK = "Europe/Moscow"
RULE = SlaRule()


def msk(text: str) -> pd.Timestamp:
    """A Moscow wall-clock time as a UTC instant."""
    return pd.Timestamp(text, tz=MSK).tz_convert("UTC")


def utc_series(values: list[str | None]) -> pd.Series:
    stamps = [None if v is None else msk(v) for v in values]
    return pd.Series(pd.to_datetime(stamps, utc=True), dtype="datetime64[us, UTC]")


def make_requests(
    received: list[str], resolved: list[str | None] | None = None, updates: list | None = None
) -> pd.DataFrame:
    n = len(received)
    return pd.DataFrame(
        {
            "contact_id": [f"c{i}" for i in range(n)],
            "received_at": utc_series(received),
            "resolved_at": utc_series(resolved or [None] * n),
            "status_updates": pd.array(updates or [0] * n, dtype="Int64"),
        }
    )


@pytest.fixture(scope="module")
def calendar() -> BusinessCalendar:
    return BusinessCalendar(years=[2026, 2027])


# --- business calendar -------------------------------------------------------------------------

BUSINESS_DAYS = [
    # day, business?, why
    ("2026-04-17", True, "ordinary Friday"),
    ("2026-04-18", False, "Saturday"),
    ("2026-04-19", False, "Sunday"),
    ("2026-11-04", False, "Unity Day"),
    ("2026-03-09", False, "8 March falls on Sunday, moved to Monday"),
    ("2026-01-09", False, "transferred day off (from Saturday 3 January)"),
    ("2026-12-31", False, "transferred day off (from Sunday 4 January)"),
    ("2027-01-11", True, "first business day of 2027"),
    ("2027-02-20", True, "working Saturday by transfer"),
    ("2027-02-22", False, "day off transferred from Saturday 20 February"),
]


@pytest.mark.parametrize(("day", "expected", "why"), BUSINESS_DAYS)
def test_business_day(calendar: BusinessCalendar, day: str, expected: bool, why: str) -> None:
    assert calendar.is_business_day(dt.date.fromisoformat(day)) is expected, why


def test_calendar_accepts_timestamps_as_dates(calendar: BusinessCalendar) -> None:
    assert calendar.is_business_day(pd.Timestamp("2026-04-18 10:00")) is False
    assert calendar.is_business_day(dt.datetime(2026, 4, 17, 23, 0)) is True


def test_calendar_knows_years_it_was_not_built_for() -> None:
    only_2026 = BusinessCalendar(years=[2026])
    assert only_2026.next_business_day(dt.date(2026, 12, 30)) == dt.date(2027, 1, 11)


CALENDAR_STEPS = [
    # method, arguments, expected
    ("next_business_day", ("2026-04-16",), "2026-04-17"),
    ("next_business_day", ("2026-04-17",), "2026-04-20"),
    ("next_business_day", ("2026-11-03",), "2026-11-05"),
    ("first_business_day_on_or_after", ("2026-04-17",), "2026-04-17"),
    ("first_business_day_on_or_after", ("2026-04-18",), "2026-04-20"),
    ("first_business_day_on_or_after", ("2026-12-31",), "2027-01-11"),
    ("add_business_days", ("2026-04-17", 0), "2026-04-17"),
    ("add_business_days", ("2026-04-17", 3), "2026-04-22"),
    ("add_business_days", ("2026-12-29", 3), "2027-01-12"),
]


@pytest.mark.parametrize(("method", "args", "expected"), CALENDAR_STEPS)
def test_calendar_steps(calendar: BusinessCalendar, method: str, args: tuple, expected: str):
    day, *rest = args
    result = getattr(calendar, method)(dt.date.fromisoformat(day), *rest)
    assert result == dt.date.fromisoformat(expected)


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        ("2026-04-17", "2026-04-17", 0),
        ("2026-04-20", "2026-04-17", 0),
        ("2026-04-17", "2026-04-20", 1),  # Friday -> Monday over the weekend
        ("2026-04-17", "2026-04-24", 5),
        ("2026-04-18", "2026-04-20", 1),  # from a Saturday
        ("2026-12-30", "2027-01-12", 2),  # 11 and 12 January only
    ],
)
def test_business_days_between(calendar: BusinessCalendar, start: str, end: str, expected: int):
    result = calendar.business_days_between(
        dt.date.fromisoformat(start), dt.date.fromisoformat(end)
    )
    assert result == expected


def test_negative_business_days_are_rejected(calendar: BusinessCalendar) -> None:
    with pytest.raises(ValueError, match="n = -1"):
        calendar.add_business_days(dt.date(2026, 4, 17), -1)


def test_a_date_cannot_be_both_extra_holiday_and_workday() -> None:
    day = dt.date(2026, 4, 18)
    with pytest.raises(ValueError, match="2026-04-18"):
        BusinessCalendar([2026], extra_holidays=[day], extra_workdays=[day])


# --- deadlines ---------------------------------------------------------------------------------

DEADLINES = [
    # received (MSK), deadline (MSK), why
    ("2026-04-17 13:59", "2026-04-17 18:00", "Friday before cut-off: same day"),
    ("2026-04-17 14:00", "2026-04-20 11:00", "Friday at cut-off: Monday 11:00"),
    ("2026-04-17 00:00", "2026-04-17 18:00", "midnight is before cut-off"),
    ("2026-04-17 23:59:59", "2026-04-20 11:00", "late Friday"),
    ("2026-04-18 10:00", "2026-04-20 11:00", "Saturday morning"),
    ("2026-04-19 23:30", "2026-04-20 11:00", "Sunday night"),
    ("2026-11-03 10:00", "2026-11-03 18:00", "eve of Unity Day, before cut-off"),
    ("2026-11-03 15:00", "2026-11-05 11:00", "eve of Unity Day, after cut-off"),
    ("2026-11-04 09:00", "2026-11-05 11:00", "Unity Day itself"),
    ("2026-03-06 15:00", "2026-03-10 11:00", "Friday before 8 March moved to Monday"),
    ("2026-04-30 15:00", "2026-05-04 11:00", "eve of 1 May (Friday)"),
    ("2026-06-11 14:30", "2026-06-15 11:00", "eve of Russia Day (Friday)"),
    ("2026-01-08 12:00", "2026-01-12 11:00", "New Year holidays; 9 January is a day off too"),
    ("2026-12-30 13:59", "2026-12-30 18:00", "last business day of 2026, before cut-off"),
    ("2026-12-30 15:00", "2027-01-11 11:00", "31 December is a day off, then New Year holidays"),
    ("2026-12-31 10:00", "2027-01-11 11:00", "31 December 2026, transferred day off"),
    ("2027-02-19 15:00", "2027-02-20 11:00", "Saturday 20 February 2027 is a working day"),
    ("2027-02-20 10:00", "2027-02-20 18:00", "working Saturday before cut-off"),
]


@pytest.mark.parametrize(("received", "expected", "why"), DEADLINES)
def test_deadline(received: str, expected: str, why: str) -> None:
    status = sla_status(make_requests([received]), RULE, msk("2026-01-01 00:00"))
    assert status["deadline"].iloc[0] == msk(expected), why
    assert status["deadline_local"].iloc[0] == pd.Timestamp(expected), why


def test_new_year_deadline_agrees_with_the_holidays_package() -> None:
    public = holidays.country_holidays("RU", years=[2026, 2027])
    day = dt.date(2026, 12, 30) + dt.timedelta(days=1)
    while day.weekday() >= 5 or day in public:
        day += dt.timedelta(days=1)
    assert day == dt.date(2027, 1, 11)


LIMITS = [
    # received (MSK), limit (MSK), why
    ("2026-04-16 10:00", "2026-04-21 18:00", "Thursday: Friday, Monday, Tuesday"),
    ("2026-04-17 15:00", "2026-04-22 18:00", "after cut-off still counts from the same day"),
    ("2026-04-18 10:00", "2026-04-22 18:00", "Saturday: counted from Sunday, as Friday's"),
    ("2026-04-19 23:00", "2026-04-22 18:00", "Sunday: the same three days"),
    ("2026-11-03 15:00", "2026-11-09 18:00", "skips Unity Day and the weekend"),
    ("2026-12-30 15:00", "2027-01-13 18:00", "across the New Year holidays"),
]


@pytest.mark.parametrize(("received", "expected", "why"), LIMITS)
def test_limit(calendar: BusinessCalendar, received: str, expected: str, why: str) -> None:
    result = deadlines(utc_series([received]), RULE, calendar)
    assert result["limit"].iloc[0] == msk(expected), why


def test_limit_can_count_from_the_first_business_day(calendar: BusinessCalendar) -> None:
    """The other convention: a weekend request's day 0 is Monday, so it gets one day more than
    a Friday-evening one (Thursday 18:00 instead of Wednesday)."""
    rule = SlaRule(limit_from="first_business_day")
    received = utc_series(["2026-04-17 15:00", "2026-04-18 10:00", "2026-04-16 10:00"])
    limits = deadlines(received, rule, calendar)["limit"].tolist()
    assert limits == [msk("2026-04-22 18:00"), msk("2026-04-23 18:00"), msk("2026-04-21 18:00")]


@pytest.mark.parametrize(
    ("received_utc", "deadline_utc", "before_cutoff", "business_day"),
    [
        ("2026-04-17T10:59:00Z", "2026-04-17T15:00:00Z", True, True),  # 13:59 MSK
        ("2026-04-17T11:00:00Z", "2026-04-20T08:00:00Z", False, True),  # 14:00 MSK
        ("2026-04-17T21:30:00Z", "2026-04-20T08:00:00Z", True, False),  # Saturday 00:30 MSK
    ],
)
def test_cutoff_is_applied_in_local_time(
    calendar: BusinessCalendar,
    received_utc: str,
    deadline_utc: str,
    before_cutoff: bool,
    business_day: bool,
) -> None:
    received = pd.Series([pd.Timestamp(received_utc)], dtype="datetime64[us, UTC]")
    row = deadlines(received, RULE, calendar).iloc[0]
    assert row["deadline"] == pd.Timestamp(deadline_utc)
    assert row["before_cutoff"] is np.bool_(before_cutoff)
    assert row["received_business_day"] is np.bool_(business_day)


@pytest.mark.parametrize(
    ("received", "deadline", "limit"),
    [
        # the extra working Saturday before cut-off; limit: Monday, Tuesday, Wednesday
        ("2026-04-18 10:00", "2026-04-18 18:00", "2026-04-22 18:00"),
        # Friday after cut-off -> that Saturday; limit: Saturday, Monday, Tuesday
        ("2026-04-17 15:00", "2026-04-18 11:00", "2026-04-21 18:00"),
    ],
)
def test_extra_workday_makes_a_saturday_a_business_day(
    received: str, deadline: str, limit: str
) -> None:
    rule = SlaRule(extra_workdays=(dt.date(2026, 4, 18),))
    status = sla_status(make_requests([received]), rule, msk("2026-04-01 00:00"))
    assert status["deadline"].iloc[0] == msk(deadline)
    assert status["limit"].iloc[0] == msk(limit)


def test_extra_holiday_moves_the_deadline() -> None:
    rule = SlaRule(extra_holidays=(dt.date(2026, 4, 20),))
    status = sla_status(make_requests(["2026-04-17 15:00"]), rule, msk("2026-04-01 00:00"))
    assert status["deadline"].iloc[0] == msk("2026-04-21 11:00")


def test_configurable_times() -> None:
    rule = SlaRule(cutoff="12:00", end_of_day="17:00", next_day_deadline="10:00")
    status = sla_status(
        make_requests(["2026-04-16 11:59", "2026-04-16 12:00"]), rule, msk("2026-04-01 00:00")
    )
    assert list(status["deadline"]) == [msk("2026-04-16 17:00"), msk("2026-04-17 10:00")]


# --- status at as_of ---------------------------------------------------------------------------

NA = pd.NA
# every row: received Friday 2026-04-17 10:00 MSK; deadline 18:00 that day, limit 2026-04-22 18:00
STATUSES = [
    # resolved, as_of, due, met, within, breached, open_past_deadline, age, open, why
    ("2026-04-17 18:00", "2026-04-20 12:00", True, True, True, False, False, NA, False,
     "resolved exactly at the deadline"),
    ("2026-04-17 18:00:01", "2026-04-20 12:00", True, False, True, False, False, NA, False,
     "resolved one second late"),
    ("2026-04-17 12:00", "2026-04-17 13:00", False, True, True, False, False, NA, False,
     "resolved early, deadline still ahead"),
    (None, "2026-04-17 17:59", False, NA, NA, False, False, 0, True,
     "open, deadline still ahead"),
    (None, "2026-04-17 18:00", True, False, NA, False, False, 0, True,
     "open at the deadline instant: missed, not yet past"),
    (None, "2026-04-20 12:00", True, False, NA, False, True, 1, True,
     "open past the deadline, over the weekend"),
    (None, "2026-04-23 12:00", True, False, False, True, True, 4, True,
     "open past the limit"),
    ("2026-04-21 10:00", "2026-04-20 12:00", True, False, NA, False, True, 1, True,
     "resolution after as_of is not known yet"),
    ("2026-04-22 18:00", "2026-04-24 12:00", True, False, True, False, False, NA, False,
     "resolved exactly at the limit"),
    ("2026-04-22 18:00:01", "2026-04-24 12:00", True, False, False, True, False, NA, False,
     "resolved one second after the limit (third business day after a weekend)"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("resolved", "as_of", "due", "met", "within", "breached", "past", "age", "is_open", "why"),
    STATUSES,
)
def test_status(resolved, as_of, due, met, within, breached, past, age, is_open, why) -> None:
    status = sla_status(make_requests(["2026-04-17 10:00"], [resolved]), RULE, msk(as_of))
    row = status.iloc[0]
    actual = (
        row["due"], row["met_deadline"], row["within_limit"], row["breached_limit"],
        row["open_past_deadline"], row["age_business_days"], row["open"],
    )  # fmt: skip
    assert actual == (due, met, within, breached, past, age, is_open), why


NO_STATUS_UPDATE = [
    # resolved, as_of, status_updates, flagged, why
    (None, "2026-04-20 12:00", 0, True, "open past the deadline, client never told"),
    (None, "2026-04-20 12:00", None, True, "missing count means none"),
    (None, "2026-04-20 12:00", 2, False, "client was kept informed"),
    ("2026-04-20 10:00", "2026-04-20 12:00", 0, True, "resolved late without updates"),
    ("2026-04-20 10:00", "2026-04-20 12:00", 1, False, "resolved late with an update"),
    ("2026-04-17 17:00", "2026-04-20 12:00", 0, False, "resolved on time needs no update"),
    (None, "2026-04-17 15:00", 0, False, "open, deadline still ahead"),
]


@pytest.mark.parametrize(("resolved", "as_of", "updates", "flagged", "why"), NO_STATUS_UPDATE)
def test_no_status_update(resolved, as_of, updates, flagged: bool, why: str) -> None:
    requests = make_requests(["2026-04-17 10:00"], [resolved], [updates])
    status = sla_status(requests, RULE, msk(as_of))
    assert status["no_status_update"].iloc[0] is np.bool_(flagged), why


def test_status_keeps_index_and_leaves_input_alone() -> None:
    requests = make_requests(
        ["2026-04-17 10:00", "2026-04-17 15:00", "2026-04-18 10:00"],
        [None, "2026-04-20 10:00", None],
    ).set_index(pd.Index(["z", "x", "y"], name="row"))
    before = requests.copy()
    status = sla_status(requests, RULE, msk("2026-04-20 12:00"))
    pd.testing.assert_frame_equal(requests, before)
    assert list(status.index) == ["z", "x", "y"]
    assert list(status["deadline"]) == [
        msk("2026-04-17 18:00"),
        msk("2026-04-20 11:00"),
        msk("2026-04-20 11:00"),
    ]
    assert status["deadline_local"].dt.tz is None


def test_empty_requests() -> None:
    status = sla_status(make_requests([]), RULE, msk("2026-04-20 12:00"))
    assert status.empty
    row = compliance(status).iloc[0]
    assert row["n_due"] == 0
    assert np.isnan(row["compliance"])
    assert row["meets_target"] is pd.NA


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda r: r.drop(columns="status_updates"), "status_updates"),
        (lambda r: r.assign(received_at=r["received_at"].dt.tz_localize(None)), "received_at"),
        (lambda r: r.assign(received_at=pd.NaT), "received_at"),
        (lambda r: r.assign(resolved_at=["2026-04-20 10:00"]), "resolved_at"),
    ],
)
def test_bad_requests_are_rejected(change, message: str) -> None:
    requests = change(make_requests(["2026-04-17 10:00"]))
    with pytest.raises(SlaError, match=message):
        sla_status(requests, RULE, msk("2026-04-20 12:00"))


def test_as_of_needs_a_time_zone() -> None:
    with pytest.raises(SlaError, match="as_of"):
        sla_status(make_requests(["2026-04-17 10:00"]), RULE, pd.Timestamp("2026-04-20 12:00"))


# --- compliance --------------------------------------------------------------------------------

# as_of Friday 2026-04-24 12:00 MSK; most rows received Friday 2026-04-17 10:00 MSK
# (deadline 18:00 that day, limit Wednesday 2026-04-22 18:00)
COMPLIANCE_ROWS = [
    # reason, received, resolved, status_updates
    ("доставка", "2026-04-17 10:00", "2026-04-17 17:00", 0),  # met
    ("доставка", "2026-04-17 10:00", "2026-04-17 18:00", 0),  # met exactly at the deadline
    ("доставка", "2026-04-17 10:00", "2026-04-20 12:00", 0),  # missed, no update
    ("доставка", "2026-04-24 10:00", None, 0),  # open, due 18:00 today
    ("оплата", "2026-04-17 10:00", None, 2),  # open 5 business days: missed, over the limit
    ("оплата", "2026-04-17 10:00", "2026-04-23 10:00", 0),  # over the limit, no update
    ("прочее", "2026-04-24 11:00", "2026-04-24 11:30", 0),  # met, but not due yet
]


@pytest.fixture
def compliance_status() -> pd.DataFrame:
    reasons, received, resolved, updates = map(list, zip(*COMPLIANCE_ROWS, strict=True))
    requests = make_requests(received, resolved, updates).assign(reason=reasons)
    return sla_status(requests, RULE, msk("2026-04-24 12:00"))


def test_compliance_by_reason(compliance_status: pd.DataFrame) -> None:
    table = compliance(compliance_status, by=["reason"], rule=RULE)
    assert list(table.columns) == ["reason", *METRIC_COLUMNS]
    expected = pd.DataFrame(
        {
            "reason": ["доставка", "оплата", "прочее"],
            "n_due": [3, 2, 0],
            "n_met": [2, 0, 0],
            "compliance": [2 / 3, 0.0, np.nan],
            "meets_target": pd.array([False, False, NA], dtype="boolean"),
            "n_breached_limit": [0, 2, 0],
            "n_open_past_deadline": [0, 1, 0],
            "max_age_business_days": pd.array([0, 5, NA], dtype="Int64"),
            "n_no_status_update": [1, 1, 0],
        }
    )
    pd.testing.assert_frame_equal(table, expected, check_dtype=False)


def test_compliance_overall(compliance_status: pd.DataFrame) -> None:
    row = compliance(compliance_status).iloc[0]
    assert (row["n_due"], row["n_met"], row["compliance"]) == (5, 2, 0.4)
    assert (row["n_breached_limit"], row["n_open_past_deadline"]) == (2, 1)
    assert (row["max_age_business_days"], row["n_no_status_update"]) == (5, 2)
    assert not row["meets_target"]


@pytest.mark.parametrize(("n_met", "meets"), [(19, True), (18, False)])
def test_target_is_met_at_exactly_95_percent(n_met: int, meets: bool) -> None:
    resolved = ["2026-04-17 17:00"] * n_met + ["2026-04-20 10:00"] * (20 - n_met)
    status = sla_status(
        make_requests(["2026-04-17 10:00"] * 20, resolved), RULE, msk("2026-04-21 00:00")
    )
    row = compliance(status, rule=RULE).iloc[0]
    assert row["compliance"] == n_met / 20
    assert bool(row["meets_target"]) is meets


def test_compliance_needs_grouping_columns_in_status(compliance_status: pd.DataFrame) -> None:
    with pytest.raises(SlaError, match="owner"):
        compliance(compliance_status, by=["owner"])


# --- configuration -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"target": 1.5}, "target"),
        ({"target": 0}, "target"),
        ({"cutoff": "19:00"}, "cutoff 19:00 позже end_of_day 18:00"),
        ({"next_day_deadline": "18:30"}, "next_day_deadline 18:30 позже end_of_day"),
        ({"limit_business_days": 0}, "limit_business_days"),
        ({"timezone": "Europe/Moskva"}, "неизвестный часовой пояс"),
        ({"cutoff": 840}, "в кавычках"),  # what YAML makes of an unquoted 14:00
        ({"extra_holidays": ["2026-04-18"], "extra_workdays": ["2026-04-18"]}, "2026-04-18"),
        ({"cut_off": "14:00"}, "cut_off"),
    ],
)
def test_bad_config_is_rejected(params: dict, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        SlaRule.model_validate(params)


def test_config_from_yaml_values() -> None:
    rule = SlaRule.model_validate(
        {"cutoff": "13:30", "target": 0.9, "extra_workdays": ["2026-04-18"]}
    )
    assert rule.cutoff == dt.time(13, 30)
    assert rule.extra_workdays == (dt.date(2026, 4, 18),)


# --- scale -------------------------------------------------------------------------------------


class CountingCalendar(BusinessCalendar):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.lookups = 0

    def is_business_day(self, day: dt.date) -> bool:
        self.lookups += 1
        return super().is_business_day(day)


def test_year_of_requests_is_computed_per_day_and_matches_row_by_row() -> None:
    rng = np.random.default_rng(3)
    n = 100_000
    seconds = rng.integers(0, 365 * 24 * 3600, n)
    received = pd.Timestamp("2026-01-01T00:00Z") + pd.to_timedelta(seconds, unit="s")
    hours = pd.to_timedelta(rng.integers(0, 96 * 3600, n), unit="s")
    requests = pd.DataFrame(
        {
            "contact_id": np.arange(n),
            "received_at": pd.Series(received).astype("datetime64[us, UTC]"),
            "resolved_at": pd.Series(received + hours).where(rng.random(n) < 0.9),
            "status_updates": rng.integers(0, 3, n),
        }
    )
    calendar = CountingCalendar(years=[2026, 2027])
    status = sla_status(requests, RULE, msk("2026-12-31 12:00"), calendar)
    # a handful of calendar look-ups per distinct day, not per request
    assert calendar.lookups < n / 10

    for _, row in status.sample(300, random_state=0).iterrows():
        local = row["received_at"].tz_convert(MSK)
        day = local.date()
        if calendar.is_business_day(day) and local.time() < RULE.cutoff:
            due_day, due_time = day, RULE.end_of_day
        else:
            due_day, due_time = calendar.next_business_day(day), RULE.next_day_deadline
        expected = pd.Timestamp(dt.datetime.combine(due_day, due_time), tz=MSK)
        assert row["deadline"] == expected


# --- the weekly cohort: every request is due in exactly one week ----------------------------


def _warehouse_with_requests(received: list[str], resolved: list[str | None]):
    """A DuckDB ``contacts`` table of written requests as aggregate builds it."""
    import duckdb

    from pipeline.io.weeks import weeks_of

    at = utc_series(received)
    frame = pd.DataFrame(
        {
            "contact_id": [f"c{i}" for i in range(len(received))],
            "kind": "complaint",
            "iso_week": weeks_of(at.dt.tz_convert(MSK).dt.tz_localize(None)),
            "created_at": at,
            "resolved_at": utc_series(resolved),
            "status_updates": 1,
            "status_conflict": pd.Series([pd.NA] * len(received), dtype="string"),
            "resolved_date_only": False,
            "reason_id": "card_blocked",
            "owner_id": "cards",
            "channel": "email",
            "local_hour": at.dt.tz_convert(MSK).dt.hour,
        }
    )
    con = duckdb.connect()
    con.register("frame", frame)
    con.execute("CREATE TABLE contacts AS SELECT * FROM frame")
    return con


def test_a_week_counts_the_requests_due_in_it_and_cohorts_add_up_to_all_requests() -> None:
    """Worked by hand (2026-W16 is 13–19 April, W17 is 20–26 April):
    Thu 16 Apr 10:00 -> due Thu 18:00 (W16, met at 17:00);
    Fri 17 Apr 13:00 -> due Fri 18:00 (W16, missed: resolved Mon);
    Fri 17 Apr 15:00 -> due Mon 20 Apr 11:00 (W17, met at 10:00);
    Sat 18 Apr 12:00 -> due Mon 20 Apr 11:00 (W17, missed: resolved Mon 12:00);
    Tue 21 Apr 09:00 -> due Tue 18:00 (W17, still open: missed).
    W16: 2 due, 1 met (50 %); W17: 3 due, 1 met (33 %). Before the fix the Friday-evening and
    Saturday requests were in no week's figure (W16 had them "not yet due", W17 filtered them
    out by receipt week)."""
    from pipeline.closedloop.compliance import sla_tables

    con = _warehouse_with_requests(
        [
            "2026-04-16 10:00",
            "2026-04-17 13:00",
            "2026-04-17 15:00",
            "2026-04-18 12:00",
            "2026-04-21 09:00",
        ],
        ["2026-04-16 17:00", "2026-04-20 09:00", "2026-04-20 10:00", "2026-04-20 12:00", None],
    )
    by_week = {}
    for week in ("2026-W15", "2026-W16", "2026-W17", "2026-W18"):
        _, by_reason, _ = sla_tables(con, week, RULE)
        row = by_reason.set_index("reason_id").fillna({"sla_due": 0, "sla_met": 0})
        by_week[week] = (
            (int(row.loc["card_blocked", "sla_due"]), int(row.loc["card_blocked", "sla_met"]))
            if "card_blocked" in row.index
            else (0, 0)
        )
    assert by_week["2026-W16"] == (2, 1)
    assert by_week["2026-W17"] == (3, 1)
    assert by_week["2026-W15"] == (0, 0) and by_week["2026-W18"] == (0, 0)
    assert sum(due for due, _ in by_week.values()) == 5  # every request, once
    status, _, _ = sla_tables(con, "2026-W17", RULE)
    assert status.set_index("contact_id")["deadline_week"].to_dict() == {
        "c0": "2026-W16",
        "c1": "2026-W16",
        "c2": "2026-W17",
        "c3": "2026-W17",
        "c4": "2026-W17",
    }


def test_status_that_contradicts_the_resolution_time_follows_the_documented_convention() -> None:
    """Three requests received Thursday 16 April 10:00 (due 18:00 that day), status taken at
    the end of W16 (Sunday 19 April):
    c0 «закрыто» without a resolution time -> resolved, not provably in time: missed, not open;
    c1 «в работе» with a resolution time 12:00 -> the status wins: open, missed, past deadline;
    c2 resolved at 12:00 with no conflict -> met.
    W16: 3 due, 1 met; backlog: 1 open past its deadline."""
    requests = make_requests(
        ["2026-04-16 10:00"] * 3, [None, "2026-04-16 12:00", "2026-04-16 12:00"], [1, 1, 1]
    ).assign(
        status_conflict=pd.Series(["closed_without_time", "open_with_time", pd.NA], dtype="string")
    )
    status = sla_status(requests, RULE, msk("2026-04-19 23:59:59"))
    assert status["met_deadline"].tolist() == [False, False, True]
    assert status["open"].tolist() == [False, True, False]
    assert status["open_past_deadline"].tolist() == [False, True, False]
    table = compliance(status)
    assert (int(table["n_due"][0]), int(table["n_met"][0])) == (3, 1)
    # before its deadline a closed-without-time request is not yet a miss
    early = sla_status(requests, RULE, msk("2026-04-16 11:00"))
    assert pd.isna(early["met_deadline"].iloc[0]) and not early["breached_limit"].iloc[0]


def test_the_holidays_package_knows_the_2026_and_2027_transfer_decrees() -> None:
    """pyproject's floor (holidays >= 0.109) must carry the government's transfers: 9 January
    and 31 December 2026, 22 February, 5 November and 31 December 2027 are days off; an older
    package would count them as business days and move every deadline around them."""
    public = holidays.country_holidays("RU", years=[2026, 2027])
    for day in ("2026-01-09", "2026-12-31", "2027-02-22", "2027-11-05", "2027-12-31"):
        assert dt.date.fromisoformat(day) in public, day


def test_a_pre_holiday_day_can_end_an_hour_early(calendar: BusinessCalendar) -> None:
    """Tuesday 3 November 2026 precedes Unity Day: with ``shortened_pre_holiday`` (Labour Code
    art. 95) a request received at 10:00 is due at 17:00, not 18:00; a limit ending on that day
    ends at 17:00 too. Monday 2 November is an ordinary day. By default nothing changes."""
    received = utc_series(["2026-11-03 10:00", "2026-11-02 10:00", "2026-10-29 10:00"])
    short = deadlines(received, SlaRule(shortened_pre_holiday=True), calendar)
    assert short["deadline"].tolist()[:2] == [msk("2026-11-03 17:00"), msk("2026-11-02 18:00")]
    # Thursday 29 October + 3 business days (30 Oct, 2 Nov, 3 Nov) ends on the short day
    assert short["limit"].iloc[2] == msk("2026-11-03 17:00")
    default = deadlines(received, RULE, calendar)
    assert default["deadline"].iloc[0] == msk("2026-11-03 18:00")
    assert not calendar.is_pre_holiday(dt.date(2026, 12, 30))  # 31 Dec is a moved day off
