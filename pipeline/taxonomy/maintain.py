"""Taxonomy maintenance: labelling round trips, reason changes with history, a health summary.

``python -m pipeline taxonomy <action>``:

* ``export-labeling`` picks contacts worth labelling from the warehouse (below the confidence
  threshold, the model torn between two reasons, lowest confidence) and writes them as a CSV and
  as Label Studio tasks with the taxonomy as the labelling config;
* ``import-labels`` reads either back, validates reason ids, skips duplicates of existing labels
  and refuses conflicting ones, and writes ``text,reason_id,source`` into ``taxonomy/labels/``;
* ``rename``, ``merge``, ``split`` and ``retire`` edit ``reasons.yaml`` (comments and order kept)
  and migrate the labels in one step. A changed reason is never deleted: it stays with
  ``retired: <date>`` and ``replaced_by``, so ``Taxonomy.successor`` maps its history forward
  and reports stay continuous (``map_history`` re-keys weekly facts the same way);
* ``health`` summarises what needs the maintainer's attention.

Edits are pure functions from (reasons.yaml text, label files) to a ``Change``; the command
validates the result with the taxonomy schema before anything is written and prints the diff.
"""

from __future__ import annotations

import copy
import csv
import difflib
import io
import json
import logging
import re
import textwrap
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import DoubleQuotedScalarString, FoldedScalarString

from pipeline import sql
from pipeline.config import ConfigError
from pipeline.ingest import fold_name
from pipeline.taxonomy.labels import LABEL_COLUMNS, SOURCES, LabelError, validate_labels
from pipeline.taxonomy.schema import Taxonomy, TaxonomyError, load_taxonomy, validate_taxonomy
from pipeline.text import Lemmatizer

logger = logging.getLogger(__name__)

# --- labelling -----------------------------------------------------------------------------------

DEFAULT_LABELING_SIZE = 200
DEFAULT_LABELING_WEEKS = 4
# "torn between two reasons": top and runner-up confidence closer than this
DISAGREEMENT_MARGIN = 0.10
# Label Studio control and object tag names; predictions and exports refer to them
LS_CHOICES = "reason"
LS_TEXT = "text"
SOURCE_OF_KIND = {"call": "agent", "complaint": "client"}  # agent notes vs client's own words
WHY = {
    "below_threshold": "не определено: ни одна причина не подходит (уверенность {confidence:.2f})",
    "disagreement": "модель колеблется: {reason_id} {confidence:.2f} / "
    "{runner_up_id} {runner_up_confidence:.2f}",
    "low_confidence": "низкая уверенность: {confidence:.2f}",
}
TO_LABEL_COLUMNS = (
    "contact_id",
    "text",
    "suggested_reason_id",
    "suggested_title",
    "confidence",
    "runner_up_id",
    "why",
    "reason_id",
    "source",
)

# --- reason changes ------------------------------------------------------------------------------

# Colours for new reasons (matplotlib tab20b + tab20c); the first one no reason uses is taken.
NEW_REASON_COLOURS = tuple(
    "#393b79 #5254a3 #6b6ecf #9c9ede #637939 #8ca252 #b5cf6b #cedb9c #8c6d31 #bd9e39 #e7ba52 "
    "#e7cb94 #843c39 #ad494a #d6616b #e7969c #7b4173 #a55194 #ce6dbd #de9ed6 #3182bd #6baed6 "
    "#9ecae1 #c6dbef #e6550d #fd8d3c #fdae6b #fdd0a2 #31a354 #74c476 #a1d99b #c7e9c0 #756bb1 "
    "#9e9ac8 #bcbddc #dadaeb #636363 #969696 #d9d9d9".split()
)
DEFINITION_WIDTH = 92  # folded definitions are wrapped like the hand-written ones
# per-week constants in weekly facts: the same for every reason row, not summed on re-keying
WEEK_CONSTANT_COLUMNS = ("customers",)

# --- health --------------------------------------------------------------------------------------

NEAR_DUPLICATE_SIMILARITY = 0.5  # TF-IDF cosine of two reasons' lemmatised descriptions
CONFUSION_RATE = 0.05  # (a->b + b->a) / (support a + support b), out of fold
QUIET_WEEKS = 13
_EXCLUSIONS = re.compile(r"не включает\s*:.*", re.IGNORECASE | re.DOTALL)
_REASON_ID = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")


class MaintenanceError(ConfigError):
    """A maintenance command cannot do what was asked; the message says why and what to do."""


def text_key(text: str) -> str:
    """The key labels are compared by (as in ``taxonomy.labels``): case and spacing ignored."""
    return " ".join(str(text).lower().split())


# =================================================================================================
# reasons.yaml as a round-trip document (comments, order, quoting and folding kept)


def _yaml() -> YAML:
    parser = YAML()
    parser.preserve_quotes = True
    parser.width = 4096  # never re-wrap: folded scalars keep their own line breaks
    parser.indent(mapping=2, sequence=4, offset=2)
    parser.representer.ignore_aliases = lambda data: True  # a shared date is no &anchor
    return parser


def parse_document(text: str) -> CommentedMap:
    return _yaml().load(text)


def dump_document(document: CommentedMap) -> str:
    out = io.StringIO()
    _yaml().dump(document, out)
    return out.getvalue()


def _folded(text: str) -> FoldedScalarString:
    """A ``>-`` block wrapped at DEFINITION_WIDTH, like the definitions written by hand."""
    text = " ".join(text.split())
    folded = FoldedScalarString(text)
    positions, offset = [], 0
    for line in textwrap.wrap(text, DEFINITION_WIDTH, break_long_words=False)[:-1]:
        offset += len(line)
        positions.append(offset)
        offset += 1
    folded.fold_pos = positions
    return folded


def _set_plain(entry: CommentedMap, key: str, value: str) -> None:
    """Set a string letting YAML choose its style (ruamel would keep the old value's quotes)."""
    if key in entry:
        position = list(entry).index(key)
        del entry[key]
        entry.insert(position, key, value)
    else:
        entry[key] = value


def _bump_version(version: str) -> str:
    """Add one to the last number: 2026.11.1 -> 2026.11.2; other forms are kept."""
    head, _, last = str(version).rpartition(".")
    return f"{head}.{int(last) + 1}" if head and last.isdigit() else str(version)


# =================================================================================================
# label files


def read_label_folder(folder: Path) -> dict[str, pd.DataFrame]:
    """Every ``*.csv`` of the labels folder as strings, exactly as written (file name -> rows)."""
    return {path.name: read_label_file(path) for path in sorted(Path(folder).glob("*.csv"))}


def read_label_file(path: Path) -> pd.DataFrame:
    with Path(path).open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    header, body = (rows[0], rows[1:]) if rows else (list(LABEL_COLUMNS), [])
    missing = [c for c in LABEL_COLUMNS if c not in header]
    if missing:
        raise LabelError(
            f"{path}: нет колонок {', '.join(missing)}; ожидается заголовок "
            f"{','.join(LABEL_COLUMNS)}"
        )
    return pd.DataFrame(body, columns=header, dtype=str)


def label_file_text(frame: pd.DataFrame) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(list(frame.columns))
    writer.writerows(frame.itertuples(index=False, name=None))
    return out.getvalue()


def labels_table(files: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """All label files as one table with file and line, the form ``validate_labels`` takes."""
    parts = [
        frame.loc[:, list(LABEL_COLUMNS)]
        .apply(lambda s: s.fillna("").str.strip())
        .assign(file=name, line=np.arange(2, len(frame) + 2))
        for name, frame in files.items()
    ]
    if not parts:
        return pd.DataFrame(columns=[*LABEL_COLUMNS, "file", "line"])
    return pd.concat(parts, ignore_index=True)


# =================================================================================================
# reason changes


@dataclass(frozen=True)
class Change:
    """A proposed taxonomy change: the new reasons.yaml and label files, and what to tell."""

    action: str
    reasons_text: str
    label_files: dict[str, pd.DataFrame]
    notes: tuple[str, ...] = ()
    # labels no rule could re-assign (split): text, reason_id (empty), source, candidates, why
    to_label: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=TO_LABEL_COLUMNS))


class _Edit:
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

    def add_after(self, anchor_id: str, entry: CommentedMap) -> None:
        index = next(i for i, r in enumerate(self.reasons) if r["id"] == anchor_id)
        self.reasons.insert(index + 1, entry)

    def copy_as(self, source_id: str, new_id: str, title: str | None) -> CommentedMap:
        entry = copy.deepcopy(self.entry(source_id))
        entry["id"] = new_id
        if title:
            _set_plain(entry, "title", title)
        for key in ("retired", "replaced_by"):
            entry.pop(key, None)
        return entry

    def retire(self, reason_id: str, successor: str, when: date) -> None:
        """Mark retired and move to the end (history section); re-point whoever pointed at it."""
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
        used = {r["order"] for r in self.reasons if "retired" not in r}
        reserved = {r["order"] for r in self.reasons if r.get("reserved")}
        order = max(used - reserved, default=0) + 1
        while order in used:
            order += 1
        return order

    def free_colour(self) -> DoubleQuotedScalarString:
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

    def finish(self) -> tuple[str, Taxonomy]:
        version = self.document.get("version")
        if version is not None:
            bumped = _bump_version(version)
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


def _checked_labels(files: Mapping[str, pd.DataFrame], taxonomy: Taxonomy) -> None:
    try:
        validate_labels(labels_table(files), taxonomy)
    except LabelError as exc:
        raise MaintenanceError(f"изменение отклонено, разметка стала бы неверной:\n{exc}") from exc


def _label_counts(files: Mapping[str, pd.DataFrame], ids: Iterable[str]) -> str:
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
    edit = _Edit(reasons_text, where)
    edit.require_active(old)
    edit.require_new(new)
    edit.add_after(old, edit.copy_as(old, new, title))
    edit.retire(old, new, when)
    pattern = re.compile(rf"\b{re.escape(old)}\b")
    for other in edit.mentions(old):
        entry = edit.entry(other)
        entry["definition"] = _folded(pattern.sub(new, str(entry["definition"])))
        edit.notes.append(f"{other}: в определении {old} → {new}")
    text, after = edit.finish()
    files, moved = migrate_labels(label_files, edit.before, after)
    _checked_labels(files, after)
    notes = [
        f"{old} → {new}" + (f" «{title}»" if title else ""),
        f"{old} остаётся в истории: retired {when}, replaced_by {new}",
        f"меток перенесено: {moved}",
        *edit.notes,
    ]
    return Change("rename", text, files, tuple(notes))


def merged_definition(definitions: Sequence[str], merged_ids: Iterable[str]) -> str:
    """What each definition includes, then the exclusions that do not name a merged reason."""
    merged = set(merged_ids)
    includes, excludes = [], []
    for definition in definitions:
        text = " ".join(str(definition).split())
        head, tail = _split_exclusions(text)
        includes.append(head.strip())
        for item in tail:
            named = any(re.search(rf"\b{re.escape(rid)}\b", item) for rid in merged)
            if not named and item not in excludes:
                excludes.append(item)
    text = " ".join(includes)
    return text + (" Не включает: " + ", ".join(excludes) + "." if excludes else "")


def _split_exclusions(definition: str) -> tuple[str, list[str]]:
    """Split off the exclusions: A. Не включает: x (id1), y (id2). -> A., [x (id1), y (id2)]."""
    match = re.search(r"не включает\s*:", definition, flags=re.IGNORECASE)
    if match is None:
        return definition, []
    tail = definition[match.end() :].strip().rstrip(".")
    items = [i.strip() for i in re.split(r",\s*(?![^()]*\))", tail) if i.strip()]
    return definition[: match.start()], items


def _merged_target(entries: Sequence[CommentedMap]) -> tuple[CommentedMap | None, str | None]:
    """Targets of one metric add up (volumes, per-1,000 rates and shares all do)."""
    targets = [e.get("target") for e in entries]
    if any(t is None for t in targets):
        return None, "цель не суммирована: не у всех причин есть цель — задайте её вручную"
    metrics = {t["metric"] for t in targets}
    if len(metrics) != 1:
        return None, f"цель не суммирована: разные метрики {sorted(metrics)} — задайте вручную"
    merged = copy.deepcopy(targets[0])
    value = sum(float(t["value"]) for t in targets)
    merged["value"] = int(value) if value.is_integer() else round(value, 4)
    merged["due"] = max(t["due"] for t in targets)
    parts = " + ".join(str(t["value"]) for t in targets)
    return merged, f"цель: {parts} = {merged['value']} (проверьте)"


def merge_reasons(
    reasons_text: str,
    label_files: Mapping[str, pd.DataFrame],
    reason_ids: Sequence[str],
    into: str,
    *,
    title: str | None = None,
    when: date,
    where: str = "reasons.yaml",
) -> Change:
    """Reasons become one: ``into`` is one of them or a new id; the others are retired."""
    edit = _Edit(reasons_text, where)
    reason_ids = list(dict.fromkeys(reason_ids))
    if len(reason_ids) < 2:
        raise MaintenanceError("merge: нужны хотя бы две причины (для одной — rename)")
    for rid in reason_ids:
        edit.require_active(rid)
    entries = [edit.entry(rid) for rid in reason_ids]
    target, target_note = _merged_target(entries)
    if into in reason_ids:
        kept = edit.entry(into)
        if title:
            _set_plain(kept, "title", title)
    else:
        edit.require_new(into)
        kept = edit.copy_as(reason_ids[0], into, title)
        edit.add_after(reason_ids[0], kept)
        if not title:
            edit.notes.append(f"название {into} взято у {reason_ids[0]}: задайте --title")
    sources = sorted(entries, key=lambda e: e["id"] != into)  # the kept reason's text first
    kept["definition"] = _folded(merged_definition([e["definition"] for e in sources], reason_ids))
    kept["examples"] = CommentedSeq(
        dict.fromkeys(x for e in sources for x in e.get("examples", []))
    )
    edit.notes.append(
        f"определение {into} собрано из определений {', '.join(reason_ids)}: проверьте и сократите"
    )
    if target is not None:
        kept["target"] = target
    elif "target" in kept:
        del kept["target"]
    if target_note:
        edit.notes.append(target_note)
    for rid in reason_ids:
        if rid != into:
            edit.retire(rid, into, when)
    for rid in reason_ids:
        for other in edit.mentions(rid):
            if other != into:
                edit.notes.append(f"{other}: определение упоминает {rid} — поправьте вручную")
    text, after = edit.finish()
    files, moved = migrate_labels(label_files, edit.before, after)
    _checked_labels(files, after)
    retired = [rid for rid in reason_ids if rid != into]
    notes = [
        f"{' + '.join(reason_ids)} → {into}",
        f"в истории: {', '.join(retired)} (retired {when}, replaced_by {into})",
        f"меток перенесено: {moved}; теперь меток у {_label_counts(files, [into])}",
        *edit.notes,
    ]
    return Change("merge", text, files, tuple(notes))


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
    edit = _Edit(reasons_text, where)
    edit.require_active(reason_id)
    if replaced_by == reason_id:
        raise MaintenanceError(f"retire: причина не может заменять сама себя ('{reason_id}')")
    edit.require_active(replaced_by, role="преемник")
    edit.retire(reason_id, replaced_by, when)
    for other in edit.mentions(reason_id):
        edit.notes.append(f"{other}: определение упоминает {reason_id} — поправьте вручную")
    text, after = edit.finish()
    files, moved = migrate_labels(label_files, edit.before, after)
    _checked_labels(files, after)
    notes = [
        f"{reason_id} выведена {when}, история и метки → {replaced_by}",
        f"меток перенесено: {moved}",
        *edit.notes,
    ]
    return Change("retire", text, files, tuple(notes))


SplitRule = Callable[[str], list[str]]


def split_reason(
    reasons_text: str,
    label_files: Mapping[str, pd.DataFrame],
    reason_id: str,
    into: Sequence[str],
    rule: SplitRule,
    *,
    titles: Mapping[str, str] | None = None,
    when: date,
    where: str = "reasons.yaml",
) -> Change:
    """One reason becomes several; its labels are re-assigned by ``rule``, never guessed.

    ``reason_id`` is retired with ``replaced_by`` = the first new id: weekly history needs one
    successor, and the first new reason is the one that continues the old series (name it
    first). Labels the rule gives no reason, or more than one, leave the label files and come
    back in ``Change.to_label`` for manual labelling.
    """
    edit = _Edit(reasons_text, where)
    edit.require_active(reason_id)
    into = list(dict.fromkeys(into))
    if len(into) < 2:
        raise MaintenanceError("split: нужны хотя бы две новые причины (--into X Y)")
    for new in into:
        edit.require_new(new)
    titles = dict(titles or {})
    unknown_titles = set(titles) - set(into)
    if unknown_titles:
        raise MaintenanceError(
            f"split: --title для {sorted(unknown_titles)}, а новые причины: " + ", ".join(into)
        )
    anchor = reason_id
    for position, new in enumerate(into):
        entry = edit.copy_as(reason_id, new, titles.get(new))
        entry.pop("target", None)
        if position:
            entry["order"] = edit.free_order()
            entry["colour"] = edit.free_colour()
        edit.add_after(anchor, entry)
        anchor = new
    edit.retire(reason_id, into[0], when)
    same_title = [new for new in into if new not in titles]
    if same_title:
        edit.notes.append(
            f"название и определение {', '.join(same_title)} скопированы у "
            f"{reason_id}: задайте свои (--title, definition в reasons.yaml)"
        )
    edit.notes.append(f"у {', '.join(into)} нет цели: задайте target в reasons.yaml")
    for other in edit.mentions(reason_id):
        edit.notes.append(f"{other}: определение упоминает {reason_id} — поправьте вручную")
    text, after = edit.finish()

    files, to_label, strangers = {}, [], set()
    for name, frame in label_files.items():
        ids = frame["reason_id"].fillna("").str.strip()
        owned = ids.map(edit.before.successor) == reason_id
        assigned = pd.Series("", index=frame.index, dtype=object)
        for index in frame.index[owned]:
            text_value = str(frame.at[index, "text"])
            matches = list(dict.fromkeys(rule(text_value)))
            strangers.update(set(matches) - set(into))
            if len(matches) == 1:
                assigned[index] = matches[0]
            else:
                to_label.append(
                    {
                        "text": text_value,
                        "reason_id": "",
                        "source": str(frame.at[index, "source"] or ""),
                        "suggested_reason_id": "",
                        "suggested_title": "",
                        "why": (
                            f"подходят правила {', '.join(matches)}"
                            if matches
                            else "ни одно правило не подошло"
                        )
                        + f" (было {reason_id}, {name})",
                        "candidates": ", ".join(into),
                    }
                )
        keep = ~owned | (assigned != "")
        files[name] = frame.assign(reason_id=assigned.where(assigned != "", frame["reason_id"]))[
            keep
        ].reset_index(drop=True)
    if strangers:
        raise MaintenanceError(
            f"split: правила называют причины не из --into: {', '.join(sorted(strangers))}; "
            f"новые причины: {', '.join(into)}"
        )
    files, moved = migrate_labels(files, edit.before, after)  # re-pointed older ids, if any
    _checked_labels(files, after)
    pending = pd.DataFrame(to_label, columns=[*TO_LABEL_COLUMNS, "candidates"])
    notes = [
        f"{reason_id} → {', '.join(into)}",
        f"{reason_id} в истории: retired {when}, replaced_by {into[0]} — недельная история "
        f"продолжается в {into[0]}",
        "меток по правилам: " + _label_counts(files, into),
        f"без причины (разметить вручную): {len(pending)}",
        *edit.notes,
    ]
    if moved:
        notes.append(f"меток старых выведенных причин перенесено: {moved}")
    return Change("split", text, files, tuple(notes), pending)


def rules_from_file(path: Path) -> SplitRule:
    """A CSV ``text,reason_id``: the labelled text (case and spacing ignored) -> new reason."""
    rows = _read_table(Path(path))
    missing = {"text", "reason_id"} - set(rows.columns)
    if missing:
        raise MaintenanceError(
            f"{path}: нет колонок {', '.join(sorted(missing))}; ожидается заголовок text,reason_id"
        )
    mapping: dict[str, set[str]] = {}
    for row in rows.itertuples():
        mapping.setdefault(text_key(row.text), set()).add(str(row.reason_id).strip())
    return lambda text: sorted(mapping.get(text_key(text), ()))


def rules_from_keywords(
    keywords: Mapping[str, Sequence[str]], lemmatizer: Lemmatizer
) -> SplitRule:
    """``{"X": ["погасить", "досрочн*"]}``: a text goes to X if it has one of X's words.

    Words and phrases are compared as lemmas, so "погасить" matches "погашу" and "погасила";
    a trailing ``*`` matches any lemma starting with it ("досрочн*": "досрочно", "досрочный").
    Negated words are glued to their particle ("не пришла" -> "не_прийти") and match only a
    keyword written with the same negation.
    """
    compiled: dict[str, list[list[str]]] = {}
    for reason_id, words in keywords.items():
        phrases = []
        for word in words:
            if "*" in word:  # prefixes as written, other words as lemmas
                phrase = []
                for token in word.split():
                    prefix = token.lower().replace("ё", "е")
                    phrase += [prefix] if token.endswith("*") else lemmatizer.lemmas(token)
            else:
                phrase = lemmatizer.lemmas(word)
            if not phrase:
                raise MaintenanceError(
                    f"--keyword {reason_id}={word}: только стоп-слова, по ним не разделить"
                )
            phrases.append(phrase)
        compiled[reason_id] = phrases

    def matches(lemmas: list[str], phrase: list[str]) -> bool:
        size = len(phrase)
        for start in range(len(lemmas) - size + 1):
            window = lemmas[start : start + size]
            if all(
                w.startswith(p[:-1]) if p.endswith("*") else w == p
                for w, p in zip(window, phrase, strict=True)
            ):
                return True
        return False

    def rule(text: str) -> list[str]:
        lemmas = lemmatizer.lemmas(text)
        return [
            rid for rid, phrases in compiled.items() if any(matches(lemmas, p) for p in phrases)
        ]

    return rule


def parse_keyword_options(options: Sequence[str]) -> dict[str, list[str]]:
    """``["X=слово1,слово2", "Y=слово3"]`` -> ``{"X": [...], "Y": [...]}``."""
    out: dict[str, list[str]] = {}
    for option in options:
        reason_id, sep, words = option.partition("=")
        items = [w.strip() for w in words.split(",") if w.strip()]
        if not sep or not reason_id.strip() or not items:
            raise MaintenanceError(f"--keyword {option!r}: ожидается ID=слово1,слово2")
        out.setdefault(reason_id.strip(), []).extend(items)
    return out


def parse_title_options(options: Sequence[str]) -> dict[str, str]:
    out = {}
    for option in options:
        reason_id, sep, title = option.partition("=")
        if not sep or not title.strip():
            raise MaintenanceError(f"--title {option!r}: ожидается ID=Название")
        out[reason_id.strip()] = title.strip()
    return out


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
    """Write reasons.yaml and the label files that changed; returns what was written."""
    written = []
    for name, frame in change.label_files.items():
        text = label_file_text(frame)
        if name not in label_files or label_file_text(label_files[name]) != text:
            _write_atomic(Path(labels_dir) / name, text)
            written.append(Path(labels_dir) / name)
    _write_atomic(Path(reasons_path), change.reasons_text)
    written.insert(0, Path(reasons_path))
    return written


def _write_atomic(path: Path, text: str, encoding: str = "utf-8") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding=encoding, newline="")
    tmp.replace(path)


# =================================================================================================
# weekly history across taxonomy changes


def map_history(weekly: pd.DataFrame, taxonomy: Taxonomy) -> pd.DataFrame:
    """Weekly facts with retired reasons re-keyed to their successors and re-summed.

    Keys are the non-numeric columns (ISO week, week start, reason, channel); numeric columns
    are summed, except per-week constants (``customers``), which are kept. ``share`` and ``cpx``
    add up because every row of a week has the same denominator; ``customers_contacting`` of a
    merged row is an upper bound (a customer counted under both old reasons counts twice).
    Rows without a reason (contacts without text) stay as they are.
    """
    if weekly.empty:
        return weekly.copy()
    out = weekly.copy()
    has_reason = out["reason_id"].notna()
    out.loc[has_reason, "reason_id"] = out.loc[has_reason, "reason_id"].map(taxonomy.successor)
    numeric = [
        c
        for c in out.columns
        if pd.api.types.is_numeric_dtype(out[c]) and not pd.api.types.is_bool_dtype(out[c])
    ]
    keys = [c for c in out.columns if c not in numeric]
    aggregations = {c: ("first" if c in WEEK_CONSTANT_COLUMNS else "sum") for c in numeric}
    merged = out.groupby(keys, dropna=False, sort=False, as_index=False).agg(aggregations)
    merged = merged[list(weekly.columns)]
    order = [c for c in ("iso_week", "reason_id", "channel") if c in merged.columns]
    return merged.sort_values(order, na_position="last", kind="stable").reset_index(drop=True)


# =================================================================================================
# labelling: export


def pick_for_labeling(
    candidates: pd.DataFrame,
    n: int,
    labelled: Iterable[str] = (),
    margin: float = DISAGREEMENT_MARGIN,
) -> pd.DataFrame:
    """Choose up to ``n`` contacts, taking in turn from three queues, each worst-first.

    ``candidates``: contact_id, text, reason_id, class_status, confidence, runner_up_id,
    and optionally top_reason_id, runner_up_confidence, kind. Texts already labelled (by
    ``text_key``) and repeated texts are skipped. Ties break by contact_id, so the pick is
    deterministic.
    """
    frame = candidates.copy()
    if "runner_up_confidence" not in frame:
        frame["runner_up_confidence"] = np.nan
    if "top_reason_id" not in frame:
        frame["top_reason_id"] = frame["reason_id"]
    frame["key"] = frame["text"].map(text_key)
    frame = frame[~frame["key"].isin(set(labelled)) & (frame["key"] != "")]
    frame["same_text"] = frame.groupby("key")["contact_id"].transform("size")
    frame["margin"] = frame["confidence"] - frame["runner_up_confidence"]
    below = frame["class_status"] == "below_threshold"
    classified = frame["class_status"] == "classified"
    queues = {
        "below_threshold": frame[below].sort_values(["confidence", "contact_id"]),
        "disagreement": frame[classified & (frame["margin"] < margin)].sort_values(
            ["margin", "contact_id"]
        ),
        "low_confidence": frame[classified].sort_values(["confidence", "contact_id"]),
    }
    chosen: list[tuple[str, pd.Series]] = []
    seen_keys: set[str] = set()
    iterators = {why: queue.iterrows() for why, queue in queues.items()}
    while len(chosen) < n and iterators:
        for why in list(iterators):
            for _, row in iterators[why]:
                if row["key"] not in seen_keys:
                    seen_keys.add(row["key"])
                    chosen.append((why, row))
                    break
            else:
                del iterators[why]
            if len(chosen) >= n:
                break
    rows = []
    for why, row in chosen:
        suggested = row["top_reason_id"] if pd.notna(row["top_reason_id"]) else None
        values = {**row.to_dict(), "reason_id": row["top_reason_id"]}
        rows.append(
            {
                "contact_id": row["contact_id"],
                "text": row["text"],
                "suggested_reason_id": suggested or "",
                "confidence": round(float(row["confidence"]), 4),
                "runner_up_id": row["runner_up_id"] if pd.notna(row["runner_up_id"]) else "",
                "why": _why(why, values)
                + (f"; таких текстов {row['same_text']}" if row["same_text"] > 1 else ""),
                "reason_id": "",
                "source": SOURCE_OF_KIND.get(row.get("kind"), ""),
            }
        )
    return pd.DataFrame(rows, columns=[c for c in TO_LABEL_COLUMNS if c != "suggested_title"])


def _why(kind: str, values: dict) -> str:
    return WHY[kind].format(**values)


def label_studio_config(taxonomy: Taxonomy) -> str:
    """Labelling config: the text and one choice per reason (value = id, shown = title)."""
    view = ET.Element("View")
    ET.SubElement(view, "Header", value="Причина обращения")
    ET.SubElement(view, "Text", name=LS_TEXT, value=f"${LS_TEXT}")
    choices = ET.SubElement(
        view,
        "Choices",
        name=LS_CHOICES,
        toName=LS_TEXT,
        choice="single",
        showInline="false",
        required="true",
    )
    for reason_id in [*taxonomy.classes, taxonomy.undefined_reason]:
        reason = taxonomy.by_id[reason_id]
        shown = (
            "Не подходит ни одна причина"
            if reason.reserved
            else f"{reason.title} · {reason.group}"
        )
        # html is shown instead of value, the value (the id) is what the export contains
        ET.SubElement(
            choices,
            "Choice",
            value=reason.id,
            html=shown,
            hint=" ".join(reason.definition.split()),
        )
    ET.indent(view)
    return ET.tostring(view, encoding="unicode") + "\n"


def label_studio_tasks(picked: pd.DataFrame, model_version: str | None = None) -> list[dict]:
    """Label Studio import JSON: one task per contact, the suggestion as a prediction."""
    tasks = []
    for row in picked.itertuples(index=False):
        task: dict = {
            "data": {
                "text": row.text,
                "contact_id": row.contact_id,
                "source": row.source,
                "why": row.why,
            }
        }
        if row.suggested_reason_id:
            prediction = {
                "result": [
                    {
                        "from_name": LS_CHOICES,
                        "to_name": LS_TEXT,
                        "type": "choices",
                        "value": {"choices": [row.suggested_reason_id]},
                    }
                ],
                "score": float(row.confidence),
            }
            if model_version:
                prediction["model_version"] = model_version
            task["predictions"] = [prediction]
        tasks.append(task)
    return tasks


def export_labeling(
    warehouse: Path,
    out_dir: Path,
    taxonomy_path: Path,
    labels_dir: Path | None,
    classified: Path | None,
    n: int = DEFAULT_LABELING_SIZE,
    weeks: int = DEFAULT_LABELING_WEEKS,
    margin: float = DISAGREEMENT_MARGIN,
) -> pd.DataFrame:
    import duckdb

    taxonomy = load_taxonomy(taxonomy_path)
    if not Path(warehouse).exists():
        raise MaintenanceError(f"{warehouse}: нет хранилища; сначала dvc repro (стадия aggregate)")
    with duckdb.connect(str(warehouse), read_only=True) as con:
        candidates = con.execute(sql.load("label_candidates"), {"weeks": weeks}).df()
        model_version = con.execute("SELECT any_value(model_version) FROM contacts").fetchall()
    if classified is not None and Path(classified).exists():
        extra = pd.read_parquet(
            classified, columns=["contact_id", "top_reason_id", "runner_up_confidence"]
        )
        candidates = candidates.merge(extra, on="contact_id", how="left")
    else:
        logger.info(
            "export-labeling: %s not found, disagreement (runner-up margin) skipped", classified
        )
    labelled = set()
    if labels_dir is not None and Path(labels_dir).exists():
        labelled = {text_key(t) for t in labels_table(read_label_folder(labels_dir))["text"]}
    picked = pick_for_labeling(candidates, n, labelled, margin)
    picked.insert(
        3,
        "suggested_title",
        picked["suggested_reason_id"].map(lambda rid: taxonomy.title(rid) if rid else ""),
    )
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    picked.to_csv(out_dir / "to_label.csv", index=False, encoding="utf-8-sig")
    tasks = label_studio_tasks(picked, model_version[0][0] if model_version else None)
    (out_dir / "label_studio_tasks.json").write_text(
        json.dumps(tasks, ensure_ascii=False, indent=1), encoding="utf-8"
    )
    (out_dir / "label_studio_config.xml").write_text(
        label_studio_config(taxonomy), encoding="utf-8"
    )
    counts = picked["why"].str.split(":").str[0].value_counts().to_dict()
    print(
        f"к разметке: {len(picked)} контактов в {out_dir}/to_label.csv, "
        f"label_studio_tasks.json, label_studio_config.xml"
    )
    for why, count in counts.items():
        print(f"  {why}: {count}")
    return picked


# =================================================================================================
# labelling: import


@dataclass(frozen=True)
class ImportResult:
    new: pd.DataFrame  # text, reason_id, source: rows to write
    duplicates: int
    remapped: int
    unlabelled: int
    none_fits: pd.DataFrame  # labelled "no reason fits": candidates for a new reason
    conflicts: tuple[str, ...]


def _read_table(path: Path) -> pd.DataFrame:
    """A CSV as strings; UTF-8 or cp1251 (Excel), comma, semicolon or tab."""
    raw = path.read_bytes()
    for encoding in ("utf-8-sig", "cp1251"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - cp1251 decodes any byte
        raise MaintenanceError(f"{path}: не удалось прочитать (ожидается UTF-8 или cp1251)")
    first = text.splitlines()[0] if text else ""
    delimiter = max(",;\t", key=first.count)
    rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    if not rows:
        raise MaintenanceError(f"{path}: пустой файл")
    header = [h.strip() for h in rows[0]]
    body = [row + [""] * (len(header) - len(row)) for row in rows[1:] if any(row)]
    frame = pd.DataFrame([row[: len(header)] for row in body], columns=header, dtype=str)
    frame["line"] = [i + 2 for i, row in enumerate(rows[1:]) if any(row)]
    return frame


def read_labelled(
    path: Path, text_column: str | None = None, label_column: str | None = None
) -> pd.DataFrame:
    """Labelled rows as text, reason_id, source, where.

    Without column names: our CSV (``text,reason_id[,source]``) or a Label Studio JSON export.
    With ``text_column`` / ``label_column``: any file ``pipeline evaluate`` reads (CSV with any
    delimiter and encoding, XLSX, JSON lines, JSON lists, or a folder of them), so the file an
    organisation labelled by hand imports as it is; its labels may be reason ids or titles.
    """
    from pipeline.tools import evaluate  # sklearn behind it: loaded only when importing labels

    path = Path(path)
    foreign = evaluate.EXCEL_SUFFIXES + evaluate.JSON_LINES_SUFFIXES  # formats ours never are
    if text_column or label_column or path.is_dir() or path.suffix.lower() in foreign:
        return _read_foreign(path, text_column, label_column)
    if path.suffix.lower() == ".json":
        return _read_label_studio(path)
    frame = _read_table(path)
    if {"text", "reason_id"} - set(frame.columns):
        # not our to_label.csv: a sheet labelled by hand, columns recognised by their names
        # («текст», «причина», «категория» ...) or a clear message listing what was looked for
        return _read_foreign(path, None, None)
    if "source" not in frame:
        frame["source"] = ""
    return pd.DataFrame(
        {
            "text": frame["text"].fillna("").str.strip(),
            "reason_id": frame["reason_id"].fillna("").str.strip(),
            "source": frame["source"].fillna("").str.strip(),
            "where": [f"{path.name}, строка {line}" for line in frame["line"]],
        }
    )


def _read_foreign(path: Path, text_column: str | None, label_column: str | None) -> pd.DataFrame:
    from pipeline.tools import evaluate

    options = evaluate.EvaluateOptions(text_column=text_column, label_column=label_column)
    try:
        rows, read = evaluate.read_labelled(path, options)
    except evaluate.EvaluateError as exc:
        raise MaintenanceError(str(exc)) from exc
    for problem in read["malformed_rows"]:
        logger.warning("import-labels: row not read: %s", problem)
    return pd.DataFrame(
        {
            "text": rows["text"].str.strip(),
            "reason_id": rows["label"].str.strip(),
            "source": "",
            "where": rows["where"],
        }
    )


def _read_label_studio(path: Path) -> pd.DataFrame:
    try:
        tasks = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise MaintenanceError(f"{path}: не JSON-экспорт Label Studio ({exc})") from exc
    if not isinstance(tasks, list):
        raise MaintenanceError(f"{path}: ожидается список задач (экспорт Label Studio «JSON»)")
    rows = []
    for index, task in enumerate(tasks):
        where = f"{path.name}, задача {task.get('id', index + 1)}"
        if "data" in task:  # full JSON export
            data = task["data"]
            chosen = []
            for annotation in task.get("annotations", []):
                if annotation.get("was_cancelled"):
                    continue
                chosen.append(
                    tuple(
                        choice
                        for item in annotation.get("result", [])
                        if item.get("type") == "choices"
                        and item.get("from_name", LS_CHOICES) == LS_CHOICES
                        for choice in item.get("value", {}).get("choices", [])
                    )
                )
            answers = sorted(set(chosen))
        else:  # JSON-MIN export: data fields and the choice side by side
            data = task
            value = task.get(LS_CHOICES)
            answers = [(value,)] if value else []
        reason = ""
        if len(answers) == 1 and len(answers[0]) == 1:
            reason = answers[0][0]
        elif len(answers) > 1 or (answers and len(answers[0]) > 1):
            reason = "|".join(sorted({c for a in answers for c in a}))
        rows.append(
            {
                "text": str(data.get(LS_TEXT, "")).strip(),
                "reason_id": reason,
                "source": str(data.get("source", "") or "").strip(),
                "where": where,
            }
        )
    return pd.DataFrame(rows, columns=["text", "reason_id", "source", "where"])


def check_import(
    rows: pd.DataFrame, existing: pd.DataFrame, taxonomy: Taxonomy, source: str | None = None
) -> ImportResult:
    """Validate ids, map retired ones, split rows into new, duplicates and conflicts.

    ``rows``: text, reason_id, source, where. ``existing``: the current labels (text,
    reason_id, file, line). Raises MaintenanceError listing every unknown id or empty text.
    """
    # a title instead of an id (another tool's config, a hand-labelled sheet): case and ё folded
    titles = {fold_name(r.title): r.id for r in taxonomy.reasons}
    problems, kept, none_fits = [], [], []
    unlabelled = remapped = 0
    for row in rows.itertuples(index=False):
        reason = titles.get(fold_name(row.reason_id), row.reason_id) if row.reason_id else ""
        if not reason:
            unlabelled += 1
            continue
        if "|" in reason:
            problems.append(
                f"{row.where}: разметчики разошлись ({reason.replace('|', ', ')}); "
                "оставьте одну разметку"
            )
            continue
        if not row.text:
            problems.append(f"{row.where}: пустой текст")
            continue
        if reason not in taxonomy.by_id:
            problems.append(
                f"{row.where}: неизвестная причина '{reason}'; ожидается id из "
                "reasons.yaml, например " + ", ".join(taxonomy.classes[:3])
            )
            continue
        if taxonomy.by_id[reason].reserved:
            none_fits.append({"text": row.text, "where": row.where})
            continue
        active = taxonomy.successor(reason)
        remapped += active != reason
        row_source = row.source or (source or "")
        if row_source and row_source not in SOURCES:
            problems.append(
                f"{row.where}: source '{row_source}', ожидается одно из " + ", ".join(SOURCES)
            )
            continue
        kept.append(
            {"text": row.text, "reason_id": active, "source": row_source, "where": row.where}
        )
    if problems:
        raise MaintenanceError("импорт разметки отклонён:\n  - " + "\n  - ".join(problems[:50]))
    known: dict[str, tuple[str, str]] = {}
    for row in existing.itertuples(index=False):
        known.setdefault(
            text_key(row.text), (taxonomy.successor(row.reason_id), f"{row.file}:{row.line}")
        )
    new, conflicts, duplicates = [], [], 0
    for row in kept:
        key = text_key(row["text"])
        if key in known:
            reason, where = known[key]
            if reason == row["reason_id"]:
                duplicates += 1
            else:
                conflicts.append(
                    f"«{row['text'][:80]}»: {where} → {reason}, "
                    f"{row['where']} → {row['reason_id']}"
                )
            continue
        known[key] = (row["reason_id"], row["where"])
        new.append(row)
    return ImportResult(
        new=pd.DataFrame(new, columns=["text", "reason_id", "source"]).reset_index(drop=True)
        if new
        else pd.DataFrame(columns=list(LABEL_COLUMNS)),
        duplicates=duplicates,
        remapped=int(remapped),
        unlabelled=unlabelled,
        none_fits=pd.DataFrame(none_fits, columns=["text", "where"]),
        conflicts=tuple(conflicts),
    )


def import_labels(
    path: Path,
    out: Path,
    taxonomy_path: Path,
    labels_dir: Path,
    source: str | None = None,
    allow_conflicts: bool = False,
    text_column: str | None = None,
    label_column: str | None = None,
) -> ImportResult:
    taxonomy = load_taxonomy(taxonomy_path)
    if source and source not in SOURCES:
        raise MaintenanceError(f"--source {source!r}: ожидается одно из {', '.join(SOURCES)}")
    files = read_label_folder(labels_dir) if Path(labels_dir).exists() else {}
    out = Path(out)
    inside = out.parent.resolve() == Path(labels_dir).resolve()
    key = out.name if inside else str(out)
    if out.exists() and key not in files:
        files[key] = read_label_file(out)
    if not inside:
        logger.warning(
            "import-labels: %s is outside %s, training will not read it", out, labels_dir
        )
    rows = read_labelled(path, text_column, label_column)
    result = check_import(rows, labels_table(files), taxonomy, source)
    print(
        f"{path}: новых меток {len(result.new)}, дубликатов существующих пропущено "
        f"{result.duplicates}, без разметки {result.unlabelled}, выведенных id заменено "
        f"преемником {result.remapped}"
    )
    if len(result.none_fits):
        print(
            f"  «не подходит ни одна причина»: {len(result.none_fits)} — кандидаты в новую "
            "причину (не записаны):"
        )
        for row in result.none_fits.head(10).itertuples():
            print(f"    {row.where}: {row.text[:100]}")
    if result.conflicts:
        print(f"  противоречат существующей разметке: {len(result.conflicts)} (не записаны)")
        for line in result.conflicts[:30]:
            print(f"    {line}")
        if not allow_conflicts:
            raise MaintenanceError(
                f"{len(result.conflicts)} противоречий: ничего не записано. Исправьте reason_id "
                "в файле (или существующую метку) либо запустите с --allow-conflicts, чтобы "
                "записать остальные"
            )
    if len(result.new):
        current = files.get(key, pd.DataFrame(columns=list(LABEL_COLUMNS)))
        combined = pd.concat([current, result.new[list(LABEL_COLUMNS)]], ignore_index=True)
        _write_atomic(out, label_file_text(combined.fillna("")))
        print(f"  записано в {out}: {len(result.new)} (всего в файле {len(combined)})")
    return result


# =================================================================================================
# health


@dataclass
class Health:
    """What the maintainer should look at; plain data, rendered by ``render_health``."""

    taxonomy_version: str
    active_reasons: int
    undefined_share: dict | None = None  # week, share, contacts, undefined, by_week
    few_examples: dict[str, int] | None = None
    min_examples: int = 0  # train.min_examples_per_reason
    similar_definitions: list[dict] = field(default_factory=list)
    confusion_pairs: list[dict] | None = None
    no_target: list[str] = field(default_factory=list)
    target_overdue: list[str] = field(default_factory=list)
    quiet_reasons: list[str] | None = None
    quiet_weeks: int = QUIET_WEEKS
    skipped: list[str] = field(default_factory=list)


def reason_documents(taxonomy: Taxonomy, lemmatizer: Lemmatizer) -> dict[str, str]:
    """Title, definition (without "Не включает" and reason ids) and examples, as lemmas."""
    documents = {}
    for reason_id in taxonomy.classes:
        reason = taxonomy.by_id[reason_id]
        definition = _REASON_ID.sub(" ", _EXCLUSIONS.sub("", reason.definition))
        text = " ".join([reason.title, definition, *reason.examples])
        documents[reason_id] = lemmatizer.lemmatize(text)
    return documents


def similar_definitions(
    documents: Mapping[str, str], threshold: float = NEAR_DUPLICATE_SIMILARITY
) -> list[dict]:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.metrics.pairwise import cosine_similarity

    ids = list(documents)
    if len(ids) < 2:
        return []
    matrix = TfidfVectorizer(analyzer=str.split, sublinear_tf=True).fit_transform(
        [documents[i] for i in ids]
    )
    similarity = cosine_similarity(matrix)
    pairs = [
        {"a": ids[i], "b": ids[j], "similarity": round(float(similarity[i, j]), 3)}
        for i in range(len(ids))
        for j in range(i + 1, len(ids))
        if similarity[i, j] >= threshold
    ]
    return sorted(pairs, key=lambda p: (-p["similarity"], p["a"], p["b"]))


def confusion_pairs(confusion: pd.DataFrame, threshold: float = CONFUSION_RATE) -> list[dict]:
    """Pairs the model mixes up both ways: (a->b + b->a) / (support a + support b)."""
    support = confusion["actual"].value_counts()
    errors = confusion[confusion["actual"] != confusion["predicted"]]
    counts = errors.groupby(["actual", "predicted"]).size()
    pairs = {}
    for (actual, predicted), n in counts.items():
        a, b = sorted((actual, predicted))
        pairs.setdefault((a, b), {"a": a, "b": b, "a_as_b": 0, "b_as_a": 0})
        pairs[(a, b)]["a_as_b" if actual == a else "b_as_a"] += int(n)
    out = []
    for pair in pairs.values():
        base = int(support.get(pair["a"], 0) + support.get(pair["b"], 0))
        rate = (pair["a_as_b"] + pair["b_as_a"]) / base if base else 0.0
        if rate >= threshold:
            out.append({**pair, "rate": round(rate, 3)})
    return sorted(out, key=lambda p: (-p["rate"], p["a"], p["b"]))


def undefined_share(
    per_week: pd.DataFrame, week: str | None = None, weeks: int = 4
) -> dict | None:
    """Share of 'не определено' among contacts with text in ``week`` (default: the latest)."""
    if per_week.empty:
        return None
    contacts = per_week.groupby("iso_week")["contacts"].sum().sort_index()
    undefined = (
        per_week[per_week["class_status"] == "below_threshold"]
        .groupby("iso_week")["contacts"]
        .sum()
        .reindex(contacts.index, fill_value=0)
    )
    share = undefined / contacts
    week = week if week in share.index else share.index[-1]
    history = share.loc[:week].tail(weeks)
    return {
        "week": week,
        "share": round(float(share[week]), 4),
        "contacts": int(contacts[week]),
        "undefined": int(undefined[week]),
        "by_week": {w: round(float(s), 4) for w, s in history.items()},
    }


def quiet_reasons(
    per_week: pd.DataFrame, taxonomy: Taxonomy, weeks: int = QUIET_WEEKS
) -> list[str]:
    """Active reasons with no classified contact in the latest ``weeks`` ISO weeks."""
    if per_week.empty:
        return []
    recent = sorted(per_week["iso_week"].unique())[-weeks:]
    seen = per_week[per_week["iso_week"].isin(recent) & (per_week["contacts"] > 0)]
    present = {taxonomy.successor(r) for r in seen["reason_id"].dropna()}
    return [r for r in taxonomy.classes if r not in present]


def health(
    taxonomy_path: Path,
    labels_dir: Path | None,
    metrics: Path | None,
    confusion: Path | None,
    warehouse: Path | None,
    params: Path | None,
    lemmatizer: Lemmatizer,
    today: date,
    similarity: float = NEAR_DUPLICATE_SIMILARITY,
    confusion_rate: float = CONFUSION_RATE,
    quiet_weeks: int = QUIET_WEEKS,
) -> Health:
    """Collect the health summary from whatever of the inputs exists."""
    from pipeline.taxonomy.schema import taxonomy_version

    taxonomy = load_taxonomy(taxonomy_path)
    report = Health(
        taxonomy_version=taxonomy_version(taxonomy_path), active_reasons=len(taxonomy.classes)
    )
    report.min_examples = _min_examples(params, report.skipped)
    counts = None
    if labels_dir is not None and Path(labels_dir).exists():
        files = read_label_folder(labels_dir)
        checked = validate_labels(labels_table(files), taxonomy)
        counts = checked.frame["reason_id"].value_counts()
    elif metrics is not None and Path(metrics).exists():
        counts = pd.Series(
            json.loads(Path(metrics).read_text("utf-8")).get("examples_per_reason", {})
        )
    else:
        report.skipped.append("число примеров: нет ни taxonomy/labels, ни model.json")
    if counts is not None:
        report.few_examples = {
            r: int(counts.get(r, 0))
            for r in taxonomy.classes
            if counts.get(r, 0) < report.min_examples
        }
    report.similar_definitions = similar_definitions(
        reason_documents(taxonomy, lemmatizer), similarity
    )
    if confusion is not None and Path(confusion).exists():
        report.confusion_pairs = confusion_pairs(pd.read_csv(confusion, dtype=str), confusion_rate)
    else:
        report.skipped.append(f"путаница причин: нет {confusion} (dvc repro, стадия train)")
    for reason_id in taxonomy.classes:
        target = taxonomy.by_id[reason_id].target
        if target is None:
            report.no_target.append(reason_id)
        elif target.due < today:
            report.target_overdue.append(reason_id)
    if warehouse is not None and Path(warehouse).exists():
        import duckdb

        with duckdb.connect(str(warehouse), read_only=True) as con:
            per_week = con.execute(sql.load("health_weeks")).df()
            tables = {t for (t,) in con.execute("SHOW TABLES").fetchall()}
            report_week = (
                con.execute("SELECT any_value(report_week) FROM run_info").fetchall()[0][0]
                if "run_info" in tables
                else None
            )
        report.undefined_share = undefined_share(per_week, report_week)
        report.quiet_reasons = quiet_reasons(per_week, taxonomy, quiet_weeks)
        report.quiet_weeks = quiet_weeks
    else:
        report.skipped.append(
            f"доля «не определено» и причины без контактов: нет {warehouse} "
            "(dvc repro, стадия aggregate)"
        )
    return report


def _min_examples(params: Path | None, skipped: list[str]) -> int:
    """train.min_examples_per_reason of params.yaml, or the train stage's default."""
    from pipeline.config import load_section
    from pipeline.train import TrainConfig

    if params is None or not Path(params).exists():
        default = TrainConfig.model_fields["min_examples_per_reason"].default
        skipped.append(f"порог числа примеров: нет {params}, взят порог по умолчанию {default}")
        return default
    return load_section(params, "train", TrainConfig).min_examples_per_reason


def render_health(report: Health, taxonomy: Taxonomy) -> str:
    def named(ids: Iterable[str]) -> str:
        return ", ".join(f"{r} «{taxonomy.title(r)}»" for r in ids)

    lines = [
        f"Здоровье таксономии {report.taxonomy_version}: действующих причин "
        f"{report.active_reasons}"
    ]
    share = report.undefined_share
    if share is not None:
        trend = ", ".join(f"{w}: {s:.1%}" for w, s in share["by_week"].items())
        lines.append(
            f"• «Не определено» в {share['week']}: {share['share']:.1%} "
            f"({share['undefined']} из {share['contacts']}); по неделям: {trend}"
        )
    if report.few_examples is not None:
        if report.few_examples:
            lines.append(
                f"• Мало примеров (< {report.min_examples}): "
                + ", ".join(f"{r} ({n})" for r, n in report.few_examples.items())
            )
        else:
            lines.append(f"• Примеров достаточно: у каждой причины ≥ {report.min_examples}")
    if report.similar_definitions:
        lines.append("• Почти одинаковые определения (кандидаты в merge или на уточнение):")
        lines += [
            f"    {p['a']} ~ {p['b']}: сходство {p['similarity']:.2f}"
            for p in report.similar_definitions
        ]
    else:
        lines.append("• Почти одинаковых определений нет")
    if report.confusion_pairs is not None:
        if report.confusion_pairs:
            lines.append("• Модель путает друг с другом (вне выборки):")
            lines += [
                f"    {p['a']} ↔ {p['b']}: {p['rate']:.1%} "
                f"({p['a']} → {p['b']}: {p['a_as_b']}, обратно: {p['b_as_a']})"
                for p in report.confusion_pairs
            ]
        else:
            lines.append("• Сильно путаемых пар нет")
    lines.append("• Без цели: " + (named(report.no_target) if report.no_target else "нет"))
    if report.target_overdue:
        lines.append("• Срок цели прошёл: " + named(report.target_overdue))
    if report.quiet_reasons is not None:
        lines.append(
            f"• Без контактов за {report.quiet_weeks} недель: "
            + (named(report.quiet_reasons) if report.quiet_reasons else "нет")
        )
    for note in report.skipped:
        lines.append(f"  (пропущено — {note})")
    return "\n".join(lines)


# =================================================================================================
# command line shell (argparse lives in pipeline/__main__.py)


def _given(value, default):
    """A command-line value, or this module's default when the option was not given."""
    return default if value is None else value


def run(args) -> None:
    """Dispatch ``python -m pipeline taxonomy <action>`` (every action except check)."""
    action = args.action
    if action == "export-labeling":
        export_labeling(
            args.warehouse,
            args.out,
            args.taxonomy,
            args.labels,
            args.classified,
            n=_given(args.n, DEFAULT_LABELING_SIZE),
            weeks=_given(args.weeks, DEFAULT_LABELING_WEEKS),
            margin=_given(args.margin, DISAGREEMENT_MARGIN),
        )
    elif action == "import-labels":
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
    elif action == "health":
        report = health(
            args.taxonomy,
            args.labels,
            args.metrics,
            args.confusion,
            args.warehouse,
            args.params,
            Lemmatizer(),
            date.today(),
            similarity=_given(args.similarity, NEAR_DUPLICATE_SIMILARITY),
            confusion_rate=_given(args.confusion_rate, CONFUSION_RATE),
        )
        print(render_health(report, load_taxonomy(args.taxonomy)))
        if args.out:
            _write_atomic(
                Path(args.out), json.dumps(asdict(report), ensure_ascii=False, indent=2) + "\n"
            )
    else:
        _run_edit(args)


def _run_edit(args) -> None:
    reasons_path, labels_dir = Path(args.taxonomy), Path(args.labels)
    try:
        reasons_text = reasons_path.read_text(encoding="utf-8")
    except OSError as exc:
        raise MaintenanceError(f"{reasons_path}: не удалось прочитать ({exc.strerror})") from exc
    files = read_label_folder(labels_dir) if labels_dir.exists() else {}
    try:
        when = date.fromisoformat(args.date) if args.date else date.today()
    except ValueError as exc:
        raise MaintenanceError(f"--date {args.date!r}: ожидается дата ГГГГ-ММ-ДД") from exc
    where = str(reasons_path)
    if args.action == "rename":
        change = rename_reason(
            reasons_text, files, args.old, args.new, title=args.title, when=when, where=where
        )
    elif args.action == "merge":
        change = merge_reasons(
            reasons_text, files, args.reasons, args.into, title=args.title, when=when, where=where
        )
    elif args.action == "retire":
        change = retire_reason(
            reasons_text, files, args.reason, args.replaced_by, when=when, where=where
        )
    elif args.action == "split":
        if bool(args.rules) == bool(args.keyword):
            raise MaintenanceError("split: укажите либо --rules ФАЙЛ, либо --keyword ID=слова")
        rule = (
            rules_from_file(args.rules)
            if args.rules
            else rules_from_keywords(parse_keyword_options(args.keyword), Lemmatizer())
        )
        change = split_reason(
            reasons_text,
            files,
            args.reason,
            args.into,
            rule,
            titles=parse_title_options(args.title or []),
            when=when,
            where=where,
        )
    else:  # pragma: no cover - argparse limits the choices
        raise MaintenanceError(f"неизвестное действие {args.action}")
    print(f"{change.action}:")
    for note in change.notes:
        print(f"  {note}")
    if args.dry_run:
        print(change_diff(reasons_text, files, change, str(reasons_path), str(labels_dir)))
        if len(change.to_label):
            print(f"к ручной разметке ({len(change.to_label)}):")
            for row in change.to_label.itertuples():
                print(f"  {row.text[:100]}  — {row.why}")
        print("(--dry-run: ничего не записано)")
        return
    written = apply_change(change, reasons_path, labels_dir, files)
    if len(change.to_label):
        target = Path(args.unmatched or f"build/labeling/split_{args.reason}.csv")
        target.parent.mkdir(parents=True, exist_ok=True)
        change.to_label.to_csv(target, index=False, encoding="utf-8-sig")
        print(
            f"  к ручной разметке: {target} — заполните reason_id и загрузите: "
            f"python -m pipeline taxonomy import-labels {target} --out "
            f"{labels_dir}/<файл>.csv"
        )
    print("записано: " + ", ".join(str(p) for p in written))
    print("дальше: dvc repro (модель переобучится на новой таксономии)")
