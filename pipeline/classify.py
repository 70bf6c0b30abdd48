"""Stage ``classify``: every contact gets a reason, a confidence and a runner-up.

Every contact with text gets its most likely reason and a calibrated confidence. Contacts that
no reason claims (the best decision below the model's fit cut: out of the taxonomy, or too little
known text) get the reserved reason «Не определено» with status ``below_threshold``; their top
guess is kept in ``top_reason_id``. Contacts with no text (abandoned or dropped calls, empty
notes) are kept and marked ``no_text``: they are counted, never guessed. The work is in
``pipeline/model/predict.py``.

Classified contacts are stored by ISO week like the lemmas (``pipeline/io/partitions.py``):
a weekly run classifies only the parts whose lemmas changed. A new model or taxonomy
re-classifies every week on purpose, so that trends compare like with like, and says so in
the log.
"""

from __future__ import annotations

import argparse
import hashlib
import logging
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from pipeline.config import load_section
from pipeline.engine.plan import Plan
from pipeline.engine.run import run_stage
from pipeline.engine.tasks import CLASSIFY
from pipeline.model.predict import check_classes, explain_text, load_model
from pipeline.taxonomy.schema import load_taxonomy, taxonomy_version

logger = logging.getLogger(__name__)


class ClassifyConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    batch_size: int = Field(20_000, ge=1000)
    workers: int = Field(1, ge=1, le=64)  # worker processes of the local engine
    engine: Literal["local", "spark"] = "local"  # or Apache Spark (see lemmatize)
    spark_master: str | None = None


def model_code_version() -> str:
    """What classification depends on besides the model file: the model package's code."""
    digest = hashlib.sha256()
    for path in sorted((Path(__file__).parent / "model").glob("*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def main(
    lemmas_root: Path,
    model_path: Path,
    taxonomy_path: Path,
    out_root: Path,
    config: ClassifyConfig,
) -> Plan:
    """Classify the changed week parts of ``lemmas_root`` into ``out_root``."""
    taxonomy = load_taxonomy(taxonomy_path)
    pipeline = load_model(model_path)
    check_classes(pipeline, taxonomy.classes, taxonomy_path)
    versions = {
        "model": hashlib.sha256(Path(model_path).read_bytes()).hexdigest()[:20],
        "taxonomy": taxonomy_version(taxonomy_path),
        "code": model_code_version(),
    }
    plan, _ = run_stage(
        CLASSIFY,
        lemmas_root,
        out_root,
        versions,
        pipeline,
        engine=config.engine,
        workers=config.workers,
        batch_size=config.batch_size,
        what_changed="модель или таксономия изменились",
        spark_master=config.spark_master,
    )
    logger.info("classify: %d частей посчитано, %d без изменений", len(plan.tasks), len(plan.kept))
    return plan


def cli(args: argparse.Namespace) -> None:
    config = load_section(args.params, "classify", ClassifyConfig)
    overrides = {"engine": args.engine, "spark_master": args.spark_master}
    config = config.model_copy(update={k: v for k, v in overrides.items() if v is not None})
    main(args.lemmas, args.model, args.taxonomy, args.out, config)


def explain_cli(args: argparse.Namespace) -> None:
    """``python -m pipeline explain TEXT``: why the model gives a text its reason."""
    taxonomy = load_taxonomy(args.taxonomy)
    for line in explain_text(args.text, load_model(args.model), taxonomy.title):
        print(line)
