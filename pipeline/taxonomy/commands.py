"""``python -m pipeline taxonomy <action>``: one handler per action (argparse is in ``cli.py``).

Each handler turns the arguments into a call of the module that does the work and prints its
result; options not given take that module's defaults.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from dataclasses import asdict
from datetime import date
from pathlib import Path

from pipeline.io import outputs
from pipeline.io.cells import guard_frame
from pipeline.taxonomy import health, labelling
from pipeline.taxonomy.edits import Change, apply_change, change_diff, rename_reason, retire_reason
from pipeline.taxonomy.label_import import import_labels
from pipeline.taxonomy.labels import read_label_folder
from pipeline.taxonomy.merge import merge_reasons
from pipeline.taxonomy.schema import MaintenanceError, load_taxonomy
from pipeline.taxonomy.split import (
    parse_keyword_options,
    parse_title_options,
    rules_from_file,
    rules_from_keywords,
    split_reason,
)
from pipeline.taxonomy.yamlio import write_atomic
from pipeline.text import Lemmatizer


def _given(value, default):
    """A command-line value, or the module's default when the option was not given."""
    return default if value is None else value


def export_labeling_cli(args: argparse.Namespace) -> None:
    labelling.export_labeling(
        args.warehouse,
        args.out,
        args.taxonomy,
        args.labels,
        args.classified,
        n=_given(args.n, labelling.DEFAULT_LABELING_SIZE),
        weeks=_given(args.weeks, labelling.DEFAULT_LABELING_WEEKS),
        margin=_given(args.margin, labelling.DISAGREEMENT_MARGIN),
    )


def import_labels_cli(args: argparse.Namespace) -> None:
    import_labels(
        args.file,
        args.out,
        args.taxonomy,
        args.labels,
        args.source,
        args.allow_conflicts,
        args.text_column,
        args.label_column,
    )


def health_cli(args: argparse.Namespace) -> None:
    report = health.health(
        args.taxonomy,
        args.labels,
        args.metrics,
        args.confusion,
        args.warehouse,
        args.params,
        Lemmatizer(),
        date.today(),
        similarity=_given(args.similarity, health.NEAR_DUPLICATE_SIMILARITY),
        confusion_rate=_given(args.confusion_rate, health.CONFUSION_RATE),
    )
    print(health.render_health(report, load_taxonomy(args.taxonomy)))
    if args.out:
        write_atomic(
            Path(args.out), json.dumps(asdict(report), ensure_ascii=False, indent=2) + "\n"
        )


# --- reason changes: the same shell around a different edit --------------------------------------


class _EditInputs:
    """reasons.yaml text, the label files and the date of an edit command."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.reasons_path, self.labels_dir = Path(args.taxonomy), Path(args.labels)
        try:
            self.reasons_text = self.reasons_path.read_text(encoding="utf-8")
        except OSError as exc:
            raise MaintenanceError(
                f"{self.reasons_path}: не удалось прочитать ({exc.strerror})"
            ) from exc
        self.files = read_label_folder(self.labels_dir) if self.labels_dir.exists() else {}
        try:
            self.when = date.fromisoformat(args.date) if args.date else date.today()
        except ValueError as exc:
            raise MaintenanceError(f"--date {args.date!r}: ожидается дата ГГГГ-ММ-ДД") from exc
        self.where = str(self.reasons_path)


def rename_cli(args: argparse.Namespace) -> None:
    _edit_cli(args, rename_reason, args.old, args.new, title=args.title)


def merge_cli(args: argparse.Namespace) -> None:
    _edit_cli(args, merge_reasons, args.reasons, args.into, title=args.title)


def retire_cli(args: argparse.Namespace) -> None:
    _edit_cli(args, retire_reason, args.reason, args.replaced_by)


def split_cli(args: argparse.Namespace) -> None:
    inputs = _EditInputs(args)
    if bool(args.rules) == bool(args.keyword):
        raise MaintenanceError("split: укажите либо --rules ФАЙЛ, либо --keyword ID=слова")
    rule = (
        rules_from_file(args.rules)
        if args.rules
        else rules_from_keywords(parse_keyword_options(args.keyword), Lemmatizer())
    )
    titles = parse_title_options(args.title or [])
    _edit_cli(args, split_reason, args.reason, args.into, rule, titles=titles, inputs=inputs)


def _edit_cli(
    args: argparse.Namespace,
    edit: Callable[..., Change],
    *arguments,
    inputs: _EditInputs | None = None,
    **options,
) -> None:
    """Run one edit on the current files, then print (--dry-run) or write its change."""
    inputs = inputs or _EditInputs(args)
    change = edit(
        inputs.reasons_text,
        inputs.files,
        *arguments,
        when=inputs.when,
        where=inputs.where,
        **options,
    )
    _finish_edit(args, inputs, change)


def _finish_edit(args: argparse.Namespace, edit: _EditInputs, change: Change) -> None:
    """Print the change; with --dry-run its diff, otherwise write it."""
    print(f"{change.action}:")
    for note in change.notes:
        print(f"  {note}")
    if args.dry_run:
        print(
            change_diff(
                edit.reasons_text, edit.files, change, str(edit.reasons_path), str(edit.labels_dir)
            )
        )
        if len(change.to_label):
            print(f"к ручной разметке ({len(change.to_label)}):")
            for row in change.to_label.itertuples():
                print(f"  {row.text[:100]}  — {row.why}")
        print("(--dry-run: ничего не записано)")
        return
    written = apply_change(change, edit.reasons_path, edit.labels_dir, edit.files)
    if len(change.to_label):
        target = Path(args.unmatched or f"build/labeling/split_{args.reason}.csv")
        outputs.write(target, outputs.csv(guard_frame(change.to_label), encoding="utf-8-sig"))
        print(
            f"  к ручной разметке: {target} — заполните reason_id и загрузите: "
            f"python -m pipeline taxonomy import-labels {target} --out "
            f"{edit.labels_dir}/<файл>.csv"
        )
    print("записано: " + ", ".join(str(p) for p in written))
    print("дальше: dvc repro (модель переобучится на новой таксономии)")
