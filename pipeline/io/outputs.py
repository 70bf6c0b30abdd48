"""Writing outputs so that a failure leaves the previous ones as they were.

Every output is first written to a hidden temporary file in its own folder
(``.<name>.<pid>.tmp``) and renamed over the target (``os.replace``, atomic on one file system)
only when the writing succeeded. On any exception the temporary files are removed and the old
outputs stay untouched, byte for byte.

A stage with several outputs computes everything first, then writes them in one ``OutputSet``:
each ``write`` fills a temporary file, and only when the block ends without an exception are
they all renamed, in the order they were written::

    with OutputSet() as outputs:
        outputs.write(contacts_path, parquet(contacts))
        outputs.write(metrics_path, json_text(metrics))
        con = duckdb.connect(str(outputs.temp(warehouse_path)))  # a file another library writes

One file alone: ``write(path, parquet(frame))``, or ``with atomic_path(path) as tmp:`` for a
library that insists on writing a path itself. A write failing on the file system (no space, no
permission, a folder where the file should be) is an ``OutputError`` naming the target path.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd

from pipeline.errors import PipelineError

Writer = Callable[[Path], None]  # writes the whole content to the (temporary) path it is given

# files a library may leave beside the one it writes (DuckDB's write-ahead log)
COMPANIONS = (".wal",)


class OutputError(PipelineError, OSError):
    """An output could not be written; the previous file at that path is unchanged."""


def temp_path(path: Path) -> Path:
    """The hidden temporary name of ``path`` in its own folder (same file system: a rename)."""
    return path.with_name(f".{path.name}.{os.getpid()}.tmp")


def _discard(tmp: Path) -> None:
    for name in (tmp, *(tmp.with_name(tmp.name + s) for s in COMPANIONS)):
        name.unlink(missing_ok=True)


class OutputSet:
    """Outputs written together: temporary files first, every rename once the block succeeds."""

    def __init__(self) -> None:
        self._pending: list[tuple[Path, Path]] = []  # (temporary, target)

    def temp(self, path: Path | str) -> Path:
        """A temporary path for ``path``, renamed over it when the block ends without error."""
        path = Path(path)
        if any(target == path for _, target in self._pending):
            raise ValueError(f"{path} is written twice")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise _output_error(path, exc) from exc
        tmp = temp_path(path)
        _discard(tmp)  # left by a killed run of the same process id
        self._pending.append((tmp, path))
        return tmp

    def write(self, path: Path | str, writer: Writer) -> Path:
        """Write ``path``'s content now, to its temporary file; returns the target path."""
        path = Path(path)
        tmp = self.temp(path)
        try:
            writer(tmp)
        except OSError as exc:
            raise _output_error(path, exc) from exc
        return path

    @property
    def paths(self) -> list[Path]:
        return [target for _, target in self._pending]

    def discard(self) -> None:
        """Remove every temporary file; the targets are not touched."""
        for tmp, _ in self._pending:
            _discard(tmp)
        self._pending.clear()

    def commit(self) -> list[Path]:
        """Rename every temporary file over its target; returns the targets in order. (Should
        the file system refuse one rename, the targets before it are already replaced; the
        others keep their old content. Renames in one folder do not fail in practice.)"""
        done = []
        try:
            for tmp, path in self._pending:
                try:
                    os.replace(tmp, path)
                except OSError as exc:
                    raise _output_error(path, exc) from exc
                done.append(path)
        finally:
            self.discard()
        return done

    def __enter__(self) -> OutputSet:
        return self

    def __exit__(self, kind, value, traceback) -> None:
        if kind is None:
            self.commit()
        else:
            self.discard()


def _output_error(path: Path, exc: OSError) -> OutputError:
    if isinstance(exc, OutputError):
        return exc
    why = exc.strerror or str(exc)
    return OutputError(f"{path}: не удалось записать ({why}); прежний файл не изменён")


def write(path: Path | str, writer: Writer) -> Path:
    """One output, written to a temporary file and renamed over ``path`` on success."""
    with OutputSet() as outputs:
        outputs.write(path, writer)
    return Path(path)


@contextmanager
def atomic_path(path: Path | str) -> Iterator[Path]:
    """A temporary path to write ``path`` through; renamed over it when the block succeeds."""
    with OutputSet() as outputs:
        yield outputs.temp(path)


# --- writers: the content of one file -----------------------------------------------------------


def data(content: bytes) -> Writer:
    return lambda tmp: tmp.write_bytes(content)


def text(content: str, encoding: str = "utf-8") -> Writer:
    """Text as it is (no newline translation: the same bytes on every platform)."""
    return data(content.encode(encoding))


def json_text(content: Any, sort_keys: bool = False, indent: int | None = 2) -> Writer:
    """JSON in UTF-8 (Cyrillic as itself), ending in a newline."""
    return text(json.dumps(content, ensure_ascii=False, indent=indent, sort_keys=sort_keys) + "\n")


def parquet(frame: pd.DataFrame) -> Writer:
    return lambda tmp: frame.to_parquet(tmp, index=False)


def csv(frame: pd.DataFrame, **options: Any) -> Writer:
    """``DataFrame.to_csv`` without the index (``options`` as pandas takes them)."""
    return lambda tmp: frame.to_csv(tmp, index=False, **options)


def joblib_dump(value: Any, compress: int = 3) -> Writer:
    def dump(tmp: Path) -> None:
        import joblib

        joblib.dump(value, tmp, compress=compress)

    return dump
