"""Closed-loop metrics: repeats, transfers, drops, targets, owner notes, and the demo's stories."""

from __future__ import annotations

import shutil
from datetime import date, timedelta

import duckdb
import numpy as np
import pandas as pd
import pytest
from conftest import ROOT

from pipeline import aggregate
from pipeline.closedloop import loop as closed_loop
from pipeline.closedloop.config import AggregateConfig, AggregateError
from pipeline.errors import PipelineError
from pipeline.io.partitions import read_dataset, write_dataset
from pipeline.tools.synth.stories import REPEAT_PRONE

MSK = "Europe/Moscow"


def contact(
    cid: str,
    when: str,
    *,
    kind: str = "call",
    customer: str | None = "C1",
    reason: str | None = "card_blocked",
    outcome: str | None = "answered",
    route: str | None = None,
    queue: str = "Общая линия",
    channel: str | None = None,
    resolved: str | None = None,
    updates: int = 0,
    handle_s: float = 300.0,
) -> dict:
    local = pd.Timestamp(when)
    created = local.tz_localize(MSK).tz_convert("UTC")
    year, week, _ = local.date().isocalendar()
    transfers = route.count(" > ") if route else 0
    return {
        "contact_id": f"{kind}:{cid}",
        "source_id": cid,
        "kind": kind,
        "channel": channel or ("phone" if kind == "call" else "email"),
        "created_at": created,
        "created_local": local,
        "iso_week": f"{year}-W{week:02d}",
        "week_start": local.date() - timedelta(days=local.weekday()),
        "local_hour": local.hour,
        "ended_at": created + pd.Timedelta(seconds=handle_s) if kind == "call" else pd.NaT,
        "handle_time_s": handle_s if kind == "call" else np.nan,
        "wait_time_s": 30.0,
        "queue": queue,
        "outcome": outcome if kind == "call" else None,
        "transfers": transfers if kind == "call" else None,
        "route": route if kind == "call" else None,
        "customer_id": customer,
        "text": None if reason is None else "Карту заблокировали, звоните +7 916 123-45-67",
        "resolved_at": (
            pd.Timestamp(resolved).tz_localize(MSK).tz_convert("UTC") if resolved else pd.NaT
        ),
        "resolved_local": pd.Timestamp(resolved) if resolved else pd.NaT,
        "status": ("resolved" if resolved else "open") if kind == "complaint" else None,
        "status_updates": updates if kind == "complaint" else None,
        "resolved_date_only": False,
        "status_conflict": None,
        "source_file": "test.csv",
        "source_row": 1,
        "_reason": reason,
    }


def run_aggregate(paths: dict, config: AggregateConfig | None = None) -> pd.DataFrame:
    """The aggregate stage on ``write_inputs`` paths with the repository's taxonomy and notes."""
    return aggregate.main(
        paths,
        ROOT / "taxonomy/reasons.yaml",
        ROOT / "taxonomy/owner_notes.yaml",
        config or AggregateConfig(),
    )


def report_week_of(paths: dict) -> str:
    con = duckdb.connect(str(paths["warehouse"]), read_only=True)
    try:
        return con.execute("SELECT report_week FROM run_info").fetchall()[0][0]
    finally:
        con.close()


# train's out-of-fold predictions (reports/plots/confusion.csv): here without errors
PERFECT_CONFUSION = pd.DataFrame(
    {
        "actual": ["card_blocked", "callback_missed"],
        "predicted": ["card_blocked", "callback_missed"],
        "above_threshold": [True, True],
    }
)


def handoff_events(rows: list[tuple] = ()) -> pd.DataFrame:
    """Hand-off events as ingest writes them (none: the run had no hand-off export); a row is
    (event id, contact id, local time, type, from, to, promised local time or None)."""
    columns = ["event_id", "contact_id", "event_at", "event_type", "from_department"]
    frame = pd.DataFrame(list(rows), columns=[*columns, "to_department", "promised_at"])
    for column in ("event_at", "promised_at"):
        local = pd.to_datetime(frame[column])
        frame[column] = (
            local.dt.tz_localize(MSK).dt.tz_convert("UTC").astype("datetime64[us, UTC]")
        )
    for column in ("event_id", "contact_id", "event_type", "from_department", "to_department"):
        frame[column] = frame[column].astype("string")
    frame["source_file"] = pd.Series(["handoffs/crm_events.csv"] * len(frame), dtype="string")
    frame["source_row"] = pd.Series(range(2, len(frame) + 2), dtype="int64")
    return frame


def write_inputs(
    folder,
    rows: list[dict],
    confusion: pd.DataFrame = PERFECT_CONFUSION,
    events: list[tuple] = (),
) -> dict:
    """Stage inputs from contact rows; reason "unknown" is a contact below the threshold;
    ``events``: the hand-off export's rows (``handoff_events``)."""
    frame = pd.DataFrame(rows)
    classified = pd.DataFrame(
        {
            "contact_id": frame["contact_id"],
            "reason_id": frame["_reason"].astype("string"),
            "status": np.where(
                frame["_reason"].isna(),
                "no_text",
                np.where(frame["_reason"] == "unknown", "below_threshold", "classified"),
            ),
            "confidence": np.where(frame["_reason"].isna(), np.nan, 0.9),
            "top_reason_id": frame["_reason"],
            "runner_up_id": None,
            "runner_up_confidence": np.nan,
            "model_version": "m1",
            "taxonomy_version": "t1",
        }
    )
    contacts = frame.drop(columns="_reason")
    contacts["status_conflict"] = contacts["status_conflict"].astype("string")
    for column in ("transfers", "status_updates"):
        contacts[column] = contacts[column].astype("Int64")
    weeks = sorted(contacts["iso_week"].unique())
    drivers = pd.DataFrame({"iso_week": weeks, "week_start": None, "customers": 100_000})
    quarantine = pd.DataFrame(
        {
            "source_file": ["x.csv"],
            "source_row": [3],
            "kind": ["call"],
            "raw": ["битая строка"],
            "reason_code": ["bad_date"],
            "reason": ["не удалось разобрать дату"],
        }
    )
    paths = {
        name: folder / f"{name}.parquet"
        for name in (
            "drivers",
            "quarantine",
            "handoffs",
            "weekly",
            "closed_loop",
            "closed_loop_history",
        )
    }
    paths["warehouse"] = folder / "warehouse.duckdb"
    paths["confusion"] = folder / "confusion.csv"
    confusion.to_csv(paths["confusion"], index=False)
    # contacts and their reasons are stored by ISO week, as ingest and classify write them
    paths["contacts"], paths["classified"] = folder / "contacts", folder / "classified"
    write_dataset(paths["contacts"], contacts, contacts["iso_week"])
    write_dataset(paths["classified"], classified, contacts["iso_week"])
    drivers.to_parquet(paths["drivers"])
    quarantine.to_parquet(paths["quarantine"])
    handoff_events(events).to_parquet(paths["handoffs"], index=False)
    return paths


def aggregate_and_render(work, paths: dict, config: AggregateConfig, rows_read: int):
    """The demo taxonomy's aggregate over ``paths`` (from ``write_inputs``), then the report
    into ``work / "site"`` with stub ingest and model metrics; returns ``work``."""
    import json

    from pipeline import report

    aggregate.main(
        paths, ROOT / "taxonomy/reasons.yaml", ROOT / "taxonomy/owner_notes.yaml", config
    )
    ingest = {"rows_read": rows_read, "accepted": rows_read, "quarantined": 0, "duplicates": 0}
    (work / "ingest.json").write_text(json.dumps({**ingest, "reconciles": True}))
    model = {"macro_f1": 0.9, "accuracy": 0.9, "coverage": 0.9, "baselines": {}, "examples": 200}
    (work / "model.json").write_text(json.dumps(model))
    report.main(
        paths["warehouse"],
        paths["closed_loop_history"],
        paths["weekly"],
        None,
        work / "ingest.json",
        work / "model.json",
        ROOT / "taxonomy/reasons.yaml",
        work / "site",
        work / "closed_loop.xlsx",
        report.ReportConfig(),
    )
    return work


@pytest.fixture
def small_run(tmp_path):
    rows = [
        # C1 calls about a blocked card, comes back 4 days later: a repeat
        contact("1", "2026-11-02 10:00", customer="C1"),
        contact("2", "2026-11-06 12:00", customer="C1", reason="callback_missed"),
        # C2 comes back after 8 days: not a repeat within 7 days
        contact("3", "2026-11-03 10:00", customer="C2"),
        contact("4", "2026-11-11 10:00", customer="C2"),
        # no customer id: never a repeat
        contact("5", "2026-11-03 11:00", customer=None),
        contact("6", "2026-11-03 11:30", customer=None),
        # bounced: Кредиты -> Карты -> Кредиты
        contact(
            "7",
            "2026-11-17 09:00",
            customer="C3",
            reason="loan_payment",
            route="Общая линия > Кредиты > Карты > Кредиты",
            queue="Кредиты",
        ),
        # lunch-hour drop, no text
        contact(
            "8",
            "2026-11-10 13:10",
            customer="C4",
            reason=None,
            outcome="dropped",
            queue="Отделение №7 (Ленинский)",
        ),
        # complaints: Friday 13:59 resolved 17:00 (met), Friday 14:00 resolved Monday 12:00 (late)
        contact(
            "9",
            "2026-11-13 13:59",
            kind="complaint",
            customer="C5",
            reason="fee_dispute",
            resolved="2026-11-13 17:00",
        ),
        contact(
            "10",
            "2026-11-13 14:00",
            kind="complaint",
            customer="C6",
            reason="fee_dispute",
            resolved="2026-11-16 12:00",
        ),
        # the last week: Monday to Sunday
        contact("11", "2026-11-16 10:00", customer="C7"),
        contact("12", "2026-11-22 18:00", customer="C8"),
    ]
    paths = write_inputs(tmp_path, rows)
    config = AggregateConfig(cost_per_minute=10.0)
    loop = run_aggregate(paths, config)
    con = duckdb.connect(str(paths["warehouse"]), read_only=True)
    yield paths, loop, con
    con.close()


def test_repeat_is_the_same_customer_within_the_window(small_run):
    _, _, con = small_run
    rows = dict(con.execute("SELECT source_id, repeated FROM contacts").fetchall())
    assert rows["1"] is True  # C1 back after 4 days
    assert rows["3"] is False  # C2 back after 8 days
    assert rows["5"] is False and rows["6"] is False  # no customer id
    assert rows["12"] is False  # C8's last contact: no repeat (false, not NULL)
    back = con.execute("SELECT repeat_reason_id FROM contacts WHERE source_id = '1'").fetchall()
    assert back == [("callback_missed",)]
    # contacts from the last 7 days of data cannot know yet whether the customer comes back
    observed = dict(con.execute("SELECT source_id, repeat_observed FROM contacts").fetchall())
    assert observed["1"] is True and observed["11"] is False


def test_transfer_pairs_and_ping_pong(small_run):
    _, loop, con = small_run
    pairs = con.execute(
        "SELECT from_queue, to_queue, transfers FROM transfer_pairs ORDER BY ALL"
    ).fetchall()
    assert sorted(pairs) == sorted(
        [("Общая линия", "Кредиты", 1), ("Кредиты", "Карты", 1), ("Карты", "Кредиты", 1)]
    )
    bounced = dict(con.execute("SELECT queue, share_bounced_back FROM queue_transfers").fetchall())
    assert bounced["Кредиты"] == 1.0 and bounced["Карты"] == 0.0
    row = loop.set_index("reason_id").loc["loan_payment"]
    assert row["mean_transfers"] == 3.0 and row["share_2plus_transfers"] == 1.0


def test_queue_transfer_shares_count_every_answered_call_of_the_queue():
    """Worked by hand: «Карты» answers 5 calls; one is sent to «Кредиты» and back (route
    «Карты > Кредиты > Карты», 2 transfers), four are never transferred (no route). Per queue,
    the denominator is every answered call that visited it: «Карты» 5 calls, 1 with ≥ 2
    transfers (20 %), 2 transfers in all (0.4 per call), 1 came back (20 %); «Кредиты» 1 call
    (100 %). Counting only calls with a route gave «Карты» 100 %. A dropped call is no answered
    call and counts nowhere."""
    con = duckdb.connect()
    con.execute("""
        CREATE TABLE contacts AS SELECT * FROM (VALUES
            ('c1', '2026-W47', 'call', 'answered', 'Карты', 'Карты > Кредиты > Карты', 2, NULL),
            ('c2', '2026-W47', 'call', 'answered', 'Карты', NULL, 0, NULL),
            ('c3', '2026-W47', 'call', 'answered', 'Карты', NULL, 0, NULL),
            ('c4', '2026-W47', 'call', 'answered', 'Карты', NULL, NULL, NULL),
            ('c5', '2026-W47', 'call', 'answered', 'Карты', NULL, 0, NULL),
            ('c6', '2026-W47', 'call', 'dropped', 'Карты', NULL, 0, NULL)
        ) AS t(contact_id, iso_week, kind, outcome, queue, route, transfers, reason_id)
    """)
    from pipeline import sql

    con.execute(sql.load("transfers"))
    rows = {
        queue: (calls, round(mean, 3), round(two_plus, 3), round(back, 3))
        for queue, calls, mean, two_plus, back in con.execute(
            "SELECT queue, calls, mean_transfers, share_2plus_transfers, share_bounced_back "
            "FROM queue_transfers"
        ).fetchall()
    }
    assert rows == {"Карты": (5, 0.4, 0.2, 0.2), "Кредиты": (1, 2.0, 1.0, 0.0)}


def test_dropped_call_is_counted_by_queue_and_hour_without_a_reason(small_run):
    _, _, con = small_run
    drops = con.execute(
        "SELECT queue, local_hour, dropped, calls FROM drops WHERE dropped > 0"
    ).fetchall()
    assert drops == [("Отделение №7 (Ленинский)", 13, 1, 1)]
    assert con.execute(
        "SELECT reason_id, class_status FROM contacts WHERE source_id = '8'"
    ).fetchall() == [(None, "no_text")]


def test_sla_edges_reach_the_closed_loop(small_run):
    _, loop, con = small_run
    met = dict(con.execute("SELECT contact_id, met_deadline FROM sla").fetchall())
    assert met["complaint:9"] is True and met["complaint:10"] is False
    # both complaints are in W46, the report week is W47: the closed loop shows W47's due ones
    assert con.execute("SELECT report_week FROM run_info").fetchall() == [("2026-W47",)]


def test_counts_reconcile_and_every_active_reason_has_a_row(small_run):
    paths, loop, con = small_run
    contacts = con.execute("SELECT count(*) FROM contacts").fetchall()[0][0]
    weekly = con.execute("SELECT sum(contacts) FROM weekly").fetchall()[0][0]
    assert contacts == weekly == 12
    assert len(loop) == 28 and loop["reason_id"].is_unique
    assert (
        pd.read_parquet(paths["closed_loop"])["reason_id"].tolist() == loop["reason_id"].tolist()
    )
    assert con.execute("SELECT count(*) FROM quarantine").fetchall() == [(1,)]


def test_warehouse_text_is_the_week_parts_text_as_ingest_masked_it(small_run):
    """Texts are masked once, at ingest (tests/test_hostile.py sweeps every output); aggregate
    reads them from the week parts inside DuckDB, never the whole history into memory, and
    the report masks again what it shows (tests/test_report.py)."""
    paths, _, con = small_run
    stored = read_dataset(paths["contacts"], columns=["contact_id", "text"])
    warehouse = con.execute("SELECT contact_id, text FROM contacts").df()
    merged = stored.merge(warehouse, on="contact_id", suffixes=("_part", "_warehouse"))
    assert len(merged) == len(stored) == len(warehouse)
    assert merged["text_part"].fillna("").tolist() == merged["text_warehouse"].fillna("").tolist()


def test_every_warehouse_table_is_documented(small_run):
    _, _, con = small_run
    tables = con.execute("SELECT table_name, comment FROM duckdb_tables()").fetchall()
    assert {name for name, _ in tables} >= {
        "contacts",
        "weekly",
        "closed_loop",
        "quarantine",
        "sla",
        "repeats",
        "transfer_pairs",
        "drops",
    }
    assert all(comment for _, comment in tables), tables


def test_contacts_of_a_retired_reason_count_under_its_successor(tmp_path):
    # classifications kept from before the taxonomy change still carry the retired id
    rows = [
        contact("1", "2026-11-16 10:00", reason="online_bank_problem"),
        contact("2", "2026-11-17 10:00", reason="cannot_login"),
    ]
    paths = write_inputs(tmp_path, rows)
    loop = run_aggregate(paths)
    assert loop.set_index("reason_id").loc["cannot_login", "contacts"] == 2
    assert "online_bank_problem" not in set(pd.read_parquet(paths["weekly"])["reason_id"])


def test_report_week_must_exist(tmp_path):
    paths = write_inputs(tmp_path, [contact("1", "2026-11-16 10:00")])
    with pytest.raises(AggregateError, match="2026-W30"):
        run_aggregate(paths, AggregateConfig(report_week="2026-W30"))


def test_recent_share_and_cpx_divide_by_every_recent_week_not_only_the_reasons_own(tmp_path):
    """Worked by hand: 4 recent weeks (W44–W47), 100,000 customers each; «card_blocked» has 3
    contacts a week (12), «callback_missed» 1 contact in W47 only. Over the recent weeks there
    were 13 contacts and 400,000 customer-weeks, so callback_missed's share4 = 1/13 and cpx4 =
    1000 × 1 / 400,000 = 0.0025; dividing only by the weeks it had contacts gave 1/4 and 0.01."""
    mondays = ("2026-10-26", "2026-11-02", "2026-11-09", "2026-11-16")  # W44 … W47
    rows = [
        contact(f"{day}-{i}", f"{day} 1{i}:00", customer=f"C{day}{i}")
        for day in mondays
        for i in range(3)
    ]
    rows += [contact("cb", "2026-11-22 12:00", customer="E1", reason="callback_missed")]
    paths = write_inputs(tmp_path, rows)
    loop = run_aggregate(paths, AggregateConfig(report_week="2026-W47")).set_index("reason_id")
    cb = loop.loc["callback_missed"]
    assert cb["share4"] == pytest.approx(1 / 13)
    assert cb["cpx4"] == pytest.approx(1000 * 1 / 400_000)
    assert loop.loc["card_blocked", "share4"] == pytest.approx(12 / 13)
    # a reason without a contact in the report week: CPX 0, not unknown
    assert loop.loc["fee_dispute", "cpx"] == 0.0


def test_quarantined_rows_are_masked_in_the_warehouse(tmp_path):
    """A rejected row keeps the raw line for the analyst, but the warehouse copy is masked like
    contact texts (the card and phone typed into a broken row used to be stored as written)."""
    paths = write_inputs(tmp_path, [contact("1", "2026-11-16 10:00")])
    raw = "CL-9;31.02.2026;;;Карты;Отвечен;0;;C1;карта 4276 3800 1234 5678, тел 8-916-123-45-67"
    quarantine = pd.read_parquet(paths["quarantine"]).assign(raw=raw)
    quarantine.to_parquet(paths["quarantine"])
    run_aggregate(paths)
    con = duckdb.connect(str(paths["warehouse"]), read_only=True)
    stored = con.execute("SELECT raw FROM quarantine").fetchall()[0][0]
    con.close()
    assert "4276" not in stored and "916" not in stored
    assert "[карта]" in stored and "[телефон]" in stored and "31.02.2026" in stored


def test_a_desk_closed_on_sundays_still_reports_its_last_week(tmp_path):
    """No contact ever falls on a Sunday: a week whose Saturday has contacts is complete (the
    data ends Saturday 21 November, so the report week is 2026-W47, not the week before)."""
    rows = [
        contact("1", "2026-11-09 10:00"),  # Monday, W46
        contact("2", "2026-11-14 12:00"),  # Saturday, W46
        contact("3", "2026-11-16 10:00"),  # Monday, W47
        contact("4", "2026-11-21 12:00"),  # Saturday, W47
    ]
    paths = write_inputs(tmp_path, rows)
    run_aggregate(paths)
    assert report_week_of(paths) == "2026-W47"


def test_incomplete_last_week_is_not_the_report_week(tmp_path):
    # data ends on a Wednesday: the report is about the week before, the last complete one
    rows = [contact("1", "2026-11-12 10:00"), contact("2", "2026-11-18 10:00")]
    paths = write_inputs(tmp_path, rows)
    run_aggregate(paths)
    assert report_week_of(paths) == "2026-W46"


def test_bad_report_week_in_params_names_the_expected_form():
    with pytest.raises(ValueError, match="2026-W47"):
        AggregateConfig(report_week="47 неделя")


# --- volumes corrected for the classifier's errors ---------------------------------------------


def confusion_rows(actual: str, predicted: str, n: int, above: bool = True) -> list[dict]:
    return [{"actual": actual, "predicted": predicted, "above_threshold": above}] * n


def test_estimated_volume_corrects_raw_counts_by_the_out_of_fold_confusion(tmp_path):
    # «Карту заблокировали» is taken for «Не проходит оплата картой» 20 times in 100, the other
    # way round 10 in 100; below-threshold predictions (wrong on purpose) must not count
    confusion = pd.DataFrame(
        confusion_rows("card_blocked", "card_blocked", 80)
        + confusion_rows("card_blocked", "payment_declined", 20)
        + confusion_rows("payment_declined", "card_blocked", 10)
        + confusion_rows("payment_declined", "payment_declined", 90)
        + confusion_rows("payment_declined", "card_blocked", 500, above=False)
    )
    rows = [contact(f"b{i}", "2026-11-17 10:00", reason="card_blocked") for i in range(50)]
    rows += [contact(f"p{i}", "2026-11-18 10:00", reason="payment_declined") for i in range(50)]
    # «Не определено» and a call without text are attributed to no reason
    rows += [contact(f"u{i}", "2026-11-19 10:00", reason="unknown") for i in range(7)]
    rows += [contact("n1", "2026-11-19 11:00", reason=None, outcome="dropped")]
    rows += [contact("w46", "2026-11-10 10:00", reason="card_blocked")]
    paths = write_inputs(tmp_path, rows, confusion)
    loop = run_aggregate(
        paths, AggregateConfig(report_week="2026-W47", volume_draws=100)
    ).set_index("reason_id")
    blocked, declined = loop.loc["card_blocked"], loop.loc["payment_declined"]
    # as worked by hand in test_quantify (prior of 10 examples at the pooled accuracy 0.85):
    # (88.5 q1 + 11.5 (100 − q1)) / 110 = 50  ->  q1 = 4350/77 = 56.5
    assert blocked["contacts"] == 50
    assert blocked["volume_estimated"] == pytest.approx(4350 / 77, abs=1e-4)
    assert declined["volume_estimated"] == pytest.approx(100 - 4350 / 77, abs=1e-4)
    assert blocked["volume_estimated_low"] < 4350 / 77 < blocked["volume_estimated_high"]
    assert blocked["expected_precision"] == pytest.approx(80 / 90)
    assert blocked["expected_precision_support"] == 90
    assert np.isnan(loop.loc["unknown", "volume_estimated"])
    # a reason without labelled examples keeps its raw count: here zero
    assert loop.loc["sms_code_missing", "volume_estimated"] == 0
    con = duckdb.connect(str(paths["warehouse"]), read_only=True)
    weeks = con.execute(
        """SELECT iso_week, sum(contacts), sum(volume_estimated) FROM weekly_estimated
           GROUP BY 1 ORDER BY 1"""
    ).fetchall()
    assert [w for w, _, _ in weeks] == ["2026-W46", "2026-W47"]
    assert [raw for _, raw, _ in weeks] == [1, 100]
    assert all(est == pytest.approx(raw) for _, raw, est in weeks)
    comments = dict(
        con.execute(
            """SELECT column_name, comment FROM duckdb_columns()
               WHERE table_name = 'weekly_estimated'"""
        ).fetchall()
    )
    assert all(comments.values()), comments
    history = pd.read_parquet(paths["closed_loop_history"])
    assert {"volume_estimated", "volume_estimated_low", "expected_precision"} <= set(history)
    con.close()


def test_confusion_without_the_threshold_column_says_to_retrain(tmp_path):
    paths = write_inputs(tmp_path, [contact("1", "2026-11-16 10:00")])
    PERFECT_CONFUSION[["actual", "predicted"]].to_csv(paths["confusion"], index=False)
    with pytest.raises(AggregateError, match="above_threshold.*dvc repro train"):
        run_aggregate(paths)


OUTPUTS = ("weekly", "closed_loop", "closed_loop_history", "warehouse")


def last_run(tmp_path) -> tuple[dict, dict[str, bytes]]:
    """A finished run: its inputs and its four outputs' bytes."""
    rows = [contact("1", "2026-11-16 10:00"), contact("2", "2026-11-22 18:00", customer="C2")]
    paths = write_inputs(tmp_path, rows)
    run_aggregate(paths)
    return paths, {key: paths[key].read_bytes() for key in OUTPUTS}


def temporary_files(folder) -> list[str]:
    return sorted(p.name for p in folder.rglob("*") if ".tmp" in p.name)


def test_a_failure_while_computing_keeps_last_runs_outputs(tmp_path, monkeypatch):
    """The warehouse is built in a temporary file: a failure half-way through leaves last
    run's warehouse and Parquet files byte-identical and no temporary file."""
    paths, before = last_run(tmp_path)
    assert not (tmp_path / "warehouse.tmp.duckdb").exists()

    def fail(*args, **kwargs):
        raise MemoryError("killed while writing the warehouse")

    monkeypatch.setattr(aggregate, "write_warehouse", fail)
    with pytest.raises(MemoryError):
        run_aggregate(paths)
    assert {key: paths[key].read_bytes() for key in OUTPUTS} == before
    assert temporary_files(tmp_path) == []


def test_a_failure_after_the_warehouse_renames_nothing(tmp_path, monkeypatch):
    """The third Parquet file fails after the warehouse and two files are in their temporary
    files: none of the four is replaced."""
    paths, before = last_run(tmp_path)
    calls = []

    def third_fails(frame):
        calls.append(frame)

        def write(tmp):
            frame.to_parquet(tmp, index=False)
            if len(calls) == 3:
                raise OSError(28, "No space left on device")

        return write

    monkeypatch.setattr(aggregate, "parquet", third_fails)
    history = paths["closed_loop_history"]
    with pytest.raises(OSError, match=f"{history}: не удалось записать \\(No space left"):
        run_aggregate(paths, AggregateConfig(cost_per_minute=99.0))
    assert {key: paths[key].read_bytes() for key in OUTPUTS} == before
    assert temporary_files(tmp_path) == []


def test_a_missing_or_broken_input_names_its_path_and_stage(tmp_path):
    from pipeline.io.inputs import InputError

    paths, before = last_run(tmp_path)
    paths["quarantine"].unlink()
    with pytest.raises(InputError) as caught:
        run_aggregate(paths)
    assert str(caught.value) == (
        f"{paths['quarantine']}: файла нет; его пишет стадия ingest: запустите `dvc repro ingest`"
    )
    paths["quarantine"].write_bytes(bytes(10))
    with pytest.raises(InputError, match=f"{paths['quarantine']}: не читается как Parquet"):
        run_aggregate(paths)
    assert {k: paths[k].read_bytes() for k in OUTPUTS} == before
    assert temporary_files(tmp_path) == []


@pytest.mark.parametrize(("key", "stage"), [("contacts", "ingest"), ("classified", "classify")])
def test_a_missing_or_damaged_week_part_names_it_and_its_stage(tmp_path, key, stage):
    """The datasets stored by week: a part cut short is named before DuckDB reads it, and so
    is a dataset that is not there at all."""
    from pipeline.io.inputs import InputError

    paths, before = last_run(tmp_path)
    part = sorted(paths[key].glob("week=*/part-*.parquet"))[0]
    part.write_bytes(part.read_bytes()[:100])
    with pytest.raises(InputError) as caught:
        run_aggregate(paths)
    assert str(caught.value) == (
        f"{part}: части нет или её размер не тот, что в _manifest.json; его пишет стадия "
        f"{stage}: запустите `dvc repro {stage}`"
    )
    shutil.rmtree(paths[key])
    with pytest.raises(InputError, match=f"{paths[key]}: нет набора данных.*dvc repro {stage}"):
        run_aggregate(paths)
    assert {k: paths[k].read_bytes() for k in OUTPUTS} == before


def test_a_missing_or_broken_confusion_names_its_path_and_train(tmp_path):
    paths, before = last_run(tmp_path)
    paths["confusion"].unlink()
    with pytest.raises(PipelineError, match=f"{paths['confusion']}: файла нет.*dvc repro train"):
        run_aggregate(paths)
    paths["confusion"].write_bytes(bytes(range(200, 256)))
    with pytest.raises(AggregateError, match=f"{paths['confusion']}: не читается как CSV"):
        run_aggregate(paths)
    assert {k: paths[k].read_bytes() for k in OUTPUTS} == before


def test_a_report_week_without_data_names_the_params_file_given(tmp_path):
    paths = write_inputs(tmp_path, [contact("1", "2026-11-16 10:00")])
    params = tmp_path / "weekly-run.yaml"
    with pytest.raises(AggregateError) as caught:
        aggregate.main(
            paths,
            ROOT / "taxonomy/reasons.yaml",
            ROOT / "taxonomy/owner_notes.yaml",
            AggregateConfig(report_week="2026-W30"),
            params,
        )
    assert str(caught.value).startswith(f"{params}, aggregate.report_week: недели 2026-W30")
    assert not any(paths[key].exists() for key in OUTPUTS)
    assert temporary_files(tmp_path) == []


@pytest.mark.parametrize(
    ("mean4", "slope", "due", "status"),
    [
        (50.0, 0.0, date(2027, 3, 31), "met"),  # already below the target of 60
        (80.0, -2.0, date(2027, 3, 31), "on_track"),  # 80 - 2 * ~18 weeks < 60
        (80.0, -0.5, date(2027, 3, 31), "off_track"),  # too slow
        (80.0, -5.0, date(2026, 11, 1), "off_track"),  # due date passed, not met
    ],
)
def test_target_status(mean4, slope, due, status):
    row = pd.Series(
        {
            "target_metric": "weekly_volume",
            "target_value": 60.0,
            "target_due": due,
            "mean4": mean4,
            "cpx4": np.nan,
            "share4": 0.1,
            "trend_slope": slope,
        }
    )
    result = closed_loop.target_status(row, date(2026, 11, 22))
    assert result["target_status"] == status
    assert result["target_gap"] == pytest.approx(mean4 - 60.0)


def test_no_target_when_the_taxonomy_sets_none():
    row = pd.Series(
        {
            "target_metric": None,
            "target_value": None,
            "target_due": None,
            "mean4": 10.0,
            "cpx4": np.nan,
            "share4": 0.1,
            "trend_slope": 0.0,
        }
    )
    assert closed_loop.target_status(row, date(2026, 11, 22))["target_status"] == "no_target"


def test_action_effect_compares_weeks_after_the_action_with_four_before():
    weeks = [f"2026-W{w}" for w in range(35, 48)]
    series = pd.Series(
        [100, 100, 100, 100, 100, 100, 100, 60, 60, 60, 60, 60, 60], index=weeks, dtype=float
    )
    notes = pd.DataFrame(
        [
            {
                "reason_id": "card_not_delivered",
                "week": "2026-W41",
                "author": "x",
                "explanation": "подрядчик",
                "action": "второй",
                "action_start": date(2026, 10, 12),
                "due": None,
            }
        ]
    )
    out = closed_loop.note_columns(notes, series, "2026-W47", AggregateConfig())
    assert out["action_before"] == 100.0 and out["action_after"] == 60.0
    assert out["action_effect"] == pytest.approx(-0.4) and out["fallen_since_action"] is True
    assert out["note_is_recent"] is False  # W41 is more than 6 weeks before W47


# --- the demo's planted stories ------------------------------------------------------------


@pytest.fixture(scope="module")
def demo(demo_workspace):
    con = duckdb.connect(str(demo_workspace / "data/warehouse.duckdb"), read_only=True)
    loop = pd.read_parquet(demo_workspace / "data/processed/closed_loop.parquet").set_index(
        "reason_id"
    )
    yield demo_workspace, loop, con
    con.close()


@pytest.mark.slow
def test_demo_spike_is_found_and_needs_an_explanation(demo):
    _, loop, _ = demo
    assert loop.index[loop["is_spike"]].tolist() == ["sms_code_missing"]
    assert loop.loc["sms_code_missing", "flag"] == aggregate.NO_EXPLANATION


@pytest.mark.slow
def test_demo_decline_after_the_owners_action(demo):
    _, loop, _ = demo
    row = loop.loc["card_not_delivered"]
    assert row["trend_verdict"] == "falling"
    assert row["note_action_start"] == date(2026, 10, 12)
    assert row["fallen_since_action"] and row["action_effect"] < -0.3
    # the other action (callbacks, 2 Nov) has not moved the volume yet
    assert not loop.loc["callback_missed", "fallen_since_action"]


@pytest.mark.slow
def test_demo_rising_reason(demo):
    _, loop, _ = demo
    assert loop.loc["fee_dispute", "trend_verdict"] == "rising"


@pytest.mark.slow
def test_demo_ping_pong_department(demo):
    _, _, con = demo
    ranking = con.execute("""
        SELECT queue, sum(share_bounced_back * calls) / sum(calls) AS bounced
        FROM queue_transfers GROUP BY queue HAVING sum(calls) >= 100 ORDER BY bounced DESC
    """).fetchall()
    assert ranking[0][0] == "Кредиты"
    assert ranking[0][1] > 2 * ranking[1][1]


@pytest.mark.slow
def test_demo_lunch_and_evening_drops_at_branches(demo):
    _, _, con = demo
    lost = dict(
        con.execute("""
        SELECT local_hour, sum(dropped + abandoned) / sum(calls) FROM drops
        WHERE queue LIKE 'Отделение%' GROUP BY 1
    """).fetchall()
    )
    normal = np.mean([lost[h] for h in range(9, 13)] + [lost[h] for h in (14, 15, 16)])
    assert lost[13] > 3 * normal
    assert all(lost[h] > 3 * normal for h in (17, 18))


@pytest.mark.slow
def test_demo_late_afternoon_complaints_miss_the_sla(demo):
    _, _, con = demo
    rates = dict(
        con.execute(
            "SELECT after_cutoff, avg(met_deadline::INT) FROM sla WHERE due GROUP BY 1"
        ).fetchall()
    )
    assert rates[False] >= 0.9
    assert rates[True] < rates[False] - 0.3


@pytest.mark.slow
def test_demo_repeat_prone_reasons_lead_the_repeat_rate(demo):
    _, loop, _ = demo
    top = loop["repeat_rate"].sort_values(ascending=False).head(5).index
    assert set(top) <= set(REPEAT_PRONE)


@pytest.mark.slow
def test_demo_corrected_volumes_are_close_to_the_true_counts(demo):
    # the generator's answers give the true reason of every contact the model assigned
    workspace, _, con = demo
    assigned = con.execute(
        """SELECT c.contact_id, c.iso_week FROM contacts AS c JOIN reasons AS r USING (reason_id)
           WHERE NOT r.reserved AND c.class_status <> 'no_text'"""
    ).df()
    answers = pd.read_csv(workspace / "data/demo/answers.csv")
    truth = (
        assigned.merge(answers[["contact_id", "reason_id"]], on="contact_id")
        .groupby(["iso_week", "reason_id"])
        .size()
        .rename("truth")
        .reset_index()
    )
    weeks = con.execute("SELECT * FROM weekly_estimated").df()
    weeks = weeks.merge(truth, on=["iso_week", "reason_id"], how="left").fillna({"truth": 0})
    error = (weeks["volume_estimated"] - weeks["truth"]).abs().mean() / weeks["truth"].mean()
    inside = (weeks["volume_estimated_low"] <= weeks["truth"]) & (
        weeks["truth"] <= weeks["volume_estimated_high"]
    )
    assert error < 0.08  # measured 4.9 % (raw counts: 3.8 %)
    assert inside.mean() >= 0.85  # measured 99.7 % of 13 weeks x 27 reasons


@pytest.mark.slow
def test_demo_warehouse_reconciles_with_ingest(demo):
    workspace, _, con = demo
    contacts = len(read_dataset(workspace / "data/interim/contacts", columns=["contact_id"]))
    assert con.execute("SELECT count(*) FROM contacts").fetchall()[0][0] == contacts
    assert con.execute("SELECT sum(contacts) FROM weekly").fetchall()[0][0] == contacts
    # 9 planted bad contact rows and 101 planted bad hand-off events
    kinds = dict(
        con.execute("SELECT kind = 'handoff', count(*) FROM quarantine GROUP BY 1").fetchall()
    )
    assert kinds == {False: 9, True: 101}
    assert con.execute("SELECT count(*) FROM handoff_events").fetchall()[0][0] == 13875
