"""Notebook plumbing: plain JSON values, the summary display bundle, offline plotly, and client
text made inert for Markdown output."""

from __future__ import annotations

import html
import json
import math
import re
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from pipeline.reporting.charts import plotly_text

# JupyterLab, Notebook 7 and VS Code draw the mimetype bundle with the plotly extension shipped
# in the plotly package; nbconvert HTML exports use the "notebook" output, whose plotly.js is
# embedded once per notebook (about 5 MB). "notebook_connected" would load it from a CDN.
PLOTLY_RENDERER = "plotly_mimetype+notebook"


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


# characters Markdown gives a meaning to (emphasis, links, code, headings, lists, tables)
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]{}()#+\-!|~])")


def inert(value: Any) -> str:
    """Client text (a complaint, a queue or an owner's note) for ``Markdown(...)``: HTML
    characters become entities and Markdown's special characters are escaped, so a ``<script>``,
    an ``onerror`` or a ``[link](javascript:…)`` in a complaint shows as the text it is, in the
    notebook and in its HTML export."""
    text = html.escape("" if value is None else str(value), quote=True)
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


# plotly's own templates use its small HTML subset on purpose (px writes "<br>" between hover
# lines): those keys keep their markup, every other string is data.
_PLOTLY_MARKUP_KEYS = frozenset({"hovertemplate", "texttemplate"})


def show(figure: Any) -> None:
    """``figure.show()`` with every string of its data and layout drawn as text: plotly.js reads
    a small HTML subset in labels, so a queue named ``<a href="javascript:…">`` in a bar's axis,
    legend or hover would be a live link. Notebooks call this instead of ``fig.show()``."""
    import plotly.graph_objects as go

    go.Figure(_escaped(figure.to_plotly_json())).show()


def _escaped(value: Any, key: str = "") -> Any:
    if isinstance(value, str):
        return value if key in _PLOTLY_MARKUP_KEYS else plotly_text(value)
    if isinstance(value, Mapping):
        return {k: _escaped(v, k) for k, v in value.items()}
    if isinstance(value, np.ndarray) and value.dtype.kind in "OUS":
        return np.array([_escaped(v, key) for v in value.ravel()], dtype=object).reshape(
            value.shape
        )
    if isinstance(value, list | tuple):
        return [_escaped(v, key) for v in value]
    return value
