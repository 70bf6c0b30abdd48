"""Shared fixtures: one full `dvc repro` of the demo in a scratch copy of the repository, one
lemmatiser (pymorphy3 takes a second to load) and the ingest parameters of params.yaml."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.text import Lemmatizer

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
GENERATED = {".venv", ".git", "models", "build", ".pytest_cache", ".ruff_cache"}


def run_dvc(workspace: Path, *args: str) -> subprocess.CompletedProcess:
    env_path = f"{BIN}:{__import__('os').environ.get('PATH', '')}"
    return subprocess.run(
        [str(BIN / "dvc"), *args],
        cwd=workspace,
        capture_output=True,
        text=True,
        check=False,
        env={**__import__("os").environ, "PATH": env_path, "DVC_NO_ANALYTICS": "1"},
    )


def copy_repository(target: Path) -> Path:
    def ignore(folder: str, names: list[str]) -> set[str]:
        rel = Path(folder).relative_to(ROOT)
        skip = {n for n in names if rel == Path(".") and n in GENERATED}
        if rel == Path("data"):
            skip |= {n for n in names if n in {"interim", "processed", "warehouse.duckdb"}}
        if rel == Path("reports"):
            skip |= {n for n in names if n != ".gitkeep"}
        if rel == Path(".dvc"):
            skip |= {n for n in names if n in {"cache", "tmp"}}
        return skip | {n for n in names if n == "__pycache__"}

    shutil.copytree(ROOT, target, ignore=ignore)
    (target / "dvc.lock").unlink(missing_ok=True)
    return target


@pytest.fixture(scope="session")
def demo_workspace(tmp_path_factory) -> Path:
    """A copy of the repository on which `dvc repro` has run the whole demo pipeline."""
    workspace = copy_repository(tmp_path_factory.mktemp("demo") / "repo")
    config = run_dvc(workspace, "config", "core.no_scm", "true")
    assert config.returncode == 0, config.stderr
    result = run_dvc(workspace, "repro")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return workspace


@pytest.fixture(scope="session")
def lemmatizer():
    """One Lemmatizer for the session (its token cache only speeds up later calls)."""

    return Lemmatizer()


@pytest.fixture(scope="session")
def ingest_config():
    """The ``ingest`` section of the repository's params.yaml."""
    from pipeline.config import load_params

    return load_params(ROOT / "params.yaml").ingest


@pytest.fixture()
def taxonomy_copy(tmp_path: Path) -> Path:
    """A copy of taxonomy/ (reasons.yaml, labels/) that a test may change."""
    shutil.copytree(ROOT / "taxonomy", tmp_path / "taxonomy")
    return tmp_path / "taxonomy"
