"""Per department and per reason hand-off figures, worked by hand on a week of five contacts
(README, "Hand-off fates"): received, settled, lost and late shares, median pick-up time,
clients who came back while a hand-off was lost, hand-offs per 100 contacts."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import pytest
from test_aggregate import handoff_events

from pipeline.closedloop.config import AggregateConfig
from pipeline.closedloop.handoff_tables import handoff_tables
from pipeline.taxonomy.schema import load_taxonomy

ROOT = Path(__file__).resolve().parents[1]
TZ = "Europe/Moscow"


def utc(text: str | None):
    return pd.NaT if text is None else pd.Timestamp(text, tz=TZ).tz_convert("UTC")


CONTACTS = [
    # contact, reason, customer, created (local)
    ("complaint:RQ-1", "card_reissue", "C1", "2026-11-23 09:00"),
    ("complaint:RQ-2", "callback_missed", "C1", "2026-11-27 10:00"),  # came back
    ("complaint:RQ-3", "fee_dispute", "C2", "2026-11-24 09:30"),
    ("call:4", "fee_dispute", "C3", "2026-11-24 09:40"),
]
EVENTS = [
    # promised Mon 15:00, never called: lost at the end of Thu 26 Nov
    ("E1", "complaint:RQ-1", "2026-11-23 10:00", "callback_promised", "Контакт-центр",
     "Операционный центр", "2026-11-23 15:00"),
    # picked up after 2 h: on time
    ("E2", "complaint:RQ-3", "2026-11-24 10:00", "transferred", "Контакт-центр",
     "Операционный центр", None),
    ("E3", "complaint:RQ-3", "2026-11-24 12:00", "status_update", "Операционный центр", None,
     None),
    # promised by the card department itself (no receiver): called an hour late
    ("E4", "complaint:RQ-3", "2026-11-24 12:00", "callback_promised", "Карточный бизнес", None,
     "2026-11-25 10:00"),
    ("E5", "complaint:RQ-3", "2026-11-25 11:00", "callback_done", "Карточный бизнес", None, None),
]  # fmt: skip


@pytest.fixture
def tables(tmp_path):
    con = duckdb.connect()
    contacts = pd.DataFrame(CONTACTS, columns=["contact_id", "reason_id", "customer_id", "local"])
    contacts["created_at"] = contacts.pop("local").map(utc)
    contacts["iso_week"] = "2026-W48"
    con.register("contacts_df", contacts)
    con.execute("CREATE TABLE contacts AS SELECT * FROM contacts_df")
    path = tmp_path / "handoffs.parquet"
    handoff_events(EVENTS).to_parquet(path, index=False)
    taxonomy = load_taxonomy(ROOT / "taxonomy" / "reasons.yaml")
    result = handoff_tables(con, path, "2026-W48", AggregateConfig(), taxonomy)
    yield result, con
    con.close()


def test_department_figures_of_the_report_week(tables):
    result, _ = tables
    rows = result.departments.set_index("department")
    centre = rows.loc["Операционный центр"]
    assert (centre["received"], centre["settled"], centre["on_time"], centre["lost"]) == (
        2,
        2,
        1,
        1,
    )
    assert (centre["lost_share"], centre["late_share"]) == (0.5, 0.0)
    assert centre["median_pickup_hours"] == pytest.approx(2.0)
    assert centre["lost_came_back"] == 1  # RQ-2: the client came back on Friday
    assert (centre["owner_id"], centre["target_status"]) == ("operations", "off_track")
    # its one promise was the lost one; nothing settled in the 4 weeks before the recent 4
    assert (centre["promises_settled"], centre["promises_lost"]) == (1, 1)
    assert (centre["lost_share_recent"], centre["promise_lost_share_recent"]) == (0.5, 1.0)
    assert pd.isna(centre["lost_share_before"])
    cards = rows.loc["Карточный бизнес"]
    assert (cards["received"], cards["late"], cards["late_share"]) == (1, 1, 1.0)
    assert cards["median_pickup_hours"] == pytest.approx(23.0)  # Tue 12:00 -> Wed 11:00
    assert cards["owner_id"] == "cards"
    assert (cards["promises_settled"], cards["promises_lost"]) == (1, 0)


def test_reason_figures_over_the_recent_weeks(tables):
    result, _ = tables
    rows = result.reasons.set_index("reason_id")
    assert set(rows.index) == {"card_reissue", "fee_dispute"}
    reissue = rows.loc["card_reissue"]
    assert (reissue["contacts"], reissue["handoffs"], reissue["lost"]) == (1, 1, 1)
    assert reissue["lost_came_back"] == 1
    # 1 hand-off per contact against (3 - 1) / (4 - 1) for the other contacts
    assert reissue["rate_vs_others"] == pytest.approx(1.5)
    fees = rows.loc["fee_dispute"]
    assert (fees["handed_contacts"], fees["handoffs"], fees["handoffs_per_100"]) == (1, 2, 100.0)
    assert fees["lost_share"] == 0.0


def test_the_warehouse_holds_every_hand_off_with_its_contact(tables):
    _, con = tables
    rows = con.execute(
        "SELECT handoff_id, reason_id, fate, came_back FROM handoffs ORDER BY handoff_id"
    ).fetchall()
    assert rows == [
        ("E1", "card_reissue", "lost", 1),
        ("E2", "fee_dispute", "on_time", 0),
        ("E4", "fee_dispute", "late", 0),
    ]
    weeks = con.execute(
        "SELECT iso_week, lost FROM handoff_department_weeks "
        "WHERE department = 'Операционный центр'"
    ).fetchall()
    assert weeks == [("2026-W48", 1)]
