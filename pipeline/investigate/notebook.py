"""Notebook plumbing: plain JSON values, the summary display bundle, offline plotly."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

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
