"""Labelling, the way out: pick contacts worth labelling and write them for the labellers.

``export_labeling`` picks contacts from the warehouse (below the confidence threshold, the model
torn between two reasons, lowest confidence) and writes them as ``to_label.csv`` and as Label
Studio tasks with the taxonomy as the labelling config. The way back is ``label_import``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline import sql
from pipeline.io import outputs
from pipeline.io.cells import guard_frame
from pipeline.taxonomy.labels import (
    TO_LABEL_COLUMNS,
    labels_table,
    read_label_folder,
    text_key,
)
from pipeline.taxonomy.labelstudio import (
    label_studio_config,
    label_studio_tasks,
)
from pipeline.taxonomy.schema import MaintenanceError, Taxonomy, load_taxonomy

logger = logging.getLogger(__name__)

DEFAULT_LABELING_SIZE = 200
DEFAULT_LABELING_WEEKS = 4
# "torn between two reasons": top and runner-up confidence closer than this
DISAGREEMENT_MARGIN = 0.10
SOURCE_OF_KIND = {"call": "agent", "complaint": "client"}  # agent notes vs client's own words
WHY = {
    "below_threshold": "не определено: ни одна причина не подходит (уверенность {confidence:.2f})",
    "disagreement": "модель колеблется: {reason_id} {confidence:.2f} / "
    "{runner_up_id} {runner_up_confidence:.2f}",
    "low_confidence": "низкая уверенность: {confidence:.2f}",
}


# --- export --------------------------------------------------------------------------------------


def pick_for_labeling(
    candidates: pd.DataFrame,
    n: int,
    labelled: Iterable[str] = (),
    margin: float = DISAGREEMENT_MARGIN,
) -> pd.DataFrame:
    """Choose up to ``n`` contacts, taking in turn from three queues, each worst-first.

    ``candidates``: contact_id, text, reason_id, class_status, confidence, runner_up_id,
    and optionally top_reason_id, runner_up_confidence, kind. Texts already labelled (by
    ``text_key``) and repeated texts are skipped. Ties break by contact_id, so the pick is
    deterministic.
    """
    chosen = _take_in_turn(_queues(candidates, labelled, margin), n)
    rows = [_to_label_row(why, row) for why, row in chosen]
    return pd.DataFrame(rows, columns=[c for c in TO_LABEL_COLUMNS if c != "suggested_title"])


def _queues(
    candidates: pd.DataFrame, labelled: Iterable[str], margin: float
) -> dict[str, pd.DataFrame]:
    frame = candidates.copy()
    if "runner_up_confidence" not in frame:
        frame["runner_up_confidence"] = np.nan
    if "top_reason_id" not in frame:
        frame["top_reason_id"] = frame["reason_id"]
    frame["key"] = frame["text"].map(text_key)
    frame = frame[~frame["key"].isin(set(labelled)) & (frame["key"] != "")]
    frame["same_text"] = frame.groupby("key")["contact_id"].transform("size")
    frame["margin"] = frame["confidence"] - frame["runner_up_confidence"]
    below = frame["class_status"] == "below_threshold"
    classified = frame["class_status"] == "classified"
    return {
        "below_threshold": frame[below].sort_values(["confidence", "contact_id"]),
        "disagreement": frame[classified & (frame["margin"] < margin)].sort_values(
            ["margin", "contact_id"]
        ),
        "low_confidence": frame[classified].sort_values(["confidence", "contact_id"]),
    }


def _take_in_turn(queues: dict[str, pd.DataFrame], n: int) -> list[tuple[str, pd.Series]]:
    """One from each queue in turn, skipping texts already taken, until ``n`` or all empty."""
    chosen: list[tuple[str, pd.Series]] = []
    seen_keys: set[str] = set()
    iterators = {why: queue.iterrows() for why, queue in queues.items()}
    while len(chosen) < n and iterators:
        for why in list(iterators):
            for _, row in iterators[why]:
                if row["key"] not in seen_keys:
                    seen_keys.add(row["key"])
                    chosen.append((why, row))
                    break
            else:
                del iterators[why]
            if len(chosen) >= n:
                break
    return chosen


def _to_label_row(why: str, row: pd.Series) -> dict:
    suggested = row["top_reason_id"] if pd.notna(row["top_reason_id"]) else None
    values = {**row.to_dict(), "reason_id": row["top_reason_id"]}
    return {
        "contact_id": row["contact_id"],
        "text": row["text"],
        "suggested_reason_id": suggested or "",
        "confidence": round(float(row["confidence"]), 4),
        "runner_up_id": row["runner_up_id"] if pd.notna(row["runner_up_id"]) else "",
        "why": WHY[why].format(**values)
        + (f"; таких текстов {row['same_text']}" if row["same_text"] > 1 else ""),
        "reason_id": "",
        "source": SOURCE_OF_KIND.get(row.get("kind"), ""),
    }


def export_labeling(
    warehouse: Path,
    out_dir: Path,
    taxonomy_path: Path,
    labels_dir: Path | None,
    classified: Path | None,
    n: int = DEFAULT_LABELING_SIZE,
    weeks: int = DEFAULT_LABELING_WEEKS,
    margin: float = DISAGREEMENT_MARGIN,
) -> pd.DataFrame:
    taxonomy = load_taxonomy(taxonomy_path)
    candidates, model_version = _label_candidates(warehouse, weeks, classified)
    labelled = set()
    if labels_dir is not None and Path(labels_dir).exists():
        labelled = {text_key(t) for t in labels_table(read_label_folder(labels_dir))["text"]}
    picked = pick_for_labeling(candidates, n, labelled, margin)
    picked.insert(
        3,
        "suggested_title",
        picked["suggested_reason_id"].map(lambda rid: taxonomy.title(rid) if rid else ""),
    )
    _write_labeling(Path(out_dir), picked, taxonomy, model_version)
    return picked


def _label_candidates(
    warehouse: Path, weeks: int, classified: Path | None
) -> tuple[pd.DataFrame, str | None]:
    """Contacts of the latest ``weeks`` with the runner-up confidence where it is known."""
    import duckdb

    if not Path(warehouse).exists():
        raise MaintenanceError(f"{warehouse}: нет хранилища; сначала dvc repro (стадия aggregate)")
    with duckdb.connect(str(warehouse), read_only=True) as con:
        candidates = con.execute(sql.load("label_candidates"), {"weeks": weeks}).df()
        model_version = con.execute(sql.load("model_version")).fetchall()
    if classified is not None and Path(classified).exists():
        extra = pd.read_parquet(
            classified, columns=["contact_id", "top_reason_id", "runner_up_confidence"]
        )
        candidates = candidates.merge(extra, on="contact_id", how="left")
    else:
        logger.info(
            "export-labeling: %s not found, disagreement (runner-up margin) skipped", classified
        )
    return candidates, model_version[0][0] if model_version else None


def _write_labeling(
    out_dir: Path, picked: pd.DataFrame, taxonomy: Taxonomy, model_version: str | None
) -> None:
    tasks = json.dumps(label_studio_tasks(picked, model_version), ensure_ascii=False, indent=1)
    config = label_studio_config(taxonomy)
    with outputs.OutputSet() as files:
        files.write(
            out_dir / "to_label.csv", outputs.csv(guard_frame(picked), encoding="utf-8-sig")
        )
        files.write(out_dir / "label_studio_tasks.json", outputs.text(tasks))
        files.write(out_dir / "label_studio_config.xml", outputs.text(config))
    counts = picked["why"].str.split(":").str[0].value_counts().to_dict()
    print(
        f"к разметке: {len(picked)} контактов в {out_dir}/to_label.csv, "
        f"label_studio_tasks.json, label_studio_config.xml"
    )
    for why, count in counts.items():
        print(f"  {why}: {count}")
