"""Reason volumes corrected for the classifier's errors (quantification), with an interval.

A week's count of contacts the classifier assigned to a reason is biased: the reason loses the
contacts the classifier gives to other reasons and collects theirs, and both depend on the week's
mix. Adjusted classify-and-count (ACC; Forman 2008, "Quantifying counts and costs via
classification") undoes this with the classifier's out-of-fold confusion counts ``C`` (rows: true
reason, columns: predicted reason, the same order). All functions are pure (numpy only).

**Error rates.** ``M[i, j]`` = P(predicted j | true i). Each row is the posterior mean of its
counts under a Dirichlet prior worth ``prior_examples`` (``w``, default ``PRIOR_EXAMPLES`` = 10)
labelled examples, ``M[i] = (C[i] + w π[i]) / (n_i + w)``: ``π[i]`` has the pooled out-of-fold
accuracy on the diagonal and the rest spread evenly over the other reasons that have examples
(the model predicts no other). A row of 200 examples barely moves; a row of two examples, both
taken for reason X, no longer looks exactly like X's row, so it cannot take X's contacts -
without the prior it does, and reasons with a handful of examples come out worse corrected than
raw. ``prior_examples=0`` is textbook ACC. A reason with no labelled example has no row to learn
from: it gets the identity row (its contacts taken as correctly classified), so its estimate
stays its raw count.

**Estimate.** The observed counts ``o`` of a week are in expectation ``Mᵀ q`` for its true counts
``q``. The estimate is the exact solution of

    minimise ||Mᵀ q − o||² + ε ||q − o||²   subject to   q ≥ 0,  Σ q = Σ o

(an active-set method in the manner of Lawson & Hanson with the sum as an equality constraint,
vectorised over weeks and bootstrap draws). When ``Mᵀ q = o`` has a non-negative solution it is
that solution. ε = ``TIE_BREAK`` only decides between equally good answers: where the confusion
cannot tell reasons apart (a singular ``M``, e.g. a reason always predicted as another), the
estimate is the one closest to the raw counts. A reason the classifier never predicts is such a
case: its contacts look like a mix of the reasons they are taken for, so its estimate stays near
its raw count of zero. A week without contacts estimates zero.

**Interval.** Percentile bootstrap: in each of ``draws`` draws (fixed seed, so deterministic)
every row of ``M`` is redrawn from its Dirichlet posterior ``Dirichlet(C[i] + w π)`` and the week's
observed counts as a multinomial of the week's size and proportions; each draw is solved as
above; the interval is the ``(1 − level) / 2`` and ``(1 + level) / 2`` percentiles of the draws,
widened to include the estimate if it falls outside (it can on a boundary, with few contacts).

**Expected precision** of a reason: the share of its out-of-fold predictions that were right,
``C[j, j] / sum_i C[i, j]``, with that column sum as its support (NaN when never predicted). It
holds at the labelled examples' reason mix.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from pipeline.errors import PipelineError

logger = logging.getLogger(__name__)

DEFAULT_DRAWS = 200
DEFAULT_LEVEL = 0.90
PRIOR_EXAMPLES = 10.0
"""Weight, in labelled examples, of the prior every confusion row is shrunk towards."""
TIE_BREAK = 1e-9
"""ε of the estimate: weight of the pull towards the raw counts, next to residuals of order 1."""
TOLERANCE = 1e-9
"""Counts below this share of the week's total are zero; also the optimality tolerance."""
CHUNK = 2048
"""Problems solved together in the active-set loop (bounds memory to ~CHUNK × K² floats)."""


class QuantifyError(PipelineError, ValueError):
    """Confusion or observed counts of the wrong shape or value; the message says which."""


@dataclass(frozen=True)
class VolumeEstimate:
    """Estimated true counts per week and reason with the bootstrap interval (same shapes)."""

    estimate: np.ndarray
    low: np.ndarray
    high: np.ndarray
    level: float
    draws: int


# --- inputs -------------------------------------------------------------------------------------


def _counts(values, name: str, ndim: tuple[int, ...]) -> np.ndarray:
    array = np.asarray(values, dtype=float)
    if array.ndim not in ndim:
        raise QuantifyError(f"{name}: ожидается массив размерности {ndim}, получено {array.shape}")
    if not np.isfinite(array).all() or (array < 0).any():
        raise QuantifyError(f"{name}: счётчики должны быть конечными и неотрицательными")
    if not np.array_equal(array, np.round(array)):
        raise QuantifyError(f"{name}: ожидаются целые числа контактов")
    return array


def _confusion(confusion) -> np.ndarray:
    counts = _counts(confusion, "confusion", (2,))
    if counts.shape[0] != counts.shape[1] or counts.shape[0] == 0:
        raise QuantifyError(
            f"confusion: нужна квадратная матрица причина × причина, получено {counts.shape}"
        )
    return counts


def _observed(observed, n_reasons: int) -> np.ndarray:
    counts = _counts(observed, "observed", (1, 2))
    if counts.shape[-1] != n_reasons:
        raise QuantifyError(
            f"observed: {counts.shape[-1]} причин в столбцах, а в матрице ошибок {n_reasons}; "
            "порядок причин должен совпадать"
        )
    return counts


# --- public ------------------------------------------------------------------------------------


def confusion_counts(actual, predicted, classes) -> np.ndarray:
    """Counts of (actual, predicted) pairs as a ``classes`` × ``classes`` matrix.

    Pairs with a label outside ``classes`` are left out.
    """
    index = {c: i for i, c in enumerate(classes)}
    counts = np.zeros((len(index), len(index)), dtype=np.int64)
    rows = np.array([index.get(a, -1) for a in actual], dtype=np.int64)
    cols = np.array([index.get(p, -1) for p in predicted], dtype=np.int64)
    keep = (rows >= 0) & (cols >= 0)
    np.add.at(counts, (rows[keep], cols[keep]), 1)
    return counts


def error_rates(confusion, prior_examples: float = PRIOR_EXAMPLES) -> np.ndarray:
    """``M[i, j]`` = P(predicted j | true i) with the prior; identity rows without examples."""
    return _rows(_posterior(_confusion(confusion), prior_examples))


def _posterior(counts: np.ndarray, prior_examples: float) -> np.ndarray:
    """Dirichlet parameters of every row: its counts plus the prior (none without examples)."""
    if prior_examples < 0:
        raise QuantifyError(f"prior_examples: не меньше 0, получено {prior_examples}")
    # errors go evenly to the other reasons the model has examples of (it can predict no other)
    known = counts.sum(axis=1) > 0
    accuracy = np.trace(counts) / counts.sum() if counts.sum() else 1.0
    others = max(int(known.sum()) - 1, 1)
    prior = np.where(
        np.broadcast_to(known, (len(counts), len(counts))), (1 - accuracy) / others, 0.0
    )
    np.fill_diagonal(prior, accuracy if known.sum() > 1 else 1.0)
    return counts + np.where(known[:, None], prior_examples * prior, 0.0)


def _rows(alpha: np.ndarray) -> np.ndarray:
    """Rows (last axis) normalised to sum 1; the identity row where a row is all zero."""
    total = alpha.sum(axis=-1, keepdims=True)
    eye = np.eye(alpha.shape[-1])
    return np.where(total > 0, alpha / np.where(total > 0, total, 1.0), eye)


def expected_precision(confusion) -> tuple[np.ndarray, np.ndarray]:
    """Per predicted reason: out-of-fold precision (NaN if never predicted) and its support."""
    counts = _confusion(confusion)
    predicted = counts.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.where(predicted > 0, np.diag(counts) / predicted, np.nan)
    return precision, predicted.astype(int)


def adjusted_counts(confusion, observed, *, prior_examples: float = PRIOR_EXAMPLES) -> np.ndarray:
    """ACC estimate of the true counts for one week (``K``) or many (``weeks × K``)."""
    rates = error_rates(confusion, prior_examples)
    counts = _observed(observed, len(rates))
    return _solve(rates[None], counts.reshape(1, -1, len(rates)))[0].reshape(counts.shape)


def estimate_volumes(
    confusion,
    observed,
    *,
    level: float = DEFAULT_LEVEL,
    draws: int = DEFAULT_DRAWS,
    seed: int = 0,
    prior_examples: float = PRIOR_EXAMPLES,
) -> VolumeEstimate:
    """ACC estimates and percentile-bootstrap intervals; the same inputs give the same output."""
    if not 0 < level < 1:
        raise QuantifyError(f"level: доля от 0 до 1 (например 0.9), получено {level}")
    if draws < 2:
        raise QuantifyError(f"draws: нужно хотя бы 2 бутстреп-выборки, получено {draws}")
    alpha = _posterior(_confusion(confusion), prior_examples)
    rates = _rows(alpha)
    n_reasons = len(rates)
    week_counts = _observed(observed, n_reasons)
    weeks = week_counts.reshape(-1, n_reasons)
    estimate = _solve(rates[None], weeks[None])[0]

    rng = np.random.default_rng(seed)
    # Dirichlet rows as normalised gamma draws (a zero parameter stays zero)
    drawn_rates = _rows(rng.standard_gamma(np.broadcast_to(alpha, (draws, *alpha.shape))))
    totals = weeks.sum(axis=1)
    mix = np.where(totals[:, None] > 0, weeks / np.maximum(totals, 1)[:, None], 1.0 / n_reasons)
    drawn_weeks = rng.multinomial(totals.astype(np.int64), mix, size=(draws, len(weeks)))
    # each draw starts its active set from the reasons the estimate of that week kept
    solved = _solve(drawn_rates, drawn_weeks.astype(float), start=estimate > 0)
    low, high = np.percentile(solved, [50 * (1 - level), 50 * (1 + level)], axis=0)
    low, high = np.minimum(low, estimate), np.maximum(high, estimate)
    shape = week_counts.shape
    return VolumeEstimate(
        estimate=estimate.reshape(shape),
        low=low.reshape(shape),
        high=high.reshape(shape),
        level=level,
        draws=draws,
    )


# --- the constrained least squares -----------------------------------------------------------


def _solve(rates: np.ndarray, observed: np.ndarray, start: np.ndarray | None = None) -> np.ndarray:
    """Estimates for ``observed`` (draws × weeks × K) under ``rates`` (draws × K × K).

    Weeks of draw ``d`` share ``rates[d]``. Without the non-negativity bound the solution is
    linear in the counts, so every problem first gets it in closed form from the draw's inverse
    Gram matrix; only problems where a reason comes out negative go to the active-set loop,
    which starts from the reasons ``start`` (weeks × K) marks as positive, if given.
    """
    n_draws, n_weeks, n_reasons = observed.shape
    eye = np.eye(n_reasons)
    gram = rates @ rates.transpose(0, 2, 1) + TIE_BREAK * eye  # M Mᵀ + ε I
    linear = observed @ rates.transpose(0, 2, 1) + TIE_BREAK * observed  # M o + ε o
    totals = observed.sum(axis=2)
    inverse = np.linalg.inv(gram)
    unbounded = linear @ inverse
    ones = inverse.sum(axis=2)
    shift = (unbounded.sum(axis=2) - totals) / ones.sum(axis=1)[:, None]
    estimate = unbounded - shift[:, :, None] * ones[:, None, :]

    tolerance = TOLERANCE * np.maximum(totals, 1.0)
    bad_draw, bad_week = np.nonzero((estimate < -tolerance[:, :, None]).any(axis=2))
    for begin in range(0, len(bad_draw), CHUNK):
        d, w = bad_draw[begin : begin + CHUNK], bad_week[begin : begin + CHUNK]
        free = np.ones((len(d), n_reasons), dtype=bool) if start is None else start[w]
        estimate[d, w] = _active_set(gram[d], linear[d, w], totals[d, w], tolerance[d, w], free)
    estimate = np.clip(estimate, 0.0, None)
    estimate[estimate < tolerance[:, :, None]] = 0.0
    # the bound and tolerance leave the sum off by at most K × tolerance: restore it exactly
    sums = estimate.sum(axis=2, keepdims=True)
    return np.where(sums > 0, estimate * (totals[:, :, None] / np.where(sums > 0, sums, 1)), 0.0)


def _equality_solution(
    gram: np.ndarray, linear: np.ndarray, totals: np.ndarray, free: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Minimiser over the free reasons with Σ q = total (others fixed at 0) and its multiplier."""
    mask = free.astype(float)
    system = gram * (mask[:, :, None] * mask[:, None, :])
    diagonal = np.arange(gram.shape[1])
    system[:, diagonal, diagonal] += 1.0 - mask
    solved = np.linalg.solve(system, np.stack([linear * mask, mask], axis=2))
    u, v = solved[:, :, 0], solved[:, :, 1]
    multiplier = (u.sum(axis=1) - totals) / v.sum(axis=1)
    return np.where(free, u - multiplier[:, None] * v, 0.0), multiplier


def _active_set(
    gram: np.ndarray,
    linear: np.ndarray,
    totals: np.ndarray,
    tolerance: np.ndarray,
    free: np.ndarray,
) -> np.ndarray:
    """Lawson–Hanson with Σ q = total for problems batched together.

    Starts from the total split evenly over the ``free`` reasons (a feasible point); each step
    either moves towards the minimiser over the free reasons until one reaches zero (it leaves)
    or, at that minimiser, frees the fixed reason whose increase lowers the objective most.
    """
    k = linear.shape[1]
    free = free.copy()
    free[~free.any(axis=1)] = True
    x = np.where(free, (totals / free.sum(axis=1))[:, None], 0.0)
    done = totals <= 0
    x[done] = 0.0
    for _ in range(3 * k + 10):
        todo = np.flatnonzero(~done)
        if not len(todo):
            break
        s, multiplier = _equality_solution(gram[todo], linear[todo], totals[todo], free[todo])
        xt, ft, tol = x[todo], free[todo], tolerance[todo, None]
        blocked = ft & (s <= 0)
        step = blocked.any(axis=1)
        rows = np.arange(len(todo))
        # a free reason would go negative: move towards s until the first one reaches zero
        ratio = np.where(blocked, xt / np.where(blocked, xt - s, 1.0), np.inf)
        first = ratio.argmin(axis=1)
        moved = xt + np.clip(ratio[rows, first], 0.0, 1.0)[:, None] * (s - xt)
        moved_free = ft & (moved > tol)
        moved_free[rows[step], first[step]] = False
        new_x = np.where(step[:, None], np.where(moved_free, moved, 0.0), s)
        new_free = np.where(step[:, None], moved_free, ft)
        # every free reason positive: optimal unless a fixed one would lower the objective
        gradient = np.einsum("nij,nj->ni", gram[todo], s) - linear[todo] + multiplier[:, None]
        gradient = np.where(ft, np.inf, gradient)
        enter = gradient.argmin(axis=1)
        wants = ~step & (gradient[rows, enter] < -tol[:, 0])
        new_free[rows[wants], enter[wants]] = True
        x[todo], free[todo] = new_x, new_free
        done[todo[~step & ~wants]] = True
    if not done.all():
        logger.warning("quantify: %d problems stopped at the step limit", int((~done).sum()))
    return x
