"""Taxonomy health: near-identical definitions, thin and confused reasons, the undefined share.

Every test works on a copy of ``taxonomy/`` in a temporary folder; nothing runs DVC.
"""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import pandas as pd
import yaml

from pipeline.cli import main as cli
from pipeline.taxonomy.health import (
    confusion_pairs,
    health,
    quiet_reasons,
    render_health,
    undefined_share,
)
from pipeline.taxonomy.labels import label_file_text, read_label_file
from pipeline.taxonomy.schema import load_taxonomy

ROOT = Path(__file__).resolve().parents[1]
DAY = date(2026, 11, 23)


# --- health --------------------------------------------------------------------------------------


def test_health_finds_a_near_duplicate_definition_and_a_thin_reason(taxonomy_copy, lemmatizer):
    raw = yaml.safe_load((taxonomy_copy / "reasons.yaml").read_text(encoding="utf-8"))
    reasons = {r["id"]: r for r in raw["reasons"]}
    # planted: branch_service rewritten almost word for word as branch_unreachable
    reasons["branch_service"]["definition"] = (
        "Клиент не может дозвониться в отделение: никто не берёт трубку, звонок сбрасывается, "
        "долго висит на линии в ожидании ответа."
    )
    reasons["branch_service"]["examples"] = ["Не могу дозвониться в отделение, трубку не берут"]
    (taxonomy_copy / "reasons.yaml").write_text(
        yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8"
    )
    # planted: cashback_missing keeps 10 of its 50 labels
    path = taxonomy_copy / "labels" / "tariffs.csv"
    frame = read_label_file(path)
    thin = frame[frame["reason_id"] == "cashback_missing"].index[10:]
    path.write_text(label_file_text(frame.drop(index=thin)), encoding="utf-8")

    report = health(
        taxonomy_copy / "reasons.yaml",
        taxonomy_copy / "labels",
        None,
        None,
        None,
        ROOT / "params.yaml",
        lemmatizer,
        DAY,
    )
    assert [(p["a"], p["b"]) for p in report.similar_definitions] == [
        ("branch_unreachable", "branch_service")
    ]
    assert report.few_examples == {"cashback_missing": 10}
    assert report.min_examples == 40
    assert report.undefined_share is None and report.confusion_pairs is None
    text = render_health(report, load_taxonomy(taxonomy_copy / "reasons.yaml"))
    assert "branch_unreachable ~ branch_service" in text
    assert "Мало примеров (< 40): cashback_missing (10)" in text
    assert "пропущено — путаница причин" in text


def test_shipped_taxonomy_is_healthy(lemmatizer):
    report = health(
        ROOT / "taxonomy/reasons.yaml",
        ROOT / "taxonomy/labels",
        None,
        None,
        None,
        ROOT / "params.yaml",
        lemmatizer,
        DAY,
    )
    assert report.similar_definitions == []
    assert report.few_examples == {}
    assert report.no_target == [] and report.target_overdue == []


def test_health_reads_confusion_undefined_share_and_quiet_reasons(tmp_path):
    confusion = pd.DataFrame(
        [("fee_dispute", "fee_dispute")] * 45
        + [("fee_dispute", "tariff_question")] * 5
        + [("tariff_question", "tariff_question")] * 42
        + [("tariff_question", "fee_dispute")] * 8
        + [("atm_problem", "atm_problem")] * 49
        + [("atm_problem", "card_blocked")],
        columns=["actual", "predicted"],
    )
    assert confusion_pairs(confusion) == [
        {"a": "fee_dispute", "b": "tariff_question", "a_as_b": 5, "b_as_a": 8, "rate": 0.13}
    ]
    per_week = pd.DataFrame(
        [
            ("2026-W46", "sms_code_missing", "classified", 90),
            ("2026-W46", "unknown", "below_threshold", 10),
            ("2026-W47", "sms_code_missing", "classified", 95),
            ("2026-W47", "unknown", "below_threshold", 5),
            ("2026-W48", "sms_code_missing", "classified", 10),
        ],
        columns=["iso_week", "reason_id", "class_status", "contacts"],
    )
    share = undefined_share(per_week, week="2026-W47")
    assert (share["week"], share["share"], share["undefined"]) == ("2026-W47", 0.05, 5)
    assert share["by_week"] == {"2026-W46": 0.1, "2026-W47": 0.05}
    taxonomy = load_taxonomy(ROOT / "taxonomy/reasons.yaml")
    quiet = quiet_reasons(per_week, taxonomy)
    assert "sms_code_missing" not in quiet and len(quiet) == len(taxonomy.classes) - 1


def test_health_works_with_only_reasons_yaml(tmp_path, capsys):
    shutil.copy(ROOT / "taxonomy/reasons.yaml", tmp_path / "reasons.yaml")
    missing = str(tmp_path / "missing")
    code = cli(
        ["--params", missing, "taxonomy", "health", "--taxonomy", str(tmp_path / "reasons.yaml")]
        + [
            arg
            for option in ("labels", "metrics", "confusion", "warehouse")
            for arg in (f"--{option}", missing)
        ]
        + ["--out", str(tmp_path / "health.json")]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "Почти одинаковых определений нет" in out
    assert "Без цели: нет" in out
    summary = json.loads((tmp_path / "health.json").read_text(encoding="utf-8"))
    assert summary["active_reasons"] == 27
    assert summary["few_examples"] is None and summary["quiet_reasons"] is None
    assert len(summary["skipped"]) == 4
    assert out.count("(пропущено — ") == 4


def test_health_warns_about_fewer_than_twenty_reasons(tmp_path, lemmatizer):
    raw = yaml.safe_load((ROOT / "taxonomy/reasons.yaml").read_text(encoding="utf-8"))
    raw["reasons"] = [r for r in raw["reasons"] if r.get("reserved") or r["order"] <= 15]
    raw["reasons"] = [r for r in raw["reasons"] if not r.get("retired")]
    path = tmp_path / "reasons.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    report = health(path, None, None, None, None, None, lemmatizer, DAY)
    assert report.active_reasons == 15
    text = render_health(report, load_taxonomy(path))
    assert "• Внимание: действующих причин 15, рекомендуется от 20 до 30" in text


def test_target_due_dates_are_compared_with_the_report_week_not_today(tmp_path, lemmatizer):
    """A warehouse of 2026-W47 read in June 2027: a target due 2027-03-31 was not yet due in
    the week reported; one due 2026-11-01 was."""
    import duckdb

    raw = yaml.safe_load((ROOT / "taxonomy/reasons.yaml").read_text(encoding="utf-8"))
    for reason in raw["reasons"]:
        if reason.get("target"):
            reason["target"]["due"] = "2027-03-31"
    next(r for r in raw["reasons"] if r["id"] == "atm_problem")["target"]["due"] = "2026-11-01"
    path = tmp_path / "reasons.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    warehouse = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        con.execute(
            "CREATE TABLE contacts AS SELECT '2026-W47' AS iso_week, "
            "'atm_problem' AS reason_id, 'classified' AS class_status"
        )
        con.execute(
            "CREATE TABLE run_info AS SELECT '2026-W47' AS report_week, 7 AS repeat_window_days"
        )
    june = date(2027, 6, 1)
    report = health(path, None, None, None, warehouse, None, lemmatizer, june)
    assert report.report_week == "2026-W47"
    assert report.target_overdue == ["atm_problem"]
    text = render_health(report, load_taxonomy(path))
    assert "Срок цели прошёл (на конец отчётной недели 2026-W47, 22.11.2026): atm_problem" in text
    # without a warehouse: aggregate.report_week of params.yaml, else today (and it says so)
    params = tmp_path / "params.yaml"
    text = (ROOT / "params.yaml").read_text(encoding="utf-8")
    params.write_text(text.replace('report_week: ""', "report_week: 2026-W47"), encoding="utf-8")
    assert health(path, None, None, None, None, params, lemmatizer, june).target_overdue == [
        "atm_problem"
    ]
    alone = health(path, None, None, None, None, None, lemmatizer, june)
    assert len(alone.target_overdue) == len(load_taxonomy(path).classes)
    assert "отчётная неделя неизвестна" in render_health(alone, load_taxonomy(path))
