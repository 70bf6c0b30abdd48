"""Labelled files from elsewhere: find the text and the label column of any table by name.

An organisation's hand-labelled sheet (CSV in any usual delimiter and encoding, XLSX, JSON lines,
a JSON array, or a folder of them; read by ``pipeline.io.tables``) has its own column names.
Without ``--text-column`` / ``--label-column`` the obvious ones are recognised («text»,
«текст», «label», «причина», «категория» ...); a file with none of them gets a message listing
what was looked for and the columns it has. Labels may be reason ids or reason titles
(``label_to_reason``). Used by ``evaluate`` and by ``taxonomy import-labels``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from pipeline.io.tables import SUPPORTED_SUFFIXES, fold_name, read_table
from pipeline.taxonomy.labels import LabelError
from pipeline.taxonomy.schema import Taxonomy

logger = logging.getLogger(__name__)

# column names recognised without --text-column / --label-column, in order of preference (they
# compare case-insensitively, ё = е); a file with none of them needs the flag
TEXT_COLUMN_NAMES = ("text", "текст", "текст обращения", "обращение", "message", "сообщение")
LABEL_COLUMN_NAMES = ("reason_id", "label", "reason", "причина", "метка", "category", "категория")
OPTION_NAMES = {"text": "--text-column", "label": "--label-column", "key": "--key"}
ROLES_RU = {"text": "с текстом", "label": "с меткой", "key": "с ключом"}


def read_labelled(
    path: Path,
    text_column: str | None = None,
    label_column: str | None = None,
    key_column: str | None = None,
) -> tuple[pd.DataFrame, dict]:
    """Read a file or a folder into ``text, label, key, where``; also counts of what was read.

    Raises ``LabelError`` for a missing path or a missing column (the message lists the columns
    the file has), ``TableError`` for a file that is no table.
    """
    path = Path(path)
    files = _files(path)
    parts, malformed = [], []
    for file in files:
        table = read_table(file)
        frame = table.frame(file.name)
        parts.append(select_columns(frame, file, text_column, label_column, key_column))
        malformed.extend(table.problems(file.name))
    frame = pd.concat(parts, ignore_index=True)
    return frame, {
        "files": [str(f) for f in files],
        "rows_read": len(frame) + len(malformed),
        "malformed_rows": malformed,
    }


def _files(path: Path) -> list[Path]:
    if not path.exists():
        raise LabelError(f"{path}: файл или папка не найдены; укажите путь в --labels")
    if not path.is_dir():
        return [path]
    files = sorted(
        p for p in path.iterdir() if p.is_file() and p.suffix.lower() in SUPPORTED_SUFFIXES
    )
    if not files:
        raise LabelError(
            f"{path}: в папке нет файлов с разметкой ({', '.join(SUPPORTED_SUFFIXES)})"
        )
    return files


def select_columns(
    frame: pd.DataFrame,
    path: Path,
    text_column: str | None = None,
    label_column: str | None = None,
    key_column: str | None = None,
) -> pd.DataFrame:
    """``text, label, key, where`` from a source frame; names match case-insensitively, ё = е."""
    available = [c for c in frame.columns if c != "where"]
    folded = {fold_name(c): c for c in reversed(available)}
    wanted = {
        "text": (text_column,) if text_column else TEXT_COLUMN_NAMES,
        "label": (label_column,) if label_column else LABEL_COLUMN_NAMES,
    }
    if key_column:
        wanted["key"] = (key_column,)
    picked = {}
    for role, names in wanted.items():
        column = next((folded[fold_name(n)] for n in names if fold_name(n) in folded), None)
        if column is None:
            looked_for = (
                f"нет колонки '{names[0]}'"
                if len(names) == 1
                else f"не найдена колонка {ROLES_RU[role]} (искали: {', '.join(names)})"
            )
            raise LabelError(
                f"{path}: {looked_for}. Колонки файла: "
                f"{', '.join(repr(c) for c in available) or '(нет)'}. "
                f"Укажите нужную через {OPTION_NAMES[role]}"
            )
        if len(names) > 1:
            logger.info("%s: %s из колонки %r", path, ROLES_RU[role], column)
        picked[role] = column
    out = pd.DataFrame(
        {role: frame[column].fillna("").astype(str) for role, column in picked.items()}
    )
    if "key" not in out:
        out["key"] = ""
    out["where"] = frame["where"].to_numpy()
    return out[["text", "label", "key", "where"]]


def label_to_reason(taxonomy: Taxonomy) -> Callable[[str], str]:
    """Labels as reason ids: a reason's title (another tool's config, a hand-labelled sheet;
    case and ё folded) stands for its id; any other label is kept as it is."""
    titles = {fold_name(r.title): r.id for r in taxonomy.reasons}

    def reason(label: str) -> str:
        return titles.get(fold_name(label), label) if label else ""

    return reason
