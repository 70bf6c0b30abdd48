"""The closed loop of one report week: one row per active reason with its owner, volume, share,
CPX, trend and spike, target status, the latest owner note and its effect, repeats, transfers,
cost and the volume corrected for the classifier's errors.

Sums come from SQL (``pipeline/sql/loop_*.sql``); trends and spikes from
``closedloop/trends.py``; this module divides and labels. Every figure is defined in the README.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import duckdb
import numpy as np
import pandas as pd

from pipeline import sql
from pipeline.closedloop.config import NO_EXPLANATION, TARGET_STATUS, TREND_RU, AggregateConfig
from pipeline.closedloop.tables import reasons_frame
from pipeline.closedloop.trends import weekly_indicators
from pipeline.closedloop.volumes import ESTIMATE_COLUMNS
from pipeline.io.weeks import week_bounds, week_of, week_range
from pipeline.taxonomy.schema import Taxonomy


@dataclass(frozen=True)
class WeekSums:
    """The SQL sums one report week's closed loop divides (frames indexed by reason_id)."""

    weeks: list[str]  # the trend window, consecutive, ending at the report week
    last4: list[str]  # the recent weeks (``recent_weeks`` of them)
    now: pd.DataFrame  # the report week
    recent: pd.DataFrame  # summed over the recent weeks
    repeats: pd.DataFrame  # summed over repeat_weeks
    repeat_weeks: list[str]  # the latest recent weeks whose repeat windows are fully observed
    back: pd.DataFrame  # reason -> the reason customers came back with, and how often
    week_total: float  # every contact of the report week, with or without text
    week_customers: float  # customers of the report week (drivers.csv; NaN without)
    recent_total: float  # every contact of the recent weeks
    recent_customers: float  # customers summed over the recent weeks (NaN if one lacks them)


def target_status(row: pd.Series, report_end: date) -> dict:
    metric, value, due = row["target_metric"], row["target_value"], row["target_due"]
    if metric is None or pd.isna(value):
        return {
            "target_status": "no_target",
            "target_current": np.nan,
            "target_gap": np.nan,
            "target_projected": np.nan,
        }
    current = {"weekly_volume": row["mean4"], "cpx": row["cpx4"], "share": row["share4"]}[metric]
    # the trend slope in contacts/week, converted to the target's unit
    scale = current / row["mean4"] if row["mean4"] else 0.0
    slope = row["trend_slope"] * scale if pd.notna(row["trend_slope"]) else 0.0
    weeks_left = max((due - report_end).days / 7.0, 0.0)
    projected = current + slope * weeks_left
    if current <= value:
        status = "met"
    elif due > report_end and projected <= value:
        status = "on_track"
    else:
        status = "off_track"
    return {
        "target_status": status,
        "target_current": current,
        "target_gap": current - value,
        "target_projected": projected,
    }


NOTE_COLUMNS_EMPTY = {
    "note_week": None,
    "note_author": None,
    "note_explanation": None,
    "note_action": None,
    "note_action_start": None,
    "note_due": None,
    "note_is_recent": False,
    "action_before": np.nan,
    "action_after": np.nan,
    "action_effect": np.nan,
    "fallen_since_action": None,
}


def note_columns(
    reason_notes: pd.DataFrame, series: pd.Series, report_week: str, config: AggregateConfig
) -> dict:
    """Latest note about a week up to the report week, and the volume change since its action."""
    notes = reason_notes[reason_notes["week"] <= report_week]
    if notes.empty:
        return dict(NOTE_COLUMNS_EMPTY)
    note = notes.sort_values(["week", "action_start"]).iloc[-1]
    weeks = list(series.index)
    recent = weeks[-config.note_valid_weeks :] if len(weeks) >= config.note_valid_weeks else weeks
    out = {
        **NOTE_COLUMNS_EMPTY,
        "note_week": note["week"],
        "note_author": note["author"],
        "note_explanation": note["explanation"],
        "note_action": note["action"],
        "note_action_start": note["action_start"],
        "note_due": note["due"],
        "note_is_recent": note["week"] >= recent[0],
    }
    out.update(_action_effect(series, week_of(note["action_start"]), config))
    return out


def _action_effect(series: pd.Series, action_week: str, config: AggregateConfig) -> dict:
    """Weekly mean volume in the recent weeks before the action's week and in the full weeks
    after it; the relative change, and whether it fell by at least ``action_min_drop``."""
    weeks = list(series.index)
    if action_week not in weeks:
        return {}
    i = weeks.index(action_week)
    before = series.iloc[max(0, i - config.recent_weeks) : i]
    after = series.iloc[i + 1 :]  # full weeks after the action started
    if not (len(before) and len(after)):
        return {}
    out = {"action_before": float(before.mean()), "action_after": float(after.mean())}
    if out["action_before"] > 0:
        out["action_effect"] = out["action_after"] / out["action_before"] - 1
        out["fallen_since_action"] = bool(out["action_effect"] <= -config.action_min_drop)
    return out


def reason_counts(
    con: duckdb.DuckDBPyConnection, taxonomy: Taxonomy, report_week: str
) -> tuple[pd.DataFrame, list[str]]:
    """Contacts per reason and week up to the report week (every active reason present, with 0
    if it had none), and every week from the first in the data (gaps count as 0)."""
    first_week = con.execute(sql.load("weekly_weeks")).fetchall()[0][0]
    span = (week_bounds(report_week)[0] - week_bounds(first_week)[0]).days // 7 + 1
    all_weeks = week_range(report_week, span)
    counts = con.execute(sql.load("loop_reason_weeks"), {"w": report_week}).df()
    active = [r.id for r in taxonomy.ordered if r.active]
    zeros = pd.DataFrame({"reason_id": active, "week": report_week, "contacts": 0})
    counts = (
        pd.concat([counts, zeros]).groupby(["reason_id", "week"], as_index=False)["contacts"].sum()
    )
    return counts, all_weeks


def week_sums(
    con: duckdb.DuckDBPyConnection, report_week: str, all_weeks: list[str], config: AggregateConfig
) -> WeekSums:
    weeks = [w for w in week_range(report_week, config.trend_weeks) if w in all_weeks] or [
        report_week
    ]
    last4 = weeks[-config.recent_weeks :]
    per_week = con.execute(sql.load("loop_week_sums")).df()
    totals = con.execute(sql.load("loop_week_totals")).df()
    # NaN, not NA, for weeks drivers.csv does not cover (it is optional)
    totals["week_customers"] = pd.to_numeric(totals["week_customers"]).astype(float)
    recent_weeks = totals[totals["iso_week"].isin(last4)]
    per_week = per_week.merge(totals, on="iso_week")
    recent = per_week[per_week["iso_week"].isin(last4)].groupby("reason_id").sum(numeric_only=True)
    # repeats: the latest recent_weeks weeks whose repeat windows are fully observed
    observed = per_week[(per_week["repeat_observed"] > 0) & (per_week["iso_week"] <= report_week)]
    repeat_weeks = sorted(observed["iso_week"].unique())[-config.recent_weeks :]
    return WeekSums(
        weeks=weeks,
        last4=last4,
        now=per_week[per_week["iso_week"] == report_week].set_index("reason_id"),
        recent=recent,
        repeats=observed[observed["iso_week"].isin(repeat_weeks)]
        .groupby("reason_id")
        .sum(numeric_only=True),
        repeat_weeks=repeat_weeks,
        back=con.execute(sql.load("loop_repeat_back"), {"weeks": repeat_weeks}).df(),
        week_total=float(totals.loc[totals["iso_week"] == report_week, "total"].sum()),
        # denominators over the weeks, not over the weeks a reason happened to have contacts
        week_customers=float(
            totals.loc[totals["iso_week"] == report_week, "week_customers"].sum(min_count=1)
        ),
        recent_total=float(recent_weeks["total"].sum()),
        # NaN unless every recent week has its customers (a week without rows has none)
        recent_customers=float(recent_weeks["week_customers"].sum(min_count=len(last4))),
    )


def _ratio(numerator, denominator, row, empty=np.nan) -> float:
    """``numerator / denominator`` of a sums row, ``empty`` without the row or with a zero."""
    if row is None or not row[denominator]:
        return empty
    return float(row[numerator]) / float(row[denominator])


def _volume_columns(ind, r4, sums: WeekSums) -> dict:
    contacts = int(ind.contacts)
    customers = sums.week_customers
    return {
        "contacts": contacts,
        "share": contacts / sums.week_total if sums.week_total else np.nan,
        "cpx": 1000.0 * contacts / customers if customers else np.nan,
        "prev_week": ind.prev_week,
        "wow_change": ind.wow_change,
        "last4": ind.last4,
        "prev4": ind.prev4,
        "change_4w": ind.change_4w,
        "mean4": float(r4["contacts"]) / len(sums.last4) if r4 is not None else 0.0,
        "cpx4": (
            1000.0 * (float(r4["contacts"]) if r4 is not None else 0.0) / sums.recent_customers
            if sums.recent_customers
            else np.nan
        ),
        "share4": (
            (float(r4["contacts"]) if r4 is not None else 0.0) / sums.recent_total
            if sums.recent_total
            else 0.0
        ),
        "trend_verdict": ind.trend_verdict,
        "trend_slope": ind.trend_slope,
        "trend_slope_pct": ind.trend_slope_pct,
        "trend_p": ind.trend_p,
        "expected": ind.expected,
        "spike_p_value": ind.spike_p_value,
        "is_spike": bool(ind.is_spike),
        "series": list(ind.series),
        "series_weeks": sums.weeks[-len(ind.series) :],
    }


def _cost_repeat_transfer_columns(n, rp, sums: WeekSums) -> dict:
    repeat_weeks = sums.repeat_weeks
    return {
        "handle_minutes": float(n["handle_minutes"]) if n is not None else 0.0,
        "cost": float(n["cost"]) if n is not None else 0.0,
        "repeat_weeks": ",".join(repeat_weeks),
        "repeat_base": int(rp["repeat_observed"]) if rp is not None else 0,
        "repeats": int(rp["repeats"]) if rp is not None else 0,
        "repeat_rate": _ratio("repeats", "repeat_observed", rp),
        "repeat_cost_week": (
            float(rp["repeat_cost"]) / len(repeat_weeks)
            if rp is not None and repeat_weeks
            else 0.0
        ),
        "answered_calls": int(n["answered_calls"]) if n is not None else 0,
        "mean_transfers": _ratio("transfers", "answered_calls", n),
        "share_2plus_transfers": _ratio("calls_2plus", "answered_calls", n),
    }


def _repeat_back_reasons(taxonomy: Taxonomy, back: pd.DataFrame, reason_id: str) -> str:
    """The three reasons customers most often came back with, «Название (n)»."""
    top = back[back["reason_id"] == reason_id].head(3)
    return "; ".join(
        f"{taxonomy.title(b) if b in taxonomy.by_id else b} ({int(c)})"
        for b, c in zip(top["repeat_reason_id"], top["n"], strict=True)
    )


def reason_row(ind, meta: pd.Series, sums: WeekSums, taxonomy: Taxonomy, report_week: str) -> dict:
    """The closed-loop figures of one reason (``ind``: its trend and spike indicators)."""
    rid = ind.reason_id
    n = sums.now.loc[rid] if rid in sums.now.index else None
    r4 = sums.recent.loc[rid] if rid in sums.recent.index else None
    rp = sums.repeats.loc[rid] if rid in sums.repeats.index else None
    row = {
        "report_week": report_week,
        "reason_id": rid,
        **{key: meta[key] for key in ("title", "group", "owner_id", "owner", "quadrant")},
        "order": int(meta["order"]),
        "colour": meta["colour"],
        "reserved": bool(meta["reserved"]),
        **_volume_columns(ind, r4, sums),
        **_cost_repeat_transfer_columns(n, rp, sums),
        "target_metric": meta["target_metric"],
        "target_value": meta["target_value"],
        "target_due": meta["target_due"],
        "repeat_back_reasons": _repeat_back_reasons(taxonomy, sums.back, rid),
    }
    row["cost_with_repeats"] = row["cost"] + row["repeat_cost_week"]
    row["prize_year"] = (
        52.0 * (float(r4["cost"]) / len(sums.last4) if r4 is not None else 0.0)
        + 52.0 * row["repeat_cost_week"]
    )
    row.update(target_status(pd.Series(row), week_bounds(report_week)[1]))
    return row


def closed_loop(
    con: duckdb.DuckDBPyConnection,
    taxonomy: Taxonomy,
    notes: pd.DataFrame,
    sla_by_reason: pd.DataFrame,
    estimated: pd.DataFrame,
    report_week: str,
    config: AggregateConfig,
) -> pd.DataFrame:
    counts, all_weeks = reason_counts(con, taxonomy, report_week)
    indicators = weekly_indicators(
        counts,
        report_week,
        all_weeks,
        trend_weeks=config.trend_weeks,
        spike_history=config.spike_history,
        alpha=config.trend_alpha,
        spike_alpha=config.spike_alpha,
        min_excess=config.spike_min_excess,
        min_slope_pct=config.min_slope_pct,
        recent_weeks=config.recent_weeks,
    )
    active = {r.id for r in taxonomy.ordered if r.active}
    indicators = indicators[indicators["reason_id"].isin(active)]
    sums = week_sums(con, report_week, all_weeks, config)
    reasons = reasons_frame(taxonomy).set_index("reason_id")
    notes_by_reason = dict(list(notes.groupby("reason_id"))) if len(notes) else {}
    rows = []
    for ind in indicators.itertuples(index=False):
        row = reason_row(ind, reasons.loc[ind.reason_id], sums, taxonomy, report_week)
        series = pd.Series(ind.series, index=sums.weeks[-len(ind.series) :], dtype=float)
        reason_notes = notes_by_reason.get(ind.reason_id, pd.DataFrame(columns=notes.columns))
        row.update(note_columns(reason_notes, series, report_week, config))
        rose = row["trend_verdict"] == "rising" or row["is_spike"]
        row["needs_explanation"] = bool(rose and not row["reserved"] and not row["note_is_recent"])
        row["flag"] = NO_EXPLANATION if row["needs_explanation"] else None
        rows.append(row)
    loop = pd.DataFrame(rows).merge(sla_by_reason, on="reason_id", how="left")
    # the reserved reason («Не определено») has no estimate
    week_estimates = estimated.loc[
        estimated["iso_week"] == report_week, ["reason_id", *ESTIMATE_COLUMNS]
    ]
    loop = loop.merge(week_estimates, on="reason_id", how="left")
    loop["target_status_ru"] = loop["target_status"].map(TARGET_STATUS)
    loop["trend_ru"] = loop["trend_verdict"].map(TREND_RU)
    return loop.sort_values("order", kind="stable").reset_index(drop=True)


COST_COLUMNS = ("cost", "repeat_cost_week", "cost_with_repeats", "prize_year")


def unconfigured(loop: pd.DataFrame, config: AggregateConfig) -> pd.DataFrame:
    """The closed loop with the figures the organisation has not configured left empty: every
    SLA column without an SLA, the costs without a cost per minute (not 0 ₽)."""
    empty = [c for c in COST_COLUMNS if config.cost_per_minute is None]
    empty += [c for c in loop.columns if c.startswith("sla_") and not config.sla_enabled]
    return loop.assign(**{c: np.nan for c in empty if c in loop.columns})
