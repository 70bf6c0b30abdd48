"""``ReasonModel``: calibrated confidences that never move the answer, and a fit cut that sends
contacts of reasons it never saw to «Не определено» far more often than those it knows."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy.special import softmax
from sklearn.model_selection import StratifiedKFold

from pipeline.model import build, reason_model
from pipeline.model.training import model_inputs, out_of_fold, score
from pipeline.taxonomy.labels import read_label_files
from pipeline.text import Lemmatizer

LABELS = Path(__file__).resolve().parents[1] / "taxonomy" / "labels"


def labelled_texts() -> dict[str, list[str]]:
    """Our labelled texts by reason id, in file order (read by the train stage's reader)."""
    frame = read_label_files(LABELS)
    return frame.groupby("reason_id", sort=False)["text"].agg(list).to_dict()


def test_fit_temperature_recovers_the_generating_temperature() -> None:
    rng = np.random.default_rng(0)
    decision = rng.normal(size=(20_000, 4))
    proba = softmax(decision * 2.5, axis=1)
    truth = np.array([rng.choice(4, p=p) for p in proba])
    assert reason_model.fit_temperature(decision, truth) == pytest.approx(2.5, rel=0.05)


def test_binary_decisions_become_two_logits() -> None:
    logits = reason_model.as_logits(np.array([[-1.0], [2.0]]))
    assert logits.tolist() == [[0.0, -1.0], [0.0, 2.0]]


@pytest.fixture(scope="module")
def imbalanced_labels() -> tuple[list[str], np.ndarray]:
    """Our labelled texts, 50 down to 6 per reason: unequal classes as real labels have."""
    texts, labels = [], []
    for i, (reason, items) in enumerate(sorted(labelled_texts().items())):
        n = max(6, int(50 * 0.85**i))
        texts += items[:n]
        labels += [reason] * n
    return model_inputs(texts, Lemmatizer()), np.array(labels)


def test_answers_are_the_decision_answers_and_probabilities_sum_to_one(imbalanced_labels) -> None:
    X, y = imbalanced_labels
    pipe = build.build_pipeline(0.05, (1.0,), 3, 42).fit(X, y)
    model = pipe.named_steps["model"]
    proba = pipe.predict_proba(X)
    assert np.allclose(proba.sum(axis=1), 1)
    features = pipe.named_steps["features"].transform(X)
    decision = model.decision_function(features)
    assert (pipe.predict(X) == model.classes_[decision.argmax(axis=1)]).all()
    assert (pipe.predict(X) == model.classes_[proba.argmax(axis=1)]).all()
    assert model.temperature_ > 0
    # the fit cut is a decision value: most training texts are claimed by their reason
    assert (model.fit_score(features) >= model.threshold_).mean() > 0.9


def test_unequal_classes_keep_macro_f1_and_most_contacts_get_a_reason(imbalanced_labels) -> None:
    """Small reasons keep their answers: the balanced SVM answers, calibration does not move it.

    Answering with an unweighted logistic calibration's argmax gave macro-F1 0.464 here."""
    X, y = imbalanced_labels
    folds = list(StratifiedKFold(5, shuffle=True, random_state=0).split(np.zeros(len(y)), y))
    args = (0.05, (0.1, 0.3, 1.0, 3.0, 10.0), 3, 42)
    oof = out_of_fold(lambda: build.build_pipeline(*args), X, y, folds)
    result = score(y, oof)
    assert result["macro_f1"] > 0.65  # measured 0.725
    # about 5 % of known-reason contacts fit no reason (the cut is set out of fold inside each
    # training part, so on the test fold it is an estimate, not exact)
    # (on 372 texts that is 0–3 test contacts: the upper end is not a reliable check here; the
    # held-out-reason test below checks that contacts of no known reason do fall below the cut)
    assert 0.85 <= result["coverage"] <= 1.0  # measured 1.0 (0.992 without word vectors)
    small = [r for r in np.unique(y) if (y == r).sum() <= 10]
    assert np.mean([(oof["predicted"][y == r] == r).mean() for r in small]) > 0.4  # 0.61


def test_search_sample_is_stratified_and_keeps_small_reasons() -> None:
    y = np.array(["a"] * 900 + ["b"] * 90 + ["c"] * 4)
    sample = reason_model.search_sample(y, 200, 6, seed=1)
    counts = {label: int((y[sample] == label).sum()) for label in "abc"}
    assert counts == {"a": 181, "b": 18, "c": 4}  # shares kept, c whole (fewer than 6)
    assert (np.diff(sample) > 0).all()
    assert (reason_model.search_sample(y, 200, 6, seed=1) == sample).all()  # reproducible
    assert len(reason_model.search_sample(y, None, 6, seed=1)) == len(y)


def test_choosing_c_on_a_sample_keeps_accuracy(imbalanced_labels) -> None:
    """A bounded search (training time) chooses C on a sample; the SVM still learns from all."""
    X, y = imbalanced_labels
    folds = list(StratifiedKFold(5, shuffle=True, random_state=0).split(np.zeros(len(y)), y))
    full = score(y, out_of_fold(lambda: build.build_pipeline(0.05), X, y, folds))
    sampled = score(
        y,
        out_of_fold(lambda: build.build_pipeline(0.05, search_max_examples=150), X, y, folds),
    )
    assert sampled["macro_f1"] > full["macro_f1"] - 0.03


def test_contacts_of_reasons_the_model_never_saw_land_in_undefined() -> None:
    """Out of the taxonomy: five reasons held out of training. Their contacts must fit no reason
    at least three times as often as held-out contacts of the reasons the model knows."""
    by_reason = labelled_texts()
    reasons = sorted(by_reason)
    unseen = reasons[::5]  # every fifth reason, e.g. a new product nobody labelled yet
    train_texts, train_y, known_test, unseen_test = [], [], [], []
    for reason in reasons:
        items = by_reason[reason]
        if reason in unseen:
            unseen_test += items
        else:
            train_texts += items[10:]
            train_y += [reason] * len(items[10:])
            known_test += items[:10]
    lemmatizer = Lemmatizer()
    pipe = build.build_pipeline(0.05, (0.3, 1.0, 3.0), 3, 42)
    pipe.fit(model_inputs(train_texts, lemmatizer), np.array(train_y))
    model = pipe.named_steps["model"]

    def undefined_share(texts: list[str]) -> float:
        features = pipe.named_steps["features"].transform(model_inputs(texts, lemmatizer))
        return float((model.fit_score(features) < model.threshold_).mean())

    known, novel = undefined_share(known_test), undefined_share(unseen_test)
    assert known <= 0.15
    assert novel >= 3 * max(known, 0.05), (known, novel)


def test_the_c_search_sees_each_text_once() -> None:
    import scipy.sparse as sp

    X = sp.csr_matrix(np.array([[1.0, 0, 2], [0, 1, 0], [1.0, 0, 2], [0, 0, 0], [0, 0, 0]]))
    assert reason_model.distinct_rows(X).tolist() == [0, 1, 3]
