"""Where the classifier errs: confusions of the out-of-fold predictions, the contacts it was
least sure about (with the terms behind its choice), labelled examples that look mislabelled."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from threadpoolctl import threadpool_limits

from pipeline.investigate.warehouse import InvestigationError, last_weeks, read_query
from pipeline.model import build, explain
from pipeline.model.training import TrainConfig
from pipeline.taxonomy.labels import load_labels
from pipeline.taxonomy.schema import Taxonomy
from pipeline.text import Lemmatizer, mask_personal_data


@dataclass(frozen=True)
class ModelErrors:
    summary: dict[str, Any]  # macro-F1, accuracy, coverage, examples, how it was evaluated
    pairs: pd.DataFrame  # actual, predicted, errors, share_of_actual (most frequent first)
    per_reason: pd.DataFrame  # reason_id, precision, recall, f1, support (worst F1 first)
    error_matrix: pd.DataFrame  # errors only: actual reasons (rows) x predicted (columns)


def model_errors(
    metrics_path: str | Path, confusion_path: str | Path, top: int = 15
) -> ModelErrors:
    """Confusions of the out-of-fold predictions over the labelled examples (``train`` stage)."""
    metrics_path, confusion_path = Path(metrics_path), Path(confusion_path)
    for path in (metrics_path, confusion_path):
        if not path.is_file():
            raise InvestigationError(f"{path}: нет файла; его пишет стадия train (dvc repro)")
    metrics = json.loads(metrics_path.read_text("utf-8"))
    confusion = pd.read_csv(confusion_path, dtype=str)
    support = confusion["actual"].value_counts()
    errors = confusion[confusion["actual"] != confusion["predicted"]]
    pairs = errors.groupby(["actual", "predicted"]).size().rename("errors").reset_index()
    pairs["share_of_actual"] = pairs["errors"] / pairs["actual"].map(support)
    pairs = (
        pairs.sort_values(
            ["errors", "actual", "predicted"], ascending=[False, True, True], kind="stable"
        )
        .head(top)
        .reset_index(drop=True)
    )
    per_reason = pd.DataFrame.from_dict(metrics.get("per_reason", {}), orient="index")
    per_reason = per_reason.rename_axis("reason_id").reset_index()
    if not per_reason.empty:
        per_reason = per_reason.sort_values(["f1", "reason_id"], kind="stable").reset_index(
            drop=True
        )
    keys = (
        "macro_f1",
        "accuracy",
        "coverage",
        "precision_covered",
        "examples",
        "evaluation",
        "model_version",
    )
    summary = {key: metrics[key] for key in keys if key in metrics}
    summary["errors"] = int(len(errors))
    matrix = pd.crosstab(errors["actual"], errors["predicted"])
    return ModelErrors(summary=summary, pairs=pairs, per_reason=per_reason, error_matrix=matrix)


def lowest_confidence(
    con: duckdb.DuckDBPyConnection, n: int = 20, week: str | None = None, weeks: int = 1
) -> pd.DataFrame:
    """The ``n`` contacts with text the classifier was least sure about in the ``weeks`` weeks
    ending at ``week`` (report week by default), with the reason it chose and the runner-up."""
    span = last_weeks(con, week, weeks)
    frame = read_query(con, "lowest_confidence", weeks=span, n=n)
    frame["text"] = frame["text"].map(mask_personal_data)
    return frame


def explain_contacts(
    model: Any, frame: pd.DataFrame, lemmatizer: Lemmatizer, n: int = 5
) -> pd.DataFrame:
    """``frame`` (with ``text, reason_id, runner_up_id``) plus the terms that pushed each text
    to the chosen reason and to the runner-up (``pipeline.model.explain``)."""
    classes = set(model.named_steps["model"].classes_)
    towards_reason, towards_runner_up = [], []
    for row in frame.itertuples():
        contact = build.analyse_texts([row.text], lemmatizer)
        for label, out in ((row.reason_id, towards_reason), (row.runner_up_id, towards_runner_up)):
            terms = explain.explain(model, contact, label, n) if label in classes else []
            out.append(", ".join(term for term, _ in terms))
    return frame.assign(terms_reason=towards_reason, terms_runner_up=towards_runner_up)


def label_suspects(
    labels_dir: str | Path,
    taxonomy: Taxonomy,
    folds: int = 5,
    *,
    lemmatizer: Lemmatizer,
    config: TrainConfig | None = None,
    min_confidence: float = 0.5,
) -> pd.DataFrame:
    """Labelled examples the model, fitted without them (``folds``-fold CV of the pipeline
    ``train`` builds, with the ``train`` parameters of ``config``), puts into another reason with
    at least ``min_confidence``: likely mislabelled, or two reasons whose definitions overlap.
    With ``folds`` equal to ``eval_folds`` the folds are those of ``reports/plots/confusion.csv``.
    Least probable given label first.

    Columns: file, line, text, label, predicted, p_label, p_predicted.
    """
    config = config or TrainConfig()
    labels = load_labels(Path(labels_dir), taxonomy).frame
    y = labels["reason_id"].to_numpy()
    smallest = int(labels["reason_id"].value_counts().min())
    if smallest < folds:
        raise InvestigationError(
            f"label_suspects: у одной из причин всего {smallest} примеров, "
            f"а folds={folds}; уменьшите folds"
        )
    inputs = build.analyse_texts(labels["text"].tolist(), lemmatizer)
    pipeline = config.build_pipeline()
    splitter = StratifiedKFold(folds, shuffle=True, random_state=config.random_state)
    with threadpool_limits(1):  # small matrices: threads cost more than they save
        proba = cross_val_predict(pipeline, inputs, y, cv=splitter, method="predict_proba")
    classes = np.unique(y)  # cross_val_predict orders probability columns like this
    predicted = classes[proba.argmax(axis=1)]
    p_label = proba[np.arange(len(y)), np.searchsorted(classes, y)]
    out = labels[["file", "line", "text", "reason_id"]].rename(columns={"reason_id": "label"})
    out = out.assign(predicted=predicted, p_label=p_label, p_predicted=proba.max(axis=1))
    suspects = out[(out["predicted"] != out["label"]) & (out["p_predicted"] >= min_confidence)]
    return suspects.sort_values(["p_label", "file", "line"], kind="stable").reset_index(drop=True)
