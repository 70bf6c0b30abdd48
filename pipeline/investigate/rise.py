"""Why a reason rose: its change in a week against the weeks before, split by dimension, the
weekly series, its closed-loop status and a first draft of the conclusion."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from pipeline.investigate.notebook import jsonable
from pipeline.investigate.warehouse import (
    InvestigationError,
    check_reason,
    last_weeks,
    read_query,
    resolve_week,
    weeks_before,
)
from pipeline.reporting.formatting import number, percent

DIMENSIONS = ("channel", "queue", "kind", "local_hour")
DIMENSION_TITLES = {
    "channel": "Канал",
    "queue": "Очередь (отдел)",
    "kind": "Тип контакта",
    "local_hour": "Час (местное время)",
}


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
    counts = read_query(con, "reason_dimensions", reason_id=reason_id, weeks=[*baseline, week])
    result = decompose_counts(counts[counts["dimension"].isin(by)], week, baseline)
    return result.reset_index(drop=True)


def weekly_counts(
    con: duckdb.DuckDBPyConnection, reason_id: str, week: str | None = None, weeks: int = 13
) -> pd.DataFrame:
    """Contacts of the reason per week and channel over ``weeks`` weeks ending at ``week``."""
    span = last_weeks(con, week, weeks)
    counts = read_query(con, "reason_dimensions", reason_id=reason_id, weeks=span)
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
    frame = read_query(con, "closed_loop_reason", reason_id=check_reason(con, reason_id))
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
