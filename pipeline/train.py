"""Stage ``train``: fit the reason classifier on the labelled examples and evaluate it honestly.

Reads the taxonomy and the label folder, trains and evaluates (``pipeline/model/training.py``),
writes the model, its metrics and the out-of-fold confusion rows together (each to a temporary
file, all renamed once all are written: a failed run leaves last run's three files).
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from pipeline.config import load_section
from pipeline.io.outputs import OutputSet, csv, joblib_dump, json_text
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
    with OutputSet() as outputs:
        outputs.write(model_path, joblib_dump(pipeline, compress=3))
        outputs.write(metrics_path, json_text(metrics))
        outputs.write(confusion_path, csv(confusion))
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
