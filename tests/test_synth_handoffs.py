"""The demo's CRM hand-off events: deterministic, separate from the contact exports, every event
on a generated contact except the planted bad rows, and the planted hand-off stories measurable
by the fate rules (picked up / kept on time, late or lost by the business calendar)."""

from __future__ import annotations

import io
from datetime import date, datetime, time, timedelta
from pathlib import Path

import holidays
import pandas as pd
import pytest

from pipeline.tools import synth
from pipeline.tools.synth import handoffs

ROOT = Path(__file__).resolve().parents[1]
TAXONOMY = ROOT / "taxonomy" / "reasons.yaml"
DEMO = {"weeks": 13, "contacts": 26000, "seed": 20261123, "end": date(2026, 11, 22)}
EXPORT_END = datetime(2026, 11, 23)
HANDOFF_KINDS = {"Передано", "Назначено", "Эскалация"}
CALENDAR = holidays.country_holidays("RU", years=[2026, 2027])


@pytest.fixture(scope="module")
def demo_files():
    return synth.generate_files(TAXONOMY, **DEMO)


def business_end(day: date, n: int) -> datetime:
    """24:00 of the n-th business day after ``day``."""
    for _ in range(n):
        day += timedelta(days=1)
        while day.weekday() >= 5 or day in CALENDAR:
            day += timedelta(days=1)
    return datetime.combine(day + timedelta(days=1), time(0, 0))


def read_events(files: dict[str, bytes]) -> pd.DataFrame:
    frames = []
    for name, data in files.items():
        if name.startswith("raw/handoffs/"):
            frame = pd.read_csv(io.BytesIO(data), encoding="utf-8-sig", dtype=str)
            frame["file"] = name.removeprefix("raw/")
            frame["line"] = range(2, len(frame) + 2)
            frames.append(frame)
    events = pd.concat(frames, ignore_index=True).fillna("")
    events["at"] = pd.to_datetime(events["Время события"], format="%d.%m.%Y %H:%M")
    return events


def good_events(files: dict[str, bytes]) -> pd.DataFrame:
    events = read_events(files)
    manifest = pd.read_csv(io.BytesIO(files["malformed"]))
    bad = set(zip(manifest["file"], manifest["line"], strict=True))
    keep = [(f, n) not in bad for f, n in zip(events["file"], events["line"], strict=True)]
    return events[keep].sort_values("ИД события")


def fate(kind: str, sent: datetime, promised: str, later: list[dict], receiver: str) -> str:
    """The fate rules: on_time, late, lost or open (not decided by the export's end)."""
    if kind == "Обещан звонок":
        due = datetime.strptime(promised, "%d.%m.%Y %H:%M")
        done = next((e["at"] for e in later if e["Тип события"] == "Звонок выполнен"), None)
        on_time, lost_at = due, business_end(due.date(), 3)
    else:
        done = next((e["at"] for e in later if e["Из отдела"] == receiver), None)
        on_time = business_end(sent.date(), 1) - timedelta(minutes=1)
        lost_at = business_end(sent.date(), 3)
    if done is not None and done <= on_time:
        return "on_time"
    if done is not None and done < lost_at:
        return "late"
    return "lost" if lost_at <= EXPORT_END else "open"


def judged(events: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for contact, group in events.groupby("Номер обращения", sort=False):
        records = group.to_dict("records")
        for i, e in enumerate(records):
            kind, receiver = e["Тип события"], e["В отдел"]
            if not (kind == "Обещан звонок" or (kind in HANDOFF_KINDS and receiver)):
                continue
            outcome = fate(kind, e["at"], e["Обещано на"], records[i + 1 :], receiver)
            rows.append(
                {"contact": contact, "kind": kind, "to": receiver, "at": e["at"], "fate": outcome}
            )
    return pd.DataFrame(rows)


def test_events_are_deterministic_and_leave_the_contact_exports_alone(monkeypatch):
    small = {"weeks": 3, "contacts": 3000, "seed": 7, "end": date(2026, 11, 22)}
    first, second = (
        synth.generate_files(TAXONOMY, **small),
        synth.generate_files(TAXONOMY, **small),
    )
    assert first == second
    assert sum(name.startswith("raw/handoffs/crm_events_") for name in first) == 3
    monkeypatch.setattr(synth, "handoff_files", lambda *args: ({}, []))
    without = synth.generate_files(TAXONOMY, **small)
    assert {k: v for k, v in first.items() if "handoffs/" not in k and k != "malformed"} == {
        k: v for k, v in without.items() if k != "malformed"
    }
    assert first["malformed"].startswith(without["malformed"])


def test_contact_exports_of_the_demo_match_the_bundle(demo_files):
    raw = ROOT / "data" / "raw"
    for name, data in demo_files.items():
        if name.startswith("raw/"):
            assert (raw / name.removeprefix("raw/")).read_bytes() == data, name
    answers = (ROOT / "data" / "demo" / "answers.csv").read_bytes()
    assert demo_files["answers"] == answers


def test_format_and_only_planted_rows_refer_to_no_contact(demo_files):
    events = read_events(demo_files)
    assert list(events.columns[:7]) == handoffs.HEADER
    assert events["ИД события"].is_unique
    assert events["ИД события"].str.fullmatch(r"EV-\d{7}").all()
    answers = pd.read_csv(io.BytesIO(demo_files["answers"]))
    created = {}
    for name, data in demo_files.items():
        if name.startswith("raw/calls/"):
            calls = pd.read_csv(io.BytesIO(data), sep=";", encoding="cp1251", dtype=str)
            created.update(zip(calls["ИД звонка"], calls["Начало"], strict=True))
    known = set(answers["contact_id"].str.split(":").str[1])
    manifest = pd.read_csv(io.BytesIO(demo_files["malformed"]))
    planted = manifest[manifest["file"].str.startswith("handoffs/")]
    codes = {"unknown_contact", "event_before_contact", "unknown_event_type"}
    assert set(planted["reason_code"]) == codes
    bad = set(zip(planted["file"], planted["line"], strict=True))
    is_bad = [(f, n) in bad for f, n in zip(events["file"], events["line"], strict=True)]
    good = events[[not b for b in is_bad]]
    assert good["Номер обращения"].isin(known).all()
    assert good["Тип события"].isin(handoffs.EVENT_TYPES).all()
    assert 0.005 <= len(planted) / len(events) <= 0.01
    per_file = planted.groupby("file").size() / events.groupby("file").size()
    assert per_file.fillna(0).max() < 0.02
    flagged = events[is_bad].merge(planted, on=["file", "line"])
    assert (
        flagged["Номер обращения"].isin(known) == (flagged["reason_code"] != "unknown_contact")
    ).all()
    assert (flagged["Тип события"] == handoffs.BAD_TYPE).sum() == (
        flagged["reason_code"] == "unknown_event_type"
    ).sum()
    # the good events of calls are never before the call
    starts = pd.to_datetime(good["Номер обращения"].map(created), format="%d.%m.%Y %H:%M")
    assert (good["at"][starts.notna()] >= starts[starts.notna()]).all()


def test_operations_loses_promised_call_backs_more_and_more(demo_files):
    fates = judged(good_events(demo_files))
    ops = fates[(fates["kind"] == "Обещан звонок") & (fates["to"] == "Операционный центр")]
    decided = ops[ops["fate"] != "open"]
    overall = (decided["fate"] == "lost").mean()
    last = decided["at"] >= EXPORT_END - timedelta(weeks=3)
    late_share = (decided[last]["fate"] == "lost").mean()
    early_share = (decided[~last]["fate"] == "lost").mean()
    print(
        f"ops lost {overall:.3f} (n={len(decided)}), before {early_share:.3f}, "
        f"last 3 weeks {late_share:.3f}"
    )
    assert 0.10 <= overall <= 0.20
    assert late_share > early_share + 0.08
    others = fates[(fates["to"] != "Операционный центр") & (fates["fate"] != "open")]
    lost, late = (others["fate"] == "lost").mean(), (others["fate"] == "late").mean()
    print(f"other departments: lost {lost:.3f}, late {late:.3f} (n={len(others)})")
    assert 0.015 <= lost <= 0.05 and 0.06 <= late <= 0.14


def test_card_reissue_is_handed_over_twice_as_often(demo_files):
    fates = judged(good_events(demo_files))
    answers = pd.read_csv(io.BytesIO(demo_files["answers"]))
    answers["source_id"] = answers["contact_id"].str.split(":").str[1]
    answers["handed"] = answers["source_id"].isin(set(fates["contact"]))
    card = answers["reason_id"] == "card_reissue"
    card_rate, other_rate = answers[card]["handed"].mean(), answers[~card]["handed"].mean()
    print(f"hand-off rate: card_reissue {card_rate:.3f}, others {other_rate:.3f}")
    assert card_rate >= 1.7 * other_rate


def test_clean_has_no_bad_event_rows():
    small = {"weeks": 2, "contacts": 4000, "seed": 3, "end": date(2026, 11, 22), "clean": True}
    files = synth.generate_files(TAXONOMY, **small)
    manifest = pd.read_csv(io.BytesIO(files["malformed"]))
    assert manifest.empty
    events = read_events(files)
    assert events["Тип события"].isin(handoffs.EVENT_TYPES).all()


def contact_moments(files: dict[str, bytes]) -> dict[str, tuple[str, pd.Timestamp]]:
    """Source id -> (customer, moment) from the calls and CRM exports."""
    found = {}
    for name, data in files.items():
        if name.startswith("raw/calls/"):
            frame = pd.read_csv(io.BytesIO(data), sep=";", encoding="cp1251", dtype=str)
            ids, customers, moments = frame["ИД звонка"], frame["Клиент"], frame["Начало"]
            moments = pd.to_datetime(moments, format="%d.%m.%Y %H:%M", errors="coerce")
        elif name.startswith("raw/complaints/crm_"):
            frame = pd.read_csv(io.BytesIO(data), encoding="utf-8-sig", dtype=str)
            ids, customers = frame["request_id"], frame["customer_id"]
            moments = pd.to_datetime(frame["received_at"], errors="coerce")
        else:
            continue
        found.update(zip(ids, zip(customers, moments, strict=True), strict=True))
    return found


def test_clients_whose_call_back_was_lost_came_back(demo_files):
    fates = judged(good_events(demo_files))
    ops = fates[(fates["kind"] == "Обещан звонок") & (fates["to"] == "Операционный центр")]
    moments = contact_moments(demo_files)
    by_customer: dict[str, list] = {}
    for customer, moment in moments.values():
        by_customer.setdefault(customer, []).append(moment)

    def came_back(source_id: str) -> bool:
        if source_id not in moments:
            return False
        customer, moment = moments[source_id]
        return any(moment < m <= moment + timedelta(days=5) for m in by_customer[customer])

    back = ops["contact"].map(came_back)
    lost, kept = back[ops["fate"] == "lost"].mean(), back[ops["fate"] == "on_time"].mean()
    print(f"came back within 5 days: lost {lost:.3f}, kept on time {kept:.3f}")
    assert lost > 0.15 and lost > 5 * kept


def test_synth_drops_stale_hand_off_exports(tmp_path):
    out = tmp_path / "raw"
    stale = out / "handoffs" / "crm_events_2020-W01.csv"
    stale.parent.mkdir(parents=True)
    stale.write_text("старая выгрузка", encoding="utf-8")
    options = {"weeks": 1, "contacts": 500, "seed": 1, "end": "2026-11-22", "clean": True}
    synth.main(out, tmp_path / "answers.csv", TAXONOMY, **options)
    assert not stale.exists()
    assert [p.name for p in (out / "handoffs").iterdir()] == ["crm_events_2026-W47.csv"]
