"""Scale benchmark of the whole weekly pipeline (``make bench-scale``, GitHub issue #17).

Generates realistic exports (``scale_data``: nearly every text distinct), copies the project (the
files git tracks) into a scratch folder with those exports as ``data/raw``, and runs every
``dvc.yaml`` stage in order with ``dvc repro --single-item``, measuring each stage's wall time
and peak memory. Three runs:

* full: ``--history-weeks`` weeks of exports, from scratch;
* incremental: the same folder after ONE more week of exports (the next ISO week) is added;
* week alone: that new week's exports only, in a fresh folder.

Peak memory is measured two ways: ``peak_rss_mb`` is ``ru_maxrss`` from ``os.wait4`` on the dvc
process (in a small launcher process, see ``LAUNCHER``), i.e. the largest single process of the
tree (dvc waits for the stage's ``python -m pipeline``, so its peak is included);
``tree_rss_mb`` is the largest sum of RSS over the dvc process tree, sampled by psutil every
``SAMPLE_S`` seconds (misses peaks shorter than that).

Writes ``scale.json`` and ``scale.md`` (the table) to ``--out`` and prints the table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import threading
import time
from datetime import date, timedelta
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT))

from scale_data import ScaleData, text_stats  # noqa: E402

SAMPLE_S = 0.2
GOAL_SECONDS = 120.0  # 1 M contacts end to end
GOAL_RSS_MB = 4096.0
GOAL_RATIO = 1.5  # +1 week against that week alone
GOAL_CONTACTS = 1_000_000
RAW = "data/raw"  # the folder the benchmark fills with its exports
# tracked files the pipeline does not need in the scratch copy
SKIP_PREFIXES = ("data/raw/", "data/demo/", "tests/", "notebooks/", ".ci/", "dvc.lock")


def stage_names(dvc_yaml: Path) -> list[str]:
    """Stage names in dvc.yaml's order (the order they are run and reported)."""
    return list(yaml.safe_load(dvc_yaml.read_text(encoding="utf-8"))["stages"])


def data_stages(dvc_yaml: Path) -> list[str]:
    """Stages that depend, directly or through other stages' outputs, on the exports in
    ``data/raw``; the others (train: taxonomy and labels only) are not re-run for a new week."""
    spec = yaml.safe_load(dvc_yaml.read_text(encoding="utf-8"))
    variables = {k: str(v) for entry in spec.get("vars", []) for k, v in entry.items()}

    def paths(entries: list) -> list[str]:
        out = []
        for entry in entries or []:
            for name in entry if isinstance(entry, dict) else [entry]:
                out.append(re.sub(r"\$\{(\w+)\}", lambda m: variables[m[1]], name))
        return out

    touched, stages = {RAW}, []
    for name, stage in spec["stages"].items():
        deps = paths(stage.get("deps"))
        if any(d in touched or d.startswith(f"{RAW}/") for d in deps):
            stages.append(name)
            for key in ("outs", "metrics", "plots"):
                touched.update(paths(stage.get(key)))
    return stages


def copy_project(source: Path, dest: Path) -> None:
    """The files git tracks in ``source``'s working tree (as they are now), without the demo
    exports, plus a DVC repository that needs no git."""
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=source, check=True, capture_output=True
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        if name.startswith(SKIP_PREFIXES) or not (source / name).is_file():
            continue
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source / name, target)
    dvc(dest, "config", "core.no_scm", "true")


def dvc(cwd: Path, *args: str) -> None:
    subprocess.run(
        [dvc_binary(), *args], cwd=cwd, check=True, env=stage_env(), stdout=subprocess.DEVNULL
    )


def dvc_binary() -> str:
    return str(Path(sys.executable).with_name("dvc"))


def stage_env() -> dict[str, str]:
    """PATH with this Python's bin first: the stages' ``python -m pipeline`` is this venv's."""
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.pop("PYTHONPATH", None)  # the scratch copy's pipeline/, not the source tree's
    env["PYTHONPATH"] = "."
    return env


def _tree_rss(pid: int, include_root: bool = True) -> int:
    import psutil

    try:
        root = psutil.Process(pid)
        procs = [root] * include_root + root.children(recursive=True)
    except psutil.NoSuchProcess:
        return 0
    total = 0
    for proc in procs:
        try:
            total += proc.memory_info().rss
        except psutil.NoSuchProcess:
            pass
    return total


# Runs the measured command and prints its rusage. ru_maxrss counts the memory a process had
# before exec, so a command forked straight from this (large) process would report at least this
# process's own peak; forked from this small launcher, it reports its own.
LAUNCHER = """
import json, os, sys
pid = os.fork()
if pid == 0:
    os.execvp(sys.argv[2], sys.argv[2:])
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as out:
    json.dump({"code": os.waitstatus_to_exitcode(status), "maxrss_kb": usage.ru_maxrss}, out)
"""


def run_measured(cmd: list[str], cwd: Path, log: Path) -> dict:
    """Wall seconds, ru_maxrss of the command and its waited-for descendants (the largest
    single process), and the sampled peak RSS sum of its process tree."""
    result = log.with_name(f".{log.name}.rusage.json")
    start = time.perf_counter()
    with log.open("ab") as out:
        out.write(f"\n$ {' '.join(cmd)}\n".encode())
        out.flush()
        proc = subprocess.Popen(
            [sys.executable, "-c", LAUNCHER, str(result), *cmd],
            cwd=cwd,
            env=stage_env(),
            stdout=out,
            stderr=out,
        )
    peak = [0]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], _tree_rss(proc.pid, include_root=False))
            done.wait(SAMPLE_S)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    proc.wait()
    wall = time.perf_counter() - start
    done.set()
    sampler.join()
    usage = json.loads(result.read_text(encoding="utf-8"))
    result.unlink()
    if proc.returncode != 0 or usage["code"] != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({usage['code']}); see {log}")
    return {
        "wall_s": round(wall, 2),
        "peak_rss_mb": round(usage["maxrss_kb"] / 1024, 1),  # Linux: kilobytes
        "tree_rss_mb": round(peak[0] / 2**20, 1),
    }


def run_pipeline(
    workdir: Path, stages: list[str], data: list[str], contacts: int, log: Path
) -> dict:
    results = {}
    for stage in stages:
        print(f"  {workdir.name}: {stage} ...", flush=True)
        measured = run_measured(
            [dvc_binary(), "repro", "--single-item", stage], cwd=workdir, log=log
        )
        measured["contacts_per_s"] = round(contacts / measured["wall_s"], 1)
        results[stage] = measured
        print(f"    {measured}", flush=True)
    return {
        "contacts": contacts,
        "stages": results,
        "total": _total(results.values(), contacts),
        "data_stages": _total([results[s] for s in data], contacts),
    }


def _total(results, contacts: int) -> dict:
    results = list(results)
    wall = sum(r["wall_s"] for r in results)
    return {
        "wall_s": round(wall, 2),
        "peak_rss_mb": max(r["peak_rss_mb"] for r in results),
        "tree_rss_mb": max(r["tree_rss_mb"] for r in results),
        "contacts_per_s": round(contacts / wall, 1),
    }


def write_files(files: dict[str, bytes], raw: Path) -> None:
    for name, content in files.items():
        path = raw / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)


def last_complete_week(today: date) -> date:
    """Monday of the last ISO week that has ended (ingest quarantines future dates)."""
    return today - timedelta(days=today.weekday() + 7)


def machine() -> dict:
    try:
        import psutil

        ram = psutil.virtual_memory().total
    except ImportError:
        ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return {
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "ram_gb": round(ram / 2**30, 1),
    }


def goals(report: dict) -> dict:
    full = report["runs"]["full"]["total"]
    ratio = report["incremental_ratio"]
    contacts = report["runs"]["full"]["contacts"]
    return {
        "end_to_end": {
            "goal": f"{GOAL_CONTACTS:,} contacts end to end <= {GOAL_SECONDS:.0f} s",
            "measured_contacts": contacts,
            "wall_s": full["wall_s"],
            "met": full["wall_s"] <= GOAL_SECONDS and contacts >= GOAL_CONTACTS,
        },
        "peak_rss": {
            "goal": f"peak RSS <= {GOAL_RSS_MB / 1024:.0f} GB",
            "peak_rss_mb": max(r["total"]["peak_rss_mb"] for r in report["runs"].values()),
            "met": all(r["total"]["peak_rss_mb"] <= GOAL_RSS_MB for r in report["runs"].values()),
        },
        "incremental": {
            "goal": f"+1 week <= {GOAL_RATIO}x that week alone",
            "ratio": ratio,
            "met": ratio <= GOAL_RATIO,
        },
    }


RUN_TITLES = {
    "full": "full run",
    "incremental": "incremental run (+1 week)",
    "alone": "new week alone",
}


def markdown(report: dict) -> str:
    p = report["parameters"]
    data_only = p["data_stages"]
    lines = [
        f"# Scale benchmark: {p['contacts_per_week']:,} contacts/week, "
        f"{p['history_weeks']} history week(s) + 1",
        "",
        f"Machine: {report['machine']['cpu_count']} CPUs, {report['machine']['ram_gb']} GB RAM, "
        f"Python {report['machine']['python']}. Texts: "
        f"{report['texts']['distinct_share']:.1%} distinct, words p50 "
        f"{report['texts']['words_percentiles']['p50']}, p95 "
        f"{report['texts']['words_percentiles']['p95']}, p99 "
        f"{report['texts']['words_percentiles']['p99']}. "
        f"Generation {report['generation_s']} s.",
        "",
        "| run | stage | wall s | peak RSS MB | tree RSS MB | contacts/s |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for run, title in RUN_TITLES.items():
        data = report["runs"][run]
        label = f"{title} ({data['contacts']:,} contacts)"
        rows = [
            *data["stages"].items(),
            ("**total**", data["total"]),
            (
                "total without " + ", ".join(s for s in data["stages"] if s not in data_only),
                data["data_stages"],
            ),
        ]
        for stage, r in rows:
            lines.append(
                f"| {label} | {stage} | {r['wall_s']:.1f} | {r['peak_rss_mb']:.0f} | "
                f"{r['tree_rss_mb']:.0f} | {r['contacts_per_s']:,.0f} |"
            )
            label = ""
    g = report["goals"]

    def mark(ok: bool) -> str:
        return "met" if ok else "not met"

    end = g["end_to_end"]
    at = (
        ""
        if end["measured_contacts"] == GOAL_CONTACTS
        else f" (measured at {end['measured_contacts']:,} contacts)"
    )
    lines += [
        "",
        f"Incremental ratio (+1 week run / week alone): {report['incremental_ratio']:.2f} over "
        f"the stages that read the exports ({', '.join(data_only)}); "
        f"{report['incremental_ratio_all_stages']:.2f} over all stages.",
        "",
        f"Goals: 1 M contacts end to end ≤ {GOAL_SECONDS:.0f} s: {mark(end['met'])} "
        f"({end['wall_s']:.0f} s{at}); peak RSS ≤ 4 GB: {mark(g['peak_rss']['met'])} "
        f"({g['peak_rss']['peak_rss_mb']:.0f} MB); +1 week ≤ {GOAL_RATIO}× that week alone: "
        f"{mark(g['incremental']['met'])} ({report['incremental_ratio']:.2f}×)",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--contacts-per-week", type=int, default=1_000_000)
    parser.add_argument("--weeks", type=int, default=1, help="weeks of the full run")
    parser.add_argument(
        "--history-weeks", type=int, default=None, help="weeks before the added one (= --weeks)"
    )
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument(
        "--end", type=date.fromisoformat, default=None, help="a day of the added week"
    )
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "bench-scale")
    parser.add_argument("--keep", action="store_true", help="keep the scratch folders")
    args = parser.parse_args(argv)
    history = args.history_weeks or args.weeks
    out = args.out.resolve()
    work = out / "work"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    log = out / "dvc.log"
    log.write_text("", encoding="utf-8")
    stages = stage_names(ROOT / "dvc.yaml")
    data_only = data_stages(ROOT / "dvc.yaml")

    started = time.perf_counter()
    end = args.end or last_complete_week(date.today())
    data = ScaleData(
        ROOT / "taxonomy" / "reasons.yaml", history + 1, args.contacts_per_week, args.seed, end
    )
    full_dir, alone_dir = work / "full", work / "alone"
    copy_project(ROOT, full_dir)
    texts: list[str] = []
    new_week = None
    for i in range(history + 1):
        files = data.week_files(i)
        if i < history:
            write_files(files, full_dir / "data" / "raw")
        else:
            new_week = files
        texts.extend(_texts(files))
    (full_dir / "data" / "raw" / "drivers.csv").write_bytes(data.drivers(list(range(history))))
    generation_s = round(time.perf_counter() - started, 1)
    stats = text_stats(texts)
    del texts
    print(f"generated {stats['texts']:,} contacts in {generation_s} s: {stats}", flush=True)

    runs = {}
    print("full run", flush=True)
    runs["full"] = run_pipeline(full_dir, stages, data_only, _count(full_dir), log)
    write_files(new_week, full_dir / "data" / "raw")
    (full_dir / "data" / "raw" / "drivers.csv").write_bytes(data.drivers(list(range(history + 1))))
    print("incremental run (+1 week)", flush=True)
    runs["incremental"] = run_pipeline(full_dir, stages, data_only, _count(full_dir), log)
    if not args.keep:
        shutil.rmtree(full_dir)
    copy_project(ROOT, alone_dir)
    write_files(new_week, alone_dir / "data" / "raw")
    (alone_dir / "data" / "raw" / "drivers.csv").write_bytes(data.drivers([history]))
    print("new week alone", flush=True)
    runs["alone"] = run_pipeline(alone_dir, stages, data_only, _count(alone_dir), log)
    if not args.keep:
        shutil.rmtree(work)

    report = {
        "machine": machine(),
        "parameters": {
            "contacts_per_week": args.contacts_per_week,
            "history_weeks": history,
            "added_week": data.labels()[-1],
            "weeks": data.labels(),
            "seed": args.seed,
            "stages": stages,
            "data_stages": data_only,
            "rss": "peak_rss_mb: ru_maxrss from os.wait4 on dvc in a small launcher (largest "
            "single process incl. the stage); tree_rss_mb: psutil sum over the dvc process "
            f"tree every {SAMPLE_S} s",
        },
        "generation_s": generation_s,
        "texts": stats,
        "runs": runs,
        # headline: the stages a new week re-runs (train depends on the labels only, so
        # dvc skips it in the incremental run but not in a fresh folder)
        "incremental_ratio": round(
            runs["incremental"]["data_stages"]["wall_s"] / runs["alone"]["data_stages"]["wall_s"],
            3,
        ),
        "incremental_ratio_all_stages": round(
            runs["incremental"]["total"]["wall_s"] / runs["alone"]["total"]["wall_s"], 3
        ),
    }
    report["goals"] = goals(report)
    out.mkdir(parents=True, exist_ok=True)
    (out / "scale.json").write_text(
        json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    table = markdown(report)
    (out / "scale.md").write_text(table, encoding="utf-8")
    print(table)
    return 0


def _texts(files: dict[str, bytes]) -> list[str]:
    """The contact texts of one week's exports (for the distinct share)."""
    import csv
    import io

    texts = []
    for name, content in files.items():
        if name.endswith(".jsonl"):
            texts += [json.loads(line)["description"] for line in content.splitlines()]
        elif name.startswith("calls/"):
            rows = csv.reader(io.StringIO(content.decode("cp1251")), delimiter=";")
            texts += [row[-1] for row in list(rows)[1:]]
        else:
            rows = csv.reader(io.StringIO(content.decode("utf-8-sig")))
            texts += [row[4] for row in list(rows)[1:]]
    return texts


def _count(workdir: Path) -> int:
    """Contacts in a folder's exports (data rows of every export file)."""
    raw = workdir / "data" / "raw"
    total = 0
    for path in [*raw.glob("calls/*"), *raw.glob("complaints/*")]:
        lines = path.read_bytes().count(b"\n")
        total += lines - (0 if path.suffix == ".jsonl" else 1)
    return total


if __name__ == "__main__":
    sys.exit(main())
