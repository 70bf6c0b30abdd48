"""``drivers.csv``: customers per ISO week, the denominator of CPX (contacts per 1,000
customers). Optional; a bad row is quarantined like any export row.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd

from pipeline.config import IngestConfig
from pipeline.io.convert import Problems, blank_to_na, quoted
from pipeline.io.sources import IngestError, column_map, decode_bytes, detect_delimiter
from pipeline.io.tables import DelimitedText, first_line
from pipeline.io.weeks import WeekError, monday_of, weeks_of

DRIVER_COLUMNS = ("iso_week", "week_start", "customers")

# --- drivers -----------------------------------------------------------------------------------


def week_start_of(values: pd.Series) -> pd.Series:
    """Monday of the week given as ``2026-W45`` or any date inside it; NaT if unreadable."""
    text = blank_to_na(values)
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
    problems = Problems(raw.index)
    week = week_start_of(raw["week"])
    customers = pd.to_numeric(blank_to_na(raw["customers"]), errors="coerce")
    problems.add(
        week.isna(),
        "bad_week",
        "неделя " + quoted(raw["week"]) + " не распознана: ожидается 2026-W45 или дата",
    )
    problems.add(
        customers.isna() | (customers <= 0),
        "bad_number",
        "число клиентов " + quoted(raw["customers"]) + " должно быть целым > 0",
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


def empty_drivers() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "iso_week": pd.Series(dtype="string"),
            "week_start": pd.Series(dtype="object"),
            "customers": pd.Series(dtype="int64"),
        }
    )


def _expected(config: IngestConfig) -> str:
    return "; ".join(f"{k}: {' | '.join(v)}" for k, v in config.drivers_columns.items())


def read_drivers(path: Path, config: IngestConfig) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """Customers per week from ``drivers.csv`` (the last row of a week wins), its rejected
    rows, and what was read."""
    text, encoding = decode_bytes(path.read_bytes(), config.encodings, path)
    first = first_line(text)
    delimiter = detect_delimiter(first, config.delimiters, config.drivers_columns)
    if delimiter is None:
        raise IngestError(
            f"{path}: нет колонок недели и числа клиентов; ожидается заголовок "
            + _expected(config)
        )
    # short rows are kept (a missing cell is a rejected value, not a malformed row); a quote
    # that never closes costs its own line only (``DelimitedText``, as for every CSV export)
    lines = DelimitedText(text, delimiter)
    header = lines.header().fields
    mapping = column_map(header, config.drivers_columns)
    if set(mapping) != set(config.drivers_columns):
        raise IngestError(
            f"{path}: нет колонки "
            f"{', '.join(set(config.drivers_columns) - set(mapping))}; найдены "
            f"{header}; ожидается " + _expected(config)
        )
    records = [
        {
            **{name: (r.fields[i] if i < len(r.fields) else None) for name, i in mapping.items()},
            "source_row": r.line,
            "raw": r.raw,
        }
        for r in lines.records(len(header))
        if any(cell.strip() for cell in r.fields)
    ]
    raw = pd.DataFrame.from_records(records, columns=["week", "customers", "source_row", "raw"])
    drivers, bad = convert_drivers(raw)
    # a week given twice: the last row wins, the earlier ones are counted as duplicates
    kept = drivers.drop_duplicates("iso_week", keep="last").sort_values("iso_week")
    info = {
        "kind": "drivers",
        "encoding": encoding,
        "delimiter": delimiter,
        "rows_read": len(raw),
        "quarantined": len(bad),
        "duplicates": len(drivers) - len(kept),
    }
    return kept, bad, info
