"""How many labels the pipeline's classifier needs, and whether choosing them beats chance.

    python benchmarks/learning_curve.py [--sets NAME ...] [--data-root ../shared/data]
        [--seeds 0 1] [--limit N] [--strategies NAME ...] [--out FILE.json]
    python benchmarks/learning_curve.py --table a.json b.json   # the tables of earlier runs

Per set (``benchmarks/realsets.py``) and seed: a stratified 70/30 split into a training part (the
pool labels come from) and a fixed held-out test part. Every model is the classifier ``train``
fits (``TrainConfig.build_pipeline`` with the ``train`` section of ``params.yaml``: C, word-vector
weight and calibration chosen inside its own training labels), scored by macro-F1 of its answer
on the test part.

* learning curve — ``k`` labelled examples per reason (5, 10, 20, 50; a reason with fewer in the
  training part gives all it has) drawn at random from the training part, and all of it;
* selected vs random — from 2 labels per reason, labels are added in growing batches (the
  cumulative counts of ``schedule``), each batch chosen from the rest of the training part by a
  strategy of ``pipeline.taxonomy.selection`` (the one ``taxonomy export-labeling`` uses is
  ``mix``), the model refitted and scored after each batch. Reported: the first count whose
  macro-F1 reaches 95 % of the all-labels macro-F1 of the same split (``null``: not within the
  schedule), per strategy, set and seed.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.metrics import f1_score
from sklearn.model_selection import train_test_split

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT))

from realsets import SHARED_DATA, load_set  # noqa: E402

from pipeline.config import load_section  # noqa: E402
from pipeline.model import reason_model  # noqa: E402
from pipeline.model.training import TrainConfig, model_inputs  # noqa: E402
from pipeline.taxonomy import selection  # noqa: E402
from pipeline.text import Lemmatizer  # noqa: E402

logger = logging.getLogger("learning_curve")

PER_REASON = (5, 10, 20, 50)
TEST_SHARE = 0.3
SEED_PER_REASON = 2
GROWTH = 1.35  # each batch adds about 35 % to the labels so far
TARGET_SHARE = 0.95
DEFAULT_SETS = ("spb-appeals", "ryazan-appeals")
DEFAULT_LIMITS = {"spb-appeals": 1500, "gpb-sravni-reviews": 1500}


def schedule(start: int, pool: int, growth: float = GROWTH) -> list[int]:
    """Cumulative label counts: ``start``, then growing by ``growth`` (at least +``start``/2),
    up to the whole pool."""
    counts = [start]
    while counts[-1] < pool:
        counts.append(min(pool, max(counts[-1] + start // 2, round(counts[-1] * growth))))
    return counts


def per_reason_sample(labels: np.ndarray, rows: np.ndarray, k: int, rng) -> np.ndarray:
    """Up to ``k`` random rows of each reason among ``rows``."""
    chosen = []
    for reason in np.unique(labels[rows]):
        own = rows[labels[rows] == reason]
        chosen.append(rng.choice(own, min(k, len(own)), replace=False))
    return np.concatenate(chosen)


class Scorer:
    """Fits the pipeline's classifier on rows of one set and scores it on a fixed test part."""

    def __init__(self, inputs, labels: np.ndarray, test: np.ndarray, config: TrainConfig):
        self.inputs, self.labels, self.test, self.config = inputs, labels, test, config
        self.fits = 0

    def fit(self, rows: np.ndarray):
        pipe = self.config.build_pipeline()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pipe.fit(self.inputs.iloc[rows], self.labels[rows])
        self.fits += 1
        return pipe

    def proba(self, pipe, rows: np.ndarray) -> np.ndarray:
        decision, _ = reason_model.decide(pipe, self.inputs.iloc[rows])
        return pipe.named_steps["model"].calibrated(decision)

    def macro_f1(self, pipe) -> float:
        decision, _ = reason_model.decide(pipe, self.inputs.iloc[self.test])
        model = pipe.named_steps["model"]
        predicted = model.classes_[model.answer_index(decision)]
        return float(f1_score(self.labels[self.test], predicted, average="macro", zero_division=0))


def learning_curve(scorer: Scorer, train: np.ndarray, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    curve = {}
    for k in PER_REASON:
        rows = per_reason_sample(scorer.labels, train, k, rng)
        curve[str(k)] = {"labels": len(rows), "macro_f1": scorer.macro_f1(scorer.fit(rows))}
    curve["all"] = {"labels": len(train), "macro_f1": scorer.macro_f1(scorer.fit(train))}
    return curve


def selection_run(scorer: Scorer, train: np.ndarray, strategy: str, target: float, seed: int):
    """Labels added batch by batch by ``strategy`` until macro-F1 reaches ``target``."""
    labels = scorer.labels
    labelled = per_reason_sample(labels, train, SEED_PER_REASON, np.random.default_rng(seed))
    steps, reached = [], None
    for count in schedule(len(labelled), len(train))[1:] + [None]:
        pipe = scorer.fit(labelled)
        f1 = scorer.macro_f1(pipe)
        steps.append({"labels": len(labelled), "macro_f1": round(f1, 4)})
        logger.info(
            "  %s: %d labels, macro-F1 %.3f (target %.3f)", strategy, len(labelled), f1, target
        )
        if f1 >= target:
            reached = len(labelled)
            break
        if count is None:
            break
        pool = np.setdiff1d(train, labelled)
        reasons, counts = np.unique(labels[labelled], return_counts=True)
        picked = selection.pick(
            strategy,
            scorer.proba(pipe, pool),
            pipe.named_steps["model"].classes_,
            dict(zip(reasons, counts.tolist(), strict=True)),
            count - len(labelled),
            seed=seed + len(labelled),
        )
        labelled = np.concatenate([labelled, pool[picked]])
    return {"labels_to_target": reached, "steps": steps}


def run_set(name: str, data_root: Path, seeds: list[int], limit: int | None, strategies) -> dict:
    started = time.perf_counter()
    loaded = load_set(name, data_root=data_root, limit=limit)
    labels = loaded.labels
    inputs = model_inputs(list(loaded.texts), Lemmatizer())
    config = load_section(ROOT / "params.yaml", "train", TrainConfig)
    result = {"examples": len(labels), "reasons": int(len(set(labels))), "seeds": {}}
    for seed in seeds:
        train, test = train_test_split(
            np.arange(len(labels)), test_size=TEST_SHARE, stratify=labels, random_state=seed
        )
        scorer = Scorer(inputs, labels, test, config)
        curve = learning_curve(scorer, train, seed)
        target = TARGET_SHARE * curve["all"]["macro_f1"]
        runs = {s: selection_run(scorer, train, s, target, seed) for s in strategies}
        result["seeds"][str(seed)] = {"curve": curve, "target": target, "selection": runs}
        logger.info("%s seed %s: %s", name, seed, summary_line(curve, runs))
    result["seconds"] = round(time.perf_counter() - started, 1)
    return result


def summary_line(curve: dict, runs: dict) -> str:
    f1s = " ".join(f"{k}:{v['macro_f1']:.3f}" for k, v in curve.items())
    needed = " ".join(f"{s}:{r['labels_to_target']}" for s, r in runs.items())
    return f"F1 {f1s} | labels to 95 % {needed}"


def table(results: dict) -> str:
    """Two markdown tables: macro-F1 by labels per reason; labels to 95 % by strategy (mean
    over seeds, each seed's count in brackets; "—": not reached within the training part)."""
    columns = [*map(str, PER_REASON), "all"]
    lines = ["| set | " + " | ".join(columns) + " |", "|---" * (len(columns) + 1) + "|"]
    for name, result in results.items():
        seeds = list(result["seeds"].values())
        f1 = [np.mean([s["curve"][k]["macro_f1"] for s in seeds]) for k in columns]
        lines.append(f"| {name} | " + " | ".join(f"{v:.3f}" for v in f1) + " |")
    strategies = list(next(iter(results.values()))["seeds"]["0"]["selection"])
    lines += ["", "| set | " + " | ".join(strategies) + " |", "|---" * (len(strategies) + 1) + "|"]
    for name, result in results.items():
        seeds = list(result["seeds"].values())
        cells = []
        for strategy in strategies:
            needed = [s["selection"][strategy]["labels_to_target"] for s in seeds]
            shown = ", ".join("—" if n is None else str(n) for n in needed)
            mean = "—" if None in needed else f"{np.mean(needed):.0f}"
            cells.append(f"{mean} ({shown})")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines + ["", *area_table(results, strategies)])


def area_table(results: dict, strategies: list[str]) -> list[str]:
    """Mean macro-F1 over the batches every strategy ran (same label counts): the whole curve
    up to the first strategy reaching its target, not only where it crosses."""
    lines = ["| set | " + " | ".join(strategies) + " |", "|---" * (len(strategies) + 1) + "|"]
    for name, result in results.items():
        means = {strategy: [] for strategy in strategies}
        for seed in result["seeds"].values():
            runs = seed["selection"]
            common = min(len(runs[s]["steps"]) for s in strategies)
            for strategy in strategies:
                steps = runs[strategy]["steps"][1:common]  # the shared start left out
                means[strategy].append(np.mean([step["macro_f1"] for step in steps]))
        lines.append(
            f"| {name} | " + " | ".join(f"{np.mean(means[s]):.3f}" for s in strategies) + " |"
        )
    return lines


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", nargs="+", default=list(DEFAULT_SETS))
    parser.add_argument("--data-root", type=Path, default=SHARED_DATA)
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1])
    parser.add_argument("--limit", type=int, default=None, help="default: per set")
    parser.add_argument("--strategies", nargs="+", default=list(selection.STRATEGIES))
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--table", nargs="+", type=Path, help="print the tables of these runs")
    args = parser.parse_args(argv)
    if args.table:
        results = {}
        for path in args.table:
            results.update(json.loads(path.read_text(encoding="utf-8")))
        print(table(results))
        return results
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("pipeline").setLevel(logging.WARNING)
    results = {}
    for name in args.sets:
        limit = args.limit or DEFAULT_LIMITS.get(name)
        results[name] = run_set(name, args.data_root, args.seeds, limit, args.strategies)
    print(table(results))
    if args.out:
        args.out.write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")
    return results


if __name__ == "__main__":
    main()
