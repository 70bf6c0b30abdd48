"""Investigations behind the notebooks in ``notebooks/``: why a reason rose, what is left
"не определено", where the classifier errs.

Everything here reads pipeline outputs only: the DuckDB warehouse (opened read-only), the model
metrics and out-of-fold confusion table, the labelled examples. Functions return plain
DataFrames and frozen dataclasses; the notebooks only render them. Queries live in
``pipeline/queries/*.sql`` with bound parameters.

The statistics:

* ``decompose_change`` - a reason's change in the week vs the mean of the weeks before, split by
  channel, queue (department), contact kind and local hour; each value's share of the change.
  The contacts carry no customer segment, so there is no segment cut.
* ``distinctive_terms`` - lemma n-grams over- and under-represented in one set of texts vs
  another: the log-odds ratio with an informative Dirichlet prior and its z-score (Monroe,
  Colaresi & Quinn 2008, "Fightin' Words"). Counts are contacts mentioning the term,
  so one long text repeating a word does not dominate.
* ``uncertain_clusters`` - low-confidence contacts grouped by TF-IDF over lemmas, reduced with
  truncated SVD (LSA), clustered with k-means; k chosen by cosine silhouette over a small range.
* ``label_suspects`` - labelled examples whose cross-validated prediction (the model's own
  pipeline) disagrees with the label with high confidence.
"""

from __future__ import annotations

import difflib
import json
import logging
import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import silhouette_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.preprocessing import normalize as l2_normalize
from threadpoolctl import threadpool_limits

from pipeline import sql
from pipeline.config import ConfigError
from pipeline.io.weeks import WeekError, parse_week, week_range
from pipeline.model import reason_model
from pipeline.reporting.formatting import number, percent
from pipeline.taxonomy.labels import load_labels
from pipeline.taxonomy.schema import Taxonomy
from pipeline.text import AGENT_SHORTHAND, Lemmatizer, mask_personal_data, normalize, tokenize
from pipeline.train import TrainConfig

logger = logging.getLogger(__name__)

# JupyterLab, Notebook 7 and VS Code draw the mimetype bundle with the plotly extension shipped
# in the plotly package; nbconvert HTML exports use the "notebook" output, whose plotly.js is
# embedded once per notebook (about 5 MB). "notebook_connected" would load it from a CDN.
PLOTLY_RENDERER = "plotly_mimetype+notebook"

DIMENSIONS = ("channel", "queue", "kind", "local_hour")
DIMENSION_TITLES = {
    "channel": "Канал",
    "queue": "Очередь (отдел)",
    "kind": "Тип контакта",
    "local_hour": "Час (местное время)",
}
LOW_CONFIDENCE_QUANTILE = 0.1
CLUSTER_K_RANGE = (8, 12, 16, 20, 25, 30)
LSA_COMPONENTS = 100
NO_TEXT = "(без текста)"
NO_REPEAT = "(не вернулся)"

# a sentence ends before a capital letter, so "кл. недоволен, обр. зарег." stays one
_SENTENCE_END_RE = re.compile(r"(?<=[.!?…])\s+(?=[«\"A-ZА-ЯЁ])|\n+")
_AGENT_MARKERS = frozenset(AGENT_SHORTHAND)
_TITLE_TAIL_RE = re.compile(r"[^\w)»\"]+$")


class InvestigationError(ConfigError):
    """A notebook parameter names something the pipeline outputs do not have."""


# --- warehouse access -------------------------------------------------------------------------


def connect(warehouse: str | Path) -> duckdb.DuckDBPyConnection:
    """Open the warehouse read-only, so an investigation can never change pipeline outputs."""
    path = Path(warehouse)
    if not path.is_file():
        raise InvestigationError(
            f"{path.resolve()}: нет файла хранилища; сначала соберите его (`make demo` или "
            "`dvc repro`), а ноутбук запускайте из папки notebooks/ "
            "(papermill --cwd notebooks ...) или передайте путь: -p warehouse <путь>"
        )
    return duckdb.connect(str(path), read_only=True)


def _frame(con: duckdb.DuckDBPyConnection, name: str, **params: Any) -> pd.DataFrame:
    return con.execute(sql.load(name), params).df()


def report_week(con: duckdb.DuckDBPyConnection) -> str:
    """The report week of the run that built the warehouse (``run_info.report_week``)."""
    return str(_frame(con, "run_info")["report_week"].iloc[0])


def repeat_window_days(con: duckdb.DuckDBPyConnection) -> int:
    return int(_frame(con, "run_info")["repeat_window_days"].iloc[0])


def data_weeks(con: duckdb.DuckDBPyConnection) -> list[str]:
    return _frame(con, "weeks")["iso_week"].tolist()


def reason_titles(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    frame = _frame(con, "reasons")
    return dict(zip(frame["reason_id"], frame["title"], strict=True))


def resolve_week(con: duckdb.DuckDBPyConnection, week: str | None) -> str:
    """``week`` checked against the data; empty or None means the report week."""
    if not week:
        return report_week(con)
    try:
        week = parse_week(week)
    except WeekError as error:
        raise InvestigationError(str(error)) from None
    weeks = data_weeks(con)
    if week not in weeks:
        raise InvestigationError(
            f"неделя {week}: в хранилище нет контактов за неё; есть {weeks[0]} … {weeks[-1]}"
        )
    return week


def check_reason(con: duckdb.DuckDBPyConnection, reason_id: str) -> str:
    titles = reason_titles(con)
    if reason_id not in titles:
        close = difflib.get_close_matches(reason_id, titles, n=3)
        hint = f"; похожие: {', '.join(close)}" if close else ""
        raise InvestigationError(
            f"причина '{reason_id}' не найдена в таблице reasons (taxonomy/reasons.yaml){hint}"
        )
    return reason_id


def weeks_before(con: duckdb.DuckDBPyConnection, week: str, n: int) -> list[str]:
    """The ``n`` calendar weeks before ``week`` (oldest first); all of them must be in the data."""
    weeks = week_range(week, n + 1)[:-1]
    missing = sorted(set(weeks) - set(data_weeks(con)))
    if missing:
        raise InvestigationError(
            f"базовый период для {week}: нет данных за {', '.join(missing)}; "
            f"уменьшите baseline_weeks (сейчас {n}) или выберите более позднюю неделю"
        )
    return weeks


def last_weeks(con: duckdb.DuckDBPyConnection, week: str | None, n: int) -> list[str]:
    """The ``n`` weeks ending at ``week`` (report week by default) that have data."""
    end = resolve_week(con, week)
    present = set(data_weeks(con))
    return [w for w in week_range(end, n) if w in present]


# --- why a reason rose: decomposition ---------------------------------------------------------


def decompose_counts(counts: pd.DataFrame, week: str, baseline: Sequence[str]) -> pd.DataFrame:
    """Per dimension value: contacts in ``week``, mean over ``baseline`` weeks, their difference
    and its share of the reason's total change (the shares of one dimension sum to 1).

    ``counts`` has ``iso_week, dimension, value, contacts``; missing weeks count as zero.
    """
    columns = ["dimension", "value", "this_week", "baseline_mean", "change", "share_of_change"]
    if counts.empty:
        return pd.DataFrame(columns=columns)
    wide = counts.pivot_table(
        index=["dimension", "value"],
        columns="iso_week",
        values="contacts",
        aggfunc="sum",
        fill_value=0,
    )
    this = wide[week] if week in wide else pd.Series(0, index=wide.index)
    base = wide.reindex(columns=list(baseline), fill_value=0).sum(axis=1) / max(len(baseline), 1)
    out = pd.DataFrame({"this_week": this.astype(int), "baseline_mean": base}).reset_index()
    out["change"] = out["this_week"] - out["baseline_mean"]
    total = out.groupby("dimension")["change"].transform("sum")
    out["share_of_change"] = np.where(total.abs() > 1e-9, out["change"] / total, np.nan)
    order = {d: i for i, d in enumerate(DIMENSIONS)}
    out = out.assign(_dim=out["dimension"].map(order), _abs=-out["change"].abs())
    out = out.sort_values(["_dim", "_abs", "value"], kind="stable")
    return out[columns].reset_index(drop=True)


def decompose_change(
    con: duckdb.DuckDBPyConnection,
    reason_id: str,
    week: str | None = None,
    baseline_weeks: int = 4,
    by: Sequence[str] = DIMENSIONS,
) -> pd.DataFrame:
    """Where a reason's change in ``week`` comes from: see ``decompose_counts``."""
    unknown = [d for d in by if d not in DIMENSIONS]
    if unknown:
        raise InvestigationError(
            f"by: неизвестные разрезы {unknown}; доступны {', '.join(DIMENSIONS)}"
        )
    check_reason(con, reason_id)
    week = resolve_week(con, week)
    baseline = weeks_before(con, week, baseline_weeks)
    counts = _frame(con, "reason_dimensions", reason_id=reason_id, weeks=[*baseline, week])
    result = decompose_counts(counts[counts["dimension"].isin(by)], week, baseline)
    return result.reset_index(drop=True)


def weekly_counts(
    con: duckdb.DuckDBPyConnection, reason_id: str, week: str | None = None, weeks: int = 13
) -> pd.DataFrame:
    """Contacts of the reason per week and channel over ``weeks`` weeks ending at ``week``."""
    span = last_weeks(con, week, weeks)
    counts = _frame(con, "reason_dimensions", reason_id=reason_id, weeks=span)
    counts = counts[counts["dimension"] == "channel"].rename(columns={"value": "channel"})
    full = pd.MultiIndex.from_product(
        [span, sorted(counts["channel"].unique())], names=["iso_week", "channel"]
    )
    return (
        counts.set_index(["iso_week", "channel"])["contacts"]
        .reindex(full, fill_value=0)
        .reset_index()
    )


def reason_status(con: duckdb.DuckDBPyConnection, reason_id: str) -> dict[str, Any]:
    """The reason's closed-loop row for the report week (spike test, trend, owner note)."""
    frame = _frame(con, "closed_loop_reason", reason_id=check_reason(con, reason_id))
    return jsonable(frame.iloc[0].to_dict()) if len(frame) else {}


def draft_conclusion(
    reason_title: str,
    week: str,
    decomposition: pd.DataFrame,
    terms: pd.DataFrame,
    n_terms: int = 5,
    min_z: float = 1.96,
) -> str:
    """A first draft of the conclusion from the numbers, for the analyst to rewrite; it lists
    up to ``n_terms`` terms with z above ``min_z``."""
    # every contact has one value per dimension, so any dimension sums to the reason's total
    one = decomposition[decomposition["dimension"] == decomposition["dimension"].iloc[0]]
    this, base = float(one["this_week"].sum()), float(one["baseline_mean"].sum())
    change = this - base
    relative = f" ({percent(change / base, 0, signed=True)})" if base else ""
    lines = [
        f"«{reason_title}», {week}: контактов {number(this)} при среднем {number(base, 1)} "
        f"за базовые недели, изменение {signed(change)}{relative}."
    ]
    for dimension in DIMENSIONS:
        rows = decomposition[decomposition["dimension"] == dimension]
        if rows.empty or abs(change) < 1e-9:
            continue
        top = rows.iloc[0]  # sorted by |change| within the dimension
        lines.append(
            f"{DIMENSION_TITLES[dimension]}: больше всего изменилось «{top['value']}» "
            f"({signed(top['change'])}, {percent(top['share_of_change'], 0)} изменения)."
        )
    rising = terms[terms["z"] > min_z].head(n_terms)
    if len(rising):
        listed = ", ".join(
            f"«{t.term.replace('_', ' ')}» ({number(t.this_count)} против "
            f"{number(t.baseline_count)})"
            for t in rising.itertuples()
        )
        lines.append(f"Чаще обычного в текстах (контактов на неделе против базы): {listed}.")
    return "\n".join(f"- {line}" for line in lines)


def signed(value: float, digits: int = 1) -> str:
    """``6.0`` -> ``+6,0``, ``-28.0`` -> ``−28,0`` (Russian decimal comma)."""
    return ("+" if value > 0 else "") + number(value, digits)


# --- why a reason rose: distinctive terms -----------------------------------------------------


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
    frame = _frame(con, "reason_texts", reason_id=reason_id, weeks=list(weeks))
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


# --- why a reason rose: repeat chains and transfer paths ----------------------------------------


@dataclass(frozen=True)
class RepeatChains:
    chains: pd.DataFrame  # chain, reasons, length, customers, share
    customers: int  # customers who contacted about the reason in the week
    came_back: int  # of them, came back within the window
    window_days: int
    window_observed_share: float  # starts whose whole chain window lies inside the data


def build_chains(
    contacts: pd.DataFrame,
    reason_id: str,
    week: str,
    window_days: int,
    max_length: int = 4,
) -> pd.DataFrame:
    """Per customer: the reason chain from their first ``reason_id`` contact in ``week``,
    following each next contact that comes within ``window_days`` of the previous one.

    ``contacts`` has ``customer_id, contact_id, created_at, iso_week, reason_id``; the result has
    ``customer_id, start_contact_id, reasons`` (a tuple of reason ids, NULL as ``NO_TEXT``).
    """
    window = timedelta(days=window_days)
    rows = []
    ordered = contacts.sort_values(["customer_id", "created_at", "contact_id"], kind="stable")
    for customer, group in ordered.groupby("customer_id", sort=True):
        group = group.reset_index(drop=True)
        starts = group.index[(group["reason_id"] == reason_id) & (group["iso_week"] == week)]
        if len(starts) == 0:
            continue
        position = int(starts[0])
        chain = [reason_id]
        previous = group.loc[position, "created_at"]
        for next_position in range(position + 1, len(group)):
            if len(chain) >= max_length:
                break
            current = group.loc[next_position, "created_at"]
            if current - previous > window:
                break
            reason = group.loc[next_position, "reason_id"]
            chain.append(reason if isinstance(reason, str) else NO_TEXT)
            previous = current
        rows.append(
            {
                "customer_id": customer,
                "start_contact_id": group.loc[position, "contact_id"],
                "reasons": tuple(chain),
            }
        )
    return pd.DataFrame(rows, columns=["customer_id", "start_contact_id", "reasons"])


def repeat_chains(
    con: duckdb.DuckDBPyConnection,
    reason_id: str,
    week: str | None = None,
    max_length: int = 4,
) -> RepeatChains:
    """What customers who contacted about the reason in ``week`` came back with, and again."""
    check_reason(con, reason_id)
    week = resolve_week(con, week)
    window = repeat_window_days(con)
    contacts = _frame(con, "customer_contacts", reason_id=reason_id, week=week)
    per_customer = build_chains(contacts, reason_id, week, window, max_length)
    titles = {**reason_titles(con), NO_TEXT: NO_TEXT}
    observed = contacts.set_index("contact_id")["repeat_observed"]
    starts = per_customer["start_contact_id"]
    observed_share = (
        float(observed.reindex(starts).fillna(False).astype(bool).mean())
        if len(starts)
        else float("nan")
    )
    table = per_customer.groupby("reasons").size().rename("customers").reset_index()
    table["length"] = table["reasons"].map(len)
    table["chain"] = [
        " → ".join(titles.get(r, r) for r in reasons)
        + (f" → {NO_REPEAT}" if len(reasons) == 1 else "")
        for reasons in table["reasons"]
    ]
    table["share"] = table["customers"] / max(len(per_customer), 1)
    table = table.sort_values(["customers", "chain"], ascending=[False, True], kind="stable")
    return RepeatChains(
        chains=table[["chain", "reasons", "length", "customers", "share"]].reset_index(drop=True),
        customers=len(per_customer),
        came_back=int((per_customer["reasons"].map(len) > 1).sum()),
        window_days=window,
        window_observed_share=observed_share,
    )


def transfer_paths(
    con: duckdb.DuckDBPyConnection,
    reason_id: str,
    week: str | None = None,
    baseline_weeks: int = 4,
) -> pd.DataFrame:
    """Queue paths of the reason's answered calls in ``week`` vs the weekly mean of the weeks
    before: ``path, transfers, calls, share, baseline_mean, baseline_share``."""
    check_reason(con, reason_id)
    week = resolve_week(con, week)
    baseline = weeks_before(con, week, baseline_weeks)
    calls = _frame(con, "call_routes", reason_id=reason_id, weeks=[*baseline, week])
    this = calls[calls["iso_week"] == week].groupby(["path", "transfers"]).size()
    base = calls[calls["iso_week"] != week].groupby(["path", "transfers"]).size()
    out = pd.DataFrame({"calls": this, "baseline_mean": base / max(len(baseline), 1)})
    out = out.fillna(0).reset_index()
    out["calls"] = out["calls"].astype(int)
    out["share"] = out["calls"] / max(out["calls"].sum(), 1)
    out["baseline_share"] = out["baseline_mean"] / max(out["baseline_mean"].sum(), 1e-9)
    out = out.sort_values(
        ["calls", "baseline_mean", "path"], ascending=[False, False, True], kind="stable"
    )
    return out[
        ["path", "transfers", "calls", "share", "baseline_mean", "baseline_share"]
    ].reset_index(drop=True)


# --- what is in "не определено" ---------------------------------------------------------------


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
    model_reasons: list[tuple[str, float]]  # what the model leaned to: (reason id, share)
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
    vectorizer = TfidfVectorizer(
        token_pattern=reason_model.WORD_PATTERN,
        lowercase=False,
        ngram_range=(1, 2),
        min_df=2,
        max_df=0.5,
        sublinear_tf=True,
    )
    matrix = vectorizer.fit_transform(frame["lemmas"])
    components = min(LSA_COMPONENTS, matrix.shape[1] - 1, matrix.shape[0] - 1)
    svd = TruncatedSVD(max(components, 1), random_state=random_state).fit(matrix)

    def project(lemma_strings: Sequence[str]) -> np.ndarray:
        return l2_normalize(svd.transform(vectorizer.transform(lemma_strings)))

    points = l2_normalize(svd.transform(matrix))
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
        leaning = members["reason_id"].value_counts(normalize=True).head(3)
        clusters.append(
            UncertainCluster(
                number=0,
                size=size,
                weekly={w: int(c) for w, c in weekly.items()},
                growth=growth,
                growth_z=growth / math.sqrt(earlier_mean + 1.0),
                top_terms=[
                    (t.term, int(t.this_count), round(float(t.z), 2)) for t in terms.itertuples()
                ],
                examples=examples,
                suggested_title=suggest_title(
                    members["text"].tolist(), members["kind"].tolist(), centre, project, lemmatizer
                ),
                model_reasons=[(str(r), round(float(s), 3)) for r, s in leaning.items()],
                contact_ids=members["contact_id"].tolist(),
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
    frame = _frame(con, "low_confidence", weeks=span, quantile=quantile)
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


# --- where the model errs ---------------------------------------------------------------------


@dataclass(frozen=True)
class ModelErrors:
    summary: dict[str, Any]  # macro-F1, accuracy, coverage, examples, how it was evaluated
    pairs: pd.DataFrame  # actual, predicted, errors, share_of_actual (most frequent first)
    per_reason: pd.DataFrame  # reason_id, precision, recall, f1, support (worst F1 first)
    error_matrix: pd.DataFrame  # errors only: actual reasons (rows) x predicted (columns)


def model_errors(
    metrics_path: str | Path, confusion_path: str | Path, top: int = 15
) -> ModelErrors:
    """Confusions of the out-of-fold predictions over the labelled examples (``train`` stage)."""
    metrics_path, confusion_path = Path(metrics_path), Path(confusion_path)
    for path in (metrics_path, confusion_path):
        if not path.is_file():
            raise InvestigationError(f"{path}: нет файла; его пишет стадия train (dvc repro)")
    metrics = json.loads(metrics_path.read_text("utf-8"))
    confusion = pd.read_csv(confusion_path, dtype=str)
    support = confusion["actual"].value_counts()
    errors = confusion[confusion["actual"] != confusion["predicted"]]
    pairs = errors.groupby(["actual", "predicted"]).size().rename("errors").reset_index()
    pairs["share_of_actual"] = pairs["errors"] / pairs["actual"].map(support)
    pairs = (
        pairs.sort_values(
            ["errors", "actual", "predicted"], ascending=[False, True, True], kind="stable"
        )
        .head(top)
        .reset_index(drop=True)
    )
    per_reason = pd.DataFrame.from_dict(metrics.get("per_reason", {}), orient="index")
    per_reason = per_reason.rename_axis("reason_id").reset_index()
    if not per_reason.empty:
        per_reason = per_reason.sort_values(["f1", "reason_id"], kind="stable").reset_index(
            drop=True
        )
    keys = (
        "macro_f1",
        "accuracy",
        "coverage",
        "precision_covered",
        "examples",
        "evaluation",
        "model_version",
    )
    summary = {key: metrics[key] for key in keys if key in metrics}
    summary["errors"] = int(len(errors))
    matrix = pd.crosstab(errors["actual"], errors["predicted"])
    return ModelErrors(summary=summary, pairs=pairs, per_reason=per_reason, error_matrix=matrix)


def lowest_confidence(
    con: duckdb.DuckDBPyConnection, n: int = 20, week: str | None = None, weeks: int = 1
) -> pd.DataFrame:
    """The ``n`` contacts with text the classifier was least sure about in the ``weeks`` weeks
    ending at ``week`` (report week by default), with the reason it chose and the runner-up."""
    span = last_weeks(con, week, weeks)
    frame = _frame(con, "lowest_confidence", weeks=span, n=n)
    frame["text"] = frame["text"].map(mask_personal_data)
    return frame


def explain_contacts(
    model: Any, frame: pd.DataFrame, lemmatizer: Lemmatizer, n: int = 5
) -> pd.DataFrame:
    """``frame`` (with ``text, reason_id, runner_up_id``) plus the terms that pushed each text
    to the chosen reason and to the runner-up (``pipeline.model.explain``)."""
    classes = set(model.named_steps["model"].classes_)
    towards_reason, towards_runner_up = [], []
    for row in frame.itertuples():
        contact = reason_model.analyse_texts([row.text], lemmatizer)
        for label, out in ((row.reason_id, towards_reason), (row.runner_up_id, towards_runner_up)):
            terms = reason_model.explain(model, contact, label, n) if label in classes else []
            out.append(", ".join(term for term, _ in terms))
    return frame.assign(terms_reason=towards_reason, terms_runner_up=towards_runner_up)


def label_suspects(
    labels_dir: str | Path,
    taxonomy: Taxonomy,
    folds: int = 5,
    *,
    lemmatizer: Lemmatizer,
    config: TrainConfig | None = None,
    min_confidence: float = 0.5,
) -> pd.DataFrame:
    """Labelled examples the model, fitted without them (``folds``-fold CV of the pipeline
    ``train`` builds, with the ``train`` parameters of ``config``), puts into another reason with
    at least ``min_confidence``: likely mislabelled, or two reasons whose definitions overlap.
    With ``folds`` equal to ``eval_folds`` the folds are those of ``reports/plots/confusion.csv``.
    Least probable given label first.

    Columns: file, line, text, label, predicted, p_label, p_predicted.
    """
    config = config or TrainConfig()
    labels = load_labels(Path(labels_dir), taxonomy).frame
    y = labels["reason_id"].to_numpy()
    smallest = int(labels["reason_id"].value_counts().min())
    if smallest < folds:
        raise InvestigationError(
            f"label_suspects: у одной из причин всего {smallest} примеров, "
            f"а folds={folds}; уменьшите folds"
        )
    inputs = reason_model.analyse_texts(labels["text"].tolist(), lemmatizer)
    pipeline = config.build_pipeline()
    splitter = StratifiedKFold(folds, shuffle=True, random_state=config.random_state)
    with threadpool_limits(1):  # small matrices: threads cost more than they save
        proba = cross_val_predict(pipeline, inputs, y, cv=splitter, method="predict_proba")
    classes = np.unique(y)  # cross_val_predict orders probability columns like this
    predicted = classes[proba.argmax(axis=1)]
    p_label = proba[np.arange(len(y)), np.searchsorted(classes, y)]
    out = labels[["file", "line", "text", "reason_id"]].rename(columns={"reason_id": "label"})
    out = out.assign(predicted=predicted, p_label=p_label, p_predicted=proba.max(axis=1))
    suspects = out[(out["predicted"] != out["label"]) & (out["p_predicted"] >= min_confidence)]
    return suspects.sort_values(["p_label", "file", "line"], kind="stable").reset_index(drop=True)


# --- notebook plumbing ------------------------------------------------------------------------


def jsonable(value: Any) -> Any:
    """``value`` with numpy scalars, tuples, NaN and DataFrames turned into plain JSON values."""
    if isinstance(value, pd.DataFrame):
        return jsonable(value.to_dict(orient="records"))
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | np.ndarray | pd.Series):
        return [jsonable(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


def summary_bundle(summary: Mapping[str, Any]) -> dict[str, Any]:
    """A display bundle of a notebook's key results: ``application/json`` for tests and tools,
    indented text for people. Show it with ``display(bundle, raw=True)``."""
    data = jsonable(summary)
    return {
        "application/json": data,
        "text/plain": json.dumps(data, ensure_ascii=False, indent=1),
    }


def use_offline_plotly() -> None:
    """Render plotly figures without network access (see ``PLOTLY_RENDERER``)."""
    import plotly.io as pio

    pio.renderers.default = PLOTLY_RENDERER
