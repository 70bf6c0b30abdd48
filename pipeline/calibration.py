"""Temperature calibration for the reason classifier: confidences without moving the answer.

``ReasonModel`` (``pipeline.model``) picks C for the macro-F1 of its class-balanced SVM, then
fits a multinomial logistic regression on the SVM's out-of-fold decision values and predicts the
argmax of *that*. The regression is not class-balanced and has K² weights, so with unequal or
small classes it learns the class priors back and moves answers to the large classes: on our own
labels subsampled to 50…6 examples per reason (27 reasons, 5-fold CV) macro-F1 falls from 0.725
(the SVM's argmax) to 0.464, and precision above the threshold misses its 0.95 target (0.908).

``TemperatureReasonModel`` keeps everything else and calibrates with one number instead:
``proba = softmax(T · decision)``, with T fitted by maximum likelihood on the same out-of-fold
decisions. The answer is the SVM's (the one C was chosen for); the confidence threshold is
chosen on these probabilities exactly as before. On the same labels: macro-F1 0.725, precision
above the threshold 0.950; on all 1,351 labels (balanced) 0.928 vs 0.935, with precision above
the threshold 0.960 (target met) vs 0.939 (missed).

This is a proposal for ``pipeline/model.py`` (the same few lines there would replace
``calibrator_``); ``benchmarks/accuracy.py`` scores it next to the current model.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.optimize import minimize_scalar
from scipy.special import log_softmax, softmax
from sklearn.metrics import f1_score
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import Pipeline

from pipeline.model import DEFAULT_CS, ReasonModel, build_features, choose_threshold

# T is searched on a log scale between e^-6 and e^6: decision values are of order 1
LOG_TEMPERATURE_BOUNDS = (-6.0, 6.0)


def as_logits(decision: np.ndarray) -> np.ndarray:
    """One column per class; a binary SVM's single column d becomes (0, d)."""
    if decision.shape[1] == 1:
        return np.hstack([np.zeros_like(decision), decision])
    return decision


def fit_temperature(decision: np.ndarray, class_index: np.ndarray) -> float:
    """The T > 0 that maximises the likelihood of the true classes under softmax(T · decision)."""
    logits = as_logits(decision)
    rows = np.arange(len(logits))

    def negative_log_likelihood(log_t: float) -> float:
        return float(-log_softmax(logits * np.exp(log_t), axis=1)[rows, class_index].mean())

    best = minimize_scalar(
        negative_log_likelihood, bounds=LOG_TEMPERATURE_BOUNDS, method="bounded"
    )
    return float(np.exp(best.x))


class TemperatureReasonModel(ReasonModel):
    """``ReasonModel`` whose probabilities are softmax(T · SVM decision): argmax = the SVM's."""

    def fit(self, X, y):
        y = np.asarray(y)
        self.classes_ = np.unique(y)
        counts = np.unique(y, return_counts=True)[1]
        folds = max(2, min(self.cv, int(counts.min())))
        splitter = StratifiedKFold(folds, shuffle=True, random_state=self.random_state)
        splits = list(splitter.split(np.zeros(len(y)), y))
        scores, decisions = {}, {}
        for C in self.Cs:
            oof = np.zeros((len(y), self._n_outputs()))
            for train, test in splits:
                oof[test] = self._decision(self._svm(C).fit(X[train], y[train]), X[test])
            decisions[C] = oof
            scores[C] = f1_score(y, self.classes_[self._argmax(oof)], average="macro")
        self.C_ = max(self.Cs, key=lambda c: (scores[c], -c))
        self.cv_scores_ = {float(c): float(s) for c, s in scores.items()}
        class_index = np.searchsorted(self.classes_, y)
        self.temperature_ = fit_temperature(decisions[self.C_], class_index)
        oof_proba = softmax(as_logits(decisions[self.C_]) * self.temperature_, axis=1)
        self.threshold_ = choose_threshold(
            oof_proba.max(axis=1), oof_proba.argmax(axis=1) == class_index, self.target_precision
        )
        self.svm_ = self._svm(self.C_).fit(X, y)
        return self

    def predict_proba(self, X) -> np.ndarray:
        return softmax(as_logits(self.decision_function(X)) * self.temperature_, axis=1)


def build_pipeline(
    target_precision: float = 0.9,
    Cs: Sequence[float] = DEFAULT_CS,
    cv: int = 3,
    random_state: int = 0,
    char_ngrams: bool = True,
) -> Pipeline:
    """``pipeline.model.build_pipeline`` with ``TemperatureReasonModel`` as the last step."""
    return Pipeline(
        [
            ("features", build_features(char_ngrams)),
            (
                "model",
                TemperatureReasonModel(
                    Cs=tuple(Cs),
                    cv=cv,
                    target_precision=target_precision,
                    random_state=random_state,
                ),
            ),
        ]
    )
