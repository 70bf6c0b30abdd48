"""Reading the files one stage hands the next (Parquet, JSON, the DuckDB warehouse).

A missing or unreadable input is an ``InputError`` naming the path as it was given and the stage
that writes it («запустите `dvc repro lemmatize`»), never a pyarrow or DuckDB traceback.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from pipeline.errors import PipelineError


class InputError(PipelineError, ValueError):
    """An input file is missing or is not what the stage that writes it writes."""


def _made_by(stage: str | None) -> str:
    return f"; его пишет стадия {stage}: запустите `dvc repro {stage}`" if stage else ""


def require(path: Path, stage: str | None = None) -> Path:
    """``path`` itself if it is a file; otherwise an error naming it and the stage to run."""
    path = Path(path)
    if path.is_dir():
        raise InputError(f"{path}: это папка, а ожидается файл{_made_by(stage)}")
    if not path.exists():
        raise InputError(f"{path}: файла нет{_made_by(stage)}")
    return path


def parquet_columns(path: Path, stage: str | None = None) -> list[str]:
    """The columns of a Parquet file, read from its footer (a check before DuckDB reads it)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    require(path, stage)
    try:
        return list(pq.read_schema(path).names)
    except (pa.ArrowException, OSError) as exc:
        raise InputError(f"{path}: не читается как Parquet ({exc}){_made_by(stage)}") from exc


def read_parquet(
    path: Path, stage: str | None = None, columns: list[str] | None = None
) -> pd.DataFrame:
    """A Parquet file, or only ``columns`` of it (a missing column is named, with those there)."""
    import pyarrow as pa

    names = parquet_columns(path, stage)
    missing = [c for c in columns or () if c not in names]
    if missing:
        raise InputError(f"{path}: нет столбцов {missing} (есть {names}){_made_by(stage)}")
    try:
        return pd.read_parquet(path, columns=columns)
    except (pa.ArrowException, OSError) as exc:
        raise InputError(f"{path}: не читается как Parquet ({exc}){_made_by(stage)}") from exc


def read_json(path: Path, stage: str | None = None) -> dict:
    """A JSON object (the metrics a stage writes)."""
    require(path, stage)
    try:
        content = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{path}: не читается как JSON ({exc}){_made_by(stage)}") from exc
    if not isinstance(content, dict):
        raise InputError(f"{path}: ожидается объект JSON{_made_by(stage)}")
    return content


def connect_read_only(path: Path, stage: str | None = None):
    """A read-only DuckDB connection to a database file (the warehouse). Queries see only its
    tables: a missing table is DuckDB's ``CatalogException``, never a Python variable of that
    name found by a replacement scan."""
    import duckdb

    require(path, stage)
    try:
        con = duckdb.connect(str(path), read_only=True)
        con.execute("SET python_enable_replacements = false")
        return con
    except duckdb.Error as exc:
        raise InputError(
            f"{path}: не открывается как база DuckDB ({exc}){_made_by(stage)}"
        ) from exc
