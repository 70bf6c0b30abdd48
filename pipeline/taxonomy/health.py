"""Taxonomy health: what needs the maintainer's attention, from whatever inputs exist.

The share of «не определено», reasons with too few labelled examples, near-identical
definitions (TF-IDF of lemmatised titles, definitions and examples), pairs the model mixes up
out of fold, reasons without a target or past its date, reasons without contacts lately.
A missing input (no warehouse yet, no model metrics) skips its part and says so.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pandas as pd

from pipeline import sql
from pipeline.io.weeks import parse_week, week_bounds
from pipeline.taxonomy.labels import labels_table, read_label_folder, validate_labels
from pipeline.taxonomy.schema import Taxonomy, count_warnings, load_taxonomy, taxonomy_version
from pipeline.text import Lemmatizer

NEAR_DUPLICATE_SIMILARITY = 0.5  # TF-IDF cosine of two reasons' lemmatised descriptions
CONFUSION_RATE = 0.05  # (a->b + b->a) / (support a + support b), out of fold
QUIET_WEEKS = 13
_EXCLUSIONS = re.compile(r"не включает\s*:.*", re.IGNORECASE | re.DOTALL)
_REASON_ID = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")


@dataclass
class Health:
    """What the maintainer should look at; plain data, rendered by ``render_health``."""

    taxonomy_version: str
    active_reasons: int
    undefined_share: dict | None = None  # week, share, contacts, undefined, by_week
    few_examples: dict[str, int] | None = None
    min_examples: int = 0  # train.min_examples_per_reason
    similar_definitions: list[dict] = field(default_factory=list)
    confusion_pairs: list[dict] | None = None
    no_target: list[str] = field(default_factory=list)
    target_overdue: list[str] = field(default_factory=list)
    quiet_reasons: list[str] | None = None
    quiet_weeks: int = QUIET_WEEKS
    report_week: str | None = None  # of the warehouse's run; targets are due against its end
    targets_as_of: str = ""  # the date target due dates are compared with, and why that one
    skipped: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # advice such as the 20–30 reasons


def reason_documents(taxonomy: Taxonomy, lemmatizer: Lemmatizer) -> dict[str, str]:
    """Title, definition (without "Не включает" and reason ids) and examples, as lemmas."""
    documents = {}
    for reason_id in taxonomy.classes:
        reason = taxonomy.by_id[reason_id]
        definition = _REASON_ID.sub(" ", _EXCLUSIONS.sub("", reason.definition))
        text = " ".join([reason.title, definition, *reason.examples])
        documents[reason_id] = lemmatizer.lemmatize(text)
    return documents


def similar_definitions(
    documents: Mapping[str, str], threshold: float = NEAR_DUPLICATE_SIMILARITY
) -> list[dict]:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.metrics.pairwise import cosine_similarity

    ids = list(documents)
    if len(ids) < 2:
        return []
    matrix = TfidfVectorizer(analyzer=str.split, sublinear_tf=True).fit_transform(
        [documents[i] for i in ids]
    )
    similarity = cosine_similarity(matrix)
    pairs = [
        {"a": ids[i], "b": ids[j], "similarity": round(float(similarity[i, j]), 3)}
        for i in range(len(ids))
        for j in range(i + 1, len(ids))
        if similarity[i, j] >= threshold
    ]
    return sorted(pairs, key=lambda p: (-p["similarity"], p["a"], p["b"]))


def confusion_pairs(confusion: pd.DataFrame, threshold: float = CONFUSION_RATE) -> list[dict]:
    """Pairs the model mixes up both ways: (a->b + b->a) / (support a + support b)."""
    support = confusion["actual"].value_counts()
    errors = confusion[confusion["actual"] != confusion["predicted"]]
    counts = errors.groupby(["actual", "predicted"]).size()
    pairs = {}
    for (actual, predicted), n in counts.items():
        a, b = sorted((actual, predicted))
        pairs.setdefault((a, b), {"a": a, "b": b, "a_as_b": 0, "b_as_a": 0})
        pairs[(a, b)]["a_as_b" if actual == a else "b_as_a"] += int(n)
    out = []
    for pair in pairs.values():
        base = int(support.get(pair["a"], 0) + support.get(pair["b"], 0))
        rate = (pair["a_as_b"] + pair["b_as_a"]) / base if base else 0.0
        if rate >= threshold:
            out.append({**pair, "rate": round(rate, 3)})
    return sorted(out, key=lambda p: (-p["rate"], p["a"], p["b"]))


def undefined_share(
    per_week: pd.DataFrame, week: str | None = None, weeks: int = 4
) -> dict | None:
    """Share of 'не определено' among contacts with text in ``week`` (default: the latest)."""
    if per_week.empty:
        return None
    contacts = per_week.groupby("iso_week")["contacts"].sum().sort_index()
    undefined = (
        per_week[per_week["class_status"] == "below_threshold"]
        .groupby("iso_week")["contacts"]
        .sum()
        .reindex(contacts.index, fill_value=0)
    )
    share = undefined / contacts
    week = week if week in share.index else share.index[-1]
    history = share.loc[:week].tail(weeks)
    return {
        "week": week,
        "share": round(float(share[week]), 4),
        "contacts": int(contacts[week]),
        "undefined": int(undefined[week]),
        "by_week": {w: round(float(s), 4) for w, s in history.items()},
    }


def quiet_reasons(
    per_week: pd.DataFrame, taxonomy: Taxonomy, weeks: int = QUIET_WEEKS
) -> list[str]:
    """Active reasons with no classified contact in the latest ``weeks`` ISO weeks."""
    if per_week.empty:
        return []
    recent = sorted(per_week["iso_week"].unique())[-weeks:]
    seen = per_week[per_week["iso_week"].isin(recent) & (per_week["contacts"] > 0)]
    present = {taxonomy.successor(r) for r in seen["reason_id"].dropna()}
    return [r for r in taxonomy.classes if r not in present]


def health(
    taxonomy_path: Path,
    labels_dir: Path | None,
    metrics: Path | None,
    confusion: Path | None,
    warehouse: Path | None,
    params: Path | None,
    lemmatizer: Lemmatizer,
    today: date,
    similarity: float = NEAR_DUPLICATE_SIMILARITY,
    confusion_rate: float = CONFUSION_RATE,
    quiet_weeks: int = QUIET_WEEKS,
) -> Health:
    """Collect the health summary from whatever of the inputs exists."""
    taxonomy = load_taxonomy(taxonomy_path)
    report = Health(
        taxonomy_version=taxonomy_version(taxonomy_path),
        active_reasons=len(taxonomy.classes),
        warnings=count_warnings(taxonomy),
    )
    report.min_examples = _min_examples(params, report.skipped)
    _examples(report, taxonomy, labels_dir, metrics)
    report.similar_definitions = similar_definitions(
        reason_documents(taxonomy, lemmatizer), similarity
    )
    if confusion is not None and Path(confusion).exists():
        report.confusion_pairs = confusion_pairs(pd.read_csv(confusion, dtype=str), confusion_rate)
    else:
        report.skipped.append(f"путаница причин: нет {confusion} (dvc repro, стадия train)")
    _contacts(report, taxonomy, warehouse, quiet_weeks)
    _targets(report, taxonomy, params, today)
    return report


def _targets(report: Health, taxonomy: Taxonomy, params: Path | None, today: date) -> None:
    """Reasons without a target, and those whose due date is before the end of the report
    week (the warehouse's, else aggregate.report_week of params.yaml; today only without
    either): a report about a past week does not call every target overdue."""
    week = report.report_week or _params_report_week(params)
    if week:
        as_of = week_bounds(week)[1]
        report.targets_as_of = f"конец отчётной недели {week}, {as_of:%d.%m.%Y}"
    else:
        as_of = today
        report.targets_as_of = f"сегодня, {as_of:%d.%m.%Y} (отчётная неделя неизвестна)"
    for reason_id in taxonomy.classes:
        target = taxonomy.by_id[reason_id].target
        if target is None:
            report.no_target.append(reason_id)
        elif target.due < as_of:
            report.target_overdue.append(reason_id)


def _params_report_week(params: Path | None) -> str | None:
    if params is None or not Path(params).exists():
        return None
    from pipeline.config import ConfigError, read_yaml

    try:
        week = (read_yaml(Path(params)).get("aggregate") or {}).get("report_week")
        return parse_week(week) if week else None
    except (ConfigError, AttributeError, ValueError):
        return None


def _examples(
    report: Health, taxonomy: Taxonomy, labels_dir: Path | None, metrics: Path | None
) -> None:
    """Reasons with fewer labelled examples than training needs (labels, else model.json)."""
    if labels_dir is not None and Path(labels_dir).exists():
        checked = validate_labels(labels_table(read_label_folder(labels_dir)), taxonomy)
        counts = checked.frame["reason_id"].value_counts()
    elif metrics is not None and Path(metrics).exists():
        counts = pd.Series(
            json.loads(Path(metrics).read_text("utf-8")).get("examples_per_reason", {})
        )
    else:
        report.skipped.append(f"число примеров: нет ни {labels_dir}, ни {metrics}")
        return
    report.few_examples = {
        r: int(counts.get(r, 0))
        for r in taxonomy.classes
        if counts.get(r, 0) < report.min_examples
    }


def _contacts(report: Health, taxonomy: Taxonomy, warehouse: Path | None, weeks: int) -> None:
    """The share of «не определено» and the quiet reasons, from the warehouse."""
    if warehouse is None or not Path(warehouse).exists():
        report.skipped.append(
            f"доля «не определено» и причины без контактов: нет {warehouse} "
            "(dvc repro, стадия aggregate)"
        )
        return
    import duckdb

    with duckdb.connect(str(warehouse), read_only=True) as con:
        per_week = con.execute(sql.load("health_weeks")).df()
        tables = {t for (t,) in con.execute("SHOW TABLES").fetchall()}
        report_week = (
            con.execute(sql.load("run_info")).fetchall()[0][0] if "run_info" in tables else None
        )
    report.report_week = str(report_week) if report_week else None
    report.undefined_share = undefined_share(per_week, report_week)
    report.quiet_reasons = quiet_reasons(per_week, taxonomy, weeks)
    report.quiet_weeks = weeks


def _min_examples(params: Path | None, skipped: list[str]) -> int:
    """train.min_examples_per_reason of params.yaml, or the train stage's default."""
    from pipeline.config import load_section
    from pipeline.model.training import TrainConfig

    if params is None or not Path(params).exists():
        default = TrainConfig.model_fields["min_examples_per_reason"].default
        skipped.append(f"порог числа примеров: нет {params}, взят порог по умолчанию {default}")
        return default
    return load_section(params, "train", TrainConfig).min_examples_per_reason


def render_health(report: Health, taxonomy: Taxonomy) -> str:
    def named(ids: Iterable[str]) -> str:
        return ", ".join(f"{r} «{taxonomy.title(r)}»" for r in ids)

    lines = [
        f"Здоровье таксономии {report.taxonomy_version}: действующих причин "
        f"{report.active_reasons}"
    ]
    lines += [f"• Внимание: {w}" for w in report.warnings]
    share = report.undefined_share
    if share is not None:
        trend = ", ".join(f"{w}: {s:.1%}" for w, s in share["by_week"].items())
        lines.append(
            f"• «Не определено» в {share['week']}: {share['share']:.1%} "
            f"({share['undefined']} из {share['contacts']}); по неделям: {trend}"
        )
    if report.few_examples is not None:
        if report.few_examples:
            lines.append(
                f"• Мало примеров (< {report.min_examples}): "
                + ", ".join(f"{r} ({n})" for r, n in report.few_examples.items())
            )
        else:
            lines.append(f"• Примеров достаточно: у каждой причины ≥ {report.min_examples}")
    if report.similar_definitions:
        lines.append("• Почти одинаковые определения (кандидаты в merge или на уточнение):")
        lines += [
            f"    {p['a']} ~ {p['b']}: сходство {p['similarity']:.2f}"
            for p in report.similar_definitions
        ]
    else:
        lines.append("• Почти одинаковых определений нет")
    if report.confusion_pairs is not None:
        if report.confusion_pairs:
            lines.append("• Модель путает друг с другом (вне выборки):")
            lines += [
                f"    {p['a']} ↔ {p['b']}: {p['rate']:.1%} "
                f"({p['a']} → {p['b']}: {p['a_as_b']}, обратно: {p['b_as_a']})"
                for p in report.confusion_pairs
            ]
        else:
            lines.append("• Сильно путаемых пар нет")
    lines.append("• Без цели: " + (named(report.no_target) if report.no_target else "нет"))
    if report.target_overdue:
        lines.append(
            f"• Срок цели прошёл (на {report.targets_as_of}): " + named(report.target_overdue)
        )
    if report.quiet_reasons is not None:
        lines.append(
            f"• Без контактов за {report.quiet_weeks} недель: "
            + (named(report.quiet_reasons) if report.quiet_reasons else "нет")
        )
    for note in report.skipped:
        lines.append(f"  (пропущено — {note})")
    return "\n".join(lines)
