"""A per-part stage from plan to manifest: compute what changed on the chosen engine, keep the
rest, drop the parts whose input is gone, then write the manifest (last)."""

from __future__ import annotations

import logging
from pathlib import Path

from pipeline.engine.local import run_local
from pipeline.engine.plan import Plan, describe, make_plan
from pipeline.io.partitions import clear_unlisted, write_manifest

logger = logging.getLogger(__name__)

ENGINES = ("local", "spark")


def run_stage(
    kind: str,
    source_root: Path,
    target_root: Path,
    versions: dict,
    context,
    *,
    engine: str = "local",
    workers: int = 1,
    batch_size: int = 100_000,
    what_changed: str = "версии изменились",
    spark_master: str | None = None,
) -> tuple[Plan, dict[str, str]]:
    """Bring ``target_root`` up to date with ``source_root``; returns the plan and the tokens
    learnt (lemmatize's cache grows by them)."""
    plan = make_plan(kind, source_root, target_root, versions)
    describe(plan, what_changed)
    if engine == "spark":
        from pipeline.engine.spark import run_spark

        entries, learnt = run_spark(plan.tasks, context, batch_size, master=spark_master)
    elif engine == "local":
        entries, learnt = run_local(plan.tasks, context, workers, batch_size)
    else:
        raise ValueError(f"engine {engine!r}: expected one of {ENGINES}")
    parts = {**plan.kept, **entries}
    clear_unlisted(target_root, parts)  # also the stale parts, whose input is gone
    write_manifest(target_root, parts)
    return plan, learnt
