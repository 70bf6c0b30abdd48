"""Labelling, the way out: pick contacts worth labelling and write them for the labellers.

``export_labeling`` picks contacts from the warehouse with ``selection.choose`` (the strategy
measured by ``benchmarks/learning_curve.py``: smallest margin between the two likeliest reasons,
round the predicted reasons with the thinly labelled ones first, every fifth pick at random) and
writes them as ``to_label.csv`` and as Label Studio tasks with the taxonomy as the labelling
config. Its ``why`` says what the model made of each contact. The way back is ``label_import``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline import sql
from pipeline.io import outputs
from pipeline.io.cells import guard_frame
from pipeline.taxonomy import selection
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
RANDOM_WHY = "случайный выбор: каждый пятый контакт, чтобы разметка была похожа на весь поток"


# --- export --------------------------------------------------------------------------------------


def pick_for_labeling(
    candidates: pd.DataFrame,
    n: int,
    labelled: Iterable[str] = (),
    margin: float = DISAGREEMENT_MARGIN,
    labelled_counts: Mapping[str, int] | None = None,
    random_share: float = selection.RANDOM_SHARE,
) -> pd.DataFrame:
    """Choose up to ``n`` contacts in the order to label them (``selection.choose``).

    ``candidates``: contact_id, text, reason_id, class_status, confidence, runner_up_id,
    and optionally top_reason_id, runner_up_confidence, kind. Texts already labelled (by
    ``text_key``) are skipped; a repeated text is offered once (its least certain contact).
    ``labelled_counts``: labels per reason so far (thin reasons are served first). The pick is
    deterministic: ties break by contact_id, the random share has a fixed seed.
    """
    frame = _candidates(candidates, labelled)
    counts = dict(labelled_counts or {})
    chosen = selection.choose(
        frame["margin"].to_numpy(),
        frame["top_reason_id"].fillna(frame["reason_id"]).to_numpy(),
        counts,
        n,
        random_share,
    )
    rows = [_to_label_row(kind, frame.iloc[i], margin, counts) for i, kind in chosen]
    return pd.DataFrame(rows, columns=[c for c in TO_LABEL_COLUMNS if c != "suggested_title"])


def _candidates(candidates: pd.DataFrame, labelled: Iterable[str]) -> pd.DataFrame:
    """Unlabelled candidates, one per text, with the margin between the top two reasons (the
    confidence itself where the runner-up is unknown)."""
    frame = candidates.copy()
    if "runner_up_confidence" not in frame:
        frame["runner_up_confidence"] = np.nan
    if "top_reason_id" not in frame:
        frame["top_reason_id"] = frame["reason_id"]
    frame["key"] = frame["text"].map(text_key)
    frame = frame[~frame["key"].isin(set(labelled)) & (frame["key"] != "")]
    frame["same_text"] = frame.groupby("key")["contact_id"].transform("size")
    frame["margin"] = (frame["confidence"] - frame["runner_up_confidence"]).fillna(
        frame["confidence"]
    )
    frame = frame.sort_values(["margin", "contact_id"]).drop_duplicates("key")
    return frame.sort_values("contact_id").reset_index(drop=True)


def _to_label_row(kind: str, row: pd.Series, margin: float, counts: Mapping[str, int]) -> dict:
    suggested = row["top_reason_id"] if pd.notna(row["top_reason_id"]) else None
    values = {**row.to_dict(), "reason_id": row["top_reason_id"]}
    if row["class_status"] == "below_threshold":
        why = "below_threshold"
    elif pd.notna(row["runner_up_confidence"]) and row["margin"] < margin:
        why = "disagreement"
    else:
        why = "low_confidence"
    text = WHY[why].format(**values)
    if kind == "random":
        text = f"{RANDOM_WHY}; {text}"
    elif suggested and counts.get(suggested, 0) < selection.THIN:
        text += f"; у причины {suggested} размечено {counts.get(suggested, 0)}"
    if row["same_text"] > 1:
        text += f"; таких текстов {row['same_text']}"
    return {
        "contact_id": row["contact_id"],
        "text": row["text"],
        "suggested_reason_id": suggested or "",
        "confidence": round(float(row["confidence"]), 4),
        "runner_up_id": row["runner_up_id"] if pd.notna(row["runner_up_id"]) else "",
        "why": text,
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
    labelled, counts = set(), {}
    if labels_dir is not None and Path(labels_dir).exists():
        table = labels_table(read_label_folder(labels_dir))
        labelled = {text_key(t) for t in table["text"]}
        counts = table["reason_id"].value_counts().to_dict()
    picked = pick_for_labeling(candidates, n, labelled, margin, counts)
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

    from pipeline.io.partitions import MANIFEST, read_dataset, require_dataset

    if not Path(warehouse).exists():
        raise MaintenanceError(f"{warehouse}: нет хранилища; сначала dvc repro (стадия aggregate)")
    with duckdb.connect(str(warehouse), read_only=True) as con:
        candidates = con.execute(sql.load("label_candidates"), {"weeks": weeks}).df()
        model_version = con.execute(sql.load("model_version")).fetchall()
    if classified is not None and Path(classified).is_file():
        require_dataset(classified, "classify")  # an old single file: says it wants the folder
    if classified is not None and Path(classified, MANIFEST).exists():
        extra = read_dataset(
            classified,
            "classify",
            ["contact_id", "top_reason_id", "runner_up_confidence"],
            weeks=set(candidates["iso_week"]) if "iso_week" in candidates else None,
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
