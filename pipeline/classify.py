"""Stage ``classify``: every contact gets a reason, a confidence and a runner-up.

Every contact with text gets its most likely reason and a calibrated confidence. Contacts that
no reason claims (the best decision below the model's fit cut: out of the taxonomy, or too little
known text) get the reserved reason «Не определено» with status ``below_threshold``; their top
guess is kept in ``top_reason_id``. Contacts with no text (abandoned or dropped calls, empty
notes) are kept and marked ``no_text``: they are counted, never guessed.
"""

from __future__ import annotations

import logging
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field
from sklearn.pipeline import Pipeline

from pipeline.model import INPUT_COLUMNS, decide
from pipeline.taxonomy import load_taxonomy

logger = logging.getLogger(__name__)

CLASSIFIED_COLUMNS = (
    "contact_id",
    "reason_id",
    "status",
    "confidence",
    "fit_score",
    "top_reason_id",
    "runner_up_id",
    "runner_up_confidence",
    "model_version",
    "taxonomy_version",
)
STATUSES = ("classified", "below_threshold", "no_text")


class ClassifyConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    batch_size: int = Field(100_000, ge=1000)


def load_model(path: Path) -> Pipeline:
    pipeline = joblib.load(path)
    if not hasattr(pipeline, "metadata_"):
        raise ValueError(f"{path}: not a model written by `pipeline train`")
    return pipeline


def classify_frame(
    lemmas: pd.DataFrame, pipeline: Pipeline, batch_size: int = 100_000
) -> pd.DataFrame:
    """Pure: rows of the lemmatize stage -> classification rows, in the same order."""
    meta = pipeline.metadata_
    model = pipeline.named_steps["model"]
    classes = model.classes_
    n = len(lemmas)
    top = np.full(n, None, dtype=object)
    second = np.full(n, None, dtype=object)
    top_p = np.full(n, np.nan)
    second_p = np.full(n, np.nan)
    fit = np.full(n, np.nan)
    has_text = lemmas["has_text"].to_numpy(dtype=bool) & (lemmas["n_tokens"].to_numpy() > 0)
    rows = np.flatnonzero(has_text)
    # contact text repeats (templates, "не приходит смс"): score each distinct normalised text
    # once (the lemma string is a function of it)
    codes, uniques = pd.factorize(lemmas["normalized"].to_numpy()[rows])
    first = np.unique(codes, return_index=True)[1]  # factorize numbers by first appearance
    unique_inputs = lemmas.iloc[rows[first]][list(INPUT_COLUMNS)].reset_index(drop=True)
    u_top = np.full(len(uniques), None, dtype=object)
    u_second = np.full(len(uniques), None, dtype=object)
    u_top_p = np.full(len(uniques), np.nan)
    u_second_p = np.full(len(uniques), np.nan)
    u_fit = np.full(len(uniques), np.nan)
    for start in range(0, len(uniques), batch_size):
        part = np.arange(start, min(start + batch_size, len(uniques)))
        # one column per output, and how strongly the best reason claims each text
        decision, u_fit[part] = decide(pipeline, unique_inputs.iloc[part])
        proba = model.calibrated(decision)
        order = np.argsort(-proba, axis=1, kind="stable")
        u_top[part] = classes[order[:, 0]]
        u_top_p[part] = proba[np.arange(len(part)), order[:, 0]]
        if proba.shape[1] > 1:
            u_second[part] = classes[order[:, 1]]
            u_second_p[part] = proba[np.arange(len(part)), order[:, 1]]
    top[rows], top_p[rows] = u_top[codes], u_top_p[codes]
    second[rows], second_p[rows] = u_second[codes], u_second_p[codes]
    fit[rows] = u_fit[codes]
    below = has_text & (fit < meta["threshold"])
    status = np.where(~has_text, "no_text", np.where(below, "below_threshold", "classified"))
    reason = np.where(below, meta["undefined_reason"], top)
    reason = np.where(has_text, reason, None)
    return pd.DataFrame(
        {
            "contact_id": lemmas["contact_id"].astype("string").to_numpy(),
            "reason_id": pd.array(reason, dtype="string"),
            "status": pd.array(status, dtype="string"),
            "confidence": top_p.round(6),
            "fit_score": fit.round(6),
            "top_reason_id": pd.array(top, dtype="string"),
            "runner_up_id": pd.array(second, dtype="string"),
            "runner_up_confidence": second_p.round(6),
            "model_version": meta["model_version"],
            "taxonomy_version": meta["taxonomy_version"],
        }
    )


def main(
    lemmas_path: Path,
    model_path: Path,
    taxonomy_path: Path,
    out_path: Path,
    config: ClassifyConfig,
) -> pd.DataFrame:
    taxonomy = load_taxonomy(taxonomy_path)
    pipeline = load_model(model_path)
    unknown = set(pipeline.named_steps["model"].classes_) - set(taxonomy.classes)
    if unknown:
        raise ValueError(
            f"model predicts reasons missing from {taxonomy_path}: {unknown}; "
            "re-run `dvc repro train`"
        )
    lemmas = pd.read_parquet(lemmas_path)
    classified = classify_frame(lemmas, pipeline, config.batch_size)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    classified.to_parquet(out_path, index=False)
    counts = classified["status"].value_counts().to_dict()
    logger.info("classify: %d contacts %s", len(classified), counts)
    return classified
