"""Command ``evaluate``: how well would the reason classifier do on *your* labelled contacts?

    python -m pipeline evaluate --labels FILE_OR_FOLDER [--taxonomy reasons.yaml] [--folds 5]

Reads a labelled file (CSV with any usual delimiter and encoding, XLSX, JSON lines, a JSON array
of objects, or a folder of such files: ``pipeline.taxonomy.labelfiles``), validates it, and
scores exactly the classifier that ``train`` fits (same text processing, same features, same
model selection, ``params.yaml`` section ``train``) by stratified k-fold cross-validation: every
example is predicted by a model fitted without it, and that model chooses its regularisation
and «Не определено» cut inside its own training part. Writes a JSON report and prints a
Russian summary.

Without ``--taxonomy`` the label values themselves are the classes (a provisional taxonomy).
With one, labels may be reason ids or titles; unknown labels are errors (a count, the first rows
and the likely cause), and labels of retired reasons are
mapped to their successors. Labels with fewer examples than folds cannot be cross-validated:
they are dropped (the default, announced loudly) or merged into one class «прочее».
"""

from __future__ import annotations

import argparse
import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
from sklearn.metrics import accuracy_score
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import Pipeline

from pipeline.config import ConfigError, load_section
from pipeline.errors import RowProblem, summarise_rows
from pipeline.io import outputs
from pipeline.model.training import TrainConfig, model_inputs, out_of_fold, per_reason, score
from pipeline.taxonomy.hints import RESERVED_LABEL, UNKNOWN_LABEL, unknown_labels_cause
from pipeline.taxonomy.labelfiles import label_to_reason, read_labelled
from pipeline.taxonomy.schema import load_taxonomy
from pipeline.text import Lemmatizer
from pipeline.tools.evaluate_summary import render_summary

logger = logging.getLogger(__name__)

OTHER_LABEL = "прочее"  # the class rare labels are merged into with --rare merge
RareMode = Literal["merge", "drop"]
RARE_MODES: tuple[RareMode, ...] = ("merge", "drop")
MAX_LISTED_PROBLEMS = 20
# The classifier chooses C by an inner CV of at least 2 folds: a label needs 2 examples
# in a training part to appear in each inner training part.
MIN_TRAINING_EXAMPLES = 2


class EvaluateError(ConfigError):
    """The labelled file cannot be evaluated; the message says what, where and how to fix it."""


@dataclass(frozen=True)
class EvaluateOptions:
    text_column: str | None = None  # None: the first of labelfiles.TEXT_COLUMN_NAMES it has
    label_column: str | None = None  # None: the first of labelfiles.LABEL_COLUMN_NAMES it has
    key_column: str | None = None  # unique id of an example: later duplicates are dropped
    folds: int = 5
    rare: RareMode | None = None  # None: drop, and say so loudly
    min_per_label: int | None = None  # default: the number of folds
    seed: int = 0  # seed of the outer fold split

    @property
    def rare_threshold(self) -> int:
        """Fewest examples a label needs: at least one per fold, and at least
        ``MIN_TRAINING_EXAMPLES`` in every training part, so the model's inner CV sees it in each
        of its own training parts (with 2 folds that is 4 examples, not 2)."""
        count = max(self.folds, self.min_per_label or 0)
        while count - math.ceil(count / self.folds) < MIN_TRAINING_EXAMPLES:
            count += 1
        return count


# ================================================================================================
# validation (pure)


@dataclass(frozen=True)
class Prepared:
    """Examples ready for cross-validation, and an account of every row left out."""

    texts: list[str]
    labels: np.ndarray
    skipped: dict  # why rows were left out -> count
    rare: dict  # what was done with labels too rare to cross-validate
    remapped: int  # labels of retired reasons mapped to their successors
    taxonomy: str  # "provisional" or the taxonomy file


def prepare(
    rows: pd.DataFrame, options: EvaluateOptions, taxonomy_path: Path | None = None
) -> Prepared:
    """Drop empty texts, unlabelled rows and duplicates; check labels; handle rare labels."""
    if options.folds < 2:
        raise EvaluateError(f"--folds {options.folds}: нужно не меньше 2 фолдов")
    rows = rows.assign(text=rows["text"].str.strip(), label=rows["label"].str.strip())
    skipped = {
        "empty_text": int((rows["text"] == "").sum()),
        "no_label": int(((rows["text"] != "") & (rows["label"] == "")).sum()),
    }
    rows = rows[(rows["text"] != "") & (rows["label"] != "")]
    if options.key_column:
        keyed = rows["key"] != ""
        duplicated = keyed & rows["key"].duplicated()
        skipped["duplicate_key"] = int(duplicated.sum())
        rows = rows[~duplicated]
    folded_text = rows["text"].str.lower().str.split().str.join(" ")
    duplicated = pd.Series(
        list(zip(folded_text, rows["label"], strict=True)), index=rows.index
    ).duplicated()
    skipped["duplicate_text"] = int(duplicated.sum())
    rows = rows[~duplicated]
    if rows.empty:
        raise EvaluateError(
            f"нет ни одного примера с непустыми текстом и меткой (пустых текстов: "
            f"{skipped['empty_text']}, без метки: {skipped['no_label']}); проверьте "
            "--text-column и --label-column"
        )
    remapped, taxonomy_name = 0, "provisional"
    if taxonomy_path is not None:
        rows, remapped = _apply_taxonomy(rows, taxonomy_path)
        taxonomy_name = str(taxonomy_path)
    _require_two_classes(rows["label"], "в разметке")
    rows, rare = handle_rare(rows, options)
    _require_two_classes(
        rows["label"],
        f"после обработки редких меток (меньше {options.rare_threshold} примеров)",
    )
    if any(skipped.values()):
        logger.info("evaluate: rows left out %s", skipped)
    return Prepared(
        texts=rows["text"].tolist(),
        labels=rows["label"].to_numpy(dtype=str),
        skipped=skipped,
        rare=rare,
        remapped=remapped,
        taxonomy=taxonomy_name,
    )


def _apply_taxonomy(rows: pd.DataFrame, taxonomy_path: Path) -> tuple[pd.DataFrame, int]:
    """Labels as active reason ids: titles stand for their ids, retired ids for successors."""
    taxonomy = load_taxonomy(taxonomy_path)
    rows = rows.assign(label=rows["label"].map(label_to_reason(taxonomy)))
    problems, unknown = [], []
    for row in rows.itertuples():
        reason = taxonomy.by_id.get(row.label)
        if reason is None:
            problems.append(RowProblem(row.where, UNKNOWN_LABEL, row.label))
            unknown.append(row.label)
        elif reason.reserved:
            problems.append(RowProblem(row.where, RESERVED_LABEL, row.label))
    if problems:
        causes = {
            UNKNOWN_LABEL: unknown_labels_cause(unknown, taxonomy),
            RESERVED_LABEL: "строки, которым не подошла ни одна причина: уберите их из оценки",
        }
        raise EvaluateError(
            f"метки не совпадают с таксономией {taxonomy_path} (ожидаются id или названия "
            "причин):" + summarise_rows(problems, causes)
        )
    successor = rows["label"].map(taxonomy.successor)
    remapped = int((successor != rows["label"]).sum())
    if remapped:
        logger.info("evaluate: %d labels of retired reasons mapped to successors", remapped)
    return rows.assign(label=successor), remapped


def _require_two_classes(labels: pd.Series, where: str) -> None:
    counts = labels.value_counts()
    if len(counts) < 2:
        only = f"'{counts.index[0]}' ({counts.iloc[0]} примеров)" if len(counts) else "нет"
        raise EvaluateError(
            f"{where} одна метка: {only}; для оценки нужны хотя бы две причины. "
            "Проверьте --label-column, а для редких меток — --rare merge или меньше --folds"
        )


def handle_rare(rows: pd.DataFrame, options: EvaluateOptions) -> tuple[pd.DataFrame, dict]:
    """Labels with fewer than ``options.rare_threshold`` examples: drop them or merge them."""
    threshold = options.rare_threshold
    counts = rows["label"].value_counts()
    rare_counts = {str(k): int(v) for k, v in counts.items() if v < threshold}
    mode = options.rare or "drop"
    report = {
        "threshold": threshold,
        "mode": mode,
        "mode_from": "option" if options.rare else "default",
        "labels": rare_counts,
        "merged_into": None,
        "dropped_examples": 0,
    }
    if not rare_counts:
        return rows, report
    is_rare = rows["label"].isin(list(rare_counts))
    if mode == "merge":
        rows = rows.assign(label=rows["label"].where(~is_rare, OTHER_LABEL))
        merged = int((rows["label"] == OTHER_LABEL).sum())
        if merged >= options.folds:
            report["merged_into"] = OTHER_LABEL
            logger.warning(
                "evaluate: %d rare labels (< %d examples) merged into «%s» (%d examples): %s",
                len(rare_counts),
                threshold,
                OTHER_LABEL,
                merged,
                rare_counts,
            )
            return rows, report
        # even merged they cannot be cross-validated
        is_rare = rows["label"] == OTHER_LABEL
        report["note"] = (
            f"в «{OTHER_LABEL}» набралось {merged} примеров — меньше числа фолдов "
            f"({options.folds}); эти примеры отброшены"
        )
    report["dropped_examples"] = int(is_rare.sum())
    logger.warning(
        "evaluate: DROPPED %d labels with fewer than %d examples (%d examples): %s%s",
        len(rare_counts),
        threshold,
        report["dropped_examples"],
        rare_counts,
        "" if options.rare else "; use --rare merge to keep them as one class",
    )
    return rows[~is_rare], report


# ================================================================================================
# cross-validation (pure)


def classifier_factory(config: TrainConfig) -> Callable[[], Pipeline]:
    """The unfitted classifier ``train`` fits, with the ``train`` parameters."""
    return config.build_pipeline


def stratified_folds(labels: np.ndarray, folds: int, seed: int) -> list[tuple[np.ndarray, ...]]:
    splitter = StratifiedKFold(folds, shuffle=True, random_state=seed)
    return list(splitter.split(np.zeros(len(labels)), labels))


def cross_validate(
    texts: Sequence[str],
    labels: np.ndarray,
    config: TrainConfig,
    folds: list[tuple[np.ndarray, np.ndarray]],
    lemmatizer: Lemmatizer,
) -> dict:
    """Out-of-fold scores of the pipeline's classifier; lemmatisation is part of the timing."""
    started = time.perf_counter()
    inputs = model_inputs(list(texts), lemmatizer)
    lemmatize_s = time.perf_counter() - started
    oof = out_of_fold(classifier_factory(config), inputs, labels, folds)
    metrics = score(labels, oof)
    metrics["fold_accuracy"] = [
        round(float(accuracy_score(labels[test], oof["predicted"][test])), 4) for _, test in folds
    ]
    metrics["fold_C"] = [float(c) for c in oof["Cs"]]
    metrics["fold_vector_weight"] = [float(w) for w in oof["vector_weights"]]
    metrics["fold_threshold"] = [round(float(t), 4) for t in oof["thresholds"]]
    metrics["per_label"] = per_reason(labels, oof["predicted"], sorted(set(labels)))
    metrics["texts_without_words"] = int(sum(not lemma for lemma in inputs["lemmas"]))
    metrics["lemmatize_s"] = round(lemmatize_s, 2)
    metrics["fit_predict_s"] = round(time.perf_counter() - started - lemmatize_s, 2)
    return {"metrics": metrics, "predicted": oof["predicted"], "covered": oof["covered"]}


def evaluate(
    rows: pd.DataFrame,
    options: EvaluateOptions,
    config: TrainConfig,
    taxonomy_path: Path | None = None,
    lemmatizer: Lemmatizer | None = None,
) -> dict:
    """The whole report for rows of ``text, label, key, where`` (see ``read_labelled``)."""
    started = time.perf_counter()
    prepared = prepare(rows, options, taxonomy_path)
    folds = stratified_folds(prepared.labels, options.folds, options.seed)
    result = cross_validate(
        prepared.texts, prepared.labels, config, folds, lemmatizer or Lemmatizer()
    )
    metrics = result["metrics"]
    counts = pd.Series(prepared.labels).value_counts()
    report = {
        "macro_f1": round(metrics["macro_f1"], 4),
        "accuracy": round(metrics["accuracy"], 4),
        "coverage": round(metrics["coverage"], 4),
        "macro_f1_covered": round(metrics.get("macro_f1_covered", 0.0), 4),
        "precision_covered": round(metrics.get("precision_covered", 0.0), 4),
        "n_examples": len(prepared.labels),
        "n_labels": int(len(counts)),
        "per_label": metrics["per_label"],
        "folds": {
            "k": options.folds,
            "seed": options.seed,
            "macro_f1": metrics["fold_macro_f1"],
            "macro_f1_std": round(metrics["fold_macro_f1_std"], 4),
            "accuracy": metrics["fold_accuracy"],
            "C": metrics["fold_C"],
            "word_vector_weight": metrics["fold_vector_weight"],
            "threshold": metrics["fold_threshold"],
        },
        "rare_labels": prepared.rare,
        "skipped": prepared.skipped,
        "remapped_to_successor": prepared.remapped,
        "texts_without_words": metrics["texts_without_words"],
        "taxonomy": prepared.taxonomy,
        "classifier": {
            "undefined_share": config.undefined_share,
            "Cs": list(config.Cs),
            "cv_folds": config.cv_folds,
            "random_state": config.random_state,
        },
        "evaluation": (
            f"{options.folds}-fold stratified cross-validation of the classifier `train` fits: "
            "each example is predicted by a model fitted without it, which chose C and its "
            "«Не определено» cut inside its own training part"
        ),
        "lemmatize_s": metrics["lemmatize_s"],
        "fit_predict_s": metrics["fit_predict_s"],
        "wall_time_s": round(time.perf_counter() - started, 2),
    }
    return report


# ================================================================================================
# command


def main(
    labels_path: Path,
    taxonomy_path: Path | None,
    out_path: Path | None,
    config: TrainConfig,
    options: EvaluateOptions,
) -> dict:
    started = time.perf_counter()
    rows, read = read_labelled(
        labels_path, options.text_column, options.label_column, options.key_column
    )
    report = evaluate(rows, options, config, taxonomy_path)
    report["skipped"]["malformed_rows"] = len(read["malformed_rows"])
    report["malformed_rows"] = read["malformed_rows"][:MAX_LISTED_PROBLEMS]
    report["input"] = {
        "path": str(labels_path),
        "files": read["files"],
        "rows_read": read["rows_read"],
        "text_column": options.text_column,
        "label_column": options.label_column,
        "key_column": options.key_column,
    }
    report["wall_time_s"] = round(time.perf_counter() - started, 2)
    if out_path is not None:
        outputs.write(out_path, outputs.json_text(report))
    print(render_summary(report, str(labels_path)))
    return report


def cli(args: argparse.Namespace) -> None:
    config = load_section(args.params, "train", TrainConfig)
    options = EvaluateOptions(
        text_column=args.text_column,
        label_column=args.label_column,
        key_column=args.key,
        folds=args.folds,
        rare=args.rare,
        min_per_label=args.min_per_label,
        seed=args.seed,
    )
    main(args.labels, args.taxonomy, args.out, config, options)
