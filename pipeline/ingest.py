"""Stage ``ingest``: read every raw export, keep every row either as a contact or in quarantine.

Reads ``calls/`` and ``complaints/`` under the raw folder (CSV with any of the configured
delimiters and encodings, Excel ``.xlsx``, JSON lines) and an optional ``drivers.csv`` with the
number of customers per week. Source column names are mapped through ``params.yaml``; dates in
either ``2026-11-02 14:05`` or ``02.11.2026 14:05`` form are read in the local time zone and stored
in UTC. Contacts are de-duplicated by id, so an export dropped twice counts once.

Invariant written to the metrics, per file: ``rows_read == accepted + quarantined + duplicates``.
The work is in ``pipeline/io/`` (sources, convert, drivers, exports).
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

import pandas as pd

from pipeline.config import IngestConfig, load_params
from pipeline.io.exports import IngestResult, check_bad_share, ingest

logger = logging.getLogger(__name__)


def write_parquet(frame: pd.DataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_parquet(path, index=False)


def write_json(data: dict, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )


def main(
    raw_dir: Path,
    contacts_path: Path,
    quarantine_path: Path,
    drivers_out: Path,
    metrics_path: Path,
    config: IngestConfig,
) -> IngestResult:
    result = ingest(raw_dir, config, drivers_path=raw_dir / "drivers.csv")
    write_parquet(result.contacts, contacts_path)
    write_parquet(result.quarantine, quarantine_path)
    write_parquet(result.drivers, drivers_out)
    write_json(result.metrics, metrics_path)
    logger.info(
        "ingest: %d rows read, %d contacts, %d quarantined, %d duplicates",
        result.metrics["rows_read"],
        result.metrics["accepted"],
        result.metrics["quarantined"],
        result.metrics["duplicates"],
    )
    check_bad_share(result.metrics, config.max_bad_row_share)
    return result


def cli(args: argparse.Namespace) -> None:
    params = load_params(args.params)
    main(args.raw, args.contacts, args.quarantine, args.drivers, args.metrics, params.ingest)
