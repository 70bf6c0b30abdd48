"""The SQL tables of a run (contacts, weekly facts, repeats, transfers, drops) and the report
week. Queries are ``pipeline/sql/*.sql``; our own frames enter DuckDB through ``store_frame``."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import duckdb
import pandas as pd

from pipeline import sql
from pipeline.closedloop.config import AggregateConfig, AggregateError
from pipeline.io.inputs import parquet_columns
from pipeline.io.partitions import check_dataset, glob
from pipeline.io.weeks import week_of
from pipeline.taxonomy.schema import Taxonomy
from pipeline.text import mask_column

# tables our code creates from DataFrames (a name is never client data)
STORED_TABLES = frozenset(
    {
        "reasons",
        "successors",
        "handle_defaults",
        "drivers",
        "quarantine",
        "closed_loop",
        "closed_loop_history",
        "weekly_estimated",
        "sla",
        "owner_notes",
        "run_info",
        "handoff_events",
        "handoff_frame",
        "handoff_department_weeks",
        "handoff_departments",
        "handoff_reasons",
    }
)


# the Parquet inputs of the run's tables, and the stage that writes each
INPUT_STAGES = {"drivers": "ingest", "quarantine": "ingest", "handoffs": "ingest"}
# the datasets stored by ISO week (pipeline/io/partitions.py)
DATASET_STAGES = {"contacts": "ingest", "classified": "classify"}


def check_inputs(paths: dict[str, Path]) -> None:
    """Every Parquet input is there and readable before DuckDB reads it (a missing or broken
    one is a message naming its path and the stage that writes it)."""
    for key, stage in INPUT_STAGES.items():
        parquet_columns(paths[key], stage)
    for key, stage in DATASET_STAGES.items():
        if not check_dataset(paths[key], stage):
            raise AggregateError(
                f"{paths[key]}: в наборе нет ни одной недели; запустите `dvc repro {stage}`"
            )


def table_from_parquet(con: duckdb.DuckDBPyConnection, name: str, path: Path) -> None:
    """``CREATE OR REPLACE TABLE name`` from a Parquet file (the path is a bound parameter)."""
    if name not in STORED_TABLES:
        raise ValueError(f"not a table of ours: {name!r}")
    con.execute(
        f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM read_parquet($p)", {"p": str(path)}
    )


def store_frame(
    con: duckdb.DuckDBPyConnection, name: str, frame: pd.DataFrame, temporary: bool = False
) -> None:
    """``CREATE OR REPLACE [TEMP] TABLE name`` from a DataFrame (names from STORED_TABLES)."""
    if name not in STORED_TABLES:
        raise ValueError(f"not a table of ours: {name!r}")
    view = f"{name}_df"
    con.register(view, frame)
    kind = "TEMP TABLE" if temporary else "TABLE"
    con.execute(f"CREATE OR REPLACE {kind} {name} AS SELECT * FROM {view}")
    con.unregister(view)


def reasons_frame(taxonomy: Taxonomy) -> pd.DataFrame:
    owners = taxonomy.owner_titles
    rows = []
    for r in taxonomy.reasons:
        rows.append(
            {
                "reason_id": r.id,
                "title": r.title,
                "group": r.group,
                "definition": r.definition,
                "owner_id": r.owner,
                "owner": owners.get(r.owner, r.owner),
                "quadrant": r.quadrant,
                "order": r.order,
                "colour": r.colour,
                "reserved": r.reserved,
                "active": r.active,
                "retired": r.retired,
                "replaced_by": r.replaced_by,
                "target_metric": r.target.metric if r.target else None,
                "target_value": r.target.value if r.target else None,
                "target_due": r.target.due if r.target else None,
            }
        )
    return pd.DataFrame(rows)


def build_tables(
    con: duckdb.DuckDBPyConnection,
    paths: dict[str, Path],
    taxonomy: Taxonomy,
    config: AggregateConfig,
) -> None:
    """Create the SQL tables (contacts, weekly, repeats, transfers, drops) in ``con``."""
    store_frame(con, "reasons", reasons_frame(taxonomy))
    successors = pd.DataFrame(
        [(r.id, taxonomy.successor(r.id)) for r in taxonomy.reasons],
        columns=["reason_id", "successor"],
    )
    store_frame(con, "successors", successors, temporary=True)
    handle = pd.DataFrame(sorted(config.handle_minutes.items()), columns=["channel", "minutes"])
    store_frame(con, "handle_defaults", handle)
    table_from_parquet(con, "drivers", paths["drivers"])
    # a quarantined row is raw client input: masked like contact texts before it is stored
    quarantine = pd.read_parquet(paths["quarantine"])
    quarantine["raw"] = mask_column(quarantine["raw"])
    store_frame(con, "quarantine", quarantine)
    con.execute(
        sql.load("contacts"),
        {
            "contacts": glob(paths["contacts"]),
            "classified": glob(paths["classified"]),
            "repeat_window_days": config.repeat_window_days,
            "cost_per_minute": config.cost_per_minute,
            "default_handle_minutes": config.default_handle_minutes,
        },
    )
    for name in ("weekly", "repeats", "transfers", "drops"):
        con.execute(sql.load(name))


def choose_report_week(
    con: duckdb.DuckDBPyConnection, config: AggregateConfig, params_path: Path | None = None
) -> str:
    """The configured report week, or the last complete week of the data; ``params_path``
    (the parameters file the run read) is named when the configured week has no data."""
    weeks = [w for (w,) in con.execute(sql.load("weeks")).fetchall()]
    if not weeks:
        raise AggregateError("нет ни одного принятого контакта: отчёт строить не из чего")
    if config.report_week:
        if config.report_week not in weeks:
            where = f"{params_path}, " if params_path else ""
            raise AggregateError(
                f"{where}aggregate.report_week: недели {config.report_week} нет в данных; "
                f"есть недели {weeks[0]}…{weeks[-1]}"
            )
        return config.report_week
    last_local = con.execute(sql.load("last_contact_time")).fetchall()[0][0]
    last_day = pd.Timestamp(last_local).date()
    # the last complete week: the data reaches the last weekday it ever has contacts on
    # (Sunday for a contact centre open every day, Saturday or Friday for a desk that is not);
    # otherwise the week before
    open_days = [d for (d,) in con.execute(sql.load("contact_weekdays")).fetchall()]
    week = week_of(last_day)
    if last_day.isoweekday() < max(open_days):
        week = week_of(last_day - timedelta(days=last_day.weekday() + 1))
    return week if week in weeks else weeks[-1]
