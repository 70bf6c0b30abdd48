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
    assert "'#393b79' — возможно, имелось в виду colour" in str(info.value)


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


# --- a new organisation's minimal reasons.yaml ---------------------------------------------------

CITY_REASONS = [
    ("street_lighting", "Не горят фонари"),
    ("garbage_collection", "Не вывозят мусор"),
    ("road_potholes", "Ямы на дороге"),
    ("snow_removal", "Не убран снег"),
    ("heating_outage", "Нет отопления"),
    ("hot_water", "Нет горячей воды"),
    ("yard_improvement", "Благоустройство двора"),
    ("public_transport", "Общественный транспорт"),
    ("noise_complaint", "Шум от соседей и стройки"),
    ("stray_animals", "Бездомные животные"),
    ("illegal_parking", "Незаконная парковка"),
    ("elevator_broken", "Не работает лифт"),
]


def minimal_city(with_definitions: bool) -> dict:
    """A city complaint desk's first reasons.yaml: 12 reasons with id, title, owner, quadrant,
    target only (and, the second time, a definition and the reserved «Не определено»)."""
    reasons = [
        {
            "id": rid,
            "title": title,
            "owner": "housing",
            "quadrant": "eliminate",
            "target": {"metric": "weekly_volume", "value": 40, "due": "2027-06-30"},
        }
        for rid, title in CITY_REASONS
    ]
    if with_definitions:
        for reason in reasons:
            reason["definition"] = f"Обращения жителей по теме «{reason['title']}» в городе."
        reasons.append(
            {
                "id": "unknown",
                "title": "Не определено",
                "definition": "Обращения, которые модель не отнесла ни к одной причине.",
                "owner": "housing",
                "quadrant": "eliminate",
                "reserved": True,
            }
        )
    owners = [{"id": "housing", "title": "Управление ЖКХ"}]
    return {"version": "2026.12.1", "owners": owners, "reasons": reasons}


def test_minimal_reasons_say_what_to_write(tmp_path):
    with pytest.raises(TaxonomyError) as caught:
        load_taxonomy(dump(tmp_path, minimal_city(with_definitions=False)))
    message = str(caught.value)
    # order, colour and group have defaults now; definition and undefined_reason do not
    assert ".order" not in message and ".colour" not in message and ".group" not in message
    assert "reasons[0] (id=street_lighting).definition: обязательный ключ отсутствует" in message
    assert "не короче 20 символов; например: definition: " in message
    assert "undefined_reason: обязательный ключ отсутствует" in message
    assert "reserved: true" in message


def test_minimal_reasons_get_order_colour_and_group_by_default(tmp_path):
    taxonomy = load_taxonomy(dump(tmp_path, minimal_city(with_definitions=True)))
    assert taxonomy.undefined_reason == "unknown"
    assert len(taxonomy.classes) == 12
    assert taxonomy.classes[0] == "street_lighting"
    assert [r.order for r in taxonomy.reasons] == list(range(1, 14))
    assert len({r.colour for r in taxonomy.reasons}) == 13
    assert taxonomy.by_id["street_lighting"].group == ""
    assert "рекомендуется от 20 до 30" in check(tmp_path / "reasons.yaml")


def test_explicit_colours_are_not_reused_by_defaults(tmp_path):
    raw = minimal_city(with_definitions=True)
    raw["reasons"][5]["colour"] = "#1F77B4"  # the palette's first colour, taken explicitly
    taxonomy = load_taxonomy(dump(tmp_path, raw))
    assert taxonomy.by_id["street_lighting"].colour != "#1f77b4"


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("colour", "red", 'например: colour: "#1f77b4"'),
        ("order", "первый", "по умолчанию позиция в файле"),
        ("quadrant", "fix", "eliminate — устранить причину"),
        (
            "target",
            {"metric": "count", "value": 1, "due": "2027-06-30"},
            "cpx — обращений на 1 000",
        ),
        ("target", {"metric": "share", "value": 0.1, "due": "30.06.2027"}, "due: 2027-06-30"),
    ],
)
def test_invalid_key_says_what_to_write(tmp_path, key, value, expected):
    raw = minimal_city(with_definitions=True)
    raw["reasons"][0][key] = value
    with pytest.raises(TaxonomyError, match="что писать") as caught:
        load_taxonomy(dump(tmp_path, raw))
    assert expected in str(caught.value)
