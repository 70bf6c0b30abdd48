"""Labelled examples (``taxonomy/labels/*.csv``: ``text,reason_id,source``), validated.

Unknown reason ids, empty texts and one text labelled with two reasons are errors naming the file
and line. Ids of retired reasons are mapped to their successor, so old labels keep working after a
merge or a retirement. Exact duplicates are dropped and counted.

This module is the only code that reads and writes the label folder: ``train``, the reason
edits, the labelling import, ``health`` and ``investigate`` all go through it.
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.config import ConfigError
from pipeline.errors import RowProblem, summarise_rows
from pipeline.io.tables import MALFORMED_CAUSES, row_problems, split_delimited
from pipeline.taxonomy.hints import RESERVED_LABEL, UNKNOWN_LABEL, unknown_labels_cause
from pipeline.taxonomy.schema import Taxonomy
from pipeline.taxonomy.yamlio import write_atomic

logger = logging.getLogger(__name__)

LABEL_COLUMNS = ("text", "reason_id", "source")
SOURCES = ("client", "agent")
# a file of contacts waiting for a reason (export-labeling, a split's unmatched labels): the
# maintainer fills reason_id and imports it back
TO_LABEL_COLUMNS = (
    "contact_id",
    "text",
    "suggested_reason_id",
    "suggested_title",
    "confidence",
    "runner_up_id",
    "why",
    "reason_id",
    "source",
)


class LabelError(ConfigError):
    """A labelled-examples file breaks the expected form; the message names file and line."""


@dataclass(frozen=True)
class LabelSet:
    frame: pd.DataFrame  # text, reason_id, source, file, line
    duplicates: int
    remapped: int


def text_key(text: str) -> str:
    """The key labels are compared by: case and spacing ignored."""
    return " ".join(str(text).lower().split())


# --- the label folder: read and written here only -----------------------------------------------


def read_label_file(path: Path) -> pd.DataFrame:
    """One label file as strings, columns as written; the index (``line``) is each row's line."""
    path = Path(path)
    table = split_delimited(path.read_text(encoding="utf-8-sig"), path, ",")
    header = table.header or list(LABEL_COLUMNS)
    missing = [c for c in LABEL_COLUMNS if c not in header]
    if missing:
        raise LabelError(
            f"{path}: нет колонок {', '.join(missing)}; ожидается заголовок "
            f"{','.join(LABEL_COLUMNS)} (найдено: {table.header})"
        )
    if table.malformed:
        raise LabelError(
            f"{path}: строки не читаются:"
            + summarise_rows(row_problems(table, path.name), MALFORMED_CAUSES)
        )
    index = pd.Index(table.places, name="line", dtype="int64")
    return pd.DataFrame(table.rows, columns=header, index=index, dtype=str)


def read_label_folder(folder: Path) -> dict[str, pd.DataFrame]:
    """Every ``*.csv`` of the labels folder as strings, exactly as written (file name -> rows)."""
    return {path.name: read_label_file(path) for path in sorted(Path(folder).glob("*.csv"))}


def labels_table(files: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """All label files as one table with file and line, the form ``validate_labels`` takes.

    A frame read by ``read_label_file`` keeps its rows' lines; one built otherwise (an edit's
    result) is numbered as if written out, from line 2.
    """
    parts = [
        frame.loc[:, list(LABEL_COLUMNS)]
        .apply(lambda s: s.fillna("").str.strip())
        .assign(file=name, line=_lines(frame))
        .reset_index(drop=True)
        for name, frame in files.items()
    ]
    if not parts:
        return pd.DataFrame(columns=[*LABEL_COLUMNS, "file", "line"])
    return pd.concat(parts, ignore_index=True)


def _lines(frame: pd.DataFrame) -> np.ndarray:
    if frame.index.name == "line":
        return frame.index.to_numpy()
    return np.arange(2, len(frame) + 2)


def read_label_files(folder: Path) -> pd.DataFrame:
    """Every label file of the folder as one table (text, reason_id, source, file, line)."""
    files = read_label_folder(folder)
    if not files:
        raise LabelError(f"{folder}: нет файлов *.csv с размеченными примерами")
    return labels_table(files)


def label_file_text(frame: pd.DataFrame) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(list(frame.columns))
    writer.writerows(frame.itertuples(index=False, name=None))
    return out.getvalue()


def write_label_file(path: Path, frame: pd.DataFrame) -> None:
    write_atomic(Path(path), label_file_text(frame))


def validate_labels(frame: pd.DataFrame, taxonomy: Taxonomy) -> LabelSet:
    """Check ids against the taxonomy, map retired ids, drop exact duplicates."""
    problems = []
    known = set(taxonomy.by_id)
    for row in frame.itertuples():
        where = f"{row.file}, строка {row.line}"
        if not row.text:
            problems.append(RowProblem(where, "пустой текст"))
        if row.reason_id not in known:
            problems.append(RowProblem(where, UNKNOWN_LABEL, row.reason_id))
        elif taxonomy.by_id[row.reason_id].reserved:
            problems.append(RowProblem(where, RESERVED_LABEL, row.reason_id))
        if row.source and row.source not in SOURCES:
            problems.append(RowProblem(where, "неизвестный source", row.source))
    if problems:
        unknown = [p.value for p in problems if p.what == UNKNOWN_LABEL]
        causes = {
            UNKNOWN_LABEL: unknown_labels_cause(unknown, taxonomy)
            + "; в taxonomy/labels ожидаются id",
            "неизвестный source": "ожидается одно из " + ", ".join(SOURCES),
        }
        raise LabelError("размеченные примеры:" + summarise_rows(problems, causes))
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
