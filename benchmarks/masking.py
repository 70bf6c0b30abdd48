"""What masking personal data costs: seconds per 10,000 contacts, on the demo exports and on the
real sets of ``../shared/data`` (longer texts).

    python benchmarks/masking.py [--data-root ../shared/data] [--repeat 3] [--out FILE.json]

Per text set it times, best of ``--repeat`` runs on one core:

* ``mask`` — ``mask_personal_data`` on every text (numbers, e-mails, addresses, names), with the
  name cache warm (a weekly run sees mostly known words) and cold (first text of a process);
* ``mask_column`` — what ingest does: each distinct text masked once;
* ``normalize`` — the feature step, which now also masks (it reads mask labels as placeholders);
* ``names_share`` — the part of ``mask`` spent on names and addresses.

Demo texts: the texts of ``data/raw`` (read with the pipeline's own reader, so the numbers are
those of the bundled demo); real sets: every text of each set found.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from realsets import SHARED_DATA, available, load_set  # noqa: E402

from pipeline.config import load_params  # noqa: E402
from pipeline.io.exports import read_exports  # noqa: E402
from pipeline.io.sources import list_sources  # noqa: E402
from pipeline.text import (  # noqa: E402
    mask_column,
    mask_personal_data,
    names,  # noqa: E402
    normalize,
)

PER = 10_000


def demo_texts() -> list[str]:
    raw = ROOT / "data" / "raw"
    config = load_params(ROOT / "params.yaml").ingest
    accepted, _, _ = read_exports(list_sources(raw), raw, config)
    frame = pd.concat(accepted, ignore_index=True)
    return [t for t in frame["text"].tolist() if isinstance(t, str) and t]


def best_of(repeat: int, work) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


def per_10k(seconds: float, count: int) -> float:
    return round(seconds / count * PER, 3)


def measure(texts: list[str], repeat: int) -> dict:
    names.name_score.cache_clear()
    start = time.perf_counter()
    for text in texts:
        mask_personal_data(text)
    cold = time.perf_counter() - start
    warm = best_of(repeat, lambda: [mask_personal_data(t) for t in texts])
    people = best_of(repeat, lambda: [names.mask_names(names.mask_addresses(t)) for t in texts])
    column = pd.Series(texts, dtype="string")
    dedup = best_of(repeat, lambda: mask_column(column))
    features = best_of(repeat, lambda: [normalize(t) for t in texts])
    return {
        "texts": len(texts),
        "distinct_texts": int(column.nunique()),
        "mean_chars": round(sum(map(len, texts)) / len(texts)),
        "mask_s_per_10k_warm": per_10k(warm, len(texts)),
        "mask_s_per_10k_cold": per_10k(cold, len(texts)),
        "mask_column_s_per_10k": per_10k(dedup, len(texts)),
        "normalize_s_per_10k": per_10k(features, len(texts)),
        "names_share": round(people / warm, 2),
        "masked_texts_share": round(
            sum(mask_personal_data(t) != t for t in texts) / len(texts), 3
        ),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-root", type=Path, default=SHARED_DATA)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    results = {"machine": {"cores": os.cpu_count(), "python": sys.version.split()[0]}}
    results["demo"] = measure(demo_texts(), args.repeat)
    for name in available(args.data_root):
        results[name] = measure(list(load_set(name, args.data_root).texts), args.repeat)
    print("set                   texts  chars  mask/10k (warm, cold)  ingest/10k  normalize/10k")
    for name, row in results.items():
        if name == "machine":
            continue
        print(
            f"{name:20} {row['texts']:6} {row['mean_chars']:6}  "
            f"{row['mask_s_per_10k_warm']:6.2f} s, {row['mask_s_per_10k_cold']:6.2f} s  "
            f"{row['mask_column_s_per_10k']:8.2f} s  {row['normalize_s_per_10k']:8.2f} s"
        )
    text = json.dumps(results, ensure_ascii=False, indent=2)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    else:
        print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
