"""The bundled demo exports: regenerated identically, loss-free to ingest, stories planted."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from pipeline import ingest
from pipeline.tools import synth

ROOT = Path(__file__).resolve().parents[1]
RAW = ROOT / "data" / "raw"
DEMO = ROOT / "data" / "demo"


@pytest.fixture(scope="module")
def demo(ingest_config):
    return ingest.ingest(RAW, ingest_config, drivers_path=RAW / "drivers.csv")


@pytest.mark.slow
def test_generator_is_deterministic_and_matches_the_bundle(tmp_path):
    out = tmp_path / "raw"
    synth.main(
        out,
        tmp_path / "answers.csv",
        ROOT / "taxonomy" / "reasons.yaml",
        weeks=13,
        contacts=26000,
        seed=20261123,
        end="2026-11-22",
    )
    bundled = sorted(
        p.relative_to(RAW) for p in RAW.rglob("*") if p.is_file() and not p.name.startswith(".")
    )
    fresh = sorted(p.relative_to(out) for p in out.rglob("*") if p.is_file())
    assert bundled == fresh
    for name in bundled:
        assert (RAW / name).read_bytes() == (out / name).read_bytes(), name
    assert (tmp_path / "answers.csv").read_bytes() == (DEMO / "answers.csv").read_bytes()


def test_demo_has_the_required_size_and_formats(demo):
    metrics = demo.metrics
    assert metrics["weeks"] >= 12 and metrics["contacts"] >= 20000
    encodings = {info["encoding"] for info in metrics["files"].values()}
    delimiters = {info["delimiter"] for info in metrics["files"].values()}
    assert {"cp1251", "utf-8-sig"} <= encodings and {";", ","} <= delimiters
    assert any(name.endswith(".jsonl") for name in metrics["files"])


def test_every_planted_malformed_row_and_only_those_is_quarantined(demo):
    planted = pd.read_csv(DEMO / "malformed_rows.csv")
    # the rows of the exports ingest reads (hand-off events have a reader of their own)
    planted = planted[planted["file"].isin(demo.metrics["files"])]
    found = demo.quarantine[["source_file", "source_row", "reason_code"]]
    expected = planted.rename(columns={"file": "source_file", "line": "source_row"})
    assert sorted(map(tuple, found.values.tolist())) == sorted(
        map(tuple, expected.values.tolist())
    )
    assert demo.metrics["reconciles"]
    # overlapping CRM exports repeat the previous Sunday: counted once
    assert demo.metrics["duplicates"] > 0
    assert demo.contacts["contact_id"].is_unique


def test_answers_cover_every_accepted_contact(demo):
    answers = pd.read_csv(DEMO / "answers.csv")
    assert set(demo.contacts["contact_id"]) <= set(answers["contact_id"])
    planted = set(pd.read_csv(DEMO / "malformed_rows.csv")["reason_code"])
    assert len(answers) - demo.metrics["contacts"] <= len(planted) + 10


def test_corrupting_rows_moves_exactly_those_rows_to_quarantine(tmp_path, ingest_config, demo):
    raw = tmp_path / "raw"
    shutil.copytree(RAW, raw)
    target = raw / "complaints" / "crm_2026-W46.csv"
    lines = target.read_text(encoding="utf-8-sig").splitlines(keepends=True)
    broken = {
        3: lines[2].replace("2026-11-", "2026-31-", 1),  # impossible date
        6: "обрыв выгрузки\r\n",  # garbage line
        9: lines[8].split(",", 1)[0] + ",2026-11-10 10:00,Голубиная почта,C1,текст,,,,\r\n",
    }
    for line_number, text in broken.items():
        lines[line_number - 1] = text
    target.write_text("".join(lines), encoding="utf-8-sig")
    result = ingest.ingest(raw, ingest_config, drivers_path=raw / "drivers.csv")
    new = result.quarantine.merge(demo.quarantine, how="left", indicator=True)
    new = new[new["_merge"] == "left_only"]
    assert set(zip(new["source_file"], new["source_row"], strict=True)) == {
        ("complaints/crm_2026-W46.csv", n) for n in broken
    }
    assert set(new["reason_code"]) == {"bad_date", "bad_field_count", "unknown_channel"}
    assert all(new["reason"].str.len() > 10)
    assert result.metrics["reconciles"]
    assert result.metrics["rows_read"] == demo.metrics["rows_read"]


def test_planted_stories_are_in_the_answers():
    answers = pd.read_csv(DEMO / "answers.csv")
    stories = set(answers["story"])
    assert {"spike", "decline", "rising", "repeat", "emerging", "offtopic"} <= stories


def test_synth_replaces_the_exports_together_and_only_then_drops_stale_ones(tmp_path, monkeypatch):
    """A failure while writing leaves the previous raw folder as it was; a full run removes an
    export of the earlier run that it did not write again."""
    out, answers = tmp_path / "raw", tmp_path / "demo" / "answers.csv"
    stale = out / "calls" / "old_week.csv"
    stale.parent.mkdir(parents=True)
    stale.write_text("старая выгрузка", encoding="utf-8")
    hidden = out / "calls" / ".keep"
    hidden.write_text("", encoding="utf-8")
    args = (ROOT / "taxonomy" / "reasons.yaml",)
    options = {"weeks": 13, "contacts": 1000, "seed": 1, "end": "2026-11-22", "clean": True}
    real, calls = synth.outputs.data, []

    def third_fails(content: bytes):
        calls.append(content)
        if len(calls) == 3:
            raise OSError(28, "No space left on device")
        return real(content)

    monkeypatch.setattr(synth.outputs, "data", third_fails)
    with pytest.raises(OSError):
        synth.main(out, answers, *args, **options)
    assert sorted(p.name for p in out.rglob("*") if p.is_file()) == [".keep", "old_week.csv"]
    assert not answers.exists()
    monkeypatch.undo()
    synth.main(out, answers, *args, **options)
    assert not stale.exists() and hidden.exists() and answers.exists()
    assert not [p for p in tmp_path.rglob("*") if ".tmp" in p.name]
