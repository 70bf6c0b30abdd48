"""Weekly reason volumes corrected for classifier error, on real labelled sets under prior shift.

    python benchmarks/quantification.py [--sets spb-appeals ryazan-appeals] [--folds 5]
        [--weeks 200] [--draws 200] [--level 0.9] [--prior-examples 10] [--small 50]
        [--seed 0] [--nested] [--out FILE.json]

For every set (read by ``benchmarks/realsets.py`` exactly as ``pipeline evaluate`` reads it) the
pipeline's classifier (``params.yaml`` section ``train``) is cross-validated on stratified folds.
Then, per test fold, ``--weeks`` simulated weeks are drawn whose reason mix differs from the
labelled one (prior shift): the mix is Dirichlet(1) over the reasons, the size 300–1,000
contacts, the contacts drawn with replacement from the test fold's examples of each reason.
Each week is counted two ways and compared with its true counts:

* **raw**: the classifier's label per contact counted (what ``aggregate`` reported before);
* **ACC**: ``pipeline.quantify.estimate_volumes`` on those counts, with the confusion of the
  *training part's* out-of-fold predictions: by default the outer cross-validation's
  predictions of the other folds (never the test fold's own), with ``--nested`` an inner
  cross-validation inside the training part (slower, the same folds as a real retraining);
* **ACC without prior**: the same with ``prior_examples=0`` (textbook ACC), for comparison.

Two populations: ``assigned`` — contacts whose confidence reaches the fold model's threshold,
the ones ``classify`` gives a reason (the rest are «Не определено»), truth = their true reasons,
as the pipeline does; ``all`` — every contact with its top label, threshold ignored.

Reported per set and population: mean absolute error per reason and week of raw and ACC counts
(and relative to the mean true count), the share of weeks whose total error ACC lowers, interval
coverage of the true count at ``--level`` and the mean interval width; the same split into
reasons with fewer than ``--small`` labelled examples and the rest; per reason in the JSON.
Read the small reasons' lines with care: a test fold holds only a handful of their texts, so a
simulated week repeats the same few texts, whose errors need not look like the labelled ones.
Last, the speed of ``estimate_volumes`` on 30 reasons × 100 weeks × ``--draws`` draws.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import date
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT))

from realsets import load_set  # noqa: E402

from pipeline.config import load_section  # noqa: E402
from pipeline.model import quantify  # noqa: E402
from pipeline.model.training import TrainConfig  # noqa: E402
from pipeline.text import Lemmatizer  # noqa: E402
from pipeline.tools.evaluate import cross_validate, stratified_folds  # noqa: E402

DEFAULT_SETS = ("spb-appeals", "ryazan-appeals")
WEEK_SIZE = (300, 1000)
POPULATIONS = ("assigned", "all")


def codes(labels, code: dict[str, int]) -> np.ndarray:
    return np.array([code[label] for label in np.asarray(labels).astype(str)], dtype=np.int64)


def simulate_weeks(
    test_labels: np.ndarray, classes: list[str], weeks: int, rng: np.random.Generator
) -> list[np.ndarray]:
    """Indices into the test fold, one array per week, with a Dirichlet(1) reason mix."""
    by_class = [np.flatnonzero(test_labels == c) for c in classes]
    drawn = []
    for _ in range(weeks):
        size = int(rng.integers(WEEK_SIZE[0], WEEK_SIZE[1] + 1))
        counts = rng.multinomial(size, rng.dirichlet(np.ones(len(classes))))
        parts = [rng.choice(pool, n) for pool, n in zip(by_class, counts, strict=True)]
        drawn.append(np.concatenate(parts))
    return drawn


def score_fold(
    confusion: np.ndarray,
    sampled: list[np.ndarray],
    true_codes: np.ndarray,
    predicted_codes: np.ndarray,
    keep: np.ndarray,
    n_classes: int,
    args: argparse.Namespace,
) -> dict[str, np.ndarray]:
    """Raw and corrected counts of the simulated weeks against their true counts."""
    truth = np.zeros((len(sampled), n_classes))
    observed = np.zeros((len(sampled), n_classes))
    for w, idx in enumerate(sampled):
        idx = idx[keep[idx]]
        truth[w] = np.bincount(true_codes[idx], minlength=n_classes)
        observed[w] = np.bincount(predicted_codes[idx], minlength=n_classes)
    result = quantify.estimate_volumes(
        confusion,
        observed,
        level=args.level,
        draws=args.draws,
        seed=args.seed,
        prior_examples=args.prior_examples,
    )
    return {
        "truth": truth,
        "raw": observed,
        "estimate": result.estimate,
        "no_prior": quantify.adjusted_counts(confusion, observed, prior_examples=0),
        "covered": (result.low <= truth) & (truth <= result.high),
        "width": result.high - result.low,
    }


def errors(truth, raw, acc, no_prior, covered, width) -> dict:
    mean_truth = truth.mean()
    return {
        "reasons": int(truth.shape[1]),
        "mean_true_count": round(float(mean_truth), 2),
        "mae_raw": round(float(raw.mean()), 3),
        "mae_acc": round(float(acc.mean()), 3),
        "mae_acc_no_prior": round(float(no_prior.mean()), 3),
        "relative_mae_raw": round(float(raw.mean() / mean_truth), 4),
        "relative_mae_acc": round(float(acc.mean() / mean_truth), 4),
        "relative_mae_acc_no_prior": round(float(no_prior.mean() / mean_truth), 4),
        "weeks_acc_better": round(float((acc.sum(axis=1) < raw.sum(axis=1)).mean()), 4),
        "coverage": round(float(covered.mean()), 4),
        "mean_interval_width": round(float(width.mean()), 2),
    }


def summarise(parts: list[dict[str, np.ndarray]], classes: list[str], small: np.ndarray) -> dict:
    truth = np.concatenate([p["truth"] for p in parts])
    raw = np.abs(np.concatenate([p["raw"] for p in parts]) - truth)
    acc = np.abs(np.concatenate([p["estimate"] for p in parts]) - truth)
    no_prior = np.abs(np.concatenate([p["no_prior"] for p in parts]) - truth)
    covered = np.concatenate([p["covered"] for p in parts])
    width = np.concatenate([p["width"] for p in parts])
    groups = {"all reasons": np.ones(len(classes), dtype=bool), "small": small, "large": ~small}
    return {
        "weeks": int(len(truth)),
        "contacts_per_week": round(float(truth.sum(axis=1).mean()), 1),
        "groups": {
            name: errors(
                truth[:, cols],
                raw[:, cols],
                acc[:, cols],
                no_prior[:, cols],
                covered[:, cols],
                width[:, cols],
            )
            for name, cols in groups.items()
            if cols.any()
        },
        "per_reason": {
            c: {
                "mean_true": round(float(truth[:, i].mean()), 2),
                "mae_raw": round(float(raw[:, i].mean()), 3),
                "mae_acc": round(float(acc[:, i].mean()), 3),
                "mae_acc_no_prior": round(float(no_prior[:, i].mean()), 3),
                "coverage": round(float(covered[:, i].mean()), 4),
            }
            for i, c in enumerate(classes)
        },
    }


def run_set(name: str, config: TrainConfig, lemmatizer: Lemmatizer, args) -> dict:
    data = load_set(name, folds=args.folds, seed=args.seed)
    labels = np.asarray(data.labels).astype(str)
    classes = sorted(set(labels))
    code = {c: i for i, c in enumerate(classes)}
    true_codes = np.array([code[y] for y in labels])
    folds = stratified_folds(labels, args.folds, args.seed)
    small = np.bincount(true_codes, minlength=len(classes)) < args.small
    started = time.perf_counter()
    outer = cross_validate(data.texts, labels, config, folds, lemmatizer)
    cv_s = time.perf_counter() - started
    predicted_codes = codes(outer["predicted"], code)
    covered = np.asarray(outer["covered"], dtype=bool)
    parts: dict[str, list] = {p: [] for p in POPULATIONS}
    nested_s = 0.0
    for k, (train_idx, test_idx) in enumerate(folds):
        if args.nested:
            started = time.perf_counter()
            inner = cross_validate(
                [data.texts[i] for i in train_idx],
                labels[train_idx],
                config,
                stratified_folds(labels[train_idx], args.folds, args.seed),
                lemmatizer,
            )
            nested_s += time.perf_counter() - started
            part_true = true_codes[train_idx]
            part_predicted = codes(inner["predicted"], code)
            part_covered = np.asarray(inner["covered"], dtype=bool)
        else:
            # the other folds' out-of-fold predictions: no test-fold example among them
            part_true = true_codes[train_idx]
            part_predicted = predicted_codes[train_idx]
            part_covered = covered[train_idx]
        rng = np.random.default_rng([args.seed, k])
        sampled = [test_idx[i] for i in simulate_weeks(labels[test_idx], classes, args.weeks, rng)]
        for population in POPULATIONS:
            keep_part = part_covered if population == "assigned" else np.ones_like(part_covered)
            confusion = quantify.confusion_counts(
                part_true[keep_part], part_predicted[keep_part], range(len(classes))
            )
            keep = covered if population == "assigned" else np.ones_like(covered)
            parts[population].append(
                score_fold(
                    confusion, sampled, true_codes, predicted_codes, keep, len(classes), args
                )
            )
    return {
        "examples": len(labels),
        "reasons": len(classes),
        "coverage_above_threshold": round(float(covered.mean()), 4),
        "macro_f1": outer["metrics"]["macro_f1"],
        "cv_s": round(cv_s, 1),
        "nested_cv_s": round(nested_s, 1) if args.nested else None,
        "small_reasons": [c for c, s in zip(classes, small, strict=True) if s],
        "populations": {p: summarise(parts[p], classes, small) for p in POPULATIONS},
    }


def speed(args) -> dict:
    """Seconds of ``estimate_volumes`` on 30 reasons x 100 weeks x ``--draws`` draws."""
    rng = np.random.default_rng(args.seed)
    k, weeks = 30, 100
    confusion = np.zeros((k, k), dtype=int)
    for i in range(k):
        row = rng.dirichlet(np.full(k, 0.1)) * 0.12
        row[i] += 0.88
        confusion[i] = rng.multinomial(int(rng.integers(40, 400)), row / row.sum())
    shares = rng.dirichlet(np.full(k, 0.8))
    observed = np.stack([rng.multinomial(2000, rng.dirichlet(shares * 50)) for _ in range(weeks)])
    started = time.perf_counter()
    result = quantify.estimate_volumes(confusion, observed, draws=args.draws, seed=args.seed)
    seconds = time.perf_counter() - started
    return {
        "reasons": k,
        "weeks": weeks,
        "draws": args.draws,
        "seconds": round(seconds, 2),
        "share_of_zero_estimates": round(float((result.estimate == 0).mean()), 3),
    }


def print_table(results: dict) -> None:
    header = (
        f"{'set':<15} {'population':<9} {'reasons':<17} {'true/wk':>7} {'MAE raw':>8} "
        f"{'MAE ACC':>8} {'no prior':>8} {'rel raw':>7} {'rel ACC':>7} {'ACC better':>10} "
        f"{'coverage':>8} {'width':>6}"
    )
    print(header)
    print("-" * len(header))
    for name, result in results["sets"].items():
        for population, s in result["populations"].items():
            for group, g in s["groups"].items():
                label = f"{group} ({g['reasons']})"
                print(
                    f"{name:<15} {population:<9} {label:<17} {g['mean_true_count']:>7.1f} "
                    f"{g['mae_raw']:>8.2f} {g['mae_acc']:>8.2f} {g['mae_acc_no_prior']:>8.2f} "
                    f"{g['relative_mae_raw']:>7.1%} {g['relative_mae_acc']:>7.1%} "
                    f"{g['weeks_acc_better']:>10.1%} {g['coverage']:>8.1%} "
                    f"{g['mean_interval_width']:>6.1f}"
                )
    settings = results["settings"]
    print(
        f"\nMAE: mean absolute error per reason and week; rel: over the mean true count; "
        f"'ACC better': weeks whose summed error ACC lowers; coverage of the "
        f"{settings['level']:.0%} interval; small: fewer than {settings['small']} labelled "
        f"examples; prior: {settings['prior_examples']} examples"
    )
    speed_ = results["speed"]
    print(
        f"estimate_volumes: {speed_['reasons']} reasons x {speed_['weeks']} weeks x "
        f"{speed_['draws']} draws in {speed_['seconds']} s"
    )


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sets", nargs="+", default=list(DEFAULT_SETS))
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--weeks", type=int, default=200, help="simulated weeks per test fold")
    parser.add_argument("--draws", type=int, default=quantify.DEFAULT_DRAWS)
    parser.add_argument("--level", type=float, default=quantify.DEFAULT_LEVEL)
    parser.add_argument("--prior-examples", type=float, default=quantify.PRIOR_EXAMPLES)
    parser.add_argument(
        "--small", type=int, default=50, help="reasons with fewer labelled examples are 'small'"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--nested",
        action="store_true",
        help="confusion from an inner CV of each training part (slower)",
    )
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "quantification.json")
    args = parser.parse_args(argv)
    config = load_section(ROOT / "params.yaml", "train", TrainConfig)
    lemmatizer = Lemmatizer()
    results = {
        "date": date.today().isoformat(),
        "settings": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "train_config": config.model_dump(mode="json"),
        "speed": speed(args),
        "sets": {},
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    for name in args.sets:
        print(f"{name}: cross-validating…", file=sys.stderr, flush=True)
        results["sets"][name] = run_set(name, config, lemmatizer, args)
        args.out.write_text(json.dumps(results, ensure_ascii=False, indent=2) + "\n", "utf-8")
    print_table(results)
    print(f"\nwritten {args.out}")
    return results


if __name__ == "__main__":
    main()
