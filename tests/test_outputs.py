"""Outputs are written to a hidden temporary file and renamed on success: a failure leaves the
previous output byte-identical and no temporary file behind (``pipeline/io/outputs.py``); inputs
that are missing or unreadable are named with the stage that writes them
(``pipeline/io/inputs.py``)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from pipeline.errors import PipelineError
from pipeline.io import inputs, outputs
from pipeline.io.outputs import OutputError, OutputSet, atomic_path, temp_path, write

FRAME = pd.DataFrame({"contact_id": ["a", "b"], "n": [1, 2]})


def leftovers(folder: Path) -> list[str]:
    """Temporary files (hidden ``.name.<pid>.tmp`` and DuckDB's ``.wal`` beside them)."""
    return sorted(p.name for p in folder.rglob("*") if ".tmp" in p.name)


def old_file(path: Path, content: bytes = b"old output\n") -> bytes:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return content


def test_temp_path_is_hidden_in_the_same_folder():
    tmp = temp_path(Path("data/interim/contacts.parquet"))
    assert tmp.parent == Path("data/interim")
    assert tmp.name == f".contacts.parquet.{os.getpid()}.tmp"


def test_a_successful_write_replaces_the_file_and_leaves_no_temp(tmp_path):
    target = tmp_path / "out" / "m.json"
    old_file(target)
    assert write(target, outputs.json_text({"б": 1}, sort_keys=True)) == target
    assert target.read_bytes() == '{\n  "б": 1\n}\n'.encode()
    assert leftovers(tmp_path) == []


def test_the_writers_give_the_bytes_pandas_and_json_give(tmp_path):
    """The same bytes as the direct calls the stages made before (demo outputs unchanged)."""
    write(tmp_path / "a.parquet", outputs.parquet(FRAME))
    FRAME.to_parquet(tmp_path / "b.parquet", index=False)
    assert (tmp_path / "a.parquet").read_bytes() == (tmp_path / "b.parquet").read_bytes()
    write(tmp_path / "a.csv", outputs.csv(FRAME))
    FRAME.to_csv(tmp_path / "b.csv", index=False)
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
    metrics = {"б": [1, 2.5], "a": None}
    write(tmp_path / "a.json", outputs.json_text(metrics))
    (tmp_path / "b.json").write_text(
        json.dumps(metrics, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    assert (tmp_path / "a.json").read_bytes() == (tmp_path / "b.json").read_bytes()


def test_a_joblib_model_round_trips(tmp_path):
    import joblib

    write(tmp_path / "m.joblib", outputs.joblib_dump({"weights": [1, 2]}))
    joblib.dump({"weights": [1, 2]}, tmp_path / "direct.joblib", compress=3)
    assert joblib.load(tmp_path / "m.joblib") == {"weights": [1, 2]}
    assert (tmp_path / "m.joblib").read_bytes() == (tmp_path / "direct.joblib").read_bytes()


def test_an_exception_while_writing_keeps_the_old_file_and_removes_the_temp(tmp_path):
    target = tmp_path / "contacts.parquet"
    before = old_file(target)

    def half_then_fail(tmp: Path) -> None:
        tmp.write_bytes(b"half a file")
        raise RuntimeError("killed mid-way")

    with pytest.raises(RuntimeError, match="killed mid-way"):
        write(target, half_then_fail)
    assert target.read_bytes() == before
    assert leftovers(tmp_path) == []


def test_a_failure_inside_a_set_renames_nothing(tmp_path):
    """The first outputs are already in their temporary files when the block fails: none is
    renamed, every temporary file is removed."""
    first, second = tmp_path / "a" / "first.parquet", tmp_path / "b" / "second.json"
    before = old_file(first), old_file(second)
    with pytest.raises(ValueError, match="computation failed"), OutputSet() as out:
        out.write(first, outputs.parquet(FRAME))
        out.write(second, outputs.json_text({}))
        assert len(leftovers(tmp_path)) == 2
        raise ValueError("computation failed")
    assert (first.read_bytes(), second.read_bytes()) == before
    assert leftovers(tmp_path) == []


def test_a_set_renames_all_at_the_end(tmp_path):
    first, second = tmp_path / "first.txt", tmp_path / "second.txt"
    old_file(first)
    with OutputSet() as out:
        out.write(first, outputs.text("один\n"))
        assert first.read_bytes() == b"old output\n"  # not yet renamed
        out.write(second, outputs.text("два\n"))
    assert first.read_text("utf-8") == "один\n" and second.read_text("utf-8") == "два\n"
    assert out.paths == [] and leftovers(tmp_path) == []


def test_a_duckdb_file_is_built_in_the_temp_and_renamed(tmp_path):
    target = tmp_path / "warehouse.duckdb"
    with atomic_path(target) as tmp:
        con = duckdb.connect(str(tmp))
        con.execute("CREATE TABLE t AS SELECT 42 AS answer")
        con.close()
    with duckdb.connect(str(target), read_only=True) as con:
        assert con.execute("SELECT answer FROM t").fetchall() == [(42,)]
    assert leftovers(tmp_path) == []


def test_a_failed_duckdb_build_leaves_the_old_warehouse_and_no_wal(tmp_path):
    target = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(target)) as con:
        con.execute("CREATE TABLE t AS SELECT 1 AS old")
    before = target.read_bytes()
    with pytest.raises(duckdb.Error), atomic_path(target) as tmp:
        con = duckdb.connect(str(tmp))
        try:
            con.execute("CREATE TABLE t AS SELECT 2 AS new")
            con.execute("SELECT * FROM no_such_table")
        finally:
            con.close()
    assert target.read_bytes() == before
    assert leftovers(tmp_path) == []


def test_a_file_system_failure_is_a_message_naming_the_target(tmp_path):
    """A folder where the file should be: the rename fails, the message names the path."""
    target = tmp_path / "reports" / "index.html"
    (target / "inside").mkdir(parents=True)
    with pytest.raises(OutputError, match=r"index\.html: не удалось записать") as caught:
        write(target, outputs.text("<html>"))
    assert str(target) in str(caught.value)
    assert isinstance(caught.value, PipelineError) and isinstance(caught.value, OSError)
    assert (target / "inside").is_dir() and leftovers(tmp_path) == []


def test_the_same_target_twice_in_a_set_is_refused(tmp_path):
    with pytest.raises(ValueError, match="written twice"), OutputSet() as out:
        out.write(tmp_path / "a.txt", outputs.text("1"))
        out.write(tmp_path / "a.txt", outputs.text("2"))
    assert not (tmp_path / "a.txt").exists() and leftovers(tmp_path) == []


# --- inputs -------------------------------------------------------------------------------------


def test_a_missing_input_names_the_path_and_the_stage_to_run(tmp_path):
    path = tmp_path / "interim" / "lemmas.parquet"
    with pytest.raises(inputs.InputError) as caught:
        inputs.read_parquet(path, "lemmatize")
    assert str(caught.value) == (
        f"{path}: файла нет; его пишет стадия lemmatize: запустите `dvc repro lemmatize`"
    )


def test_random_bytes_are_no_parquet_and_no_traceback(tmp_path):
    path = tmp_path / "contacts.parquet"
    path.write_bytes(os.urandom(10))
    with pytest.raises(inputs.InputError, match=r"не читается как Parquet.*dvc repro ingest"):
        inputs.read_parquet(path, "ingest")


def test_a_missing_column_is_named_with_the_columns_there(tmp_path):
    path = tmp_path / "contacts.parquet"
    FRAME.to_parquet(path)
    with pytest.raises(inputs.InputError, match=r"нет столбцов \['text'\]"):
        inputs.read_parquet(path, "ingest", columns=["contact_id", "text"])
    assert inputs.read_parquet(path, "ingest", columns=["n"])["n"].tolist() == [1, 2]


def test_json_and_duckdb_inputs(tmp_path):
    metrics = tmp_path / "model.json"
    metrics.write_text("{", encoding="utf-8")
    with pytest.raises(inputs.InputError, match=r"model\.json: не читается как JSON.*train"):
        inputs.read_json(metrics, "train")
    warehouse = tmp_path / "warehouse.duckdb"
    warehouse.write_bytes(os.urandom(10))
    with pytest.raises(inputs.InputError, match=r"warehouse\.duckdb: не открывается.*aggregate"):
        inputs.connect_read_only(warehouse, "aggregate")
    with pytest.raises(inputs.InputError, match=r"nothing\.duckdb: файла нет"):
        inputs.connect_read_only(tmp_path / "nothing.duckdb", "aggregate")
