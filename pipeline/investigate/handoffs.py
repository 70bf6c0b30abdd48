"""One receiving department's hand-offs for the "why" notebook: its weekly fates, the hand-offs
it lost in a week (masked texts), which contact reasons and which senders they came from, and
the clients who came back while they waited. Reads the warehouse's hand-off tables
(``pipeline/closedloop/handoff_tables.py``)."""

from __future__ import annotations

import difflib
from dataclasses import dataclass

import duckdb
import pandas as pd

from pipeline.investigate.warehouse import InvestigationError, read_query
from pipeline.io.weeks import week_range
from pipeline.text import mask_personal_data

MIN_SETTLED = 10  # the default department: the highest lost share among those with this many


@dataclass(frozen=True)
class DepartmentHandoffs:
    department: str
    week: str
    weekly: pd.DataFrame
    """handoff_department_weeks of the department: received, settled, fates, shares."""
    lost: pd.DataFrame
    """The hand-offs it lost in ``week`` (limit ran out in it), text masked."""
    reasons: pd.DataFrame
    """Contact reasons of its settled hand-offs over the weeks: settled, lost, share."""
    senders: pd.DataFrame
    """Who handed over what it then lost, over the weeks."""

    def figures(self) -> dict:
        """The week's counts (0 when the department settled nothing in it)."""
        row = self.weekly[self.weekly["iso_week"] == self.week]
        get = (lambda c: row[c].iloc[0]) if len(row) else (lambda c: 0)
        settled, lost = int(get("settled")), int(get("lost"))
        return {
            "department": self.department,
            "week": self.week,
            "received": int(get("received")),
            "settled": settled,
            "lost": lost,
            "late": int(get("late")),
            "lost_share": lost / settled if settled else None,
            "lost_came_back": int(get("lost_came_back")),
        }


def has_handoffs(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the run that built the warehouse had a hand-off export."""
    return bool(read_query(con, "handoff_event_count")["events"].iloc[0])


def resolve_department(con: duckdb.DuckDBPyConnection, department: str, week: str) -> str:
    """``department`` checked against the hand-off data; empty means the department with the
    highest share of lost hand-offs in ``week`` (among those that settled ``MIN_SETTLED``)."""
    known = read_query(con, "handoff_department_list")["department"].tolist()
    if department:
        if department not in known:
            close = difflib.get_close_matches(department, known, n=3)
            hint = f"; похожие: {', '.join(close)}" if close else ""
            raise InvestigationError(f"отдела «{department}» нет среди получателей передач{hint}")
        return department
    ranked = read_query(con, "handoff_worst_department", week=week, min_settled=MIN_SETTLED)
    if ranked.empty:
        raise InvestigationError(f"неделя {week}: ни одна передача не решена")
    return str(ranked["department"].iloc[0])


def department_handoffs(
    con: duckdb.DuckDBPyConnection, department: str, week: str, weeks: int = 13
) -> DepartmentHandoffs:
    """The department's weekly fates over ``weeks`` weeks up to ``week`` and its lost
    hand-offs of ``week``, with the reasons and senders behind them."""
    department = resolve_department(con, department, week)
    span = week_range(week, weeks)
    weekly = read_query(con, "handoff_department_history", department=department, weeks=span)
    lost = read_query(con, "handoff_department_lost", department=department, week=week)
    lost["text"] = lost["text"].map(lambda t: mask_personal_data(t) if isinstance(t, str) else "")
    reasons = read_query(con, "handoff_department_reasons", department=department, weeks=span)
    senders = read_query(con, "handoff_department_senders", department=department, weeks=span)
    return DepartmentHandoffs(department, week, weekly, lost, reasons, senders)
