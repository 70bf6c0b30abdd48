"""Owner notes (``taxonomy/owner_notes.yaml``): the reason owner's explanation and action.

This is the "loop" of the closed loop: when a reason rises, its owner writes why and what they
will do; the closed-loop table shows the latest note and whether volume fell after the action
started. Validated like the taxonomy: a mistake names the note, the key and the expected form.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from pipeline.config import ConfigError, format_validation_error, read_yaml
from pipeline.io.weeks import parse_week
from pipeline.taxonomy.schema import Taxonomy

NOTE_COLUMNS = ("reason_id", "week", "author", "explanation", "action", "action_start", "due")


class OwnerNotesError(ConfigError):
    """owner_notes.yaml breaks the schema or names an unknown reason."""


class Note(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    reason: str
    week: str = Field(description="ISO week the note explains, e.g. 2026-W41")
    author: str = Field(min_length=1)
    explanation: str = Field(min_length=10)
    action: str = Field(min_length=5)
    action_start: date
    due: date | None = None

    @field_validator("week")
    @classmethod
    def _iso_week(cls, value: str) -> str:
        return parse_week(value)  # WeekError is a ValueError: pydantic reports it


class OwnerNotes(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    notes: tuple[Note, ...] = ()


def load_owner_notes(path: Path | str, taxonomy: Taxonomy) -> pd.DataFrame:
    """Validated notes as a table (reason ids mapped to today's successors)."""
    path = Path(path)
    raw = read_yaml(path) or {}
    try:
        notes = OwnerNotes.model_validate(raw)
    except ValidationError as exc:
        raise OwnerNotesError(format_validation_error(path, exc, raw, "notes", "reason")) from exc
    problems = []
    for index, note in enumerate(notes.notes):
        if note.reason not in taxonomy.by_id:
            problems.append(f"notes[{index}].reason: причины '{note.reason}' нет в reasons.yaml")
        if note.due is not None and note.due < note.action_start:
            problems.append(
                f"notes[{index}] (reason={note.reason}).due: срок раньше начала "
                "действия (action_start)"
            )
    if problems:
        raise OwnerNotesError(f"{path}: ошибок {len(problems)}:\n  - " + "\n  - ".join(problems))
    rows = [
        {
            "reason_id": taxonomy.successor(n.reason),
            "week": n.week,
            "author": n.author,
            "explanation": n.explanation.strip(),
            "action": n.action.strip(),
            "action_start": n.action_start,
            "due": n.due,
        }
        for n in notes.notes
    ]
    return (
        pd.DataFrame(rows, columns=list(NOTE_COLUMNS))
        .sort_values(["reason_id", "week"], kind="stable")
        .reset_index(drop=True)
    )
