"""What customers who contacted about a reason came back with (repeat chains), and the queue
paths of its calls (transfers)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import duckdb
import pandas as pd

from pipeline.investigate.warehouse import (
    check_reason,
    read_query,
    reason_titles,
    repeat_window_days,
    resolve_week,
    weeks_before,
)

NO_TEXT = "(без текста)"
NO_REPEAT = "(не вернулся)"


@dataclass(frozen=True)
class RepeatChains:
    chains: pd.DataFrame  # chain, reasons, length, customers, share
    customers: int  # customers who contacted about the reason in the week
    came_back: int  # of them, came back within the window
    window_days: int
    window_observed_share: float  # starts whose whole chain window lies inside the data


def build_chains(
    contacts: pd.DataFrame,
    reason_id: str,
    week: str,
    window_days: int,
    max_length: int = 4,
) -> pd.DataFrame:
    """Per customer: the reason chain from their first ``reason_id`` contact in ``week``,
    following each next contact that comes within ``window_days`` of the previous one.

    ``contacts`` has ``customer_id, contact_id, created_at, iso_week, reason_id``; the result has
    ``customer_id, start_contact_id, reasons`` (a tuple of reason ids, NULL as ``NO_TEXT``).
    """
    window = timedelta(days=window_days)
    rows = []
    ordered = contacts.sort_values(["customer_id", "created_at", "contact_id"], kind="stable")
    for customer, group in ordered.groupby("customer_id", sort=True):
        group = group.reset_index(drop=True)
        starts = group.index[(group["reason_id"] == reason_id) & (group["iso_week"] == week)]
        if len(starts) == 0:
            continue
        position = int(starts[0])
        chain = [reason_id]
        previous = group.loc[position, "created_at"]
        for next_position in range(position + 1, len(group)):
            if len(chain) >= max_length:
                break
            current = group.loc[next_position, "created_at"]
            if current - previous > window:
                break
            reason = group.loc[next_position, "reason_id"]
            chain.append(reason if isinstance(reason, str) else NO_TEXT)
            previous = current
        rows.append(
            {
                "customer_id": customer,
                "start_contact_id": group.loc[position, "contact_id"],
                "reasons": tuple(chain),
            }
        )
    return pd.DataFrame(rows, columns=["customer_id", "start_contact_id", "reasons"])


def repeat_chains(
    con: duckdb.DuckDBPyConnection,
    reason_id: str,
    week: str | None = None,
    max_length: int = 4,
) -> RepeatChains:
    """What customers who contacted about the reason in ``week`` came back with, and again."""
    check_reason(con, reason_id)
    week = resolve_week(con, week)
    window = repeat_window_days(con)
    contacts = read_query(con, "customer_contacts", reason_id=reason_id, week=week)
    per_customer = build_chains(contacts, reason_id, week, window, max_length)
    titles = {**reason_titles(con), NO_TEXT: NO_TEXT}
    observed = contacts.set_index("contact_id")["repeat_observed"]
    starts = per_customer["start_contact_id"]
    observed_share = (
        float(observed.reindex(starts).fillna(False).astype(bool).mean())
        if len(starts)
        else float("nan")
    )
    table = per_customer.groupby("reasons").size().rename("customers").reset_index()
    table["length"] = table["reasons"].map(len)
    table["chain"] = [
        " → ".join(titles.get(r, r) for r in reasons)
        + (f" → {NO_REPEAT}" if len(reasons) == 1 else "")
        for reasons in table["reasons"]
    ]
    table["share"] = table["customers"] / max(len(per_customer), 1)
    table = table.sort_values(["customers", "chain"], ascending=[False, True], kind="stable")
    return RepeatChains(
        chains=table[["chain", "reasons", "length", "customers", "share"]].reset_index(drop=True),
        customers=len(per_customer),
        came_back=int((per_customer["reasons"].map(len) > 1).sum()),
        window_days=window,
        window_observed_share=observed_share,
    )


def transfer_paths(
    con: duckdb.DuckDBPyConnection,
    reason_id: str,
    week: str | None = None,
    baseline_weeks: int = 4,
) -> pd.DataFrame:
    """Queue paths of the reason's answered calls in ``week`` vs the weekly mean of the weeks
    before: ``path, transfers, calls, share, baseline_mean, baseline_share``."""
    check_reason(con, reason_id)
    week = resolve_week(con, week)
    baseline = weeks_before(con, week, baseline_weeks)
    calls = read_query(con, "call_routes", reason_id=reason_id, weeks=[*baseline, week])
    this = calls[calls["iso_week"] == week].groupby(["path", "transfers"]).size()
    base = calls[calls["iso_week"] != week].groupby(["path", "transfers"]).size()
    out = pd.DataFrame({"calls": this, "baseline_mean": base / max(len(baseline), 1)})
    out = out.fillna(0).reset_index()
    out["calls"] = out["calls"].astype(int)
    out["share"] = out["calls"] / max(out["calls"].sum(), 1)
    out["baseline_share"] = out["baseline_mean"] / max(out["baseline_mean"].sum(), 1e-9)
    out = out.sort_values(
        ["calls", "baseline_mean", "path"], ascending=[False, False, True], kind="stable"
    )
    return out[
        ["path", "transfers", "calls", "share", "baseline_mean", "baseline_share"]
    ].reset_index(drop=True)
