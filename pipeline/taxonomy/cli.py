"""Arguments of ``python -m pipeline taxonomy <action>`` (check, labelling, edits, health)."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_parser(sub, help_text: str, command) -> None:
    """``taxonomy <action>``; ``command(module, function)`` makes a lazy handler."""
    p = sub.add_parser("taxonomy", help=help_text)
    action = p.add_subparsers(dest="action", required=True, metavar="action")
    check = action.add_parser("check", help="validate the reason list and print a summary")
    check.add_argument("--taxonomy", type=Path, default=Path("taxonomy/reasons.yaml"))
    check.set_defaults(func=command("pipeline.taxonomy.schema", "check_cli"))

    def add(name: str, help_text: str) -> argparse.ArgumentParser:
        """An action handled by ``pipeline.taxonomy.commands.<action>_cli``."""
        p = action.add_parser(name, help=help_text)
        handler = name.replace("-", "_") + "_cli"
        p.set_defaults(func=command("pipeline.taxonomy.commands", handler))
        p.add_argument("--taxonomy", type=Path, default=Path("taxonomy/reasons.yaml"))
        p.add_argument("--labels", type=Path, default=Path("taxonomy/labels"))
        return p

    _add_labelling(add)
    _add_health(add)
    _add_edits(add)


def _add_labelling(add) -> None:
    p = add("export-labeling", "contacts worth labelling: CSV + Label Studio tasks and config")
    p.add_argument("--warehouse", type=Path, default=Path("data/warehouse.duckdb"))
    p.add_argument(
        "--classified",
        type=Path,
        default=Path("data/processed/classified"),
        help="for the runner-up confidence (model disagreement)",
    )
    p.add_argument("--out", type=Path, required=True, help="folder to write")
    p.add_argument("--n", type=int, default=None, help="how many contacts (default 200)")
    p.add_argument(
        "--weeks", type=int, default=None, help="latest ISO weeks to pick from (default 4)"
    )
    p.add_argument(
        "--margin",
        type=float,
        default=None,
        help="why says «модель колеблется» when top minus runner-up confidence is below this "
        "(default 0.1); the order itself is by that margin (pipeline/taxonomy/selection.py)",
    )
    p = add(
        "import-labels",
        "labelled file (our CSV, Label Studio JSON, or any CSV/XLSX/JSONL whose text and label "
        "columns are found by name: текст/причина/категория..., or named by --text-column and "
        "--label-column) -> taxonomy/labels",
    )
    p.add_argument("file", type=Path)
    p.add_argument("--text-column", default=None, help="column with the contact text")
    p.add_argument("--label-column", default=None, help="column with the reason id or its title")
    p.add_argument("--out", type=Path, required=True, help="taxonomy/labels/<name>.csv")
    p.add_argument("--source", choices=("client", "agent"), help="for rows without a source")
    p.add_argument(
        "--allow-conflicts",
        action="store_true",
        help="write the other rows even if some conflict with existing labels",
    )


def _add_health(add) -> None:
    p = add("health", "share of 'не определено', thin, similar, confused reasons, no target")
    p.add_argument("--metrics", type=Path, default=Path("reports/metrics/model.json"))
    p.add_argument("--confusion", type=Path, default=Path("reports/plots/confusion.csv"))
    p.add_argument("--warehouse", type=Path, default=Path("data/warehouse.duckdb"))
    p.add_argument(
        "--similarity",
        type=float,
        default=None,
        help="TF-IDF cosine of two definitions counted as near-identical (0.5)",
    )
    p.add_argument(
        "--confusion-rate",
        type=float,
        default=None,
        help="share of a pair's examples mixed up either way (0.05)",
    )
    p.add_argument("--out", type=Path, default=None, help="also write the summary as JSON")


def _add_edits(add) -> None:
    edits = {
        "rename": "give a reason a new id (the old one stays in history)",
        "merge": "merge reasons into one of them or a new id",
        "split": "split a reason; its labels are re-assigned by rules",
        "retire": "retire a reason; its history and labels go to its successor",
    }
    for name, help_text in edits.items():
        p = add(name, help_text)
        p.add_argument("--dry-run", action="store_true", help="print the diff, write nothing")
        p.add_argument("--date", default=None, help="retired: date (default today)")
        if name == "rename":
            p.add_argument("old")
            p.add_argument("new")
            p.add_argument("--title", default=None)
        elif name == "merge":
            p.add_argument("reasons", nargs="+")
            p.add_argument("--into", required=True, help="one of the reasons or a new id")
            p.add_argument("--title", default=None)
        elif name == "split":
            p.add_argument("reason")
            p.add_argument(
                "--into",
                nargs="+",
                required=True,
                help="new ids; the first continues the weekly history",
            )
            p.add_argument("--rules", type=Path, default=None, help="CSV text,reason_id")
            p.add_argument(
                "--keyword",
                action="append",
                default=[],
                help="ID=слово1,слово2 (lemmas; 'досрочн*' matches a prefix)",
            )
            p.add_argument("--title", action="append", default=[], help="ID=Название")
            p.add_argument(
                "--unmatched",
                type=Path,
                default=None,
                help="labels no rule matched (default build/labeling/split_<id>.csv)",
            )
        else:
            p.add_argument("reason")
            p.add_argument("--replaced-by", required=True)
