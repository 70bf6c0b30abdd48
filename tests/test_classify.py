"""Stage ``classify``: every contact gets a reason, «Не определено» or ``no_text``; a model that
does not fit the taxonomy or the package is a Russian message, never a traceback."""

from __future__ import annotations

import subprocess
import sys

import joblib
import pandas as pd
import pytest
from conftest import ROOT

from pipeline import classify
from pipeline.model.predict import CLASSIFIED_COLUMNS, ModelError, classify_frame, load_model
from pipeline.model.training import TrainConfig, model_inputs
from pipeline.taxonomy.labels import load_labels
from pipeline.taxonomy.schema import load_taxonomy

REASONS = ("sms_code_missing", "card_not_delivered", "atm_problem", "cannot_login")
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
    paths = {name: tmp_path / f"{name}.parquet" for name in ("lemmas", "out")}
    lemmas.to_parquet(paths["lemmas"], index=False)
    joblib.dump(model, tmp_path / "model.joblib")
    classify.main(
        paths["lemmas"],
        tmp_path / "model.joblib",
        ROOT / "taxonomy/reasons.yaml",
        paths["out"],
        classify.ClassifyConfig(),
    )
    written = pd.read_parquet(paths["out"])
    assert tuple(written.columns) == CLASSIFIED_COLUMNS
    assert (written["model_version"] == "test-model").all()


def test_a_model_that_knows_reasons_the_taxonomy_lacks_is_refused(model, lemmas, tmp_path):
    lemmas.to_parquet(tmp_path / "lemmas.parquet", index=False)
    joblib.dump(model, tmp_path / "model.joblib")
    reasons = (ROOT / "taxonomy/reasons.yaml").read_text(encoding="utf-8")
    # the taxonomy without atm_problem: the model would assign a reason nobody owns
    trimmed = reasons.replace("id: atm_problem", "id: atm_problem_renamed")
    assert trimmed != reasons
    (tmp_path / "reasons.yaml").write_text(trimmed, encoding="utf-8")
    with pytest.raises(ModelError, match="atm_problem.*dvc repro train"):
        classify.main(
            tmp_path / "lemmas.parquet",
            tmp_path / "model.joblib",
            tmp_path / "reasons.yaml",
            tmp_path / "out.parquet",
            classify.ClassifyConfig(),
        )
    assert not (tmp_path / "out.parquet").exists()


def test_a_file_that_is_not_a_model_is_a_russian_message(tmp_path):
    joblib.dump({"weights": [1, 2, 3]}, tmp_path / "model.joblib")
    with pytest.raises(ModelError, match="не модель"):
        load_model(tmp_path / "model.joblib")
    with pytest.raises(ModelError, match="файла модели нет"):
        load_model(tmp_path / "missing.joblib")


def stage_files(model, lemmas, folder) -> dict:
    """classify's inputs, and last run's output as classify wrote it."""
    paths = {
        "lemmas": folder / "interim" / "lemmas.parquet",
        "model": folder / "models" / "model.joblib",
        "taxonomy": ROOT / "taxonomy/reasons.yaml",
        "out": folder / "processed" / "classified.parquet",
    }
    for key in ("lemmas", "model", "out"):
        paths[key].parent.mkdir(parents=True, exist_ok=True)
    lemmas.to_parquet(paths["lemmas"], index=False)
    joblib.dump(model, paths["model"])
    run_stage(paths)
    return paths


def run_stage(paths: dict) -> pd.DataFrame:
    keys = ("lemmas", "model", "taxonomy", "out")
    return classify.main(*(paths[k] for k in keys), classify.ClassifyConfig())


def temporary_files(folder) -> list[str]:
    return sorted(p.name for p in folder.rglob("*") if ".tmp" in p.name)


def test_a_rerun_writes_the_same_bytes_as_a_direct_write(model, lemmas, tmp_path):
    paths = stage_files(model, lemmas, tmp_path)
    classified = run_stage(paths)
    classified.to_parquet(tmp_path / "direct.parquet", index=False)
    assert paths["out"].read_bytes() == (tmp_path / "direct.parquet").read_bytes()


def test_classify_before_lemmatize_names_the_missing_file_and_the_stage(model, lemmas, tmp_path):
    from pipeline.io.inputs import InputError

    paths = stage_files(model, lemmas, tmp_path)
    before = paths["out"].read_bytes()
    paths["lemmas"].unlink()
    with pytest.raises(InputError) as caught:
        run_stage(paths)
    assert str(caught.value) == (
        f"{paths['lemmas']}: файла нет; его пишет стадия lemmatize: "
        "запустите `dvc repro lemmatize`"
    )
    paths["lemmas"].write_bytes(b"\x00PAR1junk")
    with pytest.raises(InputError, match=f"{paths['lemmas']}: не читается как Parquet"):
        run_stage(paths)
    lemmas.drop(columns="normalized").to_parquet(paths["lemmas"], index=False)
    with pytest.raises(InputError, match=r"нет столбцов \['normalized'\]"):
        run_stage(paths)
    assert paths["out"].read_bytes() == before and temporary_files(tmp_path) == []


def test_a_missing_or_broken_model_names_the_path_and_train(model, lemmas, tmp_path):
    paths = stage_files(model, lemmas, tmp_path)
    before = paths["out"].read_bytes()
    paths["model"].write_bytes(bytes(range(10)))
    with pytest.raises(ModelError, match=f"{paths['model']}: не читается как модель.*repro train"):
        run_stage(paths)
    paths["model"].unlink()
    with pytest.raises(ModelError, match=f"{paths['model']}: файла модели нет"):
        run_stage(paths)
    assert paths["out"].read_bytes() == before and temporary_files(tmp_path) == []


def test_a_failure_while_writing_keeps_last_runs_output(model, lemmas, tmp_path, monkeypatch):
    paths = stage_files(model, lemmas, tmp_path)
    before = paths["out"].read_bytes()

    def half_written(frame):
        def fail(tmp):
            tmp.write_bytes(b"PAR1 half")
            raise OSError(28, "No space left on device")

        return fail

    monkeypatch.setattr(classify, "parquet", half_written)
    with pytest.raises(OSError, match=f"{paths['out']}: не удалось записать"):
        run_stage(paths)
    assert paths["out"].read_bytes() == before and temporary_files(tmp_path) == []


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
