"""What is in "не определено": the low-confidence contacts of the last weeks clustered (TF-IDF
over lemmas, LSA, k-means with k chosen by silhouette), each cluster with its growth, terms,
examples and a suggested title."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import duckdb
import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import silhouette_score
from sklearn.preprocessing import normalize as l2_normalize
from threadpoolctl import threadpool_limits

from pipeline.investigate.terms import distinctive_terms
from pipeline.investigate.warehouse import InvestigationError, last_weeks, read_query
from pipeline.model import reason_model
from pipeline.text import AGENT_SHORTHAND, Lemmatizer, mask_personal_data, normalize, tokenize

LOW_CONFIDENCE_QUANTILE = 0.1
CLUSTER_K_RANGE = (8, 12, 16, 20, 25, 30)
LSA_COMPONENTS = 100

# a sentence ends before a capital letter, so "кл. недоволен, обр. зарег." stays one
_SENTENCE_END_RE = re.compile(r"(?<=[.!?…])\s+(?=[«\"A-ZА-ЯЁ])|\n+")
_AGENT_MARKERS = frozenset(AGENT_SHORTHAND)
_TITLE_TAIL_RE = re.compile(r"[^\w)»\"]+$")


@dataclass(frozen=True)
class UncertainCluster:
    number: int  # 1 = the cluster with the largest growth_z
    size: int
    weekly: dict[str, int]  # ISO week -> contacts
    growth: float  # contacts in the last week minus the mean of the weeks before
    growth_z: float  # growth / sqrt(mean before + 1): a Poisson-scaled rise, sorts the clusters
    top_terms: list[tuple[str, int, float]]  # (term, contacts, z vs the other uncertain ones)
    examples: list[str]  # texts nearest the cluster centre
    suggested_title: str  # a client sentence nearest the centre: a suggestion to edit
    # what the model leaned to (its top guess, top_reason_id): (reason id, share)
    model_reasons: list[tuple[str, float]]
    contact_ids: list[str] = field(repr=False)


@dataclass(frozen=True)
class UncertainClusters:
    clusters: list[UncertainCluster]
    weeks: list[str]
    cutoff: float  # contacts at or below this confidence were taken (plus "не определено")
    contacts: int  # low-confidence contacts with text
    below_threshold: int  # of them, left "не определено" by the classifier
    k: int
    silhouette: dict[int, float]  # k -> cosine silhouette (LSA space)
    unclustered: int  # contacts in clusters smaller than min_size


def choose_k(
    points: np.ndarray, k_range: Sequence[int], random_state: int = 0
) -> tuple[int, dict[int, float]]:
    """The k of ``k_range`` with the best cosine silhouette (ties: the smaller k)."""
    scores = {}
    for k in k_range:
        if 2 <= k < len(points):
            labels = KMeans(k, n_init=4, random_state=random_state).fit_predict(points)
            if len(set(labels)) > 1:
                scores[int(k)] = float(silhouette_score(points, labels, metric="cosine"))
    if not scores:
        raise InvestigationError(
            f"кластеризация: {len(points)} контактов — слишком мало для k из {list(k_range)}"
        )
    best = max(scores, key=lambda k: (round(scores[k], 6), -k))
    return best, scores


def split_sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_END_RE.split(text) if s.strip()]


def is_agent_note(text: str) -> bool:
    """Agent shorthand ("кл.", "тел", "прил") marks a note, not the client's own words."""
    return any(token in _AGENT_MARKERS for token in tokenize(normalize(text)))


def title_case(sentence: str) -> str:
    """A sentence as a title: no end punctuation, shouting lowered, first letter capital."""
    sentence = _TITLE_TAIL_RE.sub("", sentence.strip())  # end punctuation, emoji
    if sentence.isupper():
        sentence = sentence.lower()
    return sentence[:1].upper() + sentence[1:]


def suggest_title(
    texts: Sequence[str],
    kinds: Sequence[str],
    centre: np.ndarray,
    project,
    lemmatizer: Lemmatizer,
    max_words: int = 14,
) -> str:
    """The short client sentence of the cluster nearest its centre (agent notes only if no
    client wrote one). ``project`` maps lemma strings into the clustering space."""
    candidates = []
    for text, kind in zip(texts, kinds, strict=True):
        for sentence in split_sentences(text):
            words = len(sentence.split())
            lemmas = lemmatizer.lemmatize(sentence)
            if 3 <= words <= max_words and len(lemmas.split()) >= 2:
                client = kind == "complaint" and not is_agent_note(sentence)
                candidates.append((not client, sentence, lemmas))
    if not candidates:
        return ""
    points = project([c[2] for c in candidates])
    similarity = points @ centre
    best = min(
        range(len(candidates)),
        key=lambda i: (candidates[i][0], -round(float(similarity[i]), 6), candidates[i][1]),
    )
    return title_case(candidates[best][1])


def lsa_space(
    lemma_strings: Sequence[str], random_state: int = 0
) -> tuple[np.ndarray, Callable[[Sequence[str]], np.ndarray]]:
    """TF-IDF over lemma uni- and bigrams reduced by truncated SVD (LSA): the L2-normalised points
    of ``lemma_strings`` and ``project``, which maps other lemma strings into the same space."""
    vectorizer = TfidfVectorizer(
        token_pattern=reason_model.WORD_PATTERN,
        lowercase=False,
        ngram_range=(1, 2),
        min_df=2,
        max_df=0.5,
        sublinear_tf=True,
    )
    matrix = vectorizer.fit_transform(lemma_strings)
    components = min(LSA_COMPONENTS, matrix.shape[1] - 1, matrix.shape[0] - 1)
    svd = TruncatedSVD(max(components, 1), random_state=random_state).fit(matrix)

    def project(lemma_strings: Sequence[str]) -> np.ndarray:
        return l2_normalize(svd.transform(vectorizer.transform(lemma_strings)))

    return l2_normalize(svd.transform(matrix)), project


def describe_cluster(
    frame: pd.DataFrame,
    member: np.ndarray,
    points: np.ndarray,
    weeks: Sequence[str],
    project: Callable[[Sequence[str]], np.ndarray],
    lemmatizer: Lemmatizer,
    n_terms: int,
    n_examples: int,
) -> UncertainCluster:
    """The cluster of the rows ``member`` of ``frame``: its weekly growth, the terms that set it
    apart from the other uncertain contacts, examples and title nearest its centre (unnumbered)."""
    members = frame[member]
    centre = l2_normalize(points[member].mean(axis=0, keepdims=True))[0]
    nearest = np.argsort(-(points[member] @ centre), kind="stable")
    examples = list(dict.fromkeys(members["text"].iloc[nearest]))[:n_examples]
    weekly = members["iso_week"].value_counts().reindex(list(weeks), fill_value=0)
    earlier_mean = float(weekly.iloc[:-1].mean()) if len(weekly) > 1 else 0.0
    growth = float(weekly.iloc[-1]) - earlier_mean
    terms = distinctive_terms(
        members["lemmas"].tolist(), frame.loc[~member, "lemmas"].tolist(), min_count=2
    )
    terms = terms[terms["z"] > 0].head(n_terms)
    # the model's top guess: reason_id is «Не определено» for every contact left there
    guess = members["top_reason_id"] if "top_reason_id" in members else members["reason_id"]
    leaning = guess.fillna(members["reason_id"]).value_counts(normalize=True).head(3)
    return UncertainCluster(
        number=0,
        size=int(member.sum()),
        weekly={w: int(c) for w, c in weekly.items()},
        growth=growth,
        growth_z=growth / math.sqrt(earlier_mean + 1.0),
        top_terms=[(t.term, int(t.this_count), round(float(t.z), 2)) for t in terms.itertuples()],
        examples=examples,
        suggested_title=suggest_title(
            members["text"].tolist(), members["kind"].tolist(), centre, project, lemmatizer
        ),
        model_reasons=[(str(r), round(float(s), 3)) for r, s in leaning.items()],
        contact_ids=members["contact_id"].tolist(),
    )


def cluster_texts(
    frame: pd.DataFrame,
    weeks: Sequence[str],
    *,
    lemmatizer: Lemmatizer,
    k: int | None = None,
    k_range: Sequence[int] = CLUSTER_K_RANGE,
    min_size: int = 5,
    n_terms: int = 8,
    n_examples: int = 5,
    random_state: int = 0,
) -> tuple[list[UncertainCluster], int, dict[int, float], int]:
    """Cluster ``frame`` (``contact_id, iso_week, kind, reason_id, text, lemmas``).

    Returns the clusters of at least ``min_size`` contacts (fastest growing first), k, the
    silhouette per tried k and the number of contacts left in smaller clusters.
    """
    frame = frame[frame["lemmas"].str.len() > 0].reset_index(drop=True)
    points, project = lsa_space(frame["lemmas"], random_state)
    scores: dict[int, float] = {}
    if k is None:
        k, scores = choose_k(points, k_range, random_state)
    labels = KMeans(k, n_init=10, random_state=random_state).fit_predict(points)
    clusters, unclustered = [], 0
    for label in range(k):
        member = labels == label
        size = int(member.sum())
        if size < min_size:
            unclustered += size
            continue
        clusters.append(
            describe_cluster(
                frame, member, points, weeks, project, lemmatizer, n_terms, n_examples
            )
        )
    clusters.sort(key=lambda c: (-round(c.growth_z, 9), -c.size, c.suggested_title))
    numbered = [
        UncertainCluster(**{**c.__dict__, "number": i}) for i, c in enumerate(clusters, start=1)
    ]
    return numbered, k, scores, unclustered


def uncertain_clusters(
    con: duckdb.DuckDBPyConnection,
    weeks: int = 4,
    k: int | None = None,
    *,
    lemmatizer: Lemmatizer,
    week: str | None = None,
    quantile: float = LOW_CONFIDENCE_QUANTILE,
    k_range: Sequence[int] = CLUSTER_K_RANGE,
    min_size: int = 5,
    n_terms: int = 8,
    n_examples: int = 5,
    random_state: int = 0,
) -> UncertainClusters:
    """Clusters of the contacts the classifier was unsure about in the ``weeks`` weeks ending at
    ``week``: those left "не определено" plus the ``quantile`` least confident of the rest
    (on the demo few fall below the threshold, the lowest decile gives material to cluster).
    Each cluster is a candidate new reason, or a known one the model does not recognise well:
    ``model_reasons`` tells which."""
    if not 0 < quantile < 1:
        raise InvestigationError(f"quantile={quantile}: ожидается доля от 0 до 1, например 0.1")
    span = last_weeks(con, week, weeks)
    frame = read_query(con, "low_confidence", weeks=span, quantile=quantile)
    if frame.empty:
        raise InvestigationError(f"за недели {span[0]} … {span[-1]} нет контактов с текстом")
    frame["text"] = frame["text"].map(mask_personal_data)
    frame["lemmas"] = [lemmatizer.lemmatize(text) for text in frame["text"]]
    # small matrices: starting BLAS/OpenMP threads costs more than it saves (9x on 2 cores)
    with threadpool_limits(1):
        clusters, chosen_k, scores, unclustered = cluster_texts(
            frame,
            span,
            lemmatizer=lemmatizer,
            k=k,
            k_range=k_range,
            min_size=min_size,
            n_terms=n_terms,
            n_examples=n_examples,
            random_state=random_state,
        )
    return UncertainClusters(
        clusters=clusters,
        weeks=span,
        cutoff=float(frame["cutoff"].iloc[0]),
        contacts=len(frame),
        below_threshold=int((frame["class_status"] == "below_threshold").sum()),
        k=chosen_k,
        silhouette=scores,
        unclustered=unclustered,
    )
