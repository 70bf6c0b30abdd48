"""Reason volumes corrected for classifier error: hand-worked cases, prior shift, coverage."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pipeline.model import quantify
from pipeline.model.quantify import QuantifyError, adjusted_counts, estimate_volumes

# rows: true reason, columns: predicted reason, in this order
REASONS = ("Не приходит СМС-код", "Не могу войти в приложение", "Не дошёл перевод")
# P(predicted | true): the login problem is often taken for the missing SMS code
RATES = np.array(
    [
        [0.85, 0.10, 0.05],
        [0.15, 0.75, 0.10],
        [0.05, 0.20, 0.75],
    ]
)


def simulate_week(rng, truth: np.ndarray, rates: np.ndarray) -> np.ndarray:
    """Predicted counts of a week whose true counts are ``truth``."""
    return sum(rng.multinomial(int(n), row) for n, row in zip(truth, rates, strict=True))


# --- worked by hand ------------------------------------------------------------------------------


def test_two_reasons_worked_by_hand():
    # textbook ACC (no prior): M = [[0.8, 0.2], [0.1, 0.9]]; Mᵀ q = o with q1 + q2 = 100:
    # 0.8 q1 + 0.1 (100 − q1) = 50  ->  0.7 q1 = 40  ->  q1 = 400/7 = 57.14, q2 = 300/7
    estimate = adjusted_counts([[80, 20], [10, 90]], [50, 50], prior_examples=0)
    assert estimate == pytest.approx([400 / 7, 300 / 7], abs=1e-6)


def test_two_reasons_with_the_prior_worked_by_hand():
    # pooled accuracy 170/200 = 0.85: 10 prior examples add 8.5 to the diagonal, 1.5 off it:
    # M = [[88.5, 21.5], [11.5, 98.5]] / 110; (88.5 q1 + 11.5 (100 − q1)) / 110 = 50
    # ->  77 q1 = 5500 − 1150  ->  q1 = 4350/77 = 56.49
    assert quantify.error_rates([[80, 20], [10, 90]]) == pytest.approx(
        np.array([[88.5, 21.5], [11.5, 98.5]]) / 110
    )
    estimate = adjusted_counts([[80, 20], [10, 90]], [50, 50], prior_examples=10)
    assert estimate == pytest.approx([4350 / 77, 100 - 4350 / 77], abs=1e-6)


def test_two_reasons_on_the_boundary_worked_by_hand():
    # unconstrained: 0.7 q1 = 5 − 10  ->  q1 = −7.1; along q1 + q2 = 100 the residual
    # (5 + 0.7 q1, −5 − 0.7 q1) only grows with q1 ≥ 0, so the answer is q1 = 0, q2 = 100
    assert adjusted_counts([[80, 20], [10, 90]], [5, 95]).tolist() == [0.0, 100.0]


def test_expected_precision_is_the_column_normalised_diagonal():
    precision, support = quantify.expected_precision([[80, 20], [10, 90]])
    assert precision == pytest.approx([80 / 90, 90 / 110])
    assert support.tolist() == [90, 110]


# --- prior shift ---------------------------------------------------------------------------------


def test_adjusted_counts_recover_the_truth_when_the_mix_shifts():
    rng = np.random.default_rng(11)
    # labelled examples come in equal numbers; the weeks are dominated by one reason or another
    confusion = np.stack([rng.multinomial(400, row) for row in RATES])
    raw_error, adjusted_error = [], []
    for mix in ([0.8, 0.1, 0.1], [0.1, 0.8, 0.1], [0.1, 0.1, 0.8], [0.05, 0.6, 0.35]):
        for _ in range(20):
            truth = rng.multinomial(3000, mix)
            observed = simulate_week(rng, truth, RATES)
            raw_error.append(np.abs(observed - truth).mean())
            adjusted_error.append(np.abs(adjusted_counts(confusion, observed) - truth).mean())
    # raw counts miss by hundreds of contacts; the correction leaves a small fraction of it
    assert np.mean(raw_error) > 150
    assert np.mean(adjusted_error) < 0.25 * np.mean(raw_error)


@pytest.mark.parametrize(("level", "low", "high"), [(0.9, 0.85, 0.98), (0.5, 0.40, 0.70)])
def test_interval_covers_the_true_count_at_about_its_level(level, low, high):
    rng = np.random.default_rng(7)
    hits = []
    for _ in range(250):
        # every simulated week has its own labelled sample, so the confusion's noise counts too
        confusion = np.stack([rng.multinomial(150, row) for row in RATES])
        truth = rng.multinomial(800, rng.dirichlet([2, 2, 2]))
        result = estimate_volumes(
            confusion, simulate_week(rng, truth, RATES), level=level, draws=200
        )
        hits.append((result.low <= truth) & (truth <= result.high))
    coverage = np.mean(hits)
    assert low <= coverage <= high, coverage


# --- invariants ----------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(5))
def test_estimates_are_non_negative_sum_to_the_week_and_lie_in_their_interval(seed):
    rng = np.random.default_rng(seed)
    k = 12
    confusion = rng.multinomial(60, rng.dirichlet(np.full(k, 0.2)), size=k) + np.diag(
        rng.integers(0, 80, k)
    )
    observed = np.stack([rng.multinomial(n, rng.dirichlet(np.full(k, 0.3))) for n in (1, 40, 900)])
    result = estimate_volumes(confusion, observed, draws=50, seed=seed)
    assert (result.estimate >= 0).all() and (result.low >= 0).all()
    assert result.estimate.sum(axis=1) == pytest.approx(observed.sum(axis=1))
    assert (result.low <= result.estimate).all() and (result.estimate <= result.high).all()


def test_same_inputs_give_the_same_output_and_the_seed_matters():
    confusion = np.stack([np.random.default_rng(1).multinomial(200, row) for row in RATES])
    observed = [[120, 40, 60], [0, 10, 300]]
    first, second = estimate_volumes(confusion, observed), estimate_volumes(confusion, observed)
    for name in ("estimate", "low", "high"):
        assert np.array_equal(getattr(first, name), getattr(second, name))
    other = estimate_volumes(confusion, observed, seed=1)
    assert not np.array_equal(first.low, other.low)


def test_estimate_is_the_constrained_least_squares_minimum():
    from scipy.optimize import minimize

    rng = np.random.default_rng(3)
    k = 6
    confusion = rng.multinomial(50, rng.dirichlet(np.full(k, 0.3)), size=k) + 30 * np.eye(k)
    rates = quantify.error_rates(confusion)
    for _ in range(10):
        observed = rng.multinomial(200, rng.dirichlet(np.full(k, 0.3)))
        total = observed.sum()

        def loss(q, observed=observed):
            return np.sum((rates.T @ q - observed) ** 2)

        best = minimize(
            loss,
            np.full(k, observed.sum() / k),
            method="SLSQP",
            bounds=[(0, None)] * k,
            constraints=[{"type": "eq", "fun": lambda q, total=total: q.sum() - total}],
            options={"ftol": 1e-12, "maxiter": 500},
        )
        assert loss(adjusted_counts(confusion, observed)) <= best.fun + 1e-6


# --- degenerate cases ----------------------------------------------------------------------------


def test_reason_never_predicted_has_no_precision_and_stays_near_its_raw_count():
    # the login problem is always taken for another reason: its precision is unknown, and
    # its contacts look like a mix of the other two, so the counts cannot tell how many there
    # are; among the equally good answers the one closest to the raw counts is kept
    confusion = [[90, 0, 10], [60, 0, 40], [5, 0, 95]]
    precision, support = quantify.expected_precision(confusion)
    assert np.isnan(precision[1]) and support[1] == 0
    result = estimate_volumes(confusion, [300, 0, 200], draws=50)
    assert result.estimate[1] < 10 and result.estimate.sum() == pytest.approx(500)
    assert np.isfinite(result.high).all() and (result.low <= result.estimate).all()


def test_week_without_contacts_estimates_zero():
    result = estimate_volumes([[80, 20], [10, 90]], [[0, 0], [30, 70]], draws=20)
    assert result.estimate[0].tolist() == [0.0, 0.0]
    assert result.low[0].tolist() == [0.0, 0.0] and result.high[0].tolist() == [0.0, 0.0]
    assert result.estimate[1].sum() == pytest.approx(100)


def test_singular_confusion_falls_back_to_the_raw_counts():
    # both reasons are predicted alike: the data cannot split them, the raw split is kept
    assert adjusted_counts([[80, 20], [80, 20]], [30, 70]) == pytest.approx([30, 70], abs=1e-3)
    result = estimate_volumes([[80, 20], [80, 20]], [30, 70], draws=50)
    assert np.isfinite(result.low).all() and np.isfinite(result.high).all()


def test_reason_without_labelled_examples_keeps_its_raw_count():
    # no labelled example of the third reason: nothing is known about its errors, and the
    # prior sends no error of the other two there (the model cannot predict it): the first two
    # come out as in the two-reason case worked by hand
    estimate = adjusted_counts([[80, 20, 0], [10, 90, 0], [0, 0, 0]], [50, 50, 25])
    assert estimate[2] == pytest.approx(25, abs=1e-3)
    assert estimate[:2] == pytest.approx([4350 / 77, 100 - 4350 / 77], abs=1e-3)


@pytest.mark.parametrize(
    ("confusion", "observed", "message"),
    [
        ([[80, 20], [10, 90]], [1, 2, 3], "порядок причин"),
        ([[80, 20, 0], [10, 90, 0]], [1, 2], "квадратная"),
        ([[80, 20], [10, 90]], [1.5, 2], "целые"),
        ([[80, -20], [10, 90]], [1, 2], "неотрицательными"),
    ],
)
def test_bad_inputs_say_what_is_wrong(confusion, observed, message):
    with pytest.raises(QuantifyError, match=message):
        estimate_volumes(confusion, observed)


def test_confusion_counts_follow_the_given_order_and_skip_unknown_labels():
    actual = ["sms_code_missing", "sms_code_missing", "cannot_login", "retired_reason"]
    predicted = ["sms_code_missing", "cannot_login", "cannot_login", "cannot_login"]
    counts = quantify.confusion_counts(actual, predicted, ["cannot_login", "sms_code_missing"])
    assert counts.tolist() == [[1, 0], [1, 1]]


def test_model_artifact_keeps_the_confusion_of_assigned_predictions_apart():
    from pipeline.model import training as train

    # out-of-fold predictions of four labelled texts; the wrong one was below the threshold
    sms, login = "sms_code_missing", "cannot_login"
    confusion = pd.DataFrame(
        {
            "actual": [sms, sms, login, login],
            "predicted": [sms, sms, sms, login],
            "above_threshold": [True, True, False, True],
        }
    )
    oof = train.oof_confusion(confusion, [login, sms])
    assert oof["counts"] == [[1, 1], [0, 2]]
    assert oof["counts_above_threshold"] == [[1, 0], [0, 2]]
    assert train.expected_precision(oof) == {
        "cannot_login": {"precision": 1.0, "predicted": 1},
        "sms_code_missing": {"precision": 1.0, "predicted": 2},
    }
