"""The work of one part, the same on every engine: read the input part, compute, write the
output part with the dataset's one writer, return its manifest entry.

BLAS and OpenMP run single-threaded inside a task, so a part's numbers do not depend on how
many threads the machine or a Spark executor has: the same part gives the same bytes anywhere.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path

from threadpoolctl import threadpool_limits

from pipeline.io.inputs import read_parquet
from pipeline.io.partitions import Part, write_part
from pipeline.model.predict import classify_frame
from pipeline.text.batch import LEMMA_COLUMNS, LemmatizeConfig, lemmatize_frame

LEMMATIZE = "lemmatize"
CLASSIFY = "classify"
# the stage that writes each task kind's input, for a missing-input message
INPUT_STAGE = {LEMMATIZE: "ingest", CLASSIFY: "lemmatize"}
SINGLE = LemmatizeConfig(workers=1)


@dataclass(frozen=True)
class Task:
    """Compute one output part from one input part (plain strings: it travels to workers)."""

    kind: str
    part: str  # the part's name in both datasets, "week=2026-W47/part-00000.parquet"
    source_root: str
    target_root: str
    inputs: dict = field(default_factory=dict)  # fingerprints recorded in the output manifest

    @property
    def week(self) -> str:
        return Part.parse(self.part).week


def run_task(task: Task, context, batch_size: int = 100_000) -> tuple[dict, dict]:
    """Compute and write ``task``'s part; returns its manifest entry and, for lemmatize, the
    tokens the lemmatiser learnt (``context``: a ``Lemmatizer`` or a fitted model)."""
    source = Path(task.source_root) / task.part
    with threadpool_limits(limits=1):
        if task.kind == LEMMATIZE:
            known = len(context.cache)
            contacts = read_parquet(source, INPUT_STAGE[task.kind], ["contact_id", "text"])
            frame = lemmatize_frame(contacts, context, SINGLE)
            learnt = dict(islice(context.cache.items(), known, None))  # insertion order
        elif task.kind == CLASSIFY:
            lemmas = read_parquet(source, INPUT_STAGE[task.kind], list(LEMMA_COLUMNS))
            frame = classify_frame(lemmas, context, batch_size)
            learnt = {}
        else:
            raise ValueError(f"unknown task kind {task.kind!r}")
    entry = write_part(Path(task.target_root), Part.parse(task.part), frame, inputs=task.inputs)
    return entry, learnt
