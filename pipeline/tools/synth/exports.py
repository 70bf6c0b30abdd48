"""The demo files as the source systems export them: telephony CSV (``;``, Windows-1251),
CRM CSV (UTF-8 with BOM, overlapping weeks), service-desk JSON lines, drivers, the answer file,
and the deliberately malformed rows with their manifest."""

from __future__ import annotations

import csv
import io
import json
import random
from datetime import date, datetime, time, timedelta

from pipeline.io.weeks import week_of
from pipeline.tools.synth.contacts import Contact
from pipeline.tools.synth.stories import DESK_CHANNELS

CALL_HEADER = [
    "ИД звонка",
    "Начало",
    "Окончание",
    "Ожидание, с",
    "Очередь",
    "Результат",
    "Переводов",
    "Маршрут",
    "Клиент",
    "Комментарий оператора",
]
CRM_HEADER = [
    "request_id",
    "received_at",
    "channel",
    "customer_id",
    "text",
    "department",
    "resolved_at",
    "status",
    "status_updates",
]
OUTCOME_LABEL = {"answered": "Отвечен", "abandoned": "Пропущен", "dropped": "Разъединен"}


def _local(moment: datetime | None, fmt: str) -> str:
    return "" if moment is None else moment.strftime(fmt)


def call_rows(contacts: list[Contact]) -> list[list[str]]:
    rows = []
    for c in contacts:
        end = c.created + timedelta(seconds=c.wait_s + c.duration_s)
        rows.append(
            [
                c.source_id,
                _local(c.created, "%d.%m.%Y %H:%M"),
                _local(end, "%d.%m.%Y %H:%M"),
                str(c.wait_s),
                c.queue,
                OUTCOME_LABEL[c.outcome],
                str(c.transfers),
                c.route,
                c.customer_id,
                c.text,
            ]
        )
    return rows


def _known(resolved: datetime | None, exported: datetime) -> datetime | None:
    """A resolution after the export moment is not in that export yet."""
    return resolved if resolved is not None and resolved < exported else None


def crm_rows(
    contacts: list[Contact], titles: dict[str, str], exported: datetime
) -> list[list[str]]:
    rows = []
    for c in contacts:
        resolved = _known(c.resolved, exported)
        rows.append(
            [
                c.source_id,
                _local(c.created, "%Y-%m-%d %H:%M"),
                c.channel,
                c.customer_id,
                c.text,
                titles.get(c.queue, c.queue),
                _local(resolved, "%Y-%m-%d %H:%M"),
                "Закрыто" if resolved else "В работе",
                str(c.status_updates),
            ]
        )
    return rows


def desk_lines(contacts: list[Contact], titles: dict[str, str], exported: datetime) -> list[str]:
    lines = []
    for c in contacts:
        resolved = _known(c.resolved, exported)
        item = {
            "ticket": c.source_id,
            "created": c.created.strftime("%Y-%m-%dT%H:%M:%S+03:00"),
            "source": c.channel,
            "client": c.customer_id,
            "description": c.text,
            "group": titles.get(c.queue, c.queue),
            "closed": resolved.strftime("%Y-%m-%dT%H:%M:%S+03:00") if resolved else None,
            "state": "closed" if resolved else "open",
            "updates": c.status_updates,
        }
        lines.append(json.dumps(item, ensure_ascii=False))
    return lines


def _csv_text(header: list[str], rows: list[list[str]], delimiter: str) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def plant_malformed(files: dict[str, dict], rng: random.Random) -> list[dict]:
    """Break a handful of rows the way real exports break; returns the manifest."""
    manifest = []
    calls = sorted(k for k in files if k.startswith("calls/"))
    crm = sorted(k for k in files if k.startswith("complaints/crm_"))
    desk = sorted(k for k in files if k.startswith("complaints/servicedesk_"))

    def breaks(names: list[str], which: int, index: int, mutate, code: str) -> None:
        # fewer weeks or contacts than the demo's: the file and row wrap around
        name = names[which % len(names)]
        rows = files[name]["rows"]
        index %= len(rows)
        row = rows[index]
        rows[index] = mutate(row if isinstance(row, str) else list(row))
        # file line: CSV files have a header line, JSON lines do not
        line = index + (1 if files[name]["kind"] == "desk" else 2)
        manifest.append({"file": name, "line": line, "reason_code": code})

    breaks(calls, 2, 40, lambda r: r[:1] + ["31.02.2026 25:61"] + r[2:], "bad_date")
    breaks(calls, 5, 100, lambda r: [""] + r[1:], "missing_id")
    breaks(
        calls, 8, 7, lambda r: ["---- выгрузка прервана, повторите запрос ----"], "bad_field_count"
    )
    breaks(calls, 9, 55, lambda r: r[:6] + ["много"] + r[7:], "bad_number")
    breaks(crm, 3, 12, lambda r: r[:4] + [""] + r[5:], "empty_text")
    breaks(crm, 6, 30, lambda r: r[:2] + ["Голубиная почта"] + r[3:], "unknown_channel")
    breaks(crm, 10, 3, lambda r: r[:1] + ["2026-13-45 10:00"] + r[2:], "bad_date")
    breaks(desk, 4, 9, lambda r: r[: len(r) // 2], "bad_json")
    breaks(desk, 7, 2, lambda r: '["не", "объект"]', "bad_json")
    return manifest


def render_files(
    contacts: list[Contact],
    week_starts: list[date],
    titles: dict[str, str],
    clean: bool,
    rng: random.Random,
) -> tuple[dict[str, bytes], list[dict]]:
    """Split contacts into weekly exports per source system; returns file name -> bytes."""
    files: dict[str, dict] = {}
    for i, start in enumerate(week_starts):
        end = start + timedelta(days=7)
        label = week_of(start)
        in_week = [c for c in contacts if start <= c.created.date() < end]
        calls = [c for c in in_week if c.kind == "call"]
        complaints = [c for c in in_week if c.kind == "complaint"]
        desk = [c for c in complaints if c.channel in DESK_CHANNELS]
        crm = [c for c in complaints if c.channel not in DESK_CHANNELS]
        if i > 0 and not clean:  # overlapping export: repeats the previous Sunday
            sunday = start - timedelta(days=1)
            crm = [
                c
                for c in contacts
                if c.kind == "complaint"
                and c.channel not in DESK_CHANNELS
                and c.created.date() == sunday
            ] + crm
        files[f"calls/telephony_{label}.csv"] = {"kind": "calls", "rows": call_rows(calls)}
        exported = datetime.combine(end, time(0, 0))
        files[f"complaints/crm_{label}.csv"] = {
            "kind": "crm",
            "rows": crm_rows(crm, titles, exported),
        }
        files[f"complaints/servicedesk_{label}.jsonl"] = {
            "kind": "desk",
            "rows": desk_lines(desk, titles, exported),
        }
    manifest = [] if clean else plant_malformed(files, rng)
    out = {}
    for name, spec in files.items():
        if spec["kind"] == "calls":
            out[name] = _csv_text(CALL_HEADER, spec["rows"], ";").encode(
                "cp1251", errors="replace"
            )
        elif spec["kind"] == "crm":
            out[name] = b"\xef\xbb\xbf" + _csv_text(CRM_HEADER, spec["rows"], ",").encode("utf-8")
        else:
            out[name] = ("\n".join(spec["rows"]) + "\n").encode("utf-8")
    return out, manifest


def drivers_csv(week_starts: list[date], rng: random.Random) -> bytes:
    lines = ["week,customers"]
    customers = 1_180_000
    for start in week_starts:
        customers += rng.randint(1500, 4500)
        lines.append(f"{week_of(start)},{customers}")
    return ("\n".join(lines) + "\n").encode("utf-8")


def answers_csv(contacts: list[Contact]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["contact_id", "reason_id", "story", "has_text"])
    for c in contacts:
        writer.writerow([c.contact_id, c.reason_id, c.story, int(bool(c.text))])
    return buffer.getvalue().encode("utf-8")
