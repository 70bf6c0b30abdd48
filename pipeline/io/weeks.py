"""ISO weeks, one rule for the whole product: ``2026-W47`` (Monday to Sunday, ISO 8601).

Every place that reads a week from a person (params.yaml ``report_week``, owner notes, the
investigation notebooks, the drivers file) and every place that computes one (the week of a
contact, the trend window) goes through this module, so that "which weeks exist" has one answer:
W01 to W52, or W53 in the years that have it; no W00.

What a person may type is a little wider than what is stored: ``2026-W5``, ``2026w05`` and
``2026W05`` are read as ``2026-W05``; everything is written back in the canonical form.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import pandas as pd

from pipeline.errors import PipelineError

EXAMPLE = "2026-W47"
# what a person may type; ``parse_week`` checks the number against the year
TYPED_WEEK = re.compile(r"^\s*(\d{4})-?[Ww](\d{1,2})\s*$")


class WeekError(PipelineError, ValueError):
    """A week that is not an ISO week; the message (Russian) says what was found and expected."""


def weeks_in_year(year: int) -> int:
    """52 or 53: the ISO week of 28 December is always the year's last."""
    return date(year, 12, 28).isocalendar().week


def parse_week(value: object) -> str:
    """The canonical ``YYYY-Www`` of a typed week, or ``WeekError``."""
    match = TYPED_WEEK.match(str(value))
    if not match:
        raise WeekError(f"неделя {str(value)!r}: ожидается ISO-неделя вида {EXAMPLE}")
    year, number = int(match[1]), int(match[2])
    last = weeks_in_year(year)
    if not 1 <= number <= last:
        raise WeekError(
            f"неделя {str(value)!r} не существует: в {year} году недели с W01 по W{last:02d}"
        )
    return f"{year}-W{number:02d}"


def week_of(day: date) -> str:
    """The ISO week a day falls in (a date or datetime)."""
    year, number, _ = day.isocalendar()
    return f"{year}-W{number:02d}"


def monday_of(week: str) -> date:
    year, number = (int(part) for part in parse_week(week).split("-W"))
    return date.fromisocalendar(year, number, 1)


def week_bounds(week: str) -> tuple[date, date]:
    """Monday and Sunday of the week."""
    monday = monday_of(week)
    return monday, monday + timedelta(days=6)


def week_range(last_week: str, n: int) -> list[str]:
    """The ``n`` ISO weeks ending at ``last_week``, oldest first (crosses year boundaries)."""
    if n < 0:
        raise WeekError(f"число недель должно быть ≥ 0, найдено {n}")
    end = monday_of(last_week)
    return [week_of(end - timedelta(weeks=back)) for back in range(n - 1, -1, -1)]


def weeks_of(days: pd.Series) -> pd.Series:
    """``week_of`` for a column of dates or timestamps (a pandas string column)."""
    iso = pd.to_datetime(days).dt.isocalendar()
    return (iso["year"].astype(str) + "-W" + iso["week"].astype(str).str.zfill(2)).astype("string")
