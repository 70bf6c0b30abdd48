"""Every raw export of a run: read, convert, de-duplicate, and reconcile per file
(``rows_read == accepted + quarantined + duplicates``), with the ingest metrics.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.config import IngestConfig
from pipeline.io.convert import (
    CONTACT_COLUMNS,
    QUARANTINE_COLUMNS,
    add_calendar,
    convert,
)
from pipeline.io.drivers import empty_drivers, read_drivers
from pipeline.io.sources import (
    IngestError,
    _file_label,
    list_sources,
    read_source,
)
from pipeline.text.mask import mask_column

logger = logging.getLogger(__name__)


# --- the stage ---------------------------------------------------------------------------------


@dataclass
class IngestResult:
    contacts: pd.DataFrame
    quarantine: pd.DataFrame
    drivers: pd.DataFrame
    metrics: dict


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


def conflicting_copies(contacts: pd.DataFrame) -> pd.Series:
    """Per source file: copies of an already-read contact id whose content differs from the
    first copy (the resolution aside) — a corrected or clashing re-export, counted and logged,
    never silently folded into the duplicates."""
    copies = contacts[contacts["contact_id"].duplicated(keep=False)]
    if copies.empty:
        return pd.Series(dtype="int64")
    content = copies[list(CONTENT_COLUMNS)].astype("string").fillna("\u0000")
    signature = content.agg("\u001f".join, axis=1)
    first_signature = signature.groupby(copies["contact_id"]).transform("first")
    conflicted = signature != first_signature  # the first copy always equals itself
    return copies.loc[conflicted, "source_file"].value_counts()


def deduplicate(contacts: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series]:
    """One row per contact id. A resolved copy wins over an open one, otherwise the first seen.

    Returns the unique contacts and the duplicate count per source file.
    """
    order = contacts.assign(
        _unresolved=contacts["resolved_at"].isna(), _pos=np.arange(len(contacts))
    ).sort_values(["contact_id", "_unresolved", "_pos"], kind="stable")
    duplicated = order["contact_id"].duplicated(keep="first")
    per_file = order.loc[duplicated, "source_file"].value_counts()
    unique = order.loc[~duplicated].sort_values("_pos").drop(columns=["_unresolved", "_pos"])
    return unique.reset_index(drop=True), per_file


def read_exports(
    sources: list[tuple[Path, str]], raw_dir: Path, config: IngestConfig
) -> tuple[list[pd.DataFrame], list[pd.DataFrame], dict]:
    """Each export's accepted rows, its rejected rows (quarantine), and what was read."""
    accepted_parts, rejected_parts, files = [], [], {}
    for path, kind in sources:
        label = _file_label(path, raw_dir)
        table = read_source(path, kind, config)
        good, bad = convert(table.frame, kind, config)
        structural = pd.DataFrame(
            table.bad_rows, columns=["source_row", "raw", "reason_code", "reason"]
        ).assign(kind=kind)
        rejected = pd.concat([bad, structural], ignore_index=True).sort_values("source_row")
        rejected.insert(0, "source_file", label)
        accepted_parts.append(good.assign(source_file=label))
        rejected_parts.append(rejected)
        files[label] = {
            "kind": kind,
            "encoding": table.encoding,
            "delimiter": table.delimiter,
            "rows_read": table.rows_read,
            "quarantined": len(rejected),
        }
        logger.info("%s: %d rows, %d rejected", label, table.rows_read, len(rejected))
        if table.stray_quotes:
            # read with the quote as text: counted and logged, so the export can be fixed
            files[label]["stray_quotes"] = table.stray_quotes
            logger.warning(
                "%s: незакрытая кавычка в строках %s; строки прочитаны с кавычкой как текстом",
                label,
                ", ".join(map(str, table.stray_quotes)),
            )
        if table.rows_read == 0:
            # a header and nothing else: visible in the metrics and the log, not silent
            files[label]["empty"] = True
            logger.warning("%s: в файле только заголовок, строк нет", label)
    return accepted_parts, rejected_parts, files


def contacts_table(
    parts: list[pd.DataFrame], timezone: str
) -> tuple[pd.DataFrame, pd.Series, pd.Series]:
    """All accepted rows as contacts (ids prefixed by kind), de-duplicated, with the local
    calendar, in time order; the duplicates dropped per file, and among them the copies whose
    content differed (conflicts)."""
    contacts = pd.concat(parts, ignore_index=True)
    contacts["contact_id"] = (contacts["kind"] + ":" + contacts["source_id"]).astype("string")
    conflicts = conflicting_copies(contacts)
    if conflicts.sum():
        logger.warning(
            "разные данные под одним id контакта: %s; оставлена первая прочитанная копия "
            "(решённая копия заменяет открытую)",
            conflicts.to_dict(),
        )
    contacts, duplicates = deduplicate(contacts)
    contacts = add_calendar(contacts, timezone)
    contacts = (
        contacts.loc[:, list(CONTACT_COLUMNS)]
        .sort_values(["created_at", "contact_id"], kind="stable")
        .reset_index(drop=True)
    )
    return contacts, duplicates, conflicts


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


def reconcile(
    files: dict, contacts: pd.DataFrame, duplicates: pd.Series, conflicts: pd.Series
) -> None:
    """Per file: accepted and duplicate counts (``conflicts``: the duplicates whose content
    differed from the copy kept), and whether every row read is accounted for."""
    accepted_per_file = contacts["source_file"].value_counts()
    for label, info in files.items():
        if info["kind"] == "drivers":
            info["accepted"] = info["rows_read"] - info["quarantined"] - info["duplicates"]
        else:
            info["accepted"] = int(accepted_per_file.get(label, 0))
            info["duplicates"] = int(duplicates.get(label, 0))
            info["conflicts"] = int(conflicts.get(label, 0))
        info["reconciles"] = (
            info["rows_read"] == info["accepted"] + info["quarantined"] + info["duplicates"]
        )


def ingest(raw_dir: Path, config: IngestConfig, drivers_path: Path | None = None) -> IngestResult:
    """Read, validate, type and de-duplicate every raw export under ``raw_dir``."""
    sources = list_sources(raw_dir)
    if not sources:
        raise IngestError(
            f"{raw_dir}: нет файлов выгрузок; положите звонки в {raw_dir / 'calls'} и обращения "
            f"в {raw_dir / 'complaints'}"
        )
    accepted_parts, rejected_parts, files = read_exports(sources, raw_dir, config)
    drivers = empty_drivers()
    if drivers_path is not None and drivers_path.exists():
        label = _file_label(drivers_path, raw_dir)
        drivers, bad, files[label] = read_drivers(drivers_path, config)
        bad.insert(0, "source_file", label)
        rejected_parts.append(bad)
    contacts, duplicates, conflicts = contacts_table(accepted_parts, config.timezone)
    quarantine = quarantine_table(rejected_parts)
    # nothing downstream of the raw exports holds personal data (conflicts compared above)
    contacts["text"] = mask_column(contacts["text"])
    quarantine["raw"] = mask_column(quarantine["raw"])
    reconcile(files, contacts, duplicates, conflicts)
    metrics = build_metrics(files, contacts, quarantine, drivers)
    return IngestResult(contacts, quarantine, drivers.reset_index(drop=True), metrics)


def build_metrics(files: dict, contacts, quarantine, drivers) -> dict:
    totals = {
        key: int(sum(info[key] for info in files.values() if info["kind"] != "drivers"))
        for key in ("rows_read", "accepted", "quarantined", "duplicates", "conflicts")
    }
    return {
        **totals,
        "reconciles": all(info["reconciles"] for info in files.values()),
        "contacts": int(len(contacts)),
        "calls": int((contacts["kind"] == "call").sum()),
        "complaints": int((contacts["kind"] == "complaint").sum()),
        "customers": int(contacts["customer_id"].nunique()),
        "weeks": int(contacts["iso_week"].nunique()),
        "first_week": str(contacts["iso_week"].min()) if len(contacts) else None,
        "last_week": str(contacts["iso_week"].max()) if len(contacts) else None,
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
