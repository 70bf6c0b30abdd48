"""Hand-off (CRM event) exports under data/raw/handoffs/: read in any export format, tied to
their contacts, every bad row quarantined with its reason, and the counts reconcile."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from test_ingest import GOOD_CALLS, GOOD_CRM, calls_file, crm_file, write

from pipeline import ingest
from pipeline.config import IngestConfig
from pipeline.io.handoffs import HANDOFF_COLUMNS
from pipeline.io.sources import IngestError

RU_HEADER = (
    "Номер события;Номер обращения;Время события;Тип события;Из отдела;В отдел;Перезвонить до"
)
EN_HEADER = "event_id,contact_id,event_at,event_type,from_department,to_department,promised_at"
# the same four events in three exports (calls CL-1..3 and requests RQ-1, RQ-2 exist)
RU_ROWS = [
    "E-1;RQ-1;02.11.2026 15:45;Передано;  Контакт-центр ;Дирекция цифровых каналов;",
    "E-2;RQ-1;02.11.2026 16:00;обещан перезвон;Дирекция цифровых каналов;;03.11.2026 12:00",
    "E-3;CL-3;03.11.2026 10:20;Эскалация;Кредиты;Отдел претензий;",
    "E-4;RQ-2;03.11.2026 11:00;закрыто;;;",
]
JSON_ROWS = [
    {
        "event_id": "E-1",
        "request_id": "RQ-1",
        "event_time": "2026-11-02T12:45:00Z",
        "type": "transferred",
        "from_department": "Контакт-центр",
        "to_department": "Дирекция цифровых каналов",
    },
    {
        "event_id": "E-2",
        "request_id": "RQ-1",
        "event_time": "2026-11-02 16:00",
        "type": "callback_promised",
        "from_department": "Дирекция цифровых каналов",
        "to_department": None,
        "callback_at": "2026-11-03T12:00:00+03:00",
    },
    {
        "event_id": "E-3",
        "request_id": "CL-3",
        "event_time": "2026-11-03 10:20",
        "type": "escalated",
        "from_department": "Кредиты",
        "to_department": "Отдел претензий",
    },
    {"event_id": "E-4", "request_id": "RQ-2", "event_time": "03.11.2026 11:00", "type": "closed"},
]
EXPECTED = pd.DataFrame(
    {
        "event_id": ["E-1", "E-2", "E-3", "E-4"],
        "contact_id": ["complaint:RQ-1", "complaint:RQ-1", "call:CL-3", "complaint:RQ-2"],
        "event_at": pd.to_datetime(
            ["2026-11-02 12:45", "2026-11-02 13:00", "2026-11-03 07:20", "2026-11-03 08:00"],
            utc=True,
        ).astype("datetime64[us, UTC]"),
        "event_type": ["transferred", "callback_promised", "escalated", "closed"],
        "from_department": ["Контакт-центр", "Дирекция цифровых каналов", "Кредиты", None],
        "to_department": ["Дирекция цифровых каналов", None, "Отдел претензий", None],
        "promised_at": pd.to_datetime([None, "2026-11-03 09:00", None, None], utc=True).astype(
            "datetime64[us, UTC]"
        ),
    }
).astype({c: "string" for c in ("event_id", "contact_id", "event_type")})


def contacts(raw: Path) -> None:
    calls_file(raw, GOOD_CALLS)
    crm_file(raw, GOOD_CRM)


def ru_csv(raw: Path, rows: list[str], name="crm_events.csv") -> Path:
    return write(raw / "handoffs" / name, "\r\n".join([RU_HEADER, *rows]) + "\r\n", "cp1251")


def en_csv(raw: Path, rows: list[str], name="events.csv") -> Path:
    return write(raw / "handoffs" / name, "\n".join([EN_HEADER, *rows]) + "\n")


def xlsx(raw: Path) -> Path:
    frame = pd.DataFrame(
        {
            "ИД события": ["E-1", "E-2", "E-3", "E-4"],
            "ИД контакта": ["RQ-1", "complaint:RQ-1", "CL-3", "RQ-2"],
            # a date cell and dates typed as text
            "Время события": [
                pd.Timestamp("2026-11-02 15:45"),
                "02.11.2026 16:00",
                "2026-11-03 10:20",
                "03.11.2026 11:00",
            ],
            "Событие": ["передача", "Обещан звонок", "эскалировано", "Закрыт"],
            "Отдел-отправитель": ["Контакт-центр", "Дирекция цифровых каналов", "Кредиты", ""],
            "Отдел-получатель": ["Дирекция цифровых каналов", "", "Отдел претензий", ""],
            "Обещано на": ["", pd.Timestamp("2026-11-03 12:00"), "", ""],
        }
    )
    path = raw / "Handoffs" / "crm_events.xlsx"  # the folder's letter case does not matter
    path.parent.mkdir(parents=True)
    frame.to_excel(path, index=False)
    return path


def jsonl(raw: Path) -> Path:
    lines = [json.dumps(row, ensure_ascii=False) for row in JSON_ROWS]
    return write(raw / "handoffs" / "events.jsonl", "\n".join(lines) + "\n")


def outputs(out: Path) -> list[Path]:
    names = ("contacts", "quarantine.parquet", "drivers.parquet", "ingest.json")
    return [out / name for name in names]


def run(raw: Path, out: Path, config: IngestConfig, **extra) -> ingest.IngestResult:
    return ingest.main(raw, *outputs(out), config, handoffs_out=out / "handoffs.parquet", **extra)


def lenient(config: IngestConfig) -> IngestConfig:
    return config.model_copy(update={"max_bad_row_share": 1.0})


@pytest.mark.parametrize(
    "export", [lambda raw: ru_csv(raw, RU_ROWS), xlsx, jsonl], ids=["csv", "xlsx", "jsonl"]
)
def test_every_export_format_reads_to_the_same_events(tmp_path, ingest_config, export):
    contacts(tmp_path / "raw")
    path = export(tmp_path / "raw")
    result = run(tmp_path / "raw", tmp_path / "out", ingest_config)
    events = pd.read_parquet(tmp_path / "out" / "handoffs.parquet")
    assert tuple(events.columns) == HANDOFF_COLUMNS
    assert str(events["event_at"].dtype) == "datetime64[us, UTC]"
    assert str(events["promised_at"].dtype) == "datetime64[us, UTC]"
    assert events["source_row"].dtype == "int64"
    pd.testing.assert_frame_equal(
        events.drop(columns=["source_file", "source_row"]), EXPECTED, check_dtype=False
    )
    label = path.relative_to(tmp_path / "raw").as_posix()
    assert set(events["source_file"]) == {label}
    info = result.metrics["files"][label]
    assert info["kind"] == "handoff" and info["reconciles"]
    assert (info["rows_read"], info["accepted"], info["quarantined"]) == (4, 4, 0)
    assert result.metrics["handoffs"] == {
        "files": 1,
        "rows_read": 4,
        "accepted": 4,
        "quarantined": 0,
        "duplicates": 0,
        "conflicts": 0,
        "reconciles": True,
    }
    # the contacts' totals do not count the events
    assert (result.metrics["rows_read"], result.metrics["contacts"]) == (5, 5)
    assert result.quarantine.empty


def test_cp1251_semicolon_export_is_detected(tmp_path, ingest_config):
    contacts(tmp_path)
    ru_csv(tmp_path, RU_ROWS)
    result = run(tmp_path, tmp_path / "out", ingest_config)
    info = result.metrics["files"]["handoffs/crm_events.csv"]
    assert (info["encoding"], info["delimiter"]) == ("cp1251", ";")


BAD_ROWS = {
    "unknown_contact": "E-10;RQ-404;02.11.2026 16:00;закрыто;;;",
    # RQ-1 was received at 15:30: an event at 14:30 runs time backwards
    "event_before_contact": "E-11;RQ-1;02.11.2026 14:30;передано;;Карты;",
    "promise_before_event": "E-12;CL-1;02.11.2026 15:00;обещан звонок;;;02.11.2026 14:00",
    "unknown_event_type": "E-13;CL-1;02.11.2026 15:00;перезвонить позже;;;",
    "missing_department": "E-14;CL-1;02.11.2026 15:00;передано;Карты;;",
    "bad_promised_at": "E-15;CL-1;02.11.2026 15:00;обещан звонок;;;завтра утром",
    "bad_date": "E-16;CL-1;;закрыто;;;",
    "missing_id": ";CL-1;02.11.2026 15:00;закрыто;;;",
    "missing_contact": "E-17;;02.11.2026 15:00;закрыто;;;",
}


def quarantined(result: ingest.IngestResult) -> pd.DataFrame:
    rows = result.quarantine[result.quarantine["kind"] == "handoff"]
    return rows.set_index("reason_code")


def test_bad_events_are_quarantined_with_the_reason(tmp_path, ingest_config):
    contacts(tmp_path)
    ru_csv(tmp_path, [*RU_ROWS, *BAD_ROWS.values(), "E-1;RQ-1;02.11.2026 15:45;передано;;Х;"])
    result = run(tmp_path, tmp_path / "out", lenient(ingest_config))
    bad = quarantined(result)
    assert sorted(bad.index) == sorted(BAD_ROWS)
    reason = bad["reason"]
    assert "'RQ-404'" in reason["unknown_contact"] and "не найден" in reason["unknown_contact"]
    assert "complaint:RQ-1" in reason["event_before_contact"]
    assert "'02.11.2026 14:30'" in reason["event_before_contact"]
    assert "'02.11.2026 15:30'" in reason["event_before_contact"]
    assert "раньше самого события" in reason["promise_before_event"]
    assert "'перезвонить позже'" in reason["unknown_event_type"]
    assert "ingest.handoff_types" in reason["unknown_event_type"]
    assert "to_department" in reason["missing_department"]
    assert "'завтра утром'" in reason["bad_promised_at"]
    assert "event_at" in reason["bad_date"]
    assert bad.loc["unknown_contact", "source_row"] == 6  # the line in the file (header: 1)
    assert set(bad["source_file"]) == {"handoffs/crm_events.csv"}
    info = result.metrics["files"]["handoffs/crm_events.csv"]
    assert (info["rows_read"], info["accepted"], info["quarantined"]) == (14, 4, 9)
    assert (info["duplicates"], info["conflicts"], info["reconciles"]) == (1, 1, True)
    assert result.metrics["reconciles"]
    # the contacts' totals and reasons stay the contacts' own
    assert result.metrics["quarantined"] == 0 and result.metrics["quarantine_reasons"] == {}
    written = pd.read_parquet(tmp_path / "out" / "quarantine.parquet")
    assert len(written) == 9 and set(written["kind"]) == {"handoff"}


def test_a_duplicate_event_in_another_file_keeps_the_first_read(tmp_path, ingest_config):
    contacts(tmp_path)
    ru_csv(tmp_path, RU_ROWS, name="a_week45.csv")
    en_csv(
        tmp_path, ["E-4,RQ-2,2026-11-03 11:00,closed,,,", "E-5,CL-1,2026-11-02 14:30,closed,,,"]
    )
    result = run(tmp_path, tmp_path / "out", ingest_config)
    events = pd.read_parquet(tmp_path / "out" / "handoffs.parquet").set_index("event_id")
    assert events.loc["E-4", "source_file"] == "handoffs/a_week45.csv"
    second = result.metrics["files"]["handoffs/events.csv"]
    assert (second["accepted"], second["duplicates"], second["conflicts"]) == (1, 1, 0)
    assert result.metrics["handoffs"]["duplicates"] == 1
    # sorted by time, then event id
    assert list(events.index) == ["E-5", "E-1", "E-2", "E-3", "E-4"]


def test_the_canonical_reference_and_an_ambiguous_one(tmp_path, ingest_config):
    contacts(tmp_path)
    # a call and a request that share the source id X-7
    calls_file(tmp_path, ["X-7;02.11.2026 10:00;;5;Карты;Отвечен;0;;C9;звонок"], name="x.csv")
    crm_file(tmp_path, ["X-7,2026-11-02 11:00,почта,C9,письмо,Карты,,,0"], name="x.csv")
    en_csv(
        tmp_path,
        [
            "E-1,complaint:RQ-1,2026-11-02 16:00,closed,,,",
            "E-2,X-7,2026-11-02 16:00,closed,,,",
            "E-3,call:X-7,2026-11-02 16:00,closed,,,",
        ],
    )
    result = run(tmp_path, tmp_path / "out", lenient(ingest_config))
    events = pd.read_parquet(tmp_path / "out" / "handoffs.parquet").set_index("event_id")
    assert events["contact_id"].to_dict() == {"E-1": "complaint:RQ-1", "E-3": "call:X-7"}
    reason = quarantined(result).loc["ambiguous_contact", "reason"]
    assert "call:X-7" in reason and "complaint:X-7" in reason


def test_without_an_export_every_output_is_as_before(tmp_path, ingest_config):
    for name in ("before", "after"):
        contacts(tmp_path / name / "raw")
    ingest.main(tmp_path / "before" / "raw", *outputs(tmp_path / "before" / "out"), ingest_config)
    (tmp_path / "after" / "raw" / "handoffs").mkdir()  # an empty folder is no export
    (tmp_path / "after" / "raw" / "handoffs" / ".keep").write_text("")
    result = run(tmp_path / "after" / "raw", tmp_path / "after" / "out", ingest_config)
    assert "handoffs" not in result.metrics
    for before, after in zip(
        outputs(tmp_path / "before" / "out"), outputs(tmp_path / "after" / "out"), strict=True
    ):
        if before.is_dir():
            continue  # the contacts manifest holds the exports' modification times
        assert before.read_bytes() == after.read_bytes(), before.name
    events = pd.read_parquet(tmp_path / "after" / "out" / "handoffs.parquet")
    assert events.empty and tuple(events.columns) == HANDOFF_COLUMNS
    assert str(events["event_at"].dtype) == "datetime64[us, UTC]"


def test_too_many_bad_events_stop_the_run_and_write_nothing(tmp_path, ingest_config):
    contacts(tmp_path / "raw")
    good = [f"E-{i};CL-1;02.11.2026 15:{i:02d};закрыто;;;" for i in range(18)]
    ru_csv(tmp_path / "raw", [*good, BAD_ROWS["unknown_contact"], BAD_ROWS["bad_date"]])
    out = tmp_path / "out"
    with pytest.raises(IngestError, match=r"handoffs/crm_events\.csv: в карантине 2 из 20"):
        run(tmp_path / "raw", out, ingest_config)
    assert sorted(p.name for p in out.iterdir()) == ["ingest_cache", "quarantine.failed.parquet"]
    failed = pd.read_parquet(out / "quarantine.failed.parquet")
    assert sorted(failed["reason_code"]) == ["bad_date", "unknown_contact"]


def test_an_export_without_the_columns_section_stops_with_the_fix(tmp_path, ingest_config):
    contacts(tmp_path)
    ru_csv(tmp_path, RU_ROWS)
    columns = {k: v for k, v in ingest_config.columns.items() if k != "handoff"}
    config = IngestConfig.model_validate({**ingest_config.model_dump(), "columns": columns})
    with pytest.raises(IngestError, match=r"ingest\.columns\.handoff"):
        run(tmp_path, tmp_path / "out", config)


def test_older_params_without_the_hand_off_settings_still_load(ingest_config):
    data = ingest_config.model_dump()
    data.pop("handoff_types")
    data["columns"].pop("handoff")
    config = IngestConfig.model_validate(data)
    assert config.handoff_types == ingest_config.handoff_types
    with pytest.raises(ValueError, match="handoff_types"):
        IngestConfig.model_validate({**data, "handoff_types": {"forwarded": ["передано"]}})


def test_events_resolve_against_weeks_kept_on_disk_and_weeks_recomputed(tmp_path, ingest_config):
    """The second run recomputes only week 46; an event of a week-45 contact is resolved from
    the stored part, one of the new week from memory."""
    raw, out = tmp_path / "raw", tmp_path / "out"
    contacts(raw)
    run(raw, out, ingest_config)
    calls_file(raw, ["CL-9;10.11.2026 09:00;;5;Карты;Отвечен;0;;C9;звонок"], name="w46.csv")
    en_csv(
        raw,
        [
            "E-1,RQ-1,2026-11-02 16:00,closed,,,",
            "E-2,CL-9,2026-11-10 09:30,transferred,Карты,Кредиты,",
            "E-3,CL-9,2026-11-10 08:00,closed,,,",
        ],
    )
    result = run(raw, out, lenient(ingest_config))
    assert result.weeks == {"2026-W46"}
    events = pd.read_parquet(out / "handoffs.parquet").set_index("event_id")
    assert events["contact_id"].to_dict() == {"E-1": "complaint:RQ-1", "E-2": "call:CL-9"}
    assert list(quarantined(result).index) == ["event_before_contact"]


def test_events_of_another_organisation_are_all_unknown_and_nothing_crashes(
    tmp_path, ingest_config
):
    """An export whose every event names a contact this run does not have (a hand-off log left
    from another organisation): every row quarantined as unknown_contact, the counts reconcile."""
    contacts(tmp_path)
    ru_csv(
        tmp_path, [BAD_ROWS["unknown_contact"], BAD_ROWS["unknown_contact"].replace("E-", "F-")]
    )
    result = run(tmp_path, tmp_path / "out", lenient(ingest_config))
    assert quarantined(result).index.tolist() == ["unknown_contact", "unknown_contact"]
    info = result.metrics["files"]["handoffs/crm_events.csv"]
    assert (info["rows_read"], info["accepted"], info["reconciles"]) == (2, 0, True)
    assert pd.read_parquet(tmp_path / "out" / "handoffs.parquet").empty
