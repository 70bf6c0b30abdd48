"""Which contacts to label next: one strategy, shared by ``taxonomy export-labeling`` and the
learning-curve benchmark (``benchmarks/learning_curve.py``), which measured it against labelling
at random on real sets (README, "How many labels you need").

The strategy (``choose``) mixes three things, each cheap:

* uncertainty — within a predicted reason, the contacts whose two most likely reasons are
  closest (smallest margin between the top two calibrated probabilities) come first;
* diversity and coverage — the picks go round the predicted reasons, the reasons with the fewest
  labels first, so one crowded, confusing pair of reasons cannot take the whole batch and a
  reason with few labels gets its examples early;
* a share of random picks (every ``1 / random_share``-th pick), which keeps the labels a
  sample of the real mix (the out-of-fold quality and volume corrections read them).

Measured on three shared real sets (2 seeds): the mix, margin alone and margin by reason all
need fewer labels than random to reach 95 % of the all-labels macro-F1, within noise of each
other; the mix is the one with a random sample at no measured cost.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

RANDOM_SHARE = 0.2  # share of picks drawn at random (every fifth)
STRATEGIES = ("random", "margin", "margin_by_reason", "mix")
# a reason with fewer labels than this is thin: its picks come first in every round (the
# `train` stage warns below 40 labels, params.yaml min_examples_per_reason)
THIN = 40


def margins(proba: np.ndarray) -> np.ndarray:
    """Top probability minus the runner-up's, per row (1 when there is one class)."""
    if proba.shape[1] < 2:
        return np.ones(len(proba))
    top2 = -np.partition(-proba, 1, axis=1)[:, :2]
    return top2[:, 0] - top2[:, 1]


def choose(
    margin: np.ndarray,
    predicted: Sequence,
    labelled_counts: Mapping[str, int],
    n: int,
    random_share: float = RANDOM_SHARE,
    seed: int = 0,
) -> list[tuple[int, str]]:
    """Up to ``n`` (row index, kind) pairs in the order to label them.

    ``margin``: per candidate, top minus runner-up probability (NaN: unknown, taken last within
    its reason); ``predicted``: the most likely reason of each candidate; ``labelled_counts``:
    labels per reason so far. Kind is ``"uncertain"`` (round the reasons, thinnest first, the
    smallest margin within each) or ``"random"``. Deterministic for a given ``seed``.
    """
    margin = np.asarray(margin, dtype=float)
    n = min(int(n), len(margin))
    every = round(1 / random_share) if random_share > 0 else 0
    rng = np.random.default_rng(seed)
    random_order = iter(rng.permutation(len(margin)))
    rounds = iter(round_robin(margin, predicted, labelled_counts))
    taken: set[int] = set()
    chosen: list[tuple[int, str]] = []
    while len(chosen) < n:
        kind = "random" if every and (len(chosen) + 1) % every == 0 else "uncertain"
        source = random_order if kind == "random" else rounds
        index = next((int(i) for i in source if int(i) not in taken), None)
        if index is None:  # that source is spent; the other one still has rows
            kind = "uncertain" if kind == "random" else "random"
            source = rounds if kind == "uncertain" else random_order
            index = next(int(i) for i in source if int(i) not in taken)
        taken.add(index)
        chosen.append((index, kind))
    return chosen


def round_robin(
    margin: np.ndarray, predicted: Sequence, labelled_counts: Mapping[str, int]
) -> list[int]:
    """Every row once, in rounds: each round takes the smallest-margin row left of every
    predicted reason; within a round, reasons with fewer than ``THIN`` labels first (fewest
    first), then by that row's margin (NaN margins last, ties by row)."""
    margin = np.asarray(margin, dtype=float)
    predicted = np.asarray([str(p) for p in predicted], dtype=object)
    filled = np.where(np.isnan(margin), np.inf, margin)
    depth = np.zeros(len(margin), dtype=int)  # place of the row in its reason's queue
    for reason in set(predicted):
        rows = np.flatnonzero(predicted == reason)
        depth[rows[np.argsort(filled[rows], kind="stable")]] = np.arange(len(rows))
    thin = np.array([min(labelled_counts.get(r, 0), THIN) for r in predicted])
    rows = np.arange(len(margin))
    return [int(i) for i in np.lexsort((rows, filled, thin, depth))]


def by_margin(margin: np.ndarray) -> list[int]:
    """Every row once, smallest margin first (pure uncertainty sampling; NaN last)."""
    margin = np.asarray(margin, dtype=float)
    return [int(i) for i in np.argsort(np.where(np.isnan(margin), np.inf, margin), kind="stable")]


def pick(
    strategy: str,
    proba: np.ndarray,
    classes: Sequence[str],
    labelled_counts: Mapping[str, int],
    n: int,
    seed: int = 0,
) -> list[int]:
    """The benchmark's entry: ``n`` rows of a pool chosen by one of ``STRATEGIES``."""
    n = min(n, len(proba))
    if strategy == "random":
        return [int(i) for i in np.random.default_rng(seed).permutation(len(proba))[:n]]
    margin = margins(proba)
    if strategy == "margin":
        return by_margin(margin)[:n]
    predicted = np.asarray(classes)[proba.argmax(axis=1)]
    share = RANDOM_SHARE if strategy == "mix" else 0.0
    return [i for i, _ in choose(margin, predicted, labelled_counts, n, share, seed)]
