"""Trend and spike detection on weekly contact counts (pipeline.closedloop.trends)."""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from pipeline.closedloop.series import TrendInputError
from pipeline.closedloop.spikes import spike
from pipeline.closedloop.trends import INDICATOR_COLUMNS, trend, week_range, weekly_indicators
from pipeline.io.weeks import WeekError, parse_week, week_bounds

WEEKS = np.arange(13)


# --- trend -------------------------------------------------------------------------------------


def test_rising_poisson_series_is_rising_with_slope_near_truth():
    counts = np.random.default_rng(11).poisson(200 + 10 * WEEKS)
    found = trend(counts)
    assert found.verdict == "rising"
    assert found.slope == pytest.approx(10, abs=3)
    assert found.p_value < 0.001
    assert found.n == 13


def test_falling_poisson_series_is_falling():
    counts = np.random.default_rng(12).poisson(400 - 12 * WEEKS)
    found = trend(counts)
    assert found.verdict == "falling"
    assert found.slope == pytest.approx(-12, abs=3)
    assert found.tau < 0


def test_stationary_poisson_series_is_flat():
    found = trend(np.random.default_rng(13).poisson(200, size=13))
    assert found.verdict == "flat"
    assert found.p_value > 0.05


def test_theil_sen_slope_is_exact_on_a_noiseless_line():
    found = trend(7 + 3.5 * WEEKS)
    assert found.slope == pytest.approx(3.5)
    assert found.slope_pct == pytest.approx(3.5 / np.median(7 + 3.5 * WEEKS))
    assert found.tau == pytest.approx(1.0)


def test_theil_sen_slope_matches_scipy_with_an_outlier():
    counts = np.random.default_rng(14).poisson(300 + 4 * WEEKS).astype(float)
    counts[6] = 2000  # one outage week must not move the slope much
    expected = stats.theilslopes(counts, WEEKS).slope
    assert trend(counts).slope == pytest.approx(expected)
    assert trend(counts).slope == pytest.approx(4, abs=3)


def test_mann_kendall_with_ties_matches_hand_computation():
    # pairs: (1,2)+ (1,2)+ (1,3)+ (2,2)0 (2,3)+ (2,3)+ -> S = 5; one tie group of 2
    # var = (4*3*13 - 2*1*9) / 18 = 7.667; z = (5 - 1) / sqrt(var); p = 2 * (1 - Phi(z))
    found = trend([1, 2, 2, 3], min_weeks=4)
    z = 4 / math.sqrt((4 * 3 * 13 - 2 * 1 * 9) / 18)
    assert found.p_value == pytest.approx(2 * stats.norm.sf(z))
    assert found.p_value == pytest.approx(0.1486, abs=1e-4)
    assert found.tau == pytest.approx(5 / 6)


def test_constant_series_is_flat_with_p_one():
    found = trend([40] * 13)
    assert (found.verdict, found.slope, found.p_value, found.tau) == ("flat", 0.0, 1.0, 0.0)


def test_significant_but_tiny_relative_slope_is_flat():
    # +10/week on ~2000/week is 0.5 %/week: significant, but below min_slope_pct = 1 %
    counts = 2000 + 10 * WEEKS + np.where(WEEKS % 2 == 0, 15, -15)
    found = trend(counts)
    assert found.p_value < 0.01
    assert found.slope_pct == pytest.approx(0.005, abs=0.001)
    assert found.verdict == "flat"
    assert trend(counts, min_slope_pct=0.001).verdict == "rising"


def test_new_reason_rising_from_zero_median_is_rising():
    found = trend([0, 0, 0, 0, 0, 0, 0, 0, 1, 3, 5, 8, 12])
    assert math.isnan(found.slope_pct)
    assert found.verdict == "rising"


@pytest.mark.parametrize(
    "values",
    [
        [10, 20, 30, 40, 50],
        [10, np.nan, 30, np.nan, 50, np.nan, 70, 80],
        [],
    ],
)
def test_fewer_than_min_weeks_values_is_insufficient(values):
    found = trend(values)
    assert found.verdict == "insufficient"
    assert math.isnan(found.slope) and math.isnan(found.p_value)
    assert found.n == int(np.sum(~np.isnan(np.asarray(values, dtype=float))))


def test_nan_weeks_are_ignored_but_keep_their_place_in_time():
    found = trend([10, 20, np.nan, 40, 50, 60, np.nan, 80])
    assert found.n == 6
    assert found.slope == pytest.approx(10)  # per calendar week, not per observed week
    assert found.verdict == "rising"


def test_infinite_value_is_an_error():
    with pytest.raises(TrendInputError, match="бесконечное значение в позиции недели 2"):
        trend([1, 2, np.inf, 4, 5, 6])


# --- spike -------------------------------------------------------------------------------------

STEADY = [195, 210, 188, 205, 199, 214, 192, 201]  # ~Poisson(200), sigma ~14


def test_five_sigma_week_is_a_spike():
    found = spike(STEADY, 200 + 5 * 14)
    assert found.is_spike
    assert found.expected == pytest.approx(200)
    assert found.excess == pytest.approx(70)
    assert found.p_value < 0.001


def test_one_sigma_week_is_not_a_spike():
    found = spike(STEADY, 200 + 14)
    assert not found.is_spike
    assert found.p_value > 0.05


def test_min_excess_keeps_tiny_reasons_quiet():
    # 8 on a baseline of 1 is improbable (p < alpha) but only 7 contacts more than usual
    found = spike([1, 0, 2, 1], 8)
    assert found.p_value < 0.001
    assert found.excess == pytest.approx(7)
    assert not found.is_spike
    assert spike([1, 0, 2, 1], 8, min_excess=0).is_spike


def test_overdispersed_history_does_not_fire_where_poisson_would():
    history = [100, 160, 70, 130, 90, 150, 60, 120]  # variance ~1300 on a mean of 110
    found = spike(history, 200)
    assert stats.poisson.sf(199, found.expected) < 1e-10  # a Poisson test would fire
    assert not found.is_spike
    assert found.p_value > 0.001


def test_on_trend_value_of_a_rising_series_is_not_a_spike():
    rising = [100, 111, 119, 131, 140, 149, 161, 170]
    on_trend = spike(rising, 180)
    assert on_trend.expected == pytest.approx(180, abs=3)
    assert not on_trend.is_spike
    assert on_trend.p_value > 0.2
    assert spike(rising, 180, trend_aware=False).expected == pytest.approx(135.5)
    assert spike(rising, 260).is_spike  # far above the trend line still fires


def test_falling_trend_baseline_never_goes_below_zero():
    found = spike([70, 60, 50, 40, 30, 20, 10, 5], 12)
    assert found.expected == 0
    assert found.p_value == 0.0
    assert found.is_spike


def test_short_history_and_nan_history_weeks():
    assert not spike([100, 105, 98], 500).is_spike
    assert math.isnan(spike([100, 105, 98], 500).p_value)
    with_gaps = spike([195, np.nan, 188, 205, np.nan, 214, 192, 201], 270)
    assert with_gaps.is_spike
    assert with_gaps.expected == pytest.approx(198)


# --- week_range ----------------------------------------------------------------------------------


def test_week_range_crosses_year_boundaries():
    assert week_range("2026-W02", 3) == ["2025-W52", "2026-W01", "2026-W02"]
    # 2026 starts on a Thursday, so it has an ISO week 53
    assert week_range("2027-W01", 2) == ["2026-W53", "2027-W01"]
    assert len(week_range("2026-W47", 13)) == 13
    assert week_range("2026-W47", 0) == []


@pytest.mark.parametrize(
    ("week", "message"),
    [
        ("2025-W53", "в 2025 году недели с W01 по W52"),
        ("2026-47", "ожидается ISO-неделя вида 2026-W47"),
    ],
)
def test_week_range_rejects_bad_weeks(week, message):
    with pytest.raises(TrendInputError, match=message):
        week_range(week, 3)


# --- weekly_indicators ---------------------------------------------------------------------------

DATA_WEEKS = week_range("2026-W03", 9)  # 2025-W47 .. 2026-W03


def _counts() -> pd.DataFrame:
    billing = [10, 20, 30, 40, 50, 60, 70, 80, 999]
    rows = [("billing", w, c) for w, c in zip(DATA_WEEKS, billing, strict=True)]
    rows += [("login", "2025-W48", 5), ("login", "2026-W01", 3)]
    rows += [("new_app", "2026-W02", 4)]
    return pd.DataFrame(rows, columns=["reason_id", "week", "contacts"])


def test_weekly_indicators_exact_numbers():
    counts = _counts()
    before = counts.copy()
    out = weekly_indicators(counts, "2026-W02", DATA_WEEKS).set_index("reason_id")
    pd.testing.assert_frame_equal(counts, before)  # input not mutated
    assert list(out.reset_index().columns) == list(INDICATOR_COLUMNS)
    assert list(out.index) == ["billing", "login", "new_app"]

    billing = out.loc["billing"]
    assert billing["contacts"] == 80 and billing["prev_week"] == 70
    assert billing["wow_change"] == pytest.approx(10 / 70)
    assert (billing["last4"], billing["prev4"]) == (260, 100)  # 50..80 and 10..40
    assert billing["change_4w"] == pytest.approx(1.6)
    assert billing["series"] == [10, 20, 30, 40, 50, 60, 70, 80]  # the later 999 is excluded
    assert billing["trend_verdict"] == "rising"
    assert billing["trend_slope"] == pytest.approx(10)
    assert billing["expected"] == pytest.approx(80)  # on the Theil–Sen line
    assert not billing["is_spike"]

    login = out.loc["login"]  # weeks without a row count as 0
    assert login["series"] == [0, 5, 0, 0, 0, 0, 3, 0]
    assert (login["contacts"], login["prev_week"], login["wow_change"]) == (0, 3, -1.0)
    assert (login["last4"], login["prev4"]) == (3, 5)
    assert login["change_4w"] == pytest.approx(-0.4)

    new_app = out.loc["new_app"]
    assert math.isnan(new_app["wow_change"]) and math.isnan(new_app["change_4w"])
    assert out["contacts"].dtype == np.int64


def test_weekly_indicators_before_enough_history_gives_nan_not_zero():
    out = weekly_indicators(_counts(), "2025-W50", DATA_WEEKS).set_index("reason_id")
    billing = out.loc["billing"]
    assert billing["last4"] == 100
    assert math.isnan(billing["prev4"]) and math.isnan(billing["change_4w"])
    assert billing["trend_verdict"] == "insufficient"
    assert billing["series"] == [10, 20, 30, 40]
    assert math.isnan(weekly_indicators(_counts(), "2025-W47", DATA_WEEKS)["prev_week"][0])


def test_weekly_indicators_flags_a_spike():
    weeks = week_range("2026-W47", 13)
    steady = [200, 195, 210, 188, 205, 199, 214, 192, 201, 207, 196, 203, 320]
    counts = pd.DataFrame({"reason_id": "delivery", "week": weeks, "contacts": steady})
    row = weekly_indicators(counts, "2026-W47", weeks).iloc[0]
    assert row["is_spike"]
    assert row["expected"] == pytest.approx(202)
    assert row["spike_p_value"] < 1e-6


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda c, w: (c, w[:3] + w[4:]), "за '2025-W49' идёт '2025-W51' \\(позиция 3\\)"),
        (lambda c, w: (c, w[1:]), r"недель \['2025-W47'\] нет в weeks"),
        (lambda c, w: (pd.concat([c, c.tail(1)]), w), "у 2 строк совпадают reason_id и week"),
        (lambda c, w: (c.assign(contacts=c["contacts"] - 20), w), "contacts — число контактов"),
        (lambda c, w: (c.drop(columns="week"), w), r"нет столбцов \['week'\]"),
    ],
    ids=["gap", "unknown week", "duplicate", "negative", "column"],
)
def test_weekly_indicators_rejects_bad_input(change, message):
    counts, weeks = change(_counts(), list(DATA_WEEKS))
    with pytest.raises(TrendInputError, match=message):
        weekly_indicators(counts, weeks[-1], weeks)


def test_weekly_indicators_rejects_report_week_outside_weeks():
    with pytest.raises(TrendInputError, match="report_week '2026-W10': такой недели нет в weeks"):
        weekly_indicators(_counts(), "2026-W10", DATA_WEEKS)


# --- false alarms ------------------------------------------------------------------------------


@pytest.mark.slow
def test_false_alarm_rates_on_stationary_poisson_series():
    rng = np.random.default_rng(2026)
    series = 2000
    means = np.exp(rng.uniform(np.log(5), np.log(500), size=series))
    counts = rng.poisson(means[:, None], size=(series, 13))
    spikes = sum(spike(row[4:12], row[12]).is_spike for row in counts)
    trends = sum(trend(row).verdict in ("rising", "falling") for row in counts)
    # nominal: spike alpha 0.001, trend alpha 0.05 two-sided
    assert spikes / series < 0.005
    assert trends / series < 0.05


@pytest.mark.slow
def test_doubling_of_a_100_a_week_reason_is_detected():
    rng = np.random.default_rng(7)
    history = rng.poisson(100, size=(500, 8))
    detected = sum(spike(row, rng.poisson(200)).is_spike for row in history)
    assert detected / 500 > 0.95


# --- one ISO-week rule ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "canonical"),
    [
        ("2026-W47", "2026-W47"),
        ("2026-W5", "2026-W05"),
        ("2026w05", "2026-W05"),
        (" 2026W53 ", "2026-W53"),
        ("2020-W53", "2020-W53"),
    ],
)
def test_typed_weeks_are_read_in_one_canonical_form(typed, canonical):
    assert parse_week(typed) == canonical


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("2026-W00", "в 2026 году недели с W01 по W53"),
        ("2025-W53", "в 2025 году недели с W01 по W52"),
        ("2026-W54", "не существует"),
        ("2026-47", "ожидается ISO-неделя вида 2026-W47"),
        ("47 неделя", "ожидается ISO-неделя"),
    ],
)
def test_weeks_that_do_not_exist_are_refused_in_russian(typed, message):
    with pytest.raises(WeekError, match=message):
        parse_week(typed)


def test_every_module_reads_weeks_by_the_same_rule():
    """Owner notes, params.yaml report_week, investigations and drivers agree on what a week is."""
    from pydantic import ValidationError

    from pipeline.closedloop.config import AggregateConfig
    from pipeline.closedloop.owner_notes import Note
    from pipeline.io.drivers import week_start_of

    assert AggregateConfig(report_week="2026w5").report_week == "2026-W05"
    with pytest.raises(ValidationError, match="W01 по W52"):
        AggregateConfig(report_week="2025-W53")
    note = dict(
        reason="x", author="Иванова", explanation="Сбой в приложении банка", action="Исправить"
    )
    assert Note(**note, week="2026-W5", action_start="2026-02-02").week == "2026-W05"
    with pytest.raises(ValidationError, match="не существует"):
        Note(**note, week="2026-W00", action_start="2026-02-02")
    mondays = week_start_of(
        pd.Series(["2026-W05", "2026w5", "2026-W00", "2025-W53", "2026-01-28"])
    )
    assert [None if pd.isna(d) else d.date().isoformat() for d in mondays] == [
        "2026-01-26",
        "2026-01-26",
        None,
        None,
        "2026-01-26",
    ]
    assert week_bounds("2026-W01") == (date(2025, 12, 29), date(2026, 1, 4))


def test_recent_window_follows_recent_weeks():
    """last4 / prev4 keep their column names but sum ``recent_weeks`` weeks: billing's last two
    weeks are 80 + 999, the two before 60 + 70; with the default 4: 60..999 against 20..50."""
    two = weekly_indicators(_counts(), "2026-W03", DATA_WEEKS, recent_weeks=2).set_index(
        "reason_id"
    )
    assert (two.loc["billing", "last4"], two.loc["billing", "prev4"]) == (1079, 130)
    assert two.loc["billing", "change_4w"] == pytest.approx(1079 / 130 - 1)
    four = weekly_indicators(_counts(), "2026-W03", DATA_WEEKS).set_index("reason_id")
    assert (four.loc["billing", "last4"], four.loc["billing", "prev4"]) == (1209, 140)


def test_pooled_dispersion_recovers_the_weeks_overdispersion():
    """28 reasons x 8 weeks of gamma-Poisson counts with a = 0.05: the pooled estimate is near
    0.05, where one reason's 8 weeks are often near 0 (which made ordinary noise a «всплеск»)."""
    from pipeline.closedloop.spikes import pooled_dispersion

    rng = np.random.default_rng(7)
    estimates = []
    for _ in range(40):
        means = np.exp(rng.uniform(np.log(5), np.log(2000), size=28))
        counts = rng.poisson(rng.gamma(20.0, np.repeat(means[:, None], 8, axis=1) * 0.05))
        estimates.append(pooled_dispersion(counts))
    assert 0.035 < float(np.median(estimates)) < 0.065
    poisson = rng.poisson(np.full((28, 8), 300.0))
    assert pooled_dispersion(poisson) < 0.005
