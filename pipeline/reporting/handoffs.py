"""The «Передачи и обещания» page: which receiving departments lose the hand-offs they get,
which contact reasons produce lost hand-offs, and the week's lost hand-offs with their masked
texts. Read from the warehouse's hand-off tables (``pipeline/closedloop/handoff_tables.py``);
there is no page, column or row of it when the run had no hand-off export."""

from __future__ import annotations

import json
from dataclasses import dataclass

import duckdb
import pandas as pd
import plotly.graph_objects as go

from pipeline import sql
from pipeline.reporting.charts import SEPARATORS, TEMPLATE, _clean, plotly_text
from pipeline.reporting.formatting import records
from pipeline.taxonomy.schema import Taxonomy
from pipeline.text import mask_personal_data

LOST_ROWS = 300  # the week's lost hand-offs listed on the page (the warehouse holds them all)
TARGET_RU = {"met": "достигнута", "off_track": "не достигнута"}
TYPE_RU = {"promise": "обещан звонок", "transfer": "передача"}


@dataclass(frozen=True)
class HandoffReport:
    departments: list[dict]
    reasons: list[dict]
    lost: list[dict]
    weeks: pd.DataFrame
    totals: dict
    rules: dict

    @property
    def by_reason(self) -> dict[str, dict]:
        """reason_id -> its row of ``handoff_reasons`` (the closed-loop table's column)."""
        return {r["reason_id"]: r for r in self.reasons}

    def owned(self, owner_id: str) -> list[dict]:
        return [d for d in self.departments if d["owner_id"] == owner_id]


def _departments(con: duckdb.DuckDBPyConnection) -> list[dict]:
    table = con.execute("SELECT * FROM handoff_departments ORDER BY department").df()
    table = table.sort_values(["lost_share", "lost"], ascending=False, na_position="last")
    rows = records(table)
    for row in rows:
        row["target_ru"] = TARGET_RU.get(row["target_status"], "нет решённых")
        row["series"] = json.loads(row["series"])
    return rows


def _title(taxonomy: Taxonomy, reason_id: str | None) -> str:
    return taxonomy.title(reason_id) if reason_id in taxonomy.by_id else "без текста"


def _reasons(con: duckdb.DuckDBPyConnection, taxonomy: Taxonomy) -> list[dict]:
    rows = records(con.execute("SELECT * FROM handoff_reasons").df())
    for row in rows:
        row["title"] = _title(taxonomy, row["reason_id"])
    return rows


def _lost(con: duckdb.DuckDBPyConnection, taxonomy: Taxonomy, week: str) -> list[dict]:
    rows = records(sql.frame(con, "handoff_lost_week", week=week, n=LOST_ROWS))
    for row in rows:
        row["title"] = _title(taxonomy, row["reason_id"])
        row["text"] = mask_personal_data(row["text"]) if row["text"] else ""
        row["type_ru"] = TYPE_RU[row["handoff_type"]]
    return rows


def load(
    con: duckdb.DuckDBPyConnection, taxonomy: Taxonomy, week: str, params: dict
) -> HandoffReport | None:
    """The page's data, or None when the run had no hand-off events."""
    if not sql.frame(con, "handoff_event_count")["events"].iloc[0]:
        return None
    totals = sql.frame(con, "handoff_totals", week=week).iloc[0].to_dict()
    return HandoffReport(
        departments=_departments(con),
        reasons=_reasons(con, taxonomy),
        lost=_lost(con, taxonomy, week),
        weeks=con.execute("SELECT * FROM handoff_department_weeks").df(),
        totals={k: (None if pd.isna(v) else v) for k, v in totals.items()},
        rules=params.get("handoffs") or {},
    )


def lost_share_chart(weeks: pd.DataFrame, top: int = 8) -> go.Figure:
    """Weekly share of lost hand-offs of the departments that lost the most (settled weeks)."""
    lost = weeks.groupby("department")["lost"].sum().sort_values(ascending=False)
    chosen = [d for d in lost.index[:top] if lost[d] > 0] or list(lost.index[:top])
    all_weeks = sorted(weeks["iso_week"].unique())
    lines = []
    for department in chosen:
        rows = weeks[weeks["department"] == department].set_index("iso_week").reindex(all_weeks)
        lines.append(
            go.Scatter(
                x=all_weeks,
                y=_clean((rows["lost_share"] * 100).round(1).tolist()),
                customdata=_clean(rows["lost"].tolist()),
                name=plotly_text(department),
                mode="lines+markers",
                hovertemplate="%{x}: %{y} % потеряно (%{customdata})"
                "<extra>%{fullData.name}</extra>",
            )
        )
    layout = go.Layout(
        template=TEMPLATE,
        height=380,
        separators=SEPARATORS,
        margin={"l": 50, "r": 20, "t": 20, "b": 60},
        yaxis={"title": {"text": "% потерянных из решённых"}, "rangemode": "tozero"},
        legend={"orientation": "h", "y": -0.2},
    )
    return go.Figure(data=lines, layout=layout)


def loop_rows(rows: list[dict], report: HandoffReport | None) -> list[dict]:
    """Closed-loop rows with the reason's lost share of hand-offs (only reasons that produce
    hand-offs have one)."""
    if report is None:
        return rows
    for row in rows:
        found = report.by_reason.get(row["reason_id"])
        row["handoff_lost_share"] = found["lost_share"] if found else None
        row["handoff_lost"] = found["lost"] if found else None
    return rows
