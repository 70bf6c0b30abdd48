"""reasons.yaml: the shipped taxonomy is valid, and each maintainer mistake is named precisely."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from pipeline.taxonomy.schema import TaxonomyError, check, load_taxonomy

ROOT = Path(__file__).resolve().parents[1]
REASONS = ROOT / "taxonomy" / "reasons.yaml"


@pytest.fixture()
def raw() -> dict:
    return yaml.safe_load(REASONS.read_text(encoding="utf-8"))


def dump(tmp_path: Path, data: dict) -> Path:
    path = tmp_path / "reasons.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def find(data: dict, reason_id: str) -> dict:
    return next(r for r in data["reasons"] if r["id"] == reason_id)


def test_shipped_taxonomy_is_valid_and_in_client_words():
    taxonomy = load_taxonomy(REASONS)
    assert 20 <= len(taxonomy.classes) <= 30
    assert taxonomy.undefined.title == "Не определено"
    assert taxonomy.title("sms_code_missing") == "Не приходит СМС-код"
    # every active reason has exactly one owner that exists, and a target
    for rid in taxonomy.classes:
        reason = taxonomy.by_id[rid]
        assert reason.owner in taxonomy.owner_titles
        assert reason.target is not None
    assert taxonomy.successor("online_bank_problem") == "cannot_login"


def test_duplicate_id_is_named(tmp_path, raw):
    raw["reasons"][1]["id"] = raw["reasons"][0]["id"]
    with pytest.raises(
        TaxonomyError, match=r"reasons\[1\] \(id=sms_code_missing\): id повторяется"
    ):
        load_taxonomy(dump(tmp_path, raw))


def test_unknown_quadrant_lists_the_allowed_ones(tmp_path, raw):
    find(raw, "card_blocked")["quadrant"] = "ignore"
    with pytest.raises(TaxonomyError) as info:
        load_taxonomy(dump(tmp_path, raw))
    message = str(info.value)
    assert "(id=card_blocked).quadrant" in message
    assert "'eliminate', 'automate', 'simplify' or 'leverage'" in message
    assert "найдено: 'ignore'" in message


def test_missing_owner(tmp_path, raw):
    del find(raw, "fee_dispute")["owner"]
    with pytest.raises(TaxonomyError, match=r"\(id=fee_dispute\)\.owner: обязательный ключ"):
        load_taxonomy(dump(tmp_path, raw))


def test_owner_not_declared(tmp_path, raw):
    find(raw, "fee_dispute")["owner"] = "marketing"
    with pytest.raises(TaxonomyError, match=r"владелец 'marketing' не объявлен в owners"):
        load_taxonomy(dump(tmp_path, raw))


def test_bad_due_date(tmp_path, raw):
    find(raw, "app_error")["target"]["due"] = "2027-02-30"
    with pytest.raises(TaxonomyError, match=r"\(id=app_error\)\.target\.due: ожидается дата"):
        load_taxonomy(dump(tmp_path, raw))


def test_replaced_by_must_exist(tmp_path, raw):
    find(raw, "online_bank_problem")["replaced_by"] = "internet_bank"
    with pytest.raises(TaxonomyError, match=r"replaced_by: причины 'internet_bank' нет"):
        load_taxonomy(dump(tmp_path, raw))


def test_retired_reason_needs_a_successor(tmp_path, raw):
    del find(raw, "online_bank_problem")["replaced_by"]
    with pytest.raises(TaxonomyError, match=r"online_bank_problem\)\.replaced_by: у выведенной"):
        load_taxonomy(dump(tmp_path, raw))


def test_fewer_than_twenty_reasons_is_a_warning_not_an_error(tmp_path, raw):
    keep = {"unknown", "online_bank_problem", "cannot_login"}
    raw["reasons"] = [r for r in raw["reasons"] if r["id"] in keep or r["order"] <= 10]
    path = dump(tmp_path, raw)
    assert len(load_taxonomy(path).classes) == 10
    out = check(path)
    assert "OK" in out
    assert "предупреждение: действующих причин 10, рекомендуется от 20 до 30" in out
    assert "прячут" in out


def test_more_than_thirty_reasons_is_a_warning_not_an_error(tmp_path, raw):
    for i in range(5):
        clone = dict(
            find(raw, "new_product"), id=f"new_product_{i}", order=200 + i, colour=f"#00000{i}"
        )
        raw["reasons"].append(clone)
    path = dump(tmp_path, raw)
    assert len(load_taxonomy(path).classes) == 32
    assert "действующих причин 32, рекомендуется от 20 до 30" in check(path)
    assert "трудно различить" in check(path)
    assert "предупреждение" not in check(REASONS)


def test_fewer_than_two_reasons_is_refused(tmp_path, raw):
    keep = {"unknown", "online_bank_problem"}
    raw["reasons"] = [r for r in raw["reasons"] if r["id"] in keep or r["order"] == 1]
    with pytest.raises(TaxonomyError, match=r"действующих причин 1, нужно не меньше 2"):
        load_taxonomy(dump(tmp_path, raw))


def test_typo_in_a_key_is_not_silently_ignored(tmp_path, raw):
    reason = find(raw, "atm_problem")
    reason["colur"] = reason.pop("colour")
    with pytest.raises(TaxonomyError) as info:
        load_taxonomy(dump(tmp_path, raw))
    assert "(id=atm_problem).colur: неизвестный ключ" in str(info.value)
    assert "(id=atm_problem).colour: обязательный ключ" in str(info.value)


def test_broken_yaml_names_the_line(tmp_path):
    path = tmp_path / "reasons.yaml"
    path.write_text("version: 1\nreasons:\n  - id: a\n   title: [\n", encoding="utf-8")
    with pytest.raises(TaxonomyError, match=r"reasons\.yaml, строка \d+: некорректный YAML"):
        load_taxonomy(path)


def test_cli_check(capsys):
    from pipeline.cli import main

    assert main(["taxonomy", "check", "--taxonomy", str(REASONS)]) == 0
    assert "OK" in capsys.readouterr().out


def test_impossible_date_is_a_message_not_a_crash(tmp_path):
    text = (ROOT / "taxonomy/reasons.yaml").read_text(encoding="utf-8")
    broken = text.replace("due: 2027-03-31", "due: 2027-02-30", 1)
    path = tmp_path / "reasons.yaml"
    path.write_text(broken, encoding="utf-8")
    with pytest.raises(TaxonomyError, match=r"target\.due.*ГГГГ-ММ-ДД.*2027-02-30"):
        load_taxonomy(path)
