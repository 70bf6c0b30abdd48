"""Accuracy on real Russian text: the pipeline's classifier against common peers, same folds.

    python benchmarks/accuracy.py [--data ../shared/data/gpb-sravni-reviews] [--folds 5]
        [--seed 0] [--out FILE.json] [--limit N] [--skip-10k] [--methods NAME ...]
    python benchmarks/accuracy.py --merge a.json b.json --out all.json   # runs split by method

Data: public reviews of a Russian bank (sravni.ru; see the data folder's README): deduplicated
by ``url``, labels with at least 5 reviews kept, read and validated by ``pipeline.evaluate``
exactly as ``python -m pipeline evaluate`` reads them. The label is the product a review is
about (``product_type``), not a contact reason: no choice in the pipeline was made on it.

Methods, all scored out of fold on the same stratified folds (fixed seed):

* ``pipeline`` — the classifier ``train`` fits, run as ``evaluate`` runs it (lemmas, word and
  character TF-IDF, class-balanced linear SVM with C chosen by inner CV, ``params.yaml``);
* ``tfidf_char_lr`` — TF-IDF of character 2–5-grams of the raw text + logistic regression;
* ``tfidf_word_lr`` — TF-IDF of words of the raw text + logistic regression;
* ``fasttext`` — fastText supervised on lower-cased word tokens (``pip install -e '.[bench]'``).

Every peer gets the same courtesy as the pipeline: its hyper-parameters (C and class weighting
for the regressions; learning rate, epochs and word n-grams for fastText) are chosen by a
3-fold stratified CV on macro-F1 inside each training part. Nothing is chosen on a test fold.

Besides pooled macro-F1 (mean ± sd over folds), the table shows accuracy, the CV time and
macro-F1 on the short (≤ 20 words) and long (> 20 words) reviews of the out-of-fold predictions.
Last, it times fitting the final model (lemmatisation + fit) on 10,000 labelled texts: demo
contacts from the generator, and 10,000 reviews drawn with replacement from this set.
The whole run takes about an hour on 2 cores; ``--methods`` splits it across processes and
``--merge`` joins their JSON files (same data, folds and seed are checked).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import date
from itertools import product
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import StratifiedKFold

from pipeline.config import load_section
from pipeline.evaluate import (
    EvaluateOptions,
    cross_validate,
    prepare,
    read_labelled,
    stratified_folds,
)
from pipeline.text import Lemmatizer
from pipeline.train import TrainConfig, lemma_strings

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "gpb-sravni-reviews"
OPTIONS = EvaluateOptions(
    text_column="review_text",
    label_column="product_type",
    key_column="url",
    folds=5,
    rare="drop",
    min_per_label=5,
)
SHORT_WORDS = 20  # a review of at most this many words is "short"
INNER_FOLDS = 3
LR_GRID = {"C": (0.01, 0.1, 1.0, 10.0), "class_weight": (None, "balanced")}
FASTTEXT_GRID = {"lr": (0.25, 1.0), "epoch": (25, 100), "wordNgrams": (1, 2)}
TIMING_TEXTS = 10_000
METHODS = ("pipeline", "tfidf_char_lr", "tfidf_word_lr", "fasttext")
_WORD_RE = re.compile(r"\w+")


# --- peers -------------------------------------------------------------------------------------


def inner_cv_choice(
    texts: Sequence[str],
    y: np.ndarray,
    grid: dict[str, Sequence],
    fit_score: Callable[[list[str], np.ndarray, list[str], np.ndarray, list[dict]], list[float]],
    seed: int,
) -> tuple[dict, dict]:
    """The grid point with the best mean inner-CV macro-F1 (ties: the first in grid order)."""
    points = [dict(zip(grid, values, strict=True)) for values in product(*grid.values())]
    splitter = StratifiedKFold(INNER_FOLDS, shuffle=True, random_state=seed)
    totals = np.zeros(len(points))
    for train, test in splitter.split(np.zeros(len(y)), y):
        scores = fit_score(
            [texts[i] for i in train], y[train], [texts[i] for i in test], y[test], points
        )
        totals += scores
    best = int(np.argmax(totals))
    return points[best], {
        json.dumps(p): round(t / INNER_FOLDS, 4) for p, t in zip(points, totals, strict=True)
    }


class TfidfLogisticRegression(ClassifierMixin, BaseEstimator):
    """TF-IDF of raw text + logistic regression, C and class weights chosen by inner CV."""

    def __init__(self, analyzer: str = "word", random_state: int = 0):
        self.analyzer = analyzer
        self.random_state = random_state

    def _vectorizer(self) -> TfidfVectorizer:
        if self.analyzer == "char":
            return TfidfVectorizer(
                analyzer="char", ngram_range=(2, 5), sublinear_tf=True, min_df=2
            )
        return TfidfVectorizer(analyzer="word", sublinear_tf=True)

    @staticmethod
    def _regression(point: dict) -> LogisticRegression:
        return LogisticRegression(max_iter=2000, **point)

    def _fit_score(self, train_texts, y_train, test_texts, y_test, points) -> list[float]:
        vectorizer = self._vectorizer()
        train = vectorizer.fit_transform(train_texts)
        test = vectorizer.transform(test_texts)
        return [
            f1_score(
                y_test,
                self._regression(p).fit(train, y_train).predict(test),
                average="macro",
                zero_division=0,
            )
            for p in points
        ]

    def fit(self, texts, y):
        y = np.asarray(y)
        self.best_, self.cv_scores_ = inner_cv_choice(
            list(texts), y, LR_GRID, self._fit_score, self.random_state
        )
        self.vectorizer_ = self._vectorizer()
        self.regression_ = self._regression(self.best_).fit(
            self.vectorizer_.fit_transform(texts), y
        )
        self.classes_ = self.regression_.classes_
        return self

    def predict(self, texts) -> np.ndarray:
        return self.regression_.predict(self.vectorizer_.transform(texts))


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
            predicted = self._predict(model, names, test_texts)
            scores.append(f1_score(y_test, predicted, average="macro", zero_division=0))
        return scores

    def fit(self, texts, y):
        y = np.asarray(y)
        self.best_, self.cv_scores_ = inner_cv_choice(
            list(texts), y, FASTTEXT_GRID, self._fit_score, self.random_state
        )
        self.model_, self.names_ = self._train(list(texts), y, self.best_)
        self.classes_ = np.array(sorted(set(y)))
        return self

    def predict(self, texts) -> np.ndarray:
        return self._predict(self.model_, self.names_, list(texts))


def fasttext_missing() -> str | None:
    """None if fastText imports, else why not."""
    try:
        import fasttext  # noqa: F401
    except ImportError as exc:
        return f"fastText is not installed ({exc}); pip install fasttext-wheel"
    return None


# --- scoring -----------------------------------------------------------------------------------


def out_of_fold(make: Callable[[], BaseEstimator], texts, y, folds) -> dict:
    predicted = np.empty(len(y), dtype=object)
    fold_f1, chosen = [], []
    started = time.perf_counter()
    for train, test in folds:
        model = make().fit([texts[i] for i in train], y[train])
        predicted[test] = model.predict([texts[i] for i in test])
        fold_f1.append(
            f1_score(y[test], predicted[test].astype(str), average="macro", zero_division=0)
        )
        chosen.append(model.best_)
    return {
        "predicted": predicted.astype(str),
        "fold_macro_f1": fold_f1,
        "chosen": chosen,
        "time_s": time.perf_counter() - started,
    }


def summarise(
    y: np.ndarray, predicted: np.ndarray, fold_f1: list[float], short: np.ndarray, time_s: float
) -> dict:
    def macro(mask: np.ndarray) -> float:
        return float(
            f1_score(
                y[mask],
                predicted[mask],
                labels=sorted(set(y[mask])),
                average="macro",
                zero_division=0,
            )
        )

    return {
        "macro_f1": round(float(f1_score(y, predicted, average="macro", zero_division=0)), 4),
        "macro_f1_fold_mean": round(float(np.mean(fold_f1)), 4),
        "macro_f1_fold_sd": round(float(np.std(fold_f1, ddof=1)), 4),
        "fold_macro_f1": [round(float(v), 4) for v in fold_f1],
        "accuracy": round(float(accuracy_score(y, predicted)), 4),
        "macro_f1_short": round(macro(short), 4),
        "macro_f1_long": round(macro(~short), 4),
        "accuracy_short": round(float(accuracy_score(y[short], predicted[short])), 4),
        "accuracy_long": round(float(accuracy_score(y[~short], predicted[~short])), 4),
        "cv_time_s": round(time_s, 1),
    }


def markdown_table(results: dict, n_short: int, n_long: int, folds: int) -> str:
    lines = [
        f"| method | macro-F1 (mean ± sd over {folds} folds) | accuracy | "
        f"macro-F1 short (≤ {SHORT_WORDS} words, n={n_short}) | macro-F1 long (n={n_long}) | "
        f"CV time, s ({folds} × fit + predict) |",
        "|---|---|---|---|---|---|",
    ]
    for name, r in results.items():
        if "skipped" in r:
            lines.append(f"| {name} | not run: {r['skipped']} | | | | |")
            continue
        lines.append(
            f"| {name} | {r['macro_f1_fold_mean']:.3f} ± {r['macro_f1_fold_sd']:.3f} | "
            f"{r['accuracy']:.3f} | {r['macro_f1_short']:.3f} | {r['macro_f1_long']:.3f} | "
            f"{r['cv_time_s']:.0f} |"
        )
    return "\n".join(lines)


# --- training time on 10,000 texts ---------------------------------------------------------------


def demo_contacts(n: int, seed: int = 20261123) -> tuple[list[str], np.ndarray]:
    """n labelled demo contacts (client and agent texts) from the generator, unknown excluded."""
    from pipeline import synth

    generator = synth.Generator(
        synth.load_reasons(ROOT / "taxonomy" / "reasons.yaml"),
        synth.load_phrases(),
        weeks=13,
        contacts=int(n * 1.6),
        seed=seed,
        end=date(2026, 11, 22),
    )
    contacts = [c for c in generator.generate() if c.text.strip() and c.reason_id != "unknown"]
    picked = random.Random(seed).sample(contacts, n)
    return [c.text for c in picked], np.array([c.reason_id for c in picked])


def time_final_fit(
    texts: list[str],
    y: np.ndarray,
    config: TrainConfig,
) -> dict:
    """Wall time of what ``train`` does last: lemmatise every text, fit the final model."""
    started = time.perf_counter()
    lemmas = lemma_strings(texts, Lemmatizer())
    lemmatized = time.perf_counter()
    config.build_pipeline().fit(lemmas, y)
    done = time.perf_counter()
    return {
        "texts": len(texts),
        "labels": len(set(y)),
        "median_words": float(np.median([len(t.split()) for t in texts])),
        "lemmatize_s": round(lemmatized - started, 1),
        "fit_s": round(done - lemmatized, 1),
        "total_s": round(done - started, 1),
    }


# --- command -----------------------------------------------------------------------------------


def load_reviews(data: Path, folds: int, seed: int, limit: int | None):
    """Reviews and labels exactly as ``pipeline evaluate`` prepares them (url dedupe, ≥ 5)."""
    options = EvaluateOptions(**{**OPTIONS.__dict__, "folds": folds, "seed": seed})
    rows, read = read_labelled(data, options)
    prepared = prepare(rows, options)
    texts, y = prepared.texts, prepared.labels
    if limit and limit < len(y):  # a stratified subsample for quick smoke runs
        splitter = StratifiedKFold(max(2, round(len(y) / limit)), shuffle=True, random_state=seed)
        _, keep = next(splitter.split(np.zeros(len(y)), y))
        subsample = pd.DataFrame(
            {"text": [texts[i] for i in keep], "label": y[keep], "key": "", "where": ""}
        )
        small = prepare(subsample, options)  # drops labels now too rare for the folds
        texts, y = small.texts, small.labels
    return texts, y, prepared, read


def run(
    data: Path,
    folds: int,
    seed: int,
    limit: int | None = None,
    timing: bool = True,
    methods: Sequence[str] = METHODS,
    checkpoint: Callable[[dict], None] | None = None,
) -> dict:
    """Score ``methods`` on the same folds; ``checkpoint`` gets the report after each one."""
    config = load_section(ROOT / "params.yaml", "train", TrainConfig)
    texts, y, prepared, read = load_reviews(data, folds, seed, limit)
    short = np.array([len(t.split()) <= SHORT_WORDS for t in texts])
    split = stratified_folds(y, folds, seed)
    print(
        f"{len(y)} reviews, {len(set(y))} labels, {folds} folds; short (≤ {SHORT_WORDS} "
        f"words): {int(short.sum())}",
        file=sys.stderr,
    )
    report = {
        "data": str(data),
        "files": len(read["files"]),
        "reviews": len(y),
        "labels": {str(k): int(v) for k, v in pd.Series(y).value_counts().items()},
        "rare_labels_dropped": prepared.rare["labels"],
        "skipped": prepared.skipped,
        "folds": folds,
        "seed": seed,
        "limit": limit,
        "short_reviews": int(short.sum()),
        "long_reviews": int((~short).sum()),
        "cpu_count": os.cpu_count(),
        "results": {},
    }
    peers: dict[str, Callable[[], BaseEstimator]] = {
        "tfidf_char_lr": lambda: TfidfLogisticRegression("char", random_state=seed),
        "tfidf_word_lr": lambda: TfidfLogisticRegression("word", random_state=seed),
        "fasttext": lambda: FastTextClassifier(random_state=seed),
    }
    results = report["results"]
    for name in methods:
        if name == "pipeline":  # as params.yaml and model.py stand
            started = time.perf_counter()
            outcome = cross_validate(texts, y, config, split, Lemmatizer())
            metrics = outcome["metrics"]
            results[name] = summarise(
                y,
                outcome["predicted"],
                metrics["fold_macro_f1"],
                short,
                time.perf_counter() - started,
            )
            results[name]["coverage"] = round(metrics["coverage"], 4)
            results[name]["precision_covered"] = round(metrics.get("precision_covered", 0.0), 4)
            results[name]["chosen"] = [{"C": c} for c in metrics["fold_C"]]
        elif name == "fasttext" and (missing := fasttext_missing()):
            results[name] = {"skipped": missing}
        else:
            oof = out_of_fold(peers[name], texts, y, split)
            results[name] = summarise(
                y, oof["predicted"], oof["fold_macro_f1"], short, oof["time_s"]
            )
            results[name]["chosen"] = oof["chosen"]
        print(name, results[name].get("macro_f1"), file=sys.stderr)
        if checkpoint:
            checkpoint(finish(report))
    if timing:
        demo_texts, demo_y = demo_contacts(TIMING_TEXTS)
        draw = np.random.default_rng(seed).integers(0, len(prepared.texts), TIMING_TEXTS)
        review_texts, review_y = [prepared.texts[i] for i in draw], prepared.labels[draw]
        report["fit_10k"] = {
            "demo contacts": time_final_fit(demo_texts, demo_y, config),
            "reviews drawn with replacement": time_final_fit(review_texts, review_y, config),
        }
    return finish(report)


def finish(report: dict) -> dict:
    """The report with results in table order, the verdicts and the markdown table."""
    results = report["results"]
    ordered = {name: results[name] for name in METHODS if name in results}
    peers = [r for k, r in ordered.items() if not k.startswith("pipeline") and "macro_f1" in r]
    verdicts = {
        name: all(r["macro_f1"] < ordered[name]["macro_f1"] for r in peers)
        for name in ordered
        if name.startswith("pipeline")
    }
    table = markdown_table(
        ordered, report["short_reviews"], report["long_reviews"], report["folds"]
    )
    return {**report, "results": ordered, "beats_all_peers": verdicts, "table": table}


def merge(paths: Sequence[Path]) -> dict:
    """One report from runs of different methods on the same data, folds and seed."""
    reports = [json.loads(Path(p).read_text(encoding="utf-8")) for p in paths]
    same = ("data", "reviews", "folds", "seed", "limit")
    for other in reports[1:]:
        differ = [k for k in same if other.get(k) != reports[0].get(k)]
        if differ:
            raise SystemExit(f"cannot merge runs that differ in {differ}")
    merged = {**reports[0], "results": {}}
    for report in reports:
        merged["results"].update(report["results"])
        if "fit_10k" in report:
            merged["fit_10k"] = report["fit_10k"]
    return finish(merged)


def write(report: dict, path: Path | None) -> None:
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", "utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--limit", type=int, default=None, help="stratified subsample of about N reviews"
    )
    parser.add_argument("--skip-10k", action="store_true", help="skip the 10,000-text fit time")
    parser.add_argument(
        "--methods",
        nargs="*",
        default=list(METHODS),
        choices=METHODS,
        help="methods to score (default: all; none with the 10,000-text fit time only)",
    )
    parser.add_argument(
        "--merge",
        nargs="+",
        type=Path,
        default=None,
        help="combine JSON reports of earlier runs (e.g. methods run in parallel) and exit",
    )
    parser.add_argument("--out", type=Path, default=None, help="JSON, rewritten after each method")
    args = parser.parse_args(argv)
    if args.merge:
        report = merge(args.merge)
    elif not args.data.is_dir():
        print(f"{args.data}: no such folder; pass --data (see the README)", file=sys.stderr)
        return 2
    else:
        report = run(
            args.data,
            args.folds,
            args.seed,
            args.limit,
            not args.skip_10k,
            args.methods,
            checkpoint=lambda partial: write(partial, args.out),
        )
    write(report, args.out)
    if report["results"]:
        print(report["table"])
    for name, beats in report["beats_all_peers"].items():
        print(f"{name} beats every peer on macro-F1: {beats}")
    for name, fit in report.get("fit_10k", {}).items():
        print(
            f"fit on {fit['texts']:,} texts ({name}, median {fit['median_words']:.0f} words): "
            f"{fit['total_s']:.1f} s (lemmatise {fit['lemmatize_s']:.1f} s + fit "
            f"{fit['fit_s']:.1f} s), {report['cpu_count']} CPUs"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
