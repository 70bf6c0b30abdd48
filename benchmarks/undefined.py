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

from pipeline.model import as_fit_score
from pipeline.text import Lemmatizer
from pipeline.train import TrainConfig, model_inputs

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
        decision = pipe.decision_function(inputs.iloc[test]).reshape(len(test), -1)
        undefined = as_fit_score(decision) < model.threshold_
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
