"""The labelling round trip: export contacts worth labelling, import the labels back.

Every test works on a copy of ``taxonomy/`` in a temporary folder; nothing runs DVC.
"""

from __future__ import annotations

import copy
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from pipeline.cli import main as cli
from pipeline.io.partitions import write_dataset
from pipeline.taxonomy import selection
from pipeline.taxonomy.label_import import check_import, import_labels, read_labelled
from pipeline.taxonomy.labelling import export_labeling, pick_for_labeling
from pipeline.taxonomy.labels import labels_table, load_labels, read_label_folder, text_key
from pipeline.taxonomy.schema import MaintenanceError, load_taxonomy

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
    """A warehouse ``contacts`` table and a classified dataset like the pipeline writes."""
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
    # classify stores each contact's reasons by the ISO week of the contact
    classified = folder / "classified"
    write_dataset(
        classified,
        frame[["contact_id", "top_reason_id", "runner_up_confidence"]],
        frame["iso_week"],
    )
    return warehouse, classified


def test_export_picks_undefined_torn_and_least_confident_contacts(taxonomy_copy, tmp_path):
    warehouse, classified = fake_outputs(tmp_path)
    picked = export_labeling(
        warehouse,
        tmp_path / "out",
        taxonomy_copy / "reasons.yaml",
        taxonomy_copy / "labels",
        classified,
        n=5,
    )
    # selection.choose: every reason has 40+ labels, so the first round goes by the margin
    # between the two likeliest reasons; every fifth pick is random (seeded: the same each run)
    assert picked["contact_id"].tolist() == [
        "call:1",  # below the threshold, 0.09 vs 0.08
        "complaint:3",  # torn: 0.47 vs 0.45
        "complaint:2",  # torn: 0.41 vs 0.38
        "call:9",  # 0.58 vs 0.40
        "complaint:7",  # the random fifth
    ]
    first = picked.iloc[0]
    assert first["suggested_reason_id"] == "statement_request"
    assert first["why"].startswith("не определено")
    assert picked.iloc[1]["why"] == "модель колеблется: sms_code_missing 0.47 / app_error 0.45"
    assert picked.iloc[3]["why"] == "низкая уверенность: 0.58"
    assert picked.iloc[4]["why"].startswith("случайный выбор: ")
    assert picked.iloc[4]["why"].endswith("таких текстов 2")
    assert picked["source"].tolist() == ["agent", "client", "client", "agent", "client"]
    again = export_labeling(
        warehouse,
        tmp_path / "again",
        taxonomy_copy / "reasons.yaml",
        taxonomy_copy / "labels",
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
    taxonomy = load_taxonomy(taxonomy_copy / "reasons.yaml")
    values = [c.get("value") for c in choices.findall("Choice")]
    assert values == [*taxonomy.classes, "unknown"]
    assert choices.find("Choice").get("html").startswith("Не приходит СМС-код")


def test_a_label_studio_export_imports_back_unchanged(taxonomy_copy, tmp_path):
    warehouse, classified = fake_outputs(tmp_path)
    picked = export_labeling(
        warehouse,
        tmp_path / "out",
        taxonomy_copy / "reasons.yaml",
        taxonomy_copy / "labels",
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

    out = taxonomy_copy / "labels" / "labelling_2026_w47.csv"
    result = import_labels(export, out, taxonomy_copy / "reasons.yaml", taxonomy_copy / "labels")
    written = pd.read_csv(out, dtype=str, keep_default_na=False)
    expected = picked.rename(columns={"suggested_reason_id": "reason_id_"})[
        ["text", "reason_id_", "source"]
    ].set_axis(["text", "reason_id", "source"], axis=1)
    pd.testing.assert_frame_equal(written, expected.reset_index(drop=True))
    assert result.duplicates == 0 and not result.conflicts
    load_labels(
        taxonomy_copy / "labels", load_taxonomy(taxonomy_copy / "reasons.yaml")
    )  # still valid
    # importing the same export again adds nothing
    again = import_labels(export, out, taxonomy_copy / "reasons.yaml", taxonomy_copy / "labels")
    assert len(again.new) == 0 and again.duplicates == len(picked)


def test_import_reports_duplicates_and_refuses_conflicts(taxonomy_copy, tmp_path):
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
    out = taxonomy_copy / "labels" / "imported.csv"
    with pytest.raises(MaintenanceError, match="1 противоречий: ничего не записано"):
        import_labels(
            labelled,
            out,
            taxonomy_copy / "reasons.yaml",
            taxonomy_copy / "labels",
            source="client",
        )
    assert not out.exists()

    taxonomy = load_taxonomy(taxonomy_copy / "reasons.yaml")
    existing = labels_table(read_label_folder(taxonomy_copy / "labels"))
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
        taxonomy_copy / "reasons.yaml",
        taxonomy_copy / "labels",
        source="client",
        allow_conflicts=True,
    )
    assert pd.read_csv(out, dtype=str)["reason_id"].tolist() == [
        "cannot_login",
        "cashback_missing",
    ]


def test_import_names_the_row_of_an_unknown_reason(taxonomy_copy, tmp_path):
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
            labelled,
            taxonomy_copy / "labels/x.csv",
            taxonomy_copy / "reasons.yaml",
            taxonomy_copy / "labels",
        )


def test_a_hand_labelled_spreadsheet_with_titles_imports_as_it_is(taxonomy_copy, tmp_path, capsys):
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
    out = taxonomy_copy / "labels" / "ours.csv"
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
            str(taxonomy_copy / "reasons.yaml"),
            "--labels",
            str(taxonomy_copy / "labels"),
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
    training = load_labels(taxonomy_copy / "labels", load_taxonomy(taxonomy_copy / "reasons.yaml"))
    assert (training.frame["file"].astype(str).str.endswith("ours.csv")).sum() == 4

    with pytest.raises(MaintenanceError, match="нет колонки 'Категория'.*'Текст обращения'"):
        import_labels(
            sheet_path,
            taxonomy_copy / "labels" / "x.csv",
            taxonomy_copy / "reasons.yaml",
            taxonomy_copy / "labels",
            text_column="Текст обращения",
            label_column="Категория",
        )


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


def test_import_reads_a_hand_labelled_csv_by_its_column_names(tmp_path):
    """No flags: a CSV whose columns are «Текст» and «Причина» is a hand-labelled sheet."""
    path = tmp_path / "разметка.csv"
    path.write_text(
        "Текст;Причина\n"
        "Не приходит смс-код для входа в приложение;sms_code_missing\n"
        "Карта заблокирована без объяснения, в отделении не помогли;card_blocked\n",
        encoding="cp1251",
    )
    rows = read_labelled(path)
    assert rows["reason_id"].tolist() == ["sms_code_missing", "card_blocked"]
    assert rows["text"].iloc[0] == "Не приходит смс-код для входа в приложение"
    odd = tmp_path / "odd.csv"
    odd.write_text("отзыв,тип\nне приходит смс,sms\n", encoding="utf-8")
    with pytest.raises(MaintenanceError, match="искали: text, текст"):
        read_labelled(odd)


# --- which contacts first: pipeline.taxonomy.selection -------------------------------------------

STUB_PROBA = np.array(
    [
        [0.50, 0.45, 0.05],  # 0: a, torn between a and b
        [0.90, 0.05, 0.05],  # 1: a, sure
        [0.10, 0.60, 0.30],  # 2: b, margin 0.30
        [0.05, 0.48, 0.47],  # 3: b, torn between b and c
        [0.30, 0.08, 0.62],  # 4: c, margin 0.32
        [0.02, 0.03, 0.95],  # 5: c, sure
    ]
)


def test_the_thinnest_reasons_and_the_smallest_margins_come_first():
    counts = {"a": 50, "b": 3, "c": 10}  # b is the thinnest, a is not thin (>= THIN labels)
    order = selection.pick("margin_by_reason", STUB_PROBA, ["a", "b", "c"], counts, 6)
    # round 1: the least certain contact of b, c, a (thinnest first); round 2 the same
    assert order == [3, 4, 0, 2, 5, 1]
    assert selection.pick("margin", STUB_PROBA, ["a", "b", "c"], counts, 3) == [3, 0, 2]
    # the mix: the same order, every fifth pick drawn at random from the rest
    mixed = selection.choose(
        selection.margins(STUB_PROBA), np.array(["a", "b", "c"])[STUB_PROBA.argmax(1)], counts, 5
    )
    assert [i for i, _ in mixed[:4]] == [3, 4, 0, 2]
    assert [kind for _, kind in mixed] == ["uncertain"] * 4 + ["random"]
    assert mixed[4][0] in (1, 5)
    assert mixed == selection.choose(
        selection.margins(STUB_PROBA), np.array(["a", "b", "c"])[STUB_PROBA.argmax(1)], counts, 5
    )


def test_export_serves_a_thin_reason_first_and_says_so():
    candidates = pd.DataFrame(
        {
            "contact_id": ["c1", "c2", "c3"],
            "text": ["кэшбэк не пришёл", "карта не пришла вовремя", "код не приходит"],
            "reason_id": ["cashback_missing", "card_not_delivered", "sms_code_missing"],
            "class_status": "classified",
            "confidence": [0.60, 0.50, 0.45],
            "runner_up_id": ["fee_dispute", "card_reissue", "app_error"],
            "runner_up_confidence": [0.20, 0.45, 0.38],
        }
    )
    counts = {"cashback_missing": 4, "card_not_delivered": 60, "sms_code_missing": 60}
    picked = pick_for_labeling(candidates, 3, labelled_counts=counts, random_share=0)
    # the thin reason first despite its wider margin, then the smaller margins
    assert picked["contact_id"].tolist() == ["c1", "c2", "c3"]
    assert picked.iloc[0]["why"] == (
        "низкая уверенность: 0.60; у причины cashback_missing размечено 4"
    )
    assert picked.iloc[1]["why"].startswith("модель колеблется: card_not_delivered 0.50")
