"""The Spark engine against the local engine: wall time of lemmatize and classify, and the same
bytes.

    python benchmarks/spark_engine.py --contacts DIR --model FILE [--master local[2]]
        [--work DIR] [--out FILE.json]

``--contacts`` is a contacts dataset as ingest writes it, e.g. of generated exports::

    python -m pipeline synth --out B/raw --answers B/answers.csv --weeks 4 --contacts 200000
    python -m pipeline ingest --raw B/raw --contacts B/contacts --quarantine B/q.parquet \\
        --drivers B/drivers.parquet --metrics B/ingest.json

Each run lemmatises every part (empty lemma cache) and classifies every part, on: the local
engine with one worker, with two worker processes, and Spark at ``--master``. Each stage runs as
its own ``python -m pipeline`` process, as ``dvc repro`` runs it, so a time includes starting
Python, loading the lemmatiser or the model and, on Spark, starting its JVM and session. The
parts, manifests and lemma cache of every run must be the bytes of the first run.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
RUNS = (
    ("local, 1 worker", {"engine": "local", "workers": 1}),
    ("local, 2 workers", {"engine": "local", "workers": 2}),
    ("spark", {"engine": "spark", "workers": 1}),
)


def params_file(folder: Path, settings: dict, master: str) -> Path:
    """The project's params.yaml with this run's engine, workers and master for both stages."""
    params = yaml.safe_load((ROOT / "params.yaml").read_text(encoding="utf-8"))
    for stage in ("lemmatize", "classify"):
        params[stage].update(settings, spark_master=master)
    path = folder / "params.yaml"
    path.write_text(yaml.safe_dump(params, allow_unicode=True), encoding="utf-8")
    return path


def stage(name: str, params: Path, *args: str) -> float:
    """Run ``python -m pipeline NAME`` and return its wall time in seconds."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "pipeline", "--params", str(params), name, *args]
    start = time.perf_counter()
    subprocess.run(command, cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def run(folder: Path, contacts: Path, model: Path, settings: dict, master: str) -> dict:
    folder.mkdir(parents=True)
    params = params_file(folder, settings, master)
    lemmas, classified = folder / "lemmas", folder / "classified"
    cache = folder / "lemma_cache.parquet"
    taxonomy = ROOT / "taxonomy/reasons.yaml"
    lemmatize_s = stage(
        "lemmatize", params, "--contacts", str(contacts), "--lemmas", str(lemmas),
        "--cache", str(cache),
    )  # fmt: skip
    classify_s = stage(
        "classify", params, "--lemmas", str(lemmas), "--model", str(model),
        "--taxonomy", str(taxonomy), "--out", str(classified),
    )  # fmt: skip
    return {"lemmatize_s": round(lemmatize_s, 1), "classify_s": round(classify_s, 1)}


def outputs(folder: Path) -> dict[str, bytes]:
    """Every part, manifest and the lemma cache, by path inside the run's folder."""
    files = [*folder.glob("lemmas/**/*"), *folder.glob("classified/**/*")]
    files += [folder / "lemma_cache.parquet"]
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(files) if p.is_file()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=Path, required=True)
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--work", type=Path, default=None, help="folder for the runs' outputs")
    parser.add_argument("--out", type=Path, default=None, help="JSON file of the results")
    args = parser.parse_args()
    manifest = json.loads((args.contacts / "_manifest.json").read_text(encoding="utf-8"))
    rows = sum(entry["rows"] for entry in manifest["parts"].values())
    print(f"contacts: {rows:,} rows in {len(manifest['parts'])} parts; spark master {args.master}")
    work = args.work or Path(tempfile.mkdtemp(prefix="spark-engine-bench-"))
    results, reference = {}, None
    for i, (name, settings) in enumerate(RUNS):
        folder = work / f"run-{i}"
        results[name] = run(
            folder, args.contacts.resolve(), args.model.resolve(), settings, args.master
        )
        files = outputs(folder)
        reference = reference or files
        results[name]["identical"] = files == reference
        times = results[name]
        print(
            f"{name:18} lemmatize {times['lemmatize_s']:7.1f} s   classify "
            f"{times['classify_s']:7.1f} s   same bytes: {times['identical']}"
        )
    report = {"contacts": rows, "parts": len(manifest["parts"]), "master": args.master, **results}
    if args.out:
        args.out.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    if not all(r["identical"] for r in results.values()):
        sys.exit("outputs differ between engines")


if __name__ == "__main__":
    main()
