"""The accuracy benchmark (benchmarks/accuracy.py): one fold split per set for every method, one
table row per set x method, runs split across processes merge only when seed, folds and data
agree. The synthetic tests always run; the real-text ones need ../shared/data (not in CI).
"""

from __future__ import annotations

import importlib.util
import json
import random
import sys
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from pipeline.config import load_section
from pipeline.model.training import TrainConfig
from pipeline.text import Lemmatizer
from pipeline.tools.evaluate import stratified_folds

ROOT = Path(__file__).resolve().parents[1]


def load_benchmark():
    spec = importlib.util.spec_from_file_location(
        "accuracy_benchmark", ROOT / "benchmarks" / "accuracy.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


accuracy = load_benchmark()
realsets = sys.modules["realsets"]  # imported by the benchmark from benchmarks/

# --- synthetic Russian contacts: three reasons in the words clients use -------------------------

PHRASES = {
    "card_blocked": [
        "заблокировали карту без объяснения причин",
        "карта заблокирована, не могу расплатиться в магазине",
        "после поездки карту заблокировали, как разблокировать",
        "банк блокирует карту при каждой покупке",
    ],
    "sms_code_missing": [
        "не приходит смс с кодом подтверждения",
        "код из смс так и не пришёл",
        "смс-код не приходит, не могу войти в приложение",
        "жду код подтверждения уже полчаса",
    ],
    "transfer_delayed": [
        "перевод не дошёл до получателя",
        "деньги не поступили на счёт после перевода",
        "отправил перевод вчера, до сих пор не зачислен",
        "где мой перевод, прошло три дня",
    ],
}
OPENINGS = ["", "Здравствуйте!", "Добрый день,", "Помогите, пожалуйста:"]
CLOSINGS = [
    "",
    "Спасибо.",
    "Что мне делать?",
    "Обращаюсь уже не первый раз, в отделении ничего толком не объяснили, прошу "
    "разобраться и ответить письменно, потому что это очень неудобно и отнимает время.",
]


def synthetic_set(name: str, per_label: int, seed: int):
    rng = random.Random(seed)
    texts, labels = [], []
    for label, phrases in PHRASES.items():
        for _ in range(per_label):
            parts = [rng.choice(OPENINGS), rng.choice(phrases), rng.choice(CLOSINGS)]
            texts.append(" ".join(p for p in parts if p))
            labels.append(label)
    return realsets.Loaded(name, texts, np.array(labels), {"synthetic": True})


CHEAP = ["tfidf_word_lr", "tfidf_lemma_lr"]


def synthetic_report(methods: list[str], seed: int = 0, folds: int = 3) -> dict:
    config = load_section(ROOT / "params.yaml", "train", TrainConfig)
    lemmatizer = Lemmatizer()
    report = accuracy.header(folds, seed, None, Path("synthetic"))
    for name, per_label in (("synthetic-a", 12), ("synthetic-b", 15)):
        loaded = synthetic_set(name, per_label, seed=per_label)
        split = stratified_folds(loaded.labels, folds, seed)
        report["sets"][name] = accuracy.score_set(loaded, methods, split, config, lemmatizer, seed)
    return accuracy.finish(report)


def table_rows(table: str) -> list[tuple[str, str]]:
    """(set, method) of every data row; the set cell is filled on a set's first row only."""
    rows, current = [], ""
    for line in table.splitlines()[2:]:
        cells = [c.strip() for c in line.strip("|").split("|")]
        current = cells[0].split(" (")[0] or current
        rows.append((current, cells[1]))
    return rows


def test_every_method_scores_the_same_folds_and_the_table_has_each_set_and_method() -> None:
    report = synthetic_report(CHEAP)
    assert table_rows(report["table"]) == [
        (name, method) for name in ("synthetic-a", "synthetic-b") for method in CHEAP
    ]
    for entry in report["sets"].values():
        assert {r["folds_sha1"] for r in entry["results"].values()} == {entry["folds_sha1"]}
        assert sum(entry["sections"]["folds"]["test_sizes"]) == entry["examples"]
        for result in entry["results"].values():
            assert result["macro_f1_fold_mean"] > 0.8  # three reasons in distinct words
            assert len(result["chosen"]) == 3
            assert {"C", "class_weight"} <= set(result["chosen"][0])
        assert entry["verdict"]["best_peer"] in CHEAP
        assert entry["short_texts"] and entry["long_texts"]  # the long closing makes both


def test_runs_split_by_method_merge_into_the_table_of_one_run(tmp_path) -> None:
    whole = synthetic_report(CHEAP)
    paths = []
    for method in CHEAP:
        path = tmp_path / f"{method}.json"
        accuracy.write(synthetic_report([method]), path)
        paths.append(path)
    merged = accuracy.merge(paths)
    for name, entry in whole["sets"].items():
        for method, result in entry["results"].items():
            split = merged["sets"][name]["results"][method]
            assert split["fold_macro_f1"] == result["fold_macro_f1"]
    assert table_rows(merged["table"]) == table_rows(whole["table"])


def test_merge_refuses_runs_with_different_seeds_or_data(tmp_path) -> None:
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    accuracy.write(synthetic_report(["tfidf_word_lr"], seed=0), a)
    accuracy.write(synthetic_report(["tfidf_lemma_lr"], seed=1), b)
    with pytest.raises(accuracy.MergeError, match="seed = 1 there but 0"):
        accuracy.merge([a, b])
    other = json.loads(a.read_text(encoding="utf-8"))
    other["sets"]["synthetic-a"]["data_sha1"] = "0" * 16
    b.write_text(json.dumps(other), encoding="utf-8")
    with pytest.raises(accuracy.MergeError, match="synthetic-a has data_sha1"):
        accuracy.merge([a, b])


def test_missing_data_names_the_files_and_the_fix(tmp_path, capsys) -> None:
    code = accuracy.main(
        ["--data-root", str(tmp_path), "--methods", "tfidf_word_lr", "--skip-10k"]
    )
    assert code == 2
    message = capsys.readouterr().err
    assert str(tmp_path / "spb-appeals" / "spb_appeals_sample.csv") in message
    assert "--data-root" in message


# --- the real sets (only where ../shared/data exists) ------------------------------------------


@pytest.mark.slow
@pytest.mark.skipif(
    "spb-appeals" not in realsets.available(),
    reason=f"{realsets.SHARED_DATA} absent (real sets are not in the repository; CI clones)",
)
def test_benchmark_runs_on_a_real_subsample_split_across_processes(tmp_path, capsys) -> None:
    common = ["--sets", "spb-appeals", "--limit", "300", "--skip-10k", "--sections"]
    paths = []
    for method in CHEAP:
        paths.append(tmp_path / f"{method}.json")
        assert accuracy.main([*common, "--methods", method, "--out", str(paths[-1])]) == 0
    assert accuracy.main(["--merge", *map(str, paths), "--out", str(tmp_path / "all.json")]) == 0
    report = json.loads((tmp_path / "all.json").read_text(encoding="utf-8"))
    entry = report["sets"]["spb-appeals"]
    assert 250 <= entry["examples"] <= 300
    assert {r["folds_sha1"] for r in entry["results"].values()} == {entry["folds_sha1"]}
    assert table_rows(report["table"]) == [("spb-appeals", m) for m in CHEAP]
    assert "| spb-appeals (n=" in capsys.readouterr().out
    seeded = json.loads(paths[1].read_text(encoding="utf-8")) | {"seed": 1}
    paths[1].write_text(json.dumps(seeded), encoding="utf-8")
    with pytest.raises(accuracy.MergeError, match="seed"):
        accuracy.merge(paths)


# --- the learning-curve benchmark (benchmarks/learning_curve.py) -------------------------------


def load_learning_curve():
    spec = importlib.util.spec_from_file_location(
        "learning_curve_benchmark", ROOT / "benchmarks" / "learning_curve.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_learning_curve_and_selection_runs_on_synthetic_contacts() -> None:
    lc = load_learning_curve()
    assert lc.schedule(6, 40) == [6, 9, 12, 16, 22, 30, 40]
    loaded = synthetic_set("synthetic", 20, seed=3)
    labels = loaded.labels
    rows = np.arange(len(labels))
    rng = np.random.default_rng(0)
    sample = lc.per_reason_sample(labels, rows, 5, rng)
    assert sorted(np.unique(labels[sample], return_counts=True)[1]) == [5, 5, 5]
    config = load_section(ROOT / "params.yaml", "train", TrainConfig)
    inputs = lc.model_inputs(loaded.texts, Lemmatizer())
    test = lc.per_reason_sample(labels, rows, 6, rng)
    train = np.setdiff1d(rows, test)
    scorer = lc.Scorer(inputs, labels, test, config)
    curve = lc.learning_curve(scorer, train, seed=0)
    assert list(curve) == ["5", "10", "20", "50", "all"]
    assert curve["5"]["labels"] == 15 and curve["all"]["labels"] == len(train)
    assert curve["all"]["macro_f1"] > 0.8  # three reasons in distinct words
    for strategy in ("random", "mix"):
        run = lc.selection_run(scorer, train, strategy, target=0.8, seed=0)
        counts = [step["labels"] for step in run["steps"]]
        assert counts[0] == 6 and counts == sorted(counts) and counts[-1] <= len(train)
        assert run["labels_to_target"] in (None, counts[-1])


# --- the scale benchmark (benchmarks/scale.py, benchmarks/scale_data.py) ------------------------


def load_scale():
    spec = importlib.util.spec_from_file_location(
        "scale_benchmark", ROOT / "benchmarks" / "scale.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


scale = load_scale()
scale_data = sys.modules["scale_data"]  # imported by the benchmark from benchmarks/


def test_scale_texts_are_distinct_and_each_still_says_its_reason() -> None:
    from pipeline.tools.synth.text import load_phrases

    diversifier = scale_data.TextDiversifier(load_phrases(), seed=0)
    rng = np.random.default_rng(0)
    groups = rng.integers(0, len(diversifier.groups), 2000)
    is_call = np.array([diversifier.groups[g][1] == "agent" for g in groups])
    texts = diversifier.texts(groups, is_call, rng.random(2000) < 0.1, rng)
    stats = scale_data.text_stats(texts)
    assert stats["distinct_share"] >= 0.9
    words = {g: scale_data.reason_words(diversifier, g) for g in set(groups.tolist())}
    silent = [
        text
        for text, g in zip(texts, groups.tolist(), strict=True)
        if not set(scale_data.WORD.findall(text.lower().replace("ё", "е"))) & words[g]
    ]
    assert len(silent) <= 0.005 * len(texts), silent[:5]  # a typo may hit a short note's word
    agent = scale_data.text_stats([t for t, c in zip(texts, is_call, strict=True) if c])
    client = scale_data.text_stats([t for t, c in zip(texts, is_call, strict=True) if not c])
    assert 3 <= agent["words_percentiles"]["p5"] and agent["words_percentiles"]["p95"] <= 16
    assert client["words_percentiles"]["p50"] > agent["words_percentiles"]["p50"]
    assert 0.01 <= client["share_over_100_words"] <= 0.1  # the long tail of letters
    again = diversifier.texts(groups, is_call, np.zeros(2000, bool), np.random.default_rng(1))
    assert again == diversifier.texts(
        groups, is_call, np.zeros(2000, bool), np.random.default_rng(1)
    )


@pytest.mark.slow
def test_scale_exports_are_read_by_ingest_as_the_demo_exports_are(tmp_path) -> None:
    from pipeline.config import load_params
    from pipeline.io.exports import ingest

    data = scale_data.ScaleData(
        ROOT / "taxonomy" / "reasons.yaml", 2, 1500, seed=3, last_week=date(2026, 11, 16)
    )
    assert data.labels() == ["2026-W46", "2026-W47"]
    raw = tmp_path / "data" / "raw"
    for i in range(2):
        scale.write_files(data.week_files(i), raw)
    (raw / "drivers.csv").write_bytes(data.drivers([0, 1]))
    assert (
        data.week_files(1)["calls/telephony_2026-W47.csv"]
        == (raw / "calls" / "telephony_2026-W47.csv").read_bytes()
    )  # deterministic: the same week, the same bytes
    result = ingest(
        raw, load_params(ROOT / "params.yaml").ingest, drivers_path=raw / "drivers.csv"
    )
    assert result.metrics["accepted"] == 3000 == scale._count(tmp_path)
    assert result.metrics["quarantined"] == 0 and result.metrics["duplicates"] == 0
    contacts = result.contacts
    assert contacts["text"].nunique() >= 0.9 * len(contacts)
    assert set(contacts["channel"]) >= {"phone", "email", "service_desk"}
    assert len(result.drivers) == 2


def test_scale_runner_reads_stages_from_dvc_yaml_and_measures_the_child_peak_memory(
    tmp_path,
) -> None:
    stages = scale.stage_names(ROOT / "dvc.yaml")
    assert stages[0] == "ingest" and "report" in stages
    data = scale.data_stages(ROOT / "dvc.yaml")
    assert "train" in stages and "train" not in data  # trains on the labels, not the exports
    assert data == [s for s in stages if s != "train"]
    # a child holding 300 MB: ru_maxrss from os.wait4 is the child's, not this process's
    hold = (
        "import time; b = bytearray(300 * 2**20); b[::4096] = b'x' * len(b[::4096]); time.sleep(1)"
    )
    measured = scale.run_measured([sys.executable, "-c", hold], tmp_path, tmp_path / "log")
    assert measured["peak_rss_mb"] >= 300 and measured["tree_rss_mb"] >= 250
    assert measured["wall_s"] >= 1
    # ...and a small child is measured small while this process holds 600 MB more
    ballast = bytearray(600 * 2**20)
    ballast[::4096] = b"x" * len(ballast[::4096])
    small = scale.run_measured([sys.executable, "-c", "pass"], tmp_path, tmp_path / "log")
    assert small["peak_rss_mb"] < 200


def test_scale_table_states_each_goal_met_or_not() -> None:
    def run(contacts, walls, rss):
        stages = {
            s: {"wall_s": w, "peak_rss_mb": rss, "tree_rss_mb": rss, "contacts_per_s": 1.0}
            for s, w in zip(["ingest", "train", "report"], walls, strict=True)
        }
        data = {s: r for s, r in stages.items() if s != "train"}
        return {
            "contacts": contacts,
            "stages": stages,
            "total": scale._total(stages.values(), contacts),
            "data_stages": scale._total(data.values(), contacts),
        }

    report = {
        "machine": scale.machine(),
        "parameters": {
            "contacts_per_week": 1_000_000,
            "history_weeks": 1,
            "data_stages": ["ingest", "report"],
        },
        "generation_s": 30.0,
        "texts": {"distinct_share": 0.99, "words_percentiles": {"p50": 12, "p95": 40, "p99": 200}},
        "runs": {
            "full": run(1_000_000, [50, 40, 20], 3000),
            "incremental": run(2_000_000, [100, 1, 60], 5000),
            "alone": run(1_000_000, [50, 40, 20], 3000),
        },
        "incremental_ratio": 160 / 70,
        "incremental_ratio_all_stages": 161 / 110,
    }
    report["goals"] = scale.goals(report)
    assert report["goals"]["end_to_end"]["met"]  # 110 s for 1 M contacts
    assert not report["goals"]["peak_rss"]["met"]  # 5,000 MB in the incremental run
    assert not report["goals"]["incremental"]["met"]
    table = scale.markdown(report)
    assert "| full run (1,000,000 contacts) | ingest | 50.0 | 3000 | 3000 |" in table
    assert "total without train" in table
    assert "≤ 120 s: met (110 s)" in table and "peak RSS ≤ 4 GB: not met (5000 MB)" in table
    assert "that week alone: not met (2.29×)" in table
