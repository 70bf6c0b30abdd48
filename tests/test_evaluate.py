"""``python -m pipeline evaluate`` on labelled files, and real-text robustness of the text chain.

Labelled texts come from ``taxonomy/labels/*.csv`` (ours). The benchmark on the public
gpb-sravni reviews runs only where ``../shared/data`` exists (not in CI).
"""

from __future__ import annotations

import csv
import html
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipeline.cli import main as cli
from pipeline.config import load_section
from pipeline.io.tables import TableError
from pipeline.model.training import TrainConfig, model_inputs
from pipeline.taxonomy.labelfiles import read_labelled
from pipeline.taxonomy.labels import LabelError, read_label_files
from pipeline.taxonomy.schema import load_taxonomy
from pipeline.text import normalize
from pipeline.tools.evaluate import (
    OTHER_LABEL,
    EvaluateError,
    EvaluateOptions,
    _apply_taxonomy,
    classifier_factory,
    prepare,
)

ROOT = Path(__file__).resolve().parents[1]
PARAMS = ROOT / "params.yaml"
LABELS = ROOT / "taxonomy" / "labels"
TAXONOMY = ROOT / "taxonomy" / "reasons.yaml"
REASONS = ("sms_code_missing", "card_blocked", "loan_payment", "atm_problem")


def labelled_texts() -> dict[str, list[str]]:
    """Our labelled texts by reason id, in file order (read by the train stage's reader)."""
    frame = read_label_files(LABELS)
    return frame.groupby("reason_id", sort=False)["text"].agg(list).to_dict()


def sample_rows(per_reason: int = 12, reasons=REASONS) -> list[dict]:
    texts = labelled_texts()
    return [
        {"text": text, "reason_id": reason, "source": "client"}
        for reason in reasons
        for text in texts[reason][:per_reason]
    ]


def write_csv(path: Path, rows: list[dict], delimiter: str = ",", encoding="utf-8") -> Path:
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), delimiter=delimiter)
        writer.writeheader()
        writer.writerows(rows)
    return path


def run_cli(capsys, *args: str) -> tuple[int, str, str]:
    code = cli(["--params", str(PARAMS), "evaluate", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


# --- the report --------------------------------------------------------------------------------


def test_evaluate_writes_a_sane_report_and_a_russian_summary(tmp_path, capsys) -> None:
    rows = sample_rows()
    rows += [{"text": "", "reason_id": "card_blocked", "source": "client"}] * 2
    rows += [
        {
            "text": "Хочу сменить фамилию в профиле",
            "reason_id": "personal_data_change",
            "source": "client",
        },
        {
            "text": "поменяла паспорт, обновите данные",
            "reason_id": "personal_data_change",
            "source": "client",
        },
    ]
    path = write_csv(tmp_path / "labels.csv", rows)
    out = tmp_path / "report.json"
    code, stdout, stderr = run_cli(
        capsys, "--labels", str(path), "--folds", "3", "--out", str(out)
    )
    assert code == 0, stderr
    report = json.loads(out.read_text(encoding="utf-8"))
    for key in (
        "macro_f1",
        "accuracy",
        "coverage",
        "macro_f1_covered",
        "precision_covered",
        "per_label",
        "folds",
        "rare_labels",
        "n_examples",
        "wall_time_s",
        "skipped",
    ):
        assert key in report, key
    assert report["n_examples"] == 4 * 12
    assert report["taxonomy"] == "provisional"
    assert set(report["per_label"]) == set(REASONS)
    assert sum(m["support"] for m in report["per_label"].values()) == 48
    # four clearly different reasons: far above chance (0.25)
    assert 0.7 <= report["macro_f1"] <= 1
    assert 0.7 <= report["accuracy"] <= 1
    assert 0 <= report["coverage"] <= 1
    assert len(report["folds"]["macro_f1"]) == 3
    assert report["wall_time_s"] > 0
    assert report["skipped"]["empty_text"] == 2
    assert report["rare_labels"] == {
        "threshold": 3,
        "mode": "drop",
        "mode_from": "default",
        "labels": {"personal_data_change": 2},
        "merged_into": None,
        "dropped_examples": 2,
    }
    assert "macro-F1" in stdout and "Причина" in stdout and "sms_code_missing" in stdout
    assert "ВНИМАНИЕ: отброшены редкие метки" in stdout and "--rare merge" in stdout
    assert "пустых текстов 2" in stdout


def test_rare_labels_merged_into_one_class(tmp_path, capsys) -> None:
    rows = sample_rows(per_reason=10, reasons=REASONS[:3])
    texts = labelled_texts()
    rows += [
        {"text": t, "reason_id": "cashback_missing", "source": "client"}
        for t in texts["cashback_missing"][:2]
    ]
    rows += [
        {"text": t, "reason_id": "deposit_question", "source": "client"}
        for t in texts["deposit_question"][:2]
    ]
    path = write_csv(tmp_path / "labels.csv", rows)
    out = tmp_path / "report.json"
    code, stdout, stderr = run_cli(
        capsys, "--labels", str(path), "--folds", "3", "--rare", "merge", "--out", str(out)
    )
    assert code == 0, stderr
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["rare_labels"]["merged_into"] == OTHER_LABEL
    assert report["rare_labels"]["labels"] == {"cashback_missing": 2, "deposit_question": 2}
    assert report["per_label"][OTHER_LABEL]["support"] == 4
    assert report["n_examples"] == 34
    assert f"объединены в «{OTHER_LABEL}»" in stdout


def rows_frame(labels: list[str], texts: list[str] | None = None) -> pd.DataFrame:
    texts = texts or [f"текст номер {i} про карту" for i in range(len(labels))]
    return pd.DataFrame(
        {
            "text": texts,
            "label": labels,
            "key": "",
            "where": [f"labels.csv, строка {i + 2}" for i in range(len(labels))],
        }
    )


def test_rare_labels_dropped_by_option_are_counted() -> None:
    prepared = prepare(
        rows_frame(["a"] * 5 + ["b"] * 5 + ["c"] * 2), EvaluateOptions(folds=3, rare="drop")
    )
    assert sorted(set(prepared.labels)) == ["a", "b"]
    assert prepared.rare["labels"] == {"c": 2}
    assert prepared.rare["dropped_examples"] == 2
    assert prepared.rare["mode_from"] == "option"


def test_merged_rare_labels_still_too_few_are_dropped_with_a_note() -> None:
    prepared = prepare(
        rows_frame(["a"] * 5 + ["b"] * 5 + ["c"]), EvaluateOptions(folds=3, rare="merge")
    )
    assert OTHER_LABEL not in prepared.labels
    assert prepared.rare["merged_into"] is None
    assert "меньше числа фолдов" in prepared.rare["note"]


def test_min_per_label_raises_the_rare_threshold() -> None:
    prepared = prepare(
        rows_frame(["a"] * 9 + ["b"] * 9 + ["c"] * 4), EvaluateOptions(folds=3, min_per_label=5)
    )
    assert prepared.rare["threshold"] == 5
    assert prepared.rare["labels"] == {"c": 4}


def test_duplicates_by_key_and_by_text_are_dropped_and_counted() -> None:
    texts = ["один", "два", "три", "Три ", "пять", "шесть", "семь", "восемь", "девять", "десять"]
    frame = rows_frame(["a", "a", "b", "b", "a", "b", "a", "b", "a", "b"], texts)
    frame["key"] = ["u1", "u1", "u2", "u3", "", "", "", "", "", ""]
    prepared = prepare(frame, EvaluateOptions(folds=2, key_column="key"))
    assert prepared.skipped["duplicate_key"] == 1  # "два" repeats u1
    assert prepared.skipped["duplicate_text"] == 1  # "три" and "Три " with the same label
    assert prepared.texts == ["один", "три", "пять", "шесть", "семь", "восемь", "девять", "десять"]


@pytest.mark.parametrize(("folds", "needed"), [(2, 4), (3, 3), (5, 5), (10, 10)])
def test_a_label_needs_two_examples_in_every_training_part(folds, needed) -> None:
    # the model's own inner CV (C, calibration) splits each training part once more
    assert EvaluateOptions(folds=folds).rare_threshold == needed


# --- bad input: clear message, exit 2, no traceback -------------------------------------------


def test_missing_file(tmp_path, capsys) -> None:
    code, _, stderr = run_cli(capsys, "--labels", str(tmp_path / "nope.csv"))
    assert code == 2
    assert "nope.csv: файл или папка не найдены" in stderr
    assert "Traceback" not in stderr


def test_missing_column_lists_the_columns_the_file_has(tmp_path, capsys) -> None:
    path = write_csv(tmp_path / "labels.csv", sample_rows(per_reason=3))
    code, _, stderr = run_cli(capsys, "--labels", str(path), "--text-column", "body")
    assert code == 2
    assert "нет колонки 'body'" in stderr
    assert "'text', 'reason_id', 'source'" in stderr
    assert "--text-column" in stderr


def test_one_class_is_refused(tmp_path, capsys) -> None:
    path = write_csv(tmp_path / "labels.csv", sample_rows(per_reason=10, reasons=REASONS[:1]))
    code, _, stderr = run_cli(capsys, "--labels", str(path))
    assert code == 2
    assert "одна метка: 'sms_code_missing' (10 примеров)" in stderr


def test_every_label_rare_is_refused_with_advice(tmp_path, capsys) -> None:
    path = write_csv(tmp_path / "labels.csv", sample_rows(per_reason=3))
    code, _, stderr = run_cli(capsys, "--labels", str(path), "--folds", "5")
    assert code == 2
    assert "после обработки редких меток (меньше 5 примеров)" in stderr
    assert "--rare merge" in stderr


def test_unknown_label_names_file_line_and_label(tmp_path, capsys) -> None:
    rows = sample_rows(per_reason=5)
    rows[1]["reason_id"] = "card_lost"
    path = write_csv(tmp_path / "labels.csv", rows)
    code, _, stderr = run_cli(capsys, "--labels", str(path), "--taxonomy", str(TAXONOMY))
    assert code == 2
    assert "labels.csv, строка 3: неизвестная причина 'card_lost'" in stderr
    assert "этих id нет в таксономии" in stderr


def test_titles_are_accepted_as_labels() -> None:
    atm = load_taxonomy(TAXONOMY).title("atm_problem")
    labels = ["Не приходит СМС-код", "не приходит смс-код", "card_blocked", atm, atm.upper()]
    rows, remapped = _apply_taxonomy(rows_frame(labels), TAXONOMY)
    assert list(rows["label"]) == ["sms_code_missing"] * 2 + ["card_blocked"] + ["atm_problem"] * 2
    assert remapped == 0


def test_many_unknown_labels_are_summarised_with_the_likely_cause() -> None:
    wrong = ["Не приходит смс код", "Не пришел СМС-код", "не приходят смс-коды"]
    labels = [wrong[i % 3] for i in range(40)] + ["card_blocked"] * 5
    with pytest.raises(EvaluateError) as caught:
        prepare(rows_frame(labels), EvaluateOptions(folds=2), TAXONOMY)
    message = str(caught.value)
    assert "неизвестная причина — строк: 40, разных значений 3" in message
    assert "labels.csv, строка 6: 'Не пришел СМС-код'; … и ещё 35" in message
    assert "строка 7" not in message
    assert "похоже, это названия причин, а не id" in message
    assert "→ sms_code_missing «Не приходит СМС-код»" in message
    assert message.count("\n") <= 4


def test_reserved_reason_is_not_a_label(tmp_path) -> None:
    frame = rows_frame(["unknown", "card_blocked", "card_blocked"])
    with pytest.raises(
        EvaluateError,
        match="строка 2: причина «Не определено» зарезервирована и не размечается 'unknown'",
    ):
        prepare(frame, EvaluateOptions(folds=2), TAXONOMY)


def test_retired_labels_map_to_their_successor() -> None:
    frame = rows_frame(["online_bank_problem"] * 3 + ["cannot_login"] * 3 + ["atm_problem"] * 5)
    prepared = prepare(frame, EvaluateOptions(folds=2), TAXONOMY)
    assert prepared.remapped == 3
    assert sorted(set(prepared.labels)) == ["atm_problem", "cannot_login"]
    assert list(prepared.labels).count("cannot_login") == 6


def test_fewer_than_two_folds_is_refused() -> None:
    with pytest.raises(EvaluateError, match="--folds 1: нужно не меньше 2"):
        prepare(rows_frame(["a", "b"]), EvaluateOptions(folds=1))


def test_no_usable_rows_is_refused() -> None:
    with pytest.raises(EvaluateError, match="нет ни одного примера"):
        prepare(rows_frame(["a", "b"], ["", "  "]), EvaluateOptions(folds=2))


# --- formats -----------------------------------------------------------------------------------


def read(path: Path, **options) -> pd.DataFrame:
    frame, _ = read_labelled(path, **options)
    return frame


def test_csv_in_cp1251_with_semicolons_reads_like_utf8(tmp_path) -> None:
    rows = sample_rows(per_reason=4)
    utf8 = read(write_csv(tmp_path / "a.csv", rows))
    cp1251_rows = [{k: v.replace("😡", "") for k, v in r.items()} for r in rows]
    legacy = read(write_csv(tmp_path / "b.csv", cp1251_rows, ";", "cp1251"))
    assert legacy["label"].tolist() == utf8["label"].tolist()
    assert legacy["text"].tolist() == [r["text"] for r in cp1251_rows]
    assert legacy["where"].iloc[0] == "b.csv, строка 2"


def test_xlsx_input(tmp_path) -> None:
    rows = sample_rows(per_reason=4)
    path = tmp_path / "разметка.xlsx"
    pd.DataFrame(rows).rename(
        columns={"text": "Текст обращения", "reason_id": "Причина"}
    ).to_excel(path, index=False)
    frame = read(path, text_column="текст обращения", label_column="ПРИЧИНА")
    assert frame["text"].tolist() == [r["text"] for r in rows]
    assert frame["label"].tolist() == [r["reason_id"] for r in rows]
    assert frame["where"].iloc[0] == "разметка.xlsx, строка 2"


def test_jsonl_input_with_a_broken_line_counted(tmp_path) -> None:
    rows = sample_rows(per_reason=4)
    lines = [
        json.dumps({"body": r["text"], "reason": r["reason_id"]}, ensure_ascii=False) for r in rows
    ]
    lines.insert(3, "{not json")
    path = tmp_path / "labels.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    frame, read_info = read_labelled(path, text_column="body", label_column="reason")
    assert len(frame) == len(rows)
    assert read_info["malformed_rows"] == [
        "labels.jsonl, строка 4: не JSON (Expecting property name enclosed in double quotes)"
    ]
    assert frame["where"].iloc[3] == "labels.jsonl, строка 5"


def test_folder_of_json_arrays_deduplicated_by_key(tmp_path) -> None:
    rows = sample_rows(per_reason=6, reasons=REASONS[:2])
    records = [
        {
            "review_text": r["text"],
            "product_type": r["reason_id"],
            "url": f"https://example.ru/{i}/",
        }
        for i, r in enumerate(rows)
    ]
    (tmp_path / "a.json").write_text(json.dumps(records[:8], ensure_ascii=False), "utf-8")
    (tmp_path / "b.json").write_text(json.dumps(records[6:], ensure_ascii=False), "utf-8")
    (tmp_path / "README.md").write_text("# not data", "utf-8")
    options = EvaluateOptions(
        text_column="review_text", label_column="product_type", key_column="url", folds=2
    )
    frame, read_info = read_labelled(tmp_path, "review_text", "product_type", "url")
    assert len(read_info["files"]) == 2 and len(frame) == 14
    prepared = prepare(frame, options)
    assert prepared.skipped["duplicate_key"] == 2
    assert len(prepared.texts) == 12


def test_json_that_is_not_an_array_is_refused(tmp_path) -> None:
    path = tmp_path / "labels.json"
    path.write_text('{"text": "карта", "reason_id": "a"}', encoding="utf-8")
    with pytest.raises(TableError, match="ожидается JSON-массив объектов"):
        read_labelled(path)


def test_unsupported_format_is_refused(tmp_path) -> None:
    path = tmp_path / "labels.docx"
    path.write_bytes(b"PK")
    with pytest.raises(TableError, match="неподдерживаемый формат '.docx'"):
        read_labelled(path)


# --- real-text robustness: golden tables -------------------------------------------------------

# Real export forms: Outlook/Word HTML, Gmail HTML replies, Thunderbird and Outlook quotes,
# signatures, double-escaped entities; the expected value is the lemma string.
ROBUSTNESS_CASES = [
    (
        '<p class="MsoNormal">Здравствуйте!<o:p></o:p></p><p class="MsoNormal">Не могу войти '
        "в личный кабинет, пишет &laquo;неверный пароль&raquo;&nbsp;&mdash; хотя пароль "
        "верный.<o:p></o:p></p>",
        "не_мочь войти личный кабинет писать неверный пароль пароль верный",
    ),
    (
        '<span style="font-size:11pt;color:#1F497D">Банкомат&nbsp;съел&nbsp;карту</span><br/>'
        '<img src="cid:image001.png@01D9">',
        "банкомат съесть карта",
    ),
    # double-escaped HTML from a CRM field ("&amp;nbsp;")
    ("&lt;p&gt;Не&amp;nbsp;приходит код&lt;/p&gt;", "не_приходить код"),
    # Gmail reply: the attribution line keeps spaces inside <...> once the <a> tag is gone
    (
        '<div dir="ltr">Карта не пришла<div><br></div><div class="gmail_quote">'
        '<div dir="ltr" class="gmail_attr">пт, 6 нояб. 2026 г. в 10:12, Газпромбанк &lt;'
        '<a href="mailto:info@gpb.ru">info@gpb.ru</a>&gt;:<br></div>'
        '<blockquote class="gmail_quote">Ваша карта готова</blockquote></div></div>',
        "карта не_прийти",
    ),
    # Thunderbird attribution "ДД.ММ.ГГГГ ЧЧ:ММ, Имя пишет:"
    (
        "Карта не пришла\n\n06.11.2026 10:12, Иван Петров пишет:\nВаша карта готова, "
        "заберите в отделении",
        "карта не_прийти",
    ),
    # ...but the client's own "приложение пишет:" is kept
    ("Приложение пишет:\nОшибка 500, не могу войти", "приложение писать ошибка 500 не_мочь войти"),
    (
        "Не работает приложение\n\n________________________________\nОт: Газпромбанк "
        "<info@gpb.ru>\nОтправлено: 6 ноября 2026 г. 10:12\nКому: Иван\nТема: Ответ\n\n"
        "Ваша карта заблокирована",
        "не_работать приложение",
    ),
    (
        "Спасибо за ответ, но вопрос не решен\n\nС уважением, Ольга\n\n-----Original "
        "Message-----\nFrom: bank\nВаш кредит одобрен",
        "ответ вопрос не_решить",
    ),
    (
        "Верните деньги!\n\nС уважением,\nИванов Иван Иванович\nведущий специалист\n"
        'ООО "Ромашка"\nтел. +7 (495) 123-45-67\nwww.romashka.ru',
        "вернуть деньги",
    ),
    ("Банкомат съел карту\r\n\r\nС уважением,\r\nПетров", "банкомат съесть карта"),
    ("Банкомат съел карту\n\nОтправлено из мобильной Почты Mail.ru", "банкомат съесть карта"),
    # one word, caps, numbers, mixed scripts, URLs
    ("Блокировка", "блокировка"),
    ("СБП", "сбп"),
    ("ЗДРАВСТВУЙТЕ!!! ВЕРНИТЕ МОИ ДЕНЬГИ!!!!!", "вернуть деньги"),
    (
        "Приложение Газпромбанк на iPhone 15 Pro не открывается после обновления iOS 18.1",
        "приложение газпромбанк iphone 15 pro не_открываться обновление ios 18 1",
    ),
    (
        "Оплатил через SberPay 1500₽, деньги списались 2 раза",
        "оплатить sberpay sumtoken деньги списаться 2 раз",
    ),
    (
        "перевод по номеру +79161234567 не дошёл уже 3 дня",
        "перевод номер phonetoken не_дойти 3 день",
    ),
    (
        "Вклад «Копить» 18,5% годовых — процент не начислили за октябрь",
        "вклад копить 18 5 годовой процент не_начислить октябрь",
    ),
    (
        "смотрите https://www.gazprombank.ru/personal/cards/ там написано иначе",
        "смотреть urltoken написать иначе",
    ),
    (
        "Обращение № 2611-0012345 от 06.11.2026: кредит не закрыт",
        "обращение 2611 кредит не_закрытый",
    ),
]


@pytest.mark.parametrize(("raw", "expected"), ROBUSTNESS_CASES)
def test_real_export_forms_lemmatise_to_the_message(raw, expected, lemmatizer) -> None:
    assert lemmatizer.lemmatize(raw) == expected


def test_very_long_text_is_fast_and_kept_whole(lemmatizer) -> None:
    import time

    text = "Здравствуйте, карта не пришла уже 2 недели, звонил 3 раза на горячую линию. " * 2000
    started = time.perf_counter()
    lemmas = lemmatizer.lemmatize(text).split()
    assert time.perf_counter() - started < 5
    assert lemmas.count("карта") == 2000


@pytest.mark.parametrize(
    "text",
    [
        ("01.01.2020 10:10 " * 10 + "\n") * 600,
        "<p>" + "a" * 100_000,
        "&amp;" * 30_000,
        "С уважением " * 10_000,
    ],
    ids=["date-lines", "unclosed-tag", "entities", "signoffs"],
)
def test_adversarial_long_inputs_stay_linear(text) -> None:
    import time

    started = time.perf_counter()
    normalize(text)
    assert time.perf_counter() - started < 2


# --- markup and signatures do not change the classifier's answer -------------------------------

WRAPPERS = {
    "outlook_html": lambda t: (
        '<html><head><style>p{margin:0}</style></head><body><p class="MsoNormal" '
        'style="font-family:&quot;Calibri&quot;">'
        + html.escape(t).replace(" ", "&nbsp;", 2)
        + "</p><p>&nbsp;</p><div>--&nbsp;</div><div>Иван Петров<br>+7 (916) 123-45-67</div>"
        "</body></html>"
    ),
    "outlook_reply": lambda t: (
        t + "\n\nС уважением,\nИван Петров\nООО «Ромашка»\n\n-----Original Message-----\n"
        "From: support@bank.ru\nSent: Friday, November 6, 2026 10:12 AM\nSubject: RE: "
        "обращение\n\nЗдравствуйте! Ваша карта заблокирована, кредит одобрен."
    ),
    "quoted_reply": lambda t: (
        t + "\n\n06.11.2026 10:12, Газпромбанк пишет:\n> Уважаемый клиент, ваша карта "
        "заблокирована.\n> Вклад закрыт."
    ),
    "gmail_html": lambda t: (
        '<div dir="ltr">' + html.escape(t) + '<div><br></div><div class="gmail_quote">'
        '<div dir="ltr" class="gmail_attr">пт, 6 нояб. 2026 г. в 10:12, Газпромбанк &lt;'
        '<a href="mailto:info@gpb.ru">info@gpb.ru</a>&gt;:<br></div><blockquote '
        'class="gmail_quote">Ваша карта заблокирована</blockquote></div></div>'
    ),
    "double_escaped": lambda t: html.escape(html.escape("<p>" + t + "</p>")),
    "phone_footer": lambda t: t + "\n\nОтправлено с iPhone",
}


def all_label_texts() -> list[str]:
    return [t for texts in labelled_texts().values() for t in texts]


@pytest.mark.parametrize("wrapper", list(WRAPPERS))
def test_markup_and_signatures_leave_every_label_text_unchanged(wrapper, lemmatizer) -> None:
    texts = all_label_texts()
    wrap = WRAPPERS[wrapper]
    changed = [t for t in texts if lemmatizer.lemmatize(wrap(t)) != lemmatizer.lemmatize(t)]
    assert changed == []


def test_classifier_answers_do_not_depend_on_markup(lemmatizer) -> None:
    by_reason = labelled_texts()
    train_texts, train_y, test_texts, test_y = [], [], [], []
    for reason, texts in by_reason.items():
        for i, text in enumerate(texts):
            held_out = i % 25 == 0  # two per reason: 54 texts never seen in fitting
            (test_texts if held_out else train_texts).append(text)
            (test_y if held_out else train_y).append(reason)
    config = load_section(PARAMS, "train", TrainConfig)
    model = classifier_factory(config)().fit(
        model_inputs(train_texts, lemmatizer), np.array(train_y)
    )
    plain = model.predict(model_inputs(test_texts, lemmatizer))
    accuracy = float(np.mean(plain == np.array(test_y)))
    assert accuracy > 0.7
    for name, wrap in WRAPPERS.items():
        wrapped = model.predict(model_inputs([wrap(t) for t in test_texts], lemmatizer))
        assert list(wrapped) == list(plain), name


def test_obvious_column_names_are_recognised_without_flags(tmp_path) -> None:
    """A sheet with «Текст» and «Причина» (or category) columns reads without --text-column."""
    rows = sample_rows(per_reason=4)
    path = tmp_path / "разметка.xlsx"
    pd.DataFrame(rows).rename(columns={"text": "Текст", "reason_id": "ПРИЧИНА"}).to_excel(
        path, index=False
    )
    frame = read(path)
    assert frame["text"].tolist() == [r["text"] for r in rows]
    assert frame["label"].tolist() == [r["reason_id"] for r in rows]
    # a portal export: "category" is the label, "text" the text
    portal = tmp_path / "portal.csv"
    pd.DataFrame(rows).rename(columns={"reason_id": "category"}).assign(
        id=range(len(rows))
    ).to_csv(portal, index=False)
    assert read(portal)["label"].tolist() == [r["reason_id"] for r in rows]
    # an explicit flag still wins over a recognised name
    both = tmp_path / "both.csv"
    pd.DataFrame(rows).assign(label="ignored").to_csv(both, index=False)
    assert set(read(both)) >= {"label"} and read(both)["label"].iloc[0] == rows[0]["reason_id"]
    assert read(both, label_column="label")["label"].iloc[0] == "ignored"


def test_unrecognised_columns_say_what_was_looked_for(tmp_path) -> None:
    path = tmp_path / "odd.csv"
    pd.DataFrame({"отзыв": ["не приходит смс"], "тип": ["sms"]}).to_csv(path, index=False)
    with pytest.raises(LabelError, match=r"не найдена колонка с текстом \(искали: text, текст"):
        read(path)
    with pytest.raises(LabelError, match="нет колонки 'тип2'.*--label-column"):
        read(path, text_column="отзыв", label_column="тип2")
