"""The report's data: everything the pages print, read from the warehouse once.

``load`` runs every warehouse query the report needs (``pipeline/sql/*.sql``, bound parameters)
and returns a ``ReportData`` that holds frames and records only, no database handle: the pages
are rendered from it after the warehouse is closed, so a template can never reach the database.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import duckdb
import pandas as pd

from pipeline import sql
from pipeline.io.partitions import glob, read_manifest
from pipeline.reporting import handoffs as handoff_page
from pipeline.reporting.emerging import Topic, emerging_topics
from pipeline.reporting.formatting import records
from pipeline.taxonomy.schema import Taxonomy
from pipeline.text import mask_personal_data


class Settings(Protocol):
    """The ``report`` section of params.yaml (``pipeline.report.ReportConfig``) as read here."""

    examples_per_reason: int
    top_pairs: int
    emerging_weeks: int
    low_confidence_quantile: float
    emerging_min_count: int
    emerging_terms: int


@dataclass(frozen=True)
class RunInfo:
    """The aggregate run that built the warehouse."""

    report_week: str
    volume_interval: float
    model_version: str
    taxonomy_version: str
    sla_as_of: str
    windows: dict
    """Windows, targets and limits the pages print, from the run's params (``run_windows``):
    the report never states a number params.yaml does not hold."""
    sections: dict[str, bool]
    """What the data and the params hold (``data_sections``): calls, cost, drivers, sla. A
    section or column needing what is missing is left out, not printed as 0 or «—»."""


@dataclass(frozen=True)
class ReasonDetails:
    """A reason page's tables for the report week."""

    examples: list[dict]
    back: list[dict]
    pairs: list[dict]
    open_requests: list[dict]


@dataclass(frozen=True)
class ReportData:
    taxonomy: Taxonomy
    history: pd.DataFrame
    weekly: pd.DataFrame
    estimated: pd.DataFrame
    """weekly_estimated: raw count and volume corrected for the model's errors, per week."""
    ingest: dict
    model: dict
    run: RunInfo
    weeks: list[str]
    """The data weeks up to the report week, oldest first."""
    drops: dict[str, pd.DataFrame]
    """Per overview week: unanswered calls by queue and hour over the recent weeks up to it."""
    quarantine: list[dict]
    conventions: dict
    """How many requests each documented convention touched (data_conventions.sql)."""
    details: dict[str, ReasonDetails]
    emerging: list[Topic] | None
    """Emerging topics of the report week; None without the lemmas."""
    handoffs: handoff_page.HandoffReport | None = None
    """The hand-off page's data; None when the run had no hand-off export."""

    @property
    def report_week(self) -> str:
        return self.run.report_week

    @property
    def archive_weeks(self) -> list[str]:
        return sorted(self.history["report_week"].unique(), reverse=True)

    def loop(self, week: str) -> pd.DataFrame:
        """The closed-loop rows of one report week."""
        return self.history[self.history["report_week"] == week]


@dataclass(frozen=True)
class Headline:
    """The figures at the top of a week's overview (and a row of the archive)."""

    contacts: int
    change: float | None
    undefined_share: float | None
    no_text: int
    sla: float | None
    sla_due: int
    repeat_rate: float | None
    cpx: float | None
    cost: float
    prize: float
    spikes: int
    unexplained: int


def run_params(con: duckdb.DuckDBPyConnection) -> dict:
    """The ``aggregate`` params of the run that built the warehouse."""
    return json.loads(sql.frame(con, "run_params")["params"].iloc[0])


def run_windows(con: duckdb.DuckDBPyConnection) -> dict:
    """trend_weeks, sla_target, sla_limit_days, recent_weeks and repeat_window_days of the run
    that built the warehouse: every window the report prints (SLA ones None without an SLA)."""
    params = run_params(con)
    sla = params.get("sla") or {}
    return {
        "trend_weeks": int(params["trend_weeks"]),
        "sla_target": float(sla["target"]) if sla else None,
        "sla_limit_days": int(sla["limit_business_days"]) if sla else None,
        "recent_weeks": int(params["recent_weeks"]),
        "repeat_window_days": int(params["repeat_window_days"]),
    }


def data_sections(con: duckdb.DuckDBPyConnection, weekly: pd.DataFrame) -> dict[str, bool]:
    """Which sections the report can fill: ``calls`` (any call in the data: unanswered calls,
    transfers), ``cost`` (cost_per_minute configured: cost and prize), ``drivers`` (customers of
    some week from drivers.csv: CPX), ``sla`` (an SLA configured and enabled)."""
    params = run_params(con)
    sla = params.get("sla")
    customers = weekly["customers"] if "customers" in weekly else pd.Series(dtype=float)
    return {
        "calls": bool(con.execute(sql.load("data_calls")).fetchone()[0]),
        "cost": params.get("cost_per_minute") is not None,
        "drivers": bool(pd.to_numeric(customers, errors="coerce").gt(0).any()),
        "sla": bool(sla) and sla.get("enabled", True) is not False,
    }


def run_info(con: duckdb.DuckDBPyConnection, weekly: pd.DataFrame) -> RunInfo:
    # Python values (fetchone), not pandas ones: sla_as_of prints as the datetime it is
    week, level, model_version, taxonomy_version, sla_as_of = con.execute(
        sql.load("report_run")
    ).fetchone()
    return RunInfo(
        report_week=str(week),
        volume_interval=float(level),
        model_version=str(model_version),
        taxonomy_version=str(taxonomy_version),
        sla_as_of=str(sla_as_of),
        windows=run_windows(con),
        sections=data_sections(con, weekly),
    )


def weeks_up_to(weeks: list[str], week: str) -> list[str]:
    return [w for w in weeks if w <= week]


def reason_details(
    con: duckdb.DuckDBPyConnection,
    taxonomy: Taxonomy,
    reason_id: str,
    week: str,
    recent: list[str],
    settings: Settings,
) -> ReasonDetails:
    """Examples of the week (masked), repeats and transfers of the ``recent`` weeks, and the
    requests still open past their deadline."""
    examples = sql.frame(
        con, "reason_examples", reason_id=reason_id, week=week, n=settings.examples_per_reason
    )
    examples["text"] = examples["text"].map(mask_personal_data)
    back = sql.frame(con, "reason_repeats", reason_id=reason_id, weeks=recent)
    back["title"] = [
        taxonomy.title(b) if b in taxonomy.by_id else b for b in back["repeat_reason_id"]
    ]
    pairs = sql.frame(
        con, "reason_transfer_pairs", reason_id=reason_id, weeks=recent, n=settings.top_pairs
    )
    open_requests = sql.frame(con, "reason_open_requests", reason_id=reason_id)
    return ReasonDetails(
        examples=examples.to_dict("records"),
        back=back.to_dict("records"),
        pairs=pairs.to_dict("records"),
        open_requests=open_requests.to_dict("records"),
    )


def lemmas_of(con: duckdb.DuckDBPyConnection, lemmas_root: Path, ids: pd.Series) -> pd.DataFrame:
    """The lemmas of ``ids`` from the lemma dataset (DuckDB reads the week parts; only these
    contacts' rows come into memory; a dataset without weeks: none)."""
    if not read_manifest(lemmas_root):
        return pd.DataFrame({"contact_id": pd.Series(dtype="string"), "lemmas": []})
    con.register("wanted_ids", pd.DataFrame({"contact_id": ids.astype("string")}))
    try:
        return con.execute(
            "SELECT l.contact_id, l.lemmas FROM read_parquet($g, hive_partitioning = false) AS l "
            "SEMI JOIN wanted_ids AS w ON w.contact_id = l.contact_id",
            {"g": glob(lemmas_root)},
        ).df()
    finally:
        con.unregister("wanted_ids")


def low_confidence_topics(
    con: duckdb.DuckDBPyConnection, lemmas_root: Path, weeks: list[str], settings: Settings
) -> list[Topic]:
    """Emerging topics among the low-confidence contacts (``low_confidence.sql``) of ``weeks``."""
    low = sql.frame(con, "low_confidence", weeks=weeks, quantile=settings.low_confidence_quantile)
    return emerging_topics(
        low,
        lemmas_of(con, lemmas_root, low["contact_id"]),
        weeks,
        recent=settings.emerging_weeks,
        min_count=settings.emerging_min_count,
        limit=settings.emerging_terms,
    )


def load(
    con: duckdb.DuckDBPyConnection,
    taxonomy: Taxonomy,
    history: pd.DataFrame,
    weekly: pd.DataFrame,
    ingest: dict,
    model: dict,
    lemmas: Path | None,
    settings: Settings,
) -> ReportData:
    """Everything the pages need, from the warehouse and the stage's frames."""
    run = run_info(con, weekly)
    handoffs = handoff_page.load(con, taxonomy, run.report_week, run_params(con))
    run.sections["handoffs"] = handoffs is not None
    weeks = sorted(w for w in weekly["iso_week"].unique() if w <= run.report_week)
    recent_weeks = run.windows["recent_weeks"]
    overview_weeks = {run.report_week, *history["report_week"].unique()}
    drops = {
        week: sql.frame(con, "drops_by_queue_hour", weeks=weeks_up_to(weeks, week)[-recent_weeks:])
        for week in sorted(overview_weeks)
    }
    loop = history[history["report_week"] == run.report_week]
    details = {
        reason_id: reason_details(
            con, taxonomy, reason_id, run.report_week, weeks[-recent_weeks:], settings
        )
        for reason_id in loop["reason_id"]
    }
    return ReportData(
        taxonomy=taxonomy,
        history=history,
        weekly=weekly,
        estimated=sql.frame(con, "weekly_estimated"),
        ingest=ingest,
        model=model,
        run=run,
        weeks=weeks,
        drops=drops,
        quarantine=records(sql.frame(con, "quarantine_reasons")),
        conventions=records(sql.frame(con, "data_conventions"))[0],
        details=details,
        emerging=(
            low_confidence_topics(con, lemmas, weeks, settings) if lemmas is not None else None
        ),
        handoffs=handoffs,
    )


def headline(data: ReportData, week: str) -> Headline:
    """The week's totals: contacts and their change, «не определено», SLA, repeats, CPX, cost."""
    loop, weekly = data.loop(week), data.weekly
    this_week = weekly[weekly["iso_week"] == week]
    contacts = int(this_week["contacts"].sum())
    index = data.weeks.index(week) if week in data.weeks else -1
    prev = data.weeks[index - 1] if index > 0 else None
    prev_contacts = int(weekly.loc[weekly["iso_week"] == prev, "contacts"].sum()) if prev else 0
    with_text = this_week[this_week["reason_id"].notna()]
    unknown = with_text.loc[with_text["reason_id"] == data.taxonomy.undefined_reason, "contacts"]
    # customers from drivers.csv; NaN when the week has none (drivers.csv is optional)
    customers = pd.to_numeric(this_week["customers"], errors="coerce").astype(float).max()
    due, met = loop["sla_due"].sum(), loop["sla_met"].sum()
    base, repeats = loop["repeat_base"].sum(), loop["repeats"].sum()
    return Headline(
        contacts=contacts,
        change=contacts / prev_contacts - 1 if prev_contacts else None,
        undefined_share=unknown.sum() / with_text["contacts"].sum() if len(with_text) else None,
        no_text=int(this_week.loc[this_week["reason_id"].isna(), "contacts"].sum()),
        sla=met / due if due else None,
        sla_due=int(due),
        repeat_rate=repeats / base if base else None,
        cpx=1000 * contacts / customers if pd.notna(customers) and customers > 0 else None,
        cost=loop["cost"].sum(),
        prize=loop["prize_year"].sum(),
        spikes=int(loop["is_spike"].sum()),
        unexplained=int(loop["needs_explanation"].sum()),
    )
