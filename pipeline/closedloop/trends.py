"""Weekly trend and spike detection for contact-reason volume series.

A series is the weekly contact count of one reason (typically 5–2000 a week, 13 weeks shown).

* :func:`trend` — Mann–Kendall test (tie-corrected variance, continuity correction) for direction
  and significance, Theil–Sen slope for size. "rising"/"falling" needs both a small p and a slope
  of at least ``min_slope_pct`` of the series median per week, so a significant 0.3 %/week drift
  of a 2000-a-week reason stays "flat".
* :func:`spike` — one-step predictive test of the report week against a robust baseline from the
  weeks before it: the median of the last weeks, or the Theil–Sen line when the history itself
  trends. Overdispersion (negative binomial) is estimated from the history, the uncertainty of
  the baseline is added to it, and an absolute floor (``min_excess``) keeps tiny reasons quiet.
  Only upward spikes are detected.
* :func:`weekly_indicators` — both, plus week-over-week and 4-week changes, for every reason.

All functions are pure: they never mutate their inputs and never touch the filesystem.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

from pipeline.closedloop.series import (
    TrendInputError,
    finite_or_nan,
    mann_kendall,
    theil_sen,
)
from pipeline.closedloop.spikes import pooled_dispersion, spike
from pipeline.io.weeks import WeekError, monday_of
from pipeline.io.weeks import week_range as iso_week_range

INDICATOR_COLUMNS = (
    "reason_id",
    "contacts",
    "prev_week",
    "wow_change",
    "last4",
    "prev4",
    "change_4w",
    "trend_verdict",
    "trend_slope",
    "trend_slope_pct",
    "trend_p",
    "expected",
    "spike_p_value",
    "is_spike",
    "series",
)


@dataclass(frozen=True)
class Trend:
    verdict: str
    """"rising" | "falling" | "flat" | "insufficient"."""
    slope: float
    """Theil–Sen slope, contacts per week."""
    slope_pct: float
    """``slope`` relative to the series median, per week (0.05 = +5 %/week); NaN if median 0."""
    p_value: float
    """Mann–Kendall two-sided p-value (tie-corrected variance, continuity correction)."""
    tau: float
    """Kendall's tau-a of counts against week order: S / (n (n - 1) / 2)."""
    n: int
    """Number of non-NaN weeks used."""


def trend(
    values: Sequence[float],
    alpha: float = 0.05,
    min_weeks: int = 6,
    min_slope_pct: float = 0.01,
) -> Trend:
    """Direction and size of the trend of a weekly series; NaN weeks are ignored.

    The slope is per calendar week: a NaN week keeps its place on the time axis.
    """
    weeks, y = finite_or_nan(values, "trend values")
    n = int(y.size)
    if n < max(min_weeks, 2):
        return Trend("insufficient", math.nan, math.nan, math.nan, math.nan, n)
    s, p_value, tau = mann_kendall(y)
    slope, _ = theil_sen(weeks, y)
    median = float(np.median(y))
    slope_pct = slope / median if median != 0 else math.nan
    # median 0 (a reason that was mostly absent): no relative size, any non-zero slope counts
    large_enough = abs(slope_pct) >= min_slope_pct if median != 0 else slope != 0
    same_sign = np.sign(slope) == np.sign(s)
    if p_value < alpha and large_enough and same_sign:
        verdict = "rising" if s > 0 else "falling"
    else:
        verdict = "flat"
    return Trend(verdict, slope, slope_pct, p_value, tau, n)


def _week_start(week: str) -> date:
    try:
        return monday_of(week)
    except WeekError as error:
        raise TrendInputError(str(error)) from None


def week_range(last_week: str, n: int) -> list[str]:
    """The ``n`` ISO weeks ending at ``last_week``, oldest first (crosses year boundaries)."""
    try:
        return iso_week_range(last_week, n)
    except WeekError as error:
        raise TrendInputError(str(error)) from None


def _check_weeks(weeks: list[str], report_week: str) -> None:
    if not weeks:
        raise TrendInputError("weeks: список недель пуст")
    starts = [_week_start(week) for week in weeks]
    for position in range(1, len(weeks)):
        if starts[position] - starts[position - 1] != timedelta(weeks=1):
            span = (starts[-1] - starts[0]).days // 7 + 1
            raise TrendInputError(
                f"weeks: ожидаются идущие подряд ISO-недели от старой к новой; за "
                f"{weeks[position - 1]!r} идёт {weeks[position]!r} (позиция {position}). "
                f"Передайте week_range({weeks[-1]!r}, {span})."
            )
    if report_week not in weeks:
        raise TrendInputError(
            f"report_week {report_week!r}: такой недели нет в weeks ({weeks[0]}..{weeks[-1]})"
        )


def _count_matrix(counts: pd.DataFrame, weeks: list[str]) -> pd.DataFrame:
    """reason_id x week table of counts; a reason x week missing from ``counts`` is 0."""
    missing = [c for c in ("reason_id", "week", "contacts") if c not in counts.columns]
    if missing:
        raise TrendInputError(
            f"counts: нет столбцов {missing}; ожидаются reason_id, week, contacts"
        )
    unknown = sorted(set(counts["week"]) - set(weeks))
    if unknown:
        raise TrendInputError(
            f"counts: недель {unknown[:5]} нет в weeks ({weeks[0]}..{weeks[-1]})"
        )
    duplicated = counts.duplicated(["reason_id", "week"], keep=False)
    if duplicated.any():
        first = counts.loc[duplicated, ["reason_id", "week"]].iloc[0]
        raise TrendInputError(
            f"counts: у {int(duplicated.sum())} строк совпадают reason_id и week, например "
            f"{first['reason_id']!r} {first['week']!r}; сложите их в одну строку на причину и "
            "неделю"
        )
    contacts = pd.to_numeric(counts["contacts"], errors="coerce")
    bad = contacts.isna() | (contacts < 0)
    if bad.any():
        row = counts.loc[bad].iloc[0]
        raise TrendInputError(
            f"counts: contacts — число контактов ≥ 0; у {row['reason_id']!r} {row['week']!r} "
            f"найдено {row['contacts']!r}"
        )
    table = counts.assign(contacts=contacts).pivot(
        index="reason_id", columns="week", values="contacts"
    )
    return table.reindex(columns=weeks).fillna(0.0)


def _relative_change(new: np.ndarray, old: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(old > 0, (new - old) / old, np.nan)


def _trend_and_spike(
    windows: np.ndarray,
    histories: np.ndarray,
    observed: np.ndarray,
    trend_options: dict,
    spike_options: dict,
) -> pd.DataFrame:
    """Per row (reason): the trend over its window and the spike test of its last week."""
    floor = pooled_dispersion(histories)
    rows = []
    for window, history, value in zip(windows, histories, observed, strict=True):
        found = trend(window, **trend_options)
        jump = spike(history, value, dispersion_floor=floor, **spike_options)
        rows.append(
            {
                "trend_verdict": found.verdict,
                "trend_slope": found.slope,
                "trend_slope_pct": found.slope_pct,
                "trend_p": found.p_value,
                "expected": jump.expected,
                "spike_p_value": jump.p_value,
                "is_spike": jump.is_spike,
                "series": [int(v) for v in window[~np.isnan(window)]],
            }
        )
    return pd.DataFrame(rows, columns=INDICATOR_COLUMNS[7:])


def weekly_indicators(
    counts: pd.DataFrame,
    report_week: str,
    weeks: list[str],
    *,
    trend_weeks: int = 13,
    spike_history: int = 8,
    alpha: float = 0.05,
    spike_alpha: float = 0.001,
    min_excess: float = 10,
    min_slope_pct: float = 0.01,
    recent_weeks: int = 4,
) -> pd.DataFrame:
    """One row per reason_id: report-week volume, changes, trend and spike verdicts.

    ``counts`` has columns reason_id, week (ISO week, "2026-W47"), contacts; ``weeks`` is the
    ordered, consecutive list of weeks in the data. A reason x week absent from ``counts`` is 0;
    weeks before ``weeks[0]`` are unknown, so indicators that need them are NaN.

    Columns: contacts (report week), prev_week, wow_change (relative, NaN if prev_week is 0),
    last4 (sum of the ``recent_weeks`` weeks ending at the report week; the column keeps its
    name whatever the window), prev4 (as many before), change_4w
    (relative), trend_* (on the ``trend_weeks`` weeks ending at the report week), expected,
    spike_p_value, is_spike (report week against the ``spike_history`` weeks before it) and
    series (the trend window's counts as ints, for sparklines).
    """
    weeks = [str(w) for w in weeks]
    _check_weeks(weeks, report_week)
    table = _count_matrix(counts, weeks)
    end = weeks.index(report_week) + 1
    pad = max(trend_weeks, spike_history + 1, 2 * recent_weeks)
    # NaN columns for weeks before the data starts, so every window below has a fixed width
    matrix = np.hstack([np.full((len(table), pad), np.nan), table.to_numpy(float)[:, :end]])

    contacts, prev_week = matrix[:, -1], matrix[:, -2]
    last4 = matrix[:, -recent_weeks:].sum(axis=1)
    prev4 = matrix[:, -2 * recent_weeks : -recent_weeks].sum(axis=1)
    details = _trend_and_spike(
        matrix[:, -trend_weeks:],
        matrix[:, -(spike_history + 1) : -1],
        contacts,
        dict(alpha=alpha, min_slope_pct=min_slope_pct),
        dict(alpha=spike_alpha, min_excess=min_excess),
    )
    frame = pd.DataFrame(
        {
            "reason_id": table.index.to_numpy(),
            "contacts": contacts.astype(np.int64),
            "prev_week": prev_week,
            "wow_change": _relative_change(contacts, prev_week),
            "last4": last4,
            "prev4": prev4,
            "change_4w": _relative_change(last4, prev4),
        }
    )
    return pd.concat([frame, details], axis=1)[list(INDICATOR_COLUMNS)]
