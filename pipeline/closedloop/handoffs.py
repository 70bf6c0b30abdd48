"""The fate of every hand-off (seed 002: the note "the master will call back tomorrow at 15:00"
that falls off the monitor), on the business calendar of the SLA.

A *hand-off* is an event of the CRM's hand-off export (``data/interim/handoffs.parquet``) that
gives work to a department: ``transferred``, ``assigned`` or ``escalated`` to ``to_department``
(a *transfer*), or ``callback_promised`` (a *promise*: the department ``to_department``, or the
one that promised when it is empty, must call the client back by ``promised_at``).

* A transfer is **picked up** by the first later event of the same contact made by the receiving
  department (``from_department``), whatever its type — also a transfer back to the sender. It
  is **due** by the end (23:59:59 local) of the ``pickup_business_days``-th business day after
  the transfer's day.
* A promise is **kept** by the first later ``callback_done`` of the contact. It is **due** at
  ``promised_at`` (one minute later is late); a promise without a time is due like a transfer.
* It is **lost** when not done by the end of the ``lost_business_days``-th business day after
  the transfer's day or the promised day (done later: still lost — the client waited too long).

Fates are as known at ``as_of`` (the end of the report week): ``on_time``, ``late``, ``lost`` or
``open`` (not done and not lost yet). A hand-off is *settled* when its fate became known: at the
done time (on time, late) or at the lost moment (lost); weekly shares count the hand-offs
settled in the week, so each is counted once, as the SLA counts a request in its deadline week.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator

from pipeline import sql
from pipeline.closedloop.calendar import BusinessCalendar
from pipeline.io.weeks import weeks_of

TRANSFER_TYPES = ("transferred", "assigned", "escalated")
PROMISE_TYPE = "callback_promised"
DONE_TYPE = "callback_done"
NO_DEPARTMENT = "(отдел не указан)"
END_OF_DAY = dt.time(23, 59, 59)
HANDOFF_COLUMNS = (
    "handoff_id",
    "contact_id",
    "handoff_type",
    "event_type",
    "from_department",
    "department",
    "handed_at",
    "promised_at",
    "due_at",
    "lost_at",
    "done_at",
    "done_by",
    "fate",
    "settled_at",
    "received_week",
    "settled_week",
    "pickup_hours",
    "returned_to_sender",
)


class HandoffRule(BaseModel):
    """``aggregate.handoffs`` in params.yaml."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # a transfer is on time when picked up by the end of this business day after its day
    pickup_business_days: int = Field(1, ge=0, le=30)
    # lost when not done by the end of this business day after the transfer or promised day
    lost_business_days: int = Field(3, ge=1, le=60)
    # a department meets its target when at most this share of its settled hand-offs is lost
    target_lost_share: float = Field(0.05, ge=0, le=1)
    # per department (its name as in the export) a target of its own
    department_targets: dict[str, float] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _lost_after_due(self) -> HandoffRule:
        if self.lost_business_days < self.pickup_business_days:
            raise ValueError(
                f"lost_business_days ({self.lost_business_days}) меньше pickup_business_days "
                f"({self.pickup_business_days}): передача теряется раньше своего срока"
            )
        bad = {k: v for k, v in self.department_targets.items() if not 0 <= v <= 1}
        if bad:
            raise ValueError(f"department_targets: доля вне 0…1: {bad}")
        return self

    def target(self, department: str) -> float:
        return self.department_targets.get(department, self.target_lost_share)


def handoff_list(events: pd.DataFrame) -> pd.DataFrame:
    """One row per hand-off event: who handed what to whom, when, and what was promised."""
    is_transfer = events["event_type"].isin(TRANSFER_TYPES) & events["to_department"].notna()
    is_promise = events["event_type"].eq(PROMISE_TYPE)
    chosen = events[is_transfer | is_promise]
    department = chosen["to_department"].fillna(chosen["from_department"]).fillna(NO_DEPARTMENT)
    return pd.DataFrame(
        {
            "handoff_id": chosen["event_id"].astype("string"),
            "contact_id": chosen["contact_id"].astype("string"),
            "handoff_type": pd.Series(
                np.where(chosen["event_type"].eq(PROMISE_TYPE), "promise", "transfer"),
                index=chosen.index,
                dtype="string",
            ),
            "event_type": chosen["event_type"].astype("string"),
            "from_department": chosen["from_department"].astype("string"),
            "department": department.astype("string"),
            "handed_at": chosen["event_at"],
            "promised_at": chosen["promised_at"],
        }
    ).reset_index(drop=True)


def completions(handoffs: pd.DataFrame, events: pd.DataFrame) -> pd.DataFrame:
    """The first event that did each hand-off: ``done_at``, ``done_by`` (its event type) and
    whether it went back to the hand-off's sender (``handoff_completions.sql``, in an in-memory
    DuckDB: a join of every hand-off with its contact's later events)."""
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        con.register("handoff_list", handoffs)
        con.register("known_events", events)
        done = con.execute(sql.load("handoff_completions")).df()
    finally:
        con.close()
    done["done_at"] = done["done_at"].dt.tz_convert("UTC").astype("datetime64[us, UTC]")
    done["done_by"] = done["done_by"].astype("string")
    done["returned_to_sender"] = done["returned_to_sender"].astype(bool)
    return done


def _end_of_days(days: list[dt.date], timezone: str) -> pd.Series:
    local = pd.to_datetime([dt.datetime.combine(d, END_OF_DAY) for d in days])
    return pd.Series(local.tz_localize(timezone).tz_convert("UTC").astype("datetime64[us, UTC]"))


def day_ends(
    moments: pd.Series, business_days: int, timezone: str, calendar: BusinessCalendar
) -> pd.Series:
    """The end (23:59:59 local) of the ``business_days``-th business day after each moment's
    local day (its own day when 0 and a business day), computed once per distinct day."""
    local_day = moments.dt.tz_convert(timezone).dt.tz_localize(None).dt.normalize()
    codes, days = pd.factorize(local_day)
    if business_days:
        targets = [calendar.add_business_days(d.date(), business_days) for d in days]
    else:
        targets = [calendar.first_business_day_on_or_after(d.date()) for d in days]
    ends = _end_of_days(targets, timezone) if len(days) else pd.Series([], dtype="object")
    result = pd.Series(pd.NaT, index=moments.index, dtype="datetime64[us, UTC]")
    known = codes >= 0
    result[known] = ends.to_numpy()[codes[known]]
    return result


def business_hours(
    start: pd.Series, end: pd.Series, timezone: str, calendar: BusinessCalendar
) -> pd.Series:
    """Hours from ``start`` to ``end`` counting business days only (whole calendar days off
    are left out; a weekend night between Friday and Monday does not count)."""
    both = pd.concat([start, end]).dropna()
    if both.empty:
        return pd.Series(np.nan, index=start.index)
    local = both.dt.tz_convert(timezone).dt.tz_localize(None)
    first, last = local.min().date(), local.max().date()
    days = pd.date_range(first, last, freq="D")
    open_day = np.array([calendar.is_business_day(d.date()) for d in days])
    before = pd.Series(np.concatenate([[0], np.cumsum(open_day)[:-1]]), index=days)

    def clock(moments: pd.Series) -> pd.Series:
        at = moments.dt.tz_convert(timezone).dt.tz_localize(None)
        day = at.dt.normalize()
        counted = day.map(before).astype(float) * 86400
        into = (at - day).dt.total_seconds()
        is_open = day.map(pd.Series(open_day, index=days)).astype("boolean").fillna(False)
        return counted + into.where(is_open.to_numpy(), 0.0)

    return (clock(end) - clock(start)) / 3600


def fates(
    events: pd.DataFrame,
    rule: HandoffRule,
    timezone: str,
    calendar: BusinessCalendar,
    as_of: pd.Timestamp,
) -> pd.DataFrame:
    """Every hand-off handed over by ``as_of`` with its deadline, lost moment and fate."""
    known = events[events["event_at"] <= as_of]
    table = handoff_list(known)
    table = table.merge(completions(table, known), on="handoff_id", how="left")
    table["returned_to_sender"] = table["returned_to_sender"].fillna(False).astype(bool)
    promise = table["handoff_type"].eq("promise") & table["promised_at"].notna()
    pickup = day_ends(table["handed_at"], rule.pickup_business_days, timezone, calendar)
    table["due_at"] = table["promised_at"].where(promise, pickup)
    reference = table["promised_at"].where(promise, table["handed_at"])
    table["lost_at"] = day_ends(reference, rule.lost_business_days, timezone, calendar)
    done = table["done_at"]
    fate = np.select(
        [
            done.notna() & (done <= table["due_at"]),
            done.notna() & (done <= table["lost_at"]),
            table["lost_at"] <= as_of,
        ],
        ["on_time", "late", "lost"],
        "open",
    )
    table["fate"] = pd.Series(fate, index=table.index, dtype="string")
    lost = table["fate"].eq("lost")
    table["settled_at"] = done.where(~lost, table["lost_at"]).where(table["fate"].ne("open"))
    table["received_week"] = _weeks(table["handed_at"], timezone)
    table["settled_week"] = _weeks(table["settled_at"], timezone)
    table["pickup_hours"] = business_hours(table["handed_at"], done, timezone, calendar)
    return table.loc[:, list(HANDOFF_COLUMNS)].sort_values(
        ["handed_at", "handoff_id"], ignore_index=True
    )


def _weeks(moments: pd.Series, timezone: str) -> pd.Series:
    local = moments.dt.tz_convert(timezone).dt.tz_localize(None)
    return weeks_of(local).astype("string").where(moments.notna())
