"""Weekly runs that cost one week: ingest recomputes only the ISO weeks an export touched, and
every incremental result is the bytes a run from scratch writes (the demo bank's exports)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from conftest import ROOT, copy_repository, run_dvc

from pipeline import ingest

RAW = ROOT / "data/raw"
FIRST_WEEKS = ("2026-W44", "2026-W45", "2026-W46")


def exports(weeks) -> list[Path]:
    """The demo's calls, CRM and service-desk exports of ``weeks`` (not its hand-off events:
    a week's events name contacts of the weeks before it)."""
    return sorted(p for w in weeks for p in RAW.glob(f"*/*_{w}.*") if p.parent.name != "handoffs")


def put(raw: Path, files: list[Path]) -> None:
    for path in files:
        target = raw / path.parent.name / path.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)


def run(raw: Path, out: Path, config) -> ingest.IngestResult:
    return ingest.main(
        raw,
        out / "contacts",
        out / "quarantine.parquet",
        out / "drivers.parquet",
        out / "ingest.json",
        config,
    )


def parts(out: Path) -> dict[str, tuple[bytes, int]]:
    """Every contact part: its bytes and modification time."""
    root = out / "contacts"
    return {
        p.relative_to(root).as_posix(): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in sorted(root.glob("week=*/part-*.parquet"))
    }


def same_as_from_scratch(raw: Path, out: Path, tmp_path: Path, config) -> None:
    """The incremental run's parts, quarantine and metrics are the bytes of a fresh run's."""
    fresh = tmp_path / "fresh"
    shutil.rmtree(fresh, ignore_errors=True)
    run(raw, fresh, config)
    assert {k: v[0] for k, v in parts(out).items()} == {k: v[0] for k, v in parts(fresh).items()}
    for name in ("quarantine.parquet", "ingest.json"):
        assert (out / name).read_bytes() == (fresh / name).read_bytes(), name


@pytest.fixture
def three_weeks(tmp_path, ingest_config):
    raw, out = tmp_path / "raw", tmp_path / "out"
    put(raw, exports(FIRST_WEEKS))
    first = run(raw, out, ingest_config)
    assert first.weeks is None  # a first run computes every week
    return raw, out


def test_a_new_week_recomputes_only_the_weeks_its_exports_touch(
    three_weeks, tmp_path, ingest_config, caplog
):
    raw, out = three_weeks
    before = parts(out)
    weeks_before = json.loads((out / "ingest.json").read_text())["weeks"]
    put(raw, exports(["2026-W47"]))
    with caplog.at_level("INFO"):
        result = run(raw, out, ingest_config)
    # the CRM export repeats the previous Sunday, so the week before is looked at again
    assert result.weeks == {"2026-W46", "2026-W47"}
    assert "прочитано заново 3, из кэша 9" in caplog.text
    assert "недели пересчитаны: ['2026-W46', '2026-W47']" in caplog.text
    after = parts(out)
    untouched = [n for n in before if "W44" in n or "W45" in n]
    assert untouched and all(after[n] == before[n] for n in untouched)  # not even rewritten
    assert "week=2026-W47/part-00000.parquet" in after
    metrics = json.loads((out / "ingest.json").read_text())
    assert metrics["reconciles"] and metrics["weeks"] == weeks_before + 1
    same_as_from_scratch(raw, out, tmp_path, ingest_config)


def test_an_export_dropped_again_recomputes_exactly_its_weeks(
    three_weeks, tmp_path, ingest_config
):
    raw, out = three_weeks
    before = parts(out)
    metrics_before = json.loads((out / "ingest.json").read_text())
    crm = raw / "complaints/crm_2026-W45.csv"
    shutil.copy2(crm, raw / "complaints/crm_2026-W45_повтор.csv")
    result = run(raw, out, ingest_config)
    assert result.weeks == {"2026-W44", "2026-W45"}  # its rows' weeks (it repeats a Sunday)
    assert {k: v[0] for k, v in parts(out).items()} == {k: v[0] for k, v in before.items()}
    metrics = json.loads((out / "ingest.json").read_text())
    copy = metrics["files"]["complaints/crm_2026-W45_повтор.csv"]
    assert copy["accepted"] == 0 and copy["duplicates"] == copy["rows_read"] - copy["quarantined"]
    assert copy["duplicates"] > 700
    assert metrics["accepted"] == metrics_before["accepted"] and metrics["reconciles"]
    same_as_from_scratch(raw, out, tmp_path, ingest_config)


def test_a_corrected_export_replaces_its_rows_in_its_weeks(three_weeks, tmp_path, ingest_config):
    raw, out = three_weeks
    crm = raw / "complaints/crm_2026-W45.csv"
    text = crm.read_text(encoding="utf-8-sig")
    lines = text.splitlines(keepends=True)
    # the last request's text is corrected in the re-export (its last field set aside)
    header, last = lines[0], lines[-1]
    corrected = last.replace("В работе", "Закрыто") if "В работе" in last else last
    assert corrected != last or "Закрыто" in last
    crm.write_text("".join([header, *lines[1:-1], corrected]), encoding="utf-8-sig")
    result = run(raw, out, ingest_config)
    assert result.weeks is not None and result.weeks <= {"2026-W44", "2026-W45", "2026-W46"}
    assert json.loads((out / "ingest.json").read_text())["reconciles"]
    same_as_from_scratch(raw, out, tmp_path, ingest_config)


def test_a_removed_export_takes_its_week_away(three_weeks, tmp_path, ingest_config):
    raw, out = three_weeks
    for path in raw.glob("*/*_2026-W46.*"):
        path.unlink()
    result = run(raw, out, ingest_config)
    assert "2026-W46" in result.weeks
    assert not any("W46" in name for name in parts(out))
    assert json.loads((out / "ingest.json").read_text())["last_week"] == "2026-W45"
    same_as_from_scratch(raw, out, tmp_path, ingest_config)


def test_another_part_size_cuts_every_week_again(three_weeks, tmp_path, ingest_config):
    raw, out = three_weeks
    smaller = ingest_config.model_copy(update={"partition_rows": 1000})
    result = run(raw, out, smaller)
    assert result.weeks is None  # every week, not only changed ones
    sizes = [len(pd.read_parquet(out / "contacts" / name)) for name in parts(out)]
    assert max(sizes) <= 1000 and len(sizes) > 4
    same_as_from_scratch(raw, out, tmp_path, smaller)


@pytest.mark.slow
def test_a_second_dvc_repro_after_a_new_week_processes_only_that_week(tmp_path):
    """The analyst's one command: the new week's parts are lemmatised and classified, the
    other twelve are kept; the log says which."""
    workspace = copy_repository(tmp_path / "repo")
    assert run_dvc(workspace, "config", "core.no_scm", "true").returncode == 0
    aside = tmp_path / "aside"
    for path in (workspace / "data/raw").glob("*/*_2026-W47.*"):
        (aside / path.parent.name).mkdir(parents=True, exist_ok=True)
        path.rename(aside / path.parent.name / path.name)
    first = run_dvc(workspace, "repro")
    assert first.returncode == 0, first.stderr[-3000:]
    for path in aside.glob("*/*"):
        path.rename(workspace / "data/raw" / path.parent.name / path.name)
    second = run_dvc(workspace, "repro")
    assert second.returncode == 0, second.stderr[-3000:]
    log = second.stdout + second.stderr
    assert "недели пересчитаны: ['2026-W46', '2026-W47']" in log
    # the week before's texts did not change (only a resolution did): lemmatised once
    assert "lemmatize: недель с изменёнными входами 1 из 13 (2026-W47); частей к расчёту 1" in log
    assert "classify: недель с изменёнными входами 1 из 13 (2026-W47); частей к расчёту 1" in log
    assert "Running stage 'train'" not in log
    third = run_dvc(workspace, "repro")
    assert third.returncode == 0 and "Running stage" not in third.stdout + third.stderr
