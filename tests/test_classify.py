"""Stage ``classify``: every contact gets a reason, «Не определено» or ``no_text``; a model that
does not fit the taxonomy or the package is a Russian message, never a traceback."""

from __future__ import annotations

import shutil
import subprocess
import sys

import joblib
import pandas as pd
import pytest
from conftest import ROOT

from pipeline import classify
from pipeline.io.partitions import parquet_bytes, read_dataset, read_manifest, write_dataset
from pipeline.model.predict import CLASSIFIED_COLUMNS, ModelError, classify_frame, load_model
from pipeline.model.training import TrainConfig, model_inputs
from pipeline.taxonomy.labels import load_labels
from pipeline.taxonomy.schema import load_taxonomy

REASONS = ("sms_code_missing", "card_not_delivered", "atm_problem", "cannot_login")
# c1-c3 in one ISO week, c4-c6 in the next
WEEK_OF = pd.Series(["2026-W46"] * 3 + ["2026-W47"] * 3)
TEXTS = {
    "c1": "Не приходит смс с кодом для входа",
    "c2": "карта так и не пришла, заказывал месяц назад",
    "c3": "Банкомат съел карту!!!",
    "c4": "",  # an abandoned call: no text
    "c5": "погода сегодня солнечная, пойду гулять в парк",
    "c6": "Не приходит смс с кодом для входа",  # the same text again
}


@pytest.fixture(scope="module")
def taxonomy():
    return load_taxonomy(ROOT / "taxonomy/reasons.yaml")


@pytest.fixture(scope="module")
def model(taxonomy, lemmatizer):
    """A small model of four reasons from the repository's labels (~5 s to fit)."""
    labels = load_labels(ROOT / "taxonomy/labels", taxonomy).frame
    sample = labels[labels["reason_id"].isin(REASONS)].groupby("reason_id").head(50)
    config = TrainConfig(Cs=(1.0,), word_vectors=False)
    pipeline = config.build_pipeline().fit(
        model_inputs(sample["text"].tolist(), lemmatizer), sample["reason_id"].to_numpy()
    )
    pipeline.metadata_ = {
        "threshold": float(pipeline.named_steps["model"].threshold_),
        "undefined_reason": taxonomy.undefined_reason,
        "model_version": "test-model",
        "taxonomy_version": "test-taxonomy",
    }
    return pipeline


@pytest.fixture(scope="module")
def lemmas(lemmatizer) -> pd.DataFrame:
    """What the lemmatize stage writes for TEXTS."""
    rows = []
    for contact_id, text in TEXTS.items():
        normalized, lemma_string = lemmatizer.analyse(text)
        rows.append(
            {
                "contact_id": contact_id,
                "normalized": normalized,
                "lemmas": lemma_string,
                "n_tokens": len(lemma_string.split()),
                "has_text": bool(text),
            }
        )
    return pd.DataFrame(rows)


def test_each_contact_gets_a_reason_undefined_or_no_text(model, lemmas, taxonomy):
    out = classify_frame(lemmas, model).set_index("contact_id")
    assert out.loc["c1", "reason_id"] == "sms_code_missing"
    assert out.loc["c2", "reason_id"] == "card_not_delivered"
    assert out.loc["c3", "reason_id"] == "atm_problem"
    assert (out.loc[["c1", "c2", "c3"], "status"] == "classified").all()
    # no text: kept, counted, never guessed
    assert out.loc["c4", "status"] == "no_text" and pd.isna(out.loc["c4", "reason_id"])
    # a text no reason claims: «Не определено», its best guess kept aside
    assert out.loc["c5", "status"] == "below_threshold"
    assert out.loc["c5", "reason_id"] == taxonomy.undefined_reason
    assert out.loc["c5", "top_reason_id"] in REASONS
    assert out.loc["c5", "fit_score"] < model.metadata_["threshold"] <= out.loc["c1", "fit_score"]


def test_the_same_text_gets_the_same_answer_and_the_order_is_kept(model, lemmas):
    out = classify_frame(lemmas, model, batch_size=2)
    assert out["contact_id"].tolist() == list(TEXTS)
    by_id = out.set_index("contact_id")
    assert by_id.loc["c1"].equals(by_id.loc["c6"])
    # the runner-up is another reason, less confident than the answer
    row = by_id.loc["c1"]
    assert row["runner_up_id"] != row["top_reason_id"]
    assert row["runner_up_confidence"] <= row["confidence"]


def test_stage_writes_the_documented_columns(model, lemmas, tmp_path):
    paths = stage_files(model, lemmas, tmp_path)
    written = read_dataset(paths["out"])
    assert tuple(written.columns) == CLASSIFIED_COLUMNS
    assert sorted(written["contact_id"]) == sorted(TEXTS)
    assert (written["model_version"] == "test-model").all()


def test_a_model_that_knows_reasons_the_taxonomy_lacks_is_refused(model, lemmas, tmp_path):
    write_dataset(tmp_path / "lemmas", lemmas, WEEK_OF)
    joblib.dump(model, tmp_path / "model.joblib")
    reasons = (ROOT / "taxonomy/reasons.yaml").read_text(encoding="utf-8")
    # the taxonomy without atm_problem: the model would assign a reason nobody owns
    trimmed = reasons.replace("id: atm_problem", "id: atm_problem_renamed")
    assert trimmed != reasons
    (tmp_path / "reasons.yaml").write_text(trimmed, encoding="utf-8")
    with pytest.raises(ModelError, match="atm_problem.*dvc repro train"):
        classify.main(
            tmp_path / "lemmas",
            tmp_path / "model.joblib",
            tmp_path / "reasons.yaml",
            tmp_path / "out",
            classify.ClassifyConfig(),
        )
    assert not (tmp_path / "out").exists()


def test_a_file_that_is_not_a_model_is_a_russian_message(tmp_path):
    joblib.dump({"weights": [1, 2, 3]}, tmp_path / "model.joblib")
    with pytest.raises(ModelError, match="не модель"):
        load_model(tmp_path / "model.joblib")
    with pytest.raises(ModelError, match="файла модели нет"):
        load_model(tmp_path / "missing.joblib")


def stage_files(model, lemmas, folder, config: classify.ClassifyConfig | None = None) -> dict:
    """classify's inputs (lemmas of two ISO weeks), and last run's output as classify wrote
    it."""
    paths = {
        "lemmas": folder / "interim" / "lemmas",
        "model": folder / "models" / "model.joblib",
        "taxonomy": ROOT / "taxonomy/reasons.yaml",
        "out": folder / "processed" / "classified",
    }
    paths["model"].parent.mkdir(parents=True, exist_ok=True)
    write_dataset(paths["lemmas"], lemmas, WEEK_OF, partition_rows=2)
    joblib.dump(model, paths["model"])
    run_stage(paths, config)
    return paths


def run_stage(paths: dict, config: classify.ClassifyConfig | None = None):
    keys = ("lemmas", "model", "taxonomy", "out")
    return classify.main(*(paths[k] for k in keys), config or classify.ClassifyConfig())


def temporary_files(folder) -> list[str]:
    return sorted(p.name for p in folder.rglob("*") if ".tmp" in p.name)


def output_bytes(root) -> dict[str, bytes]:
    """Every file of a dataset (parts and manifest) by its path inside it."""
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_a_rerun_computes_nothing_and_a_part_is_the_bytes_of_a_direct_write(
    model, lemmas, tmp_path
):
    paths = stage_files(model, lemmas, tmp_path)
    before = output_bytes(paths["out"])
    assert len(run_stage(paths).tasks) == 0
    assert output_bytes(paths["out"]) == before
    part = read_dataset(paths["lemmas"], weeks=["2026-W46"]).iloc[:2]
    direct = parquet_bytes(classify_frame(part, model))
    assert before["week=2026-W46/part-00000.parquet"] == direct


def test_two_workers_write_the_same_bytes_as_one(model, lemmas, tmp_path):
    one = stage_files(model, lemmas, tmp_path / "one")
    two = stage_files(model, lemmas, tmp_path / "two", classify.ClassifyConfig(workers=2))
    assert output_bytes(one["out"]) == output_bytes(two["out"])
    assert len(read_manifest(one["out"])) == 4  # 6 contacts, 2 weeks, at most 2 rows a part


def test_only_the_changed_week_is_classified_again(model, lemmas, tmp_path, caplog):
    paths = stage_files(model, lemmas, tmp_path)
    before = output_bytes(paths["out"])
    changed = lemmas.copy()
    changed.loc[changed["contact_id"] == "c5", ["normalized", "lemmas"]] = (
        "банкомат съел карту",
        "банкомат съесть карта",
    )
    write_dataset(paths["lemmas"], changed, WEEK_OF, partition_rows=2)
    with caplog.at_level("INFO"):
        plan = run_stage(paths)
    assert [t.part for t in plan.tasks] == ["week=2026-W47/part-00000.parquet"]
    assert "недель с изменёнными входами 1 из 2 (2026-W47)" in caplog.text
    after = output_bytes(paths["out"])
    unchanged = [n for n in before if "W46" in n]
    assert unchanged and all(after[n] == before[n] for n in unchanged)
    row = read_dataset(paths["out"]).set_index("contact_id").loc["c5"]
    assert row["reason_id"] == "atm_problem"


def test_a_new_model_classifies_all_of_history_again_and_says_so(model, lemmas, tmp_path, caplog):
    paths = stage_files(model, lemmas, tmp_path)
    model.metadata_ = {**model.metadata_, "model_version": "test-model-2"}
    try:
        joblib.dump(model, paths["model"])
        with caplog.at_level("INFO"):
            plan = run_stage(paths)
    finally:
        model.metadata_ = {**model.metadata_, "model_version": "test-model"}
    assert len(plan.tasks) == 4
    assert "модель или таксономия изменились — вся история (2 нед.) пересчитывается" in caplog.text
    assert set(read_dataset(paths["out"])["model_version"]) == {"test-model-2"}


def test_classify_before_lemmatize_names_the_missing_dataset_and_the_stage(
    model, lemmas, tmp_path
):
    from pipeline.io.inputs import InputError

    paths = stage_files(model, lemmas, tmp_path)
    before = output_bytes(paths["out"])
    shutil.rmtree(paths["lemmas"])
    with pytest.raises(InputError) as caught:
        run_stage(paths)
    assert str(caught.value) == (
        f"{paths['lemmas']}: нет набора данных (_manifest.json не найден); его пишет стадия "
        "lemmatize: запустите `dvc repro lemmatize`"
    )
    write_dataset(paths["lemmas"], lemmas.drop(columns="normalized"), WEEK_OF, partition_rows=2)
    with pytest.raises(InputError, match=r"нет столбцов \['normalized'\]"):
        run_stage(paths)
    part = paths["lemmas"] / "week=2026-W46/part-00000.parquet"
    part.write_bytes(b"\x00PAR1junk")
    with pytest.raises(InputError, match=f"{part}: не читается как Parquet"):
        run_stage(paths)
    assert output_bytes(paths["out"]) == before and temporary_files(tmp_path) == []


def test_a_missing_or_broken_model_names_the_path_and_train(model, lemmas, tmp_path):
    paths = stage_files(model, lemmas, tmp_path)
    before = output_bytes(paths["out"])
    paths["model"].write_bytes(bytes(range(10)))
    with pytest.raises(ModelError, match=f"{paths['model']}: не читается как модель.*repro train"):
        run_stage(paths)
    paths["model"].unlink()
    with pytest.raises(ModelError, match=f"{paths['model']}: файла модели нет"):
        run_stage(paths)
    assert output_bytes(paths["out"]) == before and temporary_files(tmp_path) == []


def test_a_failure_while_writing_keeps_the_manifest_and_leaves_no_temporary_file(
    model, lemmas, tmp_path, monkeypatch
):
    """A part that cannot be written stops the stage with the part's path; the manifest still
    records last run's parts, so the next run computes again what this one did not finish."""
    from pipeline.io import outputs

    paths = stage_files(model, lemmas, tmp_path)
    manifest = (paths["out"] / "_manifest.json").read_bytes()
    model.metadata_ = {**model.metadata_, "model_version": "test-model-2"}

    def full_disk(path, writer):
        raise outputs.OutputError(f"{path}: не удалось записать (No space left on device)")

    monkeypatch.setattr("pipeline.io.partitions.write", full_disk)
    try:
        joblib.dump(model, paths["model"])
        with pytest.raises(outputs.OutputError, match="part-00000.parquet: не удалось записать"):
            run_stage(paths)
    finally:
        model.metadata_ = {**model.metadata_, "model_version": "test-model"}
    assert (paths["out"] / "_manifest.json").read_bytes() == manifest
    assert temporary_files(tmp_path) == []


def test_explain_prints_why_a_text_gets_its_reason(model, tmp_path):
    joblib.dump(model, tmp_path / "model.joblib")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pipeline",
            "explain",
            "смс с кодом не приходит",
            "--model",
            str(tmp_path / "model.joblib"),
            "--taxonomy",
            str(ROOT / "taxonomy/reasons.yaml"),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "леммы:" in result.stdout and "sms_code_missing" in result.stdout
    assert "слова за причину:" in result.stdout and "не_приходить" in result.stdout
    broken = subprocess.run(
        [sys.executable, "-m", "pipeline", "explain", "текст", "--model", str(tmp_path / "no")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert broken.returncode == 2 and "Traceback" not in broken.stderr
    assert "файла модели нет" in broken.stderr
