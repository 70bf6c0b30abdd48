"""Read-only access to the DuckDB warehouse for the investigations: connect, run a query of
``pipeline/sql/`` with bound parameters, and check the week and reason a notebook asks about."""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from pipeline import sql
from pipeline.config import ConfigError
from pipeline.io.weeks import WeekError, parse_week, week_range


class InvestigationError(ConfigError):
    """A notebook parameter names something the pipeline outputs do not have."""


def connect(warehouse: str | Path) -> duckdb.DuckDBPyConnection:
    """Open the warehouse read-only, so an investigation can never change pipeline outputs."""
    path = Path(warehouse)
    if not path.is_file():
        raise InvestigationError(
            f"{path.resolve()}: нет файла хранилища; сначала соберите его (`make demo` или "
            "`dvc repro`), а ноутбук запускайте из папки notebooks/ "
            "(papermill --cwd notebooks ...) или передайте путь: -p warehouse <путь>"
        )
    return duckdb.connect(str(path), read_only=True)


def read_query(con: duckdb.DuckDBPyConnection, name: str, **params: Any) -> pd.DataFrame:
    """The result of ``pipeline/sql/<name>.sql`` with ``params`` bound, as a DataFrame."""
    return con.execute(sql.load(name), params).df()


def report_week(con: duckdb.DuckDBPyConnection) -> str:
    """The report week of the run that built the warehouse (``run_info.report_week``)."""
    return str(read_query(con, "run_info")["report_week"].iloc[0])


def repeat_window_days(con: duckdb.DuckDBPyConnection) -> int:
    return int(read_query(con, "run_info")["repeat_window_days"].iloc[0])


def data_weeks(con: duckdb.DuckDBPyConnection) -> list[str]:
    return read_query(con, "weeks")["iso_week"].tolist()


def reason_titles(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    frame = read_query(con, "reasons")
    return dict(zip(frame["reason_id"], frame["title"], strict=True))


def resolve_week(con: duckdb.DuckDBPyConnection, week: str | None) -> str:
    """``week`` checked against the data; empty or None means the report week."""
    if not week:
        return report_week(con)
    try:
        week = parse_week(week)
    except WeekError as error:
        raise InvestigationError(str(error)) from None
    weeks = data_weeks(con)
    if week not in weeks:
        raise InvestigationError(
            f"неделя {week}: в хранилище нет контактов за неё; есть {weeks[0]} … {weeks[-1]}"
        )
    return week


def check_reason(con: duckdb.DuckDBPyConnection, reason_id: str) -> str:
    titles = reason_titles(con)
    if reason_id not in titles:
        close = difflib.get_close_matches(reason_id, titles, n=3)
        hint = f"; похожие: {', '.join(close)}" if close else ""
        raise InvestigationError(
            f"причина '{reason_id}' не найдена в таблице reasons хранилища (таксономия, "
            f"с которой оно построено){hint}"
        )
    return reason_id


def weeks_before(con: duckdb.DuckDBPyConnection, week: str, n: int) -> list[str]:
    """The ``n`` calendar weeks before ``week`` (oldest first); all of them must be in the data."""
    weeks = week_range(week, n + 1)[:-1]
    missing = sorted(set(weeks) - set(data_weeks(con)))
    if missing:
        raise InvestigationError(
            f"базовый период для {week}: нет данных за {', '.join(missing)}; "
            f"уменьшите baseline_weeks (сейчас {n}) или выберите более позднюю неделю"
        )
    return weeks


def last_weeks(con: duckdb.DuckDBPyConnection, week: str | None, n: int) -> list[str]:
    """The ``n`` weeks ending at ``week`` (report week by default) that have data."""
    end = resolve_week(con, week)
    present = set(data_weeks(con))
    return [w for w in week_range(end, n) if w in present]
