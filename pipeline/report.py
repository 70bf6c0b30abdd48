"""Stage ``report``: a static HTML site in Russian for managers and reason owners, plus Excel.

Reads the warehouse, the closed-loop history, the weekly counts, the lemmas and the metrics;
``pipeline.reporting.data`` gathers what the pages print (the warehouse is closed before
anything is rendered), ``pipeline.reporting.pages`` renders the site (``reports/index.html``,
``reasons/``, ``owners/``, ``archive/``, ``assets/``) and ``pipeline.reporting.excel`` the
week's closed loop as a workbook. All of it is rendered in memory, then written (temporary files
renamed once all are written); only then are the earlier run's pages it no longer has removed.
Other files in the output folder (``metrics/``, ``plots/``) are never touched.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import duckdb
from pydantic import BaseModel, ConfigDict, Field

from pipeline.config import load_section
from pipeline.io import outputs
from pipeline.io.inputs import InputError, connect_read_only, read_json, read_parquet
from pipeline.io.outputs import OutputSet
from pipeline.io.partitions import check_dataset
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
    history = read_parquet(history_path, "aggregate")
    weekly = read_parquet(weekly_path, "aggregate")
    if lemmas_path:
        check_dataset(lemmas_path, "lemmatize")
    ingest = read_json(ingest_metrics, "ingest")
    model = read_json(model_metrics, "train")
    con = connect_read_only(warehouse, "aggregate")
    try:
        report = data.load(con, taxonomy, history, weekly, ingest, model, lemmas_path, config)
    except (duckdb.CatalogException, duckdb.BinderException) as exc:  # a table or column missing
        why = str(exc).splitlines()[0]
        raise InputError(
            f"{warehouse}: не то хранилище, что пишет стадия aggregate ({why}); "
            "перезапустите `dvc repro aggregate`"
        ) from exc
    finally:
        con.close()
    # every page and the workbook in memory first: a failure writes nothing
    site = pages.render_site(report)
    loop = report.loop(report.report_week).sort_values("order")
    if report.handoffs is not None:  # the reason's lost share of hand-offs, as on the page
        shares = {k: v["lost_share"] for k, v in report.handoffs.by_reason.items()}
        loop = loop.assign(handoff_lost_share=loop["reason_id"].map(shares))
    run = report.run
    workbook = excel.xlsx_bytes(
        loop, report.report_week, run.volume_interval, run.windows, run.sections
    )
    with OutputSet() as files:
        for name, content in site.items():
            files.write(out_dir / name, outputs.data(content))
        files.write(xlsx_path, outputs.data(workbook))
    pages.remove_stale(out_dir, site)
    # a DVC output even without a hand-off export (then it stays empty: no page, no link)
    (out_dir / "handoffs").mkdir(parents=True, exist_ok=True)
    written = [out_dir / name for name in site if not name.startswith("assets/")]
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
