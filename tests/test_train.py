"""Stage ``train``: the model, its honest (out-of-fold) metrics against two baselines, and the
confusion rows aggregate corrects volumes with."""

from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest
from conftest import ROOT

from pipeline import train
from pipeline.model.predict import load_model
from pipeline.model.training import TrainConfig

REASONS = ("sms_code_missing", "card_not_delivered", "atm_problem", "cannot_login")
FAST = TrainConfig(Cs=(1.0,), word_vectors=False, eval_folds=3, min_examples_per_reason=40)


def small_labels(folder, per_reason: int = 40):
    """Four reasons' labels from the repository's label files, as one label file."""
    frames = [pd.read_csv(p) for p in sorted((ROOT / "taxonomy/labels").glob("*.csv"))]
    labels = pd.concat(frames)
    labels = labels[labels["reason_id"].isin(REASONS)].groupby("reason_id").head(per_reason)
    folder.mkdir(parents=True, exist_ok=True)
    labels.to_csv(folder / "labels.csv", index=False)
    return labels


def run_train(tmp_path, labels_dir):
    out = tmp_path / "out"
    paths = {
        "model": out / "model.joblib",
        "metrics": out / "model.json",
        "confusion": out / "confusion.csv",
    }
    train.main(
        ROOT / "taxonomy/reasons.yaml",
        labels_dir,
        paths["model"],
        paths["metrics"],
        paths["confusion"],
        FAST,
    )
    return paths


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("train")
    labels = small_labels(tmp_path / "labels")
    return tmp_path, labels, run_train(tmp_path, tmp_path / "labels")


def test_writes_a_model_classify_can_load(trained):
    _, _, paths = trained
    model = load_model(paths["model"])
    assert set(model.named_steps["model"].classes_) == set(REASONS)
    assert model.metadata_["undefined_reason"] == "unknown"
    metrics = json.loads(paths["metrics"].read_text(encoding="utf-8"))
    assert model.metadata_["threshold"] == pytest.approx(metrics["final"]["threshold"], abs=1e-4)
    assert model.metadata_["model_version"] == metrics["model_version"]


def test_metrics_are_out_of_fold_and_name_the_thin_reasons(trained):
    _, labels, paths = trained
    metrics = json.loads(paths["metrics"].read_text(encoding="utf-8"))
    assert metrics["examples"] == len(labels)
    assert set(metrics["baselines"]) == {"words_no_lemma", "snowball"}
    assert len(metrics["fold_macro_f1"]) == FAST.eval_folds
    assert set(metrics["per_reason"]) == set(REASONS)
    assert metrics["macro_f1"] > 0.8
    # every other reason of the taxonomy has no example: listed, not hidden
    assert metrics["reasons_with_few_examples"]["app_error"] == 0
    assert set(REASONS).isdisjoint(metrics["reasons_with_few_examples"])


def test_confusion_has_one_out_of_fold_row_per_label(trained):
    _, labels, paths = trained
    confusion = pd.read_csv(paths["confusion"])
    assert list(confusion.columns) == ["actual", "predicted", "above_threshold"]
    assert len(confusion) == len(labels)
    assert sorted(confusion["actual"]) == sorted(labels["reason_id"])
    assert confusion["above_threshold"].dtype == bool


def test_model_version_follows_the_labels(trained, tmp_path):
    source, labels, paths = trained
    version = json.loads(paths["metrics"].read_text(encoding="utf-8"))["model_version"]
    shutil.copytree(source / "labels", tmp_path / "same")
    again = run_train(tmp_path / "a", tmp_path / "same")
    assert json.loads(again["metrics"].read_text(encoding="utf-8"))["model_version"] == version
    # the same labels give the same model, byte for byte (no memory addresses, no hash-ordered
    # sets, no thread-shared random state in the pickle)
    assert again["model"].read_bytes() == paths["model"].read_bytes()
    changed = labels.copy()
    changed.iloc[0, 0] = changed.iloc[0, 0] + " очень срочно"
    (tmp_path / "changed").mkdir()
    changed.to_csv(tmp_path / "changed/labels.csv", index=False)
    other = run_train(tmp_path / "b", tmp_path / "changed")
    assert json.loads(other["metrics"].read_text(encoding="utf-8"))["model_version"] != version


def copy_of_trained(trained, folder) -> dict:
    """Last run's three outputs, in a folder a failing run may write to."""
    _, _, paths = trained
    folder.mkdir()
    copies = {key: folder / path.name for key, path in paths.items()}
    for key, path in paths.items():
        shutil.copyfile(path, copies[key])
    return copies


def run_into(paths: dict, labels_dir, taxonomy=ROOT / "taxonomy/reasons.yaml"):
    return train.main(
        taxonomy, labels_dir, paths["model"], paths["metrics"], paths["confusion"], FAST
    )


def test_a_failure_after_the_model_keeps_last_runs_three_files(trained, tmp_path, monkeypatch):
    """The confusion rows fail after the model and metrics are in their temporary files:
    nothing is renamed, last run's model, metrics and confusion stay byte-identical."""
    source, _, _ = trained
    paths = copy_of_trained(trained, tmp_path / "out")
    before = {key: path.read_bytes() for key, path in paths.items()}

    def no_csv(frame):
        def fail(tmp):
            tmp.write_text("actual,predi", encoding="utf-8")
            raise KeyboardInterrupt  # the analyst pressed Ctrl+C

        return fail

    monkeypatch.setattr(train, "csv", no_csv)
    with pytest.raises(KeyboardInterrupt):
        run_into(paths, source / "labels")
    assert {key: path.read_bytes() for key, path in paths.items()} == before
    assert sorted(p.name for p in paths["model"].parent.iterdir()) == sorted(
        p.name for p in paths.values()
    )


def test_a_broken_taxonomy_writes_nothing_and_names_the_file(trained, tmp_path):
    from pipeline.taxonomy.schema import TaxonomyError

    source, _, _ = trained
    paths = copy_of_trained(trained, tmp_path / "out")
    before = {key: path.read_bytes() for key, path in paths.items()}
    reasons = tmp_path / "reasons.yaml"
    reasons.write_bytes("version: 1\nreasons: [\n".encode("cp1251") + "Карта".encode("cp1251"))
    with pytest.raises(TaxonomyError, match=f"{reasons}: файл не в кодировке UTF-8"):
        run_into(paths, source / "labels", reasons)
    with pytest.raises(TaxonomyError, match=f"{tmp_path / 'no.yaml'}: не удалось прочитать"):
        run_into(paths, source / "labels", tmp_path / "no.yaml")
    assert {key: path.read_bytes() for key, path in paths.items()} == before


def test_lemma_model_beats_raw_words_and_matches_snowball(demo_workspace):
    """Lemmas beat raw words clearly. Against Snowball stems the demo labels (short, templated
    client phrases) cannot tell the two apart: measured 0.9333 vs 0.9333, earlier 0.9333 vs
    0.9325, within one fold's standard deviation (~0.013) either way; so that is the claim."""
    metrics = json.loads((demo_workspace / "reports/metrics/model.json").read_text())
    baselines = metrics["baselines"]
    assert metrics["macro_f1"] > baselines["words_no_lemma"]["macro_f1"] + 0.03
    assert metrics["macro_f1"] >= baselines["snowball"]["macro_f1"] - metrics["fold_macro_f1_std"]
    assert set(metrics["per_reason"]) >= set(metrics["examples_per_reason"])
    assert "не_приходить" in " ".join(t for t, _ in metrics["top_terms"]["sms_code_missing"])
