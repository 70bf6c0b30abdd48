"""The SLA of written requests as of the end of a report week: each request's status and each
reason's compliance and backlog (the rule and calendar are ``closedloop/sla.py``)."""

from __future__ import annotations

from datetime import datetime, time

import duckdb
import pandas as pd

from pipeline import sql
from pipeline.closedloop.sla import BusinessCalendar, SlaError, SlaRule, is_true, sla_status
from pipeline.io.weeks import week_bounds

METRIC_COLUMNS = (
    "n_due",
    "n_met",
    "compliance",
    "meets_target",
    "n_breached_limit",
    "n_open_past_deadline",
    "max_age_business_days",
    "n_no_status_update",
)


def compliance(
    status: pd.DataFrame, by: list[str] | None = None, rule: SlaRule | None = None
) -> pd.DataFrame:
    """Deadline compliance of due requests, overall (one row) or per ``by`` group.

    Counts cover due requests (deadline passed by ``as_of``); ``max_age_business_days`` is the
    age of the oldest open request. Grouping columns must already be in ``status``.
    """
    rule = rule if rule is not None else SlaRule()
    keys = list(by or [])
    missing = [c for c in keys if c not in status.columns]
    if missing:
        raise SlaError(f"нет столбцов для группировки {missing}; добавьте их к статусам заранее")
    due = status["due"].to_numpy(dtype=bool)
    counts = pd.DataFrame(
        {
            "n_due": due,
            "n_met": due & is_true(status["met_deadline"]),
            "n_breached_limit": due & status["breached_limit"].to_numpy(dtype=bool),
            "n_open_past_deadline": due & status["open_past_deadline"].to_numpy(dtype=bool),
            "n_no_status_update": due & status["no_status_update"].to_numpy(dtype=bool),
        },
        index=status.index,
    ).astype("int64")
    open_age = status["age_business_days"].astype("Int64").where(status["open"].to_numpy(bool))

    if keys:
        groups = [status[c] for c in keys]
        table = counts.groupby(groups, dropna=False, observed=True, sort=True).sum()
        table["max_age_business_days"] = open_age.groupby(
            groups, dropna=False, observed=True, sort=True
        ).max()
        table = table.reset_index()
    else:
        table = counts.sum().to_frame().T.reset_index(drop=True)
        table["max_age_business_days"] = pd.array([open_age.max()], dtype="Int64")

    table["compliance"] = table["n_met"] / table["n_due"]  # 0/0 -> NaN
    has_due = table["n_due"].to_numpy() > 0
    table["meets_target"] = pd.array(table["compliance"] >= rule.target, dtype="boolean")
    table.loc[~has_due, "meets_target"] = pd.NA
    return table[[*keys, *METRIC_COLUMNS]]


def sla_tables(
    con: duckdb.DuckDBPyConnection, report_week: str, rule: SlaRule
) -> tuple[pd.DataFrame, pd.DataFrame, pd.Timestamp]:
    """Per complaint SLA status as of the end of the report week, and per reason compliance of
    the requests due in the report week (deadline in it); the backlog columns cover every
    request received up to the week's end."""
    requests = con.execute(sql.load("sla_requests"), {"w": report_week}).df()
    end = week_bounds(report_week)[1]
    as_of = pd.Timestamp(datetime.combine(end, time(23, 59, 59)), tz=rule.timezone).tz_convert(
        "UTC"
    )
    years = range(
        int(requests["received_at"].dt.year.min() if len(requests) else end.year), end.year + 2
    )
    calendar = BusinessCalendar.for_rule(rule, years)
    for column in ("received_at", "resolved_at"):
        requests[column] = pd.to_datetime(requests[column], utc=True)
    status = sla_status(requests, rule, as_of, calendar)
    status["after_cutoff"] = ~status["before_cutoff"] | ~status["received_business_day"]
    # the week's cohort: requests whose deadline fell in it (each request is due in one week)
    week = status[status["deadline_week"] == report_week]
    by_reason = compliance(week, by=["reason_id"], rule=rule)
    backlog = compliance(status, by=["reason_id"], rule=rule)[
        [
            "reason_id",
            "n_open_past_deadline",
            "max_age_business_days",
            "n_no_status_update",
            "n_breached_limit",
        ]
    ].rename(columns=lambda c: c if c == "reason_id" else f"all_{c}")
    by_reason = by_reason.merge(backlog, on="reason_id", how="outer")
    by_reason = by_reason.rename(
        columns={
            "n_due": "sla_due",
            "n_met": "sla_met",
            "compliance": "sla_compliance",
            "meets_target": "sla_meets_target",
            "n_breached_limit": "sla_breached_limit",
            "n_open_past_deadline": "sla_open_past_deadline",
            "max_age_business_days": "sla_max_age_days",
            "n_no_status_update": "sla_no_update",
            "all_n_open_past_deadline": "sla_backlog_open_past_deadline",
            "all_max_age_business_days": "sla_backlog_max_age_days",
            "all_n_no_status_update": "sla_backlog_no_update",
            "all_n_breached_limit": "sla_backlog_breached_limit",
        }
    )
    return status, by_reason, as_of
