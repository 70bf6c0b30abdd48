"""What the fitted model looks for: the top terms of each reason, and the terms that pushed one
contact towards a reason (word-vector dimensions have no words: only TF-IDF terms explain)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.pipeline import Pipeline

from pipeline.model.reason_model import ReasonModel

VECTOR_BLOCKS = ("vectors__", "lemma_vectors__")


def _feature_names(pipeline: Pipeline) -> np.ndarray:
    return pipeline.named_steps["features"].get_feature_names_out()


def _class_weights(pipeline: Pipeline) -> np.ndarray:
    """Weights per class (rows) and feature (columns): the ridge's (times its weight) on the
    word-vector columns, the SVM's on the TF-IDF columns."""
    model: ReasonModel = pipeline.named_steps["model"]
    coef = model.svm_.coef_
    if model.vector_columns:
        vector_coef = (
            model.vector_weight_ * model.ridge_.coef_.reshape(coef.shape[0], -1)
            if model.ridge_ is not None
            else np.zeros((coef.shape[0], model.vector_columns))
        )
        coef = np.hstack([vector_coef, coef])
    if coef.shape[0] == 1:  # binary: the second class gets the positive side
        coef = np.vstack([-coef[0], coef[0]])
    return coef


def top_terms(pipeline: Pipeline, n: int = 10, words_only: bool = True) -> dict[str, list]:
    """The n most positively weighted lemma n-grams per class: what the model looks for."""
    names = _feature_names(pipeline)
    coef = _class_weights(pipeline)
    keep = (
        np.array([name.startswith("words__") for name in names])
        if words_only
        else np.ones(len(names), dtype=bool)
    )
    result = {}
    for row, label in enumerate(pipeline.named_steps["model"].classes_):
        weights = np.where(keep, coef[row], -np.inf)
        best = np.argsort(-weights, kind="stable")[:n]
        result[str(label)] = [
            [names[i].split("__", 1)[1], round(float(coef[row, i]), 4)]
            for i in best
            if np.isfinite(weights[i]) and weights[i] > 0
        ]
    return result


def explain(
    pipeline: Pipeline, contact: pd.DataFrame, label: str | None = None, n: int = 8
) -> list:
    """Terms of one contact (a one-row ``model_input``) that pushed it towards ``label``
    (default: the predicted reason); character n-grams are shown in quotes."""
    model: ReasonModel = pipeline.named_steps["model"]
    vector = pipeline.named_steps["features"].transform(contact)
    if label is None:
        label = str(model.predict(vector)[0])
    row = int(np.flatnonzero(model.classes_ == label)[0])
    contributions = sp.csr_matrix(vector).multiply(_class_weights(pipeline)[row]).tocsr()
    names = _feature_names(pipeline)
    # word-vector dimensions have no words to show: only TF-IDF terms explain a contact
    pairs = sorted(
        (
            (i, v)
            for i, v in zip(contributions.indices, contributions.data, strict=True)
            if not names[i].startswith(VECTOR_BLOCKS)
        ),
        key=lambda p: -p[1],
    )
    return [[_term(names[i]), round(float(v), 4)] for i, v in pairs[:n] if v > 0]


def _term(name: str) -> str:
    block, term = name.split("__", 1)
    return f"«{term}»" if block == "chars" else term
