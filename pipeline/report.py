"""Stage ``report``: a static HTML site in Russian for managers and reason owners, plus Excel.

``reports/index.html`` is the week's overview; ``reports/reasons/<id>.html`` one page per reason,
``reports/owners/<id>.html`` one per owner, ``reports/archive/`` the earlier weeks. The site opens
from disk with no network: plotly.js is shipped once in ``reports/assets/``, charts are JSON data
blocks drawn by ``assets/report.js`` (no inline code), and every client text is masked and
escaped by Jinja's autoescape.
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
from collections import Counter
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import duckdb
import jinja2
import numpy as np
import pandas as pd
from markupsafe import Markup
from pydantic import BaseModel, ConfigDict, Field

from pipeline.config import load_section
from pipeline.io.weeks import week_of
from pipeline.reporting import formatting
from pipeline.taxonomy.schema import Taxonomy, load_taxonomy
from pipeline.text import mask_personal_data

logger = logging.getLogger(__name__)

QUADRANTS = {
    "eliminate": ("Устранить", "раздражает и клиента, и компанию: убрать причину"),
    "automate": ("Автоматизировать", "ценно клиенту, дорого компании: самообслуживание"),
    "simplify": ("Упростить", "ценно компании, раздражает клиента: сделать проще"),
    "leverage": ("Использовать", "ценно обоим: развивать и продавать"),
}
METRIC_RU = {
    "weekly_volume": "контактов в неделю",
    "cpx": "на 1 000 клиентов",
    "share": "доля контактов",
}
CHANNEL_RU = {
    "phone": "Телефон",
    "email": "E-mail",
    "web": "Сайт",
    "chat": "Чат",
    "social": "Соцсети",
    "service_desk": "Сервис-деск",
    "branch": "Отделение",
}
PAGES = ("index.html", "reasons", "owners", "archive", "assets")


class ReportConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    examples_per_reason: int = Field(5, ge=0, le=50)
    top_pairs: int = Field(8, ge=1)
    # emerging topics: terms of low-confidence contacts rising in the recent weeks
    emerging_weeks: int = Field(4, ge=1)
    low_confidence_quantile: float = Field(0.10, gt=0, lt=1)
    emerging_min_count: int = Field(8, ge=1)
    emerging_terms: int = Field(10, ge=1)


# --- charts -------------------------------------------------------------------------------------


def chart_json(figure: dict) -> Markup:
    """Chart data for a ``<script type="application/json">`` block; ``<`` can never close it."""
    text = json.dumps(figure, ensure_ascii=False, default=_json_default, allow_nan=False)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(text)


def _json_default(value: Any) -> Any:
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return None if np.isnan(value) else float(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    return str(value)


def _clean(values) -> list:
    return [None if v is None or (isinstance(v, float) and np.isnan(v)) else v for v in values]


def sparkline(values: list[float], colour: str, width: int = 110, height: int = 26) -> Markup:
    """An inline SVG line of the 13 weekly volumes (no script needed)."""
    values = [float(v) for v in values if v is not None]
    if len(values) < 2:
        return Markup("")
    top, bottom = max(values), min(values)
    span = (top - bottom) or 1.0
    step = (width - 4) / (len(values) - 1)
    points = " ".join(
        f"{2 + i * step:.1f},{height - 3 - (v - bottom) / span * (height - 6):.1f}"
        for i, v in enumerate(values)
    )
    last_x, last_y = points.split(" ")[-1].split(",")
    label = ", ".join(formatting.number(v) for v in values)
    return Markup(
        f'<svg class="spark" width="{width}" height="{height}" role="img" '
        f'aria-label="{jinja2.utils.markupsafe.escape(label)}"><polyline fill="none" '
        f'stroke="{colour}" stroke-width="1.6" points="{points}"/>'
        f'<circle cx="{last_x}" cy="{last_y}" r="2.4" fill="{colour}"/></svg>'
    )


def pareto_chart(loop: pd.DataFrame) -> dict:
    rows = loop[loop["contacts"] > 0].sort_values("contacts", ascending=False)
    total = rows["contacts"].sum() or 1
    cumulative = (rows["contacts"].cumsum() / total * 100).round(1)
    return {
        "data": [
            {
                "type": "bar",
                "x": rows["title"].tolist(),
                "y": rows["contacts"].tolist(),
                "marker": {"color": rows["colour"].tolist()},
                "name": "Контакты",
                "hovertemplate": "%{x}: %{y}<extra></extra>",
            },
            {
                "type": "scatter",
                "mode": "lines+markers",
                "x": rows["title"].tolist(),
                "y": cumulative.tolist(),
                "yaxis": "y2",
                "name": "Накопленная доля, %",
                "line": {"color": "#333"},
                "hovertemplate": "%{y:.1f} %<extra></extra>",
            },
        ],
        "layout": {
            "height": 420,
            "margin": {"l": 50, "r": 50, "t": 20, "b": 170},
            "xaxis": {"tickangle": -40, "automargin": True},
            "yaxis": {"title": {"text": "контактов за неделю"}},
            "yaxis2": {
                "overlaying": "y",
                "side": "right",
                "range": [0, 105],
                "title": {"text": "накопленная доля, %"},
            },
            "showlegend": False,
            "separators": ", ",
        },
    }


def drops_chart(drops: pd.DataFrame) -> dict:
    table = drops.pivot_table(
        index="queue", columns="local_hour", values="lost", aggfunc="sum", fill_value=0
    )
    calls = drops.pivot_table(
        index="queue", columns="local_hour", values="calls", aggfunc="sum", fill_value=0
    )
    share = (table / calls.replace(0, np.nan) * 100).round(1)
    order = table.sum(axis=1).sort_values().index
    table, share = table.loc[order], share.loc[order]
    return {
        "data": [
            {
                "type": "heatmap",
                "z": table.to_numpy().tolist(),
                "x": [f"{h}:00" for h in table.columns],
                "y": table.index.tolist(),
                "customdata": [_clean(r) for r in share.to_numpy().tolist()],
                "colorscale": "Reds",
                "hovertemplate": "%{y}, %{x}: %{z} без ответа (%{customdata} %)<extra></extra>",
                "colorbar": {"title": {"text": "без ответа"}},
            }
        ],
        "layout": {
            "height": 60 + 26 * len(table),
            "margin": {"l": 230, "r": 20, "t": 10, "b": 40},
            "separators": ", ",
        },
    }


def reason_chart(weekly: pd.DataFrame, reason, loop_row: pd.Series, weeks: list[str]) -> dict:
    data = weekly[(weekly["reason_id"] == reason.id) & weekly["iso_week"].isin(weeks)]
    by_channel = data.pivot_table(
        index="iso_week", columns="channel", values="contacts", aggfunc="sum", fill_value=0
    ).reindex(weeks, fill_value=0)
    traces = [
        {
            "type": "bar",
            "name": CHANNEL_RU.get(ch, ch),
            "x": weeks,
            "y": by_channel[ch].astype(int).tolist(),
            "hovertemplate": "%{x}: %{y}<extra>" + CHANNEL_RU.get(ch, ch) + "</extra>",
        }
        for ch in by_channel.columns
    ]
    shapes, annotations = [], []
    target = reason.target
    if target is not None and target.metric == "weekly_volume":
        traces.append(
            {
                "type": "scatter",
                "mode": "lines",
                "name": "Цель",
                "x": weeks,
                "y": [target.value] * len(weeks),
                "line": {"color": "#2ca02c", "dash": "dash", "width": 2},
            }
        )
    start = loop_row.get("note_action_start")
    if start is not None and not (isinstance(start, float) and np.isnan(start)):
        start = pd.Timestamp(start).date()
        action_week = week_of(start)
        if action_week in weeks:
            shapes.append(
                {
                    "type": "line",
                    "xref": "x",
                    "yref": "paper",
                    "x0": action_week,
                    "x1": action_week,
                    "y0": 0,
                    "y1": 1,
                    "line": {"color": "#d62728", "width": 2, "dash": "dot"},
                }
            )
            annotations.append(
                {
                    "x": action_week,
                    "y": 1,
                    "xref": "x",
                    "yref": "paper",
                    "text": f"действие с {formatting.day(start)}",
                    "showarrow": False,
                    "yanchor": "bottom",
                    "font": {"color": "#d62728"},
                }
            )
    return {
        "data": traces,
        "layout": {
            "barmode": "stack",
            "height": 360,
            "shapes": shapes,
            "annotations": annotations,
            "separators": ", ",
            "margin": {"l": 50, "r": 20, "t": 30, "b": 60},
            "legend": {"orientation": "h", "y": -0.2},
            "yaxis": {"title": {"text": "контактов"}},
        },
    }


def _rgba(colour: str, alpha: float) -> str:
    red, green, blue = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({red}, {green}, {blue}, {alpha})"


def estimate_chart(estimated: pd.DataFrame, reason, weeks: list[str], level: float) -> dict:
    """Weekly volume corrected for the model's errors with its interval, beside the raw count."""
    data = (
        estimated[estimated["reason_id"] == reason.id]
        .set_index("iso_week")
        .reindex(weeks)[
            ["contacts", "volume_estimated", "volume_estimated_low", "volume_estimated_high"]
        ]
    )
    band = f"интервал {formatting.percent(level, 0)}"
    low, high = (
        _clean(data["volume_estimated_low"].tolist()),
        _clean(data["volume_estimated_high"].tolist()),
    )
    return {
        "data": [
            {
                "type": "scatter",
                "mode": "lines",
                "name": band,
                "x": weeks,
                "y": high,
                "line": {"width": 0},
                "hoverinfo": "skip",
                "showlegend": False,
            },
            {
                "type": "scatter",
                "mode": "lines",
                "name": band,
                "x": weeks,
                "y": low,
                "fill": "tonexty",
                "fillcolor": _rgba(reason.colour, 0.2),
                "line": {"width": 0},
                "hoverinfo": "skip",
            },
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": "Оценка с поправкой на ошибки модели",
                "x": weeks,
                "y": _clean(data["volume_estimated"].tolist()),
                "customdata": [[lo, hi] for lo, hi in zip(low, high, strict=True)],
                "line": {"color": reason.colour, "width": 2.5},
                "hovertemplate": "%{x}: %{y:.0f} (%{customdata[0]:.0f}–%{customdata[1]:.0f})"
                "<extra>оценка</extra>",
            },
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": "Присвоено моделью",
                "x": weeks,
                "y": _clean(data["contacts"].tolist()),
                "line": {"color": "#5b6474", "dash": "dot", "width": 1.5},
                "hovertemplate": "%{x}: %{y}<extra>присвоено моделью</extra>",
            },
        ],
        "layout": {
            "height": 320,
            "separators": ", ",
            "margin": {"l": 50, "r": 20, "t": 20, "b": 60},
            "legend": {"orientation": "h", "y": -0.2},
            "yaxis": {"title": {"text": "контактов"}, "rangemode": "tozero"},
        },
    }


# --- data ---------------------------------------------------------------------------------------


@dataclass
class Inputs:
    con: duckdb.DuckDBPyConnection
    taxonomy: Taxonomy
    history: pd.DataFrame
    weekly: pd.DataFrame
    ingest: dict
    model: dict
    report_week: str
    weeks: list[str]
    estimated: pd.DataFrame
    """weekly_estimated: raw count and volume corrected for the model's errors, per week."""
    volume_interval: float
    windows: dict
    """Windows, targets and limits the pages print, from the aggregate run's params
    (``run_windows``): the report never states a number params.yaml does not hold."""


def run_windows(con: duckdb.DuckDBPyConnection) -> dict:
    """trend_weeks, sla_target and sla_limit_days of the run that built the warehouse."""
    params = json.loads(con.execute("SELECT params FROM run_info").fetchall()[0][0])
    return {
        "trend_weeks": int(params["trend_weeks"]),
        "sla_target": float(params["sla"]["target"]),
        "sla_limit_days": int(params["sla"]["limit_business_days"]),
        "recent_weeks": int(params["recent_weeks"]),
    }


def headline(inputs: Inputs, week: str) -> dict:
    loop = inputs.history[inputs.history["report_week"] == week]
    weekly = inputs.weekly
    contacts = int(weekly.loc[weekly["iso_week"] == week, "contacts"].sum())
    index = inputs.weeks.index(week) if week in inputs.weeks else -1
    prev = inputs.weeks[index - 1] if index > 0 else None
    prev_contacts = int(weekly.loc[weekly["iso_week"] == prev, "contacts"].sum()) if prev else 0
    with_text = weekly[(weekly["iso_week"] == week) & weekly["reason_id"].notna()]
    unknown = with_text.loc[
        with_text["reason_id"] == inputs.taxonomy.undefined_reason, "contacts"
    ].sum()
    customers = weekly.loc[weekly["iso_week"] == week, "customers"].max()
    due, met = loop["sla_due"].sum(), loop["sla_met"].sum()
    base, repeats = loop["repeat_base"].sum(), loop["repeats"].sum()
    return {
        "contacts": contacts,
        "change": contacts / prev_contacts - 1 if prev_contacts else None,
        "undefined_share": unknown / with_text["contacts"].sum() if len(with_text) else None,
        "no_text": int(
            weekly.loc[(weekly["iso_week"] == week) & weekly["reason_id"].isna(), "contacts"].sum()
        ),
        "sla": met / due if due else None,
        "sla_due": int(due),
        "repeat_rate": repeats / base if base else None,
        "cpx": 1000 * contacts / customers if customers and not np.isnan(customers) else None,
        "cost": loop["cost"].sum(),
        "prize": loop["prize_year"].sum(),
        "spikes": int(loop["is_spike"].sum()),
        "unexplained": int(loop["needs_explanation"].sum()),
    }


def emerging_topics(inputs: Inputs, lemmas: pd.DataFrame, config: ReportConfig) -> list[dict]:
    """Terms that grow among "не определено" and low-confidence contacts in the recent weeks.

    Low confidence: below-threshold contacts plus the lowest ``low_confidence_quantile`` of the
    confidence of classified ones. A term counts once per contact; it is listed when it is
    frequent recently and rarer before (ratio of weekly rates, add-one smoothed).
    """
    con = inputs.con
    cutoff = con.execute(
        "SELECT quantile_cont(confidence, $q) FROM contacts WHERE class_status = 'classified'",
        {"q": config.low_confidence_quantile},
    ).fetchall()[0][0]
    low = con.execute(
        """SELECT contact_id, iso_week, text FROM contacts
           WHERE class_status = 'below_threshold' OR (class_status = 'classified'
                 AND confidence < $cut) AND iso_week <= $w""",
        {"cut": cutoff, "w": inputs.report_week},
    ).df()
    low = low[low["iso_week"] <= inputs.report_week]
    if low.empty:
        return []
    low = low.merge(lemmas, on="contact_id", how="left")
    recent_weeks = inputs.weeks[-config.emerging_weeks :]
    before_weeks = [w for w in inputs.weeks if w not in recent_weeks]
    recent, before = Counter(), Counter()
    examples: dict[str, list[str]] = {}
    for row in low.itertuples(index=False):
        tokens = [t for t in str(row.lemmas or "").split() if t.isalpha() or "_" in t]
        terms = set(tokens) | {f"{a} {b}" for a, b in zip(tokens, tokens[1:], strict=False)}
        target = recent if row.iso_week in recent_weeks else before
        target.update(terms)
        if row.iso_week in recent_weeks:
            for term in terms:
                bucket = examples.setdefault(term, [])
                if len(bucket) < 2:
                    bucket.append(mask_personal_data(row.text))
    n_recent, n_before = len(recent_weeks), max(len(before_weeks), 1)
    scored = []
    for term, count in recent.items():
        if count < config.emerging_min_count:
            continue
        ratio = (count / n_recent) / ((before[term] + 1) / n_before)
        if ratio >= 3:
            scored.append((ratio, count, term))
    scored.sort(key=lambda t: (-t[0], -t[1], t[2]))
    topics, seen = [], set()
    for ratio, count, term in scored:
        words = set(term.split())
        if words & seen and " " not in term:
            continue
        seen |= words
        topics.append(
            {
                "term": term,
                "recent": count,
                "before": before[term],
                "ratio": ratio,
                "examples": examples.get(term, []),
            }
        )
        if len(topics) >= config.emerging_terms:
            break
    return topics


def reason_details(inputs: Inputs, reason_id: str, config: ReportConfig) -> dict:
    con, week = inputs.con, inputs.report_week
    recent = inputs.weeks[-inputs.windows["recent_weeks"] :]
    examples = con.execute(
        """SELECT created_local, channel, confidence, text FROM contacts
           WHERE reason_id = $r AND iso_week = $w AND text IS NOT NULL
           ORDER BY confidence DESC, contact_id LIMIT $n""",
        {"r": reason_id, "w": week, "n": config.examples_per_reason},
    ).df()
    examples["text"] = examples["text"].map(mask_personal_data)
    back = con.execute(
        """SELECT repeat_reason_id, sum(repeats) AS n FROM repeats
           WHERE reason_id = $r AND list_contains($weeks, iso_week)
           GROUP BY 1 ORDER BY n DESC, 1 LIMIT 6""",
        {"r": reason_id, "weeks": recent},
    ).df()
    back["title"] = [
        inputs.taxonomy.title(b) if b in inputs.taxonomy.by_id else b
        for b in back["repeat_reason_id"]
    ]
    pairs = con.execute(
        """SELECT from_queue, to_queue, sum(transfers) AS n FROM transfer_pairs
           WHERE reason_id = $r AND list_contains($weeks, iso_week)
           GROUP BY 1, 2 ORDER BY n DESC, 1, 2 LIMIT $k""",
        {"r": reason_id, "weeks": recent, "k": config.top_pairs},
    ).df()
    open_requests = con.execute(
        """SELECT contact_id, received_at, deadline_local, age_business_days, status_updates
           FROM sla WHERE reason_id = $r AND open_past_deadline
           ORDER BY age_business_days DESC, contact_id LIMIT 10""",
        {"r": reason_id},
    ).df()
    return {
        "examples": examples.to_dict("records"),
        "back": back.to_dict("records"),
        "pairs": pairs.to_dict("records"),
        "open_requests": open_requests.to_dict("records"),
    }


# --- rendering ----------------------------------------------------------------------------------


def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("pipeline.reporting", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"], default=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(formatting.FILTERS)
    env.filters["chart"] = chart_json
    env.filters["mask"] = mask_personal_data
    env.globals.update(
        QUADRANTS=QUADRANTS, METRIC_RU=METRIC_RU, CHANNEL_RU=CHANNEL_RU, sparkline=sparkline
    )
    return env


def _records(frame: pd.DataFrame) -> list[dict]:
    out = []
    for row in frame.to_dict("records"):
        out.append(
            {k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in row.items()}
        )
    return out


def write_assets(out_dir: Path) -> None:
    assets = out_dir / "assets"
    assets.mkdir(parents=True, exist_ok=True)
    plotly_js = resources.files("plotly").joinpath("package_data", "plotly.min.js")
    with resources.as_file(plotly_js) as source:
        shutil.copyfile(source, assets / "plotly.min.js")
    static = resources.files("pipeline.reporting").joinpath("static")
    for name in ("report.css", "report.js"):
        (assets / name).write_text(static.joinpath(name).read_text("utf-8"), encoding="utf-8")


def overview_context(
    inputs: Inputs, week: str, config: ReportConfig, lemmas: pd.DataFrame | None
) -> dict:
    loop = inputs.history[inputs.history["report_week"] == week].sort_values("order")
    quadrants = {q: [] for q in QUADRANTS}
    for row in _records(loop):
        if not row["reserved"]:
            quadrants[row["quadrant"]].append(row)
    drops = inputs.con.execute(
        """SELECT queue, local_hour, sum(dropped + abandoned) AS lost, sum(calls) AS calls
           FROM drops WHERE list_contains($weeks, iso_week) GROUP BY ALL""",
        {"weeks": _weeks_up_to(inputs.weeks, week)[-inputs.windows["recent_weeks"] :]},
    ).df()
    by_hour = drops.groupby("local_hour")[["lost", "calls"]].sum()
    worst = drops.groupby("queue")[["lost", "calls"]].sum()
    worst["share"] = worst["lost"] / worst["calls"]
    quarantine = inputs.con.execute(
        """SELECT reason_code, count(*) AS n, any_value(reason) AS example
           FROM quarantine GROUP BY 1 ORDER BY n DESC, 1"""
    ).df()
    return {
        "week": week,
        "head": headline(inputs, week),
        "loop": _records(loop),
        "quadrants": quadrants,
        "pareto": pareto_chart(loop),
        "drops_chart": drops_chart(drops) if len(drops) else None,
        "drops_by_hour": _records(by_hour.reset_index()),
        "drops_worst": _records(worst.sort_values("share", ascending=False).head(5).reset_index()),
        "emerging": (
            emerging_topics(inputs, lemmas, config)
            if lemmas is not None and week == inputs.report_week
            else None
        ),
        "quarantine": _records(quarantine),
    }


def _weeks_up_to(weeks: list[str], week: str) -> list[str]:
    return [w for w in weeks if w <= week]


def render_site(
    inputs: Inputs, out_dir: Path, config: ReportConfig, lemmas: pd.DataFrame | None
) -> list[Path]:
    env = environment()
    for name in PAGES:
        target = out_dir / name
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()
    write_assets(out_dir)
    archive_weeks = sorted(inputs.history["report_week"].unique(), reverse=True)
    common = {
        "report_week": inputs.report_week,
        "archive_weeks": archive_weeks,
        "ingest": inputs.ingest,
        "model": inputs.model,
        "owners": inputs.taxonomy.owner_titles,
        "model_version": _run_info(inputs, "model_version"),
        "taxonomy_version": _run_info(inputs, "taxonomy_version"),
        "sla_as_of": _run_info(inputs, "sla_as_of"),
        "volume_interval": inputs.volume_interval,
        "windows": inputs.windows,
    }
    written = []

    def write(path: Path, template: str, root: str, **context) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        html = env.get_template(template).render(root=root, **common, **context)
        path.write_text(html, encoding="utf-8")
        written.append(path)

    current = overview_context(inputs, inputs.report_week, config, lemmas)
    write(out_dir / "index.html", "index.html.j2", "", archived=False, **current)
    loop = inputs.history[inputs.history["report_week"] == inputs.report_week]
    for row in _records(loop):
        reason = inputs.taxonomy.by_id[row["reason_id"]]
        weeks = list(row["series_weeks"])
        write(
            out_dir / "reasons" / f"{reason.id}.html",
            "reason.html.j2",
            "../",
            row=row,
            reason=reason,
            chart=reason_chart(inputs.weekly, reason, pd.Series(row), weeks),
            estimate_chart=(
                None
                if reason.reserved
                else estimate_chart(inputs.estimated, reason, weeks, inputs.volume_interval)
            ),
            top_terms=inputs.model.get("top_terms", {}).get(reason.id, []),
            details=reason_details(inputs, reason.id, config),
            history=_records(
                inputs.history[inputs.history["reason_id"] == reason.id].sort_values(
                    "report_week", ascending=False
                )
            ),
        )
    for owner_id, owner in inputs.taxonomy.owner_titles.items():
        rows = [r for r in _records(loop) if r["owner_id"] == owner_id]
        write(
            out_dir / "owners" / f"{owner_id}.html",
            "owner.html.j2",
            "../",
            owner=owner,
            owner_id=owner_id,
            rows=rows,
        )
    write(
        out_dir / "archive" / "index.html",
        "archive.html.j2",
        "../",
        weeks=[(w, headline(inputs, w)) for w in archive_weeks],
    )
    for week in archive_weeks:
        context = overview_context(inputs, week, config, None)
        write(
            out_dir / "archive" / f"{week}.html", "index.html.j2", "../", archived=True, **context
        )
    return written


def _run_info(inputs: Inputs, column: str) -> str:
    return str(inputs.con.execute(f"SELECT {column} FROM run_info").fetchall()[0][0])


XLSX_COLUMNS = {
    "title": "Причина",
    "owner": "Владелец",
    "quadrant_ru": "Квадрант",
    "contacts": "Контакты",
    "volume_estimated": "Оценка с поправкой на ошибки модели",
    "volume_estimated_low": "Оценка: нижняя граница интервала {level}",
    "volume_estimated_high": "Оценка: верхняя граница интервала {level}",
    "expected_precision": "Ожидаемая точность модели",
    "prev_week": "Прошлая неделя",
    "wow_change": "Изменение к прошлой неделе",
    "change_4w": "{recent_weeks_ru} к {recent_weeks} предыдущим",
    "trend_ru": "Тренд {trend_weeks_ru}",
    "is_spike": "Всплеск",
    "target_value": "Цель",
    "target_metric_ru": "Метрика цели",
    "target_due": "Срок цели",
    "target_status_ru": "Статус цели",
    "sla_compliance": "SLA (в срок)",
    "sla_breached_limit": "Сверх {sla_limit_days} рабочих дней",
    "repeat_rate": "Повторы",
    "mean_transfers": "Переводов на звонок",
    "share_2plus_transfers": "Доля с ≥ 2 переводами",
    "cost": "Стоимость недели, ₽",
    "prize_year": "Приз в год, ₽",
    "note_action": "Действие владельца",
    "action_effect": "Изменение после действия",
    "flag": "Флаг",
    "cpx": "CPX",
}
XLSX_PERCENT = {
    "wow_change",
    "change_4w",
    "sla_compliance",
    "repeat_rate",
    "share_2plus_transfers",
    "action_effect",
    "expected_precision",
}
XLSX_WHOLE = {"volume_estimated", "volume_estimated_low", "volume_estimated_high"}


def write_xlsx(
    loop: pd.DataFrame, path: Path, week: str, volume_interval: float, windows: dict
) -> None:
    frame = loop.copy()
    frame["quadrant_ru"] = frame["quadrant"].map(lambda q: QUADRANTS[q][0])
    frame["target_metric_ru"] = frame["target_metric"].map(METRIC_RU)
    frame["is_spike"] = frame["is_spike"].map({True: "да", False: ""})
    frame["flag"] = frame["flag"].fillna("")
    frame["note_action"] = frame["note_action"].fillna("")
    level = formatting.percent(volume_interval, 0)
    frame = frame[list(XLSX_COLUMNS)].rename(
        columns={
            k: v.format(
                level=level,
                recent_weeks_ru=formatting.weeks_ru(windows["recent_weeks"]),
                trend_weeks_ru=formatting.weeks_ru(windows["trend_weeks"]),
                **windows,
            )
            for k, v in XLSX_COLUMNS.items()
        }
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        frame.to_excel(writer, sheet_name=f"Замкнутый цикл {week}"[:31], index=False)
        sheet = writer.sheets[f"Замкнутый цикл {week}"[:31]]
        sheet.freeze_panes = "B2"
        for i, key in enumerate(XLSX_COLUMNS, start=1):
            letter = sheet.cell(row=1, column=i).column_letter
            sheet.column_dimensions[letter].width = 40 if key in {"title", "note_action"} else 16
            if key in XLSX_PERCENT:
                for cell in sheet[letter][1:]:
                    cell.number_format = "0.0%"
            if key in XLSX_WHOLE:
                for cell in sheet[letter][1:]:
                    cell.number_format = "0"
        sheet.auto_filter.ref = sheet.dimensions


def main(
    warehouse: Path,
    history_path: Path,
    weekly_path: Path,
    lemmas_path: Path | None,
    ingest_metrics: Path,
    model_metrics: Path,
    taxonomy_path: Path,
    out_dir: Path,
    xlsx_path: Path,
    config: ReportConfig,
) -> list[Path]:
    taxonomy = load_taxonomy(taxonomy_path)
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        history = pd.read_parquet(history_path)
        weekly = pd.read_parquet(weekly_path)
        report_week = str(con.execute("SELECT report_week FROM run_info").fetchall()[0][0])
        weeks = sorted(w for w in weekly["iso_week"].unique() if w <= report_week)
        inputs = Inputs(
            con=con,
            taxonomy=taxonomy,
            history=history,
            weekly=weekly,
            ingest=json.loads(ingest_metrics.read_text("utf-8")),
            model=json.loads(model_metrics.read_text("utf-8")),
            report_week=report_week,
            weeks=weeks,
            estimated=con.execute("SELECT * FROM weekly_estimated").df(),
            volume_interval=float(
                con.execute("SELECT volume_interval FROM run_info").fetchall()[0][0]
            ),
            windows=run_windows(con),
        )
        lemmas = (
            pd.read_parquet(lemmas_path, columns=["contact_id", "lemmas"]) if lemmas_path else None
        )
        written = render_site(inputs, out_dir, config, lemmas)
        write_xlsx(
            history[history["report_week"] == report_week].sort_values("order"),
            xlsx_path,
            report_week,
            inputs.volume_interval,
            inputs.windows,
        )
    finally:
        con.close()
    logger.info("report: %d pages in %s, Excel %s", len(written), out_dir, xlsx_path)
    return written


def cli(args: argparse.Namespace) -> None:
    config = load_section(args.params, "report", ReportConfig)
    main(
        args.warehouse,
        args.history,
        args.weekly,
        args.lemmas,
        args.ingest_metrics,
        args.model_metrics,
        args.taxonomy,
        args.out,
        args.xlsx,
        config,
    )
