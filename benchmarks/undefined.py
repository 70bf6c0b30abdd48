"""Does «Не определено» mean "fits no reason"? Reasons held out of training, on a real set.

For each outer fold k a fifth of the labels (a seeded permutation of the labels cut in five, so
each label is held out exactly once) is removed from the training part; the pipeline's classifier
(``TrainConfig.build_pipeline``, as ``train`` fits it) learns the other labels, and on the whole
test part we count the contacts it sends to «Не определено» (best decision below its fit cut):

* ``known``: share among contacts of labels it was trained on (should stay near
  ``train.undefined_share``);
* ``held_out``: share among contacts of the labels it never saw (out of the taxonomy).

The goal is ``held_out >= 3 × known``: the reserved reason collects what fits no reason, not
what the model is merely unsure about.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from pipeline.model.reason_model import decide
from pipeline.model.training import TrainConfig, model_inputs
from pipeline.text import Lemmatizer

HELD_OUT_GROUPS = 5


def held_out_groups(labels: np.ndarray, groups: int, seed: int) -> list[np.ndarray]:
    names = np.unique(labels)
    return np.array_split(np.random.default_rng(seed).permutation(names), groups)


def held_out_reasons(
    texts: Sequence[str],
    labels: np.ndarray,
    folds: list[tuple[np.ndarray, np.ndarray]],
    config: TrainConfig,
    seed: int = 0,
) -> dict:
    inputs = model_inputs(list(texts), Lemmatizer())
    groups = held_out_groups(labels, len(folds), seed)
    known_hits = known_total = novel_hits = novel_total = 0
    per_fold = []
    for (train, test), held in zip(folds, groups, strict=True):
        keep = train[~np.isin(labels[train], held)]
        pipe = config.build_pipeline().fit(inputs.iloc[keep], labels[keep])
        model = pipe.named_steps["model"]
        undefined = decide(pipe, inputs.iloc[test])[1] < model.threshold_
        novel = np.isin(labels[test], held)
        per_fold.append(
            {
                "held_out_labels": [str(h) for h in held],
                "known_undefined": round(float(undefined[~novel].mean()), 4),
                "held_out_undefined": round(float(undefined[novel].mean()), 4),
            }
        )
        known_hits += int(undefined[~novel].sum())
        known_total += int((~novel).sum())
        novel_hits += int(undefined[novel].sum())
        novel_total += int(novel.sum())
    known = known_hits / known_total
    novel = novel_hits / novel_total
    return {
        "known_undefined_share": round(known, 4),
        "held_out_undefined_share": round(novel, 4),
        "ratio": round(novel / known, 2) if known else None,
        "goal_ratio_3x": bool(novel >= 3 * known),
        "known_contacts": known_total,
        "held_out_contacts": novel_total,
        "folds": per_fold,
        "undefined_share_param": config.undefined_share,
    }


def main(argv: list[str] | None = None) -> int:
    import argparse
    import json
    import sys
    from pathlib import Path

    from realsets import SHARED_DATA, available, load_set

    from pipeline.config import load_section
    from pipeline.tools.evaluate import stratified_folds

    root = Path(__file__).resolve().parents[1]
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-root", type=Path, default=SHARED_DATA)
    parser.add_argument("--sets", nargs="*", default=None, help="default: every available set")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    names = args.sets or available(args.data_root)
    if not names:
        print(f"{args.data_root}: no real labelled sets found", file=sys.stderr)
        return 2
    config = load_section(root / "params.yaml", "train", TrainConfig)
    report = {}
    for name in names:
        loaded = load_set(name, args.data_root, seed=args.seed)
        folds = stratified_folds(loaded.labels, HELD_OUT_GROUPS, args.seed)
        report[name] = held_out_reasons(loaded.texts, loaded.labels, folds, config, args.seed)
        r = report[name]
        print(
            f"{name}: «Не определено» — known reasons {r['known_undefined_share']:.1%}, "
            f"held-out reasons {r['held_out_undefined_share']:.1%} (×{r['ratio']}; goal ×3: "
            f"{'met' if r['goal_ratio_3x'] else 'NOT met'})",
            flush=True,
        )
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", "utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
