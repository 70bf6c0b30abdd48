"""The demo's planted hand-off stories, found by `dvc repro` end to end (#18): «Операционный
центр» loses about 15 % of its promised call-backs, worse in the last weeks; contacts about
card reissue are handed over about twice as often as others; the planted bad events are
quarantined and the counts reconcile."""

from __future__ import annotations

import json
import re

import duckdb
import pandas as pd
import pytest

pytestmark = pytest.mark.slow

LOSING = "Операционный центр"


@pytest.fixture(scope="module")
def warehouse(demo_workspace):
    con = duckdb.connect(str(demo_workspace / "data" / "warehouse.duckdb"), read_only=True)
    yield con
    con.close()


def test_the_bad_events_and_only_those_are_quarantined(demo_workspace):
    metrics = json.loads((demo_workspace / "reports/metrics/ingest.json").read_text("utf-8"))
    block = metrics["handoffs"]
    assert block["reconciles"] and block["files"] == 13
    assert block["rows_read"] == block["accepted"] + block["quarantined"] + block["duplicates"]
    planted = pd.read_csv(demo_workspace / "data/demo/malformed_rows.csv")
    planted = planted[planted["file"].str.startswith("handoffs/")]
    quarantine = pd.read_parquet(demo_workspace / "data/interim/quarantine.parquet")
    found = quarantine[quarantine["kind"] == "handoff"]
    columns = ["source_file", "source_row", "reason_code"]
    expected = planted.rename(columns={"file": "source_file", "line": "source_row"})[columns]
    assert sorted(found[columns].itertuples(index=False)) == sorted(
        expected.itertuples(index=False)
    )
    assert block["quarantined"] == len(planted) > 0


def test_one_department_loses_about_15_percent_of_promised_call_backs(warehouse):
    promises = warehouse.execute(
        """SELECT department, settled_week, fate = 'lost' AS lost FROM handoffs
           WHERE handoff_type = 'promise' AND fate <> 'open'"""
    ).df()
    shares = promises.groupby("department")["lost"].mean().sort_values(ascending=False)
    assert shares.index[0] == LOSING
    assert 0.10 <= shares[LOSING] <= 0.20, shares.head()
    assert shares.iloc[1] < shares[LOSING] / 2  # the others keep their promises
    losing = promises[promises["department"] == LOSING]
    weeks = sorted(losing["settled_week"].unique())
    last = losing[losing["settled_week"].isin(weeks[-3:])]["lost"].mean()
    before = losing[~losing["settled_week"].isin(weeks[-3:])]["lost"].mean()
    assert last > 1.5 * before, (last, before)


def test_the_report_surfaces_both_planted_stories(demo_workspace, warehouse):
    row = (
        warehouse.execute("SELECT * FROM handoff_departments WHERE department = ?", [LOSING])
        .df()
        .iloc[0]
    )
    assert row["lost_share_recent"] > row["lost_share_before"]
    assert row["target_status"] == "off_track" and row["owner_id"] == "operations"
    reasons = warehouse.execute(
        "SELECT reason_id, rate_vs_others FROM handoff_reasons ORDER BY rate_vs_others DESC"
    ).fetchall()
    assert reasons[0][0] == "card_reissue" and reasons[0][1] >= 1.7, reasons[:3]
    html = (demo_workspace / "reports/handoffs/index.html").read_text(encoding="utf-8")
    text = re.sub(
        r"\s+", " ", re.sub(r"<[^>]+>", " ", re.sub(r"<script.*?</script>", "", html, flags=re.S))
    )
    departments = text.split("По отделам-получателям", 1)[1]
    assert departments.split("Статус (4 недели)", 1)[1].strip().startswith(LOSING)  # worst first
    assert "хуже" in departments.split(LOSING, 2)[2][:400]  # recent weeks worse than before
    by_reason = text.split("Какие причины контактов", 1)[1]
    assert "Чаще всего передают контакты причины «Потерял карту, нужно перевыпустить»" in by_reason
    # contacts, handed over, hand-offs per 100, times as often as the others
    times = re.search(
        r"Потерял карту, нужно перевыпустить [\d ]+ [\d ]+ [\d,]+ (\d+,\d)", by_reason
    )
    assert times and float(times.group(1).replace(",", ".")) >= 1.7
    index = (demo_workspace / "reports/index.html").read_text(encoding="utf-8")
    assert 'href="handoffs/index.html"' in index and "Поте&shy;ряно пере&shy;дач" in index
    assert "События передач (handoffs/)" in index  # the export in the data quality table
    owner = (demo_workspace / "reports/owners/operations.html").read_text(encoding="utf-8")
    assert "Отделы теряют передачи" in owner
