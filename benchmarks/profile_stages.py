"""Where each per-contact stage spends its time: cProfile of ingest, lemmatize and classify on one
week of scale-benchmark exports (diverse texts, ``benchmarks/scale_data.py``), in one process.

Prints, per stage, the wall time and the functions with the most own time (``tottime``) — the
bottlenecks named in README's scale table. Uses the repository's trained model
(``models/reason_classifier.joblib``: run ``dvc repro train`` first)::

    python benchmarks/profile_stages.py --contacts 50000
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from scale_data import ScaleData  # noqa: E402

from pipeline import classify, ingest, lemmatize  # noqa: E402
from pipeline.config import load_params, load_section  # noqa: E402
from pipeline.text.batch import LemmatizeConfig  # noqa: E402


def profiled(name: str, call, top: int) -> float:
    profile = cProfile.Profile()
    started = time.perf_counter()
    profile.runcall(call)
    wall = time.perf_counter() - started
    print(f"\n== {name}: {wall:.1f} s")
    stats = pstats.Stats(profile).sort_stats("tottime")
    stats.print_stats(top)
    return wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--contacts", type=int, default=50_000)
    parser.add_argument("--top", type=int, default=8)
    args = parser.parse_args()
    params = load_params(ROOT / "params.yaml")
    last = date.today() - timedelta(days=date.today().isoweekday() + 7)
    data = ScaleData(ROOT / "taxonomy/reasons.yaml", 1, args.contacts, 17, last)
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        raw = work / "raw"
        for name, content in data.week_files(0).items():
            (raw / name).parent.mkdir(parents=True, exist_ok=True)
            (raw / name).write_bytes(content)
        paths = {k: work / k for k in ("contacts", "lemmas", "classified")}
        profiled(
            "ingest",
            lambda: ingest.main(
                raw,
                paths["contacts"],
                work / "q.parquet",
                work / "d.parquet",
                work / "m.json",
                params.ingest,
            ),
            args.top,
        )
        single = load_section(ROOT / "params.yaml", "lemmatize", LemmatizeConfig).model_copy(
            update={"workers": 1}
        )
        profiled(
            "lemmatize",
            lambda: lemmatize.main(paths["contacts"], paths["lemmas"], work / "c.parquet", single),
            args.top,
        )
        profiled(
            "classify",
            lambda: classify.main(
                paths["lemmas"],
                ROOT / "models/reason_classifier.joblib",
                ROOT / "taxonomy/reasons.yaml",
                paths["classified"],
                classify.ClassifyConfig(workers=1),
            ),
            args.top,
        )


if __name__ == "__main__":
    main()
