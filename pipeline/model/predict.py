"""Using a trained reason model: load it, classify lemmatised contacts, explain one text.

Pure functions over a fitted pipeline (``train`` writes it); the ``classify`` stage and the
``explain`` command call them.
"""

from __future__ import annotations

from pathlib import Path

import joblib
import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from pipeline.errors import PipelineError
from pipeline.model import build, explain
from pipeline.model.reason_model import INPUT_COLUMNS, decide
from pipeline.text import Lemmatizer

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


class ModelError(PipelineError, ValueError):
    """The model file is not one ``train`` wrote, or it does not match the taxonomy."""


def load_model(path: Path) -> Pipeline:
    try:
        pipeline = joblib.load(path)
    except FileNotFoundError as exc:
        raise ModelError(f"{path}: файла модели нет; обучите её: `dvc repro train`") from exc
    except (ModuleNotFoundError, AttributeError) as exc:
        # pickled by another version of the package (a class moved or renamed)
        raise ModelError(
            f"{path}: модель записана другой версией программы ({exc}); "
            "переобучите её: `dvc repro train`"
        ) from exc
    except Exception as exc:  # noqa: BLE001 - unpickling foreign bytes fails in any way
        raise ModelError(
            f"{path}: не читается как модель ({type(exc).__name__}: {exc}); "
            "пересоберите её командой `dvc repro train`"
        ) from exc
    if not hasattr(pipeline, "metadata_"):
        raise ModelError(
            f"{path}: это не модель, записанная стадией train; "
            "пересоберите её командой `dvc repro train`"
        )
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


def check_classes(pipeline: Pipeline, classes: list[str], taxonomy_path: Path) -> None:
    """The model may only answer reasons the taxonomy knows."""
    unknown = sorted(set(pipeline.named_steps["model"].classes_) - set(classes))
    if unknown:
        raise ModelError(
            f"модель знает причины, которых нет в {taxonomy_path}: {', '.join(unknown)}; "
            "переобучите её: `dvc repro train`"
        )


def explain_text(text: str, pipeline: Pipeline, title) -> list[str]:
    """Lines that show why a text gets its reason: lemmas, the three likeliest reasons, and the
    words that pushed it there (``title`` maps a reason id to its title)."""
    contact = build.analyse_texts([text], Lemmatizer())
    model = pipeline.named_steps["model"]
    decision, fit = decide(pipeline, contact)
    proba = model.calibrated(decision)[0]
    classes = model.classes_
    lines = [f"леммы: {contact['lemmas'].iloc[0]}"]
    if fit[0] < pipeline.metadata_["threshold"]:
        undefined = title(pipeline.metadata_["undefined_reason"])
        lines.append(f"  {undefined}: ни одна причина не подходит; ближайшие:")
    for i in proba.argsort()[::-1][:3]:
        lines.append(f"  {proba[i]:.2f}  {classes[i]}  {title(classes[i])}")
    words = explain.explain(pipeline, contact)
    lines.append("слова за причину: " + ", ".join(f"{t} ({w:+.2f})" for t, w in words))
    return lines
