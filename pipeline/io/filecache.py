"""Each raw export is read once: its accepted rows (masked, with the local calendar) and its
rejected rows are kept in ``data/interim/ingest_cache/`` under a key of the file's bytes, its
name, the ingest parameters and the reading code. A weekly run reads only the exports it has not
seen; an export dropped again unchanged costs a hash, a corrected one is read again.

A file is hashed only when its size or modification time differs from the last run's (the
previous keys travel in the contacts manifest). A file with rows rejected as dated in the future
is read again the next day: what counts as the future moves with the day of the run.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.config import IngestConfig
from pipeline.io.convert import add_calendar, convert
from pipeline.io.outputs import json_text, parquet, write
from pipeline.io.sources import read_source
from pipeline.text.mask import mask_column

CACHE_COLUMNS = ("source_row", "kind", "raw", "reason_code", "reason")


def code_fingerprint() -> str:
    """The code that turns an export into rows: the io and text packages and the config."""
    package = Path(__file__).parent.parent
    digest = hashlib.sha256()
    for path in sorted([*package.glob("io/*.py"), *package.glob("text/*"), package / "config.py"]):
        if path.is_file():
            digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()[:16]


def file_digest(path: Path, known: dict | None) -> str:
    """SHA-256 of the file, reused from ``known`` (last run's record) when the size and the
    modification time are unchanged."""
    stat = path.stat()
    if known and known.get("size") == stat.st_size and known.get("mtime_ns") == stat.st_mtime_ns:
        return known["sha256"]
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass
class CachedFile:
    """One export as cached: where its rows are and what was read."""

    label: str
    kind: str
    key: str
    info: dict  # kind, encoding, delimiter, rows_read, quarantined, weeks, [stray_quotes, empty]
    accepted: Path
    rejected: Path
    record: dict  # size, mtime_ns, sha256 (for the next run's file_digest)

    @property
    def weeks(self) -> list[str]:
        return self.info["weeks"]


# settings that do not change how a contacts export is read into rows (the hand-off settings
# only read data/raw/handoffs/, which is never cached)
NOT_READING = {
    "max_bad_row_share": True,
    "partition_rows": True,
    "handoff_types": True,
    "columns": {"handoff": True},
}


def cache_key(digest: str, label: str, config: IngestConfig, code: str) -> str:
    reading = config.model_dump(mode="json", exclude=NOT_READING)
    settings = json.dumps(reading, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(f"{digest}\n{label}\n{settings}\n{code}".encode()).hexdigest()[:24]


def read_cached(
    path: Path,
    kind: str,
    label: str,
    config: IngestConfig,
    cache_dir: Path,
    known: dict | None,
    code: str,
) -> tuple[CachedFile, bool]:
    """The export's cached rows, reading it first when it is new or changed; returns the entry
    and whether the file was read."""
    stat = path.stat()
    digest = file_digest(path, known)
    key = cache_key(digest, label, config, code)
    record = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "sha256": digest}
    entry = CachedFile(
        label,
        kind,
        key,
        {},
        cache_dir / f"{key}.accepted.parquet",
        cache_dir / f"{key}.rejected.parquet",
        record,
    )
    info_path = cache_dir / f"{key}.json"
    try:
        entry.info = json.loads(info_path.read_text(encoding="utf-8"))
        fresh = entry.info.get("valid_until") in (None, date.today().isoformat())
        if fresh and entry.accepted.is_file() and entry.rejected.is_file():
            return entry, False
    except (OSError, ValueError):
        pass
    entry.info = parse_file(path, kind, label, config, entry)
    write(info_path, json_text(entry.info, sort_keys=True, indent=None))
    return entry, True


def parse_file(path: Path, kind: str, label: str, config: IngestConfig, entry: CachedFile) -> dict:
    """Read and convert one export into its cache files; returns what was read."""
    table = read_source(path, kind, config)
    good, bad = convert(table.frame, kind, config)
    structural = pd.DataFrame(
        table.bad_rows, columns=["source_row", "raw", "reason_code", "reason"]
    ).assign(kind=kind)
    rejected = pd.concat([bad, structural], ignore_index=True).sort_values("source_row")
    rejected.insert(0, "source_file", label)
    # nothing downstream of the raw exports holds personal data
    rejected["raw"] = mask_column(rejected["raw"].astype("string"))
    accepted = good.assign(source_file=label)
    accepted["contact_id"] = (accepted["kind"] + ":" + accepted["source_id"]).astype("string")
    accepted = add_calendar(accepted, config.timezone)
    accepted["text"] = mask_column(accepted["text"])
    accepted["_pos"] = np.arange(len(accepted), dtype="int64")
    write(entry.accepted, parquet(accepted))
    write(entry.rejected, parquet(rejected.reset_index(drop=True)))
    info = {
        "kind": kind,
        "encoding": table.encoding,
        "delimiter": table.delimiter,
        "rows_read": table.rows_read,
        "quarantined": len(rejected),
        "weeks": sorted(accepted["iso_week"].dropna().unique().tolist()),
        "valid_until": date.today().isoformat()
        if (rejected["reason_code"] == "future_date").any()
        else None,
    }
    if table.stray_quotes:
        info["stray_quotes"] = table.stray_quotes
    if table.rows_read == 0:
        info["empty"] = True
    return info


def prune(cache_dir: Path, keys: set[str]) -> None:
    """Drop the cache entries of exports no longer in the raw folder (after a run succeeded)."""
    if not cache_dir.is_dir():
        return
    for path in cache_dir.iterdir():
        if path.name.split(".")[0] not in keys:
            path.unlink()
