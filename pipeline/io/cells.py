"""Spreadsheet cells that stay text: client text starting with ``=``, ``+``, ``-``, ``@`` (or a
tab / carriage return) is a formula to Excel and LibreOffice when a CSV is opened ("CSV
injection": ``=HYPERLINK(...)`` becomes a live link, ``=cmd|...`` a command prompt).

CSV files people open in a spreadsheet (the labelling sheet) get a leading apostrophe on such
cells, which spreadsheets show as text; reading the file back removes it. Workbooks written
with openpyxl mark such cells as strings instead (``excel.write_xlsx``).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
GUARD = "'"


def guard_formula(value: Any) -> Any:
    """``"=1+1"`` -> ``"'=1+1"``; other values as they are."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return GUARD + value
    return value


def unguard_formula(value: Any) -> Any:
    """The value ``guard_formula`` was given (one guard apostrophe removed)."""
    if isinstance(value, str) and value.startswith(GUARD) and value[1:].startswith(FORMULA_STARTS):
        return value[1:]
    return value


def guard_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Every text cell of ``frame`` guarded (a copy)."""
    guarded = frame.copy()
    for column in guarded.columns:
        if guarded[column].dtype == object or pd.api.types.is_string_dtype(guarded[column]):
            guarded[column] = guarded[column].map(guard_formula, na_action="ignore")
    return guarded
