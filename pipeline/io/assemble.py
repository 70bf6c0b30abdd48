"""From the cached exports to contacts stored by ISO week, recomputing only the weeks that
changed.

The weeks to recompute are those of every export that is new, changed or gone, closed under
shared contact ids: a week is recomputed with every week holding another copy of one of its
contacts, so the de-duplication (a resolved copy wins over an open one, otherwise the first
read) sees every copy of each contact it decides. The rows of those weeks are read from the
export cache (DuckDB picks the weeks; only those rows come into memory), de-duplicated, sorted
by time and written as parts; a part whose bytes are unchanged is not rewritten. Per week the
manifest keeps what each export contributed (accepted, duplicates, conflicting copies), so the
per-file reconciliation covers every week, recomputed or not.
"""

from __future__ import annotations

import logging
from collections import Counter
from pathlib import Path

import duckdb
import pandas as pd

from pipeline.io.convert import CONTACT_COLUMNS
from pipeline.io.filecache import CachedFile
from pipeline.io.partitions import (
    Part,
    clear_unlisted,
    cut,
    fingerprint,
    write_manifest,
    write_part,
)

logger = logging.getLogger(__name__)


def affected_weeks(
    files: list[CachedFile], previous: dict[str, dict], old_accepted: list[Path]
) -> set[str] | None:
    """Weeks to recompute; ``None`` = all (no earlier run to build on)."""
    if not previous:
        return None
    current = {f.label: f for f in files}
    weeks: set[str] = set()
    for label in set(current) | set(previous):
        was, now = previous.get(label), current.get(label)
        if was is None or now is None or was.get("key") != now.key:
            weeks |= set(was.get("weeks", []) if was else [])
            weeks |= set(now.weeks if now else [])
    if not weeks:
        return weeks
    return close_over_ids(weeks, [f.accepted for f in files], old_accepted)


def close_over_ids(weeks: set[str], accepted: list[Path], old_accepted: list[Path]) -> set[str]:
    """Add the weeks holding another copy of a contact of ``weeks`` until none is added
    (``old_accepted``: the replaced versions of changed exports, whose ids count too)."""
    if not accepted:
        return weeks
    con = duckdb.connect()
    try:
        con.execute("SET threads TO 2")
        files = [str(p) for p in accepted]
        con.execute(
            "CREATE TEMP TABLE ids AS SELECT contact_id, iso_week "
            "FROM read_parquet($files, union_by_name = true)",
            {"files": files},
        )
        old = [str(p) for p in old_accepted if p.is_file()]
        seed: set[str] = set()
        if old:
            seed = {
                w
                for (w,) in con.execute(
                    "SELECT DISTINCT i.iso_week FROM ids AS i SEMI JOIN "
                    "read_parquet($old, union_by_name = true) AS o USING (contact_id)",
                    {"old": old},
                ).fetchall()
            }
        weeks = weeks | seed
        while True:
            found = {
                w
                for (w,) in con.execute(
                    "SELECT DISTINCT iso_week FROM ids WHERE contact_id IN "
                    "(SELECT contact_id FROM ids WHERE list_contains($weeks, iso_week))",
                    {"weeks": sorted(weeks)},
                ).fetchall()
            }
            if found <= weeks:
                return weeks
            weeks |= found
    finally:
        con.close()


def load_rows(files: list[CachedFile], weeks: set[str] | None) -> pd.DataFrame:
    """The accepted rows of ``weeks`` (all: ``None``) from every export, in reading order."""
    parts = []
    for order, entry in enumerate(files):
        if weeks is not None and not weeks & set(entry.weeks):
            continue
        filters = None if weeks is None else [("iso_week", "in", sorted(weeks))]
        frame = pd.read_parquet(entry.accepted, filters=filters)
        parts.append(frame.assign(_file=order))
    if not parts:
        return pd.DataFrame(columns=[*CONTACT_COLUMNS, "_pos", "_file"])
    rows = pd.concat(parts, ignore_index=True)
    return rows.sort_values(["_file", "_pos"], kind="stable").reset_index(drop=True)


def week_stats(
    contacts: pd.DataFrame, losers: pd.DataFrame, conflicts: pd.DataFrame
) -> dict[str, dict]:
    """Per week: accepted, duplicates and conflicting copies by export, calls and complaints
    (a dropped copy counts in the week of the copy kept)."""
    stats: dict[str, dict] = {}
    for week, group in contacts.groupby("iso_week", sort=True):
        stats[str(week)] = {
            "accepted": _counts(group["source_file"]),
            "calls": int((group["kind"] == "call").sum()),
            "complaints": int((group["kind"] == "complaint").sum()),
            "duplicates": {},
            "conflicts": {},
        }
    for key, frame in (("duplicates", losers), ("conflicts", conflicts)):
        for week, group in frame.groupby("iso_week", sort=True):
            week_stats = stats.setdefault(
                str(week),
                {"accepted": {}, "calls": 0, "complaints": 0, "duplicates": {}, "conflicts": {}},
            )
            week_stats[key] = _counts(group["source_file"])
    return stats


def _counts(values: pd.Series) -> dict[str, int]:
    return {str(k): int(v) for k, v in sorted(Counter(values.tolist()).items())}


def text_fingerprint(frame: pd.DataFrame) -> str:
    """Fingerprint of a part's contact ids and texts, in order (pandas' fixed-key row hash)."""
    rows = pd.util.hash_pandas_object(frame[["contact_id", "text"]], index=False)
    return fingerprint(rows.to_numpy().tobytes())


def write_weeks(
    root: Path,
    contacts: pd.DataFrame,
    weeks: set[str] | None,
    manifest: dict[str, dict],
    partition_rows: int,
) -> tuple[dict[str, dict], int]:
    """Write the parts of ``weeks`` (all: ``None``) whose bytes changed; returns the new
    manifest and the number of parts written. Weeks left without contacts are removed."""
    root = Path(root)
    kept = {
        name: entry
        for name, entry in manifest.items()
        if weeks is not None and Part.parse(name).week not in weeks
    }
    parts: dict[str, dict] = dict(kept)
    written = 0
    for part, frame in cut(contacts, contacts["iso_week"], partition_rows):
        old = manifest.get(part.name)
        # what lemmatize reads: a part whose texts are unchanged (a resolution added by a later
        # export) is not lemmatised again
        entry = write_part(root, part, frame, old, text_fingerprint=text_fingerprint(frame))
        written += not old or old.get("fingerprint") != entry["fingerprint"]
        parts[part.name] = entry
    clear_unlisted(root, parts)  # the weeks left without contacts
    return parts, written


def save(
    root: Path, parts: dict[str, dict], files: list[CachedFile], stats: dict, partition_rows: int
) -> None:
    """The manifest: the parts, each export's key and record, the per-week stats and the part
    size they were cut to."""
    write_manifest(
        root,
        parts,
        partition_rows=partition_rows,
        files={f.label: {"key": f.key, "weeks": f.weeks, **f.record} for f in files},
        weeks=dict(sorted(stats.items())),
    )
