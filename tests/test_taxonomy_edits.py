"""Reason changes keep labels and history: rename, merge, split, retire, and their diffs.

Every test works on a copy of ``taxonomy/`` in a temporary folder; nothing runs DVC.
"""

from __future__ import annotations

from collections import Counter
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
import yaml

from pipeline.cli import main as cli
from pipeline.taxonomy.edits import apply_change, rename_reason, retire_reason
from pipeline.taxonomy.history import map_history
from pipeline.taxonomy.labels import (
    label_file_text,
    labels_table,
    load_labels,
    read_label_file,
    read_label_folder,
)
from pipeline.taxonomy.merge import merge_reasons
from pipeline.taxonomy.schema import MaintenanceError, load_taxonomy
from pipeline.taxonomy.split import rules_from_file, rules_from_keywords, split_reason
from pipeline.taxonomy.yamlio import dump_document, parse_document

ROOT = Path(__file__).resolve().parents[1]
DAY = date(2026, 11, 23)


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


def test_merge_then_split_keeps_labels_and_weekly_history_consistent(taxonomy_copy, lemmatizer):
    reasons0, files0 = state(taxonomy_copy)
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
    write(merged, taxonomy_copy, files0)
    reasons1, files1 = state(taxonomy_copy)
    assert (
        load_taxonomy(taxonomy_copy / "reasons.yaml").successor("loan_payment") == "loan_servicing"
    )
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
    write(split, taxonomy_copy, files1)
    taxonomy = load_taxonomy(taxonomy_copy / "reasons.yaml")
    labels = load_labels(taxonomy_copy / "labels", taxonomy)
    final = labels_table(read_label_folder(taxonomy_copy / "labels"))

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
            assert (taxonomy_copy / "labels" / name).read_text(
                encoding="utf-8"
            ) == label_file_text(frame)
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
    text = (taxonomy_copy / "reasons.yaml").read_text(encoding="utf-8")
    assert text.startswith("# Reason taxonomy of the demo retail bank contact centre.")
    block = reasons0[
        reasons0.index("  - id: sms_code_missing") : reasons0.index("  - id: cannot_login")
    ]
    assert block in text


def test_rename_keeps_labels_and_points_history_to_the_new_id(taxonomy_copy):
    reasons, files = state(taxonomy_copy)
    before = labels_table(files)
    change = rename_reason(
        reasons,
        files,
        "card_blocked",
        "card_blocked_by_bank",
        title="Банк заблокировал карту",
        when=DAY,
    )
    write(change, taxonomy_copy, files)
    taxonomy = load_taxonomy(taxonomy_copy / "reasons.yaml")
    after = labels_table(read_label_folder(taxonomy_copy / "labels"))

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


def snapshot(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


def test_a_failure_while_writing_a_change_leaves_reasons_and_labels_as_they_were(
    taxonomy_copy, monkeypatch
):
    """reasons.yaml fails after the migrated label files are in their temporary files: no
    label file and no half-written reasons.yaml is renamed in, no temporary file is left."""
    from pipeline.io import outputs
    from pipeline.io.outputs import OutputError

    reasons, files = state(taxonomy_copy)
    change = rename_reason(reasons, files, "card_blocked", "card_blocked_by_bank", when=DAY)
    before = snapshot(taxonomy_copy)
    real = outputs.text

    def reasons_fail(content: str, encoding: str = "utf-8"):
        if not content.startswith("# "):  # a label file
            return real(content, encoding)

        def fail(tmp: Path) -> None:
            tmp.write_text(content[:200], encoding=encoding)
            raise OSError(28, "No space left on device")

        return fail

    assert change.reasons_text.startswith("# ")
    monkeypatch.setattr(outputs, "text", reasons_fail)
    with pytest.raises(OutputError, match=r"reasons\.yaml: не удалось записать"):
        write(change, taxonomy_copy, files)
    assert snapshot(taxonomy_copy) == before


def test_a_change_writes_the_same_bytes_as_a_plain_write(taxonomy_copy, tmp_path):
    reasons, files = state(taxonomy_copy)
    change = rename_reason(reasons, files, "card_blocked", "card_blocked_by_bank", when=DAY)
    write(change, taxonomy_copy, files)
    assert (taxonomy_copy / "reasons.yaml").read_bytes() == change.reasons_text.encode("utf-8")
    for name, frame in change.label_files.items():
        expected = label_file_text(frame).encode("utf-8")
        assert (taxonomy_copy / "labels" / name).read_bytes() == expected
    assert not [p for p in taxonomy_copy.rglob("*") if ".tmp" in p.name]


def test_retire_with_a_successor_that_does_not_exist_is_refused_naming_it(taxonomy_copy, capsys):
    reasons = (taxonomy_copy / "reasons.yaml").read_bytes()
    command = "taxonomy retire cashback_missing --replaced-by cashback_missed"
    code = cli([*command.split(), *paths(taxonomy_copy)])
    assert code == 2
    assert "нет причины 'cashback_missed' (преемник)" in capsys.readouterr().err
    assert (taxonomy_copy / "reasons.yaml").read_bytes() == reasons


def test_retire_moves_labels_and_refuses_a_retired_successor(taxonomy_copy):
    reasons, files = state(taxonomy_copy)
    change = retire_reason(reasons, files, "loan_insurance", "fee_dispute", when=DAY)
    moved = labels_table(change.label_files)
    assert (moved["reason_id"] == "loan_insurance").sum() == 0
    assert (moved["reason_id"] == "fee_dispute").sum() == 100
    with pytest.raises(MaintenanceError, match="'online_bank_problem' .* уже выведена"):
        retire_reason(reasons, files, "app_error", "online_bank_problem", when=DAY)


def test_retiring_a_successor_re_points_older_history(taxonomy_copy):
    reasons, files = state(taxonomy_copy)
    change = merge_reasons(
        reasons,
        files,
        ["cannot_login", "app_error"],
        "app_access",
        title="Не могу войти или приложение не работает",
        when=DAY,
    )
    taxonomy = load_taxonomy_text(change.reasons_text, taxonomy_copy)
    # online_bank_problem pointed at cannot_login; its history now continues in app_access
    assert taxonomy.by_id["online_bank_problem"].replaced_by == "app_access"
    assert taxonomy.successor("online_bank_problem") == "app_access"


def load_taxonomy_text(text: str, folder: Path):
    path = folder / "proposed.yaml"
    path.write_text(text, encoding="utf-8")
    return load_taxonomy(path)


def test_a_change_that_would_break_the_taxonomy_is_refused(taxonomy_copy):
    reasons, files = state(taxonomy_copy)
    everything = load_taxonomy(taxonomy_copy / "reasons.yaml").classes
    with pytest.raises(MaintenanceError, match="действующих причин 1, нужно не меньше 2"):
        merge_reasons(reasons, files, everything, "everything_else", when=DAY)
    with pytest.raises(MaintenanceError, match="id 'loan_payment' уже занят"):
        rename_reason(reasons, files, "loan_early_repayment", "loan_payment", when=DAY)
    with pytest.raises(MaintenanceError, match="зарезервирована"):
        retire_reason(reasons, files, "unknown", "app_error", when=DAY)


def test_dry_run_prints_the_diff_and_writes_nothing(taxonomy_copy, capsys):
    before = {p: p.read_bytes() for p in taxonomy_copy.rglob("*") if p.is_file()}
    command = "taxonomy merge fee_dispute tariff_question --into tariff_question --dry-run"
    code = cli([*command.split(), "--date", "2026-11-23", *paths(taxonomy_copy)])
    out = capsys.readouterr().out
    assert code == 0
    assert "+    retired: 2026-11-23\n+    replaced_by: tariff_question" in out
    label = "за что списали 99 руб за смс уведомления? я их не подключал"
    assert f"\n-{label},fee_dispute,client\n" in out
    assert f"\n+{label},tariff_question,client\n" in out
    assert "цель: 60 + 60 = 120" in out
    assert "--dry-run: ничего не записано" in out
    assert {p: p.read_bytes() for p in taxonomy_copy.rglob("*") if p.is_file()} == before


def test_split_by_a_rule_file_lists_the_rest_for_manual_labelling(taxonomy_copy, tmp_path):
    reasons, files = state(taxonomy_copy)
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
    taxonomy = load_taxonomy_text(change.reasons_text, taxonomy_copy)
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


def test_split_keeps_the_defaulted_order_and_colour_of_the_other_reasons(taxonomy_copy):
    """A reasons.yaml without order and colour (both default by position): a split inserts
    reasons and retires one, so it writes out the defaults instead of renumbering the rest."""
    path = taxonomy_copy / "reasons.yaml"
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    for reason in raw["reasons"]:
        reason.pop("order"), reason.pop("colour")
    path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    before = load_taxonomy(path)
    reasons, files = state(taxonomy_copy)
    change = split_reason(
        reasons,
        files,
        "card_blocked",
        ["card_blocked_by_bank", "card_blocked_by_client"],
        lambda text: ["card_blocked_by_bank"],
        when=DAY,
    )
    write(change, taxonomy_copy, files)
    after = load_taxonomy(path)
    for reason in before.reasons:
        if reason.id != "card_blocked":
            assert after.by_id[reason.id].order == reason.order
            assert after.by_id[reason.id].colour == reason.colour
    assert after.by_id["card_blocked_by_bank"].colour == before.by_id["card_blocked"].colour
    assert after.by_id["card_blocked_by_client"].colour not in {r.colour for r in before.reasons}
