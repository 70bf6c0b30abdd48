"""Weekly history across taxonomy changes: retired reasons re-keyed to their successors."""

from __future__ import annotations

import pandas as pd

from pipeline.taxonomy.schema import Taxonomy

# per-week constants in weekly facts: the same for every reason row, not summed on re-keying
WEEK_CONSTANT_COLUMNS = ("customers",)


def map_history(weekly: pd.DataFrame, taxonomy: Taxonomy) -> pd.DataFrame:
    """Weekly facts with retired reasons re-keyed to their successors and re-summed.

    Keys are the non-numeric columns (ISO week, week start, reason, channel); numeric columns
    are summed, except per-week constants (``customers``), which are kept. ``share`` and ``cpx``
    add up because every row of a week has the same denominator; ``customers_contacting`` of a
    merged row is an upper bound (a customer counted under both old reasons counts twice).
    Rows without a reason (contacts without text) stay as they are.
    """
    if weekly.empty:
        return weekly.copy()
    out = weekly.copy()
    has_reason = out["reason_id"].notna()
    out.loc[has_reason, "reason_id"] = out.loc[has_reason, "reason_id"].map(taxonomy.successor)
    numeric = [
        c
        for c in out.columns
        if pd.api.types.is_numeric_dtype(out[c]) and not pd.api.types.is_bool_dtype(out[c])
    ]
    keys = [c for c in out.columns if c not in numeric]
    aggregations = {c: ("first" if c in WEEK_CONSTANT_COLUMNS else "sum") for c in numeric}
    merged = out.groupby(keys, dropna=False, sort=False, as_index=False).agg(aggregations)
    merged = merged[list(weekly.columns)]
    order = [c for c in ("iso_week", "reason_id", "channel") if c in merged.columns]
    return merged.sort_values(order, na_position="last", kind="stable").reset_index(drop=True)
