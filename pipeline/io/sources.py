"""One export file as rows of strings under canonical field names: the column names mapped
through ``params.yaml`` aliases, rows that cannot be read set aside with the reason (the generic
reading is ``io/tables.py``). Files are found under ``calls/`` and ``complaints/``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from pipeline.config import REQUIRED_FIELDS, IngestConfig
from pipeline.errors import PipelineError
from pipeline.io import tables
from pipeline.io.decoding import ENCODING_FIX, TableError, decode, read_bytes
from pipeline.io.tables import (
    Malformed,
    cell_text,
    first_line,
    fold_name,
    is_json_array,
    json_array_records,
    json_line_records,
    read_sheet,
    split_delimited,
    supported_suffix,
)

logger = logging.getLogger(__name__)


KIND_FOLDERS = {"calls": "call", "complaints": "complaint"}
# folders of exports that are not contacts (CRM hand-off events): not read as contacts
OTHER_FOLDERS = {"handoffs"}
CSV_SUFFIXES = (".csv", ".tsv", ".txt")
JSONL_SUFFIXES = (".jsonl", ".ndjson", ".json")
EXCEL_SUFFIXES = (".xlsx", ".xlsm")
SUPPORTED_SUFFIXES = CSV_SUFFIXES + JSONL_SUFFIXES + EXCEL_SUFFIXES


class IngestError(PipelineError, RuntimeError):
    """A raw file cannot be used at all; the message names the file, the cause and the fix."""


@dataclass
class RawTable:
    """Rows of one file as strings under canonical field names, before any validation."""

    frame: pd.DataFrame
    bad_rows: list[dict] = field(default_factory=list)
    encoding: str | None = None
    delimiter: str | None = None
    rows_read: int = 0
    stray_quotes: list[int] = field(default_factory=list)  # lines read with a quote as text


# --- reading (the generic reader is pipeline/io/tables.py; here: aliases and quarantine) --------

ENCODING_FIX = ENCODING_FIX + " либо добавьте кодировку в params.yaml (ingest.encodings)"
JSON_LINE_PROBLEMS = {
    "not_json": "строка не является JSON-объектом ({detail})",
    "not_object": "ожидается JSON-объект {{...}} в каждой {where}",
}


def decode_bytes(data: bytes, encodings: Iterable[str], path: Path) -> tuple[str, str]:
    """Decode a whole file (``tables.decode``) with the stage's advice and error type."""
    try:
        return decode(data, path, encodings, ENCODING_FIX)
    except TableError as exc:
        raise IngestError(str(exc)) from exc


def column_map(header: list[str], aliases: Mapping[str, Iterable[str]]) -> dict[str, int]:
    """Canonical field -> index of the first source column whose name is one of its aliases."""
    folded = [fold_name(name).lstrip("\ufeff") for name in header]
    mapping: dict[str, int] = {}
    for field_name, names in aliases.items():
        wanted = {fold_name(name) for name in names}
        for index, name in enumerate(folded):
            if name in wanted:
                mapping[field_name] = index
                break
    return mapping


def require_columns(
    mapping: Mapping[str, int],
    header: list[str],
    kind: str,
    aliases: Mapping[str, Iterable[str]],
    path: Path,
    required: Iterable[str] | None = None,
) -> None:
    folded = [fold_name(name).lstrip("\ufeff") for name in header]
    for field_name, names in aliases.items():
        wanted = {fold_name(name) for name in names}
        same = [header[i] for i, name in enumerate(folded) if name in wanted]
        if len(same) > 1:
            # two columns for one field: which one holds the data is a guess, so ask
            raise IngestError(
                f"{path}: колонок для поля {field_name} несколько ({', '.join(map(repr, same))}); "
                "оставьте в выгрузке одну или переименуйте лишнюю"
            )
    required = REQUIRED_FIELDS[kind] if required is None else tuple(required)
    missing = [name for name in required if name not in mapping]
    if missing:
        expected = "; ".join(f"{name}: {' | '.join(aliases[name])}" for name in missing)
        raise IngestError(
            f"{path}: нет обязательных колонок ({', '.join(missing)}). "
            f"Найдены колонки: {', '.join(repr(h) for h in header)}. "
            f"Ожидается одно из имён — {expected}. "
            "Добавьте имя колонки вашей выгрузки в params.yaml (ingest.columns)."
        )


def detect_delimiter(first_line: str, delimiters: Iterable[str], aliases) -> str | None:
    """The delimiter under which the header maps the most known columns."""
    return tables.detect_delimiter(
        first_line, delimiters, known=lambda header: len(column_map(header, aliases))
    )


def read_delimited(text: str, path: Path, kind: str, config: IngestConfig) -> RawTable:
    aliases = config.columns[kind]
    line = first_line(text)
    delimiter = detect_delimiter(line, config.delimiters, aliases)
    if delimiter is None:
        raise IngestError(
            f"{path}: в первой строке не найдено ни одной известной колонки "
            f"(первая строка: {line[:200]!r}); ожидается заголовок с разделителем "
            f"{' или '.join(repr(d) for d in config.delimiters)}"
        )
    table = split_delimited(text, path, delimiter)
    mapping = column_map(table.header, aliases)
    require_columns(mapping, table.header, kind, aliases, path, config.required_fields(kind))
    records = [
        {
            **{name: fields[index] for name, index in mapping.items()},
            "source_row": place,
            "raw": raw,
        }
        for fields, place, raw in zip(table.rows, table.places, table.raws, strict=True)
    ]
    bad_rows = [_malformed_row(bad, len(table.header), delimiter) for bad in table.malformed]
    frame = pd.DataFrame.from_records(records, columns=[*aliases, "source_row", "raw"])
    return RawTable(
        frame,
        bad_rows,
        delimiter=delimiter,
        rows_read=len(records) + len(bad_rows),
        stray_quotes=table.stray_quotes,
    )


def _malformed_row(bad: Malformed, width: int, delimiter: str) -> dict:
    """A CSV line that is not a row, as a quarantined row with its reason."""
    if bad.problem == "unclosed_quote":
        return _bad_row(
            bad.place,
            bad.raw,
            "unclosed_quote",
            f"незакрытая кавычка в строке {bad.place}: с кавычкой как текстом полей "
            f"{bad.detail} вместо {width} (разделитель {delimiter!r}); следующие строки "
            "прочитаны отдельно — закройте или уберите кавычку в выгрузке",
        )
    return _bad_row(
        bad.place,
        bad.raw,
        "bad_field_count",
        f"строка повреждена: число полей {bad.detail} вместо {width} (разделитель {delimiter!r})",
    )


def read_json_lines(text: str, path: Path, kind: str, config: IngestConfig) -> RawTable:
    """Each line's own keys are mapped (lines of one export may name a field differently).
    A file holding one JSON array of objects instead is read record by record (numbered from
    1), so that no record hides in one bad "line"."""
    aliases = config.columns[kind]
    array = is_json_array(text)
    parsed, malformed = json_array_records(text, path) if array else json_line_records(text)
    where = "записи массива" if array else "строке"
    bad_rows = [
        _bad_row(
            bad.place,
            bad.raw,
            "bad_json",
            JSON_LINE_PROBLEMS[bad.problem].format(detail=bad.detail, where=where),
        )
        for bad in malformed
    ]
    records, keys_seen = [], set()
    for line in parsed:
        header = list(line.item)
        keys_seen.update(header)
        values = list(line.item.values())
        record = {
            name: cell_text(values[index]) for name, index in column_map(header, aliases).items()
        }
        records.append({**record, "source_row": line.place, "raw": line.raw})
    if records:
        present = set().union(*(r.keys() for r in records))
        require_columns(
            {name: 0 for name in present},
            sorted(keys_seen),
            kind,
            aliases,
            path,
            config.required_fields(kind),
        )
    frame = pd.DataFrame.from_records(records, columns=[*aliases, "source_row", "raw"])
    return RawTable(frame, bad_rows, rows_read=len(parsed) + len(malformed))


def read_excel(path: Path, kind: str, config: IngestConfig) -> RawTable:
    aliases = config.columns[kind]
    table = read_sheet(path)
    if not table.header:
        return RawTable(pd.DataFrame(columns=[*aliases, "source_row", "raw"]))
    header = table.header
    mapping = column_map(header, aliases)
    require_columns(mapping, header, kind, aliases, path, config.required_fields(kind))
    records = [
        {
            **{name: values[index] for name, index in mapping.items()},
            "source_row": place,
            "raw": json.dumps(dict(zip(header, values, strict=False)), ensure_ascii=False),
        }
        for values, place in zip(table.rows, table.places, strict=True)
    ]
    frame = pd.DataFrame.from_records(records, columns=[*aliases, "source_row", "raw"])
    return RawTable(frame, rows_read=len(records))


def read_source(path: Path, kind: str, config: IngestConfig) -> RawTable:
    """Read one raw file of the given kind into a RawTable (I/O shell)."""
    if path.stat().st_size == 0:
        raise IngestError(
            f"{path}: файл пуст (0 байт) — выгрузка, похоже, не удалась (даже пустая выгрузка "
            "содержит строку заголовка); выгрузите файл заново или уберите его"
        )
    try:
        return _read_source(path, kind, config)
    except TableError as exc:
        raise IngestError(str(exc)) from exc


def _read_source(path: Path, kind: str, config: IngestConfig) -> RawTable:
    suffix = supported_suffix(path, SUPPORTED_SUFFIXES)
    if suffix in EXCEL_SUFFIXES:
        table = read_excel(path, kind, config)
        table.encoding = "xlsx"
        return table
    text, encoding = decode_bytes(read_bytes(path), config.encodings, path)
    if not text.strip():
        table = RawTable(pd.DataFrame(columns=[*config.columns[kind], "source_row", "raw"]))
    elif suffix in JSONL_SUFFIXES:
        table = read_json_lines(text, path, kind, config)
    else:
        table = read_delimited(text, path, kind, config)
    table.encoding = encoding
    return table


def _bad_row(row: int, raw: str, code: str, reason: str) -> dict:
    return {"source_row": row, "raw": raw, "reason_code": code, "reason": reason}


def _visible(path: Path) -> bool:
    return path.is_file() and not path.name.startswith((".", "~$"))


def list_sources(raw_dir: Path) -> list[tuple[Path, str]]:
    """Every data file under ``calls/`` and ``complaints/`` (any letter case: ``Calls/``), in
    a stable order. A data file anywhere else in the raw folder stops the run: its rows would
    silently count nowhere."""
    sources, stray = [], []
    for path in sorted(raw_dir.rglob("*")) if raw_dir.is_dir() else []:
        if not _visible(path):
            continue
        parts = path.relative_to(raw_dir).parts
        kind = KIND_FOLDERS.get(fold_name(parts[0])) if len(parts) > 1 else None
        if kind is not None:
            sources.append((path, kind))
        elif len(parts) > 1 and fold_name(parts[0]) in OTHER_FOLDERS:
            continue
        elif path.name.lower() != "drivers.csv" and path.suffix.lower() in SUPPORTED_SUFFIXES:
            stray.append("/".join(parts))
    if stray:
        raise IngestError(
            f"{raw_dir}: файлы вне calls/ и complaints/ не читаются: {', '.join(stray)}; "
            "переложите звонки в calls/, обращения в complaints/"
        )
    return sources


def _file_label(path: Path, raw_dir: Path) -> str:
    try:
        return path.relative_to(raw_dir).as_posix()
    except ValueError:
        return path.as_posix()
