"""Spike test of a reason's report week against a negative-binomial baseline of the weeks
before it, with the dispersion pooled over the report's reasons."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

from pipeline.closedloop.series import TrendInputError, finite_or_nan, mann_kendall, theil_sen

LEVEL_WEEKS = 8
"""Spike baseline without a trend: median of at most this many weeks before the report week."""

HISTORY_TREND_ALPHA = 0.05
"""With ``trend_aware``, the spike baseline follows the Theil–Sen line below this MK p-value."""

MEDIAN_VARIANCE_FACTOR = math.pi / 2
"""Variance of a sample median relative to that of the mean (normal data): pi / 2."""


@dataclass(frozen=True)
class Spike:
    is_spike: bool
    expected: float
    """Baseline for the report week, contacts (NaN if the history is too short)."""
    observed: float
    p_value: float
    """P(X >= observed) under the predictive negative binomial (or Poisson) distribution."""
    excess: float
    """``observed - expected``, contacts."""


def _baseline(
    weeks: np.ndarray, y: np.ndarray, next_week: int, trend_aware: bool
) -> tuple[float, np.ndarray, np.ndarray, int, float]:
    """Expected count for ``next_week`` and the data to estimate dispersion from.

    Returns (expected, values, fitted values, parameters fitted, variance factor of the
    baseline estimate relative to one week's variance).
    """
    if trend_aware and y.size >= 3 and mann_kendall(y)[1] < HISTORY_TREND_ALPHA:
        slope, intercept = theil_sen(weeks, y)
        expected = max(intercept + slope * next_week, 0.0)
        fitted = np.maximum(intercept + slope * weeks, 0.0)
        # one-step-ahead extrapolation variance of a fitted line (OLS formula)
        centred = weeks - weeks.mean()
        factor = 1 / y.size + (next_week - weeks.mean()) ** 2 / float(np.sum(centred**2))
        return expected, y, fitted, 2, factor
    recent = y[-LEVEL_WEEKS:]
    level = float(np.median(recent))
    return level, recent, np.full(recent.size, level), 1, MEDIAN_VARIANCE_FACTOR / recent.size


def _nb_dispersion(values: np.ndarray, fitted: np.ndarray, parameters: int) -> float:
    """Method-of-moments NB dispersion a in var = mu + a mu² (0 = Poisson is enough)."""
    dof = values.size - parameters
    squares = float(np.sum(fitted**2))
    if dof <= 0 or squares == 0:
        return 0.0
    residual_ss = float(np.sum((values - fitted) ** 2)) * values.size / dof
    return max((residual_ss - float(np.sum(fitted))) / squares, 0.0)


def spike(
    history: Sequence[float],
    observed: float,
    alpha: float = 0.001,
    min_excess: float = 10,
    min_history: int = 4,
    trend_aware: bool = True,
    dispersion_floor: float = 0.0,
) -> Spike:
    """Is ``observed`` (the report week) an upward spike over the weeks before it?

    ``history`` ends the week before the report week; NaN weeks are ignored. The predictive
    distribution is NB(mean=expected, var = mu + a' mu²) with a' = a (1 + c) + c / mu, where
    ``a`` is the history's dispersion and ``c`` the variance of the baseline estimate relative
    to one week's variance (pi / 2m for a median of m weeks), so that a short history does not
    make the test overconfident. ``dispersion_floor``: the dispersion pooled over every reason
    of the week (``pooled_dispersion``); eight weeks estimate one reason's ``a`` badly, and an
    underestimate turns ordinary overdispersed noise into «всплеск».
    """
    if min_history < 2:
        raise TrendInputError(
            f"spike: min_history должно быть не меньше 2, получено {min_history}"
        )
    weeks, y = finite_or_nan(history, "spike history")
    observed = float(observed)
    if y.size < min_history or math.isnan(observed):
        return Spike(False, math.nan, observed, math.nan, math.nan)
    expected, values, fitted, parameters, factor = _baseline(weeks, y, len(history), trend_aware)
    excess = observed - expected
    dispersion = max(_nb_dispersion(values, fitted, parameters), dispersion_floor)
    p_value = _upper_tail(observed, expected, dispersion, factor)
    return Spike(
        bool(p_value < alpha and excess >= min_excess), expected, observed, p_value, excess
    )


# series whose weekly mean is at least this many contacts inform the pooled dispersion (below
# it, Poisson noise swamps the extra variance)
POOL_MIN_MEAN = 30.0


def pooled_dispersion(
    histories: np.ndarray, min_history: int = 4, trend_aware: bool = True
) -> float:
    """One NB dispersion ``a`` (var = mu + a mu²) for all series: the mean of the series'
    method-of-moments estimates, over series averaging at least ``POOL_MIN_MEAN`` a week (each
    such series weighs the same; weighting by mu² would let the largest reason decide). 28
    reasons of 8 weeks estimate it far better than one reason's 8 weeks do."""
    estimates = []
    for row in np.atleast_2d(histories):
        weeks, y = finite_or_nan(row, "spike history")
        if y.size < min_history:
            continue
        _, values, fitted, parameters, _ = _baseline(weeks, y, len(row), trend_aware)
        dof = values.size - parameters
        level = float(np.mean(fitted))
        if dof <= 0 or level < POOL_MIN_MEAN:
            continue
        variance = float(np.sum((values - fitted) ** 2)) / dof
        estimates.append((variance - level) / level**2)
    return max(float(np.mean(estimates)), 0.0) if estimates else 0.0


def _upper_tail(observed: float, expected: float, dispersion: float, factor: float) -> float:
    """P(X >= observed) for X ~ NB(mean=expected) with the predictive dispersion."""
    if expected <= 0:
        return 1.0 if observed <= 0 else 0.0
    threshold = math.ceil(observed) - 1
    predictive = dispersion * (1 + factor) + factor / expected
    if predictive <= 0:
        return float(stats.poisson.sf(threshold, expected))
    size = 1 / predictive
    return float(stats.nbinom.sf(threshold, size, size / (size + expected)))
