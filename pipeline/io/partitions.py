"""Datasets stored by ISO week: hive-style Parquet folders with a manifest of fingerprints.

A dataset is a folder (``data/interim/contacts/``) of parts, one folder per ISO week of the
contact's local date and at most ``partition_rows`` rows per part::

    contacts/week=2026-W45/part-00000.parquet
    contacts/week=2026-W45/part-00001.parquet
    contacts/week=2026-W46/part-00000.parquet
    contacts/_manifest.json

``_manifest.json`` lists every part with its row count, size and fingerprint (SHA-256 of the
file's bytes) and, for a derived dataset, the ``inputs`` it was computed from: the fingerprint
of the input part and the versions of the lemmatiser, model and taxonomy. A stage compares the
inputs it would use with the manifest's and recomputes only the parts whose inputs changed
(``pipeline/engine/``); the manifest is written last, so a stage stopped half-way recomputes
what it had not recorded.

Parts are written by one writer with fixed settings (pyarrow, no index, snappy, one row group
per part), so the same rows give the same bytes on every run, with any number of workers and on
either engine. DuckDB reads a dataset with ``glob(root)``; pandas with ``read_dataset``.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from pipeline.io.inputs import InputError
from pipeline.io.outputs import write

MANIFEST = "_manifest.json"
PART_GLOB = "week=*/part-*.parquet"


@dataclass(frozen=True, order=True)
class Part:
    """One part of a dataset: its ISO week and its number within the week."""

    week: str
    index: int

    @property
    def name(self) -> str:
        """The part's path inside the dataset, the key of the manifest."""
        return f"week={self.week}/part-{self.index:05d}.parquet"

    @classmethod
    def parse(cls, name: str) -> Part:
        folder, file = name.split("/")
        return cls(folder.removeprefix("week="), int(file.removeprefix("part-").split(".")[0]))


def glob(root: Path | str) -> str:
    """The pattern DuckDB's ``read_parquet`` reads the whole dataset with."""
    return f"{Path(root)}/{PART_GLOB}"


def fingerprint(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:20]


def parquet_bytes(frame: pd.DataFrame) -> bytes:
    """``frame`` as Parquet bytes, the same bytes for the same rows (no index, fixed settings)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(frame, preserve_index=False)
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression="snappy", row_group_size=max(len(frame), 1))
    return sink.getvalue().to_pybytes()


def write_part(
    root: Path, part: Part, frame: pd.DataFrame, unchanged: dict | None = None, **entry
) -> dict:
    """Write one part (to a hidden temporary file renamed into place); returns its manifest
    entry: rows, size, fingerprint and whatever ``entry`` adds (the inputs it came from). With
    ``unchanged`` (the part's last entry) the file is not rewritten when its bytes are the same
    and it is on disk as recorded."""
    data = parquet_bytes(frame)
    written = {"rows": len(frame), "size": len(data), "fingerprint": fingerprint(data), **entry}
    same = unchanged and unchanged.get("fingerprint") == written["fingerprint"]
    if not (same and intact(root, part.name, unchanged)):
        write(Path(root) / part.name, lambda tmp: tmp.write_bytes(data))
    return written


def _manifest(root: Path) -> dict:
    """The whole manifest; absent or unreadable: empty (everything is computed again)."""
    try:
        content = json.loads((Path(root) / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return content if isinstance(content, dict) else {}


def read_manifest(root: Path) -> dict[str, dict]:
    """Part name -> entry."""
    parts = _manifest(root).get("parts")
    return parts if isinstance(parts, dict) else {}


def write_manifest(root: Path, parts: dict[str, dict], **extra) -> None:
    """The manifest, keys sorted (weeks in order), written atomically."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    content = {"parts": dict(sorted(parts.items())), **extra}
    text = json.dumps(content, ensure_ascii=False, indent=1, sort_keys=True) + "\n"
    write(root / MANIFEST, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def manifest_extra(root: Path) -> dict:
    """The manifest's other keys (a stage's own state, e.g. ingest's per-file keys)."""
    return {k: v for k, v in _manifest(root).items() if k != "parts"}


def intact(root: Path, name: str, entry: dict) -> bool:
    """Whether a recorded part is on disk as recorded (its size; the bytes are not re-read)."""
    path = Path(root) / name
    return path.is_file() and path.stat().st_size == entry.get("size")


def remove_parts(root: Path, names: Iterable[str]) -> None:
    """Delete parts (and week folders left empty)."""
    root = Path(root)
    for name in names:
        path = root / name
        path.unlink(missing_ok=True)
        if path.parent.is_dir() and not any(path.parent.iterdir()):
            path.parent.rmdir()


def clear_unlisted(root: Path, keep: Iterable[str]) -> None:
    """Remove files and week folders the manifest does not list (a dataset written by an older
    layout, a killed run's temporary files)."""
    root = Path(root)
    keep = set(keep)
    if root.is_file():
        root.unlink()
        return
    if not root.is_dir():
        return
    for folder in root.iterdir():
        if folder.name == MANIFEST:
            continue
        if not folder.is_dir() or not folder.name.startswith("week="):
            (shutil.rmtree if folder.is_dir() else os.remove)(folder)
            continue
        remove_parts(
            root,
            [
                f"{folder.name}/{f.name}"
                for f in folder.iterdir()
                if f"{folder.name}/{f.name}" not in keep
            ],
        )


def cut(frame: pd.DataFrame, weeks: pd.Series, rows: int) -> Iterator[tuple[Part, pd.DataFrame]]:
    """``frame``'s rows as parts: by week (``weeks``: each row's ISO week, in week order), at
    most ``rows`` rows a part, in the frame's order."""
    grouped = frame.reset_index(drop=True).groupby(weeks.reset_index(drop=True), sort=True)
    for week, group in grouped:
        group = group.reset_index(drop=True)
        for index, start in enumerate(range(0, len(group), rows)):
            yield Part(str(week), index), group.iloc[start : start + rows].reset_index(drop=True)


def require_dataset(root: Path, stage: str | None = None) -> dict[str, dict]:
    """The manifest of a dataset a stage reads; a missing dataset names the stage to run."""
    root = Path(root)
    made_by = f"; его пишет стадия {stage}: запустите `dvc repro {stage}`" if stage else ""
    if root.is_file():
        raise InputError(
            f"{root}: это файл, а ожидается папка с частями по неделям (week=…/part-….parquet)"
            f"{made_by}"
        )
    if not (root / MANIFEST).is_file():
        raise InputError(f"{root}: нет набора данных ({MANIFEST} не найден){made_by}")
    return read_manifest(root)


def check_dataset(root: Path, stage: str | None = None) -> dict[str, dict]:
    """The manifest of a dataset a stage reads, every part on disk as recorded (a part missing,
    cut short or replaced is named with the stage that writes it)."""
    manifest = require_dataset(root, stage)
    made_by = f"; его пишет стадия {stage}: запустите `dvc repro {stage}`" if stage else ""
    for name, entry in sorted(manifest.items()):
        if not intact(root, name, entry):
            raise InputError(
                f"{Path(root) / name}: части нет или её размер не тот, что в {MANIFEST}{made_by}"
            )
    return manifest


def read_dataset(
    root: Path,
    stage: str | None = None,
    columns: list[str] | None = None,
    weeks: Iterable[str] | None = None,
) -> pd.DataFrame:
    """The parts of a dataset (or of some ``weeks``) as one frame, in week and part order."""
    from pipeline.io.inputs import read_parquet

    manifest = require_dataset(root, stage)
    wanted = set(weeks) if weeks is not None else None
    names = [n for n in sorted(manifest) if wanted is None or Part.parse(n).week in wanted]
    frames = [read_parquet(Path(root) / n, stage, columns) for n in names]
    if not frames:  # no part: the requested columns, empty
        return pd.DataFrame({c: pd.Series(dtype="object") for c in columns or ()})
    return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]


def write_dataset(
    root: Path, frame: pd.DataFrame, weeks: pd.Series, partition_rows: int = 200_000
) -> dict[str, dict]:
    """Write a whole dataset from one frame (``weeks``: each row's ISO week), replacing what
    was there; returns the manifest. For tools and tests; stages write part by part."""
    parts = {p.name: write_part(root, p, rows) for p, rows in cut(frame, weeks, partition_rows)}
    clear_unlisted(root, parts)
    write_manifest(root, parts)
    return parts


def weeks_of(manifest: dict[str, dict]) -> list[str]:
    return sorted({Part.parse(name).week for name in manifest})
