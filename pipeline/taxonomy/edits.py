"""Reason changes: rename, merge and retire a reason in reasons.yaml and migrate its labels.

Edits are pure functions from (reasons.yaml text, label files) to a ``Change``; nothing is
written until ``apply_change``. A changed reason is never deleted: it stays with ``retired:
<date>`` and ``replaced_by``, so ``Taxonomy.successor`` maps its history forward and reports stay
continuous. The result is validated with the taxonomy schema (and the labels against it) before
it is returned; ``change_diff`` shows it for ``--dry-run``. Splitting a reason is in ``split``.
"""

from __future__ import annotations

import copy
import difflib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pandas as pd
import yaml
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import DoubleQuotedScalarString

from pipeline.io import outputs
from pipeline.taxonomy.labels import (
    TO_LABEL_COLUMNS,
    LabelError,
    label_file_text,
    labels_table,
    validate_labels,
)
from pipeline.taxonomy.schema import (
    MaintenanceError,
    Taxonomy,
    TaxonomyError,
    validate_taxonomy,
)
from pipeline.taxonomy.yamlio import (
    bump_version,
    dump_document,
    folded,
    parse_document,
    set_plain,
)

# Colours for new reasons (matplotlib tab20b + tab20c); the first one no reason uses is taken.
NEW_REASON_COLOURS = tuple(
    "#393b79 #5254a3 #6b6ecf #9c9ede #637939 #8ca252 #b5cf6b #cedb9c #8c6d31 #bd9e39 #e7ba52 "
    "#e7cb94 #843c39 #ad494a #d6616b #e7969c #7b4173 #a55194 #ce6dbd #de9ed6 #3182bd #6baed6 "
    "#9ecae1 #c6dbef #e6550d #fd8d3c #fdae6b #fdd0a2 #31a354 #74c476 #a1d99b #c7e9c0 #756bb1 "
    "#9e9ac8 #bcbddc #dadaeb #636363 #969696 #d9d9d9".split()
)


@dataclass(frozen=True)
class Change:
    """A proposed taxonomy change: the new reasons.yaml and label files, and what to tell."""

    action: str
    reasons_text: str
    label_files: dict[str, pd.DataFrame]
    notes: tuple[str, ...] = ()
    # labels no rule could re-assign (split): text, reason_id (empty), source, candidates, why
    to_label: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=TO_LABEL_COLUMNS))


class ReasonsEdit:
    """One edit of the parsed reasons.yaml; methods mutate the private copy only."""

    def __init__(self, reasons_text: str, where: str) -> None:
        self.where = where
        self.before = _checked(yaml.safe_load(reasons_text), where)
        self.document = parse_document(reasons_text)
        self.reasons: CommentedSeq = self.document["reasons"]
        self.notes: list[str] = []

    def entry(self, reason_id: str) -> CommentedMap:
        return next(r for r in self.reasons if r["id"] == reason_id)

    def require_active(self, reason_id: str, role: str = "меняемая причина") -> None:
        reason = self.before.by_id.get(reason_id)
        if reason is None:
            raise MaintenanceError(
                f"{self.where}: нет причины '{reason_id}' ({role}); действующие причины: "
                + ", ".join(self.before.classes)
            )
        if reason.reserved:
            raise MaintenanceError(
                f"{self.where}: '{reason_id}' зарезервирована (не определено) и не меняется"
            )
        if not reason.active:
            raise MaintenanceError(
                f"{self.where}: причина '{reason_id}' ({role}) уже выведена {reason.retired}, "
                f"её преемник {reason.replaced_by}; укажите действующую причину"
            )

    def require_new(self, reason_id: str) -> None:
        if reason_id in self.before.by_id:
            state = "выведена" if not self.before.by_id[reason_id].active else "действующая"
            raise MaintenanceError(
                f"{self.where}: id '{reason_id}' уже занят ({state} причина); id не "
                "переиспользуются, чтобы история не смешивалась — выберите другой"
            )

    def pin_defaults(self) -> None:
        """Write out defaulted order and colour (position in the file), so moving or inserting
        a reason does not renumber or recolour the others."""
        for entry in self.reasons:
            reason = self.before.by_id.get(entry["id"])
            if reason is None:
                continue
            if "order" not in entry:
                entry["order"] = reason.order
            if "colour" not in entry:
                entry["colour"] = DoubleQuotedScalarString(reason.colour)

    def add_after(self, anchor_id: str, entry: CommentedMap) -> None:
        self.pin_defaults()
        index = next(i for i, r in enumerate(self.reasons) if r["id"] == anchor_id)
        self.reasons.insert(index + 1, entry)

    def copy_as(self, source_id: str, new_id: str, title: str | None) -> CommentedMap:
        self.pin_defaults()
        entry = copy.deepcopy(self.entry(source_id))
        entry["id"] = new_id
        if title:
            set_plain(entry, "title", title)
        for key in ("retired", "replaced_by"):
            entry.pop(key, None)
        return entry

    def retire(self, reason_id: str, successor: str, when: date) -> None:
        """Mark retired and move to the end (history section); re-point whoever pointed at it."""
        self.pin_defaults()
        entry = self.entry(reason_id)
        entry["retired"] = when
        entry["replaced_by"] = successor
        self.reasons.remove(entry)
        self.reasons.append(entry)
        for other in self.reasons:
            if other.get("replaced_by") == reason_id and other is not entry:
                other["replaced_by"] = successor
                self.notes.append(
                    f"{other['id']}: преемник {reason_id} → {successor} "
                    "(цепочка истории продолжается)"
                )

    def free_order(self) -> int:
        self.pin_defaults()
        used = {r["order"] for r in self.reasons if "retired" not in r}
        reserved = {r["order"] for r in self.reasons if r.get("reserved")}
        order = max(used - reserved, default=0) + 1
        while order in used:
            order += 1
        return order

    def free_colour(self) -> DoubleQuotedScalarString:
        self.pin_defaults()
        used = {str(r["colour"]).lower() for r in self.reasons}
        colour = next((c for c in NEW_REASON_COLOURS if c not in used), None)
        if colour is None:
            raise MaintenanceError(
                "все цвета палитры заняты; задайте colour новой причины в reasons.yaml вручную"
            )
        return DoubleQuotedScalarString(colour)

    def mentions(self, reason_id: str) -> list[str]:
        pattern = re.compile(rf"\b{re.escape(reason_id)}\b")
        return [
            str(r["id"])
            for r in self.reasons
            if r["id"] != reason_id
            and "retired" not in r
            and pattern.search(str(r.get("definition", "")))
        ]

    def note_mentions(self, reason_id: str, but: str | None = None) -> None:
        """Definitions naming a reason that is gone: the maintainer rewrites them."""
        for other in self.mentions(reason_id):
            if other != but:
                self.notes.append(
                    f"{other}: определение упоминает {reason_id} — поправьте вручную"
                )

    def finish_with_labels(
        self, label_files: Mapping[str, pd.DataFrame]
    ) -> tuple[str, dict[str, pd.DataFrame], int]:
        """The new reasons.yaml, the labels moved to the ids that now carry their meaning."""
        text, after = self.finish()
        files, moved = migrate_labels(label_files, self.before, after)
        checked_labels(files, after)
        return text, files, moved

    def finish(self) -> tuple[str, Taxonomy]:
        version = self.document.get("version")
        if version is not None:
            bumped = bump_version(version)
            self.document["version"] = DoubleQuotedScalarString(bumped)
            if bumped != str(version):
                self.notes.append(f"version: {version} → {bumped}")
        text = dump_document(self.document)
        try:
            after = validate_taxonomy(yaml.safe_load(text), self.where)
        except TaxonomyError as exc:
            raise MaintenanceError(
                f"изменение отклонено, таксономия стала бы неверной:\n{exc}"
            ) from exc
        return text, after


def _checked(raw: object, where: str) -> Taxonomy:
    try:
        return validate_taxonomy(raw, where)
    except TaxonomyError as exc:
        raise MaintenanceError(f"исправьте таксономию до изменений:\n{exc}") from exc


def migrate_labels(
    files: Mapping[str, pd.DataFrame], before: Taxonomy, after: Taxonomy
) -> tuple[dict[str, pd.DataFrame], int]:
    """Rewrite label ids whose meaning the change moved (successor before != after)."""
    moved = 0
    out = {}
    for name, frame in files.items():
        ids = frame["reason_id"].fillna("").str.strip()
        new = ids.map(
            lambda rid: (
                after.successor(rid)
                if rid in after.by_id and before.successor(rid) != after.successor(rid)
                else rid
            )
        )
        moved += int((new != ids).sum())
        out[name] = frame.assign(reason_id=new.where(new != ids, frame["reason_id"]))
    return out, moved


def checked_labels(files: Mapping[str, pd.DataFrame], taxonomy: Taxonomy) -> None:
    try:
        validate_labels(labels_table(files), taxonomy)
    except LabelError as exc:
        raise MaintenanceError(f"изменение отклонено, разметка стала бы неверной:\n{exc}") from exc


def label_counts(files: Mapping[str, pd.DataFrame], ids: Iterable[str]) -> str:
    counts = labels_table(files)["reason_id"].value_counts()
    return ", ".join(f"{rid} {int(counts.get(rid, 0))}" for rid in ids)


def rename_reason(
    reasons_text: str,
    label_files: Mapping[str, pd.DataFrame],
    old: str,
    new: str,
    *,
    title: str | None = None,
    when: date,
    where: str = "reasons.yaml",
) -> Change:
    """``old`` becomes ``new``: a copy in its place, ``old`` retired with replaced_by ``new``."""
    edit = ReasonsEdit(reasons_text, where)
    edit.require_active(old)
    edit.require_new(new)
    edit.add_after(old, edit.copy_as(old, new, title))
    edit.retire(old, new, when)
    pattern = re.compile(rf"\b{re.escape(old)}\b")
    for other in edit.mentions(old):
        entry = edit.entry(other)
        entry["definition"] = folded(pattern.sub(new, str(entry["definition"])))
        edit.notes.append(f"{other}: в определении {old} → {new}")
    text, files, moved = edit.finish_with_labels(label_files)
    notes = [
        f"{old} → {new}" + (f" «{title}»" if title else ""),
        f"{old} остаётся в истории: retired {when}, replaced_by {new}",
        f"меток перенесено: {moved}",
        *edit.notes,
    ]
    return Change("rename", text, files, tuple(notes))


def retire_reason(
    reasons_text: str,
    label_files: Mapping[str, pd.DataFrame],
    reason_id: str,
    replaced_by: str,
    *,
    when: date,
    where: str = "reasons.yaml",
) -> Change:
    """``reason_id`` is no longer used; its history and labels go to ``replaced_by``."""
    edit = ReasonsEdit(reasons_text, where)
    edit.require_active(reason_id)
    if replaced_by == reason_id:
        raise MaintenanceError(f"retire: причина не может заменять сама себя ('{reason_id}')")
    edit.require_active(replaced_by, role="преемник")
    edit.retire(reason_id, replaced_by, when)
    edit.note_mentions(reason_id)
    text, files, moved = edit.finish_with_labels(label_files)
    notes = [
        f"{reason_id} выведена {when}, история и метки → {replaced_by}",
        f"меток перенесено: {moved}",
        *edit.notes,
    ]
    return Change("retire", text, files, tuple(notes))


def change_diff(
    reasons_text: str,
    label_files: Mapping[str, pd.DataFrame],
    change: Change,
    reasons_name: str = "taxonomy/reasons.yaml",
    labels_name: str = "taxonomy/labels",
) -> str:
    """Unified diff of reasons.yaml and every label file the change touches."""
    parts = [_diff(reasons_text, change.reasons_text, reasons_name)]
    for name, frame in change.label_files.items():
        before = label_file_text(label_files[name]) if name in label_files else ""
        parts.append(_diff(before, label_file_text(frame), f"{labels_name}/{name}"))
    return "".join(parts)


def _diff(before: str, after: str, name: str) -> str:
    return "".join(
        difflib.unified_diff(before.splitlines(True), after.splitlines(True), name, name, n=2)
    )


def apply_change(
    change: Change, reasons_path: Path, labels_dir: Path, label_files: Mapping[str, pd.DataFrame]
) -> list[Path]:
    """Write reasons.yaml and the label files that changed, together: every file goes to a
    temporary file first and all are renamed only when all are written, so a failure leaves
    the taxonomy and its labels as they were. Returns what was written."""
    written = []
    with outputs.OutputSet() as files:
        for name, frame in change.label_files.items():
            text = label_file_text(frame)
            if name not in label_files or label_file_text(label_files[name]) != text:
                written.append(files.write(Path(labels_dir) / name, outputs.text(text)))
        files.write(Path(reasons_path), outputs.text(change.reasons_text))
    return [Path(reasons_path), *written]
