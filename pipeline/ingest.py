"""Stage ``ingest``: read every raw export, keep every row either as a contact or in quarantine.

Reads ``calls/`` and ``complaints/`` under the raw folder (CSV with any of the configured
delimiters and encodings, Excel ``.xlsx``, JSON lines) and an optional ``drivers.csv`` with the
number of customers per week. Source column names are mapped through ``params.yaml``; dates in
either ``2026-11-02 14:05`` or ``02.11.2026 14:05`` form are read in the local time zone and stored
in UTC. Contacts are de-duplicated by id, so an export dropped twice counts once.

Invariant written to the metrics, per file: ``rows_read == accepted + quarantined + duplicates``.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.config import REQUIRED_FIELDS, IngestConfig, load_params
from pipeline.errors import PipelineError
from pipeline.io import tables
from pipeline.io.tables import (
    ENCODING_FIX,
    TableError,
    cell_text,
    decode,
    first_line,
    fold_name,
    json_line_records,
    read_bytes,
    read_sheet,
    split_delimited,
    supported_suffix,
)
from pipeline.io.weeks import WeekError, monday_of, weeks_of

logger = logging.getLogger(__name__)

KIND_FOLDERS = {"calls": "call", "complaints": "complaint"}
CSV_SUFFIXES = (".csv", ".tsv", ".txt")
JSONL_SUFFIXES = (".jsonl", ".ndjson", ".json")
EXCEL_SUFFIXES = (".xlsx", ".xlsm")
SUPPORTED_SUFFIXES = CSV_SUFFIXES + JSONL_SUFFIXES + EXCEL_SUFFIXES

CONTACT_COLUMNS = (
    "contact_id",
    "source_id",
    "kind",
    "channel",
    "created_at",
    "created_local",
    "iso_week",
    "week_start",
    "local_hour",
    "ended_at",
    "handle_time_s",
    "wait_time_s",
    "queue",
    "outcome",
    "transfers",
    "route",
    "customer_id",
    "text",
    "resolved_at",
    "resolved_local",
    "status",
    "status_updates",
    "source_file",
    "source_row",
)
QUARANTINE_COLUMNS = ("source_file", "source_row", "kind", "raw", "reason_code", "reason")
DRIVER_COLUMNS = ("iso_week", "week_start", "customers")

_OFFSET_RE = r"(?:[+-]\d\d:?\d\d|Z)$"
_HMS_RE = re.compile(r"^(?:(\d+):)?(\d{1,2}):(\d{2})$")


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


# --- reading (the generic reader is pipeline/io/tables.py; here: aliases and quarantine) --------

ENCODING_FIX = ENCODING_FIX + " либо добавьте кодировку в params.yaml (ingest.encodings)"
JSON_LINE_PROBLEMS = {
    "not_json": "строка не является JSON-объектом ({detail})",
    "not_object": "ожидается JSON-объект {{...}} в каждой строке",
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
) -> None:
    missing = [name for name in REQUIRED_FIELDS[kind] if name not in mapping]
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
    require_columns(mapping, table.header, kind, aliases, path)
    width = len(table.header)
    records = [
        {
            **{name: fields[index] for name, index in mapping.items()},
            "source_row": place,
            "raw": raw,
        }
        for fields, place, raw in zip(table.rows, table.places, table.raws, strict=True)
    ]
    bad_rows = [
        _bad_row(
            bad.place,
            bad.raw,
            "bad_field_count",
            f"строка повреждена: число полей {bad.detail} вместо {width} "
            f"(разделитель {delimiter!r})",
        )
        for bad in table.malformed
    ]
    frame = pd.DataFrame.from_records(records, columns=[*aliases, "source_row", "raw"])
    return RawTable(frame, bad_rows, delimiter=delimiter, rows_read=len(records) + len(bad_rows))


def read_json_lines(text: str, path: Path, kind: str, config: IngestConfig) -> RawTable:
    """Each line's own keys are mapped (lines of one export may name a field differently)."""
    aliases = config.columns[kind]
    parsed, malformed = json_line_records(text)
    bad_rows = [
        _bad_row(
            bad.place,
            bad.raw,
            "bad_json",
            JSON_LINE_PROBLEMS[bad.problem].format(detail=bad.detail),
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
        require_columns({name: 0 for name in present}, sorted(keys_seen), kind, aliases, path)
    frame = pd.DataFrame.from_records(records, columns=[*aliases, "source_row", "raw"])
    return RawTable(frame, bad_rows, rows_read=len(parsed) + len(malformed))


def read_excel(path: Path, kind: str, config: IngestConfig) -> RawTable:
    aliases = config.columns[kind]
    table = read_sheet(path)
    if not table.header:
        return RawTable(pd.DataFrame(columns=[*aliases, "source_row", "raw"]))
    header = table.header
    mapping = column_map(header, aliases)
    require_columns(mapping, header, kind, aliases, path)
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


# --- converting (pure) -------------------------------------------------------------------------


def _blank_to_na(values: pd.Series) -> pd.Series:
    text = values.astype("string").str.strip()
    return text.mask(text == "")


def parse_datetimes(values: pd.Series, formats: Iterable[str], timezone: str) -> pd.Series:
    """Parse local date strings in any accepted form to UTC; unparseable values become NaT."""
    text = _blank_to_na(values)
    result = pd.Series(pd.NaT, index=values.index, dtype="datetime64[us, UTC]")
    with_offset = text.str.contains(_OFFSET_RE, regex=True, na=False)
    if with_offset.any():
        parsed = pd.to_datetime(text[with_offset], format="ISO8601", utc=True, errors="coerce")
        result.loc[with_offset] = parsed.astype("datetime64[us, UTC]")
    pending = text.notna() & ~with_offset
    for fmt in formats:
        todo = pending & result.isna()
        if not todo.any():
            break
        parsed = pd.to_datetime(text[todo], format=fmt, errors="coerce").dropna()
        if parsed.empty:
            continue
        local = parsed.dt.tz_localize(timezone, ambiguous="NaT", nonexistent="shift_forward")
        result.loc[local.index] = local.dt.tz_convert("UTC").astype("datetime64[us, UTC]")
    return result


def parse_seconds(values: pd.Series) -> pd.Series:
    """Seconds from ``312``, ``312.5``, ``5:12`` or ``0:05:12``; NaN when unparseable."""
    text = _blank_to_na(values)
    seconds = pd.to_numeric(text.str.replace(",", ".", regex=False), errors="coerce")
    clock = text.str.extract(_HMS_RE.pattern)
    from_clock = (
        clock[0].astype(float).fillna(0) * 3600
        + clock[1].astype(float) * 60
        + clock[2].astype(float)
    )
    return seconds.fillna(from_clock).astype("float64")


def normalise_labels(values: pd.Series, vocabulary: Mapping[str, Iterable[str]]) -> pd.Series:
    """Map raw labels to canonical ones through the alias lists; unknown labels become NA."""
    lookup = {}
    for canonical, names in vocabulary.items():
        lookup[fold_name(canonical)] = canonical
        for name in names:
            lookup[fold_name(name)] = canonical
    folded = _blank_to_na(values).map(lambda v: fold_name(v) if isinstance(v, str) else v)
    return folded.map(lookup).astype("string")


class _Problems:
    """Collects per-row problems as (mask, code, message) and merges them into one reason."""

    def __init__(self, index: pd.Index):
        self.index = index
        self.code = pd.Series(pd.NA, index=index, dtype="string")
        self.reason = pd.Series(pd.NA, index=index, dtype="string")

    def add(self, mask: pd.Series, code: str, message: pd.Series | str) -> None:
        mask = mask.fillna(False).astype(bool)
        if not mask.any():
            return
        if isinstance(message, str):
            message = pd.Series(message, index=self.index, dtype="string")
        message = message.astype("string")
        first = mask & self.code.isna()
        self.code[first] = code
        joined = self.reason[mask].fillna("")
        joined = joined.where(joined == "", joined + "; ") + message[mask]
        self.reason[mask] = joined

    @property
    def bad(self) -> pd.Series:
        return self.code.notna()


def _quoted(values: pd.Series) -> pd.Series:
    return "'" + values.fillna("").astype("string").str.slice(0, 60) + "'"


def _date_problem(problems, raw, parsed, column, required) -> None:
    missing = raw.isna()
    if required:
        problems.add(missing, "missing_date", f"нет даты в колонке {column}")
    problems.add(
        raw.notna() & parsed.isna(),
        "bad_date",
        "не удалось разобрать дату " + _quoted(raw) + f" в колонке {column}: ожидается "
        "ДД.ММ.ГГГГ ЧЧ:ММ или ГГГГ-ММ-ДД ЧЧ:ММ",
    )


def _number_problem(problems, raw, parsed, column) -> None:
    problems.add(
        raw.notna() & (parsed.isna() | (parsed < 0)),
        "bad_number",
        "некорректное число " + _quoted(raw) + f" в колонке {column}: ожидается число ≥ 0",
    )


def convert(
    raw: pd.DataFrame, kind: str, config: IngestConfig
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Validate and type one file's rows: (contacts, rejected rows with reason)."""
    text_of = {
        name: _blank_to_na(raw[name])
        if name in raw
        else pd.Series(pd.NA, index=raw.index, dtype="string")
        for name in config.columns[kind]
    }
    problems = _Problems(raw.index)
    out = pd.DataFrame(index=raw.index)
    out["source_id"] = text_of["contact_id"]
    problems.add(out["source_id"].isna(), "missing_id", "нет идентификатора контакта")
    out["kind"] = kind

    created_field = "started_at" if kind == "call" else "received_at"
    created = parse_datetimes(text_of[created_field], config.date_formats, config.timezone)
    _date_problem(problems, text_of[created_field], created, created_field, required=True)
    out["created_at"] = created

    text = text_of["text"].fillna("")
    out["queue"] = text_of["queue"]
    out["customer_id"] = text_of["customer_id"]
    if kind == "call":
        out["channel"] = config.call_channel
        ended = parse_datetimes(text_of["ended_at"], config.date_formats, config.timezone)
        _date_problem(problems, text_of["ended_at"], ended, "ended_at", required=False)
        duration = parse_seconds(text_of["duration_s"])
        _number_problem(problems, text_of["duration_s"], duration, "duration_s")
        from_clock = (ended - created).dt.total_seconds()
        problems.add(from_clock < 0, "end_before_start", "окончание звонка раньше начала")
        out["ended_at"] = ended
        out["handle_time_s"] = duration.fillna(from_clock)
        wait = parse_seconds(text_of["wait_time_s"])
        _number_problem(problems, text_of["wait_time_s"], wait, "wait_time_s")
        out["wait_time_s"] = wait
        outcome = normalise_labels(text_of["outcome"], config.outcomes)
        problems.add(
            text_of["outcome"].notna() & outcome.isna(),
            "unknown_outcome",
            "неизвестный результат звонка "
            + _quoted(text_of["outcome"])
            + ": ожидается один из "
            + ", ".join(config.outcomes)
            + " (список синонимов — ingest.outcomes в params.yaml)",
        )
        problems.add(text_of["outcome"].isna(), "missing_outcome", "нет результата звонка")
        out["outcome"] = outcome
        transfers = pd.to_numeric(text_of["transfers"], errors="coerce")
        _number_problem(problems, text_of["transfers"], transfers, "transfers")
        out["transfers"] = transfers.fillna(0).round().astype("Int64")
        out["route"] = text_of["route"]
        out["text"] = text
        out["resolved_at"] = pd.Series(pd.NaT, index=raw.index, dtype="datetime64[us, UTC]")
        out["status"] = pd.Series(pd.NA, index=raw.index, dtype="string")
        out["status_updates"] = pd.Series(pd.NA, index=raw.index, dtype="Int64")
    else:
        channel = normalise_labels(text_of["channel"], config.channels)
        problems.add(
            text_of["channel"].notna() & channel.isna(),
            "unknown_channel",
            "неизвестный канал "
            + _quoted(text_of["channel"])
            + ": ожидается один из "
            + ", ".join(config.channels)
            + " (список синонимов — ingest.channels в params.yaml)",
        )
        problems.add(text_of["channel"].isna(), "missing_channel", "не указан канал обращения")
        out["channel"] = channel
        problems.add(text.str.strip() == "", "empty_text", "пустой текст обращения")
        out["text"] = text
        resolved = parse_datetimes(text_of["resolved_at"], config.date_formats, config.timezone)
        _date_problem(problems, text_of["resolved_at"], resolved, "resolved_at", required=False)
        problems.add(
            resolved < created, "resolved_before_received", "дата решения раньше даты получения"
        )
        out["resolved_at"] = resolved
        status = normalise_labels(text_of["status"], config.statuses)
        problems.add(
            text_of["status"].notna() & status.isna(),
            "unknown_status",
            "неизвестный статус "
            + _quoted(text_of["status"])
            + ": ожидается один из "
            + ", ".join(config.statuses),
        )
        derived = pd.Series(np.where(resolved.notna(), "resolved", "open"), index=raw.index)
        out["status"] = status.fillna(derived.astype("string"))
        updates = pd.to_numeric(text_of["status_updates"], errors="coerce")
        _number_problem(problems, text_of["status_updates"], updates, "status_updates")
        out["status_updates"] = updates.fillna(0).round().astype("Int64")
        for name in ("ended_at",):
            out[name] = pd.Series(pd.NaT, index=raw.index, dtype="datetime64[us, UTC]")
        for name in ("handle_time_s", "wait_time_s"):
            out[name] = np.nan
        out["outcome"] = pd.Series(pd.NA, index=raw.index, dtype="string")
        out["transfers"] = pd.Series(pd.NA, index=raw.index, dtype="Int64")
        out["route"] = pd.Series(pd.NA, index=raw.index, dtype="string")

    out["source_row"] = raw["source_row"].astype("int64")
    bad = problems.bad
    rejected = pd.DataFrame(
        {
            "source_row": raw.loc[bad, "source_row"].astype("int64"),
            "kind": kind,
            "raw": raw.loc[bad, "raw"].astype("string"),
            "reason_code": problems.code[bad],
            "reason": problems.reason[bad],
        }
    )
    return out.loc[~bad], rejected


def add_calendar(contacts: pd.DataFrame, timezone: str) -> pd.DataFrame:
    """Local wall-clock columns, ISO week and week start (weeks follow the local calendar)."""
    out = contacts.copy()
    local = out["created_at"].dt.tz_convert(timezone)
    out["created_local"] = local.dt.tz_localize(None)
    out["iso_week"] = weeks_of(out["created_local"])
    out["week_start"] = (
        local.dt.normalize() - pd.to_timedelta(local.dt.day_of_week, unit="D")
    ).dt.date
    out["local_hour"] = local.dt.hour.astype("int16")
    out["resolved_local"] = out["resolved_at"].dt.tz_convert(timezone).dt.tz_localize(None)
    return out


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


# --- drivers -----------------------------------------------------------------------------------


def week_start_of(values: pd.Series) -> pd.Series:
    """Monday of the week given as ``2026-W45`` or any date inside it; NaT if unreadable."""
    text = _blank_to_na(values)
    from_iso = pd.to_datetime(text.map(_monday_or_none, na_action="ignore"), errors="coerce")
    from_date = pd.to_datetime(text, format="ISO8601", errors="coerce")
    from_date = from_date.fillna(pd.to_datetime(text, format="%d.%m.%Y", errors="coerce"))
    day = from_iso.fillna(from_date)
    return day - pd.to_timedelta(day.dt.day_of_week, unit="D")


def _monday_or_none(value: str) -> date | None:
    """Monday of a typed ISO week (``pipeline.io.weeks`` rules), None for anything else."""
    try:
        return monday_of(value)
    except WeekError:
        return None


def convert_drivers(raw: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    problems = _Problems(raw.index)
    week = week_start_of(raw["week"])
    customers = pd.to_numeric(_blank_to_na(raw["customers"]), errors="coerce")
    problems.add(
        week.isna(),
        "bad_week",
        "неделя " + _quoted(raw["week"]) + " не распознана: ожидается 2026-W45 или дата",
    )
    problems.add(
        customers.isna() | (customers <= 0),
        "bad_number",
        "число клиентов " + _quoted(raw["customers"]) + " должно быть целым > 0",
    )
    bad = problems.bad
    good = pd.DataFrame({"week_start": week[~bad].dt.date, "customers": customers[~bad]})
    good.insert(
        0,
        "iso_week",
        weeks_of(good["week_start"]),
    )
    good["customers"] = good["customers"].round().astype("int64")
    rejected = pd.DataFrame(
        {
            "source_row": raw.loc[bad, "source_row"].astype("int64"),
            "kind": "drivers",
            "raw": raw.loc[bad, "raw"].astype("string"),
            "reason_code": problems.code[bad],
            "reason": problems.reason[bad],
        }
    )
    return good, rejected


# --- the stage ---------------------------------------------------------------------------------


@dataclass
class IngestResult:
    contacts: pd.DataFrame
    quarantine: pd.DataFrame
    drivers: pd.DataFrame
    metrics: dict


def list_sources(raw_dir: Path) -> list[tuple[Path, str]]:
    """Every data file under ``calls/`` and ``complaints/``, in a stable order."""
    sources = []
    for folder, kind in KIND_FOLDERS.items():
        base = raw_dir / folder
        if not base.is_dir():
            continue
        for path in sorted(base.rglob("*")):
            if path.is_file() and not path.name.startswith((".", "~$")):
                sources.append((path, kind))
    return sources


def _file_label(path: Path, raw_dir: Path) -> str:
    try:
        return path.relative_to(raw_dir).as_posix()
    except ValueError:
        return path.as_posix()


def ingest(raw_dir: Path, config: IngestConfig, drivers_path: Path | None = None) -> IngestResult:
    """Read, validate, type and de-duplicate every raw export under ``raw_dir``."""
    sources = list_sources(raw_dir)
    if not sources:
        raise IngestError(
            f"{raw_dir}: нет файлов выгрузок; положите звонки в {raw_dir / 'calls'} и обращения "
            f"в {raw_dir / 'complaints'}"
        )
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
        good = good.assign(source_file=label)
        accepted_parts.append(good)
        rejected_parts.append(rejected)
        files[label] = {
            "kind": kind,
            "encoding": table.encoding,
            "delimiter": table.delimiter,
            "rows_read": table.rows_read,
            "quarantined": len(rejected),
        }
        logger.info("%s: %d rows, %d rejected", label, table.rows_read, len(rejected))

    drivers = pd.DataFrame(
        {
            "iso_week": pd.Series(dtype="string"),
            "week_start": pd.Series(dtype="object"),
            "customers": pd.Series(dtype="int64"),
        }
    )
    if drivers_path is not None and drivers_path.exists():
        label = _file_label(drivers_path, raw_dir)
        text, encoding = decode_bytes(drivers_path.read_bytes(), config.encodings, drivers_path)
        first_line = text.split("\n", 1)[0].rstrip("\r")
        delimiter = detect_delimiter(first_line, config.delimiters, config.drivers_columns)
        if delimiter is None:
            raise IngestError(
                f"{drivers_path}: нет колонок недели и числа клиентов; ожидается заголовок "
                + "; ".join(f"{k}: {' | '.join(v)}" for k, v in config.drivers_columns.items())
            )
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
        mapping = column_map(rows[0], config.drivers_columns)
        if set(mapping) != set(config.drivers_columns):
            raise IngestError(
                f"{drivers_path}: нет колонки "
                f"{', '.join(set(config.drivers_columns) - set(mapping))}; найдены "
                f"{rows[0]}; ожидается "
                + "; ".join(f"{k}: {' | '.join(v)}" for k, v in config.drivers_columns.items())
            )
        records = [
            {
                **{name: (r[i] if i < len(r) else None) for name, i in mapping.items()},
                "source_row": n,
                "raw": delimiter.join(r),
            }
            for n, r in enumerate(rows[1:], start=2)
            if any(cell.strip() for cell in r)
        ]
        raw = pd.DataFrame.from_records(
            records, columns=["week", "customers", "source_row", "raw"]
        )
        drivers, bad = convert_drivers(raw)
        drivers = drivers.drop_duplicates("iso_week", keep="last").sort_values("iso_week")
        bad.insert(0, "source_file", label)
        rejected_parts.append(bad)
        files[label] = {
            "kind": "drivers",
            "encoding": encoding,
            "delimiter": delimiter,
            "rows_read": len(raw),
            "quarantined": len(bad),
        }

    contacts = pd.concat(accepted_parts, ignore_index=True)
    contacts["contact_id"] = (contacts["kind"] + ":" + contacts["source_id"]).astype("string")
    contacts, duplicates = deduplicate(contacts)
    contacts = add_calendar(contacts, config.timezone)
    contacts = (
        contacts.loc[:, list(CONTACT_COLUMNS)]
        .sort_values(["created_at", "contact_id"], kind="stable")
        .reset_index(drop=True)
    )

    quarantine = pd.concat(rejected_parts, ignore_index=True)
    quarantine = (
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

    accepted_per_file = contacts["source_file"].value_counts()
    for label, info in files.items():
        if info["kind"] == "drivers":
            info["accepted"] = info["rows_read"] - info["quarantined"]
            info["duplicates"] = 0
        else:
            info["accepted"] = int(accepted_per_file.get(label, 0))
            info["duplicates"] = int(duplicates.get(label, 0))
        info["reconciles"] = (
            info["rows_read"] == info["accepted"] + info["quarantined"] + info["duplicates"]
        )
    metrics = build_metrics(files, contacts, quarantine, drivers)
    return IngestResult(contacts, quarantine, drivers.reset_index(drop=True), metrics)


def build_metrics(files: dict, contacts, quarantine, drivers) -> dict:
    totals = {
        key: int(sum(info[key] for info in files.values() if info["kind"] != "drivers"))
        for key in ("rows_read", "accepted", "quarantined", "duplicates")
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


def check_bad_share(metrics: dict, limit: float) -> None:
    """Stop when a file has more rejected rows than the configured share."""
    over = []
    for label, info in metrics["files"].items():
        if info["rows_read"] and info["quarantined"] / info["rows_read"] > limit:
            over.append(
                f"{label}: в карантине {info['quarantined']} из {info['rows_read']} строк "
                f"({info['quarantined'] / info['rows_read']:.1%})"
            )
    if over:
        raise IngestError(
            "доля плохих строк выше допустимой "
            f"(ingest.max_bad_row_share = {limit:.0%}):\n  "
            + "\n  ".join(over)
            + "\nПричины — в data/interim/quarantine.parquet (колонка reason); исправьте "
            "выгрузку или поднимите порог в params.yaml."
        )


def write_parquet(frame: pd.DataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_parquet(path, index=False)


def write_json(data: dict, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )


def main(
    raw_dir: Path,
    contacts_path: Path,
    quarantine_path: Path,
    drivers_out: Path,
    metrics_path: Path,
    config: IngestConfig,
) -> IngestResult:
    result = ingest(raw_dir, config, drivers_path=raw_dir / "drivers.csv")
    write_parquet(result.contacts, contacts_path)
    write_parquet(result.quarantine, quarantine_path)
    write_parquet(result.drivers, drivers_out)
    write_json(result.metrics, metrics_path)
    logger.info(
        "ingest: %d rows read, %d contacts, %d quarantined, %d duplicates",
        result.metrics["rows_read"],
        result.metrics["accepted"],
        result.metrics["quarantined"],
        result.metrics["duplicates"],
    )
    check_bad_share(result.metrics, config.max_bad_row_share)
    return result


def cli(args: argparse.Namespace) -> None:
    params = load_params(args.params)
    main(args.raw, args.contacts, args.quarantine, args.drivers, args.metrics, params.ingest)
