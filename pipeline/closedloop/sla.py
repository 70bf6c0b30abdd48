"""Complaint SLA (rule 003) on a Russian business calendar.

A request received on a business day before ``cutoff`` (14:00 local) must be resolved by
``end_of_day`` (18:00) the same day; one received later, or on a weekend or public holiday, by
``next_day_deadline`` (11:00) of the next business day. ``target`` (95 %) of requests must meet
that deadline and every request must be resolved within ``limit_business_days`` (3) business days,
with status updates to the client meanwhile. The limit is counted from the day after receipt
(Civil Code art. 191: a period starts the day after the event), so a Friday-evening and a
Saturday request share their limit; ``limit_from: first_business_day`` counts from the first
business day on or after receipt instead (a Saturday request then gets one day more).

A request is due in the ISO week its deadline falls in (local time): a week's compliance counts
the requests whose deadline fell in that week, so every request is counted exactly once, also
one received on Friday after the cut-off or at the weekend.

Deadlines depend only on the local received date and whether the request came before the cut-off,
so they are computed once per distinct local date and mapped onto the requests.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from pipeline.closedloop.calendar import BusinessCalendar
from pipeline.errors import PipelineError
from pipeline.io.weeks import weeks_of

logger = logging.getLogger(__name__)

REQUEST_COLUMNS = ("received_at", "resolved_at", "status_updates")
TIME_UNIT = "us"  # the unit ingest uses for timestamps


class SlaError(PipelineError, ValueError):
    """The requests frame lacks a column or holds times without a time zone."""


class SlaRule(BaseModel):
    """SLA parameters; times are local wall-clock times in ``timezone``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # false (or ``sla: null`` in params.yaml): the organisation has no SLA; the report shows none
    enabled: bool = True
    timezone: str = "Europe/Moscow"
    cutoff: dt.time = dt.time(14, 0)
    end_of_day: dt.time = dt.time(18, 0)
    next_day_deadline: dt.time = dt.time(11, 0)
    target: float = Field(0.95, gt=0, le=1)
    limit_business_days: int = Field(3, ge=1)
    # the limit's business days are counted from the day after receipt (Civil Code art. 191),
    # or from the first business day on or after it
    limit_from: Literal["next_day", "first_business_day"] = "next_day"
    # Labour Code art. 95: the working day right before a public holiday is one hour shorter;
    # when true, a deadline or limit at end_of_day on such a day is an hour earlier
    shortened_pre_holiday: bool = False
    extra_holidays: tuple[dt.date, ...] = ()
    extra_workdays: tuple[dt.date, ...] = ()

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
            raise ValueError(
                f"неизвестный часовой пояс {value!r}; ожидается имя IANA, например Europe/Moscow"
            ) from exc
        return value

    @field_validator("cutoff", "end_of_day", "next_day_deadline", mode="before")
    @classmethod
    def _time_as_text(cls, value: Any) -> Any:
        # YAML 1.1 reads an unquoted 14:00 as the base-60 integer 840
        if isinstance(value, int | float):
            raise ValueError(f"время {value!r} пришло числом; укажите его в кавычках: '14:00'")
        return value

    @field_validator("cutoff", "end_of_day", "next_day_deadline")
    @classmethod
    def _naive_time(cls, value: dt.time) -> dt.time:
        if value.tzinfo is not None:
            raise ValueError("время указывается без часового пояса (он задан в timezone)")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> SlaRule:
        if self.cutoff > self.end_of_day:
            raise ValueError(
                f"cutoff {self.cutoff:%H:%M} позже end_of_day {self.end_of_day:%H:%M}; "
                "время отсечки должно быть не позже конца рабочего дня"
            )
        if self.next_day_deadline > self.end_of_day:
            raise ValueError(
                f"next_day_deadline {self.next_day_deadline:%H:%M} позже end_of_day "
                f"{self.end_of_day:%H:%M}; срок следующего дня должен быть в пределах рабочего дня"
            )
        both = sorted(set(self.extra_holidays) & set(self.extra_workdays))
        if both:
            raise ValueError(
                f"даты {[d.isoformat() for d in both]} указаны и в extra_holidays, "
                "и в extra_workdays; оставьте каждую только в одном списке"
            )
        return self


def deadlines(received_at: pd.Series, rule: SlaRule, calendar: BusinessCalendar) -> pd.DataFrame:
    """Deadline and limit (UTC) of each request, computed once per distinct local date.

    Columns: ``deadline``, ``limit``, ``received_business_day``, ``before_cutoff``.
    """
    _check_received(received_at)
    local = received_at.dt.tz_convert(rule.timezone).dt.tz_localize(None)
    local_day = local.dt.normalize()
    before_cutoff = ((local - local_day) < _since_midnight(rule.cutoff)).to_numpy()
    codes, days = pd.factorize(local_day)
    dates = [d.date() for d in days]

    business = np.array([calendar.is_business_day(d) for d in dates], dtype=bool)
    next_days = [calendar.next_business_day(d) for d in dates]
    start = (
        (lambda d: d) if rule.limit_from == "next_day" else calendar.first_business_day_on_or_after
    )
    limit_days = [calendar.add_business_days(start(d), rule.limit_business_days) for d in dates]
    same_day_deadline = _end_of_day(dates, rule, calendar).take(codes)
    next_day_deadline = _local_to_utc(next_days, rule.next_day_deadline, rule.timezone)
    limit = _end_of_day(limit_days, rule, calendar).take(codes)

    received_business_day = business[codes]
    same_day = received_business_day & before_cutoff
    deadline = same_day_deadline.where(same_day, next_day_deadline.take(codes))
    return pd.DataFrame(
        {
            "deadline": deadline,
            "limit": limit,
            "received_business_day": received_business_day,
            "before_cutoff": before_cutoff,
        },
        index=received_at.index,
    )


def sla_status(
    requests: pd.DataFrame,
    rule: SlaRule,
    as_of: pd.Timestamp,
    calendar: BusinessCalendar | None = None,
) -> pd.DataFrame:
    """``requests`` with each request's SLA status as known at ``as_of`` (same index).

    ``met_deadline`` and ``within_limit`` are NA while the request is open and the time is not
    up yet. A resolution after ``as_of`` is not known yet, so such a request counts as open.
    """
    missing = [c for c in REQUEST_COLUMNS if c not in requests.columns]
    if missing:
        raise SlaError(
            f"в таблице обращений нет столбцов {missing}; нужны {list(REQUEST_COLUMNS)}"
        )
    as_of = _utc_timestamp(as_of)
    received = requests["received_at"]
    _check_received(received)
    resolved = _resolved_utc(requests["resolved_at"])
    if calendar is None:
        calendar = BusinessCalendar.for_rule(rule, _years(received, as_of, rule.timezone))

    due_at = deadlines(received, rule, calendar)
    deadline, limit = due_at["deadline"], due_at["limit"]
    resolved, closed_no_time = _apply_status_conflicts(requests, resolved)
    is_open = (resolved.isna() | (resolved > as_of)).to_numpy() & ~closed_no_time
    # closed without a time: a miss, but only once the deadline (or limit) has passed
    met_deadline = _outcome(resolved, is_open, deadline, as_of).mask(
        closed_no_time & (deadline > as_of).to_numpy()
    )
    within_limit = _outcome(resolved, is_open, limit, as_of).mask(
        closed_no_time & (limit > as_of).to_numpy()
    )
    no_updates = requests["status_updates"].fillna(0).eq(0).to_numpy()
    age = _age_business_days(received, as_of, rule.timezone, calendar)
    deadline_local = deadline.dt.tz_convert(rule.timezone).dt.tz_localize(None)
    logger.debug("SLA status of %d requests as of %s", len(requests), as_of)

    return requests.assign(
        deadline=deadline,
        limit=limit,
        deadline_local=deadline_local,
        deadline_week=weeks_of(deadline_local),
        received_business_day=due_at["received_business_day"],
        before_cutoff=due_at["before_cutoff"],
        due=(deadline <= as_of).to_numpy(),
        met_deadline=met_deadline,
        within_limit=within_limit,
        breached_limit=_is_false(within_limit),
        open_past_deadline=is_open & (deadline < as_of).to_numpy(),
        age_business_days=age.mask(~is_open),
        no_status_update=_is_false(met_deadline) & no_updates,
        open=is_open,
    )


def _end_of_day(
    days: list[dt.date], rule: SlaRule, calendar: BusinessCalendar
) -> pd.DatetimeIndex:
    """``end_of_day`` of each day in UTC; an hour earlier on a shortened pre-holiday day when
    the rule says so (Labour Code art. 95)."""
    end = _local_to_utc(days, rule.end_of_day, rule.timezone)
    if not rule.shortened_pre_holiday:
        return end
    shorter = np.array([calendar.is_pre_holiday(d) for d in days], dtype=bool)
    return end - pd.to_timedelta(np.where(shorter, 1, 0), unit="h")


def _apply_status_conflicts(
    requests: pd.DataFrame, resolved: pd.Series
) -> tuple[pd.Series, np.ndarray]:
    """The conventions for a status that contradicts the resolution time (ingest flags them in
    ``status_conflict``): «open» with a time — the status is the system's current state, so the
    request is open and the time ignored; «closed» without a time — resolved, but not provably
    in time: it leaves the backlog and counts as a missed deadline and limit once due."""
    if "status_conflict" not in requests.columns:
        return resolved, np.zeros(len(requests), dtype=bool)
    conflict = requests["status_conflict"]
    open_with_time = conflict.eq("open_with_time").fillna(False).to_numpy(dtype=bool)
    closed_no_time = conflict.eq("closed_without_time").fillna(False).to_numpy(dtype=bool)
    return resolved.mask(open_with_time), closed_no_time


def _since_midnight(time: dt.time) -> pd.Timedelta:
    return pd.Timedelta(
        hours=time.hour, minutes=time.minute, seconds=time.second, microseconds=time.microsecond
    )


def _local_to_utc(days: Iterable[dt.date], time: dt.time, timezone: str) -> pd.DatetimeIndex:
    """UTC instants of local wall-clock ``time`` on each of ``days``."""
    naive = pd.DatetimeIndex(pd.to_datetime(list(days))).as_unit(TIME_UNIT)
    naive = naive + _since_midnight(time)
    # in a DST fold take the later (standard-time) instant; in a gap, the first valid one
    local = naive.tz_localize(
        timezone, ambiguous=np.zeros(len(naive), dtype=bool), nonexistent="shift_forward"
    )
    return local.tz_convert("UTC")


def _check_received(received_at: pd.Series) -> None:
    if not isinstance(received_at.dtype, pd.DatetimeTZDtype):
        raise SlaError(
            f"received_at: ожидается время с часовым поясом (UTC), получен тип {received_at.dtype}"
        )
    empty = received_at.index[received_at.isna()]
    if len(empty):
        raise SlaError(
            f"received_at: пустое время поступления в {len(empty)} строках "
            f"(первые: {list(empty[:5])}); у обращения без времени поступления нет срока"
        )


def _resolved_utc(resolved_at: pd.Series) -> pd.Series:
    if isinstance(resolved_at.dtype, pd.DatetimeTZDtype):
        return resolved_at.dt.tz_convert("UTC")
    if resolved_at.isna().all():
        return pd.Series(pd.NaT, index=resolved_at.index, dtype=f"datetime64[{TIME_UNIT}, UTC]")
    raise SlaError(
        f"resolved_at: ожидается время с часовым поясом (UTC), получен тип {resolved_at.dtype}"
    )


def _utc_timestamp(as_of: pd.Timestamp | dt.datetime | str) -> pd.Timestamp:
    stamp = pd.Timestamp(as_of)
    if stamp.tzinfo is None:
        raise SlaError(
            f"as_of {as_of!r}: укажите момент с часовым поясом, например 2026-04-20T09:00Z"
        )
    return stamp.tz_convert("UTC")


def _years(received_at: pd.Series, as_of: pd.Timestamp, timezone: str) -> range:
    """Calendar years the requests' deadlines and ages can touch."""
    years = received_at.dt.tz_convert(timezone).dt.year
    as_of_year = as_of.tz_convert(timezone).year
    first = int(years.min()) if len(years) else as_of_year
    last = max(int(years.max()) if len(years) else as_of_year, as_of_year)
    return range(min(first, as_of_year), last + 2)  # limits run into the next year


def _outcome(
    resolved: pd.Series, is_open: np.ndarray, due: pd.Series, as_of: pd.Timestamp
) -> pd.Series:
    """Resolved by ``due``: True/False once known, NA while open and ``due`` is ahead."""
    on_time = ~is_open & (resolved <= due).to_numpy()
    known = ~is_open | (due <= as_of).to_numpy()
    return pd.Series(on_time, index=due.index, dtype="boolean").mask(~known)


def is_true(flags: pd.Series) -> np.ndarray:
    return flags.eq(True).fillna(False).to_numpy(dtype=bool)


def _is_false(flags: pd.Series) -> np.ndarray:
    return flags.eq(False).fillna(False).to_numpy(dtype=bool)


def _age_business_days(
    received_at: pd.Series, as_of: pd.Timestamp, timezone: str, calendar: BusinessCalendar
) -> pd.Series:
    """Business days from each local received date to the local ``as_of`` date."""
    local_day = received_at.dt.tz_convert(timezone).dt.tz_localize(None).dt.normalize()
    codes, days = pd.factorize(local_day)
    end = as_of.tz_convert(timezone).tz_localize(None).normalize()
    start = min(days.min(), end) if len(days) else end
    # cumulative business-day count over the whole span, so each date costs one subtraction
    span = pd.date_range(start, end, freq="D")
    counted = np.cumsum([calendar.is_business_day(d) for d in span.date])
    position = np.clip((days - start).days.to_numpy(), 0, len(span) - 1)
    per_day = counted[-1] - counted[position]
    return pd.Series(per_day[codes], index=received_at.index, dtype="Int64")
