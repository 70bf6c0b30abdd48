"""Every raw export of a run: read, convert, de-duplicate, and reconcile per file
(``rows_read == accepted + quarantined + duplicates``), with the ingest metrics.
"""

from __future__ import annotations

import logging
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.config import IngestConfig
from pipeline.io.assemble import affected_weeks, load_rows, week_stats
from pipeline.io.convert import CONTACT_COLUMNS, QUARANTINE_COLUMNS
from pipeline.io.drivers import empty_drivers, read_drivers
from pipeline.io.filecache import CachedFile, code_fingerprint, read_cached
from pipeline.io.sources import IngestError, _file_label, list_sources
from pipeline.text.mask import mask_column

logger = logging.getLogger(__name__)


# --- the stage ---------------------------------------------------------------------------------


@dataclass
class IngestResult:
    contacts: pd.DataFrame  # the contacts of ``weeks`` (all of them when ``weeks`` is None)
    quarantine: pd.DataFrame
    drivers: pd.DataFrame
    metrics: dict
    files: list[CachedFile] = field(default_factory=list)
    weeks: set[str] | None = None  # the weeks recomputed; None = all
    stats: dict = field(default_factory=dict)  # per week: counts by export (the manifest's)


# what a contact is; a later export may add the resolution (status, time), not change these
CONTENT_COLUMNS = (
    "kind",
    "created_at",
    "channel",
    "queue",
    "customer_id",
    "text",
    "handle_time_s",
    "wait_time_s",
    "outcome",
    "transfers",
    "route",
)


def conflicting_rows(contacts: pd.DataFrame) -> pd.DataFrame:
    """Copies of an already-read contact id whose content differs from the first copy (the
    resolution aside) — a corrected or clashing re-export, counted and logged, never silently
    folded into the duplicates. Texts compare as stored (masked)."""
    copies = contacts[contacts["contact_id"].duplicated(keep=False)]
    if copies.empty:
        return contacts.iloc[0:0]
    content = copies[list(CONTENT_COLUMNS)].astype("string").fillna("\u0000")
    signature = content.agg("\u001f".join, axis=1)
    first_signature = signature.groupby(copies["contact_id"]).transform("first")
    conflicted = signature != first_signature  # the first copy always equals itself
    return copies.loc[conflicted]


def deduplicate(contacts: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One row per contact id. A resolved copy wins over an open one, otherwise the first seen.

    Returns the unique contacts and the copies dropped.
    """
    order = contacts.assign(
        _unresolved=contacts["resolved_at"].isna(), _pos=np.arange(len(contacts))
    ).sort_values(["contact_id", "_unresolved", "_pos"], kind="stable")
    duplicated = order["contact_id"].duplicated(keep="first")
    losers = order.loc[duplicated, ["source_file", "iso_week"]]
    unique = order.loc[~duplicated].sort_values("_pos").drop(columns=["_unresolved", "_pos"])
    return unique.reset_index(drop=True), losers


def log_file(label: str, info: dict, was_read: bool = True) -> None:
    """An export's counts (when it was read) and what in it needs fixing."""
    if was_read:
        logger.info("%s: %d rows, %d rejected", label, info["rows_read"], info["quarantined"])
    if info.get("stray_quotes"):
        # read with the quote as text: counted and logged, so the export can be fixed
        logger.warning(
            "%s: незакрытая кавычка в строках %s; строки прочитаны с кавычкой как текстом",
            label,
            ", ".join(map(str, info["stray_quotes"])),
        )
    if info.get("empty"):
        # a header and nothing else: visible in the metrics and the log, not silent
        logger.warning("%s: в файле только заголовок, строк нет", label)


def read_exports(
    sources: list[tuple[Path, str]],
    raw_dir: Path,
    config: IngestConfig,
    cache_dir: Path,
    previous: dict[str, dict],
) -> tuple[list[CachedFile], dict]:
    """Each export through the cache (read only when new or changed), and what was read."""
    code = code_fingerprint()
    entries, files, fresh = [], {}, 0
    for path, kind in sources:
        label = _file_label(path, raw_dir)
        entry, was_read = read_cached(
            path, kind, label, config, cache_dir, previous.get(label), code
        )
        fresh += was_read
        entries.append(entry)
        info = {k: v for k, v in entry.info.items() if k not in ("weeks", "valid_until")}
        files[label] = info
        log_file(label, info, was_read)
    logger.info(
        "ingest: выгрузок %d, прочитано заново %d, из кэша %d",
        len(entries),
        fresh,
        len(entries) - fresh,
    )
    return entries, files


def contacts_table(rows: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Accepted rows (in reading order) as contacts, de-duplicated, in time order; the copies
    dropped, and among them the copies whose content differed (conflicts)."""
    conflicts = conflicting_rows(rows)
    if len(conflicts):
        logger.warning(
            "разные данные под одним id контакта: %s; оставлена первая прочитанная копия "
            "(решённая копия заменяет открытую)",
            conflicts["source_file"].value_counts().to_dict(),
        )
    contacts, losers = deduplicate(rows)
    contacts = (
        contacts.loc[:, list(CONTACT_COLUMNS)]
        .sort_values(["created_at", "contact_id"], kind="stable")
        .reset_index(drop=True)
    )
    return contacts, losers, conflicts


def quarantine_table(parts: list[pd.DataFrame]) -> pd.DataFrame:
    quarantine = pd.concat(parts, ignore_index=True)
    return (
        quarantine.loc[:, list(QUARANTINE_COLUMNS)]
        .astype(
            {
                "source_file": "string",
                "kind": "string",
                "raw": "string",
                "reason_code": "string",
                "reason": "string",
                "source_row": "int64",
            }
        )
        .reset_index(drop=True)
    )


def reconcile(files: dict, stats: dict[str, dict]) -> None:
    """Per file: accepted and duplicate counts summed over the weeks (``conflicts``: the
    duplicates whose content differed from the copy kept), and whether every row read is
    accounted for."""
    for label, info in files.items():
        if info["kind"] == "drivers":
            info["accepted"] = info["rows_read"] - info["quarantined"] - info["duplicates"]
        else:
            for key in ("accepted", "duplicates", "conflicts"):
                info[key] = int(sum(week[key].get(label, 0) for week in stats.values()))
        info["reconciles"] = (
            info["rows_read"] == info["accepted"] + info["quarantined"] + info["duplicates"]
        )


@dataclass
class Previous:
    """What the last run left in the contacts dataset: its parts, the exports' keys and the
    per-week counts (all empty on a first run)."""

    parts: dict = field(default_factory=dict)
    files: dict = field(default_factory=dict)
    weeks: dict = field(default_factory=dict)


def ingest(
    raw_dir: Path,
    config: IngestConfig,
    drivers_path: Path | None = None,
    cache_dir: Path | None = None,
    previous: Previous | None = None,
) -> IngestResult:
    """Read, validate, type and de-duplicate the raw exports under ``raw_dir``.

    With ``previous`` (the last run's contacts manifest) only the weeks touched by a new,
    changed or removed export are de-duplicated again: ``contacts`` holds those weeks
    (``weeks``; all weeks on a first run, ``weeks is None``). ``cache_dir`` keeps each export's
    rows between runs (a temporary folder when not given)."""
    if cache_dir is None:
        with tempfile.TemporaryDirectory() as tmp:
            return ingest(raw_dir, config, drivers_path, Path(tmp), previous)
    previous = previous or Previous()
    sources = list_sources(raw_dir)
    if not sources:
        raise IngestError(
            f"{raw_dir}: нет файлов выгрузок; положите звонки в {raw_dir / 'calls'} и обращения "
            f"в {raw_dir / 'complaints'}"
        )
    entries, files = read_exports(sources, raw_dir, config, cache_dir, previous.files)
    quarantine = [pd.read_parquet(e.rejected) for e in entries]
    drivers = empty_drivers()
    if drivers_path is not None and drivers_path.exists():
        label = _file_label(drivers_path, raw_dir)
        drivers, bad, files[label] = read_drivers(drivers_path, config)
        bad.insert(0, "source_file", label)
        bad["raw"] = mask_column(bad["raw"].astype("string"))
        quarantine.append(bad)
    old = [
        cache_dir / f"{info['key']}.accepted.parquet"
        for label, info in previous.files.items()
        if info.get("key") not in {e.key for e in entries}
    ]
    weeks = affected_weeks(entries, previous.files, old)
    contacts, losers, conflicts = contacts_table(load_rows(entries, weeks))
    stats = {
        w: v for w, v in previous.weeks.items() if weeks is not None and w not in weeks
    } | week_stats(contacts, losers, conflicts)
    reconcile(files, stats)
    quarantine = quarantine_table(quarantine)
    metrics = build_metrics(files, stats, quarantine, drivers)
    return IngestResult(
        contacts,
        quarantine,
        drivers.reset_index(drop=True),
        metrics,
        entries,
        weeks,
        stats,
    )


def build_metrics(files: dict, stats: dict[str, dict], quarantine, drivers) -> dict:
    totals = {
        key: int(sum(info[key] for info in files.values() if info["kind"] != "drivers"))
        for key in ("rows_read", "accepted", "quarantined", "duplicates", "conflicts")
    }
    weeks = sorted(w for w, v in stats.items() if sum(v["accepted"].values()))
    return {
        **totals,
        "reconciles": all(info["reconciles"] for info in files.values()),
        "contacts": totals["accepted"],
        "calls": int(sum(v["calls"] for v in stats.values())),
        "complaints": int(sum(v["complaints"] for v in stats.values())),
        "weeks": len(weeks),
        "first_week": weeks[0] if weeks else None,
        "last_week": weeks[-1] if weeks else None,
        "drivers_weeks": int(len(drivers)),
        "quarantine_reasons": {
            str(k): int(v)
            for k, v in quarantine["reason_code"].value_counts().sort_index().items()
        },
        "files": files,
    }


def check_bad_share(
    metrics: dict, limit: float, quarantine_path: Path, params_path: Path | None = None
) -> None:
    """Stop when a file has more rejected rows than the configured share; the message names
    where the rejected run's quarantine is and the parameters file that holds the limit."""
    over = []
    for label, info in metrics["files"].items():
        if info["rows_read"] and info["quarantined"] / info["rows_read"] > limit:
            over.append(
                f"{label}: в карантине {info['quarantined']} из {info['rows_read']} строк "
                f"({info['quarantined'] / info['rows_read']:.1%})"
            )
    if over:
        where = f" в {params_path}" if params_path else ""
        raise IngestError(
            "доля плохих строк выше допустимой "
            f"(ingest.max_bad_row_share = {limit:.0%}):\n  "
            + "\n  ".join(over)
            + f"\nПричины — в {quarantine_path} (колонка reason); исправьте выгрузку или "
            f"поднимите порог ingest.max_bad_row_share{where}."
        )
