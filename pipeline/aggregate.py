"""Stage ``aggregate``: classified contacts -> the numbers a reason owner is held to.

Heavy lifting is SQL (``pipeline/sql/*.sql``, parameters bound by DuckDB) over the Parquet
outputs of earlier stages; the statistics that SQL does poorly (trend tests, spike probabilities,
the SLA business calendar, target projection) are Python. Everything lands in
``data/warehouse.duckdb`` with documented tables, plus two Parquet files for the reports:

* ``weekly.parquet`` - ISO week x reason x channel: volume, share, CPX, cost, repeats, transfers;
* ``closed_loop.parquet`` - one row per reason for the report week: owner, trend, spike, target
  status, latest owner note and its effect, SLA, repeats, transfers, cost, and the volume
  corrected for the classifier's errors with its interval and the expected precision
  (``pipeline/quantify.py``, from train's out-of-fold confusion ``reports/plots/confusion.csv``).
"""

from __future__ import annotations

import argparse
import json
import logging
from datetime import date, datetime, time, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, field_validator

from pipeline import sql
from pipeline.closedloop.owner_notes import load_owner_notes
from pipeline.closedloop.sla import BusinessCalendar, SlaRule, compliance, sla_status
from pipeline.closedloop.trends import weekly_indicators
from pipeline.config import ConfigError, load_section
from pipeline.io.weeks import parse_week, week_bounds, week_of, week_range
from pipeline.model import quantify
from pipeline.taxonomy.schema import Taxonomy, load_taxonomy
from pipeline.text import mask_personal_data

logger = logging.getLogger(__name__)

NO_EXPLANATION = "нет объяснения владельца"
TARGET_STATUS = {
    "met": "достигнута",
    "on_track": "в графике",
    "off_track": "отстаёт",
    "no_target": "нет цели",
}
TREND_RU = {
    "rising": "растёт",
    "falling": "снижается",
    "flat": "без тренда",
    "insufficient": "мало данных",
}


class AggregateConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # ISO week to report ("2026-W47"); empty = the last complete week in the data
    report_week: str | None = None
    trend_weeks: int = Field(13, ge=6, le=104)
    # "recent" weeks: volume, cost, repeats and transfers over this many weeks ending at the
    # report week, compared with as many before; an action's effect against as many before it
    recent_weeks: int = Field(4, ge=1, le=26)
    trend_alpha: float = Field(0.05, gt=0, lt=1)
    min_slope_pct: float = Field(0.01, ge=0)
    spike_history: int = Field(8, ge=4, le=52)
    spike_alpha: float = Field(0.001, gt=0, lt=1)
    spike_min_excess: float = Field(10, ge=0)
    repeat_window_days: int = Field(7, ge=1, le=90)
    cost_per_minute: float = Field(25.0, ge=0)
    # handle time of a written contact by channel (calls use their measured handle time)
    handle_minutes: dict[str, float] = Field(
        default_factory=lambda: {
            "email": 12.0,
            "web": 10.0,
            "chat": 8.0,
            "social": 10.0,
            "service_desk": 15.0,
            "branch": 20.0,
        }
    )
    default_handle_minutes: float = Field(10.0, ge=0)
    # an owner note explains a rise if it is about a week at most this many weeks back
    note_valid_weeks: int = Field(6, ge=1)
    # volume must fall at least this much (weekly mean after vs 4 weeks before the action)
    action_min_drop: float = Field(0.10, ge=0, lt=1)
    sla: SlaRule = SlaRule()
    # earlier weeks whose closed loop is kept too, for the reports' archive
    archive_weeks: int = Field(8, ge=0, le=52)
    # volume corrected for the classifier's errors: interval level, bootstrap draws, their seed
    volume_interval: float = Field(quantify.DEFAULT_LEVEL, gt=0, lt=1)
    volume_draws: int = Field(quantify.DEFAULT_DRAWS, ge=20, le=5000)
    volume_seed: int = 0

    @field_validator("report_week")
    @classmethod
    def _iso_week(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        return parse_week(value)  # WeekError is a ValueError: pydantic reports it in Russian


class AggregateError(ConfigError):
    """The inputs cannot give a closed-loop report (e.g. the report week has no contacts)."""


# --- SQL ----------------------------------------------------------------------------------------


def reasons_frame(taxonomy: Taxonomy) -> pd.DataFrame:
    owners = taxonomy.owner_titles
    rows = []
    for r in taxonomy.reasons:
        rows.append(
            {
                "reason_id": r.id,
                "title": r.title,
                "group": r.group,
                "definition": r.definition,
                "owner_id": r.owner,
                "owner": owners.get(r.owner, r.owner),
                "quadrant": r.quadrant,
                "order": r.order,
                "colour": r.colour,
                "reserved": r.reserved,
                "active": r.active,
                "retired": r.retired,
                "replaced_by": r.replaced_by,
                "target_metric": r.target.metric if r.target else None,
                "target_value": r.target.value if r.target else None,
                "target_due": r.target.due if r.target else None,
            }
        )
    return pd.DataFrame(rows)


def build_tables(
    con: duckdb.DuckDBPyConnection,
    paths: dict[str, Path],
    taxonomy: Taxonomy,
    config: AggregateConfig,
) -> None:
    """Create the SQL tables (contacts, weekly, repeats, transfers, drops) in ``con``."""
    con.register("reasons_df", reasons_frame(taxonomy))
    con.execute("CREATE OR REPLACE TABLE reasons AS SELECT * FROM reasons_df")
    successors = pd.DataFrame(
        [(r.id, taxonomy.successor(r.id)) for r in taxonomy.reasons],
        columns=["reason_id", "successor"],
    )
    con.register("successors_df", successors)
    con.execute("CREATE OR REPLACE TEMP TABLE successors AS SELECT * FROM successors_df")
    con.unregister("successors_df")
    handle = pd.DataFrame(sorted(config.handle_minutes.items()), columns=["channel", "minutes"])
    con.register("handle_df", handle)
    con.execute("CREATE OR REPLACE TABLE handle_defaults AS SELECT * FROM handle_df")
    con.execute(
        "CREATE OR REPLACE TABLE drivers AS SELECT * FROM read_parquet($p)",
        {"p": str(paths["drivers"])},
    )
    con.execute(
        "CREATE OR REPLACE TABLE quarantine AS SELECT * FROM read_parquet($p)",
        {"p": str(paths["quarantine"])},
    )
    con.execute(
        sql.load("contacts"),
        {
            "contacts": str(paths["contacts"]),
            "classified": str(paths["classified"]),
            "repeat_window_days": config.repeat_window_days,
            "cost_per_minute": config.cost_per_minute,
            "default_handle_minutes": config.default_handle_minutes,
        },
    )
    for name in ("weekly", "repeats", "transfers", "drops"):
        con.execute(sql.load(name))


# --- report week ------------------------------------------------------------------------------


def choose_report_week(con: duckdb.DuckDBPyConnection, config: AggregateConfig) -> str:
    weeks = [
        w
        for (w,) in con.execute(
            "SELECT DISTINCT iso_week FROM contacts ORDER BY iso_week"
        ).fetchall()
    ]
    if not weeks:
        raise AggregateError("нет ни одного принятого контакта: отчёт строить не из чего")
    if config.report_week:
        if config.report_week not in weeks:
            raise AggregateError(
                f"params.yaml, aggregate.report_week: недели {config.report_week} нет в данных; "
                f"есть недели {weeks[0]}…{weeks[-1]}"
            )
        return config.report_week
    last_local = con.execute("SELECT max(created_local) FROM contacts").fetchall()[0][0]
    last_day = pd.Timestamp(last_local).date()
    # the last complete week: its Sunday has contacts; otherwise the week before
    week = week_of(last_day)
    if last_day.weekday() != 6:
        week = week_of(last_day - timedelta(days=last_day.weekday() + 1))
    return week if week in weeks else weeks[-1]


# --- volumes corrected for the classifier's errors ------------------------------------------

CONFUSION_COLUMNS = ("actual", "predicted", "above_threshold")
ESTIMATE_COLUMNS = (
    "volume_estimated",
    "volume_estimated_low",
    "volume_estimated_high",
    "expected_precision",
    "expected_precision_support",
)


def read_confusion(path: Path) -> pd.DataFrame:
    """Train's out-of-fold predictions of the labelled examples (reports/plots/confusion.csv)."""
    frame = pd.read_csv(path, dtype={"actual": str, "predicted": str})
    missing = [c for c in CONFUSION_COLUMNS if c not in frame.columns]
    if missing:
        raise AggregateError(
            f"{path}: нет столбцов {missing} (есть {list(frame.columns)}); файл пишет стадия "
            "train — перезапустите `dvc repro train`"
        )
    if frame.empty:
        frame["above_threshold"] = frame["above_threshold"].astype(bool)
    if frame["above_threshold"].dtype != bool:
        raise AggregateError(
            f"{path}, столбец above_threshold: ожидаются True/False, найдено "
            f"{sorted(frame['above_threshold'].astype(str).unique())[:5]}"
        )
    return frame


def estimated_volumes(
    con: duckdb.DuckDBPyConnection,
    taxonomy: Taxonomy,
    confusion: pd.DataFrame,
    config: AggregateConfig,
) -> pd.DataFrame:
    """ISO week x reason: the raw count and the volume corrected for the classifier's errors.

    Raw count: contacts the classifier assigned to the reason (``weekly_assigned.sql``).
    The correction uses the out-of-fold confusion of the predictions above the threshold (the
    ones classify assigns), retired ids counted under their successors like the contacts.
    """
    classes = taxonomy.classes
    above = confusion[confusion["above_threshold"]]
    counts = quantify.confusion_counts(
        [taxonomy.successor(r) for r in above["actual"]],
        [taxonomy.successor(r) for r in above["predicted"]],
        classes,
    )
    weeks = [
        w for (w,) in con.execute("SELECT DISTINCT iso_week FROM weekly ORDER BY 1").fetchall()
    ]
    assigned = con.execute(sql.load("weekly_assigned")).df()
    observed = (
        assigned.pivot_table(
            index="iso_week", columns="reason_id", values="contacts", aggfunc="sum", fill_value=0
        )
        .reindex(index=weeks, columns=classes, fill_value=0)
        .to_numpy()
    )
    result = quantify.estimate_volumes(
        counts,
        observed,
        level=config.volume_interval,
        draws=config.volume_draws,
        seed=config.volume_seed,
    )
    precision, support = quantify.expected_precision(counts)
    frame = pd.DataFrame(
        {
            "iso_week": np.repeat(weeks, len(classes)),
            "reason_id": np.tile(classes, len(weeks)),
            "contacts": observed.ravel().astype(np.int64),
            "volume_estimated": result.estimate.ravel(),
            "volume_estimated_low": result.low.ravel(),
            "volume_estimated_high": result.high.ravel(),
            "expected_precision": np.tile(precision, len(weeks)),
            "expected_precision_support": np.tile(support, len(weeks)),
        }
    )
    totals = frame.groupby("iso_week")[["contacts", "volume_estimated"]].sum()
    if not np.allclose(totals["contacts"], totals["volume_estimated"]):
        raise AggregateError(
            "оценки объёмов по неделям не сходятся с числом контактов: "
            f"{totals[~np.isclose(totals['contacts'], totals['volume_estimated'])].head()}"
        )
    if assigned["contacts"].sum() != frame["contacts"].sum():
        raise AggregateError(
            "контакты с причинами вне таксономии: "
            f"{sorted(set(assigned['reason_id']) - set(classes))}"
        )
    return frame


# --- closed loop --------------------------------------------------------------------------------


def _target_status(row: pd.Series, report_end: date) -> dict:
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


def _note_columns(
    reason_notes: pd.DataFrame, series: pd.Series, report_week: str, config: AggregateConfig
) -> dict:
    """Latest note about a week up to the report week, and the volume change since its action."""
    empty = {
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
    notes = reason_notes[reason_notes["week"] <= report_week]
    if notes.empty:
        return empty
    note = notes.sort_values(["week", "action_start"]).iloc[-1]
    weeks = list(series.index)
    recent = weeks[-config.note_valid_weeks :] if len(weeks) >= config.note_valid_weeks else weeks
    out = {
        **empty,
        "note_week": note["week"],
        "note_author": note["author"],
        "note_explanation": note["explanation"],
        "note_action": note["action"],
        "note_action_start": note["action_start"],
        "note_due": note["due"],
        "note_is_recent": note["week"] >= recent[0],
    }
    action_week = week_of(note["action_start"])
    if action_week in weeks:
        i = weeks.index(action_week)
        before = series.iloc[max(0, i - config.recent_weeks) : i]
        after = series.iloc[i + 1 :]  # full weeks after the action started
        if len(before) and len(after):
            out["action_before"] = float(before.mean())
            out["action_after"] = float(after.mean())
            if out["action_before"] > 0:
                out["action_effect"] = out["action_after"] / out["action_before"] - 1
                out["fallen_since_action"] = bool(out["action_effect"] <= -config.action_min_drop)
    return out


def closed_loop(
    con: duckdb.DuckDBPyConnection,
    taxonomy: Taxonomy,
    notes: pd.DataFrame,
    sla_by_reason: pd.DataFrame,
    estimated: pd.DataFrame,
    report_week: str,
    config: AggregateConfig,
) -> pd.DataFrame:
    first_week = con.execute("SELECT min(iso_week) FROM weekly").fetchall()[0][0]
    span = (week_bounds(report_week)[0] - week_bounds(first_week)[0]).days // 7 + 1
    all_weeks = week_range(report_week, span)  # consecutive, gaps in the data count as 0
    counts = con.execute(
        "SELECT reason_id, iso_week AS week, sum(contacts)::BIGINT AS contacts FROM weekly "
        "WHERE reason_id IS NOT NULL AND iso_week <= $w GROUP BY ALL",
        {"w": report_week},
    ).df()
    active = [r.id for r in taxonomy.ordered if r.active]
    # every active reason appears, even with no contacts at all
    counts = (
        pd.concat(
            [counts, pd.DataFrame({"reason_id": active, "week": report_week, "contacts": 0})]
        )
        .groupby(["reason_id", "week"], as_index=False)["contacts"]
        .sum()
    )
    weeks = [w for w in week_range(report_week, config.trend_weeks) if w in all_weeks] or [
        report_week
    ]
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
    indicators = indicators[indicators["reason_id"].isin(active)]
    last4 = weeks[-config.recent_weeks :]
    per_week = con.execute(
        """
        SELECT reason_id, iso_week, sum(contacts) AS contacts, sum(cost) AS cost,
               sum(repeat_observed) AS repeat_observed, sum(repeats) AS repeats,
               sum(repeat_cost) AS repeat_cost, sum(answered_calls) AS answered_calls,
               sum(transfers) AS transfers, sum(calls_2plus_transfers) AS calls_2plus,
               sum(handle_minutes) AS handle_minutes, any_value(customers) AS customers
        FROM weekly WHERE reason_id IS NOT NULL GROUP BY ALL
        """
    ).df()
    totals = con.execute("SELECT iso_week, sum(contacts) AS total FROM weekly GROUP BY ALL").df()
    per_week = per_week.merge(totals, on="iso_week")
    now = per_week[per_week["iso_week"] == report_week].set_index("reason_id")
    recent = per_week[per_week["iso_week"].isin(last4)].groupby("reason_id").sum(numeric_only=True)
    # repeats: the latest recent_weeks weeks whose repeat windows are fully observed
    observed = per_week[(per_week["repeat_observed"] > 0) & (per_week["iso_week"] <= report_week)]
    repeat_weeks = sorted(observed["iso_week"].unique())[-config.recent_weeks :]
    rep = (
        observed[observed["iso_week"].isin(repeat_weeks)]
        .groupby("reason_id")
        .sum(numeric_only=True)
    )
    back = con.execute(
        """
        SELECT reason_id, repeat_reason_id, sum(repeats) AS n FROM repeats
        WHERE list_contains($weeks, iso_week) GROUP BY ALL
        ORDER BY reason_id, n DESC, repeat_reason_id
        """,
        {"weeks": repeat_weeks},
    ).df()
    reasons = reasons_frame(taxonomy).set_index("reason_id")
    notes_by_reason = {k: v for k, v in notes.groupby("reason_id")} if len(notes) else {}
    report_end = week_bounds(report_week)[1]
    week_total = float(totals.loc[totals["iso_week"] == report_week, "total"].sum())
    rows = []
    for ind in indicators.itertuples(index=False):
        rid = ind.reason_id
        meta = reasons.loc[rid]
        n = now.loc[rid] if rid in now.index else None
        r4 = recent.loc[rid] if rid in recent.index else None
        rp = rep.loc[rid] if rid in rep.index else None
        contacts = int(ind.contacts)
        customers = float(n["customers"]) if n is not None and pd.notna(n["customers"]) else np.nan
        row = {
            "report_week": report_week,
            "reason_id": rid,
            "title": meta["title"],
            "group": meta["group"],
            "owner_id": meta["owner_id"],
            "owner": meta["owner"],
            "quadrant": meta["quadrant"],
            "order": int(meta["order"]),
            "colour": meta["colour"],
            "reserved": bool(meta["reserved"]),
            "contacts": contacts,
            "share": contacts / week_total if week_total else np.nan,
            "cpx": 1000.0 * contacts / customers if customers else np.nan,
            "prev_week": ind.prev_week,
            "wow_change": ind.wow_change,
            "last4": ind.last4,
            "prev4": ind.prev4,
            "change_4w": ind.change_4w,
            "mean4": float(r4["contacts"]) / len(last4) if r4 is not None else 0.0,
            "cpx4": (
                1000.0 * float(r4["contacts"]) / float(r4["customers"])
                if r4 is not None and r4["customers"]
                else np.nan
            ),
            "share4": float(r4["contacts"]) / float(r4["total"]) if r4 is not None else 0.0,
            "trend_verdict": ind.trend_verdict,
            "trend_slope": ind.trend_slope,
            "trend_slope_pct": ind.trend_slope_pct,
            "trend_p": ind.trend_p,
            "expected": ind.expected,
            "spike_p_value": ind.spike_p_value,
            "is_spike": bool(ind.is_spike),
            "series": list(ind.series),
            "series_weeks": weeks[-len(ind.series) :],
            "handle_minutes": float(n["handle_minutes"]) if n is not None else 0.0,
            "cost": float(n["cost"]) if n is not None else 0.0,
            "repeat_weeks": ",".join(repeat_weeks),
            "repeat_base": int(rp["repeat_observed"]) if rp is not None else 0,
            "repeats": int(rp["repeats"]) if rp is not None else 0,
            "repeat_rate": (
                float(rp["repeats"]) / float(rp["repeat_observed"])
                if rp is not None and rp["repeat_observed"]
                else np.nan
            ),
            "repeat_cost_week": (
                float(rp["repeat_cost"]) / len(repeat_weeks)
                if rp is not None and repeat_weeks
                else 0.0
            ),
            "answered_calls": int(n["answered_calls"]) if n is not None else 0,
            "mean_transfers": (
                float(n["transfers"]) / float(n["answered_calls"])
                if n is not None and n["answered_calls"]
                else np.nan
            ),
            "share_2plus_transfers": (
                float(n["calls_2plus"]) / float(n["answered_calls"])
                if n is not None and n["answered_calls"]
                else np.nan
            ),
            "target_metric": meta["target_metric"],
            "target_value": meta["target_value"],
            "target_due": meta["target_due"],
        }
        top_back = back[back["reason_id"] == rid].head(3)
        row["repeat_back_reasons"] = "; ".join(
            f"{taxonomy.title(b) if b in taxonomy.by_id else b} ({int(c)})"
            for b, c in zip(top_back["repeat_reason_id"], top_back["n"], strict=True)
        )
        row["cost_with_repeats"] = row["cost"] + row["repeat_cost_week"]
        row["prize_year"] = (
            52.0 * (float(r4["cost"]) / len(last4) if r4 is not None else 0.0)
            + 52.0 * row["repeat_cost_week"]
        )
        row.update(_target_status(pd.Series(row), report_end))
        series = pd.Series(ind.series, index=weeks[-len(ind.series) :], dtype=float)
        row.update(
            _note_columns(
                notes_by_reason.get(rid, pd.DataFrame(columns=notes.columns)),
                series,
                report_week,
                config,
            )
        )
        rose = row["trend_verdict"] == "rising" or row["is_spike"]
        row["needs_explanation"] = bool(rose and not row["reserved"] and not row["note_is_recent"])
        row["flag"] = NO_EXPLANATION if row["needs_explanation"] else None
        rows.append(row)
    loop = pd.DataFrame(rows)
    loop = loop.merge(sla_by_reason, on="reason_id", how="left")
    # the reserved reason («Не определено») has no estimate
    week_estimates = estimated.loc[
        estimated["iso_week"] == report_week, ["reason_id", *ESTIMATE_COLUMNS]
    ]
    loop = loop.merge(week_estimates, on="reason_id", how="left")
    loop["target_status_ru"] = loop["target_status"].map(TARGET_STATUS)
    loop["trend_ru"] = loop["trend_verdict"].map(TREND_RU)
    return loop.sort_values("order", kind="stable").reset_index(drop=True)


# --- SLA ----------------------------------------------------------------------------------------


def sla_tables(
    con: duckdb.DuckDBPyConnection, report_week: str, rule: SlaRule
) -> tuple[pd.DataFrame, pd.DataFrame, pd.Timestamp]:
    """Per complaint SLA status as of the end of the report week, and per reason compliance."""
    requests = con.execute(
        """
        SELECT contact_id, iso_week, created_at AS received_at, resolved_at, status_updates,
               reason_id, owner_id, channel, local_hour
        FROM contacts WHERE kind = 'complaint' AND iso_week <= $w
        """,
        {"w": report_week},
    ).df()
    end = week_bounds(report_week)[1]
    as_of = pd.Timestamp(datetime.combine(end, time(23, 59, 59)), tz=rule.timezone).tz_convert(
        "UTC"
    )
    years = range(
        int(requests["received_at"].dt.year.min() if len(requests) else end.year), end.year + 2
    )
    calendar = BusinessCalendar.for_rule(rule, years)
    for column in ("received_at", "resolved_at"):
        requests[column] = pd.to_datetime(requests[column], utc=True)
    status = sla_status(requests, rule, as_of, calendar)
    status["after_cutoff"] = ~status["before_cutoff"] | ~status["received_business_day"]
    week = status[status["iso_week"] == report_week]
    by_reason = compliance(week, by=["reason_id"], rule=rule)
    backlog = compliance(status, by=["reason_id"], rule=rule)[
        [
            "reason_id",
            "n_open_past_deadline",
            "max_age_business_days",
            "n_no_status_update",
            "n_breached_limit",
        ]
    ].rename(columns=lambda c: c if c == "reason_id" else f"all_{c}")
    by_reason = by_reason.merge(backlog, on="reason_id", how="outer")
    by_reason = by_reason.rename(
        columns={
            "n_due": "sla_due",
            "n_met": "sla_met",
            "compliance": "sla_compliance",
            "meets_target": "sla_meets_target",
            "n_breached_limit": "sla_breached_limit",
            "n_open_past_deadline": "sla_open_past_deadline",
            "max_age_business_days": "sla_max_age_days",
            "n_no_status_update": "sla_no_update",
            "all_n_open_past_deadline": "sla_backlog_open_past_deadline",
            "all_max_age_business_days": "sla_backlog_max_age_days",
            "all_n_no_status_update": "sla_backlog_no_update",
            "all_n_breached_limit": "sla_backlog_breached_limit",
        }
    )
    return status, by_reason, as_of


# --- warehouse ------------------------------------------------------------------------------

TABLE_DOCS = {
    "contacts": "Каждый принятый контакт с причиной, уверенностью, владельцем, стоимостью и "
    "признаком повтора; текст с замаскированными персональными данными.",
    "weekly": "Недельные факты: ISO-неделя × причина × канал (причина NULL у контактов без "
    "текста): объём, доля, CPX, стоимость, повторы, переводы.",
    "closed_loop": "Замкнутый цикл за отчётную неделю: строка на причину — владелец, тренд, "
    "всплеск, цель и её статус, заметка владельца, SLA, повторы, переводы, "
    "стоимость, объём с поправкой на ошибки модели и ожидаемая точность.",
    "weekly_estimated": "ISO-неделя × причина: сырой счёт (контакты, которым модель присвоила "
    "причину) и оценка настоящего числа контактов причины с поправкой на ошибки модели, "
    "с интервалом; «Не определено» и контакты без текста не входят.",
    "closed_loop_history": "Замкнутый цикл за отчётную и предыдущие недели (архив отчётов): "
    "те же колонки, что closed_loop, по report_week.",
    "quarantine": "Строки выгрузок, которые не удалось принять: файл, строка, исходный текст, "
    "причина.",
    "sla": "Обращения с дедлайном SLA, 3-дневным пределом и статусом на конец отчётной недели.",
    "repeats": "С какой причиной клиент вернулся в окне повтора: исходная причина → причина "
    "следующего контакта.",
    "transfer_pairs": "Переводы звонков между очередями: пары «откуда → куда» по неделе и "
    "причине.",
    "queue_transfers": "По очереди (отделу): доля звонков с ≥ 2 переводами, среднее число "
    "переводов, доля звонков, вернувшихся в очередь после перевода "
    "(пинг-понг).",
    "drivers": "Число клиентов по неделям — знаменатель CPX (контактов на 1 000 клиентов).",
    "drops": "Звонки без ответа (сброшенные и брошенные) по очереди и часу суток.",
    "reasons": "Таксономия причин из taxonomy/reasons.yaml: название, владелец, квадрант, цель.",
    "owner_notes": "Заметки владельцев причин: объяснение роста, действие, даты.",
    "run_info": "Параметры прогона: отчётная неделя, момент расчёта SLA, версии модели и "
    "таксономии.",
}
COLUMN_DOCS = {
    ("contacts", "reason_id"): "причина; 'unknown' — не определено, NULL — контакт без текста",
    ("contacts", "class_status"): "classified | below_threshold (не определено) | no_text",
    ("contacts", "repeated"): "тот же клиент обратился снова в окне повтора (дней)",
    ("contacts", "repeat_observed"): "окно повтора целиком внутри данных",
    ("contacts", "text"): "текст обращения с замаскированными телефонами, e-mail, картами",
    ("weekly", "cpx"): "контактов на 1 000 клиентов за неделю",
    ("closed_loop", "target_status"): "met | on_track | off_track | no_target",
    ("closed_loop", "flag"): "«нет объяснения владельца», если причина выросла без заметки",
    ("sla", "met_deadline"): "решено к дедлайну; NULL — дедлайн ещё не наступил",
    **{
        (table, column): doc
        for table in ("weekly_estimated", "closed_loop")
        for column, doc in {
            "volume_estimated": "контактов недели, на самом деле относящихся к причине: "
            "скорректированный «классифицируй и считай» по out-of-fold матрице ошибок модели "
            "(pipeline/quantify.py); по неделе сумма равна сумме сырых счётов",
            "volume_estimated_low": "нижняя граница интервала оценки (уровень — "
            "run_info.volume_interval; перцентильный бутстреп)",
            "volume_estimated_high": "верхняя граница интервала оценки",
            "expected_precision": "доля верных среди out-of-fold предсказаний этой причины, "
            "которые модель присвоила бы (на размеченных примерах); NULL — модель её "
            "не предсказывала",
            "expected_precision_support": "число таких предсказаний — знаменатель точности",
        }.items()
    },
    ("weekly_estimated", "iso_week"): "ISO-неделя контакта по местному времени, например 2026-W47",
    ("weekly_estimated", "reason_id"): "причина таксономии (контакты выведенной из употребления "
    "причины — под её преемником)",
    ("weekly_estimated", "contacts"): "сырой счёт: контакты недели, которым модель присвоила "
    "причину (не «Не определено»)",
    ("run_info", "volume_interval"): "уровень интервала оценки объёма (0,9 = 90 %)",
}


def _literal(text: str) -> str:
    """A SQL string literal (COMMENT ON takes no bound parameters); only our own constants."""
    return "'" + text.replace("'", "''") + "'"


def write_warehouse(
    con: duckdb.DuckDBPyConnection,
    masked_text: pd.DataFrame,
    loop: pd.DataFrame,
    sla: pd.DataFrame,
    notes: pd.DataFrame,
    run_info: dict,
    history: pd.DataFrame,
    estimated: pd.DataFrame,
) -> None:
    con.register("masked_df", masked_text)
    con.execute("""
        CREATE OR REPLACE TABLE contacts AS
        SELECT c.*, m.text FROM contacts AS c LEFT JOIN masked_df AS m USING (contact_id)
        ORDER BY c.created_at, c.contact_id
    """)
    for name, frame in (
        ("closed_loop", loop),
        ("closed_loop_history", history),
        ("weekly_estimated", estimated),
        ("sla", sla),
        ("owner_notes", notes),
        ("run_info", pd.DataFrame([run_info])),
    ):
        con.register(f"{name}_df", frame)
        con.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM {name}_df")
        con.unregister(f"{name}_df")
    for table, doc in TABLE_DOCS.items():
        con.execute(f"COMMENT ON TABLE {table} IS {_literal(doc)}")
    for (table, column), doc in COLUMN_DOCS.items():
        con.execute(f"COMMENT ON COLUMN {table}.{column} IS {_literal(doc)}")
    for temp in ("reasons_df", "handle_df", "masked_df"):
        con.unregister(temp)
    con.execute("DROP TABLE IF EXISTS handle_defaults")


def main(
    paths: dict[str, Path], taxonomy_path: Path, notes_path: Path, config: AggregateConfig
) -> pd.DataFrame:
    taxonomy = load_taxonomy(taxonomy_path)
    notes = load_owner_notes(notes_path, taxonomy)
    warehouse: Path = paths["warehouse"]
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    tmp = warehouse.with_suffix(".tmp.duckdb")
    tmp.unlink(missing_ok=True)
    con = duckdb.connect(str(tmp))
    try:
        con.execute("SET threads TO 2")
        build_tables(con, paths, taxonomy, config)
        report_week = choose_report_week(con, config)
        sla, sla_by_reason, as_of = sla_tables(con, report_week, config.sla)
        estimated = estimated_volumes(con, taxonomy, read_confusion(paths["confusion"]), config)
        loop = closed_loop(con, taxonomy, notes, sla_by_reason, estimated, report_week, config)
        history = [loop]
        data_weeks = {w for (w,) in con.execute("SELECT DISTINCT iso_week FROM weekly").fetchall()}
        for week in week_range(report_week, config.archive_weeks + 1)[:-1][::-1]:
            if week in data_weeks:
                _, by_reason, _ = sla_tables(con, week, config.sla)
                history.append(
                    closed_loop(con, taxonomy, notes, by_reason, estimated, week, config)
                )
        loop_history = pd.concat(history, ignore_index=True)
        weekly = con.execute("SELECT * FROM weekly").df()
        text = pd.read_parquet(paths["contacts"], columns=["contact_id", "text"])
        text["text"] = text["text"].map(mask_personal_data, na_action="ignore")
        versions = con.execute(
            "SELECT any_value(model_version), any_value(taxonomy_version) FROM contacts"
        ).fetchall()[0]
        run_info = {
            "report_week": report_week,
            "sla_as_of": as_of.isoformat(),
            "model_version": versions[0],
            "taxonomy_version": versions[1],
            "repeat_window_days": config.repeat_window_days,
            "volume_interval": config.volume_interval,
            "volume_draws": config.volume_draws,
            "params": json.dumps(config.model_dump(mode="json"), ensure_ascii=False),
        }
        write_warehouse(con, text, loop, sla, notes, run_info, loop_history, estimated)
    finally:
        con.close()
    tmp.replace(warehouse)
    for key, frame in (
        ("weekly", weekly),
        ("closed_loop", loop),
        ("closed_loop_history", loop_history),
    ):
        paths[key].parent.mkdir(parents=True, exist_ok=True)
        frame.to_parquet(paths[key], index=False)
    flagged = loop.loc[loop["needs_explanation"], "reason_id"].tolist()
    logger.info(
        "aggregate: report week %s, %d reasons, spikes %s, %s: %s",
        report_week,
        len(loop),
        loop.loc[loop["is_spike"], "reason_id"].tolist(),
        NO_EXPLANATION,
        flagged,
    )
    return loop


def cli(args: argparse.Namespace) -> None:
    config = load_section(args.params, "aggregate", AggregateConfig)
    names = (
        "contacts",
        "classified",
        "drivers",
        "quarantine",
        "confusion",
        "weekly",
        "closed_loop",
        "closed_loop_history",
        "warehouse",
    )
    main({name: getattr(args, name) for name in names}, args.taxonomy, args.notes, config)
