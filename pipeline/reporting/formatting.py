"""Russian number, percent and date formatting for the reports (``1 234``, ``12,5 %``,
``2 нояб. 2026``) with Babel's CLDR data for ``ru``, and the report's Russian labels. Jinja
filters; every function accepts None/NaN and returns a dash.

Two things differ from Babel's plain output on purpose, so the pages print what they always
did: the minus is the typographic ``−`` (CLDR ``ru`` has the hyphen ``-``), and the spaces inside
a date are no-break spaces (Babel's ``d MMM y`` pattern has plain ones). The group separator
is CLDR's own no-break space U+00A0 for ``ru`` (not the narrow one of ``fr``).
"""

from __future__ import annotations

import math
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pandas as pd
from babel.dates import format_date
from babel.numbers import format_decimal, format_percent
from babel.units import format_unit

from pipeline.io.weeks import week_bounds

LOCALE = "ru"
NBSP = "\u00a0"  # keeps "1 234" and "12,5 %" on one line
DASH = "—"
MINUS = "−"
DAY = f"d{NBSP}MMM"  # CLDR abbreviated month, genitive (as used after a day number)

QUADRANTS = {
    "eliminate": ("Устранить", "раздражает и клиента, и компанию: убрать причину"),
    "automate": ("Автоматизировать", "ценно клиенту, дорого компании: самообслуживание"),
    "simplify": ("Упростить", "ценно компании, раздражает клиента: сделать проще"),
    "leverage": ("Использовать", "ценно обоим: развивать и продавать"),
}
METRIC_RU = {
    "weekly_volume": "контактов в неделю",
    "cpx": "на 1 000 клиентов",
    "share": "доля контактов",
}
CHANNEL_RU = {
    "phone": "Телефон",
    "email": "E-mail",
    "web": "Сайт",
    "chat": "Чат",
    "social": "Соцсети",
    "service_desk": "Сервис-деск",
    "branch": "Отделение",
}


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
    # Decimal(float) is the float's exact value: ties round half-even as f"{x:.1f}" did
    text = format_decimal(Decimal(float(value)), _pattern(digits), locale=LOCALE)
    return text.replace("-", MINUS)


def _pattern(digits: int) -> str:
    return "#,##0" + ("." + "0" * digits if digits else "")


def percent(value: Any, digits: int = 1, signed: bool = False) -> str:
    """A share ``0.125`` -> ``12,5 %``; ``signed`` adds ``+`` to rises."""
    if _missing(value):
        return DASH
    # the float product 100 * value, as the pages always printed it (Babel would multiply the
    # exact decimal, which can round a rare tie the other way)
    share = Decimal(100.0 * float(value)) / 100
    text = format_percent(share, f"{_pattern(digits)}{NBSP}%", locale=LOCALE).replace("-", MINUS)
    return "+" + text if signed and float(value) > 0 else text


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
    return format_date(value, f"{DAY}{NBSP}y", locale=LOCALE)


def moment(value: Any) -> str:
    """A local time ``2026-11-27 19:00`` -> ``27 нояб. 2026, 19:00``."""
    if _missing(value):
        return DASH
    value = pd.Timestamp(value)
    return f"{day(value)}, {value:%H:%M}"


def week_label(iso_week: str) -> str:
    """``2026-W47`` -> ``16–22 нояб. 2026`` (or across months ``28 сент. – 4 окт. 2026``)."""
    monday, sunday = week_bounds(iso_week)
    if monday.month == sunday.month:
        return f"{monday.day}–{day(sunday)}"
    if monday.year == sunday.year:
        return f"{format_date(monday, DAY, locale=LOCALE)} – {day(sunday)}"
    return f"{day(monday)} – {day(sunday)}"


def weeks_ru(count: int) -> str:
    """``4`` -> ``4 недели``, ``13`` -> ``13 недель``, ``21`` -> ``21 неделя`` (Babel's CLDR
    plural rules for Russian)."""
    return format_unit(int(count), "duration-week", locale=LOCALE, length="long")


def within_days_ru(count: int) -> str:
    """``7`` -> ``в течение 7 дней``, ``1`` -> ``в течение 1 дня``, ``21`` -> ``в течение 21 дня``
    (after «в течение» the noun is genitive: singular after 1, 21, 31 …, plural otherwise)."""
    count = int(count)
    noun = "дня" if count % 10 == 1 and count % 100 != 11 else "дней"
    return f"в течение {count} {noun}"


def records(frame: pd.DataFrame) -> list[dict]:
    """Rows as dicts, NaN as None (templates test ``is not none``)."""
    return [
        {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in row.items()}
        for row in frame.to_dict("records")
    ]


FILTERS = {
    "number": number,
    "percent": percent,
    "money": money,
    "estimate": estimate,
    "day": day,
    "moment": moment,
    "week_label": week_label,
    "weeks_ru": weeks_ru,
    "within_days_ru": within_days_ru,
}
