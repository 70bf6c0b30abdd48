"""Taxonomy maintenance: reason changes keep labels and history, labelling round trips, health.

Every test works on a copy of ``taxonomy/`` in a temporary folder; nothing runs DVC.
"""

from __future__ import annotations

import copy
import json
import shutil
import xml.etree.ElementTree as ET
from collections import Counter
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import pytest
import yaml

from pipeline.cli import main as cli
from pipeline.taxonomy import maintain
from pipeline.taxonomy.labels import load_labels
from pipeline.taxonomy.maintain import (
    MaintenanceError,
    apply_change,
    check_import,
    confusion_pairs,
    dump_document,
    export_labeling,
    health,
    import_labels,
    label_file_text,
    labels_table,
    map_history,
    merge_reasons,
    parse_document,
    pick_for_labeling,
    quiet_reasons,
    read_label_file,
    read_label_folder,
    read_labelled,
    rename_reason,
    render_health,
    retire_reason,
    rules_from_file,
    rules_from_keywords,
    split_reason,
    text_key,
    undefined_share,
)
from pipeline.taxonomy.schema import load_taxonomy
from pipeline.text import Lemmatizer

ROOT = Path(__file__).resolve().parents[1]
DAY = date(2026, 11, 23)


@pytest.fixture(scope="module")
def lemmatizer() -> Lemmatizer:
    return Lemmatizer()


@pytest.fixture()
def workspace(tmp_path: Path) -> Path:
    """A copy of taxonomy/ (reasons.yaml, labels/)."""
    shutil.copytree(ROOT / "taxonomy", tmp_path / "taxonomy")
    return tmp_path / "taxonomy"


def state(folder: Path) -> tuple[str, dict[str, pd.DataFrame]]:
    return (folder / "reasons.yaml").read_text(encoding="utf-8"), read_label_folder(
        folder / "labels"
    )


def paths(folder: Path) -> list[str]:
    return ["--taxonomy", str(folder / "reasons.yaml"), "--labels", str(folder / "labels")]


def write(change, folder: Path, files) -> None:
    apply_change(change, folder / "reasons.yaml", folder / "labels", files)


# --- reason changes ------------------------------------------------------------------------------

LOAN_SPLIT = {
    "loan_prepayment": ["досрочн*", "чдп", "пдп", "погасить", "погашение", "закрыть", "закрытие"],
    "loan_monthly_payment": ["платеж", "просрочка", "пеня", "штраф", "график", "задолженность"],
}


def weekly_before() -> pd.DataFrame:
    """Weekly facts spanning the change: old ids first, the merged id, then other reasons."""
    rows = [
        ("2026-W40", "loan_payment", "phone", 30, 750.0, 0.30),
        ("2026-W40", "loan_early_repayment", "phone", 20, 500.0, 0.20),
        ("2026-W40", "loan_payment", "chat", 5, 40.0, 0.05),
        ("2026-W40", "sms_code_missing", "phone", 45, 1125.0, 0.45),
        ("2026-W41", "loan_servicing", "phone", 48, 1200.0, 0.48),
        ("2026-W41", "sms_code_missing", "phone", 52, 1300.0, 0.52),
        ("2026-W42", "loan_monthly_payment", "phone", 25, 625.0, 0.25),
        ("2026-W42", "loan_prepayment", "phone", 21, 525.0, 0.21),
        ("2026-W42", "online_bank_problem", "phone", 4, 100.0, 0.04),
        ("2026-W42", None, "phone", 50, 0.0, 0.50),
    ]
    frame = pd.DataFrame(
        rows, columns=["iso_week", "reason_id", "channel", "contacts", "cost", "share"]
    )
    frame["customers"] = frame["iso_week"].map(
        {"2026-W40": 1000, "2026-W41": 1010, "2026-W42": 1020}
    )
    frame["cpx"] = 1000.0 * frame["contacts"] / frame["customers"]
    return frame


def test_merge_then_split_keeps_labels_and_weekly_history_consistent(workspace, lemmatizer):
    reasons0, files0 = state(workspace)
    labels0 = labels_table(files0)
    loans0 = labels0[labels0["reason_id"].isin(["loan_payment", "loan_early_repayment"])]

    merged = merge_reasons(
        reasons0,
        files0,
        ["loan_payment", "loan_early_repayment"],
        "loan_servicing",
        title="Вопрос по кредиту: платёж или погашение",
        when=DAY,
    )
    write(merged, workspace, files0)
    reasons1, files1 = state(workspace)
    assert load_taxonomy(workspace / "reasons.yaml").successor("loan_payment") == "loan_servicing"
    assert (labels_table(files1)["reason_id"] == "loan_servicing").sum() == len(loans0)

    split = split_reason(
        reasons1,
        files1,
        "loan_servicing",
        ["loan_monthly_payment", "loan_prepayment"],
        rules_from_keywords(LOAN_SPLIT, lemmatizer),
        titles={
            "loan_monthly_payment": "Вопрос по платежу по кредиту",
            "loan_prepayment": "Хочу досрочно погасить кредит",
        },
        when=date(2026, 11, 24),
    )
    write(split, workspace, files1)
    taxonomy = load_taxonomy(workspace / "reasons.yaml")
    labels = load_labels(workspace / "labels", taxonomy)
    final = labels_table(read_label_folder(workspace / "labels"))

    # no label lost: each text is either labelled or waiting for manual labelling
    assert len(final) + len(split.to_label) == len(labels0)
    assert Counter(final["text"]) + Counter(split.to_label["text"]) == Counter(labels0["text"])
    assert set(split.to_label["text"]) <= set(loans0["text"])
    assert split.to_label["why"].str.contains("правил").all()
    # every label names an active reason; nothing needs the successor mapping any more
    assert set(final["reason_id"]) <= set(taxonomy.classes)
    assert labels.remapped == 0
    # labels of other reasons are untouched, file by file, byte for byte
    for name, frame in files0.items():
        if name != "loans.csv":
            assert (workspace / "labels" / name).read_text(encoding="utf-8") == label_file_text(
                frame
            )
    # the keywords re-assign mostly to where the labels came from
    was = dict(zip(loans0["text"], loans0["reason_id"], strict=True))
    for new, old in (
        ("loan_prepayment", "loan_early_repayment"),
        ("loan_monthly_payment", "loan_payment"),
    ):
        texts = final.loc[final["reason_id"] == new, "text"]
        assert len(texts) >= 30
        assert sum(was[t] == old for t in texts) / len(texts) >= 0.9

    # history: every id that ever existed is still there and maps to an active reason
    for old in ("loan_payment", "loan_early_repayment", "loan_servicing"):
        reason = taxonomy.by_id[old]
        assert reason.retired is not None
        assert taxonomy.successor(old) == "loan_monthly_payment"
    assert taxonomy.by_id["loan_servicing"].retired == date(2026, 11, 24)
    assert (
        20 <= len(taxonomy.classes) == len(load_taxonomy(ROOT / "taxonomy/reasons.yaml").classes)
    )

    # weekly history re-keyed through successors: ids active, totals per week unchanged
    weekly = weekly_before()
    history = map_history(weekly, taxonomy)
    assert set(history["reason_id"].dropna()) <= set(taxonomy.classes)
    for column in ("contacts", "cost", "share", "cpx"):
        pd.testing.assert_series_equal(
            history.groupby("iso_week")[column].sum(), weekly.groupby("iso_week")[column].sum()
        )
    w40 = history[(history["iso_week"] == "2026-W40") & (history["channel"] == "phone")]
    assert w40.set_index("reason_id").loc["loan_monthly_payment", "contacts"] == 50
    assert history.groupby("iso_week")["customers"].max().tolist() == [1000, 1010, 1020]
    assert history["reason_id"].isna().sum() == 1  # contacts without text stay unassigned

    # the file keeps its comments and every untouched reason exactly as written
    text = (workspace / "reasons.yaml").read_text(encoding="utf-8")
    assert text.startswith("# Reason taxonomy of the demo retail bank contact centre.")
    block = reasons0[
        reasons0.index("  - id: sms_code_missing") : reasons0.index("  - id: cannot_login")
    ]
    assert block in text


def test_rename_keeps_labels_and_points_history_to_the_new_id(workspace):
    reasons, files = state(workspace)
    before = labels_table(files)
    change = rename_reason(
        reasons,
        files,
        "card_blocked",
        "card_blocked_by_bank",
        title="Банк заблокировал карту",
        when=DAY,
    )
    write(change, workspace, files)
    taxonomy = load_taxonomy(workspace / "reasons.yaml")
    after = labels_table(read_label_folder(workspace / "labels"))

    assert len(after) == len(before)
    assert (after["reason_id"] == "card_blocked").sum() == 0
    assert (after["reason_id"] == "card_blocked_by_bank").sum() == (
        before["reason_id"] == "card_blocked"
    ).sum()
    assert after["text"].tolist() == before["text"].tolist()
    assert taxonomy.successor("card_blocked") == "card_blocked_by_bank"
    assert taxonomy.title("card_blocked_by_bank") == "Банк заблокировал карту"
    # the reason keeps its place, order and colour; definitions that named it follow
    assert taxonomy.by_id["card_blocked_by_bank"].order == 5
    assert taxonomy.classes.index("card_blocked_by_bank") == 4
    assert "(card_blocked_by_bank)" in taxonomy.by_id["card_not_delivered"].definition
    assert taxonomy.version == "2026.11.2"


def test_retire_with_a_successor_that_does_not_exist_is_refused_naming_it(workspace, capsys):
    reasons = (workspace / "reasons.yaml").read_bytes()
    command = "taxonomy retire cashback_missing --replaced-by cashback_missed"
    code = cli([*command.split(), *paths(workspace)])
    assert code == 2
    assert "нет причины 'cashback_missed' (преемник)" in capsys.readouterr().err
    assert (workspace / "reasons.yaml").read_bytes() == reasons


def test_retire_moves_labels_and_refuses_a_retired_successor(workspace):
    reasons, files = state(workspace)
    change = retire_reason(reasons, files, "loan_insurance", "fee_dispute", when=DAY)
    moved = labels_table(change.label_files)
    assert (moved["reason_id"] == "loan_insurance").sum() == 0
    assert (moved["reason_id"] == "fee_dispute").sum() == 100
    with pytest.raises(MaintenanceError, match="'online_bank_problem' .* уже выведена"):
        retire_reason(reasons, files, "app_error", "online_bank_problem", when=DAY)


def test_retiring_a_successor_re_points_older_history(workspace):
    reasons, files = state(workspace)
    change = merge_reasons(
        reasons,
        files,
        ["cannot_login", "app_error"],
        "app_access",
        title="Не могу войти или приложение не работает",
        when=DAY,
    )
    taxonomy = load_taxonomy_text(change.reasons_text, workspace)
    # online_bank_problem pointed at cannot_login; its history now continues in app_access
    assert taxonomy.by_id["online_bank_problem"].replaced_by == "app_access"
    assert taxonomy.successor("online_bank_problem") == "app_access"


def load_taxonomy_text(text: str, folder: Path):
    path = folder / "proposed.yaml"
    path.write_text(text, encoding="utf-8")
    return load_taxonomy(path)


def test_a_change_that_would_break_the_taxonomy_is_refused(workspace):
    reasons, files = state(workspace)
    nine = [
        "loan_payment",
        "loan_early_repayment",
        "loan_application_status",
        "loan_insurance",
        "deposit_question",
        "statement_request",
        "personal_data_change",
        "account_closure",
        "new_product",
    ]
    with pytest.raises(MaintenanceError, match="действующих причин 19, ожидается от 20"):
        merge_reasons(reasons, files, nine, "everything_else", when=DAY)
    with pytest.raises(MaintenanceError, match="id 'loan_payment' уже занят"):
        rename_reason(reasons, files, "loan_early_repayment", "loan_payment", when=DAY)
    with pytest.raises(MaintenanceError, match="зарезервирована"):
        retire_reason(reasons, files, "unknown", "app_error", when=DAY)


def test_dry_run_prints_the_diff_and_writes_nothing(workspace, capsys):
    before = {p: p.read_bytes() for p in workspace.rglob("*") if p.is_file()}
    command = "taxonomy merge fee_dispute tariff_question --into tariff_question --dry-run"
    code = cli([*command.split(), "--date", "2026-11-23", *paths(workspace)])
    out = capsys.readouterr().out
    assert code == 0
    assert "+    retired: 2026-11-23\n+    replaced_by: tariff_question" in out
    label = "за что списали 99 руб за смс уведомления? я их не подключал"
    assert f"\n-{label},fee_dispute,client\n" in out
    assert f"\n+{label},tariff_question,client\n" in out
    assert "цель: 60 + 60 = 120" in out
    assert "--dry-run: ничего не записано" in out
    assert {p: p.read_bytes() for p in workspace.rglob("*") if p.is_file()} == before


def test_split_by_a_rule_file_lists_the_rest_for_manual_labelling(workspace, tmp_path):
    reasons, files = state(workspace)
    rules = tmp_path / "rules.csv"
    rules.write_text(
        "text,reason_id\n"
        '"потеряла карту, что делать",card_lost\n'
        '"Карта истекает 11/25, новую автоматически выпустят или надо заказать?",'
        "card_expiring\n"
        '"ПОТЕРЯЛ  КАРТУ, срочно заблокируйте",card_lost\n',  # case and spacing ignored
        encoding="utf-8",
    )
    texts = labels_table(files).query("reason_id == 'card_reissue'")["text"]
    change = split_reason(
        reasons,
        files,
        "card_reissue",
        ["card_lost", "card_expiring"],
        rules_from_file(rules),
        when=DAY,
    )
    after = labels_table(change.label_files)
    assert set(
        after.loc[after["reason_id"].isin(["card_lost", "card_expiring"]), "reason_id"]
    ) <= {"card_lost", "card_expiring"}
    assigned = after["reason_id"].isin(["card_lost", "card_expiring"]).sum()
    assert assigned == 3
    assert assigned + len(change.to_label) == len(texts)
    assert (change.to_label["why"].str.startswith("ни одно правило не подошло")).all()
    taxonomy = load_taxonomy_text(change.reasons_text, workspace)
    assert taxonomy.successor("card_reissue") == "card_lost"
    new = taxonomy.by_id["card_expiring"]
    assert new.owner == "cards" and new.quadrant == "automate" and new.target is None
    assert new.order == 28 and new.colour not in {
        r.colour for r in taxonomy.reasons if r.id != new.id
    }


def test_untouched_files_round_trip_byte_for_byte():
    text = (ROOT / "taxonomy/reasons.yaml").read_text(encoding="utf-8")
    assert dump_document(parse_document(text)) == text
    for path in sorted((ROOT / "taxonomy/labels").glob("*.csv")):
        assert label_file_text(read_label_file(path)) == path.read_text(encoding="utf-8")


def test_map_history_leaves_active_reasons_and_empty_frames_alone():
    taxonomy = load_taxonomy(ROOT / "taxonomy/reasons.yaml")
    weekly = weekly_before()
    active = weekly[weekly["reason_id"].isin(taxonomy.classes)]
    # in the order weekly.sql writes it
    active = active.sort_values(["iso_week", "reason_id", "channel"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(map_history(active, taxonomy), active)
    assert map_history(weekly.iloc[0:0], taxonomy).empty
    history = map_history(weekly, taxonomy)  # online_bank_problem -> cannot_login
    assert (
        history.loc[history["iso_week"] == "2026-W42"]
        .set_index("reason_id")
        .loc["cannot_login", "contacts"]
        == 4
    )
    assert weekly["reason_id"].tolist()[8] == "online_bank_problem"  # input not mutated


# --- labelling round trip ------------------------------------------------------------------------

CONTACTS = [
    # contact_id, kind, text, status, reason_id (top), confidence, runner-up, runner-up confidence
    (
        "call:1",
        "call",
        "кл. спрашивает про какой-то сертификат, не понял о чём",
        "below_threshold",
        "statement_request",
        0.09,
        "new_product",
        0.08,
    ),
    (
        "complaint:2",
        "complaint",
        "Верните мои деньги за подписку, я её не оформляла!!!",
        "classified",
        "unknown_charge",
        0.41,
        "fee_dispute",
        0.38,
    ),
    (
        "complaint:3",
        "complaint",
        "не приходит код подтверждения и приложение вылетает",
        "classified",
        "sms_code_missing",
        0.47,
        "app_error",
        0.45,
    ),
    (
        "call:4",
        "call",
        "кл. недоволен обслуживанием, просит жалобу руководству",
        "classified",
        "complaint_unanswered",
        0.52,
        "branch_service",
        0.21,
    ),
    (
        "complaint:5",
        "complaint",
        "Карта не пришла, курьер не позвонил",
        "classified",
        "card_not_delivered",
        0.99,
        "card_reissue",
        0.005,
    ),
    (
        "complaint:6",
        "complaint",
        "карта не пришла",  # already labelled: never exported
        "below_threshold",
        "card_not_delivered",
        0.10,
        "card_reissue",
        0.09,
    ),
    (
        "complaint:7",
        "complaint",
        "хочу узнать, где   моя посылка с картой",
        "classified",
        "card_not_delivered",
        0.63,
        "card_reissue",
        0.30,
    ),
    (
        "complaint:8",
        "complaint",
        "Хочу узнать, где моя посылка с картой",  # same text, once
        "classified",
        "card_not_delivered",
        0.64,
        "card_reissue",
        0.30,
    ),
    (
        "call:9",
        "call",
        "кл. хочет оформить вклад онлайн, консульт.",
        "classified",
        "new_product",
        0.58,
        "deposit_question",
        0.40,
    ),
]


def fake_outputs(folder: Path) -> tuple[Path, Path]:
    """A warehouse ``contacts`` table and a classified Parquet like the pipeline writes."""
    frame = pd.DataFrame(
        CONTACTS,
        columns=[
            "contact_id",
            "kind",
            "text",
            "class_status",
            "top_reason_id",
            "confidence",
            "runner_up_id",
            "runner_up_confidence",
        ],
    )
    frame["reason_id"] = frame["top_reason_id"].where(
        frame["class_status"] == "classified", "unknown"
    )
    frame["channel"] = frame["kind"].map({"call": "phone", "complaint": "email"})
    frame["iso_week"] = "2026-W47"
    frame["model_version"] = "f5f2a8dc6270"
    warehouse = folder / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        con.register("frame", frame.drop(columns=["top_reason_id", "runner_up_confidence"]))
        con.execute("CREATE TABLE contacts AS SELECT * FROM frame")
        con.execute("CREATE TABLE run_info AS SELECT '2026-W47' AS report_week")
    classified = folder / "contacts_classified.parquet"
    frame[["contact_id", "top_reason_id", "runner_up_confidence"]].to_parquet(classified)
    return warehouse, classified


def test_export_picks_undefined_torn_and_least_confident_contacts(workspace, tmp_path):
    warehouse, classified = fake_outputs(tmp_path)
    picked = export_labeling(
        warehouse,
        tmp_path / "out",
        workspace / "reasons.yaml",
        workspace / "labels",
        classified,
        n=5,
    )
    assert picked["contact_id"].tolist() == [
        "call:1",  # below the threshold
        "complaint:3",  # torn: 0.47 vs 0.45
        "complaint:2",  # least confident classified (0.41)
        # then the two other queues are spent: least confident only
        "call:4",
        "call:9",
    ]
    first = picked.iloc[0]
    assert first["suggested_reason_id"] == "statement_request"
    assert first["why"].startswith("не определено")
    assert picked.iloc[1]["why"] == "модель колеблется: sms_code_missing 0.47 / app_error 0.45"
    assert picked.iloc[2]["why"] == "низкая уверенность: 0.41"
    assert picked["source"].tolist() == ["agent", "client", "client", "agent", "agent"]
    again = export_labeling(
        warehouse,
        tmp_path / "again",
        workspace / "reasons.yaml",
        workspace / "labels",
        classified,
        n=5,
    )
    pd.testing.assert_frame_equal(picked, again)
    csv_back = pd.read_csv(tmp_path / "out/to_label.csv", dtype=str, keep_default_na=False)
    assert csv_back["contact_id"].tolist() == picked["contact_id"].tolist()

    config = ET.parse(tmp_path / "out/label_studio_config.xml").getroot()
    choices = config.find("Choices")
    assert (choices.get("name"), choices.get("toName"), choices.get("choice")) == (
        "reason",
        "text",
        "single",
    )
    assert config.find("Text").get("value") == "$text"
    taxonomy = load_taxonomy(workspace / "reasons.yaml")
    values = [c.get("value") for c in choices.findall("Choice")]
    assert values == [*taxonomy.classes, "unknown"]
    assert choices.find("Choice").get("html").startswith("Не приходит СМС-код")


def test_a_label_studio_export_imports_back_unchanged(workspace, tmp_path):
    warehouse, classified = fake_outputs(tmp_path)
    picked = export_labeling(
        warehouse,
        tmp_path / "out",
        workspace / "reasons.yaml",
        workspace / "labels",
        classified,
        n=20,
    )
    tasks = json.loads((tmp_path / "out/label_studio_tasks.json").read_text(encoding="utf-8"))
    assert len(tasks) == len(picked) == 7
    # the same text twice is offered once, saying so
    assert (
        picked.loc[picked["contact_id"] == "complaint:7", "why"].item().endswith("таких текстов 2")
    )
    assert tasks[1]["predictions"][0]["result"][0] == {
        "from_name": "reason",
        "to_name": "text",
        "type": "choices",
        "value": {"choices": ["sms_code_missing"]},
    }
    # what Label Studio exports once an annotator accepts every suggestion
    exported = []
    for number, task in enumerate(tasks, start=1):
        annotation = {
            "id": 100 + number,
            "result": copy.deepcopy(task["predictions"][0]["result"]),
            "was_cancelled": False,
            "ground_truth": False,
        }
        exported.append({"id": number, **task, "annotations": [annotation]})
    export = tmp_path / "project-1-at-2026-11-23.json"
    export.write_text(json.dumps(exported, ensure_ascii=False), encoding="utf-8")

    out = workspace / "labels" / "labelling_2026_w47.csv"
    result = import_labels(export, out, workspace / "reasons.yaml", workspace / "labels")
    written = pd.read_csv(out, dtype=str, keep_default_na=False)
    expected = picked.rename(columns={"suggested_reason_id": "reason_id_"})[
        ["text", "reason_id_", "source"]
    ].set_axis(["text", "reason_id", "source"], axis=1)
    pd.testing.assert_frame_equal(written, expected.reset_index(drop=True))
    assert result.duplicates == 0 and not result.conflicts
    load_labels(workspace / "labels", load_taxonomy(workspace / "reasons.yaml"))  # still valid
    # importing the same export again adds nothing
    again = import_labels(export, out, workspace / "reasons.yaml", workspace / "labels")
    assert len(again.new) == 0 and again.duplicates == len(picked)


def test_import_reports_duplicates_and_refuses_conflicts(workspace, tmp_path):
    labelled = tmp_path / "to_label.csv"
    labelled.write_text(
        "contact_id,text,suggested_reason_id,reason_id,source\n"
        "c1,КАРТА   НЕ ПРИШЛА,card_not_delivered,card_not_delivered,client\n"  # duplicate
        "c2,карта не пришла,card_not_delivered,card_reissue,client\n"  # conflict
        "c3,второй день не могу зайти в интернет-банк,,online_bank_problem,client\n"  # retired
        "c4,кэшбэк за АЗС опять не начислили,cashback_missing,cashback_missing,\n"
        "c5,непонятно что хочет клиент,,,agent\n"  # not labelled yet
        "c6,хочу открыть счёт для ИП,,unknown,client\n",  # "no reason fits"
        encoding="utf-8-sig",
    )
    out = workspace / "labels" / "imported.csv"
    with pytest.raises(MaintenanceError, match="1 противоречий: ничего не записано"):
        import_labels(
            labelled, out, workspace / "reasons.yaml", workspace / "labels", source="client"
        )
    assert not out.exists()

    taxonomy = load_taxonomy(workspace / "reasons.yaml")
    existing = labels_table(read_label_folder(workspace / "labels"))
    result = check_import(read_labelled(labelled), existing, taxonomy, source="client")
    assert result.duplicates == 1
    assert result.conflicts == (
        "«карта не пришла»: cards.csv:2 → card_not_delivered, "
        "to_label.csv, строка 3 → card_reissue",
    )
    assert result.new.to_dict("records") == [
        {
            "text": "второй день не могу зайти в интернет-банк",
            "reason_id": "cannot_login",
            "source": "client",
        },
        {
            "text": "кэшбэк за АЗС опять не начислили",
            "reason_id": "cashback_missing",
            "source": "client",
        },
    ]
    assert (result.remapped, result.unlabelled, len(result.none_fits)) == (1, 1, 1)

    import_labels(
        labelled,
        out,
        workspace / "reasons.yaml",
        workspace / "labels",
        source="client",
        allow_conflicts=True,
    )
    assert pd.read_csv(out, dtype=str)["reason_id"].tolist() == [
        "cannot_login",
        "cashback_missing",
    ]


def test_import_names_the_row_of_an_unknown_reason(workspace, tmp_path):
    labelled = tmp_path / "batch.csv"
    labelled.write_text(
        "text;reason_id\nсмс не приходит;sms_code_missing\nбанкомат съел карту;atm_eats_card\n",
        encoding="cp1251",
    )
    with pytest.raises(
        MaintenanceError,
        match=r"batch.csv, строка 3: неизвестная причина "
        r"'atm_eats_card'",
    ):
        import_labels(
            labelled, workspace / "labels/x.csv", workspace / "reasons.yaml", workspace / "labels"
        )


def test_a_hand_labelled_spreadsheet_with_titles_imports_as_it_is(workspace, tmp_path, capsys):
    """An organisation's own sheet: its column names, reason titles in any case, a blank label."""
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["№", "Текст обращения", "Причина обращения"])
    sheet.append([1, "Третий день не приходит смс с кодом для входа", "не приходит смс-код"])
    sheet.append([2, "Заказал карту месяц назад, курьер так и не приехал", "КАРТА НЕ ПРИШЛА"])
    sheet.append([3, "Заблокировали карту без объяснения причин, верните деньги", "card_blocked"])
    sheet.append([4, "Позвоните мне, пожалуйста", None])
    sheet.append(
        [5, "Приложение вылетает при открытии выписки", "Приложение зависает или выдаёт ошибку"]
    )
    sheet_path = tmp_path / "разметка.xlsx"
    book.save(sheet_path)
    out = workspace / "labels" / "ours.csv"
    code = cli(
        [
            "taxonomy",
            "import-labels",
            str(sheet_path),
            "--text-column",
            "текст обращения",
            "--label-column",
            "Причина обращения",
            "--source",
            "client",
            "--out",
            str(out),
            "--taxonomy",
            str(workspace / "reasons.yaml"),
            "--labels",
            str(workspace / "labels"),
        ]
    )
    assert code in (0, None)
    assert "новых меток 4" in capsys.readouterr().out
    written = pd.read_csv(out, dtype=str)
    assert written["reason_id"].tolist() == [
        "sms_code_missing",
        "card_not_delivered",
        "card_blocked",
        "app_error",
    ]
    assert set(written["source"]) == {"client"}
    training = load_labels(workspace / "labels", load_taxonomy(workspace / "reasons.yaml"))
    assert (training.frame["file"].astype(str).str.endswith("ours.csv")).sum() == 4

    with pytest.raises(MaintenanceError, match="нет колонки 'Категория'.*'Текст обращения'"):
        import_labels(
            sheet_path,
            workspace / "labels" / "x.csv",
            workspace / "reasons.yaml",
            workspace / "labels",
            text_column="Текст обращения",
            label_column="Категория",
        )


# --- health --------------------------------------------------------------------------------------


def test_health_finds_a_near_duplicate_definition_and_a_thin_reason(workspace, lemmatizer):
    raw = yaml.safe_load((workspace / "reasons.yaml").read_text(encoding="utf-8"))
    reasons = {r["id"]: r for r in raw["reasons"]}
    # planted: branch_service rewritten almost word for word as branch_unreachable
    reasons["branch_service"]["definition"] = (
        "Клиент не может дозвониться в отделение: никто не берёт трубку, звонок сбрасывается, "
        "долго висит на линии в ожидании ответа."
    )
    reasons["branch_service"]["examples"] = ["Не могу дозвониться в отделение, трубку не берут"]
    (workspace / "reasons.yaml").write_text(
        yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8"
    )
    # planted: cashback_missing keeps 10 of its 50 labels
    path = workspace / "labels" / "tariffs.csv"
    frame = read_label_file(path)
    thin = frame[frame["reason_id"] == "cashback_missing"].index[10:]
    path.write_text(label_file_text(frame.drop(index=thin)), encoding="utf-8")

    report = health(
        workspace / "reasons.yaml",
        workspace / "labels",
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
    text = render_health(report, load_taxonomy(workspace / "reasons.yaml"))
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


def test_pick_skips_labelled_texts_and_is_deterministic():
    candidates = pd.DataFrame(
        CONTACTS,
        columns=[
            "contact_id",
            "kind",
            "text",
            "class_status",
            "top_reason_id",
            "confidence",
            "runner_up_id",
            "runner_up_confidence",
        ],
    )
    candidates["reason_id"] = candidates["top_reason_id"]
    shuffled = candidates.sample(frac=1, random_state=7)
    labelled = {text_key("Верните мои деньги за подписку, я её не оформляла!!!")}
    a = pick_for_labeling(candidates, 4, labelled)
    b = pick_for_labeling(shuffled, 4, labelled)
    pd.testing.assert_frame_equal(a, b)
    assert "complaint:2" not in set(a["contact_id"])


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


def test_import_reads_a_hand_labelled_csv_by_its_column_names(tmp_path):
    """No flags: a CSV whose columns are «Текст» and «Причина» is a hand-labelled sheet."""
    path = tmp_path / "разметка.csv"
    path.write_text(
        "Текст;Причина\n"
        "Не приходит смс-код для входа в приложение;sms_code_missing\n"
        "Карта заблокирована без объяснения, в отделении не помогли;card_blocked\n",
        encoding="cp1251",
    )
    rows = maintain.read_labelled(path)
    assert rows["reason_id"].tolist() == ["sms_code_missing", "card_blocked"]
    assert rows["text"].iloc[0] == "Не приходит смс-код для входа в приложение"
    odd = tmp_path / "odd.csv"
    odd.write_text("отзыв,тип\nне приходит смс,sms\n", encoding="utf-8")
    with pytest.raises(maintain.MaintenanceError, match="искали: text, текст"):
        maintain.read_labelled(odd)
