"""The one reader of tabular files: CSV/TSV/TXT, XLSX, JSON arrays and JSON lines.

A file becomes a raw ``Table``: its header, every row's cells as strings, and each row's place
in the file (the line of a CSV or JSON-lines file, the row of a sheet, the record of a JSON
array), so that messages can say "file.csv, строка 12". Rows that cannot be read (a wrong
number of fields, a line that is not a JSON object) are set aside as ``Malformed`` with their
place; what happens to them (quarantine, a warning) is the caller's business.

One encoding rule (``decoding``: UTF-16 by its BOM, else the first listed encoding that decodes
the whole file: UTF-8, then Windows-1251 as Excel saves it) and one delimiter rule (the
delimiter under which the first line reads as the best header). CSV lines are read by
``delimited``, where a quote that opens a field and never closes costs only its own line, not
the rows after it. A ``.jsonl`` file holding one JSON array is read as the array.
The ingest stage passes its configured encodings, delimiters and column aliases; ``evaluate``
and the label import use the defaults.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.errors import RowProblem
from pipeline.io.decoding import ENCODINGS, TableError, decode, read_bytes
from pipeline.io.delimited import DELIMITERS, DelimitedText, detect_delimiter, first_line

DELIMITED_SUFFIXES = (".csv", ".tsv", ".txt")
JSON_LINES_SUFFIXES = (".jsonl", ".ndjson")
JSON_SUFFIXES = (".json",)
EXCEL_SUFFIXES = (".xlsx", ".xlsm")
SUPPORTED_SUFFIXES = DELIMITED_SUFFIXES + JSON_LINES_SUFFIXES + JSON_SUFFIXES + EXCEL_SUFFIXES
# the likely cause of each kind of unreadable row, for summarise_rows
MALFORMED_CAUSES = {
    "число полей не как в заголовке": "разделитель внутри текста без кавычек: возьмите текст "
    "в кавычки или сохраните файл из Excel заново",
    "незакрытая кавычка": 'кавычка внутри текста не удвоена (пишется "")',
    "не JSON": "строка обрезана или файл не в формате JSON lines (один объект на строку)",
}


def fold_name(name: object) -> str:
    """Column names and category labels compare case-insensitively, with ё = е."""
    return re.sub(r"\s+", " ", str(name)).strip().lower().replace("ё", "е")


@dataclass(frozen=True)
class Malformed:
    """A row set aside: where it is, its text, and why (``problem`` + ``detail``)."""

    place: int
    raw: str
    # "field_count" / "unclosed_quote" (detail: fields found), "not_json" (parser's
    # message), "not_object"
    problem: str
    detail: str = ""


@dataclass
class Table:
    """One file's rows as strings (``None``: an empty sheet cell or a JSON null)."""

    header: list[str | None]
    rows: list[list[str | None]] = field(default_factory=list)
    places: list[int] = field(default_factory=list)  # a row's line, sheet row or record number
    raws: list[str] = field(default_factory=list)  # a row as written ("" for sheet rows)
    malformed: list[Malformed] = field(default_factory=list)
    place_name: str = "строка"  # "запись" for the records of a JSON array
    encoding: str | None = None
    delimiter: str | None = None
    stray_quotes: list[int] = field(default_factory=list)  # rows read with a quote as text

    def add(self, cells: list[str | None], place: int, raw: str = "") -> None:
        self.rows.append(cells)
        self.places.append(place)
        self.raws.append(raw)

    def where(self, name: str, place: int) -> str:
        return f"{name}, {self.place_name} {place}"

    def frame(self, name: str) -> pd.DataFrame:
        """Every column as text (names stripped, repeats numbered) + ``where`` of each row."""
        header = unique_names([(h or "").strip() for h in self.header])
        cells = [[c or "" for c in row] for row in self.rows]
        frame = pd.DataFrame(cells, columns=header, dtype=object)
        frame["where"] = [self.where(name, place) for place in self.places]
        return frame

    def problems(self, name: str) -> list[str]:
        """The malformed rows as short Russian notes, for a warning or a report."""
        text = {
            "field_count": "полей {detail} вместо " + str(len(self.header)),
            "unclosed_quote": "незакрытая кавычка, полей {detail} вместо " + str(len(self.header)),
            "not_json": "не JSON ({detail})",
            "not_object": "ожидается объект {{...}}",
        }
        return [
            f"{self.where(name, m.place)}: " + text[m.problem].format(detail=m.detail)
            for m in self.malformed
        ]


def row_problems(table: Table, name: str) -> list[RowProblem]:
    """The malformed rows of ``table`` for ``summarise_rows`` (with ``MALFORMED_CAUSES``)."""
    what = {
        "field_count": "число полей не как в заголовке",
        "unclosed_quote": "незакрытая кавычка",
        "not_json": "не JSON",
        "not_object": "ожидается объект {...}",
    }
    return [
        RowProblem(table.where(name, m.place), what[m.problem], m.detail or None)
        for m in table.malformed
    ]


def unique_names(names: list[str]) -> list[str]:
    """Repeated column names get a number: a, a -> a, a.2."""
    seen: dict[str, int] = {}
    out = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f"{name}.{seen[name]}")
    return out


def cell_text(value: object) -> str | None:
    """A sheet or JSON value as text: 3.0 -> "3", dates as ``YYYY-MM-DD HH:MM:SS``."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, pd.Timestamp | np.datetime64) or hasattr(value, "strftime"):
        return pd.Timestamp(value).strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def split_delimited(text: str, path: Path, delimiter: str) -> Table:
    """CSV text with a header line; blank lines are skipped, trailing empty fields dropped.

    A line whose quote never closes is read with the quote as text (``delimited``); it is a row
    when its fields then fit (its line in ``stray_quotes``), else set aside as
    ``unclosed_quote``; a header read so is in ``stray_quotes`` as line 1."""
    lines = DelimitedText(text, delimiter)
    try:
        header = lines.header()
        table = Table(header.fields, delimiter=delimiter)
        if header.unclosed_quote:
            table.stray_quotes.append(header.line)
        width = len(table.header)
        for record in lines.records(width):
            fields = record.fields
            if not fields or (len(fields) == 1 and not fields[0].strip()):
                continue  # blank line: not a row
            if len(fields) > width and not any(f.strip() for f in fields[width:]):
                fields = fields[:width]  # trailing delimiters, common in exports
            if len(fields) != width:
                problem = "unclosed_quote" if record.unclosed_quote else "field_count"
                table.malformed.append(
                    Malformed(record.line, record.raw, problem, str(len(fields)))
                )
                continue
            if record.unclosed_quote:
                table.stray_quotes.append(record.line)
            table.add(fields, record.line, record.raw)
    except csv.Error as exc:
        raise TableError(
            f"{path}, строка {lines.pos}: файл CSV не читается дальше ({exc}); "
            "проверьте незакрытые кавычки"
        ) from exc
    return table


@dataclass(frozen=True)
class Record:
    place: int
    raw: str
    item: dict


def json_line_records(text: str) -> tuple[list[Record], list[Malformed]]:
    """One JSON object per line; blank lines are skipped, other lines set aside."""
    records, malformed = [], []
    # only LF, CRLF and CR end a line (a JSON string holds none of them unescaped):
    # str.splitlines() would also split at U+2028 / U+2029, which JSON allows inside a string
    # (a client's text pasted from a word processor)
    for number, line in enumerate(re.split(r"\r\n|\r|\n", text), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            malformed.append(Malformed(number, line, "not_json", exc.msg))
            continue
        if not isinstance(item, dict):
            malformed.append(Malformed(number, line, "not_object"))
            continue
        records.append(Record(number, line, item))
    return records, malformed


def records_table(
    records: list[Record], malformed: list[Malformed], place_name: str = "строка"
) -> Table:
    """Objects as rows: the header is every key in the order first seen."""
    header = list(dict.fromkeys(key for record in records for key in record.item))
    table = Table(header, malformed=malformed, place_name=place_name)
    for record in records:
        table.add([cell_text(record.item.get(key)) for key in header], record.place, record.raw)
    return table


def json_array_records(text: str, path: Path) -> tuple[list[Record], list[Malformed]]:
    """A JSON array of objects: each object a record numbered from 1, other items set aside."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise TableError(
            f"{path}, строка {exc.lineno}: некорректный JSON ({exc.msg}); ожидается массив "
            "объектов [{...}, ...] или JSON lines (.jsonl, объект в строке)"
        ) from exc
    if not isinstance(data, list):
        raise TableError(
            f"{path}: ожидается JSON-массив объектов [{{...}}, ...], найдено: "
            f"{type(data).__name__}"
        )
    records, malformed = [], []
    for number, item in enumerate(data, start=1):
        raw = json.dumps(item, ensure_ascii=False)
        if isinstance(item, dict):
            records.append(Record(number, raw, item))
        else:
            malformed.append(Malformed(number, raw, "not_object"))
    return records, malformed


def is_json_array(text: str) -> bool:
    """Whether JSON text is one array rather than JSON lines: it opens with ``[`` and is one
    line, or its first line is not a JSON value of its own (the array spans lines)."""
    text = text.strip()
    if not text.startswith("["):
        return False
    first, _, rest = text.partition("\n")
    try:
        json.loads(first)
    except json.JSONDecodeError:
        return True
    return not rest.strip()


def split_json_array(text: str, path: Path) -> Table:
    """A JSON array of objects, one object per row."""
    return records_table(*json_array_records(text, path), place_name="запись")


def read_sheet(path: Path) -> Table:
    """The one sheet of a workbook that holds data; fully empty rows are skipped (an empty
    sheet: no header). A second sheet with data stops the read: its rows would be lost."""
    try:
        sheets = pd.read_excel(path, dtype=object, header=None, engine="openpyxl", sheet_name=None)
    except Exception as exc:  # openpyxl raises many types for a broken workbook
        raise TableError(
            f"{path}: файл Excel не открывается ({exc}); ожидается книга .xlsx — откройте файл "
            "в Excel и сохраните его заново (или выгрузите в CSV)"
        ) from exc
    filled = {name: s.dropna(how="all") for name, s in sheets.items()}
    filled = {name: s for name, s in filled.items() if not s.empty}
    if len(filled) > 1:
        raise TableError(
            f"{path}: данные на нескольких листах ({', '.join(filled)}); читается один лист — "
            "сохраните каждый лист отдельным файлом"
        )
    sheet = next(iter(filled.values()), pd.DataFrame())
    if sheet.empty:
        return Table([], encoding="xlsx")
    table = Table([cell_text(v) for v in sheet.iloc[0].tolist()], encoding="xlsx")
    body = sheet.iloc[1:]
    for index, row in zip(body.index, body.itertuples(index=False), strict=True):
        table.add([cell_text(v) for v in row], int(index) + 1)  # Excel rows count from 1
    return table


# --- a file --------------------------------------------------------------------------------------


def supported_suffix(path: Path, supported: Iterable[str] = SUPPORTED_SUFFIXES) -> str:
    """The file's suffix (lower case), or a TableError listing the ones that are read."""
    suffix = path.suffix.lower()
    supported = tuple(supported)
    if suffix not in supported:
        raise TableError(
            f"{path}: неподдерживаемый формат '{suffix}'; ожидается один из {', '.join(supported)}"
        )
    return suffix


def read_table(
    path: Path, encodings: Iterable[str] = ENCODINGS, delimiters: Iterable[str] = DELIMITERS
) -> Table:
    """Any supported file as a Table; raises TableError for a file that is not one."""
    path = Path(path)
    suffix = supported_suffix(path)
    if suffix in EXCEL_SUFFIXES:
        table = read_sheet(path)
        if not table.header:
            raise TableError(f"{path}: лист пуст")
        return table
    text, encoding = decode(read_bytes(path), path, encodings)
    if not text.strip():
        raise TableError(f"{path}: файл пуст")
    if suffix in JSON_LINES_SUFFIXES and not is_json_array(text):
        table = records_table(*json_line_records(text))
    elif suffix in JSON_SUFFIXES + JSON_LINES_SUFFIXES:
        table = split_json_array(text, path)
    else:
        delimiters = tuple(delimiters)
        delimiter = detect_delimiter(first_line(text), delimiters) or delimiters[0]
        table = split_delimited(text, path, delimiter)
    table.encoding = encoding
    return table
