# ruff: noqa: E501  (the raw exports are written as the systems write them, one row a line)
"""An auditor's check: the closed-loop figures of one week recomputed by hand from raw exports.

Ten calls, five written requests and a drivers file, typed as a contact centre's systems write
them; the reasons are assigned by hand (an auditor checks the arithmetic, not the classifier).
Every expected number below is derived in the comments from the rows, with the README's
definitions; the pipeline runs ingest → aggregate on them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT

from pipeline import aggregate, ingest
from pipeline.closedloop.config import AggregateConfig
from pipeline.io.partitions import write_dataset

CALLS = """call_id;started_at;ended_at;duration_s;queue;outcome;transfers;route;customer_id;note
K1;16.11.2026 10:00;16.11.2026 10:06;360;Карты;Отвечен;0;;A;карта заблокирована
K2;17.11.2026 11:00;17.11.2026 11:10;600;Общая линия;Отвечен;2;Общая линия > Карты > Общая линия;B;карта заблокирована
K3;18.11.2026 12:00;18.11.2026 12:03;180;Карты;Отвечен;0;;C;карта заблокирована
K4;19.11.2026 09:00;19.11.2026 09:02;120;Карты;Отвечен;0;;A;снова карта заблокирована
K5;20.11.2026 15:00;20.11.2026 15:04;240;Общая линия;Отвечен;1;Общая линия > Кредиты;D;платёж по кредиту
K6;21.11.2026 13:00;;;Карты;Пропущен;0;;E;
K7;10.11.2026 10:00;10.11.2026 10:05;300;Карты;Отвечен;0;;F;карта заблокирована
K8;11.11.2026 10:00;11.11.2026 10:05;300;Кредиты;Отвечен;0;;G;платёж по кредиту
K9;12.11.2026 10:00;12.11.2026 10:05;300;Кредиты;Отвечен;0;;F;платёж по кредиту
K10;13.11.2026 10:00;13.11.2026 10:05;300;Карты;Отвечен;0;;H;карта заблокирована
"""
REQUESTS = """request_id,received_at,channel,customer_id,text,department,resolved_at,status,status_updates
R1,2026-11-16 10:00,email,P,Плата за обслуживание списана дважды,Тарифы,2026-11-16 17:00,Решено,1
R2,2026-11-17 15:00,email,Q,Комиссия за перевод не по тарифу,Тарифы,2026-11-18 10:30,Решено,1
R3,2026-11-20 16:00,web,R,Списали комиссию за смс,Тарифы,2026-11-23 10:00,Решено,1
R4,2026-11-19 09:00,email,S,Комиссия снова списана,Тарифы,,В работе,0
R5,2026-11-13 15:00,email,T,Непонятная комиссия,Тарифы,2026-11-16 10:00,Решено,1
"""
DRIVERS = "week,customers\n2026-W46,200000\n2026-W47,250000\n"
REASONS = {
    "call:K1": "card_blocked",
    "call:K2": "card_blocked",
    "call:K3": "card_blocked",
    "call:K4": "card_blocked",
    "call:K5": "loan_payment",
    "call:K6": None,
    "call:K7": "card_blocked",
    "call:K8": "loan_payment",
    "call:K9": "loan_payment",
    "call:K10": "card_blocked",
    "complaint:R1": "fee_dispute",
    "complaint:R2": "fee_dispute",
    "complaint:R3": "fee_dispute",
    "complaint:R4": "fee_dispute",
    "complaint:R5": "fee_dispute",
}


@pytest.fixture(scope="module")
def audited(tmp_path_factory, ingest_config):
    return run_week(tmp_path_factory.mktemp("audit"), ingest_config, DRIVERS)


def run_week(root, ingest_config, drivers: str | None):
    """ingest -> (reasons by hand) -> aggregate on the raw exports above, in ``root``."""
    raw = root / "raw"
    (raw / "calls").mkdir(parents=True)
    (raw / "complaints").mkdir()
    (raw / "calls" / "telephony.csv").write_text(CALLS, encoding="cp1251")
    (raw / "complaints" / "crm.csv").write_text(REQUESTS, encoding="utf-8")
    if drivers is not None:
        (raw / "drivers.csv").write_text(drivers, encoding="utf-8")
    paths = {
        name: root / f"{name}.parquet"
        for name in (
            "quarantine",
            "drivers",
            "handoffs",
            "weekly",
            "closed_loop",
            "closed_loop_history",
        )
    }
    # contacts and their reasons are datasets stored by ISO week, as ingest and classify write
    paths["contacts"], paths["classified"] = root / "contacts", root / "classified"
    paths["warehouse"] = root / "warehouse.duckdb"
    paths["confusion"] = root / "confusion.csv"
    result = ingest.main(
        raw,
        paths["contacts"],
        paths["quarantine"],
        paths["drivers"],
        root / "ingest.json",
        ingest_config,
        handoffs_out=paths["handoffs"],
    )
    ids = result.contacts["contact_id"].tolist()
    reasons = [REASONS[c] for c in ids]
    classified = pd.DataFrame(
        {
            "contact_id": ids,
            "reason_id": pd.array(reasons, dtype="string"),
            "status": ["no_text" if r is None else "classified" for r in reasons],
            "confidence": [np.nan if r is None else 0.9 for r in reasons],
            "fit_score": [np.nan if r is None else 1.0 for r in reasons],
            "top_reason_id": pd.array(reasons, dtype="string"),
            "runner_up_id": pd.array([None] * len(ids), dtype="string"),
            "runner_up_confidence": np.nan,
            "model_version": "audit",
            "taxonomy_version": "audit",
        }
    )
    # a contact's reason is stored in the week of its contact
    weeks = classified["contact_id"].map(result.contacts.set_index("contact_id")["iso_week"])
    write_dataset(paths["classified"], classified, weeks)
    classes = sorted({r for r in REASONS.values() if r})
    pd.DataFrame({"actual": classes, "predicted": classes, "above_threshold": True}).to_csv(
        paths["confusion"], index=False
    )
    config = AggregateConfig(report_week="2026-W47", recent_weeks=2, cost_per_minute=10.0)
    loop = aggregate.main(
        paths, ROOT / "taxonomy/reasons.yaml", ROOT / "taxonomy/owner_notes.yaml", config
    )
    return result, loop.set_index("reason_id"), paths


def test_rows_reconcile(audited):
    result, _, _ = audited
    # 10 calls + 5 requests read, all accepted (K6 has no text: kept, no reason)
    assert result.metrics["rows_read"] == 15 and result.metrics["accepted"] == 15
    assert result.metrics["reconciles"]


def test_volume_share_and_cpx(audited):
    _, loop, _ = audited
    # W47 (16–22 Nov): calls K1–K6 and requests R1–R4 = 10 contacts; card_blocked K1–K4 = 4
    card = loop.loc["card_blocked"]
    assert card["contacts"] == 4
    assert card["share"] == pytest.approx(4 / 10)
    assert card["cpx"] == pytest.approx(1000 * 4 / 250_000)
    # recent 2 weeks W46+W47: card_blocked 2 (K7, K10) + 4 = 6 of 5 + 10 = 15 contacts;
    # customers 200,000 + 250,000
    assert card["mean4"] == pytest.approx(6 / 2)
    assert card["share4"] == pytest.approx(6 / 15)
    assert card["cpx4"] == pytest.approx(1000 * 6 / 450_000)


def test_cost_repeats_and_transfers(audited):
    _, loop, _ = audited
    card = loop.loc["card_blocked"]
    # handle minutes of W47's card calls: 6 + 10 + 3 + 2 = 21 min × 10 ₽
    assert card["cost"] == pytest.approx(210.0)
    # answered card calls in W47: K1–K4 = 4; transfers 0 + 2 + 0 + 0; one with ≥ 2
    assert card["answered_calls"] == 4
    assert card["mean_transfers"] == pytest.approx(2 / 4)
    assert card["share_2plus_transfers"] == pytest.approx(1 / 4)
    # repeats over the recent weeks whose 7-day window is fully observed (latest contact:
    # K6, 21 Nov 13:00): W46 only; card_blocked in W46: K7 (F, next contact K9 on 12 Nov: a repeat)
    # and K10 (H, none): 1 of 2
    assert card["repeat_weeks"] == "2026-W46"
    assert (card["repeat_base"], card["repeats"]) == (2, 1)
    # repeat cost: the contact that followed (K9, 5 min × 10 ₽ = 50 ₽) over 1 repeat week;
    # yearly prize = 52 × (recent weekly cost: K7 5 + K10 5 + 21 min = 310 ₽ / 2 weeks = 155)
    # + 52 × 50 = 10,660 ₽
    assert card["repeat_cost_week"] == pytest.approx(50.0)
    assert card["prize_year"] == pytest.approx(52 * 155 + 52 * 50)


def test_sla_of_the_week(audited):
    _, loop, _ = audited
    fees = loop.loc["fee_dispute"]
    # due in W47 (deadline week): R5 (Fri 13 Nov 15:00 -> Mon 16 Nov 11:00, resolved 10:00:
    # met), R1 (Mon 10:00 -> Mon 18:00, resolved 17:00: met), R2 (Tue 15:00 -> Wed 11:00,
    # resolved Wed 10:30: met), R4 (Thu 09:00 -> Thu 18:00, still open: missed).
    # R3 (Fri 16:00 -> Mon 23 Nov 11:00) is due in W48: not in this week's figure.
    assert (fees["sla_due"], fees["sla_met"]) == (4, 3)
    assert fees["sla_compliance"] == pytest.approx(3 / 4)


@pytest.mark.parametrize(
    "drivers",
    [None, "week,customers\n2026-W46,200000\n"],
    ids=["no drivers.csv", "drivers.csv without the report week"],
)
def test_report_without_customers_for_the_week_shows_no_cpx_instead_of_crashing(
    tmp_path, ingest_config, drivers
):
    """drivers.csv is optional: without it, or without a row for the report week, the report
    is written and CPX is empty (it used to stop with «boolean value of NA is ambiguous»)."""
    from pipeline import report
    from pipeline.config import load_section

    _, loop, paths = run_week(tmp_path, ingest_config, drivers)
    assert np.isnan(loop.loc["card_blocked", "cpx"])
    site = tmp_path / "site"
    model = tmp_path / "model.json"
    model.write_text(
        '{"macro_f1": 0.9, "accuracy": 0.9, "coverage": 0.95, "baselines": {}, "examples": 10}',
        encoding="utf-8",
    )
    report.main(
        paths["warehouse"],
        paths["closed_loop_history"],
        paths["weekly"],
        None,
        tmp_path / "ingest.json",
        model,
        ROOT / "taxonomy/reasons.yaml",
        site,
        tmp_path / "closed_loop.xlsx",
        load_section(ROOT / "params.yaml", "report", report.ReportConfig),
    )
    html = (site / "index.html").read_text(encoding="utf-8")
    assert "2026-W47" in html or "16–22" in html
