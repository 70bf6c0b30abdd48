"""Labelling, the way back: labelled rows checked and written into ``taxonomy/labels/``.

``import_labels`` reads ``to_label.csv``, a Label Studio export or any labelled sheet (see
``labelfiles``), validates reason ids (titles are accepted, retired ids go to their successor),
skips duplicates of existing labels, refuses conflicting ones, and writes
``text,reason_id,source`` into the label folder.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from pipeline.errors import RowProblem, summarise_rows
from pipeline.io.cells import unguard_formula
from pipeline.io.tables import (
    EXCEL_SUFFIXES,
    JSON_LINES_SUFFIXES,
    MALFORMED_CAUSES,
    TableError,
    read_table,
    row_problems,
)
from pipeline.taxonomy import labelfiles
from pipeline.taxonomy.hints import UNKNOWN_LABEL, unknown_labels_cause
from pipeline.taxonomy.labels import (
    LABEL_COLUMNS,
    SOURCES,
    LabelError,
    labels_table,
    read_label_file,
    read_label_folder,
    text_key,
    write_label_file,
)
from pipeline.taxonomy.labelstudio import read_label_studio
from pipeline.taxonomy.schema import MaintenanceError, Taxonomy, load_taxonomy

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ImportResult:
    new: pd.DataFrame  # text, reason_id, source: rows to write
    duplicates: int
    remapped: int
    unlabelled: int
    none_fits: pd.DataFrame  # labelled "no reason fits": candidates for a new reason
    conflicts: tuple[str, ...]


def read_labelled(
    path: Path, text_column: str | None = None, label_column: str | None = None
) -> pd.DataFrame:
    """Labelled rows as text, reason_id, source, where.

    Without column names: our CSV (``text,reason_id[,source]``) or a Label Studio JSON export.
    With ``text_column`` / ``label_column``: any file ``pipeline evaluate`` reads (CSV with any
    delimiter and encoding, XLSX, JSON lines, JSON lists, or a folder of them), so the file an
    organisation labelled by hand imports as it is; its labels may be reason ids or titles.
    """
    path = Path(path)
    foreign = EXCEL_SUFFIXES + JSON_LINES_SUFFIXES  # formats ours never are
    try:
        if text_column or label_column or path.is_dir() or path.suffix.lower() in foreign:
            return _read_foreign(path, text_column, label_column)
        if path.suffix.lower() == ".json":
            return read_label_studio(path)
        return _read_ours(path)
    except (TableError, LabelError) as exc:
        raise MaintenanceError(str(exc)) from exc


def _read_ours(path: Path) -> pd.DataFrame:
    table = read_table(path)
    _warn_malformed(row_problems(table, path.name))
    frame = table.frame(path.name)
    if {"text", "reason_id"} - set(frame.columns):
        # not our to_label.csv: a sheet labelled by hand, columns recognised by their names
        # («текст», «причина», «категория» ...) or a clear message listing what was looked for
        return _read_foreign(path, None, None)
    if "source" not in frame:
        frame["source"] = ""
    return pd.DataFrame(
        {
            "text": frame["text"].map(unguard_formula, na_action="ignore").str.strip(),
            "reason_id": frame["reason_id"].str.strip(),
            "source": frame["source"].str.strip(),
            "where": frame["where"],
        }
    )


def _read_foreign(path: Path, text_column: str | None, label_column: str | None) -> pd.DataFrame:
    rows, read = labelfiles.read_labelled(path, text_column, label_column)
    _warn_malformed([RowProblem(*note.split(": ", 1)) for note in read["malformed_rows"]])
    return pd.DataFrame(
        {
            "text": rows["text"].map(unguard_formula, na_action="ignore").str.strip(),
            "reason_id": rows["label"].str.strip(),
            "source": "",
            "where": rows["where"],
        }
    )


def _warn_malformed(problems: list[RowProblem]) -> None:
    if problems:
        logger.warning(
            "import-labels: rows not read:%s", summarise_rows(problems, MALFORMED_CAUSES)
        )


def check_import(
    rows: pd.DataFrame, existing: pd.DataFrame, taxonomy: Taxonomy, source: str | None = None
) -> ImportResult:
    """Validate ids, map retired ones, split rows into new, duplicates and conflicts.

    ``rows``: text, reason_id, source, where. ``existing``: the current labels (text,
    reason_id, file, line). Raises MaintenanceError listing every unknown id or empty text.
    """
    checked = _checked_rows(rows, taxonomy, source)
    new, conflicts, duplicates = _against_existing(checked.kept, existing, taxonomy)
    return ImportResult(
        new=pd.DataFrame(new, columns=["text", "reason_id", "source"]).reset_index(drop=True)
        if new
        else pd.DataFrame(columns=list(LABEL_COLUMNS)),
        duplicates=duplicates,
        remapped=checked.remapped,
        unlabelled=checked.unlabelled,
        none_fits=pd.DataFrame(checked.none_fits, columns=["text", "where"]),
        conflicts=tuple(conflicts),
    )


@dataclass
class _Checked:
    kept: list[dict]
    none_fits: list[dict]
    unlabelled: int = 0
    remapped: int = 0


def _checked_rows(rows: pd.DataFrame, taxonomy: Taxonomy, source: str | None) -> _Checked:
    """Rows with a known reason (successor of a retired one), or every problem at once."""
    reason_of = labelfiles.label_to_reason(taxonomy)
    out, problems = _Checked([], []), []
    for row in rows.itertuples(index=False):
        reason = reason_of(row.reason_id)
        row_source = row.source or (source or "")
        problem = _row_problem(row, reason, row_source, taxonomy)
        if problem:
            problems.append(RowProblem(row.where, *problem))
        elif not reason:
            out.unlabelled += 1
        elif taxonomy.by_id[reason].reserved:
            out.none_fits.append({"text": row.text, "where": row.where})
        else:
            active = taxonomy.successor(reason)
            out.remapped += active != reason
            out.kept.append(
                {"text": row.text, "reason_id": active, "source": row_source, "where": row.where}
            )
    if problems:
        unknown = [p.value for p in problems if p.what == UNKNOWN_LABEL]
        causes = {
            UNKNOWN_LABEL: unknown_labels_cause(unknown, taxonomy),
            _DISAGREE: "в выгрузке Label Studio несколько аннотаций одной задачи",
            _SOURCE: "ожидается одно из " + ", ".join(SOURCES),
        }
        raise MaintenanceError("импорт разметки отклонён:" + summarise_rows(problems, causes))
    return out


_DISAGREE = "разметчики разошлись, оставьте одну разметку"
_SOURCE = "неизвестный source"


def _row_problem(row, reason: str, row_source: str, taxonomy: Taxonomy) -> tuple | None:
    """Why a labelled row cannot be imported (kind, value found), in the order the checks were
    always made."""
    if not reason:
        return None  # unlabelled: counted, not a problem
    if "|" in reason:
        return _DISAGREE, reason.replace("|", ", ")
    if not row.text:
        return ("пустой текст",)
    if reason not in taxonomy.by_id:
        return UNKNOWN_LABEL, reason
    if taxonomy.by_id[reason].reserved:
        return None  # "no reason fits": a candidate for a new reason
    if row_source and row_source not in SOURCES:
        return _SOURCE, row_source
    return None


def _against_existing(
    kept: list[dict], existing: pd.DataFrame, taxonomy: Taxonomy
) -> tuple[list[dict], list[str], int]:
    """New rows, conflicts with labels already there (or earlier in the file), duplicates."""
    known: dict[str, tuple[str, str]] = {}
    for row in existing.itertuples(index=False):
        known.setdefault(
            text_key(row.text), (taxonomy.successor(row.reason_id), f"{row.file}:{row.line}")
        )
    new, conflicts, duplicates = [], [], 0
    for row in kept:
        key = text_key(row["text"])
        if key in known:
            reason, where = known[key]
            if reason == row["reason_id"]:
                duplicates += 1
            else:
                conflicts.append(
                    f"«{row['text'][:80]}»: {where} → {reason}, "
                    f"{row['where']} → {row['reason_id']}"
                )
            continue
        known[key] = (row["reason_id"], row["where"])
        new.append(row)
    return new, conflicts, duplicates


def import_labels(
    path: Path,
    out: Path,
    taxonomy_path: Path,
    labels_dir: Path,
    source: str | None = None,
    allow_conflicts: bool = False,
    text_column: str | None = None,
    label_column: str | None = None,
) -> ImportResult:
    taxonomy = load_taxonomy(taxonomy_path)
    if source and source not in SOURCES:
        raise MaintenanceError(f"--source {source!r}: ожидается одно из {', '.join(SOURCES)}")
    files, key = _label_files_with(Path(labels_dir), Path(out))
    rows = read_labelled(path, text_column, label_column)
    result = check_import(rows, labels_table(files), taxonomy, source)
    _print_result(path, result)
    if result.conflicts and not allow_conflicts:
        raise MaintenanceError(
            f"{len(result.conflicts)} противоречий: ничего не записано. Исправьте reason_id "
            "в файле (или существующую метку) либо запустите с --allow-conflicts, чтобы "
            "записать остальные"
        )
    if len(result.new):
        current = files.get(key, pd.DataFrame(columns=list(LABEL_COLUMNS)))
        combined = pd.concat([current, result.new[list(LABEL_COLUMNS)]], ignore_index=True)
        write_label_file(Path(out), combined.fillna(""))
        print(f"  записано в {out}: {len(result.new)} (всего в файле {len(combined)})")
    return result


def _label_files_with(labels_dir: Path, out: Path) -> tuple[dict[str, pd.DataFrame], str]:
    """The label folder's files, plus ``out`` if it exists elsewhere; and ``out``'s key."""
    files = read_label_folder(labels_dir) if labels_dir.exists() else {}
    inside = out.parent.resolve() == labels_dir.resolve()
    key = out.name if inside else str(out)
    if out.exists() and key not in files:
        files[key] = read_label_file(out)
    if not inside:
        logger.warning(
            "import-labels: %s is outside %s, training will not read it", out, labels_dir
        )
    return files, key


def _print_result(path: Path, result: ImportResult) -> None:
    print(
        f"{path}: новых меток {len(result.new)}, дубликатов существующих пропущено "
        f"{result.duplicates}, без разметки {result.unlabelled}, выведенных id заменено "
        f"преемником {result.remapped}"
    )
    if len(result.none_fits):
        print(
            f"  «не подходит ни одна причина»: {len(result.none_fits)} — кандидаты в новую "
            "причину (не записаны):"
        )
        for row in result.none_fits.head(10).itertuples():
            print(f"    {row.where}: {row.text[:100]}")
    if result.conflicts:
        print(f"  противоречат существующей разметке: {len(result.conflicts)} (не записаны)")
        for line in result.conflicts[:30]:
            print(f"    {line}")
