"""Labelled examples (``taxonomy/labels/*.csv``: ``text,reason_id,source``), validated.

Unknown reason ids, empty texts and one text labelled with two reasons are errors naming the file
and line. Ids of retired reasons are mapped to their successor, so old labels keep working after a
merge or a retirement. Exact duplicates are dropped and counted.
"""

from __future__ import annotations

import csv
import logging
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from pipeline.config import ConfigError
from pipeline.taxonomy.schema import Taxonomy

logger = logging.getLogger(__name__)

LABEL_COLUMNS = ("text", "reason_id", "source")
SOURCES = ("client", "agent")


class LabelError(ConfigError):
    """A labelled-examples file breaks the expected form; the message names file and line."""


@dataclass(frozen=True)
class LabelSet:
    frame: pd.DataFrame  # text, reason_id, source, file, line
    duplicates: int
    remapped: int


def read_label_files(folder: Path) -> pd.DataFrame:
    files = sorted(p for p in Path(folder).glob("*.csv") if p.is_file())
    if not files:
        raise LabelError(f"{folder}: нет файлов *.csv с размеченными примерами")
    parts = []
    for path in files:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            missing = [c for c in LABEL_COLUMNS if c not in (reader.fieldnames or [])]
            if missing:
                raise LabelError(
                    f"{path}: нет колонок {', '.join(missing)}; ожидается заголовок "
                    f"{','.join(LABEL_COLUMNS)} (найдено: {reader.fieldnames})"
                )
            rows = [
                {
                    **{c: (row.get(c) or "").strip() for c in LABEL_COLUMNS},
                    "file": path.name,
                    "line": reader.line_num,
                }
                for row in reader
            ]
        parts.append(pd.DataFrame(rows, columns=[*LABEL_COLUMNS, "file", "line"]))
    return pd.concat(parts, ignore_index=True)


def validate_labels(frame: pd.DataFrame, taxonomy: Taxonomy) -> LabelSet:
    """Check ids against the taxonomy, map retired ids, drop exact duplicates."""
    problems = []
    known = set(taxonomy.by_id)
    for row in frame.itertuples():
        where = f"{row.file}, строка {row.line}"
        if not row.text:
            problems.append(f"{where}: пустой текст")
        if row.reason_id not in known:
            problems.append(
                f"{where}: неизвестная причина '{row.reason_id}'; ожидается id из reasons.yaml"
            )
        elif taxonomy.by_id[row.reason_id].reserved:
            problems.append(f"{where}: причина '{row.reason_id}' зарезервирована и не размечается")
        if row.source and row.source not in SOURCES:
            problems.append(
                f"{where}: source '{row.source}', ожидается одно из {', '.join(SOURCES)}"
            )
    if problems:
        raise LabelError("размеченные примеры:\n  - " + "\n  - ".join(problems[:50]))
    out = frame.copy()
    successor = out["reason_id"].map(taxonomy.successor)
    remapped = int((successor != out["reason_id"]).sum())
    out["reason_id"] = successor
    key = out["text"].str.lower().str.split().str.join(" ")
    conflicts = out.assign(key=key).groupby("key")["reason_id"].nunique()
    conflicts = conflicts[conflicts > 1]
    if len(conflicts):
        lines = []
        for k in conflicts.index[:20]:
            rows = out[key == k]
            lines.append(
                "текст «"
                + rows["text"].iloc[0][:80]
                + "» размечен по-разному: "
                + "; ".join(f"{r.file}:{r.line} → {r.reason_id}" for r in rows.itertuples())
            )
        raise LabelError("противоречивая разметка:\n  - " + "\n  - ".join(lines))
    duplicated = key.duplicated()
    out = out.loc[~duplicated].reset_index(drop=True)
    return LabelSet(out, duplicates=int(duplicated.sum()), remapped=remapped)


def load_labels(folder: Path, taxonomy: Taxonomy) -> LabelSet:
    labels = validate_labels(read_label_files(folder), taxonomy)
    if labels.duplicates:
        logger.info("labels: %d exact duplicates dropped", labels.duplicates)
    if labels.remapped:
        logger.info("labels: %d labels of retired reasons mapped to successors", labels.remapped)
    return labels
