"""Ingest: every bad-input kind ends in quarantine or a clear error, and the counts reconcile."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pandas as pd
import pytest

from pipeline import ingest
from pipeline.io.sources import IngestError

ROOT = Path(__file__).resolve().parents[1]

CALL_HEADER = (
    "ИД звонка;Начало;Окончание;Ожидание, с;Очередь;Результат;Переводов;Маршрут;Клиент;"
    "Комментарий оператора"
)
CRM_HEADER = (
    "request_id,received_at,channel,customer_id,text,department,resolved_at,status,status_updates"
)


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode(encoding))
    return path


def calls_file(raw: Path, rows: list[str], name="telephony.csv", encoding="cp1251") -> Path:
    return write(raw / "calls" / name, "\r\n".join([CALL_HEADER, *rows]) + "\r\n", encoding)


def crm_file(raw: Path, rows: list[str], name="crm.csv", bom=True) -> Path:
    text = "\n".join([CRM_HEADER, *rows]) + "\n"
    return write(raw / "complaints" / name, ("\ufeff" if bom else "") + text)


GOOD_CALLS = [
    "CL-1;02.11.2026 14:05;02.11.2026 14:11;35;Карты;Отвечен;0;;C000101;"
    "кл. не может войти в ЛК, сброс пароля",
    "CL-2;02.11.2026 13:20;02.11.2026 13:22;240;Отделение №12 (Тверская);Пропущен;0;;C000102;",
    "CL-3;03.11.2026 10:00;03.11.2026 10:09;20;Кредиты;Отвечен;2;Кредиты > Карты > Кредиты;"
    "C000103;кл. переводили между отделами, недоволен",
]
GOOD_CRM = [
    'RQ-1,2026-11-02 15:30,E-mail,C000201,"Здравствуйте! СМС с кодом не приходит уже третий '
    'день, ничего не могу оплатить",Дирекция цифровых каналов,2026-11-03 10:15,Закрыто,1',
    "RQ-2,2026-11-03 09:10,Web-форма,C000202,Карта не пришла до сих пор 😡,Карточный бизнес,,"
    "В работе,0",
]


def snapshot(paths, without: tuple[str, ...] = ()) -> list:
    """Each output's bytes; a dataset folder as {file inside it: bytes} (the manifest's keys in
    ``without`` left out: a file's modification time)."""
    if isinstance(paths, list) and paths and isinstance(paths[0], dict | bytes):
        taken = paths
    else:
        taken = [
            {
                p.relative_to(path).as_posix(): p.read_bytes()
                for p in sorted(path.rglob("*"))
                if p.is_file()
            }
            if path.is_dir()
            else path.read_bytes()
            for path in paths
        ]
    if not without:
        return taken
    pattern = re.compile(rb'\s*"(?:' + b"|".join(k.encode() for k in without) + rb')": \d+,?')
    return [
        {k: pattern.sub(b"", v) for k, v in t.items()} if isinstance(t, dict) else t for t in taken
    ]


def run(raw: Path, ingest_config):
    return ingest.ingest(raw, ingest_config, drivers_path=raw / "drivers.csv")


def test_reads_cp1251_semicolon_calls_and_utf8_bom_complaints(tmp_path, ingest_config):
    calls_file(tmp_path, GOOD_CALLS)
    crm_file(tmp_path, GOOD_CRM)
    result = run(tmp_path, ingest_config)
    contacts = result.contacts.set_index("contact_id")
    assert len(contacts) == 5
    assert result.quarantine.empty
    call = contacts.loc["call:CL-1"]
    # 14:05 in Moscow is 11:05 UTC; the local wall clock is kept beside it
    assert call["created_at"] == pd.Timestamp("2026-11-02 11:05", tz="UTC")
    assert call["created_local"] == pd.Timestamp("2026-11-02 14:05")
    assert call["text"] == "кл. не может войти в ЛК, сброс пароля"
    assert call["channel"] == "phone" and call["outcome"] == "answered"
    assert call["iso_week"] == "2026-W45" and call["local_hour"] == 14
    assert call["handle_time_s"] == 360
    assert contacts.loc["call:CL-2", "outcome"] == "abandoned"
    assert contacts.loc["call:CL-3", "transfers"] == 2
    complaint = contacts.loc["complaint:RQ-1"]
    assert complaint["channel"] == "email" and complaint["status"] == "resolved"
    assert complaint["text"].startswith("Здравствуйте! СМС")
    assert contacts.loc["complaint:RQ-2", "status"] == "open"
    files = result.metrics["files"]
    assert files["calls/telephony.csv"]["encoding"] == "cp1251"
    assert files["calls/telephony.csv"]["delimiter"] == ";"
    assert files["complaints/crm.csv"]["encoding"] == "utf-8-sig"


@pytest.mark.parametrize("delimiter", ["\t", ",", "|"])
def test_detects_other_delimiters(tmp_path, ingest_config, delimiter):
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter)
    for row in csv.reader([CRM_HEADER, *GOOD_CRM]):
        writer.writerow(row)
    write(tmp_path / "complaints" / "crm.tsv", buffer.getvalue())
    result = run(tmp_path, ingest_config)
    assert result.metrics["files"]["complaints/crm.tsv"]["delimiter"] == delimiter
    assert len(result.contacts) == 2


def test_json_lines_with_offsets_and_bad_json(tmp_path, ingest_config):
    lines = [
        json.dumps(
            {
                "ticket": "SD-1",
                "created": "2026-11-05T18:40:00+03:00",
                "source": "Service Desk",
                "client": "C1",
                "description": "не работает приложение, пишет ошибку 500",
                "group": "ИТ",
                "closed": None,
                "state": "open",
                "updates": 0,
            },
            ensure_ascii=False,
        ),
        '{"ticket": "SD-2", "created": "2026-11-05T19:',
        json.dumps(
            {
                "ticket": "SD-3",
                "created": "2026-11-06T08:00:00Z",
                "source": "ВКонтакте",
                "client": "C2",
                "description": "верните деньги за страховку",
            },
            ensure_ascii=False,
        ),
    ]
    write(tmp_path / "complaints" / "desk.jsonl", "\n".join(lines) + "\n")
    result = run(tmp_path, ingest_config)
    contacts = result.contacts.set_index("contact_id")
    assert contacts.loc["complaint:SD-1", "created_at"] == pd.Timestamp(
        "2026-11-05 15:40", tz="UTC"
    )
    assert contacts.loc["complaint:SD-3", "channel"] == "social"
    bad = result.quarantine.iloc[0]
    assert (bad["source_row"], bad["reason_code"]) == (2, "bad_json")
    assert "JSON" in bad["reason"]


def test_excel_export(tmp_path, ingest_config):
    frame = pd.DataFrame(
        {
            "Номер обращения": ["X-1", "X-2"],
            "Дата обращения": [pd.Timestamp("2026-11-02 09:00"), "02.11.2026 16:45"],
            "Канал": ["Отделение", "почта"],
            "Текст обращения": ["Хочу закрыть карту", "Банкомат съел карту, верните"],
        }
    )
    path = tmp_path / "complaints" / "branch.xlsx"
    path.parent.mkdir(parents=True)
    frame.to_excel(path, index=False)
    result = run(tmp_path, ingest_config)
    contacts = result.contacts.set_index("source_id")
    assert contacts.loc["X-1", "created_local"] == pd.Timestamp("2026-11-02 09:00")
    assert contacts.loc["X-2", "created_local"] == pd.Timestamp("2026-11-02 16:45")
    assert contacts.loc["X-1", "channel"] == "branch"
    assert result.metrics["files"]["complaints/branch.xlsx"]["rows_read"] == 2


@pytest.mark.parametrize(
    ("row", "code", "fragment"),
    [
        (
            "CL-9;31.02.2026 25:61;;10;Карты;Отвечен;0;;C1;кл. карта не пришла",
            "bad_date",
            "не удалось разобрать дату '31.02.2026 25:61' в колонке started_at",
        ),
        (
            ";02.11.2026 14:05;;10;Карты;Отвечен;0;;C1;КК заблок.",
            "missing_id",
            "нет идентификатора",
        ),
        (
            "CL-9;02.11.2026 14:05;;10;Карты;Отвечен;много;;C1;КК заблок.",
            "bad_number",
            "'много' в колонке transfers",
        ),
        (
            "CL-9;02.11.2026 14:05;;10;Карты;Улетел;0;;C1;КК заблок.",
            "unknown_outcome",
            "неизвестный результат звонка 'Улетел'",
        ),
        ("---- выгрузка прервана ----", "bad_field_count", "число полей 1 вместо 10"),
        (
            "CL-9;02.11.2026 14:05;02.11.2026 13:00;10;Карты;Отвечен;0;;C1;КК заблок.",
            "end_before_start",
            "окончание звонка раньше начала",
        ),
        # a wait of 10^9 seconds
        (
            "CL-9;02.11.2026 14:05;;1000000000;Карты;Отвечен;0;;C1;КК заблок.",
            "implausible_wait",
            "wait_time_s = '1000000000' с: больше 14400 с (ingest.max_wait_seconds)",
        ),
        # no duration column: the clock gives 13 h, which would cost a reason 13 h of work
        (
            "CL-9;02.11.2026 01:00;02.11.2026 14:00;;Карты;Отвечен;0;;C1;КК заблок.",
            "implausible_duration",
            "duration_s = '46800' с: больше 43200 с (ingest.max_call_seconds)",
        ),
        # a date years ahead would become the report week
        (
            "CL-9;02.11.2099 14:05;;10;Карты;Отвечен;0;;C1;КК заблок.",
            "future_date",
            "дата '02.11.2099 14:05' в колонке started_at в будущем",
        ),
        (
            "CL-9;02.11.1999 14:05;;10;Карты;Отвечен;0;;C1;КК заблок.",
            "date_too_old",
            "раньше 01.01.2000 (ingest.earliest_date)",
        ),
    ],
)
def test_bad_call_row_goes_to_quarantine(tmp_path, ingest_config, row, code, fragment):
    calls_file(tmp_path, [*GOOD_CALLS, row])
    result = run(tmp_path, ingest_config)
    assert len(result.contacts) == 3
    assert len(result.quarantine) == 1
    bad = result.quarantine.iloc[0]
    assert bad["reason_code"] == code
    assert fragment in bad["reason"]
    assert bad["source_file"] == "calls/telephony.csv"
    assert bad["source_row"] == 5  # header + 3 good rows, then this one
    assert bad["raw"].startswith(row.split(";")[0])


@pytest.mark.parametrize(
    ("row", "code", "fragment"),
    [
        ("RQ-9,2026-11-03 10:00,E-mail,C9,,Карточный бизнес,,,0", "empty_text", "пустой текст"),
        (
            "RQ-9,2026-11-03 10:00,Голубиная почта,C9,карта не пришла,,,,",
            "unknown_channel",
            "неизвестный канал 'Голубиная почта'",
        ),
        (
            "RQ-9,03/11/2026 10:00,E-mail,C9,карта не пришла,,,,",
            "bad_date",
            "ожидается ДД.ММ.ГГГГ ЧЧ:ММ или ГГГГ-ММ-ДД ЧЧ:ММ",
        ),
        (
            "RQ-9,2026-11-03 10:00,E-mail,C9,карта не пришла,,2026-11-02 10:00,Закрыто,0",
            "resolved_before_received",
            "дата решения раньше даты получения",
        ),
    ],
)
def test_bad_complaint_row_goes_to_quarantine(tmp_path, ingest_config, row, code, fragment):
    crm_file(tmp_path, [*GOOD_CRM, row])
    result = run(tmp_path, ingest_config)
    assert len(result.contacts) == 2
    assert result.quarantine["reason_code"].tolist() == [code]
    assert fragment in result.quarantine["reason"].iloc[0]


def test_missing_required_column_names_file_and_column(tmp_path, ingest_config):
    write(tmp_path / "complaints" / "crm.csv", "request_id,channel,text\nR1,E-mail,текст\n")
    with pytest.raises(IngestError, match=r"crm\.csv: нет обязательных колонок \(received_at\)"):
        run(tmp_path, ingest_config)


def test_wrong_encoding_is_a_clear_error(tmp_path, ingest_config):
    strict = ingest_config.model_copy(update={"encodings": ("utf-8",)})
    calls_file(tmp_path, GOOD_CALLS)  # written in cp1251
    with pytest.raises(IngestError, match=r"telephony\.csv: не удалось определить кодировку"):
        run(tmp_path, strict)


def test_cp1251_and_utf8_without_bom_read_the_same(tmp_path, ingest_config):
    calls_file(tmp_path / "a", GOOD_CALLS, encoding="cp1251")
    calls_file(tmp_path / "b", GOOD_CALLS, encoding="utf-8")
    a, b = run(tmp_path / "a", ingest_config).contacts, run(tmp_path / "b", ingest_config).contacts
    pd.testing.assert_frame_equal(a.drop(columns="source_file"), b.drop(columns="source_file"))


def test_unsupported_file_is_an_error(tmp_path, ingest_config):
    write(tmp_path / "calls" / "report.pdf", "%PDF-1.4")
    with pytest.raises(IngestError, match=r"report\.pdf: неподдерживаемый формат '\.pdf'"):
        run(tmp_path, ingest_config)


def test_same_export_dropped_twice_counts_once(tmp_path, ingest_config):
    calls_file(tmp_path, GOOD_CALLS, name="week45.csv")
    calls_file(tmp_path, GOOD_CALLS, name="week45_copy.csv")
    result = run(tmp_path, ingest_config)
    assert len(result.contacts) == 3
    files = result.metrics["files"]
    assert files["calls/week45_copy.csv"]["duplicates"] == 3
    assert result.metrics["duplicates"] == 3
    assert result.metrics["reconciles"]


def test_resolved_copy_of_a_request_wins_over_the_open_one(tmp_path, ingest_config):
    open_row = "RQ-7,2026-11-01 22:00,Чат в приложении,C7,перевод не дошел,,,В работе,0"
    closed_row = (
        "RQ-7,2026-11-01 22:00,Чат в приложении,C7,перевод не дошел,,2026-11-02 10:30,Закрыто,1"
    )
    crm_file(tmp_path, [open_row], name="crm_w44.csv")
    crm_file(tmp_path, [closed_row], name="crm_w45.csv")
    result = run(tmp_path, ingest_config)
    (row,) = result.contacts.itertuples()
    assert row.status == "resolved" and row.source_file == "complaints/crm_w45.csv"
    assert result.metrics["files"]["complaints/crm_w44.csv"]["duplicates"] == 1


def test_counts_reconcile_per_file(tmp_path, ingest_config):
    calls_file(tmp_path, [*GOOD_CALLS, "мусор", GOOD_CALLS[0]])
    crm_file(tmp_path, [*GOOD_CRM, "RQ-9,2026-11-03 10:00,E-mail,C9,,,,,"])
    result = run(tmp_path, ingest_config)
    for info in result.metrics["files"].values():
        assert info["rows_read"] == info["accepted"] + info["quarantined"] + info["duplicates"]
    assert result.metrics["rows_read"] == 8
    assert (
        result.metrics["accepted"],
        result.metrics["quarantined"],
        result.metrics["duplicates"],
    ) == (5, 2, 1)


def test_bad_row_share_above_limit_stops_with_counts(tmp_path, ingest_config):
    strict = ingest_config.model_copy(update={"max_bad_row_share": 0.2})
    calls_file(tmp_path, [*GOOD_CALLS, "мусор", "ещё мусор"])
    out = tmp_path / "out"
    with pytest.raises(IngestError, match=r"calls/telephony\.csv: в карантине 2 из 5 строк"):
        ingest.main(
            tmp_path,
            out / "c",
            out / "q.parquet",
            out / "d.parquet",
            out / "m.json",
            strict,
        )
    # nothing is written (but the exports' read cache), the rejected rows are beside the
    # quarantine for the analyst
    assert sorted(p.name for p in out.iterdir()) == ["ingest_cache", "q.failed.parquet"]
    assert len(pd.read_parquet(out / "q.failed.parquet")) == 2


def test_a_stopped_run_keeps_the_previous_outputs_and_names_the_paths_given(
    tmp_path, ingest_config
):
    """Last week's outputs stay byte-identical when this week's export has too many bad rows;
    the message names the rejected rows' file and the params file actually used."""
    calls_file(tmp_path / "raw", GOOD_CALLS)
    out = tmp_path / "interim"
    paths = [out / "c", out / "q.parquet", out / "d.parquet", tmp_path / "m" / "m.json"]
    ingest.main(tmp_path / "raw", *paths, ingest_config)
    before = snapshot(paths)
    calls_file(tmp_path / "raw", [*GOOD_CALLS, "мусор", "ещё мусор"])
    strict = ingest_config.model_copy(update={"max_bad_row_share": 0.2})
    params = tmp_path / "settings.yaml"
    with pytest.raises(IngestError) as caught:
        ingest.main(tmp_path / "raw", *paths, strict, params)
    message = str(caught.value)
    assert f"Причины — в {out / 'q.failed.parquet'} (колонка reason)" in message
    assert f"ingest.max_bad_row_share в {params}" in message
    assert "data/interim" not in message and "params.yaml" not in message
    assert snapshot(paths) == before
    assert sorted(p.name for p in out.iterdir()) == [
        "c",
        "d.parquet",
        "ingest_cache",
        "q.failed.parquet",
        "q.parquet",
    ]
    # the next good run writes its outputs and removes the stale rejected rows
    calls_file(tmp_path / "raw", GOOD_CALLS)
    ingest.main(tmp_path / "raw", *paths, strict, params)
    assert not (out / "q.failed.parquet").exists()
    assert snapshot(paths, without=("mtime_ns",)) == snapshot(before, without=("mtime_ns",))


def test_a_failure_while_reading_writes_nothing(tmp_path, ingest_config, monkeypatch):
    calls_file(tmp_path / "raw", GOOD_CALLS)
    out = tmp_path / "out"
    paths = [out / "c", out / "q.parquet", out / "d.parquet", out / "m.json"]
    ingest.main(tmp_path / "raw", *paths, ingest_config)
    before = snapshot(paths)

    def fail(*args, **kwargs):
        raise IngestError("сломано")

    monkeypatch.setattr(ingest, "ingest", fail)
    with pytest.raises(IngestError, match="сломано"):
        ingest.main(tmp_path / "raw", *paths, ingest_config)
    assert snapshot(paths) == before
    assert sorted(p.name for p in out.iterdir()) == [
        "c",
        "d.parquet",
        "ingest_cache",
        "m.json",
        "q.parquet",
    ]


def test_a_failure_while_writing_one_output_renames_none(tmp_path, ingest_config, monkeypatch):
    """The fourth output fails after three were written to their temporary files."""
    from pipeline.io import outputs

    calls_file(tmp_path / "raw", GOOD_CALLS)
    out = tmp_path / "out"
    paths = [out / "c", out / "q.parquet", out / "d.parquet", out / "m.json"]
    ingest.main(tmp_path / "raw", *paths, ingest_config)
    before = snapshot(paths)
    crm_file(tmp_path / "raw", GOOD_CRM)

    def no_json(*args, **kwargs):
        def fail(tmp: Path) -> None:
            tmp.write_text("{", encoding="utf-8")
            raise OSError(28, "No space left on device")

        return fail

    monkeypatch.setattr(ingest, "json_text", no_json)
    with pytest.raises(outputs.OutputError, match=r"m\.json: не удалось записать \(No space"):
        ingest.main(tmp_path / "raw", *paths, ingest_config)
    # the quarantine, drivers and metrics are renamed together or not at all; the contacts'
    # manifest is written after them, so it still describes last run's parts
    assert snapshot(paths[1:]) == before[1:]
    assert (out / "c" / "_manifest.json").read_bytes() == before[0]["_manifest.json"]
    assert sorted(p.name for p in out.iterdir()) == [
        "c",
        "d.parquet",
        "ingest_cache",
        "m.json",
        "q.parquet",
    ]


def test_drivers_file(tmp_path, ingest_config):
    calls_file(tmp_path, GOOD_CALLS)
    write(
        tmp_path / "drivers.csv",
        "неделя;клиентов\n2026-W45;1200000\n02.11.2026;1200500\n2026-W46;много\n",
    )
    result = run(tmp_path, ingest_config)
    assert result.drivers.to_dict("records") == [
        {
            "iso_week": "2026-W45",
            "week_start": pd.Timestamp("2026-11-02").date(),
            "customers": 1200500,
        }
    ]
    assert result.quarantine["reason_code"].tolist() == ["bad_number"]


def test_rerun_writes_identical_outputs(tmp_path, ingest_config):
    calls_file(tmp_path / "raw", [*GOOD_CALLS, "мусор"])
    crm_file(tmp_path / "raw", GOOD_CRM)
    outputs = []
    for attempt in ("one", "two"):
        out = tmp_path / attempt
        paths = [out / "c", out / "q.parquet", out / "d.parquet", out / "m.json"]
        ingest.main(
            tmp_path / "raw", *paths, ingest_config.model_copy(update={"max_bad_row_share": 1})
        )
        outputs.append(snapshot(paths))
    assert outputs[0] == outputs[1]


def test_cli_prints_a_readable_error_without_traceback(tmp_path, capsys):
    from pipeline.cli import main

    write(tmp_path / "raw" / "complaints" / "crm.csv", "id;text\nR1;текст\n")
    out = tmp_path / "out"
    code = main(
        [
            "--params",
            str(ROOT / "params.yaml"),
            "ingest",
            "--raw",
            str(tmp_path / "raw"),
            "--contacts",
            str(out / "c"),
            "--quarantine",
            str(out / "q"),
            "--drivers",
            str(out / "d"),
            "--metrics",
            str(out / "m"),
        ]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert "ОШИБКА (ingest)" in err and "нет обязательных колонок" in err
    assert "Traceback" not in err


def test_date_only_resolution_is_the_end_of_that_day_and_conflicts_are_flagged(
    tmp_path, ingest_config
):
    """RQ-1 received 17 Nov 15:00, resolved «2026-11-17» (no time): read as 17 Nov 23:59:59
    local — not "before receipt" (midnight would be), and flagged date-only. RQ-2 «Закрыто»
    without a resolution time and RQ-3 «В работе» with one are kept and flagged; the SLA
    decides what each means."""
    crm_file(
        tmp_path,
        [
            "RQ-1,2026-11-17 15:00,E-mail,C1,Карта не пришла,Карточный бизнес,2026-11-17,,1",
            "RQ-2,2026-11-17 15:00,E-mail,C2,Карта не пришла,Карточный бизнес,,Закрыто,1",
            "RQ-3,2026-11-17 15:00,E-mail,C3,Карта не пришла,Карточный бизнес,"
            "2026-11-18 10:00,В работе,1",
        ],
    )
    calls_file(tmp_path, GOOD_CALLS[:1])
    result = run(tmp_path, ingest_config)
    assert result.quarantine.empty, result.quarantine["reason"].tolist()
    rows = result.contacts.set_index("source_id")
    assert rows.loc["RQ-1", "resolved_at"] == pd.Timestamp(
        "2026-11-17 23:59:59", tz="Europe/Moscow"
    )
    assert rows["resolved_date_only"].to_dict() == {
        "CL-1": False,
        "RQ-1": True,
        "RQ-2": False,
        "RQ-3": False,
    }
    assert rows.loc["RQ-2", "status_conflict"] == "closed_without_time"
    assert rows.loc["RQ-3", "status_conflict"] == "open_with_time"
    assert pd.isna(rows.loc["RQ-1", "status_conflict"])


@pytest.mark.parametrize(
    ("encoding", "line_end"),
    [("utf-16-le", "\r\n"), ("utf-16-be", "\n"), ("cp1251", "\r"), ("utf-8", "\r")],
    ids=["utf-16-le without BOM", "utf-16-be without BOM", "cp1251 CR-only", "utf-8 CR-only"],
)
def test_utf16_without_bom_and_cr_only_line_ends_are_read(
    tmp_path, ingest_config, encoding, line_end
):
    """Exports saved as UTF-16 without a byte-order mark, or with bare-CR line ends (old Mac
    tools), used to stop ingest with a csv traceback; now every row is read and reconciles."""
    path = tmp_path / "calls" / "telephony.csv"
    path.parent.mkdir(parents=True)
    path.write_bytes(
        line_end.join([CALL_HEADER, *GOOD_CALLS]).encode(encoding) + line_end.encode(encoding)
    )
    result = run(tmp_path, ingest_config)
    assert len(result.contacts) == 3 and result.quarantine.empty
    assert result.metrics["reconciles"]
    texts = result.contacts.set_index("source_id")["text"]
    assert texts["CL-1"] == "кл. не может войти в ЛК, сброс пароля"


def test_an_export_in_a_capitalised_folder_is_read(tmp_path, ingest_config):
    path = tmp_path / "Calls" / "telephony.csv"
    path.parent.mkdir()
    path.write_text("\n".join([CALL_HEADER, *GOOD_CALLS]) + "\n", encoding="cp1251")
    result = run(tmp_path, ingest_config)
    assert len(result.contacts) == 3 and result.metrics["reconciles"]


def test_an_export_outside_calls_and_complaints_stops_the_run_by_name(tmp_path, ingest_config):
    calls_file(tmp_path, GOOD_CALLS)
    (tmp_path / "crm_week47.csv").write_text("\n".join([CRM_HEADER, *GOOD_CRM]), encoding="utf-8")
    with pytest.raises(IngestError, match="crm_week47.csv.*переложите"):
        run(tmp_path, ingest_config)


def test_a_zero_byte_export_stops_the_run_and_a_header_only_one_is_reported(
    tmp_path, ingest_config, caplog
):
    calls_file(tmp_path, GOOD_CALLS)
    crm_file(tmp_path, [], name="empty_week.csv")
    result = run(tmp_path, ingest_config)
    assert result.metrics["files"]["complaints/empty_week.csv"]["empty"] is True
    assert "только заголовок" in caplog.text
    (tmp_path / "complaints" / "broken.csv").write_bytes(b"")
    with pytest.raises(IngestError, match="broken.csv: файл пуст \\(0 байт\\)"):
        run(tmp_path, ingest_config)


def test_a_json_line_with_a_unicode_line_separator_stays_one_record(tmp_path, ingest_config):
    """U+2028 is allowed inside a JSON string (text pasted from a word processor); it used to
    split the line into two broken fragments."""
    calls_file(tmp_path, GOOD_CALLS)
    line = (
        '{"request_id": "RQ-7", "received_at": "2026-11-17 10:00", "channel": "chat", '
        '"customer_id": "C7", "text": "первая строка\u2028вторая строка", '
        '"department": "Карты", "status": "open"}'
    )
    assert "\u2028" in line  # the character itself, not an escape
    path = tmp_path / "complaints" / "chat.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(line + "\n", encoding="utf-8")
    result = run(tmp_path, ingest_config)
    assert result.quarantine.empty, result.quarantine["reason"].tolist()
    text = result.contacts.set_index("source_id").loc["RQ-7", "text"]
    assert text == "первая строка\u2028вторая строка"


def test_a_complaint_longer_than_128_kb_is_read(tmp_path, ingest_config):
    long_text = "Пересылаю всю переписку. " * 8000  # ~200 KB
    crm_file(
        tmp_path,
        [f'RQ-9,2026-11-17 10:00,E-mail,C9,"{long_text}",Карты,,В работе,0'],
    )
    result = run(tmp_path, ingest_config)
    assert len(result.contacts) == 1 and len(result.contacts["text"].iloc[0]) > 128 * 1024


def test_a_workbook_with_data_on_two_sheets_stops_instead_of_losing_one(tmp_path, ingest_config):
    path = tmp_path / "calls" / "telephony.xlsx"
    path.parent.mkdir()
    header = CALL_HEADER.split(";")
    rows = [r.split(";") for r in GOOD_CALLS]
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        pd.DataFrame(rows[:2], columns=header).to_excel(writer, sheet_name="Ноябрь", index=False)
        pd.DataFrame(rows[2:], columns=header).to_excel(writer, sheet_name="Декабрь", index=False)
    with pytest.raises(IngestError, match="нескольких листах \\(Ноябрь, Декабрь\\)"):
        run(tmp_path, ingest_config)


def test_a_re_export_with_different_content_is_a_visible_conflict(tmp_path, ingest_config, caplog):
    """The same call id in two exports: an identical copy is a duplicate; a copy whose text
    differs is a duplicate too (the first copy read is kept) but counted as a conflict, per file
    and in total, and logged — not silently folded in."""
    calls_file(tmp_path, GOOD_CALLS, name="a_week.csv")
    changed = GOOD_CALLS[0].replace("сброс пароля", "сброс пароля, ИСПРАВЛЕНО")
    calls_file(tmp_path, [changed, GOOD_CALLS[2]], name="b_reexport.csv")
    result = run(tmp_path, ingest_config)
    files = result.metrics["files"]
    assert files["calls/b_reexport.csv"]["duplicates"] == 2
    assert files["calls/b_reexport.csv"]["conflicts"] == 1
    assert result.metrics["conflicts"] == 1 and result.metrics["reconciles"]
    kept = result.contacts.set_index("source_id").loc["CL-1", "text"]
    assert kept == "кл. не может войти в ЛК, сброс пароля"
    assert "разные данные под одним id" in caplog.text and "b_reexport.csv" in caplog.text


def test_two_columns_for_one_field_stop_the_run_naming_them(tmp_path, ingest_config):
    """«Комментарий» and «Комментарий оператора» both map to the text: reading the first and
    dropping the second would lose text without a word."""
    header = CALL_HEADER + ";Комментарий"
    path = tmp_path / "calls" / "telephony.csv"
    path.parent.mkdir(parents=True)
    path.write_text("\r\n".join([header, *[r + ";ещё" for r in GOOD_CALLS]]), encoding="cp1251")
    with pytest.raises(IngestError, match="колонок для поля text несколько"):
        run(tmp_path, ingest_config)


def test_a_file_mixing_cp1251_and_utf8_lines_keeps_both_readable(tmp_path, ingest_config):
    """Two systems appended to one export: a cp1251 header and rows, then UTF-8 rows. Decoding
    it whole as cp1251 turned the UTF-8 rows into «РєР»..» and accepted them; each line is now
    read in its own encoding."""
    path = tmp_path / "calls" / "telephony.csv"
    path.parent.mkdir(parents=True)
    cp1251 = "\r\n".join([CALL_HEADER, GOOD_CALLS[0]]).encode("cp1251")
    utf8 = GOOD_CALLS[2].encode("utf-8")
    path.write_bytes(cp1251 + b"\r\n" + utf8 + b"\r\n")
    result = run(tmp_path, ingest_config)
    texts = result.contacts.set_index("source_id")["text"]
    assert texts["CL-1"] == "кл. не может войти в ЛК, сброс пароля"
    assert texts["CL-3"] == "кл. переводили между отделами, недоволен"
    assert result.metrics["files"]["calls/telephony.csv"]["encoding"] == "utf-8+cp1251"


def test_a_portal_export_without_a_channel_column_takes_the_configured_channel(
    tmp_path, ingest_config
):
    """A city portal's reports carry no channel: `ingest.complaint_channel: web` says what they
    are; without it the missing column stops the run naming it."""
    write(
        tmp_path / "complaints" / "portal.csv",
        "id,created,text\n"
        "2948002,2020-10-18T15:20:42,Низкая температура в 1 парадной\n"
        "2948003,2020-10-18 16:05,Не убран мусор во дворе дома 5\n",
    )
    with pytest.raises(IngestError, match="нет обязательных колонок \\(channel\\)"):
        run(tmp_path, ingest_config)
    config = ingest_config.model_copy(update={"complaint_channel": "web"})
    result = run(tmp_path, config)
    assert result.contacts["channel"].tolist() == ["web", "web"]
    assert result.quarantine.empty


def test_complaint_channel_must_be_a_known_channel():
    from pipeline.config import ConfigError, load_params

    with pytest.raises((ConfigError, ValueError), match="complaint_channel"):
        params = (ROOT / "params.yaml").read_text(encoding="utf-8")
        broken = params.replace("  complaint_channel:\n", "  complaint_channel: portal\n")
        path = Path(__import__("tempfile").mkdtemp()) / "params.yaml"
        path.write_text(broken, encoding="utf-8")
        load_params(path)
