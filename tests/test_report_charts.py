"""The report's plotly figures: the data, titles and colours the pages draw, as plotly JSON."""

from __future__ import annotations

import json
from datetime import date
from types import SimpleNamespace

import pandas as pd
import pytest

from pipeline.reporting import charts

WEEKS = ["2026-W45", "2026-W46", "2026-W47"]


def figure_json(figure) -> dict:
    """The figure as a page carries it (and report.js parses it)."""
    return json.loads(str(charts.chart_json(figure)))


def reason(target=None, colour="#1f77b4"):
    return SimpleNamespace(id="card_blocked", colour=colour, target=target)


def test_chart_data_cannot_close_its_script_block():
    text = str(charts.chart_json({"data": [{"name": "</script><script>alert(1)</script>"}]}))
    assert "</script>" not in text and "<" not in text


def test_a_client_controlled_name_stays_inert_in_a_figure():
    drops = pd.DataFrame(
        {"queue": ["<img src=x onerror=alert(1)>"], "local_hour": [9], "lost": [2], "calls": [4]}
    )
    text = str(charts.chart_json(charts.drops_chart(drops)))
    assert "<" not in text and ">" not in text and "&" not in text
    # entities for plotly.js, which reads a little HTML in labels and draws entities as text
    assert json.loads(text)["data"][0]["y"] == ["&lt;img src=x onerror=alert(1)&gt;"]


def test_figures_use_plotly_js_defaults_not_a_python_template():
    loop = pd.DataFrame({"title": ["А"], "contacts": [3], "colour": ["#123456"]})
    layout = figure_json(charts.pareto_chart(loop))["layout"]
    assert "colorway" not in json.dumps(layout.get("template", {}))


def test_pareto_orders_reasons_and_accumulates_their_share():
    loop = pd.DataFrame(
        {
            "title": ["Мало", "Много", "Ноль", "Средне"],
            "contacts": [10, 60, 0, 30],
            "colour": ["#000001", "#000002", "#000003", "#000004"],
        }
    )
    figure = figure_json(charts.pareto_chart(loop))
    bars, line = figure["data"]
    assert bars["type"] == "bar" and bars["x"] == ["Много", "Средне", "Мало"]
    assert bars["y"] == [60, 30, 10]
    assert bars["marker"]["color"] == ["#000002", "#000004", "#000001"]
    assert line["y"] == [60.0, 90.0, 100.0] and line["yaxis"] == "y2"
    assert line["name"] == "Накопленная доля, %" and line["line"]["color"] == "#333"
    layout = figure["layout"]
    assert layout["yaxis"]["title"]["text"] == "контактов за неделю"
    assert layout["yaxis2"]["range"] == [0, 105] and layout["separators"] == ", "


def test_drops_heatmap_puts_the_busiest_queue_on_top_with_the_lost_share():
    drops = pd.DataFrame(
        {
            "queue": ["Карты", "Карты", "Кредиты"],
            "local_hour": [9, 10, 9],
            "lost": [5, 1, 1],
            "calls": [10, 0, 4],
        }
    )
    figure = figure_json(charts.drops_chart(drops))
    heatmap = figure["data"][0]
    assert heatmap["type"] == "heatmap"
    # plotly.js's "Reds", as the pages always drew it (not plotly.py's ColorBrewer "Reds")
    assert heatmap["colorscale"][0] == [0, "rgb(220,220,220)"]
    assert heatmap["colorscale"][-1] == [1, "rgb(178,10,28)"]
    assert heatmap["y"] == ["Кредиты", "Карты"] and heatmap["x"] == ["9:00", "10:00"]
    assert heatmap["z"] == [[1, 0], [5, 1]]
    assert heatmap["customdata"] == [[25.0, None], [50.0, None]]  # no calls: no share
    assert figure["layout"]["height"] == 60 + 26 * 2


def weekly_counts() -> pd.DataFrame:
    rows = [
        ("2026-W45", "phone", 4),
        ("2026-W46", "phone", 5),
        ("2026-W46", "chat", 2),
        ("2026-W47", "chat", 7),
        ("2026-W44", "phone", 99),  # outside the chart's weeks
    ]
    frame = pd.DataFrame(rows, columns=["iso_week", "channel", "contacts"])
    frame["reason_id"] = "card_blocked"
    return frame


def test_reason_chart_stacks_channels_in_russian_with_target_and_action():
    target = SimpleNamespace(metric="weekly_volume", value=6)
    figure = figure_json(
        charts.reason_chart(weekly_counts(), reason(target), date(2026, 11, 11), WEEKS)
    )
    traces = {t["name"]: t for t in figure["data"]}
    assert traces["Телефон"]["y"] == [4, 5, 0] and traces["Чат"]["y"] == [0, 2, 7]
    assert traces["Цель"]["y"] == [6, 6, 6] and traces["Цель"]["line"]["dash"] == "dash"
    layout = figure["layout"]
    assert layout["barmode"] == "stack"
    (shape,) = layout["shapes"]
    assert shape["x0"] == shape["x1"] == "2026-W46" and shape["line"]["color"] == "#d62728"
    (note,) = layout["annotations"]
    assert note["text"] == "действие с 11\u00a0нояб.\u00a02026"


@pytest.mark.parametrize("start", [None, date(2026, 1, 5)])
def test_reason_chart_without_an_action_in_its_weeks_has_no_marker(start):
    target = SimpleNamespace(metric="share", value=0.1)
    figure = figure_json(charts.reason_chart(weekly_counts(), reason(target), start, WEEKS))
    assert [t["name"] for t in figure["data"]] == ["Чат", "Телефон"]  # no volume target line
    assert not figure["layout"].get("shapes") and not figure["layout"].get("annotations")


def test_estimate_chart_draws_the_interval_as_a_band_in_the_reason_colour():
    estimated = pd.DataFrame(
        {
            "reason_id": "card_blocked",
            "iso_week": ["2026-W46", "2026-W47"],
            "contacts": [30, 50],
            "volume_estimated": [33.5, 56.5],
            "volume_estimated_low": [28.0, float("nan")],
            "volume_estimated_high": [40.0, 61.0],
        }
    )
    figure = figure_json(charts.estimate_chart(estimated, reason(colour="#ff7f0e"), WEEKS, 0.9))
    upper, lower, estimate, raw = figure["data"]
    assert upper["name"] == lower["name"] == "интервал 90\u00a0%"
    assert upper["y"] == [None, 40.0, 61.0] and lower["y"] == [None, 28.0, None]
    assert lower["fill"] == "tonexty" and lower["fillcolor"] == "rgba(255, 127, 14, 0.2)"
    assert upper["showlegend"] is False
    assert estimate["y"] == [None, 33.5, 56.5] and estimate["line"]["color"] == "#ff7f0e"
    assert estimate["customdata"] == [[None, None], [28.0, 40.0], [None, 61.0]]
    assert raw["y"] == [None, 30, 50] and raw["name"] == "Присвоено моделью"
    assert figure["layout"]["yaxis"]["rangemode"] == "tozero"


def test_sparkline_escapes_its_label_and_needs_two_points():
    assert str(charts.sparkline([5], "#123456")) == ""
    svg = str(charts.sparkline([1000, 2000.5], "#123456"))
    assert 'aria-label="1\u00a0000, 2\u00a0000"' in svg and svg.count("<circle") == 1
