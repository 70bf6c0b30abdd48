"""Stage ``train``: fit the reason classifier on the labelled examples and evaluate it honestly.

Reads the taxonomy and the label folder, trains and evaluates (``pipeline/model/training.py``),
writes the model, its metrics and the out-of-fold confusion rows.
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

import joblib

from pipeline.config import load_section
from pipeline.model.training import TrainConfig, TrainingSet, train
from pipeline.taxonomy.labels import load_labels
from pipeline.taxonomy.schema import load_taxonomy, taxonomy_version

logger = logging.getLogger(__name__)


def training_set(taxonomy_path: Path, labels_dir: Path) -> TrainingSet:
    taxonomy = load_taxonomy(taxonomy_path)
    labels = load_labels(labels_dir, taxonomy).frame
    return TrainingSet(
        texts=labels["text"].tolist(),
        reasons=labels["reason_id"].to_numpy(),
        classes=taxonomy.classes,
        undefined_reason=taxonomy.undefined_reason,
        taxonomy_version=taxonomy_version(taxonomy_path),
    )


def main(
    taxonomy_path: Path,
    labels_dir: Path,
    model_path: Path,
    metrics_path: Path,
    confusion_path: Path,
    config: TrainConfig,
) -> dict:
    pipeline, metrics, confusion = train(training_set(taxonomy_path, labels_dir), config)
    model_path.parent.mkdir(parents=True, exist_ok=True)
    joblib.dump(pipeline, model_path, compress=3)
    metrics_path.parent.mkdir(parents=True, exist_ok=True)
    metrics_path.write_text(
        json.dumps(metrics, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    confusion_path.parent.mkdir(parents=True, exist_ok=True)
    confusion.to_csv(confusion_path, index=False)
    logger.info(
        "train: held-out macro-F1 %.3f, accuracy %.3f, coverage %.3f; baselines %s",
        metrics["macro_f1"],
        metrics["accuracy"],
        metrics["coverage"],
        {k: v["macro_f1"] for k, v in metrics["baselines"].items()},
    )
    return metrics


def cli(args: argparse.Namespace) -> None:
    config = load_section(args.params, "train", TrainConfig)
    main(args.taxonomy, args.labels, args.model, args.metrics, args.confusion, config)
