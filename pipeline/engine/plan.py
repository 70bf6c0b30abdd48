"""Which parts a stage must compute: the input parts whose fingerprint, or the versions the
output depends on, differ from what the output's manifest recorded."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.engine.tasks import CLASSIFY, INPUT_STAGE, LEMMATIZE, Task
from pipeline.io.partitions import Part, intact, read_manifest, require_dataset

logger = logging.getLogger(__name__)

# which fingerprint of an input part a task depends on: lemmatize reads only ids and texts
INPUT_KEY = {LEMMATIZE: "text_fingerprint", CLASSIFY: "fingerprint"}


@dataclass
class Plan:
    kind: str
    source_root: Path
    target_root: Path
    versions: dict
    tasks: list[Task] = field(default_factory=list)
    kept: dict[str, dict] = field(default_factory=dict)  # unchanged parts' manifest entries
    stale: list[str] = field(default_factory=list)  # output parts whose input is gone
    versions_changed: bool = False  # the lemmatiser, model or taxonomy is not last run's

    @property
    def weeks(self) -> list[str]:
        """Weeks of the input dataset."""
        return sorted({Part.parse(n).week for n in [*self.kept, *(t.part for t in self.tasks)]})

    @property
    def changed_weeks(self) -> list[str]:
        return sorted({t.week for t in self.tasks})


def make_plan(kind: str, source_root: Path, target_root: Path, versions: dict) -> Plan:
    """Compare the input dataset's parts with the output's manifest."""
    source = require_dataset(source_root, INPUT_STAGE[kind])
    target = read_manifest(target_root)
    plan = Plan(kind, Path(source_root), Path(target_root), dict(versions))
    for name, info in sorted(source.items()):
        inputs = {"input": info.get(INPUT_KEY[kind]) or info["fingerprint"], **versions}
        have = target.get(name)
        if have and have.get("inputs") == inputs and intact(target_root, name, have):
            plan.kept[name] = have
        else:
            plan.tasks.append(Task(kind, name, str(source_root), str(target_root), inputs))
    plan.stale = sorted(set(target) - set(source))
    recorded = [entry.get("inputs", {}) for entry in target.values()]
    plan.versions_changed = any(
        {k: v for k, v in have.items() if k != "input"} != versions for have in recorded
    )
    return plan


def describe(plan: Plan, what_changed: str) -> None:
    """Log what the run will compute: the weeks and parts, and why all of history if so."""
    weeks = plan.weeks
    if plan.versions_changed and plan.kept == {} and plan.tasks:
        logger.warning(
            "%s: %s — вся история (%d нед.) пересчитывается, чтобы тренды были сопоставимы",
            plan.kind,
            what_changed,
            len(weeks),
        )
    changed = plan.changed_weeks
    logger.info(
        "%s: недель с изменёнными входами %d из %d%s; частей к расчёту %d, без изменений %d%s",
        plan.kind,
        len(changed),
        len(weeks),
        f" ({', '.join(changed)})" if changed else "",
        len(plan.tasks),
        len(plan.kept),
        f"; удаляются {len(plan.stale)} частей недель, которых больше нет" if plan.stale else "",
    )
