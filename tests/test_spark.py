"""The Spark engine writes the local engine's bytes: lemmatize and classify over three ISO weeks
of several parts each give byte-identical parts, equal manifests and the same lemma cache on
``local`` (one or two worker processes) and on Spark (``local[2]``); a rerun with nothing
changed computes no part; a missing Java or pyspark is a Russian message naming what to install.

Spark needs Java: without it the end-to-end test is skipped, unless ``REQUIRE_SPARK`` is set
(``.ci/run`` sets it when it has installed Java), then it fails.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import joblib
import pandas as pd
import pytest
from conftest import ROOT
from test_classify import model, taxonomy  # noqa: F401  (module fixtures: a 4-reason model)

from pipeline import classify, lemmatize
from pipeline.engine import spark
from pipeline.io.partitions import MANIFEST, Part, read_manifest, write_manifest, write_part
from pipeline.text.batch import LemmatizeConfig

TEXTS = [
    "Не приходит смс с кодом для входа в приложение",
    "кл. не может войти в ЛК, сброс пароля не помог",
    "Карта так и не пришла, заказывал месяц назад",
    "Банкомат на Тверской съел карту!!! Верните деньги",
    "Здравствуйте! СМС с кодом не приходит уже третий день, ничего не могу оплатить",
    "карту не доставили курьером, перенесли доставку 2 раза",
    None,  # an abandoned call: no text
    "",
    "банкомат выдал меньше денег чем списал",
    "не могу зайти в приложение, пишет неверный пароль",
    "погода сегодня солнечная, пойду гулять в парк",
    "Не приходит смс с кодом для входа в приложение",  # the same text again
]
WEEKS = ("2026-W45", "2026-W46", "2026-W47")
PARTS_PER_WEEK = 3


def java_or_skip() -> None:
    if spark.java_command() is not None:
        return
    message = "нет Java: apt-get install openjdk-17-jre-headless (.ci/run ставит её)"
    if os.environ.get("REQUIRE_SPARK"):
        pytest.fail(f"REQUIRE_SPARK задан, но {message}")
    pytest.skip(message)


@pytest.fixture(scope="module")
def contacts(tmp_path_factory) -> Path:
    """Contacts over three ISO weeks, three parts a week, as ingest stores them."""
    root = tmp_path_factory.mktemp("contacts") / "contacts"
    parts = {}
    for w, week in enumerate(WEEKS):
        for index in range(PARTS_PER_WEEK):
            rotated = TEXTS[w + index :] + TEXTS[: w + index]  # each part its own order
            frame = pd.DataFrame(
                {
                    "contact_id": [f"{week}-{index}-{k:03d}" for k in range(len(rotated))],
                    "text": rotated,
                }
            )
            parts[Part(week, index).name] = write_part(root, Part(week, index), frame)
    write_manifest(root, parts)
    return root


def run_both_stages(folder: Path, contacts: Path, model_path: Path, **engine) -> dict:
    """lemmatize then classify on one engine into ``folder``; the two plans."""
    lemmas, out = folder / "lemmas", folder / "classified"
    lemma_plan = lemmatize.main(
        contacts, lemmas, folder / "lemma_cache.parquet", LemmatizeConfig(**engine)
    )
    classify_plan = classify.main(
        lemmas, model_path, ROOT / "taxonomy/reasons.yaml", out, classify.ClassifyConfig(**engine)
    )
    return {"lemmas": lemma_plan, "classified": classify_plan}


def dataset_files(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*.parquet"))
    }


def assert_same_outputs(left: Path, right: Path) -> None:
    for dataset in ("lemmas", "classified"):
        files = dataset_files(left / dataset)
        assert len(files) == len(WEEKS) * PARTS_PER_WEEK
        assert files == dataset_files(right / dataset), f"{dataset}: parts differ"
        assert read_manifest(left / dataset) == read_manifest(right / dataset)
    cache = "lemma_cache.parquet"
    assert (left / cache).read_bytes() == (right / cache).read_bytes()


@pytest.fixture(scope="module")
def model_path(model, tmp_path_factory) -> Path:  # noqa: F811
    path = tmp_path_factory.mktemp("model") / "model.joblib"
    joblib.dump(model, path)
    return path


@pytest.fixture(scope="module")
def local_run(contacts, model_path, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("local")
    run_both_stages(folder, contacts, model_path, engine="local", workers=1)
    return folder


@pytest.mark.slow
def test_two_worker_processes_write_the_same_bytes_as_one(
    local_run, contacts, model_path, tmp_path
):
    plans = run_both_stages(tmp_path, contacts, model_path, engine="local", workers=2)
    assert len(plans["lemmas"].tasks) == len(WEEKS) * PARTS_PER_WEEK
    assert_same_outputs(local_run, tmp_path)


@pytest.mark.slow
@pytest.mark.spark
def test_spark_writes_the_local_engines_bytes_and_a_rerun_computes_nothing(
    local_run, contacts, model_path, tmp_path
):
    java_or_skip()
    engine = {"engine": "spark", "spark_master": "local[2]"}
    plans = run_both_stages(tmp_path, contacts, model_path, **engine)
    assert len(plans["classified"].tasks) == len(WEEKS) * PARTS_PER_WEEK
    assert_same_outputs(local_run, tmp_path)
    # the classified parts carry a reason for every contact with text
    manifest = json.loads((tmp_path / "classified" / MANIFEST).read_text(encoding="utf-8"))
    assert sum(e["rows"] for e in manifest["parts"].values()) == len(TEXTS) * 9

    again = run_both_stages(tmp_path, contacts, model_path, **engine)
    assert [len(p.tasks) for p in again.values()] == [0, 0]
    assert_same_outputs(local_run, tmp_path)


def test_no_java_is_a_russian_message_naming_the_package(monkeypatch):
    monkeypatch.setattr(spark, "java_command", lambda: None)
    with pytest.raises(spark.SparkUnavailable, match="openjdk-17-jre-headless.*--engine local"):
        spark.require_spark()


def test_no_pyspark_is_a_russian_message_naming_pip_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "pyspark", None)  # import pyspark -> ImportError
    with pytest.raises(spark.SparkUnavailable, match="не установлен pyspark.*pip install pyspark"):
        spark.require_spark()


def test_the_master_comes_from_the_argument_then_spark_master_then_local(monkeypatch):
    monkeypatch.delenv("SPARK_MASTER", raising=False)
    monkeypatch.delenv("PYSPARK_GATEWAY_PORT", raising=False)
    assert spark.resolve_master(None) == "local[*]"
    monkeypatch.setenv("PYSPARK_GATEWAY_PORT", "40000")  # started by spark-submit: its --master
    assert spark.resolve_master(None) is None
    monkeypatch.setenv("SPARK_MASTER", "spark://head:7077")
    assert spark.resolve_master(None) == "spark://head:7077"
    assert spark.resolve_master("local[2]") == "local[2]"


def test_a_part_an_executor_could_not_read_is_named_in_the_message():
    rows = [
        {"part": "week=2026-W45/part-00000.parquet", "entry": '{"rows": 3}', "learnt": "{}",
         "error": None},
        {"part": "week=2026-W46/part-00001.parquet", "entry": "{}", "learnt": "{}",
         "error": "contacts/week=2026-W46/part-00001.parquet: не читается как Parquet"},
    ]  # fmt: skip
    with pytest.raises(spark.SparkTaskError, match="не посчитано 1: week=2026-W46/part-00001"):
        spark.gather(rows)
    entries, learnt = spark.gather(rows[:1])
    assert entries == {"week=2026-W45/part-00000.parquet": {"rows": 3}} and learnt == {}


def test_a_master_that_does_not_answer_is_named_with_the_java_cause():
    error = RuntimeError(
        "An error occurred while calling None.org.apache.spark.sql.classic.SparkSession.\n"
        ": java.lang.IllegalStateException: Cannot call methods on a stopped SparkContext.\n"
        "\tat org.apache.spark.SparkContext.assertNotStopped(SparkContext.scala:122)"
    )
    assert spark.java_cause(error).startswith("java.lang.IllegalStateException: Cannot call")
    assert spark.java_cause(RuntimeError("")) == "RuntimeError"
