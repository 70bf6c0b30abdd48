"""Distinctive terms: lemma n-grams over- and under-represented in one set of texts vs another
(Fightin' Words), and the texts of a reason that mention a term."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence

import duckdb
import numpy as np
import pandas as pd

from pipeline.investigate.warehouse import (
    check_reason,
    read_query,
    resolve_week,
    weeks_before,
)
from pipeline.text import Lemmatizer, mask_personal_data


def ngrams(lemmas: str, ngram: tuple[int, int] = (1, 2)) -> set[str]:
    """The distinct lemma n-grams of one lemma string (``"смс не_приходить"``)."""
    words = lemmas.split()
    low, high = ngram
    return {
        " ".join(words[i : i + n]) for n in range(low, high + 1) for i in range(len(words) - n + 1)
    }


def term_counts(lemma_strings: Iterable[str], ngram: tuple[int, int] = (1, 2)) -> Counter:
    """Number of texts mentioning each n-gram."""
    counts: Counter = Counter()
    for lemmas in lemma_strings:
        counts.update(ngrams(lemmas, ngram))
    return counts


def distinctive_terms(
    this_lemmas: Sequence[str],
    baseline_lemmas: Sequence[str],
    ngram: tuple[int, int] = (1, 2),
    prior: Mapping[str, float] | None = None,
    prior_weight: float | None = None,
    min_count: int = 3,
) -> pd.DataFrame:
    """Terms over-represented in ``this_lemmas`` vs ``baseline_lemmas`` (z > 0) and under-
    represented (z < 0): log-odds ratio with an informative Dirichlet prior (Monroe et al. 2008).

    ``prior`` holds background counts per term (default: both sets pooled); it is scaled to
    ``prior_weight`` pseudo-counts in total (default: as many as the two sets hold). A term
    needs ``min_count`` texts in one of the sets. Sorted by z, most distinctive of this set first.
    """
    this, base = term_counts(this_lemmas, ngram), term_counts(baseline_lemmas, ngram)
    vocabulary = sorted(
        t for t in set(this) | set(base) if max(this.get(t, 0), base.get(t, 0)) >= min_count
    )
    columns = [
        "term",
        "this_count",
        "baseline_count",
        "this_share",
        "baseline_share",
        "log_odds",
        "z",
    ]
    if not vocabulary:
        return pd.DataFrame(columns=columns)
    y_i = np.array([this.get(t, 0) for t in vocabulary], dtype=float)
    y_j = np.array([base.get(t, 0) for t in vocabulary], dtype=float)
    n_i, n_j = float(sum(this.values())), float(sum(base.values()))
    background = prior if prior is not None else this + base
    weights = np.array([float(background.get(t, 0.0)) for t in vocabulary])
    total_prior = float(sum(background.values())) or 1.0
    alpha_0 = float(prior_weight) if prior_weight is not None else n_i + n_j
    # every term gets some prior mass, also one the background never saw
    alpha = np.maximum(alpha_0 * weights / total_prior, 0.01)
    alpha_0 = max(alpha_0, float(alpha.sum()))
    delta = np.log((y_i + alpha) / (n_i + alpha_0 - y_i - alpha)) - np.log(
        (y_j + alpha) / (n_j + alpha_0 - y_j - alpha)
    )
    variance = 1.0 / (y_i + alpha) + 1.0 / (y_j + alpha)
    out = pd.DataFrame(
        {
            "term": vocabulary,
            "this_count": y_i.astype(int),
            "baseline_count": y_j.astype(int),
            "this_share": y_i / max(len(this_lemmas), 1),
            "baseline_share": y_j / max(len(baseline_lemmas), 1),
            "log_odds": delta,
            "z": delta / np.sqrt(variance),
        }
    )
    return out.sort_values(["z", "term"], ascending=[False, True], kind="stable").reset_index(
        drop=True
    )


def reason_texts(
    con: duckdb.DuckDBPyConnection, reason_id: str, weeks: Sequence[str], lemmatizer: Lemmatizer
) -> pd.DataFrame:
    """Masked texts of a reason's contacts in ``weeks`` with their lemma strings."""
    frame = read_query(con, "reason_texts", reason_id=reason_id, weeks=list(weeks))
    frame["text"] = frame["text"].map(mask_personal_data)
    frame["lemmas"] = [lemmatizer.lemmatize(text) for text in frame["text"]]
    return frame


def reason_terms(
    con: duckdb.DuckDBPyConnection,
    reason_id: str,
    week: str | None = None,
    baseline_weeks: int = 4,
    *,
    lemmatizer: Lemmatizer,
    ngram: tuple[int, int] = (1, 2),
    min_count: int = 3,
) -> pd.DataFrame:
    """``distinctive_terms`` of a reason's texts in ``week`` vs its ``baseline_weeks`` before."""
    check_reason(con, reason_id)
    week = resolve_week(con, week)
    baseline = weeks_before(con, week, baseline_weeks)
    texts = reason_texts(con, reason_id, [*baseline, week], lemmatizer)
    this = texts.loc[texts["iso_week"] == week, "lemmas"].tolist()
    base = texts.loc[texts["iso_week"] != week, "lemmas"].tolist()
    return distinctive_terms(this, base, ngram=ngram, min_count=min_count)


def examples_for_term(
    con: duckdb.DuckDBPyConnection,
    reason_id: str,
    week: str | None,
    term: str,
    n: int = 5,
    *,
    lemmatizer: Lemmatizer,
) -> pd.DataFrame:
    """Up to ``n`` distinct masked texts of the reason in ``week`` whose lemmas contain ``term``
    (a lemma n-gram as ``distinctive_terms`` returns it), in time order."""
    week = resolve_week(con, week)
    texts = reason_texts(con, reason_id, [week], lemmatizer)
    size = len(term.split())
    hits = texts[[term in ngrams(lemmas, (size, size)) for lemmas in texts["lemmas"]]]
    hits = hits.drop_duplicates("text")
    return hits[["contact_id", "created_local", "channel", "text"]].head(n).reset_index(drop=True)
