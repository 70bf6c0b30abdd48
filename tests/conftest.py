"""Shared fixtures: one full `dvc repro` of the demo in a scratch copy of the repository, one
lemmatiser (pymorphy3 takes a second to load), the ingest parameters of params.yaml, and a
headless Chromium (per module) with ``Visit`` to open a page from disk."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.text import Lemmatizer

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
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


# --- headless Chromium (reports, notebook HTML exports) ------------------------------------------


@pytest.fixture(scope="module")
def browser():
    if CHROMIUM is None:
        if os.environ.get("REQUIRE_BROWSER"):
            pytest.fail("chromium is not installed (apt-get install chromium)")
        pytest.skip("chromium is not installed: apt-get install chromium (.ci/run does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-background-networking", "--disable-gpu"],
        )
        yield instance
        instance.close()


class Visit:
    """Open a page from file:// and record console errors, page errors and every request."""

    def __init__(self, browser, path: Path, width: int = 1366, height: int = 768):
        self.page = browser.new_page(viewport={"width": width, "height": height})
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.goto(path.resolve().as_uri())
        self.page.wait_for_load_state("load")

    def charts_rendered(self) -> None:
        charts = self.page.locator("div[data-chart]")
        for i in range(charts.count()):
            chart = charts.nth(i)
            chart.locator("svg.main-svg").first.wait_for(state="attached", timeout=15_000)
            self.page.wait_for_function(
                "el => el.getAttribute('data-rendered') === 'true'",
                arg=chart.element_handle(),
                timeout=15_000,
            )

    def close(self) -> None:
        self.page.close()
