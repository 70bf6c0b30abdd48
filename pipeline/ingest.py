"""Stage ``ingest``: read every raw export, keep every row either as a contact or in quarantine.

Reads ``calls/`` and ``complaints/`` under the raw folder (CSV with any of the configured
delimiters and encodings, Excel ``.xlsx``, JSON lines) and an optional ``drivers.csv`` with the
number of customers per week. Source column names are mapped through ``params.yaml``; dates in
either ``2026-11-02 14:05`` or ``02.11.2026 14:05`` form are read in the local time zone and stored
in UTC. Contacts are de-duplicated by id, so an export dropped twice counts once.

Invariant written to the metrics, per file: ``rows_read == accepted + quarantined + duplicates``.
A file with more bad rows than ``max_bad_row_share`` stops the run before anything is written;
its rejected rows go to ``<quarantine>.failed.parquet`` (not a DVC output) for the analyst.
The work is in ``pipeline/io/`` (sources, convert, drivers, exports).
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from pipeline.config import IngestConfig, load_params
from pipeline.io.exports import IngestResult, check_bad_share, ingest
from pipeline.io.outputs import OutputSet, json_text, parquet, write
from pipeline.io.sources import IngestError

logger = logging.getLogger(__name__)


def rejected_quarantine_path(quarantine_path: Path) -> Path:
    """Where a stopped run leaves its quarantine: beside the real one, not a DVC output
    (``data/interim/quarantine.parquet`` -> ``data/interim/quarantine.failed.parquet``)."""
    return quarantine_path.with_name(f"{quarantine_path.stem}.failed{quarantine_path.suffix}")


def main(
    raw_dir: Path,
    contacts_path: Path,
    quarantine_path: Path,
    drivers_out: Path,
    metrics_path: Path,
    config: IngestConfig,
    params_path: Path | None = None,
) -> IngestResult:
    """Read, check, then write all four outputs together; a run stopped by the bad-row share
    writes none of them, only the rejected rows beside the quarantine for the analyst."""
    result = ingest(raw_dir, config, drivers_path=raw_dir / "drivers.csv")
    logger.info(
        "ingest: %d rows read, %d contacts, %d quarantined, %d duplicates",
        result.metrics["rows_read"],
        result.metrics["accepted"],
        result.metrics["quarantined"],
        result.metrics["duplicates"],
    )
    rejected = rejected_quarantine_path(quarantine_path)
    try:
        check_bad_share(result.metrics, config.max_bad_row_share, rejected, params_path)
    except IngestError:
        write(rejected, parquet(result.quarantine))
        raise
    with OutputSet() as outputs:
        outputs.write(contacts_path, parquet(result.contacts))
        outputs.write(quarantine_path, parquet(result.quarantine))
        outputs.write(drivers_out, parquet(result.drivers))
        outputs.write(metrics_path, json_text(result.metrics, sort_keys=True))
    rejected.unlink(missing_ok=True)  # the quarantine of an earlier stopped run is stale now
    return result


def cli(args: argparse.Namespace) -> None:
    params = load_params(args.params)
    main(
        args.raw,
        args.contacts,
        args.quarantine,
        args.drivers,
        args.metrics,
        params.ingest,
        args.params,
    )
