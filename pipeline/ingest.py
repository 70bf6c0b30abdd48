"""Stage ``ingest``: read every raw export, keep every row either as a contact or in quarantine.

Reads ``calls/`` and ``complaints/`` under the raw folder (CSV with any of the configured
delimiters and encodings, Excel ``.xlsx``, JSON lines) and an optional ``drivers.csv`` with the
number of customers per week, and optional hand-off (CRM event) exports under ``handoffs/``
(transfers, promised call-backs: each event tied to its contact, written to ``--handoffs``;
their rows count in the ``handoffs`` block of the metrics, not in the contacts'). Source column
names are mapped through ``params.yaml``; dates in
either ``2026-11-02 14:05`` or ``02.11.2026 14:05`` form are read in the local time zone and stored
in UTC. Contacts are de-duplicated by id, so an export dropped twice counts once.

Invariant written to the metrics, per file: ``rows_read == accepted + quarantined + duplicates``.
A file with more bad rows than ``max_bad_row_share`` stops the run before anything is written;
its rejected rows go to ``<quarantine>.failed.parquet`` (not a DVC output) for the analyst.
The work is in ``pipeline/io/`` (sources, convert, drivers, exports, handoffs).
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import duckdb

from pipeline.config import IngestConfig, load_params
from pipeline.io.assemble import save, write_weeks
from pipeline.io.exports import IngestResult, Previous, check_bad_share, ingest
from pipeline.io.filecache import prune
from pipeline.io.handoffs import add_handoffs
from pipeline.io.outputs import OutputSet, json_text, parquet, write
from pipeline.io.partitions import glob, manifest_extra, read_manifest
from pipeline.io.sources import IngestError

logger = logging.getLogger(__name__)


def rejected_quarantine_path(quarantine_path: Path) -> Path:
    """Where a stopped run leaves its quarantine: beside the real one, not a DVC output
    (``data/interim/quarantine.parquet`` -> ``data/interim/quarantine.failed.parquet``)."""
    return quarantine_path.with_name(f"{quarantine_path.stem}.failed{quarantine_path.suffix}")


def previous_run(contacts_root: Path, partition_rows: int) -> Previous:
    """The last run's contacts manifest (nothing when the dataset is new, of an older layout or
    cut into parts of another size: every week is computed)."""
    parts = read_manifest(contacts_root)
    extra = manifest_extra(contacts_root)
    if not parts or not isinstance(extra.get("files"), dict):
        return Previous()
    if extra.get("partition_rows") != partition_rows:
        logger.info("ingest: ingest.partition_rows изменился — все недели режутся на части заново")
        return Previous()
    return Previous(parts, extra["files"], extra.get("weeks", {}))


def count_customers(contacts_root: Path) -> int:
    """Distinct customers over every week stored (DuckDB reads one column of every part)."""
    con = duckdb.connect()
    try:
        query = (
            "SELECT count(DISTINCT customer_id) FROM read_parquet($g, hive_partitioning = false)"
        )
        return int(con.execute(query, {"g": glob(contacts_root)}).fetchone()[0])
    finally:
        con.close()


def main(
    raw_dir: Path,
    contacts_root: Path,
    quarantine_path: Path,
    drivers_out: Path,
    metrics_path: Path,
    config: IngestConfig,
    params_path: Path | None = None,
    cache_dir: Path | None = None,
    handoffs_out: Path | None = None,
) -> IngestResult:
    """Read (new or changed exports only), check, then write: the weeks whose exports changed
    as parts of ``contacts_root``, the quarantine, drivers and metrics together; the contacts
    manifest last; the hand-off events to ``handoffs_out`` (an empty table without an export).
    A run stopped by the bad-row share writes none of them, only the rejected rows beside the
    quarantine for the analyst."""
    cache_dir = cache_dir or contacts_root.parent / "ingest_cache"
    previous = previous_run(contacts_root, config.partition_rows)
    result = ingest(raw_dir, config, raw_dir / "drivers.csv", cache_dir, previous)
    handoffs = add_handoffs(result, raw_dir, config, contacts_root, previous.parts)
    rejected = rejected_quarantine_path(quarantine_path)
    try:
        check_bad_share(result.metrics, config.max_bad_row_share, rejected, params_path)
    except IngestError:
        write(rejected, parquet(result.quarantine))
        raise
    parts, written = write_weeks(
        contacts_root, result.contacts, result.weeks, previous.parts, config.partition_rows
    )
    result.metrics["customers"] = count_customers(contacts_root) if parts else 0
    with OutputSet() as outputs:
        outputs.write(quarantine_path, parquet(result.quarantine))
        outputs.write(drivers_out, parquet(result.drivers))
        outputs.write(metrics_path, json_text(result.metrics, sort_keys=True))
        if handoffs_out is not None:
            outputs.write(handoffs_out, parquet(handoffs))
    save(contacts_root, parts, result.files, result.stats, config.partition_rows)
    prune(cache_dir, {entry.key for entry in result.files})
    rejected.unlink(missing_ok=True)  # the quarantine of an earlier stopped run is stale now
    recomputed = sorted(result.weeks) if result.weeks is not None else "все"
    logger.info(
        "ingest: %d rows read, %d contacts, %d quarantined, %d duplicates; недели пересчитаны: "
        "%s; частей записано %d из %d",
        result.metrics["rows_read"],
        result.metrics["accepted"],
        result.metrics["quarantined"],
        result.metrics["duplicates"],
        recomputed,
        written,
        len(parts),
    )
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
        args.cache,
        args.handoffs,
    )
