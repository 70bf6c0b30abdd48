"""Shared by the trend and the spike tests: the error type, Mann–Kendall, Theil–Sen and the
reading of a weekly series (NaN weeks keep their place on the time axis)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from pipeline.errors import PipelineError


class TrendInputError(PipelineError, ValueError):
    """A weekly count table or week list cannot be used; the message says what and how to fix."""


def mann_kendall(values: np.ndarray) -> tuple[float, float, float]:
    """Mann–Kendall S, two-sided p-value and tau-a of a 1-d series without NaN (O(n²))."""
    n = values.size
    if n < 2:
        return 0.0, 1.0, math.nan
    signs = np.sign(values[None, :] - values[:, None])  # [i, j] = sign(y_j - y_i)
    s = float(np.triu(signs, k=1).sum())
    _, ties = np.unique(values, return_counts=True)
    variance = (n * (n - 1) * (2 * n + 5) - float(np.sum(ties * (ties - 1) * (2 * ties + 5)))) / 18
    tau = s / (n * (n - 1) / 2)
    if variance <= 0 or s == 0:  # constant series, or no evidence either way
        return s, 1.0, tau
    z = (s - math.copysign(1.0, s)) / math.sqrt(variance)
    return s, min(1.0, math.erfc(abs(z) / math.sqrt(2))), tau


def theil_sen(weeks: np.ndarray, values: np.ndarray) -> tuple[float, float]:
    """Theil–Sen slope (median of pairwise slopes) and intercept (median of y - slope * x)."""
    i, j = np.triu_indices(values.size, k=1)
    slope = float(np.median((values[j] - values[i]) / (weeks[j] - weeks[i])))
    intercept = float(np.median(values - slope * weeks))
    return slope, intercept


def finite_or_nan(values: Sequence[float], what: str) -> tuple[np.ndarray, np.ndarray]:
    """The non-NaN values of a 1-d series and their week positions (0 = first element)."""
    y = np.asarray(values, dtype=float)
    if y.ndim != 1:
        raise TrendInputError(
            f"{what}: ожидается одномерный ряд недельных чисел, получена форма {y.shape}"
        )
    if np.isinf(y).any():
        raise TrendInputError(
            f"{what}: бесконечное значение в позиции недели {np.isinf(y).argmax()}"
        )
    keep = ~np.isnan(y)
    return np.flatnonzero(keep).astype(float), y[keep]
