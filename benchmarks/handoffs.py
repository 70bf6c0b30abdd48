"""Speed and memory of the hand-off fates: ``handoff_tables`` (fates, the contacts join with
the clients who came back, the department and reason tables) on generated events.

    python benchmarks/handoffs.py [--contacts 1000000] [--weeks 13] [--out FILE.json]

About 30 % of the contacts are handed over (a transfer picked up, a promise kept, late or
never), each hand-off with one or two events, over ``--weeks`` weeks up to 2026-W47; the
contacts table the join needs is in an in-memory DuckDB. Prints wall seconds per step and the
peak RSS of the process (``resource.getrusage``, Linux kilobytes).
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline.closedloop.config import AggregateConfig  # noqa: E402
from pipeline.closedloop.handoff_tables import handoff_tables  # noqa: E402
from pipeline.taxonomy.schema import load_taxonomy  # noqa: E402

DEPARTMENTS = [f"Отдел {i}" for i in range(14)]


def contacts(n: int, weeks: int, rng: np.random.Generator) -> pd.DataFrame:
    end = pd.Timestamp("2026-11-22 23:00", tz="UTC")
    created = end - pd.to_timedelta(rng.uniform(0, weeks * 7 * 86400, n), unit="s")
    iso = created.tz_convert("Europe/Moscow").isocalendar()
    reasons = load_taxonomy(ROOT / "taxonomy" / "reasons.yaml").reasons
    return pd.DataFrame(
        {
            "contact_id": [f"complaint:RQ-{i}" for i in range(n)],
            "reason_id": rng.choice([r.id for r in reasons], n),
            "customer_id": [f"C{i}" for i in rng.integers(0, n // 3, n)],
            "created_at": created,
            "iso_week": iso["year"].astype(str).to_numpy()
            + "-W"
            + iso["week"].astype(str).str.zfill(2).to_numpy(),
        }
    )


def events(people: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    chosen = people.sample(frac=0.3, random_state=1).reset_index(drop=True)
    n = len(chosen)
    handed = chosen["created_at"] + pd.to_timedelta(rng.integers(5, 120, n), unit="m")
    department = rng.choice(DEPARTMENTS, n)
    promise = rng.random(n) < 0.5
    promised = (handed + pd.Timedelta(days=1)).dt.floor("h").where(promise)
    first = pd.DataFrame(
        {
            "event_id": [f"E{i}a" for i in range(n)],
            "contact_id": chosen["contact_id"],
            "event_at": handed,
            "event_type": np.where(promise, "callback_promised", "transferred"),
            "from_department": "Контакт-центр",
            "to_department": department,
            "promised_at": promised,
        }
    )
    done = rng.random(n) > 0.05
    delay = pd.to_timedelta(rng.exponential(10, n), unit="h")
    second = pd.DataFrame(
        {
            "event_id": [f"E{i}b" for i in range(n)],
            "contact_id": chosen["contact_id"],
            "event_at": handed + delay,
            "event_type": np.where(promise, "callback_done", "status_update"),
            "from_department": department,
            "to_department": None,
            "promised_at": pd.NaT,
        }
    )[done]
    frame = pd.concat([first, second], ignore_index=True)
    for column in ("event_at", "promised_at"):
        frame[column] = pd.to_datetime(frame[column], utc=True).astype("datetime64[us, UTC]")
    for column in ("event_id", "contact_id", "event_type", "from_department", "to_department"):
        frame[column] = frame[column].astype("string")
    frame["source_file"] = "handoffs/bench.csv"
    frame["source_row"] = np.arange(len(frame), dtype="int64") + 2
    return frame.sort_values(["event_at", "event_id"], ignore_index=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--weeks", type=int, default=13)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    people = contacts(args.contacts, args.weeks, rng)
    frame = events(people, rng)
    con = duckdb.connect()
    con.register("people", people)
    con.execute("CREATE TABLE contacts AS SELECT * FROM people")
    con.unregister("people")
    taxonomy = load_taxonomy(ROOT / "taxonomy" / "reasons.yaml")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "handoffs.parquet"
        frame.to_parquet(path, index=False)
        start = time.perf_counter()
        result = handoff_tables(con, path, "2026-W47", AggregateConfig(), taxonomy)
        seconds = time.perf_counter() - start
    figures = {
        "contacts": args.contacts,
        "events": len(frame),
        "handoffs": len(result.handoffs),
        "seconds": round(seconds, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "fates": result.handoffs["fate"].value_counts().to_dict(),
    }
    print(json.dumps(figures, ensure_ascii=False, indent=1))
    if args.out:
        args.out.write_text(json.dumps(figures, ensure_ascii=False, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
