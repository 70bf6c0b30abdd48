"""The reason taxonomy (``taxonomy/reasons.yaml``): schema, validation and lookups.

It is the single source of reason ids, titles, groups, owners, targets, quadrants, colours and
display order; nothing else lists reason ids by hand. Mistakes are reported per reason id and key,
in Russian, for the taxonomy maintainer.
"""

from __future__ import annotations

import argparse
import hashlib
import logging
from datetime import date
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from pipeline.config import ConfigError, read_yaml, validation_problems
from pipeline.taxonomy.hints import hint, hints

logger = logging.getLogger(__name__)

MIN_ACTIVE_REASONS = 2  # hard: a classifier needs at least two classes
ADVISED_MIN_REASONS = 20  # Price & Jaffe's advice, a warning only
ADVISED_MAX_REASONS = 30
QUADRANTS = ("eliminate", "automate", "simplify", "leverage")
TARGET_METRICS = ("weekly_volume", "cpx", "share")
# default reason colours, by position in the file (d3 category20, then 20b/20c); explicit colours
# of other reasons are skipped so a default never repeats one
PALETTE = tuple(
    "#1f77b4 #ff7f0e #2ca02c #d62728 #9467bd #8c564b #e377c2 #7f7f7f #bcbd22 #17becf "
    "#aec7e8 #ffbb78 #98df8a #ff9896 #c5b0d5 #c49c94 #f7b6d2 #c7c7c7 #dbdb8d #9edae5 "
    "#393b79 #637939 #8c6d31 #843c39 #7b4173 #3182bd #e6550d #31a354 #756bb1 #636363 "
    "#5254a3 #8ca252 #bd9e39 #ad494a #a55194 #6baed6 #fd8d3c #74c476 #9e9ac8 #969696".split()
)


class TaxonomyError(ConfigError):
    """``reasons.yaml`` breaks the schema; the message names reason ids and keys."""


class MaintenanceError(ConfigError):
    """A maintenance command cannot do what was asked; the message says why and what to do."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Owner(_Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    title: str = Field(min_length=1)
    # department names of the hand-off export that belong to this owner (besides its title)
    departments: tuple[str, ...] = ()


class Target(_Strict):
    metric: Literal["weekly_volume", "cpx", "share"]
    value: float = Field(ge=0)
    due: date


class Reason(_Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    title: str = Field(min_length=3)
    group: str = ""
    definition: str = Field(min_length=20)
    owner: str = Field(min_length=1)
    quadrant: Literal["eliminate", "automate", "simplify", "leverage"]
    target: Target | None = None
    order: int
    colour: str = Field(pattern=r"^#[0-9a-fA-F]{6}$")
    examples: tuple[str, ...] = ()
    reserved: bool = False
    retired: date | None = None
    replaced_by: str | None = None

    @property
    def active(self) -> bool:
        return self.retired is None


class Taxonomy(_Strict):
    version: str = Field(min_length=1)
    undefined_reason: str
    owners: tuple[Owner, ...] = Field(min_length=1)
    reasons: tuple[Reason, ...]

    @model_validator(mode="before")
    @classmethod
    def _defaults(cls, raw: object) -> object:
        """order = position in the file, colour = a palette colour by position, and
        undefined_reason = the only reserved reason, when the file leaves them out."""
        if not isinstance(raw, dict) or not isinstance(raw.get("reasons"), list):
            return raw
        reasons = [dict(r) if isinstance(r, dict) else r for r in raw["reasons"]]
        entries = [r for r in reasons if isinstance(r, dict)]
        taken = {str(r["colour"]).lower() for r in entries if r.get("colour") is not None}
        free = iter(c for c in PALETTE if c not in taken)
        for index, entry in enumerate(reasons):
            if isinstance(entry, dict):
                entry.setdefault("order", index + 1)
                if "colour" not in entry:
                    entry["colour"] = next(free, "#808080")
        reserved = [r.get("id") for r in entries if r.get("reserved") is True]
        raw = {**raw, "reasons": reasons}
        if "undefined_reason" not in raw and len(reserved) == 1:
            raw["undefined_reason"] = reserved[0]
        return raw

    # --- lookups -------------------------------------------------------------------------------

    @cached_property
    def by_id(self) -> dict[str, Reason]:
        return {r.id: r for r in self.reasons}

    @cached_property
    def classes(self) -> list[str]:
        """Reason ids a classifier may predict: active and not reserved, in display order."""
        return [r.id for r in self.ordered if r.active and not r.reserved]

    @cached_property
    def ordered(self) -> list[Reason]:
        return sorted(self.reasons, key=lambda r: (r.order, r.id))

    @cached_property
    def owner_titles(self) -> dict[str, str]:
        return {o.id: o.title for o in self.owners}

    @property
    def undefined(self) -> Reason:
        return self.by_id[self.undefined_reason]

    def successor(self, reason_id: str) -> str:
        """The active reason a (possibly retired) id maps to today, following replaced_by."""
        seen = set()
        while reason_id in self.by_id and self.by_id[reason_id].retired is not None:
            if reason_id in seen:
                break
            seen.add(reason_id)
            reason_id = self.by_id[reason_id].replaced_by or self.undefined_reason
        return reason_id

    def title(self, reason_id: str) -> str:
        reason = self.by_id.get(reason_id)
        return reason.title if reason else reason_id


def _problems(data: Taxonomy) -> list[str]:
    """Cross-reference rules a field schema cannot express."""
    return [
        *_reason_problems(data),
        *_owner_problems(data),
        *_reserved_problems(data),
        *_count_problems(data),
        *_unique_problems(data, "order"),
        *_unique_problems(data, "colour"),
    ]


def _reason_problems(data: Taxonomy) -> list[str]:
    """Each reason: a unique id, a declared owner, a successor exactly when retired."""
    problems = []
    owners = {o.id for o in data.owners}
    seen: dict[str, int] = {}
    for index, reason in enumerate(data.reasons):
        where = f"reasons[{index}] (id={reason.id})"
        if reason.id in seen:
            problems.append(f"{where}: id повторяется (уже есть в reasons[{seen[reason.id]}])")
        seen.setdefault(reason.id, index)
        if reason.owner not in owners:
            problems.append(
                f"{where}.owner: владелец '{reason.owner}' не объявлен в owners; "
                f"ожидается один из: {', '.join(sorted(owners))}"
            )
        if reason.retired is not None and not reason.replaced_by:
            problems.append(f"{where}.replaced_by: у выведенной причины нужен преемник")
        if reason.replaced_by is not None:
            problems += _successor_problems(data, reason, where)
    return problems


def _successor_problems(data: Taxonomy, reason: Reason, where: str) -> list[str]:
    problems = []
    target = next((r for r in data.reasons if r.id == reason.replaced_by), None)
    if reason.retired is None:
        problems.append(
            f"{where}.replaced_by: указан у действующей причины; "
            "добавьте retired: ГГГГ-ММ-ДД или уберите replaced_by"
        )
    if target is None:
        problems.append(f"{where}.replaced_by: причины '{reason.replaced_by}' нет в reasons.yaml")
    elif target.retired is not None:
        problems.append(
            f"{where}.replaced_by: '{reason.replaced_by}' тоже выведена; "
            "укажите действующую причину"
        )
    return problems


def _owner_problems(data: Taxonomy) -> list[str]:
    problems, owner_seen = [], set()
    for index, owner in enumerate(data.owners):
        if owner.id in owner_seen:
            problems.append(f"owners[{index}] (id={owner.id}): id владельца повторяется")
        owner_seen.add(owner.id)
    return problems


def _reserved_problems(data: Taxonomy) -> list[str]:
    reserved = [r.id for r in data.reasons if r.reserved]
    if data.undefined_reason not in {r.id for r in data.reasons}:
        return [
            f"undefined_reason: причины '{data.undefined_reason}' нет в reasons (нужна "
            "зарезервированная причина «Не определено» с reserved: true)" + hint(["reserved"])
        ]
    if reserved != [data.undefined_reason]:
        return [
            f"reserved: ровно одна причина должна быть зарезервирована — "
            f"'{data.undefined_reason}'; сейчас: {reserved or 'ни одной'}"
        ]
    return []


def _count_problems(data: Taxonomy) -> list[str]:
    """Only what breaks the code: a classifier needs at least two reasons to choose from."""
    active = [r for r in data.reasons if r.active and not r.reserved]
    if len(active) >= MIN_ACTIVE_REASONS:
        return []
    return [
        f"reasons: действующих причин {len(active)}, нужно не меньше {MIN_ACTIVE_REASONS} "
        "(классификатору нужно выбирать хотя бы из двух; «Не определено» не считается)"
    ]


def count_warnings(taxonomy: Taxonomy) -> list[str]:
    """Advice, not a rule: Price & Jaffe's 20–30 active reasons (printed, never refused)."""
    active = len(taxonomy.classes)
    if active < ADVISED_MIN_REASONS:
        return [
            f"действующих причин {active}, рекомендуется от {ADVISED_MIN_REASONS} до "
            f"{ADVISED_MAX_REASONS}: при малом числе причины слишком общие и прячут "
            "настоящие корневые причины (Price & Jaffe); для небольшой организации это "
            "допустимо, следите за долей «Не определено» и за крупными причинами"
        ]
    if active > ADVISED_MAX_REASONS:
        return [
            f"действующих причин {active}, рекомендуется от {ADVISED_MIN_REASONS} до "
            f"{ADVISED_MAX_REASONS}: слишком дробные причины трудно различить (модели и "
            "людям) и закрепить за владельцами (Price & Jaffe); подумайте об объединении "
            "(taxonomy merge)"
        ]
    return []


def _unique_problems(data: Taxonomy, key: str) -> list[str]:
    """Active reasons need their own ``order`` and ``colour`` (colours compare case-blind)."""
    problems, values = [], {}
    for r in data.reasons:
        if not r.active:
            continue
        value = getattr(r, key)
        if key == "colour":
            value = str(value).lower()
        if value in values:
            problems.append(
                f"reasons (id={r.id}).{key}: значение {value!r} уже у '{values[value]}'; "
                "ожидается уникальное"
            )
        values[value] = r.id
    return problems


def load_taxonomy(path: Path | str) -> Taxonomy:
    """Load and validate ``reasons.yaml``; raise TaxonomyError listing every problem."""
    path = Path(path)
    try:
        raw = read_yaml(path)
    except ConfigError as exc:
        raise TaxonomyError(str(exc)) from exc
    return validate_taxonomy(raw, path)


def validate_taxonomy(raw: object, path: Path | str) -> Taxonomy:
    """Validate already-parsed YAML (e.g. a proposed edit); ``path`` only names it in errors."""
    path = Path(path)
    if not isinstance(raw, dict):
        raise TaxonomyError(f"{path}: ожидается словарь с ключами version, owners, reasons")
    try:
        taxonomy = Taxonomy.model_validate(raw)
    except ValidationError as exc:
        notes = hints(
            [[p for p in e["loc"] if not str(p).startswith("fun")] for e in exc.errors()]
        )
        lines = [
            a + b for a, b in zip(validation_problems(exc, raw, "reasons"), notes, strict=True)
        ]
        raise TaxonomyError(f"{path}: ошибок {len(lines)}:\n  - " + "\n  - ".join(lines)) from exc
    problems = _problems(taxonomy)
    if problems:
        raise TaxonomyError(f"{path}: ошибок {len(problems)}:\n  - " + "\n  - ".join(problems))
    return taxonomy


def taxonomy_version(path: Path | str) -> str:
    """The declared version plus a short content hash, so any edit changes it."""
    path = Path(path)
    taxonomy = load_taxonomy(path)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:8]
    return f"{taxonomy.version}+{digest}"


def check(path: Path | str) -> str:
    """Validate and summarise, for ``python -m pipeline taxonomy check``."""
    taxonomy = load_taxonomy(path)
    active = taxonomy.classes
    retired = [r.id for r in taxonomy.reasons if r.retired]
    no_target = [r for r in active if taxonomy.by_id[r].target is None]
    lines = [
        f"{path}: OK, версия {taxonomy_version(path)}",
        f"  действующих причин: {len(active)}, выведенных: {len(retired)}, "
        f"владельцев: {len(taxonomy.owners)}",
    ]
    if no_target:
        lines.append(f"  без цели: {', '.join(no_target)}")
    lines += [f"  предупреждение: {w}" for w in count_warnings(taxonomy)]
    return "\n".join(lines)


def check_cli(args: argparse.Namespace) -> None:
    """``taxonomy check``: validate the reason list and print its summary."""
    print(check(args.taxonomy))
