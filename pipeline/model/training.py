"""Training and honest evaluation of the reason classifier (the core of the ``train`` stage).

With k-fold cross-validation every labelled example is held out once; the lemma model and two
baselines (word TF-IDF without lemmatisation; nltk's Snowball stemmer instead of pymorphy3) are
scored on the same folds, so the choice of pymorphy3 stays justified by numbers. Then the lemma
model is refitted on all labels as one sklearn Pipeline. ``evaluate`` (any labelled file) and
the notebooks reuse the same pieces.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from nltk.stem.snowball import SnowballStemmer
from pydantic import BaseModel, ConfigDict, Field
from sklearn.metrics import accuracy_score, f1_score, precision_recall_fscore_support
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import Pipeline

from pipeline.model import build, explain, quantify, reason_model
from pipeline.text import Lemmatizer, attach_negations, normalize, tokenize

logger = logging.getLogger(__name__)


class TrainConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # «Не определено» = no reason claims the contact: its best decision is below the level all
    # but this share of labelled contacts of known reasons reach out of fold
    undefined_share: float = Field(reason_model.DEFAULT_UNDEFINED_SHARE, ge=0, lt=0.5)
    Cs: tuple[float, ...] = Field(reason_model.DEFAULT_CS, min_length=1)
    cv_folds: int = Field(3, ge=2)
    # every labelled example is held out once: k-fold CV, the same folds for model and baselines
    eval_folds: int = Field(5, ge=2)
    random_state: int = 42
    min_examples_per_reason: int = Field(40, ge=1)
    top_terms: int = Field(12, ge=1)
    # C, temperature and the fit cut are chosen on at most this many labels (training time)
    search_max_examples: int | None = Field(reason_model.DEFAULT_SEARCH_MAX_EXAMPLES, ge=100)
    # mean Navec word vectors as a feature block; its weight (0 = off) is chosen by inner CV
    word_vectors: bool = True
    vector_weights: tuple[float, ...] = Field(reason_model.DEFAULT_VECTOR_WEIGHTS, min_length=1)

    def build_pipeline(
        self, char_ngrams: bool = True, word_vectors: bool | None = None
    ) -> Pipeline:
        """The unfitted classifier with these parameters (train, evaluate and notebooks)."""
        return build.build_pipeline(
            self.undefined_share,
            self.Cs,
            self.cv_folds,
            self.random_state,
            char_ngrams=char_ngrams,
            search_max_examples=self.search_max_examples,
            word_vectors=self.word_vectors if word_vectors is None else word_vectors,
            vector_weights=self.vector_weights,
        )


# --- text representations ----------------------------------------------------------------------


def model_inputs(texts: list[str], lemmatizer: Lemmatizer) -> pd.DataFrame:
    """The classifier's input for raw texts: normalised text and lemma string per row."""
    return build.analyse_texts(texts, lemmatizer)


def plain_word_inputs(texts: list[str]) -> pd.DataFrame:
    """Baseline input: normalised tokens, no lemmatisation, no negation handling."""
    normalized = [normalize(t) for t in texts]
    return build.model_input(normalized, [" ".join(tokenize(t)) for t in normalized])


def snowball_inputs(texts: list[str], lemmatizer: Lemmatizer) -> pd.DataFrame:
    """Baseline input: the same chain with nltk's Snowball stemmer instead of pymorphy3."""
    stemmer = SnowballStemmer("russian")
    stop = lemmatizer.stopwords
    normalized = [normalize(t) for t in texts]
    stemmed = []
    for text in normalized:
        stems = attach_negations(stemmer.stem(token) for token in tokenize(text))
        stemmed.append(" ".join(s for s in stems if s not in stop))
    return build.model_input(normalized, stemmed)


# --- evaluation --------------------------------------------------------------------------------


def out_of_fold(
    make: Callable[[], Pipeline],
    X: pd.DataFrame,
    y: np.ndarray,
    folds: list[tuple[np.ndarray, np.ndarray]],
) -> dict:
    """Predictions for every example from a model fitted without it (one model per fold).

    Each fold's model picks its own regularisation and fit cut inside its training part, so
    nothing is tuned on the examples it is scored on. ``covered``: the fold model assigns a
    reason (its fit score reaches the cut); the others would be «Не определено».
    """
    predicted = np.empty(len(y), dtype=object)
    covered = np.zeros(len(y), dtype=bool)
    fold_f1, thresholds, Cs, vector_weights = [], [], [], []
    for train_idx, test_idx in folds:
        pipe = make()
        pipe.fit(X.iloc[train_idx], y[train_idx])
        model: reason_model.ReasonModel = pipe.named_steps["model"]
        decision, fit = reason_model.decide(pipe, X.iloc[test_idx])
        predicted[test_idx] = model.classes_[model.answer_index(decision)]
        covered[test_idx] = fit >= model.threshold_
        fold_f1.append(
            f1_score(y[test_idx], predicted[test_idx], average="macro", zero_division=0)
        )
        thresholds.append(model.threshold_)
        Cs.append(model.C_)
        vector_weights.append(model.vector_weight_)
    return {
        "predicted": predicted.astype(str),
        "covered": covered,
        "fold_macro_f1": fold_f1,
        "thresholds": thresholds,
        "Cs": Cs,
        "vector_weights": vector_weights,
    }


def score(y: np.ndarray, oof: dict) -> dict:
    """Macro-F1 and accuracy of the top reason; coverage and quality above the threshold."""
    predicted, covered = oof["predicted"], oof["covered"]
    result = {
        "macro_f1": float(f1_score(y, predicted, average="macro", zero_division=0)),
        "accuracy": float(accuracy_score(y, predicted)),
        "coverage": float(covered.mean()),
        "fold_macro_f1": [round(float(v), 4) for v in oof["fold_macro_f1"]],
        "fold_macro_f1_std": float(np.std(oof["fold_macro_f1"])),
    }
    if covered.any():
        result["macro_f1_covered"] = float(
            f1_score(y[covered], predicted[covered], average="macro", zero_division=0)
        )
        result["precision_covered"] = float((predicted[covered] == y[covered]).mean())
    return result


def per_reason(y: np.ndarray, predicted: np.ndarray, labels: list[str]) -> dict:
    precision, recall, f1, support = precision_recall_fscore_support(
        y, predicted, labels=labels, zero_division=0
    )
    return {
        label: {
            "precision": round(float(p), 4),
            "recall": round(float(r), 4),
            "f1": round(float(f), 4),
            "support": int(s),
        }
        for label, p, r, f, s in zip(labels, precision, recall, f1, support, strict=True)
    }


def rounded(metrics: dict) -> dict:
    return {k: round(v, 4) if isinstance(v, float) else v for k, v in metrics.items()}


def fingerprint(*parts: object) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(json.dumps(part, ensure_ascii=False, sort_keys=True, default=str).encode())
    return digest.hexdigest()[:12]


def oof_confusion(confusion: pd.DataFrame, classes: list[str]) -> dict:
    """Out-of-fold confusion counts (rows: actual, columns: predicted, in ``classes`` order) of
    every example and of those above the fold model's threshold: aggregate corrects the weekly
    volumes of the contacts classify assigns for the latter's errors (model/quantify.py)."""
    above = confusion[confusion["above_threshold"]]
    return {
        "classes": classes,
        "counts": quantify.confusion_counts(
            confusion["actual"], confusion["predicted"], classes
        ).tolist(),
        "counts_above_threshold": quantify.confusion_counts(
            above["actual"], above["predicted"], classes
        ).tolist(),
    }


def expected_precision(oof: dict) -> dict:
    """Per reason: the share of its out-of-fold predictions above the threshold that were right,
    and how many there were (precision is null when it was never predicted)."""
    precision, predicted = quantify.expected_precision(oof["counts_above_threshold"])
    return {
        reason: {"precision": None if np.isnan(p) else round(float(p), 4), "predicted": int(n)}
        for reason, p, n in zip(oof["classes"], precision, predicted, strict=True)
    }


@dataclass(frozen=True)
class TrainingSet:
    """Labelled examples and what the model must know of the taxonomy (no taxonomy object:
    the model layer does not read YAML)."""

    texts: list[str]
    reasons: np.ndarray
    classes: list[str]
    undefined_reason: str
    taxonomy_version: str


def thin_reasons(counts: pd.Series, classes: list[str], minimum: int) -> dict[str, int]:
    """Reasons with fewer labelled examples than ``minimum`` (with their counts)."""
    return {r: int(counts.get(r, 0)) for r in classes if counts.get(r, 0) < minimum}


def evaluate_out_of_fold(
    data: TrainingSet, inputs: dict[str, pd.DataFrame], config: TrainConfig
) -> tuple[dict, dict, pd.DataFrame, dict]:
    """The lemma model and the baselines on the same stratified folds: held-out scores,
    baseline scores, the out-of-fold confusion rows and per-reason quality."""
    y = data.reasons
    splitter = StratifiedKFold(config.eval_folds, shuffle=True, random_state=config.random_state)
    folds = list(splitter.split(np.zeros(len(y)), y))
    held_out, baselines = {}, {}
    for name, X in inputs.items():
        oof = out_of_fold(
            lambda name=name: config.build_pipeline(
                char_ngrams=name != "words_no_lemma", word_vectors=name != "words_no_lemma"
            ),
            X,
            y,
            folds,
        )
        result = rounded(score(y, oof))
        if name == "lemma":
            held_out = result
            # above_threshold: what classify would assign (the rest becomes «Не определено»)
            confusion = pd.DataFrame(
                {"actual": y, "predicted": oof["predicted"], "above_threshold": oof["covered"]}
            )
            reasons = per_reason(y, oof["predicted"], sorted(set(y)))
        else:
            baselines[name] = result
    return held_out, baselines, confusion, reasons


def fit_final(
    data: TrainingSet, X: pd.DataFrame, confusion: pd.DataFrame, config: TrainConfig
) -> Pipeline:
    """The model refitted on every label, with the metadata classify and aggregate read."""
    final = build.drop_run_specific_state(config.build_pipeline().fit(X, data.reasons))
    pairs = [[t, r] for t, r in zip(data.texts, data.reasons, strict=True)]
    final.metadata_ = {
        "model_version": fingerprint(pairs, config.model_dump(), data.taxonomy_version),
        "taxonomy_version": data.taxonomy_version,
        "threshold": float(final.named_steps["model"].threshold_),
        "undefined_reason": data.undefined_reason,
        "undefined_share": config.undefined_share,
        "oof_confusion": oof_confusion(confusion, sorted(set(data.reasons))),
    }
    return final


def final_choices(final: Pipeline) -> dict:
    """What the final model chose by inner cross-validation (cut, C, word-vector weight)."""
    model = final.named_steps["model"]
    return {
        "threshold": round(final.metadata_["threshold"], 4),
        "C": float(model.C_),
        "word_vector_weight": float(model.vector_weight_),
        "cv_macro_f1_by_word_vector_weight": {
            str(k): round(v, 4) for k, v in model.vector_weight_scores_.items()
        },
        "cv_macro_f1": {str(k): round(v, 4) for k, v in model.cv_scores_.items()},
    }


def train(data: TrainingSet, config: TrainConfig) -> tuple[Pipeline, dict, pd.DataFrame]:
    """Evaluate out of fold, then refit on every label. Returns model, metrics, confusion."""
    started = time.perf_counter()
    counts = pd.Series(data.reasons).value_counts()
    thin = thin_reasons(counts, data.classes, config.min_examples_per_reason)
    if thin:
        logger.warning(
            "reasons with fewer than %d examples: %s", config.min_examples_per_reason, thin
        )
    lemmatizer = Lemmatizer()
    inputs = {
        "lemma": model_inputs(data.texts, lemmatizer),
        "words_no_lemma": plain_word_inputs(data.texts),
        "snowball": snowball_inputs(data.texts, lemmatizer),
    }
    held_out, baselines, confusion, reasons = evaluate_out_of_fold(data, inputs, config)
    final = fit_final(data, inputs["lemma"], confusion, config)
    metrics = {
        **held_out,
        "per_reason": reasons,
        "expected_precision": expected_precision(final.metadata_["oof_confusion"]),
        "baselines": baselines,
        "lemma_beats_baselines": all(
            held_out["macro_f1"] > b["macro_f1"] for b in baselines.values()
        ),
        "final": final_choices(final),
        "examples": int(len(data.reasons)),
        "examples_per_reason": {r: int(counts.get(r, 0)) for r in data.classes},
        "reasons_with_few_examples": thin,
        "evaluation": f"{config.eval_folds}-fold stratified cross-validation: every labelled "
        "example is predicted by a model fitted without it; baselines use the "
        "same folds",
        "model_version": final.metadata_["model_version"],
        "taxonomy_version": final.metadata_["taxonomy_version"],
        "top_terms": explain.top_terms(final, n=config.top_terms),
    }
    logger.info("train: %.1f s", time.perf_counter() - started)
    return final, metrics, confusion
