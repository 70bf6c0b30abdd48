"""Stage ``aggregate``: classified contacts -> the numbers a reason owner is held to.

The work is in ``pipeline/closedloop/`` (tables, volumes, compliance, loop, warehouse).

Heavy lifting is SQL (``pipeline/sql/*.sql``, parameters bound by DuckDB) over the Parquet
outputs of earlier stages; the statistics that SQL does poorly (trend tests, spike probabilities,
the SLA business calendar, target projection) are Python. Everything lands in
``data/warehouse.duckdb`` with documented tables, plus three Parquet files for the reports
(the warehouse is built in a temporary file; the four replace last run's only when all are
written):

* ``weekly.parquet`` - ISO week x reason x channel: volume, share, CPX, cost, repeats, transfers;
* ``closed_loop.parquet`` - one row per reason for the report week: owner, trend, spike, target
  status, latest owner note and its effect, SLA, repeats, transfers, cost, and the volume
  corrected for the classifier's errors with its interval and the expected precision
  (``pipeline/model/quantify.py``, from train's out-of-fold confusion
  ``reports/plots/confusion.csv``);
* ``closed_loop_history.parquet`` - the same rows for the archive weeks.
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

import duckdb
import pandas as pd

from pipeline import sql
from pipeline.closedloop.compliance import sla_tables
from pipeline.closedloop.config import NO_EXPLANATION, AggregateConfig
from pipeline.closedloop.handoff_tables import handoff_tables
from pipeline.closedloop.loop import closed_loop, unconfigured
from pipeline.closedloop.owner_notes import load_owner_notes
from pipeline.closedloop.tables import build_tables, check_inputs, choose_report_week
from pipeline.closedloop.volumes import estimated_volumes, read_confusion
from pipeline.closedloop.warehouse import write_warehouse
from pipeline.config import load_section
from pipeline.io.outputs import OutputSet, parquet
from pipeline.io.weeks import week_range
from pipeline.taxonomy.schema import Taxonomy, load_taxonomy

logger = logging.getLogger(__name__)


def loop_history(
    con: duckdb.DuckDBPyConnection,
    taxonomy: Taxonomy,
    notes: pd.DataFrame,
    estimated: pd.DataFrame,
    report_week: str,
    config: AggregateConfig,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.Timestamp]:
    """The report week's SLA and closed loop, and the closed loops of the archive weeks."""
    sla, sla_by_reason, as_of = sla_tables(con, report_week, config.sla_rule)
    loop = closed_loop(con, taxonomy, notes, sla_by_reason, estimated, report_week, config)
    history = [loop]
    data_weeks = {w for (w,) in con.execute(sql.load("weekly_weeks")).fetchall()}
    for week in week_range(report_week, config.archive_weeks + 1)[:-1][::-1]:
        if week in data_weeks:
            _, by_reason, _ = sla_tables(con, week, config.sla_rule)
            history.append(closed_loop(con, taxonomy, notes, by_reason, estimated, week, config))
    history = pd.concat(history, ignore_index=True)
    if not config.sla_enabled:  # no request has a deadline
        sla = sla.iloc[0:0]
    return unconfigured(loop, config), unconfigured(history, config), sla, as_of


def run_info(
    con: duckdb.DuckDBPyConnection, report_week: str, as_of: pd.Timestamp, config: AggregateConfig
) -> dict:
    """What the run used: the report week, the SLA moment, versions and the parameters."""
    versions = con.execute(sql.load("run_versions")).fetchall()[0]
    return {
        "report_week": report_week,
        "sla_as_of": as_of.isoformat(),
        "model_version": versions[0],
        "taxonomy_version": versions[1],
        "repeat_window_days": config.repeat_window_days,
        "volume_interval": config.volume_interval,
        "volume_draws": config.volume_draws,
        "params": json.dumps(config.model_dump(mode="json"), ensure_ascii=False),
    }


def main(
    paths: dict[str, Path],
    taxonomy_path: Path,
    notes_path: Path,
    config: AggregateConfig,
    params_path: Path | None = None,
) -> pd.DataFrame:
    """Everything is computed in a temporary warehouse; the warehouse and the three Parquet
    files are renamed into place together, only when all of them are written."""
    taxonomy = load_taxonomy(taxonomy_path)
    notes = load_owner_notes(notes_path, taxonomy)
    check_inputs(paths)
    confusion = read_confusion(paths["confusion"])
    with OutputSet() as outputs:
        con = duckdb.connect(str(outputs.temp(paths["warehouse"])))
        try:
            con.execute("SET threads TO 2")
            # history is read from the week parts out of core: memory does not grow with it
            con.execute(f"SET memory_limit = '{config.memory_limit}'")  # pattern-checked
            build_tables(con, paths, taxonomy, config)
            report_week = choose_report_week(con, config, params_path)
            estimated = estimated_volumes(con, taxonomy, confusion, config)
            loop, history, sla, as_of = loop_history(
                con, taxonomy, notes, estimated, report_week, config
            )
            handoff_tables(con, paths["handoffs"], report_week, config, taxonomy)
            weekly = con.execute(sql.load("weekly_facts")).df()
            info = run_info(con, report_week, as_of, config)
            write_warehouse(con, loop, sla, notes, info, history, estimated)
        finally:
            con.close()
        outputs.write(paths["weekly"], parquet(weekly))
        outputs.write(paths["closed_loop"], parquet(loop))
        outputs.write(paths["closed_loop_history"], parquet(history))
    logger.info(
        "aggregate: report week %s, %d reasons, spikes %s, %s: %s",
        report_week,
        len(loop),
        loop.loc[loop["is_spike"], "reason_id"].tolist(),
        NO_EXPLANATION,
        loop.loc[loop["needs_explanation"], "reason_id"].tolist(),
    )
    return loop


def cli(args: argparse.Namespace) -> None:
    config = load_section(args.params, "aggregate", AggregateConfig)
    names = (
        "contacts",
        "classified",
        "drivers",
        "quarantine",
        "handoffs",
        "confusion",
        "weekly",
        "closed_loop",
        "closed_loop_history",
        "warehouse",
    )
    paths = {name: getattr(args, name) for name in names}
    main(paths, args.taxonomy, args.notes, config, args.params)
