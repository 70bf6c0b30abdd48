"""False alarms, detection power and speed of ``pipeline.closedloop.trends`` on simulated
weekly counts.

    python benchmarks/trend_false_alarms.py --series 10000 --weeks 13 --seed 0 [--out FILE.json]

Every simulated series has ``--weeks`` weeks ending at the report week, used the way
``weekly_indicators`` uses them with its defaults: the trend test sees all of them, the spike
test compares the last week with the 8 weeks before it.

``spike`` alone estimates one reason's dispersion from its 8 weeks; ``weekly_indicators`` (what
the pipeline runs) pools the dispersion over the report's reasons: the rows "28 reasons a
report" measure that path.

Noise models: Poisson, and negative binomial (gamma-Poisson, var = mu + 0.05 mu², i.e. a
100-a-week reason has a standard deviation of 24.5 instead of 10). Stationary series draw their
mean log-uniformly from 5 to 2000 contacts a week.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.closedloop.spikes import spike
from pipeline.closedloop.trends import trend, week_range, weekly_indicators

SPIKE_HISTORY = 8
NB_DISPERSION = 0.05
NOISE = {"poisson": 0.0, f"nb({NB_DISPERSION})": NB_DISPERSION}
MEAN_RANGE = (5, 2000)
REPORT_WEEK = "2026-W47"


def draw(rng: np.random.Generator, means: np.ndarray, dispersion: float) -> np.ndarray:
    """Counts with the given means: Poisson, or gamma-Poisson with var = mu + dispersion mu²."""
    if dispersion > 0:
        means = rng.gamma(1 / dispersion, means * dispersion)
    return rng.poisson(means)


def wilson(hits: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """95 % Wilson score interval of a proportion."""
    rate = hits / n
    centre = (rate + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(rate * (1 - rate) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def rate_row(metric: str, noise: str, scenario: str, hits: int, n: int) -> dict:
    low, high = wilson(hits, n)
    return {
        "metric": metric,
        "noise": noise,
        "scenario": scenario,
        "rate": hits / n,
        "ci_low": low,
        "ci_high": high,
        "n": n,
    }


def is_spike(row: np.ndarray, trend_aware: bool = True) -> bool:
    return spike(row[-SPIKE_HISTORY - 1 : -1], row[-1], trend_aware=trend_aware).is_spike


def has_trend(row: np.ndarray) -> bool:
    return trend(row).verdict in ("rising", "falling")


def count(rows: np.ndarray, test: Callable[[np.ndarray], bool]) -> int:
    return int(sum(test(row) for row in rows))


def stationary(rng, series: int, weeks: int, dispersion: float) -> np.ndarray:
    means = np.exp(rng.uniform(*np.log(MEAN_RANGE), size=series))
    return draw(rng, np.repeat(means[:, None], weeks, axis=1), dispersion)


def false_alarms(rng, series: int, weeks: int) -> list[dict]:
    rows = []
    for noise, dispersion in NOISE.items():
        counts = stationary(rng, series, weeks, dispersion)
        scenario = f"stationary, mean {MEAN_RANGE[0]}..{MEAN_RANGE[1]}"
        rows.append(
            rate_row("spike false alarms", noise, scenario, count(counts, is_spike), series)
        )
        rows.append(
            rate_row("trend false alarms", noise, scenario, count(counts, has_trend), series)
        )
        # a rising reason's report week on its trend line is not a spike
        growth = 1.05 ** np.arange(weeks)
        rising = draw(rng, np.full((series, weeks), 100.0) * growth, dispersion)
        for aware in (True, False):
            hits = count(rising, lambda row, aware=aware: is_spike(row, trend_aware=aware))
            label = "on" if aware else "off"
            rows.append(
                rate_row(
                    "spike false alarms",
                    noise,
                    f"+5%/week from 100, trend_aware {label}",
                    hits,
                    series,
                )
            )
    return rows


def spike_power(rng, series: int, weeks: int) -> list[dict]:
    rows = []
    for noise, dispersion in NOISE.items():
        for mean in (100, 1000):
            for lift in (0.5, 1.0):
                means = np.full((series, weeks), float(mean))
                means[:, -1] *= 1 + lift
                counts = draw(rng, means, dispersion)
                rows.append(
                    rate_row(
                        "spike power",
                        noise,
                        f"+{lift:.0%} on mean {mean}",
                        count(counts, is_spike),
                        series,
                    )
                )
    return rows


def trend_power(rng, series: int, weeks: int) -> list[dict]:
    rows = []
    for noise, dispersion in NOISE.items():
        for mean in (100, 1000):
            for growth in (0.02, 0.05):
                means = np.full((series, weeks), float(mean)) * (1 + growth) ** np.arange(weeks)
                counts = draw(rng, means, dispersion)
                hits = count(counts, lambda row: trend(row).verdict == "rising")
                rows.append(
                    rate_row(
                        "trend power (rising)",
                        noise,
                        f"+{growth:.0%}/week from {mean}",
                        hits,
                        series,
                    )
                )
    return rows


REASONS_PER_WEEK = 28


def indicator_spikes(counts: np.ndarray) -> int:
    """Spikes ``weekly_indicators`` reports for the series taken 28 at a time, as the reasons
    of one report: the product's path, with the dispersion pooled over the week's reasons."""
    weeks = counts.shape[1]
    week_list = week_range(REPORT_WEEK, weeks)
    hits = 0
    for start in range(0, len(counts), REASONS_PER_WEEK):
        block = counts[start : start + REASONS_PER_WEEK]
        frame = pd.DataFrame(
            {
                "reason_id": np.repeat([f"r{i:02d}" for i in range(len(block))], weeks),
                "week": np.tile(week_list, len(block)),
                "contacts": block.ravel(),
            }
        )
        result = weekly_indicators(frame, REPORT_WEEK, week_list, spike_history=SPIKE_HISTORY)
        hits += int(result["is_spike"].sum())
    return hits


def pooled_false_alarms(rng, series: int, weeks: int) -> list[dict]:
    rows = []
    for noise, dispersion in NOISE.items():
        counts = stationary(rng, series, weeks, dispersion)
        scenario = f"stationary, {REASONS_PER_WEEK} reasons a report"
        rows.append(
            rate_row("spike false alarms", noise, scenario, indicator_spikes(counts), series)
        )
    return rows


def indicator_timing(rng, weeks: int, repeats: int = 20) -> dict:
    """Wall time of weekly_indicators on 30 reasons x ``weeks`` weeks (median of repeats)."""
    week_list = week_range(REPORT_WEEK, weeks)
    means = np.exp(rng.uniform(*np.log(MEAN_RANGE), size=30))
    frame = pd.DataFrame(
        [
            (f"reason_{r:02d}", week, int(rng.poisson(means[r])))
            for r in range(30)
            for week in week_list
        ],
        columns=["reason_id", "week", "contacts"],
    )
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        weekly_indicators(frame, REPORT_WEEK, week_list)
        times.append(time.perf_counter() - start)
    return {
        "reasons": 30,
        "weeks": weeks,
        "repeats": repeats,
        "median_ms": 1000 * float(np.median(times)),
        "max_ms": 1000 * float(np.max(times)),
    }


def print_table(rows: list[dict], timing: dict) -> None:
    header = f"{'metric':<22} {'noise':<10} {'scenario':<37} {'rate':>7}  {'95% CI':<17} {'n':>6}"
    print(header)
    print("-" * len(header))
    for row in rows:
        ci = f"{row['ci_low']:.2%}..{row['ci_high']:.2%}"
        print(
            f"{row['metric']:<22} {row['noise']:<10} {row['scenario']:<37} "
            f"{row['rate']:>7.2%}  {ci:<17} {row['n']:>6}"
        )
    print(
        f"\nweekly_indicators, {timing['reasons']} reasons x {timing['weeks']} weeks: "
        f"median {timing['median_ms']:.1f} ms, max {timing['max_ms']:.1f} ms "
        f"({timing['repeats']} runs)"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=10000, help="series per scenario")
    parser.add_argument("--weeks", type=int, default=13, help="weeks per series")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, help="also write the results as JSON here")
    args = parser.parse_args(argv)
    if args.weeks < SPIKE_HISTORY + 1:
        parser.error(f"--weeks must be at least {SPIKE_HISTORY + 1} (spike history + 1)")

    rng = np.random.default_rng(args.seed)
    start = time.perf_counter()
    rows = false_alarms(rng, args.series, args.weeks)
    rows += pooled_false_alarms(rng, args.series, args.weeks)
    rows += spike_power(rng, args.series, args.weeks)
    rows += trend_power(rng, args.series, args.weeks)
    timing = indicator_timing(rng, args.weeks)
    elapsed = time.perf_counter() - start

    print_table(rows, timing)
    print(f"total benchmark time {elapsed:.1f} s")
    if args.out:
        result = {
            "params": {
                "series": args.series,
                "weeks": args.weeks,
                "seed": args.seed,
                "spike_history": SPIKE_HISTORY,
                "nb_dispersion": NB_DISPERSION,
                "mean_range": MEAN_RANGE,
            },
            "results": rows,
            "weekly_indicators": timing,
        }
        args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
