"""End to end: `dvc repro` on the demo, as `make demo` runs it, in a scratch copy of the repo."""

from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest
import yaml
from conftest import ROOT, run_dvc

from pipeline.io.partitions import read_dataset
from pipeline.tools.score import score_against_answers

pytestmark = pytest.mark.slow


def declared_outputs() -> set[str]:
    from test_dvc import STAGES, declared

    outs = set()
    for stage in STAGES.values():
        for key in ("outs", "metrics", "plots"):
            outs |= declared(stage.get(key))
    return outs


def test_second_repro_does_nothing(demo_workspace):
    result = run_dvc(demo_workspace, "repro")
    assert result.returncode == 0, result.stderr
    assert "Running stage" not in result.stdout
    status = run_dvc(demo_workspace, "status")
    assert "up to date" in status.stdout


def test_each_stage_writes_exactly_its_declared_outputs(demo_workspace):
    written = set()
    for folder in ("data", "models", "reports"):
        for path in (demo_workspace / folder).rglob("*"):
            relative = path.relative_to(demo_workspace).as_posix()
            if (
                path.is_file()
                and path.name != ".gitkeep"
                and not relative.startswith(("data/raw/", "data/demo/"))
            ):
                written.add(relative)
    declared = declared_outputs()
    # a declared folder output (e.g. the report site) covers the files inside it
    inside = {w for w in written if any(w.startswith(d + "/") for d in declared)}
    assert written - inside == declared - {
        d for d in declared if any(w.startswith(d + "/") for w in written)
    }


def test_ingest_metrics_reconcile(demo_workspace):
    metrics = json.loads((demo_workspace / "reports/metrics/ingest.json").read_text())
    assert metrics["reconciles"]
    assert (
        metrics["rows_read"]
        == metrics["accepted"] + metrics["quarantined"] + metrics["duplicates"]
    )
    # the contacts are stored by ISO week: every part together holds the accepted rows
    contacts = read_dataset(demo_workspace / "data/interim/contacts", columns=["contact_id"])
    assert len(contacts) == metrics["accepted"]


def test_demo_classification_matches_the_answer_file(demo_workspace):
    classified = read_dataset(demo_workspace / "data/processed/classified")
    answers = pd.read_csv(ROOT / "data/demo/answers.csv")
    result = score_against_answers(classified, answers, "unknown")
    assert result["macro_f1_top_reason"] >= 0.85, result
    assert result["coverage"] >= 0.90, result
    # contacts without text (abandoned and dropped calls) are kept and not guessed
    no_text = classified[classified["status"] == "no_text"]
    assert len(no_text) > 500 and no_text["reason_id"].isna().all()


def test_editing_examples_retrains_without_reingesting(demo_workspace, tmp_path):
    workspace = tmp_path / "repo"
    shutil.copytree(demo_workspace, workspace, symlinks=True)
    labels = sorted((workspace / "taxonomy/labels").glob("*.csv"))[0]
    with labels.open("a", encoding="utf-8") as handle:
        first = pd.read_csv(labels).iloc[0]
        handle.write(f'"{first["text"]} очень срочно",{first["reason_id"]},client\n')
    result = run_dvc(workspace, "repro")
    assert result.returncode == 0, result.stderr[-2000:]
    ran = {
        line.split("'")[1]
        for line in result.stdout.splitlines()
        if line.startswith("Running stage")
    }
    assert {"train", "classify"} <= ran
    assert not ran & {"ingest", "lemmatize"}


def test_dvc_lock_records_every_stage(demo_workspace):
    lock = yaml.safe_load((demo_workspace / "dvc.lock").read_text())
    stages = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]
    assert set(lock["stages"]) == set(stages)
