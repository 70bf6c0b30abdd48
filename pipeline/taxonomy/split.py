"""Splitting a reason: one reason becomes several, its labels re-assigned by rules.

A rule maps a label's text to the new reasons it belongs to: a CSV of labelled texts
(``--rules``) or keywords compared as lemmas (``--keyword ID=слово1,слово2``). Labels no rule
places, or places twice, are never guessed: they come back for manual labelling.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from pathlib import Path

import pandas as pd

from pipeline.errors import summarise_rows
from pipeline.io.tables import MALFORMED_CAUSES, read_table, row_problems
from pipeline.taxonomy.edits import (
    Change,
    ReasonsEdit,
    checked_labels,
    label_counts,
    migrate_labels,
)
from pipeline.taxonomy.labels import TO_LABEL_COLUMNS, text_key
from pipeline.taxonomy.schema import MaintenanceError, Taxonomy
from pipeline.text import Lemmatizer

logger = logging.getLogger(__name__)

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
    edit = ReasonsEdit(reasons_text, where)
    into = list(dict.fromkeys(into))
    _add_new_reasons(edit, reason_id, into, dict(titles or {}), when)
    text, after = edit.finish()
    files, pending = _reassign_labels(label_files, edit.before, reason_id, into, rule)
    files, moved = migrate_labels(files, edit.before, after)  # re-pointed older ids, if any
    checked_labels(files, after)
    notes = [
        f"{reason_id} → {', '.join(into)}",
        f"{reason_id} в истории: retired {when}, replaced_by {into[0]} — недельная история "
        f"продолжается в {into[0]}",
        "меток по правилам: " + label_counts(files, into),
        f"без причины (разметить вручную): {len(pending)}",
        *edit.notes,
    ]
    if moved:
        notes.append(f"меток старых выведенных причин перенесено: {moved}")
    return Change("split", text, files, tuple(notes), pending)


def _add_new_reasons(
    edit: ReasonsEdit, reason_id: str, into: list[str], titles: dict[str, str], when: date
) -> None:
    """Copies of the reason under the new ids after it (the first keeps its order and colour,
    none keeps its target), then the reason retired into the first."""
    edit.require_active(reason_id)
    if len(into) < 2:
        raise MaintenanceError("split: нужны хотя бы две новые причины (--into X Y)")
    for new in into:
        edit.require_new(new)
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
    edit.note_mentions(reason_id)


def _reassign_labels(
    label_files: Mapping[str, pd.DataFrame],
    before: Taxonomy,
    reason_id: str,
    into: list[str],
    rule: SplitRule,
) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    """Labels of the split reason get the one new reason the rule names; the others leave the
    label files and are returned for manual labelling."""
    files, to_label, strangers = {}, [], set()
    for name, frame in label_files.items():
        ids = frame["reason_id"].fillna("").str.strip()
        owned = ids.map(before.successor) == reason_id
        assigned = pd.Series("", index=frame.index, dtype=object)
        for index in frame.index[owned]:
            text = str(frame.at[index, "text"])
            matches = list(dict.fromkeys(rule(text)))
            strangers.update(set(matches) - set(into))
            if len(matches) == 1:
                assigned[index] = matches[0]
                continue
            why = (
                f"подходят правила {', '.join(matches)}"
                if matches
                else "ни одно правило не подошло"
            )
            to_label.append(
                {
                    "text": text,
                    "reason_id": "",
                    "source": str(frame.at[index, "source"] or ""),
                    "suggested_reason_id": "",
                    "suggested_title": "",
                    "why": why + f" (было {reason_id}, {name})",
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
    return files, pd.DataFrame(to_label, columns=[*TO_LABEL_COLUMNS, "candidates"])


def rules_from_file(path: Path) -> SplitRule:
    """A CSV ``text,reason_id``: the labelled text (case and spacing ignored) -> new reason."""
    path = Path(path)
    table = read_table(path)
    if table.malformed:
        logger.warning(
            "split --rules: rows not read:%s",
            summarise_rows(row_problems(table, path.name), MALFORMED_CAUSES),
        )
    rows = table.frame(path.name)
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
