"""Stage ``lemmatize``: contact text -> normalised text and lemma string, with a token cache.

The classifier reads lemma n-grams from ``lemmas`` and character n-grams from ``normalized``
(lower case, markup and quoted replies cut, personal values replaced by placeholders).

Contact text is highly repetitive, so each distinct text is processed once per run, and the
token -> lemma cache is kept between weekly runs (``persist: true`` in ``dvc.yaml``): a new week
only sends tokens it has never seen to pymorphy3. The lemmas and the cache are written together,
each to a temporary file renamed on success (``pipeline/io/outputs.py``).
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from pipeline.config import load_section
from pipeline.io.inputs import InputError, parquet_columns, read_parquet
from pipeline.io.outputs import OutputSet, parquet
from pipeline.text import Lemmatizer
from pipeline.text.batch import (
    LemmatizeConfig,
    lemmatize_frame,
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


def main(contacts_path: Path, lemmas_path: Path, cache_path: Path, config: LemmatizeConfig):
    contacts = read_parquet(contacts_path, "ingest", columns=["contact_id", "text"])
    lemmatizer = Lemmatizer()
    fingerprint = lemmatizer_fingerprint()
    cached = cached_lemmas(cache_path, fingerprint)
    lemmatizer.update_cache(cached)
    lemmas = lemmatize_frame(contacts, lemmatizer, config)
    with OutputSet() as outputs:
        outputs.write(lemmas_path, parquet(lemmas))
        save_cache(lemmatizer.cache, outputs.temp(cache_path), fingerprint)
    logger.info(
        "lemmatize: %d contacts, %d distinct texts, cache %d -> %d tokens",
        len(contacts),
        contacts["text"].nunique(),
        len(cached),
        len(lemmatizer.cache),
    )
    return lemmas


def cli(args: argparse.Namespace) -> None:
    config = load_section(args.params, "lemmatize", LemmatizeConfig)
    main(args.contacts, args.lemmas, args.cache, config)
