"""The static site: Jinja environment, each page's context from ``ReportData``, and the assets.

``index.html`` is the week's overview; ``reasons/<id>.html`` one page per reason,
``owners/<id>.html`` one per owner, ``archive/`` the earlier weeks. The site opens from disk with
no network: plotly.js is shipped once in ``assets/``, charts are JSON data blocks drawn by
``assets/report.js`` (no inline code), and every client text is masked and escaped by Jinja's
autoescape. ``render_site`` returns every file as bytes, so a page failing to render writes
nothing; the ``report`` stage writes them (``pipeline/io/outputs.py``) and then removes the
earlier run's files it no longer writes (``remove_stale``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import jinja2
import pandas as pd

from pipeline.reporting import charts, formatting, handoffs
from pipeline.reporting.data import ReportData, headline, records
from pipeline.reporting.formatting import CHANNEL_RU, METRIC_RU, QUADRANTS
from pipeline.text import mask_personal_data

PAGES = ("index.html", "reasons", "owners", "archive", "handoffs", "assets")


def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("pipeline.reporting", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"], default=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(formatting.FILTERS)
    env.filters["chart"] = charts.chart_json
    env.filters["mask"] = mask_personal_data
    env.globals.update(
        QUADRANTS=QUADRANTS, METRIC_RU=METRIC_RU, CHANNEL_RU=CHANNEL_RU, sparkline=charts.sparkline
    )
    return env


def stale_files(out_dir: Path, site: Iterable[str]) -> list[Path]:
    """Files of an earlier run inside the site's own folders that this run does not write (a
    reason dropped from the taxonomy leaves no page); nothing outside ``PAGES`` is touched."""
    keep = {out_dir / name for name in site}
    stale = []
    for name in PAGES:
        folder = out_dir / name
        if folder.is_dir():
            stale += [p for p in sorted(folder.rglob("*")) if p.is_file() and p not in keep]
    return stale


def remove_stale(out_dir: Path, site: Iterable[str]) -> None:
    for path in stale_files(out_dir, site):
        path.unlink()
    for name in PAGES:  # folders emptied by that (deepest first), never the site's own
        folder = out_dir / name
        for inner in sorted(folder.rglob("*"), reverse=True) if folder.is_dir() else ():
            if inner.is_dir() and not any(inner.iterdir()):
                inner.rmdir()


def assets() -> dict[str, bytes]:
    """plotly.js (shipped once: the site opens offline), the stylesheet and the script."""
    plotly_js = resources.files("plotly").joinpath("package_data", "plotly.min.js")
    files = {"assets/plotly.min.js": plotly_js.read_bytes()}
    static = resources.files("pipeline.reporting").joinpath("static")
    for name in ("report.css", "report.js"):
        files[f"assets/{name}"] = static.joinpath(name).read_text("utf-8").encode("utf-8")
    return files


def common_context(data: ReportData) -> dict:
    """What every page shows: navigation, versions, the run's windows."""
    return {
        "report_week": data.report_week,
        "archive_weeks": data.archive_weeks,
        "ingest": data.ingest,
        "model": data.model,
        "owners": data.taxonomy.owner_titles,
        "model_version": data.run.model_version,
        "taxonomy_version": data.run.taxonomy_version,
        "sla_as_of": data.run.sla_as_of,
        "volume_interval": data.run.volume_interval,
        "windows": data.run.windows,
        "shows": data.run.sections,
    }


def overview_context(data: ReportData, week: str, emerging: list | None = None) -> dict:
    """A week's overview: headline, closed loop, Pareto, quadrants, unanswered calls, and the
    ``emerging`` topics (the current overview only: an archived week shows none)."""
    loop = data.loop(week).sort_values("order")
    rows = records(loop)
    quadrants = {q: [] for q in QUADRANTS}
    for row in rows:
        if not row["reserved"]:
            quadrants[row["quadrant"]].append(row)
    drops = data.drops[week]
    by_hour = drops.groupby("local_hour")[["lost", "calls"]].sum()
    worst = drops.groupby("queue")[["lost", "calls"]].sum()
    worst["share"] = worst["lost"] / worst["calls"]
    return {
        "week": week,
        "head": headline(data, week),
        "loop": rows,
        "quadrants": quadrants,
        "pareto": charts.pareto_chart(loop),
        "drops_chart": charts.drops_chart(drops) if len(drops) else None,
        "drops_by_hour": records(by_hour.reset_index()),
        "drops_worst": records(worst.sort_values("share", ascending=False).head(5).reset_index()),
        "emerging": emerging,
        "handoff_totals": None,  # the current overview only (render_site)
        "quarantine": data.quarantine,
        "conventions": data.conventions,
    }


def reason_context(data: ReportData, row: dict) -> dict:
    """A reason's page: its closed-loop row, charts, model terms, details and history."""
    reason = data.taxonomy.by_id[row["reason_id"]]
    weeks = list(row["series_weeks"])
    start = row.get("note_action_start")
    action_start = None if pd.isna(start) else pd.Timestamp(start).date()
    history = data.history[data.history["reason_id"] == reason.id]
    return {
        "row": row,
        "reason": reason,
        "chart": charts.reason_chart(data.weekly, reason, action_start, weeks),
        "estimate_chart": (
            None
            if reason.reserved
            else charts.estimate_chart(data.estimated, reason, weeks, data.run.volume_interval)
        ),
        "top_terms": data.model.get("top_terms", {}).get(reason.id, []),
        "details": data.details[reason.id],
        "history": records(history.sort_values("report_week", ascending=False)),
    }


@dataclass
class Site:
    """Renders templates with the common context into ``files`` (path in the site -> bytes);
    nothing is written to disk here."""

    env: jinja2.Environment
    common: dict
    files: dict[str, bytes] = field(default_factory=dict)

    def write(self, name: str, template: str, root: str, **context) -> None:
        html = self.env.get_template(template).render(root=root, **self.common, **context)
        self.files[name] = html.encode("utf-8")


def render_site(data: ReportData) -> dict[str, bytes]:
    """Every page and asset of the site, by its path in the site; the stage writes them."""
    site = Site(environment(), common_context(data), assets())
    overview = overview_context(data, data.report_week, data.emerging)
    overview["loop"] = handoffs.loop_rows(overview["loop"], data.handoffs)
    overview["handoff_totals"] = data.handoffs.totals if data.handoffs else None
    site.write("index.html", "index.html.j2", "", archived=False, **overview)
    rows = handoffs.loop_rows(records(data.loop(data.report_week)), data.handoffs)
    for row in rows:
        context = reason_context(data, row)
        site.write(f"reasons/{row['reason_id']}.html", "reason.html.j2", "../", **context)
    for owner_id, owner in data.taxonomy.owner_titles.items():
        owned = [r for r in rows if r["owner_id"] == owner_id]
        site.write(
            f"owners/{owner_id}.html",
            "owner.html.j2",
            "../",
            owner=owner,
            owner_id=owner_id,
            rows=owned,
            departments=data.handoffs.owned(owner_id) if data.handoffs else [],
        )
    if data.handoffs is not None:
        render_handoffs(site, data)
    render_archive(site, data)
    return site.files


def render_handoffs(site: Site, data: ReportData) -> None:
    """«Передачи и обещания»: departments, reasons, the week's lost hand-offs, the trend."""
    report = data.handoffs
    site.write(
        "handoffs/index.html",
        "handoffs.html.j2",
        "../",
        departments=report.departments,
        reasons=report.reasons,
        lost=report.lost,
        lost_total=int(report.totals["lost"]),
        totals=report.totals,
        rules=report.rules,
        chart=handoffs.lost_share_chart(report.weeks),
    )


def render_archive(site: Site, data: ReportData) -> None:
    """The archive index (a headline row per week) and each week's overview as it was."""
    weeks = data.archive_weeks
    archive = [(week, headline(data, week)) for week in weeks]
    site.write("archive/index.html", "archive.html.j2", "../", weeks=archive)
    for week in weeks:
        context = overview_context(data, week)
        site.write(f"archive/{week}.html", "index.html.j2", "../", archived=True, **context)
