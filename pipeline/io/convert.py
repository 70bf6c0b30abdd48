"""Typing and validating one export's rows: dates in the local time zone to UTC, durations,
labels through the configured synonyms; each bad row is rejected with a Russian reason.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date, timedelta

import numpy as np
import pandas as pd

from pipeline.config import IngestConfig
from pipeline.io.tables import (
    fold_name,
)
from pipeline.io.weeks import weeks_of

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
    "resolved_date_only",
    "status_conflict",
    "source_file",
    "source_row",
)
QUARANTINE_COLUMNS = ("source_file", "source_row", "kind", "raw", "reason_code", "reason")

_OFFSET_RE = r"(?:[+-]\d\d:?\d\d|Z)$"
_HMS_RE = re.compile(r"^(?:(\d+):)?(\d{1,2}):(\d{2})$")
# a resolution date without a time: "2026-11-17", "17.11.2026"
_DATE_ONLY_RE = r"\s*(?:\d{4}-\d{2}-\d{2}|\d{2}\.\d{2}\.\d{4})\s*"


# --- converting (pure) -------------------------------------------------------------------------


def blank_to_na(values: pd.Series) -> pd.Series:
    text = values.astype("string").str.strip()
    return text.mask(text == "")


def parse_datetimes(values: pd.Series, formats: Iterable[str], timezone: str) -> pd.Series:
    """Parse local date strings in any accepted form to UTC; unparseable values become NaT."""
    text = blank_to_na(values)
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
    text = blank_to_na(values)
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
    folded = blank_to_na(values).map(lambda v: fold_name(v) if isinstance(v, str) else v)
    return folded.map(lookup).astype("string")


class Problems:
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


def quoted(values: pd.Series) -> pd.Series:
    return "'" + values.fillna("").astype("string").str.slice(0, 60) + "'"


def _date_problem(problems, raw, parsed, column, required) -> None:
    missing = raw.isna()
    if required:
        problems.add(missing, "missing_date", f"нет даты в колонке {column}")
    problems.add(
        raw.notna() & parsed.isna(),
        "bad_date",
        "не удалось разобрать дату " + quoted(raw) + f" в колонке {column}: ожидается "
        "ДД.ММ.ГГГГ ЧЧ:ММ или ГГГГ-ММ-ДД ЧЧ:ММ",
    )


def _date_bounds_problem(problems, raw, parsed, column, config: IngestConfig, today) -> None:
    """Dates before ``earliest_date`` or more than ``future_days`` after ``today``."""
    latest = today + timedelta(days=config.future_days)
    # local midnights as instants: NaT compares as False
    after_latest = pd.Timestamp(latest + timedelta(days=1), tz=config.timezone)
    before_earliest = pd.Timestamp(config.earliest_date, tz=config.timezone)
    problems.add(
        parsed.notna() & (parsed >= after_latest),
        "future_date",
        "дата " + quoted(raw) + f" в колонке {column} в будущем: позже {latest:%d.%m.%Y} "
        f"(допуск ingest.future_days = {config.future_days} дн. после запуска)",
    )
    problems.add(
        parsed.notna() & (parsed < before_earliest),
        "date_too_old",
        "дата " + quoted(raw) + f" в колонке {column} раньше {config.earliest_date:%d.%m.%Y} "
        "(ingest.earliest_date)",
    )


def _upper_bound_problem(problems, raw, value, column, limit: float, code: str, key: str):
    problems.add(
        value > limit,
        code,
        f"неправдоподобное значение {column} = " + quoted(raw) + f" с: больше {limit:g} с "
        f"(ingest.{key}); строка в карантине, чтобы не исказить стоимость и время",
    )


def _number_problem(problems, raw, parsed, column) -> None:
    problems.add(
        raw.notna() & (parsed.isna() | (parsed < 0)),
        "bad_number",
        "некорректное число " + quoted(raw) + f" в колонке {column}: ожидается число ≥ 0",
    )


def _count_problem(problems, raw, parsed, column) -> None:
    """A count (transfers, status updates) is a whole number from 0 that fits an integer:
    ``2.5`` would be rounded and ``1e30`` would wrap to a negative number without a word."""
    _number_problem(problems, raw, parsed, column)
    whole = (parsed < 2**31) & (parsed % 1 == 0)
    problems.add(
        (parsed >= 0) & ~whole,
        "bad_number",
        "некорректное число " + quoted(raw) + f" в колонке {column}: ожидается целое число ≥ 0",
    )


def convert(
    raw: pd.DataFrame, kind: str, config: IngestConfig, today: date | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Validate and type one file's rows: (contacts, rejected rows with reason). ``today``
    (default: the day ingest runs) bounds how far in the future a date may be."""
    today = today or date.today()
    text_of = {
        name: blank_to_na(raw[name])
        if name in raw
        else pd.Series(pd.NA, index=raw.index, dtype="string")
        for name in config.columns[kind]
    }
    if kind == "complaint" and config.complaint_channel:
        text_of["channel"] = text_of["channel"].fillna(config.complaint_channel)
    problems = Problems(raw.index)
    out = pd.DataFrame(index=raw.index)
    out["source_id"] = text_of["contact_id"]
    problems.add(out["source_id"].isna(), "missing_id", "нет идентификатора контакта")
    out["kind"] = kind

    created_field = "started_at" if kind == "call" else "received_at"
    created = parse_datetimes(text_of[created_field], config.date_formats, config.timezone)
    _date_problem(problems, text_of[created_field], created, created_field, required=True)
    _date_bounds_problem(problems, text_of[created_field], created, created_field, config, today)
    out["created_at"] = created

    text = text_of["text"].fillna("")
    out["queue"] = text_of["queue"]
    out["customer_id"] = text_of["customer_id"]
    if kind == "call":
        _call_columns(out, text_of, created, text, problems, config)
    else:
        _complaint_columns(out, text_of, created, text, problems, config, today)
    return _split_rejected(out, raw, problems, kind)


def _known_label(
    problems: Problems,
    raw: pd.Series,
    vocabulary: Mapping[str, Iterable[str]],
    code: str,
    what: str,
    synonyms_key: str | None = None,
) -> pd.Series:
    """The canonical label of each value (through its synonyms); a value that is none of them
    is a problem naming what was found and what is expected."""
    parsed = normalise_labels(raw, vocabulary)
    hint = f" (список синонимов — ingest.{synonyms_key} в params.yaml)" if synonyms_key else ""
    problems.add(
        raw.notna() & parsed.isna(),
        code,
        f"неизвестный {what} "
        + quoted(raw)
        + ": ожидается один из "
        + ", ".join(vocabulary)
        + hint,
    )
    return parsed


def _call_columns(out, text_of, created, text, problems: Problems, config: IngestConfig) -> None:
    """A call's columns (the queue, customer and creation time are set already)."""
    index = out.index
    out["channel"] = config.call_channel
    ended = parse_datetimes(text_of["ended_at"], config.date_formats, config.timezone)
    _date_problem(problems, text_of["ended_at"], ended, "ended_at", required=False)
    duration = parse_seconds(text_of["duration_s"])
    _number_problem(problems, text_of["duration_s"], duration, "duration_s")
    from_clock = (ended - created).dt.total_seconds()
    problems.add(from_clock < 0, "end_before_start", "окончание звонка раньше начала")
    out["ended_at"] = ended
    out["handle_time_s"] = duration.fillna(from_clock)
    shown = text_of["duration_s"].fillna(from_clock.round().astype("Int64").astype("string"))
    _upper_bound_problem(
        problems,
        shown,
        out["handle_time_s"],
        "duration_s",
        config.max_call_seconds,
        "implausible_duration",
        "max_call_seconds",
    )
    wait = parse_seconds(text_of["wait_time_s"])
    _number_problem(problems, text_of["wait_time_s"], wait, "wait_time_s")
    _upper_bound_problem(
        problems,
        text_of["wait_time_s"],
        wait,
        "wait_time_s",
        config.max_wait_seconds,
        "implausible_wait",
        "max_wait_seconds",
    )
    out["wait_time_s"] = wait
    outcome = _known_label(
        problems,
        text_of["outcome"],
        config.outcomes,
        "unknown_outcome",
        "результат звонка",
        "outcomes",
    )
    problems.add(text_of["outcome"].isna(), "missing_outcome", "нет результата звонка")
    out["outcome"] = outcome
    transfers = pd.to_numeric(text_of["transfers"], errors="coerce")
    _count_problem(problems, text_of["transfers"], transfers, "transfers")
    out["transfers"] = transfers.fillna(0).round().astype("Int64")
    out["route"] = text_of["route"]
    out["text"] = text
    out["resolved_at"] = pd.Series(pd.NaT, index=index, dtype="datetime64[us, UTC]")
    out["status"] = pd.Series(pd.NA, index=index, dtype="string")
    out["status_updates"] = pd.Series(pd.NA, index=index, dtype="Int64")
    out["resolved_date_only"] = False
    out["status_conflict"] = pd.Series(pd.NA, index=index, dtype="string")


def status_conflicts(status: pd.Series, resolved: pd.Series) -> pd.Series:
    """Where the request's status and its resolution time disagree: ``closed_without_time``
    (status resolved, no resolution time) or ``open_with_time`` (status open, a resolution
    time); NA where they agree or the export has no status. The SLA decides what each means."""
    conflict = pd.Series(pd.NA, index=status.index, dtype="string")
    conflict[(status == "resolved").fillna(False) & resolved.isna()] = "closed_without_time"
    conflict[(status == "open").fillna(False) & resolved.notna()] = "open_with_time"
    return conflict


def _complaint_columns(
    out, text_of, created, text, problems: Problems, config: IngestConfig, today: date
) -> None:
    """A written request's columns (the queue, customer and creation time are set already)."""
    index = out.index
    channel = _known_label(
        problems, text_of["channel"], config.channels, "unknown_channel", "канал", "channels"
    )
    problems.add(text_of["channel"].isna(), "missing_channel", "не указан канал обращения")
    out["channel"] = channel
    problems.add(text.str.strip() == "", "empty_text", "пустой текст обращения")
    out["text"] = text
    resolved = parse_datetimes(text_of["resolved_at"], config.date_formats, config.timezone)
    # a date without a time means "some time that day": its end, the latest it can have been
    # (a same-day resolution is then not "before receipt", a late one is not "in time")
    date_only = text_of["resolved_at"].str.fullmatch(_DATE_ONLY_RE, na=False) & resolved.notna()
    end_of_day = resolved.dt.tz_convert(config.timezone) + pd.Timedelta(
        hours=23, minutes=59, seconds=59
    )
    resolved = resolved.where(~date_only, end_of_day.dt.tz_convert("UTC"))
    out["resolved_date_only"] = date_only.astype(bool)
    _date_problem(problems, text_of["resolved_at"], resolved, "resolved_at", required=False)
    _date_bounds_problem(problems, text_of["resolved_at"], resolved, "resolved_at", config, today)
    problems.add(
        resolved < created, "resolved_before_received", "дата решения раньше даты получения"
    )
    out["resolved_at"] = resolved
    status = _known_label(problems, text_of["status"], config.statuses, "unknown_status", "статус")
    derived = pd.Series(np.where(resolved.notna(), "resolved", "open"), index=index)
    out["status"] = status.fillna(derived.astype("string"))
    out["status_conflict"] = status_conflicts(status, resolved)
    updates = pd.to_numeric(text_of["status_updates"], errors="coerce")
    _count_problem(problems, text_of["status_updates"], updates, "status_updates")
    out["status_updates"] = updates.fillna(0).round().astype("Int64")
    for name in ("ended_at",):
        out[name] = pd.Series(pd.NaT, index=index, dtype="datetime64[us, UTC]")
    for name in ("handle_time_s", "wait_time_s"):
        out[name] = np.nan
    out["outcome"] = pd.Series(pd.NA, index=index, dtype="string")
    out["transfers"] = pd.Series(pd.NA, index=index, dtype="Int64")
    out["route"] = pd.Series(pd.NA, index=index, dtype="string")


def _split_rejected(
    out: pd.DataFrame, raw: pd.DataFrame, problems: Problems, kind: str
) -> tuple[pd.DataFrame, pd.DataFrame]:
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
