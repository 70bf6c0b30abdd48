"""Stage ``lemmatize``: contact text -> normalised text and lemma string, with a token cache.

The classifier reads lemma n-grams from ``lemmas`` and character n-grams from ``normalized``
(lower case, markup and quoted replies cut, personal values replaced by placeholders).

Contact text is highly repetitive, so each distinct text is processed once per run, and the
token -> lemma cache is kept between weekly runs (``persist: true`` in ``dvc.yaml``): a new week
only sends tokens it has never seen to pymorphy3.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import pandas as pd

from pipeline.config import load_section
from pipeline.text import Lemmatizer
from pipeline.text.batch import (
    LemmatizeConfig,
    lemmatize_frame,
    lemmatizer_fingerprint,
    load_cache,
    save_cache,
)

logger = logging.getLogger(__name__)


def main(contacts_path: Path, lemmas_path: Path, cache_path: Path, config: LemmatizeConfig):
    contacts = pd.read_parquet(contacts_path, columns=["contact_id", "text"])
    lemmatizer = Lemmatizer()
    fingerprint = lemmatizer_fingerprint()
    cached = load_cache(cache_path, fingerprint)
    lemmatizer.update_cache(cached)
    lemmas = lemmatize_frame(contacts, lemmatizer, config)
    lemmas_path.parent.mkdir(parents=True, exist_ok=True)
    lemmas.to_parquet(lemmas_path, index=False)
    save_cache(lemmatizer.cache, cache_path, fingerprint)
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
