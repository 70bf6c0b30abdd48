"""Stage ``report``: a static HTML site in Russian for managers and reason owners, plus Excel.

Reads the warehouse, the closed-loop history, the weekly counts, the lemmas and the metrics;
``pipeline.reporting.data`` gathers what the pages print (the warehouse is closed before
anything is rendered), ``pipeline.reporting.pages`` writes the site (``reports/index.html``,
``reasons/``, ``owners/``, ``archive/``, ``assets/``) and ``pipeline.reporting.excel`` the
week's closed loop as a workbook.
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

import duckdb
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from pipeline.config import load_section
from pipeline.reporting import data, excel, pages
from pipeline.taxonomy.schema import load_taxonomy

logger = logging.getLogger(__name__)


class ReportConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    examples_per_reason: int = Field(5, ge=0, le=50)
    top_pairs: int = Field(8, ge=1)
    # emerging topics: terms of low-confidence contacts rising in the recent weeks
    emerging_weeks: int = Field(4, ge=1)
    low_confidence_quantile: float = Field(0.10, gt=0, lt=1)
    emerging_min_count: int = Field(8, ge=1)
    emerging_terms: int = Field(10, ge=1)


def main(
    warehouse: Path,
    history_path: Path,
    weekly_path: Path,
    lemmas_path: Path | None,
    ingest_metrics: Path,
    model_metrics: Path,
    taxonomy_path: Path,
    out_dir: Path,
    xlsx_path: Path,
    config: ReportConfig,
) -> list[Path]:
    taxonomy = load_taxonomy(taxonomy_path)
    history = pd.read_parquet(history_path)
    weekly = pd.read_parquet(weekly_path)
    lemmas = (
        pd.read_parquet(lemmas_path, columns=["contact_id", "lemmas"]) if lemmas_path else None
    )
    ingest = json.loads(ingest_metrics.read_text("utf-8"))
    model = json.loads(model_metrics.read_text("utf-8"))
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        report = data.load(con, taxonomy, history, weekly, ingest, model, lemmas, config)
    finally:
        con.close()
    written = pages.render_site(report, out_dir)
    excel.write_xlsx(
        report.loop(report.report_week).sort_values("order"),
        xlsx_path,
        report.report_week,
        report.run.volume_interval,
        report.run.windows,
    )
    logger.info("report: %d pages in %s, Excel %s", len(written), out_dir, xlsx_path)
    return written


def cli(args: argparse.Namespace) -> None:
    config = load_section(args.params, "report", ReportConfig)
    main(
        args.warehouse,
        args.history,
        args.weekly,
        args.lemmas,
        args.ingest_metrics,
        args.model_metrics,
        args.taxonomy,
        args.out,
        args.xlsx,
        config,
    )
