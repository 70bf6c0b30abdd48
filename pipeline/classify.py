"""Stage ``classify``: every contact gets a reason, a confidence and a runner-up.

Every contact with text gets its most likely reason and a calibrated confidence. Contacts that
no reason claims (the best decision below the model's fit cut: out of the taxonomy, or too little
known text) get the reserved reason «Не определено» with status ``below_threshold``; their top
guess is kept in ``top_reason_id``. Contacts with no text (abandoned or dropped calls, empty
notes) are kept and marked ``no_text``: they are counted, never guessed. The work is in
``pipeline/model/predict.py``.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from pipeline.config import load_section
from pipeline.io.inputs import read_parquet
from pipeline.io.outputs import parquet, write
from pipeline.model.predict import check_classes, classify_frame, explain_text, load_model
from pipeline.taxonomy.schema import load_taxonomy
from pipeline.text.batch import LEMMA_COLUMNS

logger = logging.getLogger(__name__)


class ClassifyConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    batch_size: int = Field(100_000, ge=1000)


def main(
    lemmas_path: Path,
    model_path: Path,
    taxonomy_path: Path,
    out_path: Path,
    config: ClassifyConfig,
) -> pd.DataFrame:
    taxonomy = load_taxonomy(taxonomy_path)
    pipeline = load_model(model_path)
    check_classes(pipeline, taxonomy.classes, taxonomy_path)
    lemmas = read_parquet(lemmas_path, "lemmatize", columns=list(LEMMA_COLUMNS))
    classified = classify_frame(lemmas, pipeline, config.batch_size)
    write(out_path, parquet(classified))
    counts = classified["status"].value_counts().to_dict()
    logger.info("classify: %d contacts %s", len(classified), counts)
    return classified


def cli(args: argparse.Namespace) -> None:
    config = load_section(args.params, "classify", ClassifyConfig)
    main(args.lemmas, args.model, args.taxonomy, args.out, config)


def explain_cli(args: argparse.Namespace) -> None:
    """``python -m pipeline explain TEXT``: why the model gives a text its reason."""
    taxonomy = load_taxonomy(args.taxonomy)
    for line in explain_text(args.text, load_model(args.model), taxonomy.title):
        print(line)
