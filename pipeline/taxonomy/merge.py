"""Merging reasons: several reasons become one (one of them or a new id), the rest retire.

The merged reason's definition keeps what each definition includes and the exclusions that do
not name a merged reason; examples are pooled; targets of one metric are summed (volumes,
per-1,000 rates and shares all add up), otherwise the maintainer sets one.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import date

import pandas as pd
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from pipeline.taxonomy.edits import Change, ReasonsEdit, label_counts
from pipeline.taxonomy.schema import MaintenanceError
from pipeline.taxonomy.yamlio import folded, set_plain


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


def _merge_target_entry(
    edit: ReasonsEdit, reason_ids: Sequence[str], into: str, title: str | None
) -> CommentedMap:
    """The entry the merged reasons become: one of them, or a copy of the first as a new id."""
    if into in reason_ids:
        kept = edit.entry(into)
        if title:
            set_plain(kept, "title", title)
        return kept
    edit.require_new(into)
    kept = edit.copy_as(reason_ids[0], into, title)
    edit.add_after(reason_ids[0], kept)
    if not title:
        edit.notes.append(f"название {into} взято у {reason_ids[0]}: задайте --title")
    return kept


def _merge_contents(
    edit: ReasonsEdit,
    kept: CommentedMap,
    entries: Sequence[CommentedMap],
    reason_ids: Sequence[str],
    into: str,
) -> None:
    """Definition, examples and target of the merged reason from those of the merged ones."""
    target, target_note = _merged_target(entries)
    sources = sorted(entries, key=lambda e: e["id"] != into)  # the kept reason's text first
    kept["definition"] = folded(merged_definition([e["definition"] for e in sources], reason_ids))
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
    edit = ReasonsEdit(reasons_text, where)
    reason_ids = list(dict.fromkeys(reason_ids))
    if len(reason_ids) < 2:
        raise MaintenanceError("merge: нужны хотя бы две причины (для одной — rename)")
    for rid in reason_ids:
        edit.require_active(rid)
    kept = _merge_target_entry(edit, reason_ids, into, title)
    _merge_contents(edit, kept, [edit.entry(rid) for rid in reason_ids], reason_ids, into)
    for rid in reason_ids:
        if rid != into:
            edit.retire(rid, into, when)
    for rid in reason_ids:
        edit.note_mentions(rid, but=into)
    text, files, moved = edit.finish_with_labels(label_files)
    retired = [rid for rid in reason_ids if rid != into]
    notes = [
        f"{' + '.join(reason_ids)} → {into}",
        f"в истории: {', '.join(retired)} (retired {when}, replaced_by {into})",
        f"меток перенесено: {moved}; теперь меток у {label_counts(files, [into])}",
        *edit.notes,
    ]
    return Change("merge", text, files, tuple(notes))
