"""The report's charts: plotly figures built with ``plotly.graph_objects``, and an inline SVG
sparkline.

A page carries each figure as a ``<script type="application/json">`` block that
``assets/report.js`` hands to plotly.js (no inline code). Figures use the empty ``"none"``
template so plotly.js draws them with its own defaults (the colours the site always had), and
every value is a plain list, never a numpy array (plotly would write typed-array ``bdata``).
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
from markupsafe import Markup, escape

from pipeline.io.weeks import week_of
from pipeline.reporting import formatting
from pipeline.reporting.formatting import CHANNEL_RU

TEMPLATE = "none"
SEPARATORS = ", "  # decimal comma, space between thousands on the axes
ACTION_COLOUR = "#d62728"
# plotly.js's own "Reds", spelt out: plotly.py would expand the name to ColorBrewer's Reds,
# a different scale from the one the pages always drew
REDS = [
    [0, "rgb(220,220,220)"],
    [0.2, "rgb(245,195,157)"],
    [0.4, "rgb(245,160,105)"],
    [1, "rgb(178,10,28)"],
]


def chart_json(figure: go.Figure) -> Markup:
    """Chart data for a ``<script type="application/json">`` block; ``<`` can never close it."""
    text = pio.to_json(figure, validate=False, engine="json")
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(text)


def plotly_text(value: object) -> str:
    """A client-controlled string (queue, reason title, channel) as plotly.js shows it: its
    labels understand a little HTML (``<a href>``, ``<b>``, ``<br>``), so ``<``, ``>`` and ``&``
    become entities, which plotly.js draws as the characters they stand for."""
    return str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _clean(values) -> list:
    return [None if v is None or (isinstance(v, float) and np.isnan(v)) else v for v in values]


def sparkline(values: list[float], colour: str, width: int = 110, height: int = 26) -> Markup:
    """An inline SVG line of the weekly volumes (no script needed)."""
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
        f'aria-label="{escape(label)}"><polyline fill="none" '
        f'stroke="{colour}" stroke-width="1.6" points="{points}"/>'
        f'<circle cx="{last_x}" cy="{last_y}" r="2.4" fill="{colour}"/></svg>'
    )


def pareto_chart(loop: pd.DataFrame) -> go.Figure:
    """Reasons by the week's contacts, largest first, with the cumulative share."""
    rows = loop[loop["contacts"] > 0].sort_values("contacts", ascending=False)
    total = rows["contacts"].sum() or 1
    cumulative = (rows["contacts"].cumsum() / total * 100).round(1)
    titles = [plotly_text(title) for title in rows["title"]]
    bars = go.Bar(
        x=titles,
        y=rows["contacts"].tolist(),
        marker={"color": rows["colour"].tolist()},
        name="Контакты",
        hovertemplate="%{x}: %{y}<extra></extra>",
    )
    line = go.Scatter(
        mode="lines+markers",
        x=titles,
        y=cumulative.tolist(),
        yaxis="y2",
        name="Накопленная доля, %",
        line={"color": "#333"},
        hovertemplate="%{y:.1f} %<extra></extra>",
    )
    layout = go.Layout(
        template=TEMPLATE,
        height=420,
        margin={"l": 50, "r": 50, "t": 20, "b": 170},
        xaxis={"tickangle": -40, "automargin": True},
        yaxis={"title": {"text": "контактов за неделю"}},
        yaxis2={
            "overlaying": "y",
            "side": "right",
            "range": [0, 105],
            "title": {"text": "накопленная доля, %"},
        },
        showlegend=False,
        separators=SEPARATORS,
    )
    return go.Figure(data=[bars, line], layout=layout)


def drops_chart(drops: pd.DataFrame) -> go.Figure:
    """Unanswered calls by queue and local hour; the hover adds the share of the hour's calls."""
    table = drops.pivot_table(
        index="queue", columns="local_hour", values="lost", aggfunc="sum", fill_value=0
    )
    calls = drops.pivot_table(
        index="queue", columns="local_hour", values="calls", aggfunc="sum", fill_value=0
    )
    share = (table / calls.replace(0, np.nan) * 100).round(1)
    order = table.sum(axis=1).sort_values().index
    table, share = table.loc[order], share.loc[order]
    heatmap = go.Heatmap(
        z=table.to_numpy().tolist(),
        x=[f"{h}:00" for h in table.columns],
        y=[plotly_text(queue) for queue in table.index],
        customdata=[_clean(r) for r in share.to_numpy().tolist()],
        colorscale=REDS,
        hovertemplate="%{y}, %{x}: %{z} без ответа (%{customdata} %)<extra></extra>",
        colorbar={"title": {"text": "без ответа"}},
    )
    layout = go.Layout(
        template=TEMPLATE,
        height=60 + 26 * len(table),
        margin={"l": 230, "r": 20, "t": 10, "b": 40},
        separators=SEPARATORS,
    )
    return go.Figure(data=[heatmap], layout=layout)


def reason_chart(weekly: pd.DataFrame, reason, action_start, weeks: list[str]) -> go.Figure:
    """A reason's weekly contacts stacked by channel, its volume target and the week its
    owner's action started (``action_start``: a date or None)."""
    figure = go.Figure(
        data=_channel_bars(weekly, reason.id, weeks),
        layout=go.Layout(
            template=TEMPLATE,
            barmode="stack",
            height=360,
            separators=SEPARATORS,
            margin={"l": 50, "r": 20, "t": 30, "b": 60},
            legend={"orientation": "h", "y": -0.2},
            yaxis={"title": {"text": "контактов"}},
        ),
    )
    target = reason.target
    if target is not None and target.metric == "weekly_volume":
        figure.add_trace(
            go.Scatter(
                mode="lines",
                name="Цель",
                x=weeks,
                y=[target.value] * len(weeks),
                line={"color": "#2ca02c", "dash": "dash", "width": 2},
            )
        )
    if action_start is not None and week_of(action_start) in weeks:
        _mark_action(figure, action_start)
    return figure


def _channel_bars(weekly: pd.DataFrame, reason_id: str, weeks: list[str]) -> list[go.Bar]:
    data = weekly[(weekly["reason_id"] == reason_id) & weekly["iso_week"].isin(weeks)]
    by_channel = data.pivot_table(
        index="iso_week", columns="channel", values="contacts", aggfunc="sum", fill_value=0
    ).reindex(weeks, fill_value=0)
    return [
        go.Bar(
            name=plotly_text(CHANNEL_RU.get(channel, channel)),
            x=weeks,
            y=by_channel[channel].astype(int).tolist(),
            hovertemplate="%{x}: %{y}<extra>"
            + plotly_text(CHANNEL_RU.get(channel, channel))
            + "</extra>",
        )
        for channel in by_channel.columns
    ]


def _mark_action(figure: go.Figure, start: date) -> None:
    """A dotted vertical line at the week the owner's action started, labelled with its day."""
    week = week_of(start)
    figure.add_shape(
        type="line",
        xref="x",
        yref="paper",
        x0=week,
        x1=week,
        y0=0,
        y1=1,
        line={"color": ACTION_COLOUR, "width": 2, "dash": "dot"},
    )
    figure.add_annotation(
        x=week,
        y=1,
        xref="x",
        yref="paper",
        text=f"действие с {formatting.day(start)}",
        showarrow=False,
        yanchor="bottom",
        font={"color": ACTION_COLOUR},
    )


def _rgba(colour: str, alpha: float) -> str:
    red, green, blue = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({red}, {green}, {blue}, {alpha})"


def estimate_chart(estimated: pd.DataFrame, reason, weeks: list[str], level: float) -> go.Figure:
    """Weekly volume corrected for the model's errors with its interval, beside the raw count."""
    data = (
        estimated[estimated["reason_id"] == reason.id]
        .set_index("iso_week")
        .reindex(weeks)[
            ["contacts", "volume_estimated", "volume_estimated_low", "volume_estimated_high"]
        ]
    )
    low = _clean(data["volume_estimated_low"].tolist())
    high = _clean(data["volume_estimated_high"].tolist())
    traces = [
        *_interval_band(
            weeks, low, high, reason.colour, f"интервал {formatting.percent(level, 0)}"
        ),
        go.Scatter(
            mode="lines+markers",
            name="Оценка с поправкой на ошибки модели",
            x=weeks,
            y=_clean(data["volume_estimated"].tolist()),
            customdata=[[lo, hi] for lo, hi in zip(low, high, strict=True)],
            line={"color": reason.colour, "width": 2.5},
            hovertemplate="%{x}: %{y:.0f} (%{customdata[0]:.0f}–%{customdata[1]:.0f})"
            "<extra>оценка</extra>",
        ),
        go.Scatter(
            mode="lines+markers",
            name="Присвоено моделью",
            x=weeks,
            y=_clean(data["contacts"].tolist()),
            line={"color": "#5b6474", "dash": "dot", "width": 1.5},
            hovertemplate="%{x}: %{y}<extra>присвоено моделью</extra>",
        ),
    ]
    layout = go.Layout(
        template=TEMPLATE,
        height=320,
        separators=SEPARATORS,
        margin={"l": 50, "r": 20, "t": 20, "b": 60},
        legend={"orientation": "h", "y": -0.2},
        yaxis={"title": {"text": "контактов"}, "rangemode": "tozero"},
    )
    return go.Figure(data=traces, layout=layout)


def _interval_band(
    weeks: list[str], low: list, high: list, colour: str, name: str
) -> list[go.Scatter]:
    """The interval as a filled band: an invisible upper edge, then the lower edge filled up
    to it (``tonexty``); one legend entry."""
    upper = go.Scatter(
        mode="lines",
        name=name,
        x=weeks,
        y=high,
        line={"width": 0},
        hoverinfo="skip",
        showlegend=False,
    )
    lower = go.Scatter(
        mode="lines",
        name=name,
        x=weeks,
        y=low,
        fill="tonexty",
        fillcolor=_rgba(colour, 0.2),
        line={"width": 0},
        hoverinfo="skip",
    )
    return [upper, lower]
