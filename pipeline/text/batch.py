"""Lemmatising many contact texts: each distinct text once, in worker processes for large runs,
with a persistent token -> lemma cache tied to a fingerprint of the lemmatiser."""

from __future__ import annotations

import hashlib
import importlib.metadata
import logging
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field
from tqdm import tqdm

from pipeline.text.lemmatizer import Lemmatizer
from pipeline.text.patterns import STOPWORDS_RESOURCE

logger = logging.getLogger(__name__)

LEMMA_COLUMNS = ("contact_id", "normalized", "lemmas", "n_tokens", "has_text")


class LemmatizeConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # Worker processes for large runs; below `parallel_min_texts` distinct texts one process is
    # faster than starting more.
    workers: int = Field(1, ge=1, le=64)
    parallel_min_texts: int = Field(50_000, ge=1)
    chunk_size: int = Field(5_000, ge=100)
    # where the stage runs over the week parts: "local" (this machine, `workers` processes) or
    # "spark" (Apache Spark, `spark_master`; empty = SPARK_MASTER or local[*])
    engine: Literal["local", "spark"] = "local"
    spark_master: str | None = None


def _lemmatize_chunk(
    args: tuple[Lemmatizer, list[str]],
) -> tuple[list[tuple[str, str]], dict[str, str]]:
    lemmatizer, texts = args
    return [lemmatizer.analyse(t) for t in texts], lemmatizer.cache


def lemmatize_unique(
    texts: list[str], lemmatizer: Lemmatizer, config: LemmatizeConfig | None = None
) -> list[tuple[str, str]]:
    """``(normalized, lemmas)`` for distinct texts, in order; fills ``lemmatizer``'s cache."""
    config = config or LemmatizeConfig()
    show = sys.stderr.isatty()
    if config.workers == 1 or len(texts) < config.parallel_min_texts:
        return [lemmatizer.analyse(t) for t in tqdm(texts, disable=not show, unit="text")]
    chunks = [texts[i : i + config.chunk_size] for i in range(0, len(texts), config.chunk_size)]
    results: list[tuple[str, str]] = []
    with ProcessPoolExecutor(max_workers=config.workers) as pool:
        jobs = pool.map(_lemmatize_chunk, ((lemmatizer, chunk) for chunk in chunks))
        for analysed, cache in tqdm(jobs, total=len(chunks), disable=not show, unit="chunk"):
            results.extend(analysed)
            lemmatizer.update_cache(cache)
    return results


def lemmatize_frame(
    contacts: pd.DataFrame, lemmatizer: Lemmatizer, config: LemmatizeConfig | None = None
) -> pd.DataFrame:
    """One row per contact: normalised text, lemma string, token count, whether it had text."""
    text = contacts["text"].fillna("").astype(str)
    codes, uniques = pd.factorize(text, sort=False)
    analysed = lemmatize_unique(list(uniques), lemmatizer, config)
    normalized = pd.Series([a[0] for a in analysed], dtype="string").take(codes)
    lemmas = pd.Series([a[1] for a in analysed], dtype="string").take(codes)
    lemmas = lemmas.reset_index(drop=True)
    return pd.DataFrame(
        {
            "contact_id": contacts["contact_id"].astype("string").reset_index(drop=True),
            "normalized": normalized.reset_index(drop=True),
            "lemmas": lemmas,
            "n_tokens": lemmas.str.split().str.len().fillna(0).astype("int32"),
            "has_text": (text.str.strip() != "").reset_index(drop=True),
        }
    )


def lemmatizer_fingerprint() -> str:
    """What the cached lemmas depend on: the text code, the stop-word list, the dictionaries.

    A cache written under another fingerprint is discarded, so an improved lemmatiser never
    serves stale lemmas from last week's cache.
    """
    digest = hashlib.sha256()
    folder = Path(__file__).parent
    for path in sorted([*folder.glob("*.py"), folder / STOPWORDS_RESOURCE]):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    for package in ("pymorphy3", "pymorphy3-dicts-ru"):
        digest.update(importlib.metadata.version(package).encode())
    return digest.hexdigest()[:16]


def load_cache(path: Path, fingerprint: str | None = None) -> dict[str, str]:
    if not path.exists():
        return {}
    frame = pd.read_parquet(path)
    if fingerprint is not None:
        stored = frame["fingerprint"].iloc[0] if "fingerprint" in frame and len(frame) else None
        if stored != fingerprint:
            logger.info(
                "lemmatize: cache %s was built by another lemmatiser, starting afresh", path
            )
            return {}
    return dict(zip(frame["token"], frame["lemma"], strict=True))


def save_cache(cache: dict[str, str], path: Path, fingerprint: str = "") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    frame = pd.DataFrame(sorted(cache.items()), columns=["token", "lemma"])
    frame["fingerprint"] = fingerprint
    frame.to_parquet(path, index=False)
