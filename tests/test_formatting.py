"""Russian number, percent and date formatting of the reports (Babel, locale ``ru``)."""

from __future__ import annotations

from datetime import date

import pytest

from pipeline.reporting import formatting


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1234, "1\u00a0234"),
        (1234567.4, "1\u00a0234\u00a0567"),
        (0, "0"),
        (-12, "−12"),
        (None, "—"),
        (float("nan"), "—"),
    ],
)
def test_numbers_in_russian(value, expected):
    assert formatting.number(value) == expected


def test_percent_money_dates_in_russian():
    assert formatting.percent(0.125) == "12,5\u00a0%"
    assert formatting.percent(0.3, 0, signed=True) == "+30\u00a0%"
    assert formatting.percent(-0.05, 0, signed=True) == "−5\u00a0%"
    assert formatting.money(25_500_000) == "25,5\u00a0млн\u00a0₽"
    assert formatting.money(43_000) == "43\u00a0тыс.\u00a0₽"
    assert formatting.day(date(2026, 11, 2)) == "2\u00a0нояб.\u00a02026"
    assert formatting.day("2026-05-09") == "9\u00a0мая\u00a02026"
    assert formatting.week_label("2026-W47") == "16–22\u00a0нояб.\u00a02026"
    assert formatting.week_label("2026-W40") == "28\u00a0сент. – 4\u00a0окт.\u00a02026"


def test_estimate_with_its_interval_in_russian():
    assert formatting.estimate(1212.4, 1190.2, 1236.0) == "1\u00a0212\u00a0(1\u00a0190–1\u00a0236)"
    assert formatting.estimate(0.0, 0.0, 3.4) == "0\u00a0(0–3)"
    assert formatting.estimate(12.0, None, None) == "12"
    assert formatting.estimate(float("nan"), 1.0, 2.0) == "—"


@pytest.mark.parametrize(
    ("value", "digits", "expected"),
    [
        # ties round half to even on the float's exact value, as f"{x:.Nf}" always did
        (2.5, 0, "2"),
        (3.5, 0, "4"),
        (0.125, 2, "0,12"),
        (2.675, 2, "2,67"),  # 2.675 is 2.67499… as a float
        (-0.3, 0, "−0"),
        (1234567.891, 3, "1\u00a0234\u00a0567,891"),
    ],
)
def test_rounding_is_what_the_pages_always_printed(value, digits, expected):
    assert formatting.number(value, digits) == expected


def test_percent_rounds_the_float_product_as_before():
    # 100 * 0.285 is 28.499999999999996 as a float: 28 %, not the 28,5 % of exact arithmetic
    assert formatting.percent(0.285, 0) == "28\u00a0%"
    assert formatting.percent(0.00125, 2) == "0,12\u00a0%"
    assert formatting.percent(1.5, 0, signed=True) == "+150\u00a0%"


def test_month_names_across_the_year_and_a_year_boundary():
    months = [formatting.day(date(2026, m, 1)).split("\u00a0")[1] for m in range(1, 13)]
    assert months == [
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
    ]
    assert formatting.week_label("2026-W53") == "28\u00a0дек.\u00a02026 – 3\u00a0янв.\u00a02027"


@pytest.mark.parametrize(
    ("count", "text"),
    [
        (1, "1 неделя"),
        (2, "2 недели"),
        (4, "4 недели"),
        (5, "5 недель"),
        (11, "11 недель"),
        (13, "13 недель"),
        (21, "21 неделя"),
        (22, "22 недели"),
    ],
)
def test_week_counts_are_written_with_russian_plurals(count, text):
    assert formatting.weeks_ru(count) == text


@pytest.mark.parametrize(
    ("count", "text"),
    [
        (1, "в течение 1 дня"),
        (7, "в течение 7 дней"),
        (11, "в течение 11 дней"),
        (21, "в течение 21 дня"),
        (2, "в течение 2 дней"),
    ],
)
def test_day_windows_are_written_in_the_genitive(count, text):
    assert formatting.within_days_ru(count) == text
