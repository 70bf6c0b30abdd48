"""Emerging topics: terms that grow among low-confidence contacts in the recent weeks.

The contacts are the warehouse's one "low confidence" definition (``sql/low_confidence.sql``,
shared with ``investigate``): left "не определено" below the threshold, or among the
``quantile`` least confident of the weeks' contacts with text. A term (a lemma, or a pair of
consecutive lemmas) counts once per contact; it is listed when it is frequent recently and
rarer before (ratio of weekly rates, add-one smoothed).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import pandas as pd

from pipeline.text import mask_personal_data

MIN_RATIO = 3
EXAMPLES_PER_TERM = 2


@dataclass(frozen=True)
class Topic:
    term: str
    recent: int
    before: int
    ratio: float
    examples: list[str] = field(default_factory=list)


@dataclass
class TermCounts:
    recent: Counter = field(default_factory=Counter)
    before: Counter = field(default_factory=Counter)
    examples: dict[str, list[str]] = field(default_factory=dict)


def contact_terms(lemmas) -> set[str]:
    """A contact's words and pairs of consecutive words (numbers and punctuation left out)."""
    tokens = [t for t in str(lemmas or "").split() if t.isalpha() or "_" in t]
    return set(tokens) | {f"{a} {b}" for a, b in zip(tokens, tokens[1:], strict=False)}


def count_terms(low: pd.DataFrame, recent_weeks: list[str]) -> TermCounts:
    """Contacts per term in the recent weeks and before them, with masked recent examples."""
    counts = TermCounts()
    for row in low.itertuples(index=False):
        terms = contact_terms(row.lemmas)
        is_recent = row.iso_week in recent_weeks
        (counts.recent if is_recent else counts.before).update(terms)
        if is_recent:
            for term in terms:
                bucket = counts.examples.setdefault(term, [])
                if len(bucket) < EXAMPLES_PER_TERM:
                    bucket.append(mask_personal_data(row.text))
    return counts


def rising_terms(
    counts: TermCounts, n_recent: int, n_before: int, min_count: int
) -> list[tuple[float, int, str]]:
    """(ratio, recent count, term) of the terms at least ``MIN_RATIO`` times more frequent per
    week recently than before, strongest first."""
    scored = []
    for term, count in counts.recent.items():
        if count < min_count:
            continue
        ratio = (count / n_recent) / ((counts.before[term] + 1) / max(n_before, 1))
        if ratio >= MIN_RATIO:
            scored.append((ratio, count, term))
    scored.sort(key=lambda t: (-t[0], -t[1], t[2]))
    return scored


def emerging_topics(
    low: pd.DataFrame,
    lemmas: pd.DataFrame,
    weeks: list[str],
    recent: int,
    min_count: int,
    limit: int,
) -> list[Topic]:
    """Up to ``limit`` rising terms of the low-confidence contacts ``low`` (contact_id,
    iso_week, text) of ``weeks``; the last ``recent`` weeks are compared with the rest.
    A single word already covered by a listed term is skipped (its pair says more)."""
    if low.empty:
        return []
    low = low[["contact_id", "iso_week", "text"]].merge(lemmas, on="contact_id", how="left")
    recent_weeks = weeks[-recent:]
    n_before = len([w for w in weeks if w not in recent_weeks])
    counts = count_terms(low, recent_weeks)
    topics, seen = [], set()
    for ratio, count, term in rising_terms(counts, len(recent_weeks), n_before, min_count):
        words = set(term.split())
        if words & seen and " " not in term:
            continue
        seen |= words
        examples = counts.examples.get(term, [])
        topics.append(Topic(term, count, counts.before[term], ratio, examples))
        if len(topics) >= limit:
            break
    return topics
