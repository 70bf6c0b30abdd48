"""pipeline/io/tables.py: one reader of CSV/TSV, XLSX, JSON and JSON lines, one encoding rule
and one delimiter rule, and each row's place in the file for messages."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from pipeline.io.tables import TableError, decode, detect_delimiter, fold_name, read_table

ROWS = [
    ("Не приходит код из СМС, уже третий раз", "sms_code_missing"),
    ("Карта заблокирована; банкомат «съел» её", "card_blocked"),
    ("Ёлки, опять списали за обслуживание", "service_fee"),
]


def test_cp1251_with_semicolons_as_excel_saves_it(tmp_path: Path) -> None:
    lines = ["Текст обращения;Причина"] + [f'"{text}";{label}' for text, label in ROWS]
    path = tmp_path / "выгрузка.csv"
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("cp1251"))
    table = read_table(path)
    assert (table.encoding, table.delimiter) == ("cp1251", ";")
    assert table.header == ["Текст обращения", "Причина"]
    assert [tuple(row) for row in table.rows] == ROWS  # the quoted ';' stays in the text
    assert table.frame(path.name)["where"].tolist()[0] == "выгрузка.csv, строка 2"


def test_utf8_with_bom_and_tabs_and_a_broken_row(tmp_path: Path) -> None:
    lines = ["text\treason"] + [f"{text}\t{label}" for text, label in ROWS]
    lines.insert(2, "только текст\tлишнее\tполе")
    path = tmp_path / "labels.tsv"
    path.write_bytes(b"\xef\xbb\xbf" + "\n".join(lines).encode("utf-8"))
    table = read_table(path)
    assert (table.encoding, table.delimiter) == ("utf-8-sig", "\t")
    assert table.header == ["text", "reason"]  # no BOM in the first name
    assert table.places == [2, 4, 5]
    assert table.problems(path.name) == ["labels.tsv, строка 3: полей 3 вместо 2"]


def test_trailing_delimiters_and_blank_lines_are_not_rows(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text("text,label\nкарта,card_blocked,,\n\nсмс,sms_code_missing\n", "utf-8")
    table = read_table(path)
    assert table.rows == [["карта", "card_blocked"], ["смс", "sms_code_missing"]]
    assert table.places == [2, 4]


def test_utf16_is_recognised_by_its_bom_and_unknown_bytes_are_named() -> None:
    assert decode("текст".encode("utf-16"), Path("a.csv")) == ("текст", "utf-16")
    with pytest.raises(TableError, match=r"a\.csv: не удалось определить кодировку"):
        decode("текст".encode("cp1251"), Path("a.csv"), ("utf-8",))


def test_an_undecodable_file_names_the_line_and_byte_per_encoding() -> None:
    data = "текст\r\nкарта".encode("cp1251") + b"\x98\r\n"  # 0x98: no character in cp1251
    with pytest.raises(TableError) as stopped:
        decode(data, Path("a.csv"), ("utf-8", "cp1251", "no-such-codec"))
    assert (
        "a.csv: не удалось определить кодировку: пробовали utf-8 (строка 1: байт 0xf2 не "
        "читается), cp1251 (строка 2: байт 0x98 не читается), no-such-codec (неизвестная "
        "кодировка)"
    ) in str(stopped.value)


def test_delimiter_by_known_names_or_else_by_width() -> None:
    header = "id;text,with comma;label"
    assert detect_delimiter(header) == ";"  # three columns beat two
    known = {"id", "label"}
    assert detect_delimiter("id,label;x", known=lambda h: len(known & set(h))) == ","
    assert detect_delimiter("nothing known", known=lambda h: len(known & set(h))) is None


def test_json_lines_keep_line_numbers_and_set_bad_lines_aside(tmp_path: Path) -> None:
    path = tmp_path / "labels.jsonl"
    lines = [json.dumps({"text": t, "label": r}, ensure_ascii=False) for t, r in ROWS]
    lines[1:1] = ["[1, 2]", "", "{broken"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    table = read_table(path)
    assert table.header == ["text", "label"]
    assert table.places == [1, 5, 6]
    assert table.problems(path.name) == [
        "labels.jsonl, строка 2: ожидается объект {...}",
        "labels.jsonl, строка 4: не JSON (Expecting property name enclosed in double quotes)",
    ]


def test_json_array_records_are_numbered(tmp_path: Path) -> None:
    path = tmp_path / "labels.json"
    path.write_text(
        json.dumps([{"text": "карта", "n": 3.0}, "строка", {"text": "смс", "extra": None}]),
        encoding="utf-8",
    )
    table = read_table(path)
    assert table.header == ["text", "n", "extra"]
    assert table.rows == [["карта", "3", None], ["смс", None, None]]
    frame = table.frame(path.name)
    assert frame["where"].tolist() == ["labels.json, запись 1", "labels.json, запись 3"]
    assert frame["n"].tolist() == ["3", ""]


def test_xlsx_rows_are_sheet_rows(tmp_path: Path) -> None:
    path = tmp_path / "разметка.xlsx"
    frame = pd.DataFrame({"Текст": [t for t, _ in ROWS], "Код": [1, 2, 3]})
    frame.to_excel(path, index=False)
    table = read_table(path)
    assert table.header == ["Текст", "Код"]
    assert [row[1] for row in table.rows] == ["1", "2", "3"]
    assert table.places == [2, 3, 4]
    empty = tmp_path / "пусто.xlsx"
    pd.DataFrame().to_excel(empty, index=False)
    with pytest.raises(TableError, match="лист пуст"):
        read_table(empty)


def test_empty_and_unsupported_files_are_refused(tmp_path: Path) -> None:
    (tmp_path / "empty.csv").write_text("  \n", encoding="utf-8")
    with pytest.raises(TableError, match="empty.csv: файл пуст"):
        read_table(tmp_path / "empty.csv")
    with pytest.raises(TableError, match="неподдерживаемый формат '.pdf'"):
        read_table(tmp_path / "report.pdf")


def test_names_fold_case_spaces_and_yo() -> None:
    assert fold_name("  Текст   Обращения ") == "текст обращения"
    assert fold_name("Ёмкость") == "емкость"


def test_a_stray_opening_quote_costs_only_its_own_line(tmp_path: Path) -> None:
    """«"Карта не пришла» without the closing quote used to swallow the following lines into
    one field (until the next quote in the file, here the one before «Нормальный»); the line is
    now read with the quote as text and every following line is its own row."""
    path = tmp_path / "crm.csv"
    lines = [
        "id,text,label",
        'RQ-1,"Карта не пришла,card',
        "RQ-2,Не приходит СМС,sms",
        'RQ-3,"Нормальный, текст",card',
        'RQ-4,"Снова не закрыта,card',  # the last line: the quote is open at the end of the file
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    table = read_table(path)
    assert table.rows == [
        ["RQ-1", '"Карта не пришла', "card"],
        ["RQ-2", "Не приходит СМС", "sms"],
        ["RQ-3", "Нормальный, текст", "card"],
        ["RQ-4", '"Снова не закрыта', "card"],
    ]
    assert table.places == [2, 3, 4, 5]
    assert table.stray_quotes == [2, 5] and not table.malformed


def test_a_stray_quote_in_a_line_that_still_does_not_fit_is_set_aside_alone(
    tmp_path: Path,
) -> None:
    path = tmp_path / "crm.csv"
    path.write_text('id;text;label\nRQ-1;"Карта не пришла\nRQ-2;СМС;sms\n', encoding="utf-8")
    table = read_table(path)
    assert table.rows == [["RQ-2", "СМС", "sms"]] and table.places == [3]
    assert table.problems(path.name) == ["crm.csv, строка 2: незакрытая кавычка, полей 2 вместо 3"]


def test_a_quoted_text_with_line_breaks_stays_one_row(tmp_path: Path) -> None:
    """A closed quote around a multi-line text (even a line with as many commas as the header)
    is one row; the next row keeps its physical line number."""
    path = tmp_path / "crm.csv"
    text = 'RQ-1,"Здравствуйте,\nкарта, не пришла, неделя\n""срочно"", жду",card'
    path.write_bytes(("id,text,label\r\n" + text + "\r\nRQ-2,СМС,sms\r\n").encode("utf-8"))
    table = read_table(path)
    assert table.rows == [
        ["RQ-1", 'Здравствуйте,\nкарта, не пришла, неделя\n"срочно", жду', "card"],
        ["RQ-2", "СМС", "sms"],
    ]
    assert table.places == [2, 5] and table.stray_quotes == []


def test_json_lines_end_in_lf_crlf_or_cr_and_an_array_in_a_jsonl_file_is_read_as_one(
    tmp_path: Path,
) -> None:
    """A JSON-lines file with mixed line ends used to read two records as one bad line; a
    .jsonl file holding one JSON array was one bad line (or one per line of the array)."""
    items = [{"text": text, "label": label} for text, label in ROWS]
    path = tmp_path / "mixed.jsonl"
    path.write_bytes("{}\r{}\n{}\r\n".format(*map(json.dumps, items)).encode("utf-8"))
    assert read_table(path).places == [1, 2, 3]
    for name, indent in (("one_line.jsonl", None), ("pretty.jsonl", 2)):
        path = tmp_path / name
        path.write_text(json.dumps([*items, 7], ensure_ascii=False, indent=indent), "utf-8")
        table = read_table(path)
        assert [row[0] for row in table.rows] == [text for text, _ in ROWS]
        assert table.problems(name) == [f"{name}, запись 4: ожидается объект {{...}}"]


def test_a_stray_quote_in_the_header_does_not_swallow_the_file(tmp_path: Path) -> None:
    path = tmp_path / "crm.csv"
    path.write_text('id;"text;label\nRQ-1;СМС;sms\nRQ-2;карта;card\n', encoding="utf-8")
    table = read_table(path)
    assert table.header == ["id", "text", "label"]
    assert table.rows == [["RQ-1", "СМС", "sms"], ["RQ-2", "карта", "card"]]
    assert (table.places, table.stray_quotes) == ([2, 3], [1])


def test_a_labelled_sheet_with_multi_line_texts_keeps_every_row(tmp_path):
    """A sheet whose first column is free text: a quoted text over several lines, one of them
    with a comma, is one row — not a stray quote (that needs an id-like first column)."""
    frame = pd.DataFrame(
        {
            "text": [
                "сгнил отлив.\nнеобходима замена.",
                "Здравствуйте.\n\nНа фасаде дома, на уровне третьего этажа,\nустановлена антенна",
                'Кран "течёт", прошу заменить',
            ],
            "category": ["Кровля", "Фасад", "Водоснабжение"],
        }
    )
    path = tmp_path / "labels.csv"
    frame.to_csv(path, index=False)
    table = read_table(path)
    assert table.frame("labels.csv")["text"].tolist() == frame["text"].tolist()
    assert not table.problems("labels.csv")
