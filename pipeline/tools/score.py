"""Score classified contacts against a file of true reasons (the demo generator's answers).

Not a DVC stage: a real deployment has no answer file. ``make demo`` runs it after ``dvc repro``
so the demo shows how well the classifier generalises from the labelled examples to contacts it
has never seen.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import pandas as pd
from sklearn.metrics import accuracy_score, f1_score

from pipeline.io import outputs
from pipeline.io.inputs import require
from pipeline.io.partitions import read_dataset

logger = logging.getLogger(__name__)


def score_against_answers(
    classified: pd.DataFrame, answers: pd.DataFrame, undefined_reason: str
) -> dict:
    """Macro-F1 and coverage over contacts with text whose true reason is in the taxonomy.

    Contacts whose true reason is outside the taxonomy (the generator's emerging topic and
    off-topic texts) are reported separately: the share of them the model left undefined.
    """
    merged = classified.merge(
        answers[["contact_id", "reason_id"]].rename(columns={"reason_id": "true_reason"}),
        on="contact_id",
        how="inner",
    )
    texted = merged[merged["status"] != "no_text"]
    known = texted[texted["true_reason"] != undefined_reason]
    outside = texted[texted["true_reason"] == undefined_reason]
    covered = known["status"] == "classified"
    top = known["top_reason_id"].astype(str)
    return {
        "contacts_scored": int(len(known)),
        "macro_f1": round(
            float(
                f1_score(
                    known["true_reason"],
                    known["reason_id"].astype(str),
                    average="macro",
                    zero_division=0,
                )
            ),
            4,
        ),
        "macro_f1_top_reason": round(
            float(f1_score(known["true_reason"], top, average="macro", zero_division=0)), 4
        ),
        "accuracy_top_reason": round(float(accuracy_score(known["true_reason"], top)), 4),
        "coverage": round(float(covered.mean()), 4),
        "precision_covered": round(
            float((known.loc[covered, "reason_id"] == known.loc[covered, "true_reason"]).mean()), 4
        ),
        "outside_taxonomy": int(len(outside)),
        "outside_taxonomy_left_undefined": round(
            float((outside["reason_id"] == undefined_reason).mean()), 4
        )
        if len(outside)
        else None,
        "no_text_contacts": int((merged["status"] == "no_text").sum()),
    }


def main(classified_path: Path, answers_path: Path, taxonomy_path: Path, out_path: Path) -> dict:
    from pipeline.taxonomy.schema import load_taxonomy

    taxonomy = load_taxonomy(taxonomy_path)
    classified = read_dataset(classified_path, "classify")
    answers = pd.read_csv(require(answers_path))
    result = score_against_answers(classified, answers, taxonomy.undefined_reason)
    outputs.write(out_path, outputs.json_text(result))
    print(
        f"Демо: macro-F1 {result['macro_f1_top_reason']:.3f} (по главной причине), "
        f"покрытие {result['coverage']:.1%}, точность среди получивших причину "
        f"{result['precision_covered']:.1%} на {result['contacts_scored']} контактах"
    )
    return result


def cli(args: argparse.Namespace) -> None:
    main(args.classified, args.answers, args.taxonomy, args.out)
