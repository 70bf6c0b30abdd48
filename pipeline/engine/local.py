"""The local engine: the plan's tasks in this process, or in worker processes (each starts
with the context once, through the pool's initializer)."""

from __future__ import annotations

import sys
from concurrent.futures import ProcessPoolExecutor

from tqdm import tqdm

from pipeline.engine.tasks import Task, run_task

_context = None  # a worker process's lemmatiser or model
_batch_size = 100_000


def _start_worker(context, batch_size: int) -> None:
    global _context, _batch_size
    _context, _batch_size = context, batch_size


def _run_in_worker(task: Task) -> tuple[str, dict, dict]:
    entry, learnt = run_task(task, _context, _batch_size)
    return task.part, entry, learnt


def run_local(
    tasks: list[Task], context, workers: int = 1, batch_size: int = 100_000
) -> tuple[dict[str, dict], dict[str, str]]:
    """Every task's manifest entry by part name, and the tokens learnt (lemmatize)."""
    entries: dict[str, dict] = {}
    learnt: dict[str, str] = {}
    show = sys.stderr.isatty()
    if workers <= 1 or len(tasks) <= 1:
        for task in tqdm(tasks, disable=not show, unit="part"):
            entries[task.part], new = run_task(task, context, batch_size)
            learnt.update(new)
        return entries, learnt
    with ProcessPoolExecutor(
        max_workers=workers, initializer=_start_worker, initargs=(context, batch_size)
    ) as pool:
        for part, entry, new in tqdm(
            pool.map(_run_in_worker, tasks), total=len(tasks), disable=not show, unit="part"
        ):
            entries[part] = entry
            learnt.update(new)
    return entries, learnt
