"""Errors about many rows say how many, show the first five and the likely cause (#16)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from pipeline.errors import RowProblem, summarise_rows
from pipeline.taxonomy.label_import import import_labels
from pipeline.taxonomy.labels import LabelError, read_label_file, validate_labels
from pipeline.taxonomy.schema import MaintenanceError, load_taxonomy

ROOT = Path(__file__).resolve().parents[1]


def test_one_row_is_said_as_before_many_rows_are_counted():
    one = summarise_rows([RowProblem("a.csv, строка 2", "пустой текст")])
    assert one == "\n  - a.csv, строка 2: пустой текст"
    many = summarise_rows(
        [RowProblem(f"a.csv, строка {i}", "неизвестная причина", f"x{i % 2}") for i in range(12)],
        {"неизвестная причина": "другая таксономия"},
    )
    assert many.startswith("\n  - неизвестная причина — строк: 12, разных значений 2 (")
    assert "a.csv, строка 4: 'x0'; … и ещё 7)" in many
    assert "строка 5" not in many
    assert many.endswith("\n    вероятная причина: другая таксономия")


def test_values_are_shown_terminal_safe():
    text = summarise_rows([RowProblem("a", "b", "\x1b[2J")] * 2)
    assert "\x1b" not in text and "\\x1b[2J" in text


def test_import_of_ids_from_another_taxonomy_is_summarised(taxonomy_copy, tmp_path):
    rows = [f"текст обращения номер {i};sms_code_mising" for i in range(30)]
    labelled = tmp_path / "batch.csv"
    labelled.write_text("text;reason_id\n" + "\n".join(rows) + "\n", encoding="utf-8")
    with pytest.raises(MaintenanceError) as caught:
        import_labels(
            labelled,
            taxonomy_copy / "labels/x.csv",
            taxonomy_copy / "reasons.yaml",
            taxonomy_copy / "labels",
        )
    message = str(caught.value)
    assert "неизвестная причина — строк: 30 (batch.csv, строка 2: 'sms_code_mising';" in message
    assert "… и ещё 25" in message
    assert "этих id нет в таксономии" in message
    assert "'sms_code_mising' → sms_code_missing" in message
    assert len(message.splitlines()) == 3


def test_label_folder_with_titles_is_summarised():
    taxonomy = load_taxonomy(ROOT / "taxonomy/reasons.yaml")
    frame = pd.DataFrame(
        {
            "text": [f"текст {i}" for i in range(8)],
            "reason_id": ["Не приходит смс код"] * 8,
            "source": "client",
            "file": "ours.csv",
            "line": range(2, 10),
        }
    )
    with pytest.raises(LabelError) as caught:
        validate_labels(frame, taxonomy)
    message = str(caught.value)
    assert "неизвестная причина — строк: 8 (ours.csv, строка 2: 'Не приходит смс код';" in message
    assert "похоже, это названия причин, а не id" in message


def test_unreadable_rows_of_a_label_file_are_summarised(tmp_path):
    path = tmp_path / "ours.csv"
    bad = [f"текст, с запятой {i},sms_code_missing,client" for i in range(9)]
    path.write_text("text,reason_id,source\n" + "\n".join(bad) + "\n", encoding="utf-8")
    with pytest.raises(LabelError) as caught:
        read_label_file(path)
    message = str(caught.value)
    assert "число полей не как в заголовке — строк: 9 (ours.csv, строка 2: '4';" in message
    assert "разделитель внутри текста без кавычек" in message
