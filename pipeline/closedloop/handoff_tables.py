"""The hand-off tables of the warehouse: every hand-off with its fate and the contact it belongs
to, per receiving department (report week, weekly series, trend, target) and per contact
reason (how often its contacts are handed over, how many of those hand-offs get lost)."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from pipeline import sql
from pipeline.closedloop.calendar import BusinessCalendar
from pipeline.closedloop.config import TREND_RU, AggregateConfig
from pipeline.closedloop.handoffs import END_OF_DAY, fates
from pipeline.closedloop.tables import store_frame, table_from_parquet
from pipeline.closedloop.trends import trend
from pipeline.io.weeks import week_bounds, week_range
from pipeline.taxonomy.schema import Taxonomy

COUNT_COLUMNS = ("received", "settled", "on_time", "late", "lost")
PROMISE_COLUMNS = ("promises_settled", "promises_lost")
WEEK_COLUMNS = (
    "department",
    "iso_week",
    *COUNT_COLUMNS,
    *PROMISE_COLUMNS,
    "lost_share",
    "late_share",
    "median_pickup_hours",
    "lost_came_back",
)
DEPARTMENT_COLUMNS = (
    "department",
    "owner_id",
    *COUNT_COLUMNS,
    "open",
    "lost_share",
    "late_share",
    "median_pickup_hours",
    "lost_came_back",
    "returned_to_sender",
    *PROMISE_COLUMNS,
    "lost_share_recent",
    "lost_share_before",
    "promise_lost_share_recent",
    "trend_verdict",
    "trend_ru",
    "trend_slope",
    "trend_p",
    "target_lost_share",
    "target_status",
    "series",
)
REASON_COLUMNS = (
    "reason_id",
    "contacts",
    "handed_contacts",
    "handoffs",
    "handoffs_per_100",
    "rate_vs_others",
    "settled",
    "lost",
    "lost_share",
    "lost_came_back",
)


@dataclass
class HandoffTables:
    handoffs: pd.DataFrame
    departments: pd.DataFrame
    weeks: pd.DataFrame
    reasons: pd.DataFrame


def week_end(report_week: str, timezone: str) -> pd.Timestamp:
    """23:59:59 local of the report week's Sunday, in UTC: the moment fates are known at."""
    sunday = week_bounds(report_week)[1]
    return pd.Timestamp(dt.datetime.combine(sunday, END_OF_DAY), tz=timezone).tz_convert("UTC")


def horizon(report_week: str, config: AggregateConfig) -> pd.Timestamp:
    """Monday 00:00 local of the first week whose hand-offs can still settle in the trend
    window: ``trend_weeks`` plus the lost limit in weeks, with room for the New Year days off.
    Older hand-offs settled before the window: they change no figure, and leaving them out
    keeps a weekly run's cost independent of the length of the history."""
    margin = config.handoffs.lost_business_days // 5 + 3
    monday = week_bounds(week_range(report_week, config.trend_weeks + margin)[0])[0]
    return pd.Timestamp(dt.datetime.combine(monday, dt.time()), tz=config.sla_rule.timezone)


def window_events(
    con: duckdb.DuckDBPyConnection, since: pd.Timestamp, as_of: pd.Timestamp
) -> pd.DataFrame:
    """The stored events from ``since`` up to ``as_of`` (UTC times, ingest's types)."""
    params = {"since": since.to_pydatetime(), "as_of": as_of.to_pydatetime()}
    events = con.execute(sql.load("handoff_window"), params).df()
    for column in ("event_at", "promised_at"):
        events[column] = pd.to_datetime(events[column], utc=True).astype("datetime64[us, UTC]")
    for column in ("event_id", "contact_id", "event_type", "from_department", "to_department"):
        events[column] = events[column].astype("string")
    return events


def _shares(frame: pd.DataFrame) -> pd.DataFrame:
    settled = frame["settled"].where(frame["settled"] > 0)
    frame["lost_share"] = frame["lost"] / settled
    frame["late_share"] = frame["late"] / settled
    return frame


def by_week(handoffs: pd.DataFrame, keys: list[str], weeks: list[str]) -> pd.DataFrame:
    """Counts per ``keys`` x week: received by the hand-off's week, fates by the settled week."""
    received = handoffs.groupby([*keys, "received_week"]).size().rename("received")
    received.index = received.index.set_names([*keys, "iso_week"])
    settled = handoffs[handoffs["settled_week"].notna()]
    fate_counts = (
        settled.groupby([*keys, "settled_week", "fate"]).size().unstack("fate", fill_value=0)
    )
    fate_counts.index = fate_counts.index.set_names([*keys, "iso_week"])
    done = settled[settled["fate"].isin(["on_time", "late"])]
    pickup = done.groupby([*keys, "settled_week"])["pickup_hours"].median()
    pickup.index = pickup.index.set_names([*keys, "iso_week"])
    back = settled[settled["fate"].eq("lost")].groupby([*keys, "settled_week"])["came_back"].sum()
    back.index = back.index.set_names([*keys, "iso_week"])
    promised = settled[settled["handoff_type"].eq("promise")].assign(
        promises_settled=1, promises_lost=lambda f: f["fate"].eq("lost").astype("int64")
    )
    promises = promised.groupby([*keys, "settled_week"])[list(PROMISE_COLUMNS)].sum()
    promises.index = promises.index.set_names([*keys, "iso_week"])
    table = pd.concat(
        [
            received,
            fate_counts,
            promises,
            pickup.rename("median_pickup_hours"),
            back.rename("lost_came_back"),
        ],
        axis=1,
    ).reset_index()
    table = table[table["iso_week"].isin(weeks)]
    for column in ("received", "on_time", "late", "lost", "lost_came_back", *PROMISE_COLUMNS):
        if column not in table:
            table[column] = 0
        table[column] = table[column].fillna(0).astype("int64")
    table["settled"] = table["on_time"] + table["late"] + table["lost"]
    return _shares(table)


def owner_of(taxonomy: Taxonomy) -> dict[str, str]:
    """Folded department name -> owner id: the owner's title, id or one of its departments."""
    names: dict[str, str] = {}
    for owner in taxonomy.owners:
        for name in (owner.id, owner.title, *owner.departments):
            names.setdefault(name.strip().casefold(), owner.id)
    return names


def department_table(
    handoffs: pd.DataFrame,
    weekly: pd.DataFrame,
    report_week: str,
    config: AggregateConfig,
    taxonomy: Taxonomy,
) -> pd.DataFrame:
    """One row per receiving department: the report week's figures, open hand-offs at its end,
    the weekly lost-share series with its trend, the target and its status."""
    rule = config.handoffs
    weeks = week_range(report_week, config.trend_weeks)
    recent = week_range(report_week, config.recent_weeks)
    before = week_range(recent[0], config.recent_weeks + 1)[:-1]
    owners = owner_of(taxonomy)
    rows = []
    for department, group in handoffs.groupby("department", sort=True):
        series = weekly[weekly["department"] == department].set_index("iso_week")
        this = series.reindex([report_week]).iloc[0]
        shares = series["lost_share"].reindex(weeks)
        verdict = trend(shares.to_numpy(dtype=float), config.trend_alpha, 6, config.min_slope_pct)
        target = rule.target(department)
        # judged like a reason's target: over the recent weeks, not one week of few hand-offs
        recent_share = _share(series, recent, "lost", "settled")
        counts = (*COUNT_COLUMNS, *PROMISE_COLUMNS, "lost_came_back")
        rows.append(
            {
                "department": department,
                "owner_id": owners.get(department.strip().casefold()),
                **{c: int(np.nan_to_num(this[c])) for c in counts},
                "open": int(group["fate"].eq("open").sum()),
                "lost_share": this["lost_share"],
                "late_share": this["late_share"],
                "median_pickup_hours": this["median_pickup_hours"],
                "returned_to_sender": int(
                    (group["returned_to_sender"] & group["settled_week"].eq(report_week)).sum()
                ),
                "lost_share_recent": recent_share,
                "lost_share_before": _share(series, before, "lost", "settled"),
                "promise_lost_share_recent": _share(
                    series, recent, "promises_lost", "promises_settled"
                ),
                "trend_verdict": verdict.verdict,
                "trend_ru": TREND_RU[verdict.verdict],
                "trend_slope": verdict.slope,
                "trend_p": verdict.p_value,
                "target_lost_share": target,
                "target_status": None
                if pd.isna(recent_share)
                else ("met" if recent_share <= target else "off_track"),
                "series": json.dumps([None if pd.isna(v) else round(float(v), 4) for v in shares]),
            }
        )
    return pd.DataFrame(rows, columns=list(DEPARTMENT_COLUMNS))


def _share(series: pd.DataFrame, weeks: list[str], part: str, whole: str) -> float:
    """``part`` / ``whole`` summed over ``weeks`` of one department's weekly rows (NaN: 0/0)."""
    window = series[series.index.isin(weeks)]
    total = window[whole].sum()
    return window[part].sum() / total if total else np.nan


def reason_table(
    con: duckdb.DuckDBPyConnection, handoffs: pd.DataFrame, weeks: list[str]
) -> pd.DataFrame:
    """Per reason, over the contacts of ``weeks``: how many were handed over, how often, and
    how many of their hand-offs were lost (and the clients who came back meanwhile)."""
    contacts = con.execute(sql.load("handoff_reason_contacts"), {"weeks": weeks}).df()
    cohort = handoffs[handoffs["contact_week"].isin(weeks)]
    lost = cohort["fate"].eq("lost")
    cohort = cohort.assign(
        settled=cohort["fate"].ne("open").astype("int64"),
        lost=lost.astype("int64"),
        lost_came_back=cohort["came_back"].where(lost, 0).astype("int64"),
    )
    grouped = cohort.groupby("reason_id")
    table = pd.concat(
        [
            grouped["contact_id"].nunique().rename("handed_contacts"),
            grouped.size().rename("handoffs"),
            grouped[["settled", "lost", "lost_came_back"]].sum(),
        ],
        axis=1,
    ).reset_index()
    table = contacts.merge(table, on="reason_id", how="inner")
    table["handoffs_per_100"] = 100 * table["handoffs"] / table["contacts"]
    total_h, total_c = table["handoffs"].sum(), contacts["contacts"].sum()
    others = (total_h - table["handoffs"]) / (total_c - table["contacts"]).where(
        total_c - table["contacts"] > 0
    )
    table["rate_vs_others"] = (table["handoffs"] / table["contacts"]) / others.where(others > 0)
    table["lost_share"] = table["lost"] / table["settled"].where(table["settled"] > 0)
    return table.loc[:, list(REASON_COLUMNS)].sort_values(
        ["lost", "handoffs", "reason_id"], ascending=[False, False, True], ignore_index=True
    )


def handoff_tables(
    con: duckdb.DuckDBPyConnection,
    events_path: Path,
    report_week: str,
    config: AggregateConfig,
    taxonomy: Taxonomy,
) -> HandoffTables:
    """Fates as of the end of the report week and the tables built from them; stored in the
    warehouse (empty tables when there is no hand-off export)."""
    table_from_parquet(con, "handoff_events", events_path)
    sla = config.sla_rule
    as_of = week_end(report_week, sla.timezone)
    since = horizon(report_week, config)
    events = window_events(con, since, as_of)
    calendar = BusinessCalendar.for_rule(sla, range(since.year, as_of.year + 2))
    table = fates(events, config.handoffs, sla.timezone, calendar, as_of)
    store_frame(con, "handoff_frame", table, temporary=True)
    con.execute(sql.load("handoff_fates"), {"as_of": as_of.to_pydatetime()})
    handoffs = con.execute("SELECT * FROM handoffs ORDER BY handed_at, handoff_id").df()
    weeks = week_range(report_week, config.trend_weeks)
    weekly = by_week(handoffs, ["department"], weeks) if len(handoffs) else _empty(WEEK_COLUMNS)
    weekly = weekly.loc[:, list(WEEK_COLUMNS)].sort_values(
        ["department", "iso_week"], ignore_index=True
    )
    if len(handoffs):
        departments = department_table(handoffs, weekly, report_week, config, taxonomy)
        reasons = reason_table(con, handoffs, weeks[-config.recent_weeks :])
    else:
        departments, reasons = _empty(DEPARTMENT_COLUMNS), _empty(REASON_COLUMNS)
    for name, frame in (
        ("handoff_department_weeks", weekly),
        ("handoff_departments", departments),
        ("handoff_reasons", reasons),
    ):
        store_frame(con, name, frame)
    return HandoffTables(handoffs, departments, weekly, reasons)


def _empty(columns) -> pd.DataFrame:
    """No rows, typed: text columns are strings, counts integers, the rest numbers."""
    text = {"department", "iso_week", "owner_id", "reason_id", "trend_verdict", "trend_ru"}
    text |= {"target_status"}
    counts = {*COUNT_COLUMNS, "open", "lost_came_back", "returned_to_sender", "contacts"}
    counts |= {"handed_contacts", "handoffs"}
    return pd.DataFrame(
        {
            c: pd.Series(
                [],
                dtype="string"
                if c in text or c == "series"
                else "int64"
                if c in counts
                else "float64",
            )
            for c in columns
        }
    )
