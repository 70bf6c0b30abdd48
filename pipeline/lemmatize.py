"""Stage ``lemmatize``: contact text -> normalised text and lemma string, with a token cache.

The classifier reads lemma n-grams from ``lemmas`` and character n-grams from ``normalized``
(lower case, markup and quoted replies cut, personal values replaced by placeholders).

Contacts and lemmas are stored by ISO week (``pipeline/io/partitions.py``): only the parts
whose contacts changed since the last run, or all of them when the lemmatiser changed (its
fingerprint: code, stop-words, dictionaries), are lemmatised (``pipeline/engine/``, on the
``local`` engine or on Spark). Within a part each distinct text is processed once, and the
token -> lemma cache is kept between weekly runs (``persist: true`` in ``dvc.yaml``): a new week
only sends tokens it has never seen to pymorphy3.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from pipeline.config import load_section
from pipeline.engine.plan import Plan
from pipeline.engine.run import run_stage
from pipeline.engine.tasks import LEMMATIZE
from pipeline.io.inputs import InputError, parquet_columns
from pipeline.io.outputs import atomic_path
from pipeline.text import Lemmatizer
from pipeline.text.batch import (
    LemmatizeConfig,
    lemmatizer_fingerprint,
    load_cache,
    save_cache,
)

logger = logging.getLogger(__name__)


def cached_lemmas(cache_path: Path, fingerprint: str) -> dict[str, str]:
    """Last run's token cache; an unreadable one (not Parquet) is only a slower run."""
    if cache_path.exists():
        try:
            parquet_columns(cache_path)
        except InputError as error:
            logger.warning("lemmatize: %s; starting with an empty cache", error)
            return {}
    return load_cache(cache_path, fingerprint)


def main(
    contacts_root: Path, lemmas_root: Path, cache_path: Path, config: LemmatizeConfig
) -> Plan:
    """Lemmatise the changed week parts of ``contacts_root`` into ``lemmas_root``."""
    lemmatizer = Lemmatizer()
    fingerprint = lemmatizer_fingerprint()
    cached = cached_lemmas(cache_path, fingerprint)
    lemmatizer.update_cache(cached)
    plan, learnt = run_stage(
        LEMMATIZE,
        contacts_root,
        lemmas_root,
        {"lemmatizer": fingerprint},
        lemmatizer,
        engine=config.engine,
        workers=config.workers,
        what_changed="лемматизатор изменился (код, стоп-слова или словари)",
        spark_master=config.spark_master,
    )
    lemmatizer.update_cache(learnt)
    with atomic_path(cache_path) as tmp:
        save_cache(lemmatizer.cache, tmp, fingerprint)
    logger.info(
        "lemmatize: %d частей посчитано, cache %d -> %d tokens",
        len(plan.tasks),
        len(cached),
        len(lemmatizer.cache),
    )
    return plan


def cli(args: argparse.Namespace) -> None:
    config = load_section(args.params, "lemmatize", LemmatizeConfig)
    overrides = {"engine": args.engine, "spark_master": args.spark_master}
    config = config.model_copy(update={k: v for k, v in overrides.items() if v is not None})
    main(args.contacts, args.lemmas, args.cache, config)
