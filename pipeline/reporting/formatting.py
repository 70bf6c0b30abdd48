"""Russian number, percent and date formatting for the reports (``1 234``, ``12,5 %``,
``2 нояб. 2026``). Jinja filters; every function accepts None/NaN and returns a dash.
"""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import Any

import pandas as pd
from babel.units import format_unit

from pipeline.io.weeks import week_bounds

NBSP = "\u00a0"  # keeps "1 234" and "12,5 %" on one line
DASH = "—"
# CLDR abbreviated month names, genitive (as used after a day number)
MONTHS_SHORT = (
    "янв.",
    "февр.",
    "мар.",
    "апр.",
    "мая",
    "июн.",
    "июл.",
    "авг.",
    "сент.",
    "окт.",
    "нояб.",
    "дек.",
)


def _missing(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    try:
        return bool(isinstance(value, float) and math.isnan(value))
    except TypeError:
        return False


def number(value: Any, digits: int = 0) -> str:
    """``1234.5`` -> ``1 234`` (digits=0) or ``1 234,5`` (digits=1), a no-break space between
    thousands."""
    if _missing(value):
        return DASH
    text = f"{float(value):,.{digits}f}"
    return text.replace(",", NBSP).replace(".", ",").replace("-", "−")


def percent(value: Any, digits: int = 1, signed: bool = False) -> str:
    """A share ``0.125`` -> ``12,5 %``; ``signed`` adds ``+`` to rises."""
    if _missing(value):
        return DASH
    text = number(100.0 * float(value), digits)
    if signed and float(value) > 0:
        text = "+" + text
    return f"{text}{NBSP}%"


def estimate(value: Any, low: Any, high: Any) -> str:
    """An estimate with its interval: ``212.4, 190.2, 236.0`` -> ``212 (190–236)``."""
    if _missing(value):
        return DASH
    if _missing(low) or _missing(high):
        return number(value)
    return f"{number(value)}{NBSP}({number(low)}–{number(high)})"


def money(value: Any) -> str:
    """Roubles: ``1234567`` -> ``1 234 567 ₽``; thousands and millions shortened."""
    if _missing(value):
        return DASH
    value = float(value)
    if abs(value) >= 1_000_000:
        return f"{number(value / 1_000_000, 1)}{NBSP}млн{NBSP}₽"
    if abs(value) >= 10_000:
        return f"{number(value / 1_000, 0)}{NBSP}тыс.{NBSP}₽"
    return f"{number(value)}{NBSP}₽"


def day(value: Any) -> str:
    """``date(2026, 11, 2)`` -> ``2 нояб. 2026``."""
    if _missing(value):
        return DASH
    if isinstance(value, str):
        value = date.fromisoformat(value[:10])
    if isinstance(value, datetime | pd.Timestamp):
        value = value.date()
    return f"{value.day}{NBSP}{MONTHS_SHORT[value.month - 1]}{NBSP}{value.year}"


def week_label(iso_week: str) -> str:
    """``2026-W47`` -> ``16–22 нояб. 2026`` (or across months ``28 сент. – 4 окт. 2026``)."""
    monday, sunday = week_bounds(iso_week)
    if monday.month == sunday.month:
        return f"{monday.day}–{day(sunday)}"
    if monday.year == sunday.year:
        return f"{monday.day}{NBSP}{MONTHS_SHORT[monday.month - 1]} – {day(sunday)}"
    return f"{day(monday)} – {day(sunday)}"


def weeks_ru(count: int) -> str:
    """``4`` -> ``4 недели``, ``13`` -> ``13 недель``, ``21`` -> ``21 неделя`` (Babel's CLDR
    plural rules for Russian)."""
    return format_unit(int(count), "duration-week", locale="ru", length="long")


FILTERS = {
    "number": number,
    "percent": percent,
    "money": money,
    "estimate": estimate,
    "day": day,
    "week_label": week_label,
    "weeks_ru": weeks_ru,
}
