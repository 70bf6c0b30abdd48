"""Bad input, one table: every kind of broken export the contact centre sends ends in one of
three clear outcomes — the rows are accepted, a row is quarantined with a reason (code and a
Russian text pointing at its line), or the run stops with a message that names the file, the
line where there is one, what was found and what was expected. Nothing in between: no
traceback, and no row that is neither a contact nor in quarantine.

Each case writes files into a raw folder; the one test below runs ingest (the stage's ``main``
into temporary paths, a few cases also through ``python -m pipeline ingest``) and checks the
outcome and that the counts reconcile per file and in total.
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
import yaml
from test_ingest import CALL_HEADER, CRM_HEADER, GOOD_CALLS, GOOD_CRM

from pipeline import ingest
from pipeline.errors import PipelineError

ROOT = Path(__file__).resolve().parents[1]

# --- writing exports (the headers and good rows of tests/test_ingest.py) ---------------------

CALLS = "calls/telephony.csv"
CRM = "complaints/crm.csv"


def write(path: Path, data: str | bytes, encoding: str = "utf-8") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data if isinstance(data, bytes) else data.encode(encoding))
    return path


def lines(header: str, rows: list[str], end: str = "\r\n") -> str:
    return end.join([header, *rows]) + end


def calls_file(raw: Path, rows: list[str], name=CALLS, encoding="cp1251", end="\r\n") -> Path:
    return write(raw / name, lines(CALL_HEADER, rows, end), encoding)


def crm_file(raw: Path, rows: list[str], name=CRM, bom=True) -> Path:
    return write(raw / name, ("\ufeff" if bom else "") + lines(CRM_HEADER, rows, "\n"))


def call(**changes: str) -> str:
    """A good call row (CL-9) with some fields changed."""
    row = {
        "id": "CL-9",
        "start": "02.11.2026 14:05",
        "end": "02.11.2026 14:11",
        "wait": "35",
        "queue": "Карты",
        "outcome": "Отвечен",
        "transfers": "0",
        "route": "",
        "customer": "C9",
        "text": "кл. карта не пришла",
    }
    return ";".join({**row, **changes}.values())


def crm(**changes: str) -> str:
    """A good complaint row (RQ-9) with some fields changed, quoted as a CSV writer quotes."""
    row = {
        "id": "RQ-9",
        "received": "2026-11-03 10:00",
        "channel": "E-mail",
        "customer": "C9",
        "text": "карта не пришла",
        "department": "Карты",
        "resolved": "",
        "status": "В работе",
        "updates": "0",
    }
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="").writerow({**row, **changes}.values())
    return buffer.getvalue()


def workbook(path: Path, sheets: dict[str, list[list[object]]]) -> None:
    """An .xlsx file: sheet name -> rows (the first row is the header; [] is an empty sheet)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        for name, rows in sheets.items():
            frame = pd.DataFrame(rows[1:], columns=rows[0]) if rows else pd.DataFrame()
            frame.to_excel(writer, sheet_name=name, index=False)


def json_line(**item: object) -> str:
    return json.dumps(item, ensure_ascii=False)


TICKET = {"ticket": "SD-1", "created": "2026-11-05T18:40:00+03:00", "source": "Service Desk"}
TICKET_TEXT = {**TICKET, "description": "не работает приложение, ошибка 500"}


# --- the cases ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """One bad input and its outcome.

    ``rows``: the records a person sees in the contact exports. ``accepted``: the rows are
    accepted (with these counts). ``quarantined``: as accepted, and a row with ``code`` whose
    reason holds ``fragment`` sits on ``line`` of ``file``. ``stop``: ingest stops and the
    message holds every fragment (the file, the line, what was found and what was expected).
    """

    id: str
    write: Callable[[Path], object]
    outcome: str  # "accepted", "quarantined" or "stop"
    rows: int = 0
    accepted: int = 0
    quarantined: int = 0
    duplicates: int = 0
    conflicts: int = 0
    code: str = ""
    fragment: str = ""
    line: int = 0
    file: str = ""
    stop: tuple[str, ...] = ()
    config: tuple[tuple[str, object], ...] = ()  # params.yaml ingest settings changed
    check: Callable[[ingest.IngestResult], None] | None = None
    cli: bool = False  # also run through `python -m pipeline ingest`


def accepted(id, write, rows, accepted=None, duplicates=0, conflicts=0, **more) -> Case:
    accepted = rows - duplicates if accepted is None else accepted
    return Case(id, write, "accepted", rows, accepted, 0, duplicates, conflicts, **more)


def quarantined(id, write, rows, code, fragment, line, file=CALLS, **more) -> Case:
    """One row of ``rows`` quarantined, the others accepted."""
    return Case(
        id,
        write,
        "quarantined",
        rows,
        rows - 1,
        1,
        code=code,
        fragment=fragment,
        line=line,
        file=file,
        **more,
    )


def stop(id, write, *fragments, **more) -> Case:
    return Case(id, write, "stop", stop=fragments, **more)


def texts(result: ingest.IngestResult) -> dict[str, str]:
    return result.contacts.set_index("source_id")["text"].to_dict()


def file_info(result: ingest.IngestResult, label: str) -> dict:
    return result.metrics["files"][label]


def has_texts(expected: dict[str, str]) -> Callable[[ingest.IngestResult], None]:
    def check(result: ingest.IngestResult) -> None:
        found = texts(result)
        assert {key: found.get(key) for key in expected} == expected

    return check


def has_info(label: str, **expected: object) -> Callable[[ingest.IngestResult], None]:
    def check(result: ingest.IngestResult) -> None:
        info = file_info(result, label)
        assert {key: info.get(key) for key in expected} == expected, info

    return check


def all_of(*checks: Callable[[ingest.IngestResult], None]) -> Callable:
    def check(result: ingest.IngestResult) -> None:
        for one in checks:
            one(result)

    return check


# encodings ---------------------------------------------------------------------------------------


def utf16(raw: Path, bom: bytes, encoding: str) -> None:
    write(raw / CALLS, bom + lines(CALL_HEADER, GOOD_CALLS).encode(encoding))


def mixed_cp1251_utf8(raw: Path) -> None:
    cp1251 = lines(CALL_HEADER, GOOD_CALLS[:2]).encode("cp1251")
    write(raw / CALLS, cp1251 + lines(GOOD_CALLS[2], []).encode("utf-8"))


def undecodable(raw: Path) -> None:
    data = lines(CALL_HEADER, GOOD_CALLS).encode("cp1251").split(b"\r\n")
    data[2] += b" \x98"  # a byte no code page of the list maps, at the end of line 3
    write(raw / CALLS, b"\r\n".join(data))


ENCODINGS = [
    accepted(
        "cp1251",
        lambda raw: calls_file(raw, GOOD_CALLS),
        3,
        check=has_info(CALLS, encoding="cp1251", delimiter=";"),
        cli=True,
    ),
    accepted(
        "utf-8 without BOM",
        lambda raw: calls_file(raw, GOOD_CALLS, encoding="utf-8"),
        3,
        check=all_of(
            has_info(CALLS, encoding="utf-8-sig"),
            has_texts({"CL-1": "кл. не может войти в ЛК, сброс пароля"}),
        ),
    ),
    accepted(
        "utf-8 with BOM",
        lambda raw: crm_file(raw, GOOD_CRM),
        2,
        check=all_of(
            has_info(CRM, encoding="utf-8-sig"),
            has_texts({"RQ-2": "Карта не пришла до сих пор 😡"}),
        ),
    ),
    accepted("utf-16 LE with BOM", lambda raw: utf16(raw, b"\xff\xfe", "utf-16-le"), 3),
    accepted("utf-16 BE with BOM", lambda raw: utf16(raw, b"\xfe\xff", "utf-16-be"), 3),
    accepted(
        "utf-16 LE without BOM",
        lambda raw: utf16(raw, b"", "utf-16-le"),
        3,
        check=all_of(
            has_info(CALLS, encoding="utf-16-le"),
            has_texts({"CL-3": "кл. переводили между отделами, недоволен"}),
        ),
        cli=True,
    ),
    accepted(
        "utf-16 BE without BOM",
        lambda raw: utf16(raw, b"", "utf-16-be"),
        3,
        check=has_info(CALLS, encoding="utf-16-be"),
    ),
    accepted(
        "cp1251 and utf-8 lines mixed",
        mixed_cp1251_utf8,
        3,
        check=all_of(
            has_info(CALLS, encoding="utf-8+cp1251"),
            has_texts({"CL-3": "кл. переводили между отделами, недоволен"}),
        ),
    ),
    stop(
        "undecodable byte",
        undecodable,
        CALLS,
        "не удалось определить кодировку",
        "cp1251 (строка 3: байт 0x98 не читается)",
        "сохраните файл в UTF-8 или Windows-1251",
        cli=True,
    ),
    stop(
        "encoding not in params",
        lambda raw: calls_file(raw, GOOD_CALLS),
        CALLS,
        "не удалось определить кодировку: пробовали utf-8 (строка 1: байт 0xc8 не читается)",
        "ingest.encodings",
        config=(("encodings", ["utf-8"]),),
    ),
]


# line ends and delimiters ------------------------------------------------------------------------


def mixed_line_ends(raw: Path) -> None:
    bad = call(id="CL-4", start="31.02.2026 10:00", end="")
    text = f"{CALL_HEADER}\r\n{GOOD_CALLS[0]}\n{GOOD_CALLS[1]}\r{bad}\r\n{GOOD_CALLS[2]}\n"
    write(raw / CALLS, text, "cp1251")


def crm_delimited(delimiter: str) -> Callable[[Path], None]:
    def write_crm(raw: Path) -> None:
        buffer = io.StringIO()
        writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\n")
        writer.writerows(csv.reader([CRM_HEADER, *GOOD_CRM]))
        write(raw / "complaints" / "crm.txt", buffer.getvalue())

    return write_crm


LINES_AND_DELIMITERS = [
    accepted("LF", lambda raw: calls_file(raw, GOOD_CALLS, end="\n"), 3),
    accepted("CRLF", lambda raw: calls_file(raw, GOOD_CALLS, end="\r\n"), 3),
    accepted(
        "CR only",
        lambda raw: calls_file(raw, GOOD_CALLS, end="\r"),
        3,
        check=has_texts({"CL-1": "кл. не может войти в ЛК, сброс пароля"}),
    ),
    quarantined(
        "mixed line ends",
        mixed_line_ends,
        4,
        "bad_date",
        "не удалось разобрать дату '31.02.2026 10:00' в колонке started_at",
        line=4,
    ),
    quarantined(
        "unquoted delimiter inside a text",
        lambda raw: crm_file(raw, [*GOOD_CRM, crm(text="карта").replace("карта", "карта, где")]),
        3,
        "bad_field_count",
        "строка повреждена: число полей 10 вместо 9 (разделитель ',')",
        line=4,
        file=CRM,
    ),
    accepted(
        "trailing delimiters", lambda raw: calls_file(raw, [r + ";;;" for r in GOOD_CALLS]), 3
    ),
    *[
        accepted(
            f"delimiter {name}",
            crm_delimited(delimiter),
            2,
            check=has_info("complaints/crm.txt", delimiter=delimiter),
        )
        for name, delimiter in [("semicolon", ";"), ("comma", ","), ("tab", "\t"), ("pipe", "|")]
    ],
]


# quoting -----------------------------------------------------------------------------------------

STRAY = 'RQ-3,2026-11-03 11:00,E-mail,C3,"Карта не пришла,Карты,,В работе,0'
MULTILINE = "Здравствуйте!\nКарта не пришла, жду, неделю, уже, нет, сил, ответьте, скорее\nСпасибо"

QUOTING = [
    # the quote used to swallow RQ-2 and run on to the quote that opens RQ-4's text
    accepted(
        "stray opening quote",
        lambda raw: crm_file(
            raw, [GOOD_CRM[0], STRAY, GOOD_CRM[1], crm(id="RQ-4", text="ответьте, пожалуйста")]
        ),
        4,
        check=all_of(
            has_texts(
                {
                    "RQ-3": '"Карта не пришла',
                    "RQ-2": "Карта не пришла до сих пор 😡",
                    "RQ-4": "ответьте, пожалуйста",
                }
            ),
            has_info(CRM, stray_quotes=[3]),
        ),
        cli=True,
    ),
    quarantined(
        "stray quote in a line that does not fit",
        lambda raw: calls_file(
            raw, [GOOD_CALLS[0], call(id="CL-4", text='"карта; не пришла'), *GOOD_CALLS[1:]]
        ),
        4,
        "unclosed_quote",
        "незакрытая кавычка в строке 3: с кавычкой как текстом полей 11 вместо 10",
        line=3,
    ),
    accepted(
        "stray quote on the last line",
        lambda raw: calls_file(raw, [*GOOD_CALLS, call(text='"кл. карта не пришла')]),
        4,
        check=all_of(
            has_texts({"CL-9": '"кл. карта не пришла'}), has_info(CALLS, stray_quotes=[5])
        ),
    ),
    accepted(
        "doubled quotes",
        lambda raw: crm_file(raw, [crm(text='он сказал "верните деньги", и ушёл')]),
        1,
        check=has_texts({"RQ-9": 'он сказал "верните деньги", и ушёл'}),
    ),
    # RQ-3 takes lines 2-4, so RQ-2 is line 5 and the bad row line 6
    quarantined(
        "quoted multi-line text",
        lambda raw: crm_file(
            raw, [crm(id="RQ-3", text=MULTILINE), GOOD_CRM[1], crm(channel="Голубиная почта")]
        ),
        3,
        "unknown_channel",
        "неизвестный канал 'Голубиная почта'",
        line=6,
        file=CRM,
        check=all_of(
            has_texts({"RQ-3": MULTILINE}),
            lambda result: _source_row(result, "RQ-2", 5),
        ),
    ),
    # the header's quote used to swallow the whole file: no rows, only an «empty file» warning
    accepted(
        "stray quote in the header",
        lambda raw: write(
            raw / CALLS,
            lines(CALL_HEADER.replace(";Комментарий", ';"Комментарий'), GOOD_CALLS),
            "cp1251",
        ),
        3,
        check=all_of(
            has_texts({"CL-1": "кл. не может войти в ЛК, сброс пароля"}),
            has_info(CALLS, stray_quotes=[1]),
        ),
    ),
    accepted(
        "quote in the middle of a field",
        lambda raw: calls_file(raw, [call(text='кл. говорит "банк обманул" и "всё"')]),
        1,
        check=has_texts({"CL-9": 'кл. говорит "банк обманул" и "всё"'}),
    ),
]


def _source_row(result: ingest.IngestResult, source_id: str, line: int) -> None:
    assert result.contacts.set_index("source_id").loc[source_id, "source_row"] == line


# workbooks ---------------------------------------------------------------------------------------

BRANCH_HEADER = ["Номер обращения", "Дата обращения", "Канал", "Текст обращения"]
BRANCH_ROWS = [
    ["X-1", pd.Timestamp("2026-11-02 09:00"), "Отделение", "Хочу закрыть карту"],
    ["X-2", "02.11.2026 16:45", "почта", "Банкомат съел карту, верните"],
]
BRANCH = "complaints/branch.xlsx"
CALL_COLUMNS = CALL_HEADER.split(";")
CALL_CELLS = [row.split(";") for row in GOOD_CALLS]

SHEETS = [
    accepted(
        "xlsx one sheet",
        lambda raw: workbook(raw / BRANCH, {"Лист1": [BRANCH_HEADER, *BRANCH_ROWS]}),
        2,
        check=has_info(BRANCH, encoding="xlsx"),
    ),
    stop(
        "xlsx two sheets with data",
        lambda raw: workbook(
            raw / "calls/telephony.xlsx",
            {"Ноябрь": [CALL_COLUMNS, *CALL_CELLS[:2]], "Декабрь": [CALL_COLUMNS, CALL_CELLS[2]]},
        ),
        "calls/telephony.xlsx",
        "данные на нескольких листах (Ноябрь, Декабрь)",
        "сохраните каждый лист отдельным файлом",
    ),
    stop(
        "xlsx that is not a workbook",
        lambda raw: write(raw / "calls/telephony.xlsx", b"PK\x03\x04 not a zip"),
        "calls/telephony.xlsx",
        "файл Excel не открывается (File is not a zip file)",
        "ожидается книга .xlsx",
    ),
    accepted(
        "xlsx empty second sheet",
        lambda raw: workbook(raw / BRANCH, {"Данные": [BRANCH_HEADER, *BRANCH_ROWS], "Пусто": []}),
        2,
    ),
    accepted(
        "xlsx header-only sheet",
        lambda raw: workbook(raw / BRANCH, {"Лист1": [BRANCH_HEADER]}),
        0,
        check=has_info(BRANCH, rows_read=0, empty=True),
    ),
    # the sheet's row 3: the header is row 1
    quarantined(
        "xlsx row with an impossible date",
        lambda raw: workbook(
            raw / BRANCH,
            {"Лист1": [BRANCH_HEADER, BRANCH_ROWS[0], ["X-3", "31.02.2026 10:00", "почта", "?"]]},
        ),
        2,
        "bad_date",
        "'31.02.2026 10:00' в колонке received_at",
        line=3,
        file=BRANCH,
    ),
]


# folders and files -------------------------------------------------------------------------------


def with_calls(extra: Callable[[Path], object]) -> Callable[[Path], None]:
    """Good calls in calls/telephony.csv, and something else."""

    def write_both(raw: Path) -> None:
        calls_file(raw, GOOD_CALLS)
        extra(raw)

    return write_both


FOLDERS = [
    accepted(
        "Calls folder capitalised",
        lambda raw: calls_file(raw, GOOD_CALLS, name="Calls/telephony.csv"),
        3,
        check=has_info("Calls/telephony.csv", accepted=3),
    ),
    stop(
        "file in the raw root",
        with_calls(lambda raw: crm_file(raw, GOOD_CRM, name="crm_week47.csv")),
        "файлы вне calls/ и complaints/ не читаются: crm_week47.csv",
        "переложите звонки в calls/, обращения в complaints/",
    ),
    stop(
        "unknown folder",
        with_calls(lambda raw: crm_file(raw, GOOD_CRM, name="exports/crm.csv")),
        "не читаются: exports/crm.csv",
        "переложите",
    ),
    stop(
        "unsupported extension",
        with_calls(lambda raw: write(raw / "calls/report.pdf", "%PDF-1.4")),
        "calls/report.pdf",
        "неподдерживаемый формат '.pdf'",
        "ожидается один из .csv",
    ),
    stop(
        "0-byte file",
        with_calls(lambda raw: write(raw / "complaints/broken.csv", b"")),
        "complaints/broken.csv",
        "файл пуст (0 байт)",
        "содержит строку заголовка",
        cli=True,
    ),
    stop(
        "call export in complaints/",
        lambda raw: calls_file(raw, GOOD_CALLS, name="complaints/telephony.csv"),
        "complaints/telephony.csv",
        "нет обязательных колонок (contact_id, received_at, channel, text)",
        "Найдены колонки: 'ИД звонка', 'Начало'",
        "Ожидается одно из имён — contact_id: request_id",
    ),
    accepted(
        "header-only file",
        with_calls(lambda raw: crm_file(raw, [])),
        3,
        check=has_info(CRM, rows_read=0, empty=True),
    ),
    accepted(
        "Excel lock file and hidden file beside an export",
        with_calls(
            lambda raw: (
                write(raw / "calls/~$telephony.xlsx", b"\x00"),
                write(raw / "calls/.x", ""),
            )
        ),
        3,
    ),
    stop(
        "no exports",
        lambda raw: write(raw / "drivers.csv", "неделя;клиентов\n2026-W45;1200000\n"),
        "нет файлов выгрузок",
        "calls",
        "complaints",
    ),
    stop(
        "no known column in the first line",
        lambda raw: write(raw / CRM, "номер|когда|что\n1|вчера|карта\n"),
        CRM,
        "в первой строке не найдено ни одной известной колонки",
        "'номер|когда|что'",
        "ожидается заголовок с разделителем",
    ),
]


# duplicates and conflicts ------------------------------------------------------------------------

OPEN_RQ7 = crm(id="RQ-7", received="2026-11-01 22:00", channel="Чат в приложении")
CLOSED_RQ7 = crm(
    id="RQ-7",
    received="2026-11-01 22:00",
    channel="Чат в приложении",
    resolved="2026-11-02 10:30",
    status="Закрыто",
    updates="1",
)


def resolved_copy_won(result: ingest.IngestResult) -> None:
    (row,) = result.contacts.itertuples()
    assert (row.status, row.source_file) == ("resolved", "complaints/crm_w45.csv")


DUPLICATES = [
    accepted(
        "same file twice",
        lambda raw: (
            calls_file(raw, GOOD_CALLS, name="calls/week45.csv"),
            calls_file(raw, GOOD_CALLS, name="calls/week45_copy.csv"),
        ),
        6,
        duplicates=3,
        check=has_info("calls/week45_copy.csv", duplicates=3, conflicts=0),
    ),
    accepted(
        "same id, same content",
        lambda raw: calls_file(raw, [*GOOD_CALLS, GOOD_CALLS[0]]),
        4,
        duplicates=1,
    ),
    accepted(
        "same id, different content",
        lambda raw: (
            calls_file(raw, GOOD_CALLS, name="calls/a_week.csv"),
            calls_file(
                raw,
                [GOOD_CALLS[0].replace("сброс пароля", "ИСПРАВЛЕНО"), GOOD_CALLS[2]],
                name="calls/b_reexport.csv",
            ),
        ),
        5,
        duplicates=2,
        conflicts=1,
        check=has_texts({"CL-1": "кл. не может войти в ЛК, сброс пароля"}),
    ),
    accepted(
        "resolved copy wins over the open one",
        lambda raw: (
            crm_file(raw, [OPEN_RQ7], name="complaints/crm_w44.csv"),
            crm_file(raw, [CLOSED_RQ7], name="complaints/crm_w45.csv"),
        ),
        2,
        duplicates=1,
        check=all_of(resolved_copy_won, has_info("complaints/crm_w44.csv", duplicates=1)),
    ),
]


# dates -------------------------------------------------------------------------------------------


def bad_call(case_id: str, code: str, fragment: str, **changes: str) -> Case:
    """Three good calls and a bad one on line 5 (header, three rows, then this one)."""
    row = call(**changes)
    return quarantined(
        case_id, lambda raw: calls_file(raw, [*GOOD_CALLS, row]), 4, code, fragment, 5
    )


def bad_complaint(case_id: str, code: str, fragment: str, **changes: str) -> Case:
    """Two good complaints and a bad one on line 4."""
    row = crm(**changes)
    return quarantined(
        case_id, lambda raw: crm_file(raw, [*GOOD_CRM, row]), 3, code, fragment, 4, file=CRM
    )


def same_moment(result: ingest.IngestResult) -> None:
    created = result.contacts.set_index("source_id")["created_local"]
    assert created["CL-8"] == created["CL-9"] == pd.Timestamp("2026-11-02 14:05")


def date_only(result: ingest.IngestResult) -> None:
    row = result.contacts.set_index("source_id").loc["RQ-9"]
    assert bool(row["resolved_date_only"])
    assert row["resolved_local"] == pd.Timestamp("2026-11-17 23:59:59")


DATES = [
    accepted(
        "both date formats",
        lambda raw: calls_file(
            raw, [call(id="CL-8", start="2026-11-02 14:05", end="2026-11-02 14:11"), call()]
        ),
        2,
        check=same_moment,
    ),
    bad_call(
        "impossible date 31.02",
        "bad_date",
        "не удалось разобрать дату '31.02.2026 10:00' в колонке started_at: ожидается "
        "ДД.ММ.ГГГГ ЧЧ:ММ или ГГГГ-ММ-ДД ЧЧ:ММ",
        start="31.02.2026 10:00",
        end="",
    ),
    bad_call(
        "date far in the future",
        "future_date",
        "дата '02.11.2099 14:05' в колонке started_at в будущем",
        start="02.11.2099 14:05",
        end="",
    ),
    bad_call(
        "date before earliest_date",
        "date_too_old",
        "дата '02.11.1999 14:05' в колонке started_at раньше 01.01.2000 (ingest.earliest_date)",
        start="02.11.1999 14:05",
        end="",
    ),
    bad_call(
        "call ends before it starts",
        "end_before_start",
        "окончание звонка раньше начала",
        end="02.11.2026 13:00",
    ),
    bad_call("no start date", "missing_date", "нет даты в колонке started_at", start=""),
    bad_complaint(
        "resolved before received",
        "resolved_before_received",
        "дата решения раньше даты получения",
        resolved="2026-11-02 10:00",
        status="Закрыто",
    ),
    accepted(
        "date-only resolution",
        lambda raw: crm_file(
            raw, [crm(received="2026-11-17 15:00", resolved="17.11.2026", status="Закрыто")]
        ),
        1,
        check=date_only,
    ),
]


# sizes -------------------------------------------------------------------------------------------

LONG_TEXT = "Пересылаю всю переписку, ответьте наконец. " * 5000 + "Спасибо"  # ~ 400 KB


def long_text_kept(result: ingest.IngestResult) -> None:
    assert texts(result)["RQ-9"] == LONG_TEXT and len(LONG_TEXT.encode()) > 200 * 1024


SIZES = [
    accepted(
        "200 KB complaint text",
        lambda raw: crm_file(raw, [GOOD_CRM[0], crm(text=LONG_TEXT), GOOD_CRM[1]]),
        3,
        check=long_text_kept,
    ),
    bad_call(
        "call longer than max_call_seconds",
        "implausible_duration",
        "duration_s = '50700' с: больше 43200 с (ingest.max_call_seconds)",
        end="03.11.2026 04:10",
    ),
    bad_complaint("empty complaint text", "empty_text", "пустой текст обращения", text=""),
    bad_complaint("blank complaint text", "empty_text", "пустой текст обращения", text="   "),
]


# types and values --------------------------------------------------------------------------------


def two_text_columns(raw: Path) -> None:
    write(
        raw / CALLS,
        lines(CALL_HEADER + ";Комментарий", [row + ";ещё" for row in GOOD_CALLS]),
        "cp1251",
    )


TYPES = [
    bad_call(
        "non-numeric wait",
        "bad_number",
        "некорректное число 'долго' в колонке wait_time_s: ожидается число ≥ 0",
        wait="долго",
    ),
    bad_call(
        "negative wait",
        "bad_number",
        "некорректное число '-5' в колонке wait_time_s: ожидается число ≥ 0",
        wait="-5",
    ),
    accepted(
        "wait as a clock",
        lambda raw: calls_file(raw, [call(wait="0:05:12")]),
        1,
        check=lambda result: _wait(result, 312),
    ),
    stop(
        "missing required column",
        lambda raw: write(raw / CRM, "request_id,channel,text\nR1,E-mail,текст\n"),
        CRM,
        "нет обязательных колонок (received_at)",
        "Найдены колонки: 'request_id', 'channel', 'text'",
        "Ожидается одно из имён — received_at: received_at | created",
        cli=True,
    ),
    stop(
        "two columns for one field",
        two_text_columns,
        CALLS,
        "колонок для поля text несколько ('Комментарий оператора', 'Комментарий')",
        "оставьте в выгрузке одну",
    ),
    bad_complaint(
        "unknown channel",
        "unknown_channel",
        "неизвестный канал 'Голубиная почта': ожидается один из phone, email",
        channel="Голубиная почта",
    ),
    bad_call(
        "unknown outcome",
        "unknown_outcome",
        "неизвестный результат звонка 'Улетел': ожидается один из answered",
        outcome="Улетел",
    ),
    bad_complaint(
        "unknown status",
        "unknown_status",
        "неизвестный статус 'Потерялось': ожидается один из resolved, open",
        status="Потерялось",
    ),
    # 1e30 used to wrap to -9223372036854775808 transfers, 2.5 to be rounded to 2
    bad_call(
        "transfers too large for a count",
        "bad_number",
        "некорректное число '1e30' в колонке transfers: ожидается целое число ≥ 0",
        transfers="1e30",
    ),
    bad_complaint(
        "fractional status updates",
        "bad_number",
        "некорректное число '2.5' в колонке status_updates: ожидается целое число ≥ 0",
        updates="2.5",
    ),
    bad_call("missing id", "missing_id", "нет идентификатора контакта", id=""),
    quarantined(
        "row with too few fields",
        lambda raw: calls_file(raw, [GOOD_CALLS[0], "---- выгрузка прервана ----"]),
        2,
        "bad_field_count",
        "строка повреждена: число полей 1 вместо 10 (разделитель ';')",
        line=3,
    ),
]


def _wait(result: ingest.IngestResult, seconds: float) -> None:
    assert result.contacts["wait_time_s"].tolist() == [seconds]


# JSON lines --------------------------------------------------------------------------------------

DESK = "complaints/desk.jsonl"
U2028 = "первая строка\u2028вторая строка"


def desk(*rows: str, end: str = "\n", name: str = DESK) -> Callable[[Path], None]:
    return lambda raw: write(raw / name, end.join(rows) + end)


JSON_LINES = [
    quarantined(
        "bad JSON line",
        desk(json_line(**TICKET_TEXT), '{"ticket": "SD-2", "created": "2026-11-05T19:'),
        2,
        "bad_json",
        "строка не является JSON-объектом",
        line=2,
        file=DESK,
    ),
    quarantined(
        "JSON line that is not an object",
        desk(json_line(**TICKET_TEXT), "[1, 2]"),
        2,
        "bad_json",
        "ожидается JSON-объект {...} в каждой строке",
        line=2,
        file=DESK,
    ),
    accepted(
        "U+2028 inside a JSON string",
        desk(json_line(**{**TICKET, "description": U2028})),
        1,
        check=has_texts({"SD-1": U2028}),
    ),
    accepted(
        "JSON lines with mixed line ends",
        lambda raw: write(
            raw / DESK,
            "{}\r{}\n{}\r\n{}\n".format(
                *(json_line(**{**TICKET_TEXT, "ticket": f"SD-{n}"}) for n in range(1, 5))
            ),
        ),
        4,
    ),
    accepted(
        "JSON array instead of lines",
        lambda raw: write(
            raw / DESK,
            json.dumps(
                [TICKET_TEXT, {**TICKET_TEXT, "ticket": "SD-2"}], ensure_ascii=False, indent=2
            ),
        ),
        2,
    ),
    stop(
        "broken JSON array",
        desk("[", json_line(**TICKET_TEXT) + ",", '  {"ticket": "SD-2",'),
        DESK,
        "строка 4: некорректный JSON (Expecting property name enclosed in double quotes)",
        "ожидается массив объектов [{...}, ...] или JSON lines",
    ),
    accepted(
        "JSON array in one line",
        lambda raw: write(
            raw / "complaints/desk.json",
            json.dumps([TICKET_TEXT, {**TICKET_TEXT, "ticket": "SD-2"}], ensure_ascii=False),
        ),
        2,
    ),
]


# drivers.csv -------------------------------------------------------------------------------------


def drivers(text: str) -> Callable[[Path], None]:
    return with_calls(lambda raw: write(raw / "drivers.csv", text))


def no_drivers(result: ingest.IngestResult) -> None:
    assert result.drivers.empty and "drivers.csv" not in result.metrics["files"]


def _customers(result: ingest.IngestResult, expected: list[int]) -> None:
    assert result.drivers["customers"].tolist() == expected


DRIVERS = [
    accepted("drivers.csv missing", lambda raw: calls_file(raw, GOOD_CALLS), 3, check=no_drivers),
    Case(
        "drivers.csv bad customers value",
        drivers("неделя;клиентов\n2026-W45;1200000\n2026-W46;много\n"),
        "quarantined",
        rows=3,
        accepted=3,
        code="bad_number",
        fragment="число клиентов 'много' должно быть целым > 0",
        line=3,
        file="drivers.csv",
        check=all_of(
            lambda result: _customers(result, [1200000]),
            has_info("drivers.csv", rows_read=2, accepted=1, quarantined=1),
        ),
    ),
    # the last row of a week wins; the earlier one was dropped without being counted
    accepted(
        "drivers.csv week given twice",
        drivers("неделя;клиентов\n2026-W45;1200000\n02.11.2026;1200500\n"),
        3,
        check=all_of(
            lambda result: _customers(result, [1200500]),
            has_info("drivers.csv", rows_read=2, accepted=1, duplicates=1, reconciles=True),
        ),
    ),
    # the quote used to swallow the 2026-W46 row into one rejected «week»
    Case(
        "drivers.csv stray quote",
        drivers('неделя;клиентов\n"2026-W45;1200000\n2026-W46;1200500\n'),
        "quarantined",
        rows=3,
        accepted=3,
        code="bad_week",
        fragment="неделя '\"2026-W45' не распознана: ожидается 2026-W45 или дата",
        line=2,
        file="drivers.csv",
        check=lambda result: _customers(result, [1200500]),
    ),
    stop(
        "drivers.csv without the customers column",
        drivers("неделя;регион\n2026-W45;Москва\n"),
        "drivers.csv",
        "нет колонки customers",
        "найдены ['неделя', 'регион']",
        "ожидается week: week | week_start",
    ),
]


# the share of bad rows ---------------------------------------------------------------------------

SHARE = [
    stop(
        "bad rows above max_bad_row_share",
        lambda raw: calls_file(raw, [*GOOD_CALLS, "мусор", "ещё мусор"]),
        "доля плохих строк выше допустимой (ingest.max_bad_row_share = 20%)",
        "calls/telephony.csv: в карантине 2 из 5 строк",
        config=(("max_bad_row_share", 0.2),),
    ),
]

CASES = [
    *ENCODINGS,
    *LINES_AND_DELIMITERS,
    *QUOTING,
    *SHEETS,
    *FOLDERS,
    *DUPLICATES,
    *DATES,
    *SIZES,
    *TYPES,
    *JSON_LINES,
    *DRIVERS,
    *SHARE,
]


# --- running a case ----------------------------------------------------------------------------

# a quarantined row is an outcome here, not a reason to stop (a case sets its own share)
LENIENT = {"max_bad_row_share": 1.0}
OUTPUTS = ("contacts.parquet", "quarantine.parquet", "drivers.parquet", "metrics.json")


def run_library(case: Case, raw: Path, out: Path, ingest_config) -> ingest.IngestResult:
    config = ingest_config.model_copy(update={**LENIENT, **dict(case.config)})
    return ingest.main(raw, *(out / name for name in OUTPUTS), config)


def run_cli(case: Case, raw: Path, out: Path) -> subprocess.CompletedProcess:
    params = yaml.safe_load((ROOT / "params.yaml").read_text(encoding="utf-8"))
    params["ingest"].update({**LENIENT, **dict(case.config)})
    params_path = out / "params.yaml"
    params_path.parent.mkdir(parents=True, exist_ok=True)
    params_path.write_text(yaml.safe_dump(params, allow_unicode=True), encoding="utf-8")
    command = [sys.executable, "-m", "pipeline", "--params", str(params_path), "ingest"]
    command += ["--raw", str(raw)]
    for option, name in zip(
        ("--contacts", "--quarantine", "--drivers", "--metrics"), OUTPUTS, strict=True
    ):
        command += [option, str(out / name)]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def assert_reconciles(case: Case, result: ingest.IngestResult) -> None:
    """Per file and in total, every row read is accepted, quarantined or a duplicate; every
    record of the input was read; and each one is a contact or a quarantined row."""
    metrics = result.metrics
    for label, info in metrics["files"].items():
        assert info["rows_read"] == info["accepted"] + info["quarantined"] + info["duplicates"]
        assert info["reconciles"], label
    assert metrics["reconciles"]
    exports = [info for info in metrics["files"].values() if info["kind"] != "drivers"]
    counts = ("rows_read", "accepted", "quarantined", "duplicates", "conflicts")
    assert [metrics[key] for key in counts] == [sum(i[key] for i in exports) for key in counts]
    expected = [case.rows, case.accepted, case.quarantined, case.duplicates, case.conflicts]
    assert [metrics[key] for key in counts] == expected
    # nothing silent: the kept contacts and the quarantined rows are the rows read, less the
    # duplicates, and no line is counted twice
    rejected = result.quarantine[result.quarantine["kind"] != "drivers"]
    assert len(result.contacts) == metrics["accepted"]
    assert len(rejected) == metrics["quarantined"]
    places = pd.concat(
        [result.contacts[["source_file", "source_row"]], rejected[["source_file", "source_row"]]]
    )
    assert not places.duplicated().any()
    assert result.quarantine["reason"].str.len().gt(0).all()
    assert result.quarantine["raw"].str.len().gt(0).all()


def assert_quarantined(case: Case, result: ingest.IngestResult) -> None:
    rows = result.quarantine.set_index(["source_file", "reason_code"])
    assert (case.file, case.code) in rows.index, result.quarantine[["source_file", "reason"]]
    (row,) = rows.loc[[(case.file, case.code)]].itertuples()
    assert case.fragment in row.reason
    assert row.source_row == case.line


def assert_cli(case: Case, raw: Path, out: Path, result: ingest.IngestResult | None) -> None:
    done = run_cli(case, raw, out)
    assert "Traceback" not in done.stderr, done.stderr
    if case.outcome == "stop":
        assert done.returncode == 2, done.stderr
        assert "ОШИБКА (ingest)" in done.stderr
        for fragment in case.stop:
            assert fragment in done.stderr
        return
    assert done.returncode == 0, done.stderr
    written = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    assert written == json.loads(json.dumps(result.metrics))


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_bad_input_ends_accepted_quarantined_or_in_a_clear_stop(case, tmp_path, ingest_config):
    raw = tmp_path / "raw"
    raw.mkdir()
    case.write(raw)
    result = None
    if case.outcome == "stop":
        with pytest.raises(PipelineError) as stopped:
            run_library(case, raw, tmp_path / "out", ingest_config)
        for fragment in case.stop:
            assert fragment in str(stopped.value)
    else:
        result = run_library(case, raw, tmp_path / "out", ingest_config)
        written = json.loads((tmp_path / "out" / "metrics.json").read_text(encoding="utf-8"))
        assert written == json.loads(json.dumps(result.metrics))
        assert_reconciles(case, result)
        if case.outcome == "quarantined":
            assert_quarantined(case, result)
        else:
            assert result.quarantine.empty, result.quarantine["reason"].tolist()
        if case.check is not None:
            case.check(result)
    if case.cli:
        assert_cli(case, raw, tmp_path / "cli", result)


def test_the_table_covers_the_issue():
    """At least 40 cases, each outcome present, a few through the command line."""
    assert len(CASES) >= 40 and len({case.id for case in CASES}) == len(CASES)
    assert {case.outcome for case in CASES} == {"accepted", "quarantined", "stop"}
    assert {case.outcome for case in CASES if case.cli} == {"accepted", "stop"}
