"""The investigation notebooks, executed top to bottom against the demo outputs.

Each notebook is run the way an analyst runs it (papermill, parameters injected, working
directory ``notebooks/``) on a kernel that is this interpreter, and its last cell (tagged
``summary``) is read back as JSON.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import nbformat
import pytest
from conftest import ROOT

NOTEBOOKS = ("why_reason_rose.ipynb", "undefined_contacts.ipynb", "model_errors.ipynb")
KERNEL = "contact-reasons-tests"
# the emerging demo topic (QR payments, Mir Pay), as lemmas
EMERGING_MARKERS = ("qr", "сбп", "mir pay", "мир пэй")


def data_snapshot(workspace: Path) -> dict[str, tuple[int, int]]:
    return {
        str(p.relative_to(workspace)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in sorted((workspace / "data").rglob("*"))
        if p.is_file()
    }


def install_kernel(folder: Path) -> Path:
    """A kernelspec that starts this very interpreter, whatever else is installed."""
    spec = folder / "kernels" / KERNEL
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "contact-reasons tests",
                "language": "python",
            }
        )
    )
    return folder


def summary(notebook: nbformat.NotebookNode) -> dict:
    cells = [c for c in notebook.cells if "summary" in c.metadata.get("tags", [])]
    assert len(cells) == 1, "exactly one cell tagged 'summary'"
    assert notebook.cells[-1] is cells[0], "the summary cell comes last"
    bundles = [o["data"] for o in cells[0].outputs if "application/json" in o.get("data", {})]
    assert len(bundles) == 1
    return bundles[0]["application/json"]


@pytest.fixture(scope="module")
def executed(demo_workspace, tmp_path_factory):
    """Run every notebook once (the "why" one twice: demo spike and another reason/week)."""
    import papermill

    jupyter_path = install_kernel(tmp_path_factory.mktemp("jupyter"))
    out = tmp_path_factory.mktemp("executed")
    runs = {
        "why": ("why_reason_rose.ipynb", {}),
        "why_other": (
            "why_reason_rose.ipynb",
            {"reason_id": "card_blocked", "week": "2026-W45", "department": "Карточный бизнес"},
        ),
        "undefined": ("undefined_contacts.ipynb", {}),
        "errors": ("model_errors.ipynb", {}),
    }
    before = data_snapshot(demo_workspace)
    results = {}
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("JUPYTER_PATH", str(jupyter_path))
        for key, (name, parameters) in runs.items():
            results[key] = papermill.execute_notebook(
                str(demo_workspace / "notebooks" / name),
                str(out / f"{key}.ipynb"),
                parameters=parameters,
                kernel_name=KERNEL,
                cwd=str(demo_workspace / "notebooks"),
                progress_bar=False,
                log_output=False,
            )
    return {"notebooks": results, "before": before, "after": data_snapshot(demo_workspace)}


@pytest.mark.notebook
@pytest.mark.slow
def test_why_notebook_names_the_planted_cause_of_the_spike(executed, demo_workspace):
    result = summary(executed["notebooks"]["why"])
    assert result["reason_id"] == "sms_code_missing"
    assert result["week"] == "2026-W47"  # empty parameter = the report week
    assert "мегафон" in result["top_terms"][:10]
    assert result["this_week"] > 2 * result["baseline_mean"]
    examples = result["examples"]["мегафон"]
    assert examples and all("мегафон" in text.lower() for text in examples)
    assert set(result["top_change"]) == {"channel", "queue", "kind", "local_hour"}


@pytest.mark.notebook
@pytest.mark.slow
def test_why_notebook_takes_reason_and_week_as_parameters(executed):
    result = summary(executed["notebooks"]["why_other"])
    assert result["reason_id"] == "card_blocked"
    assert result["week"] == "2026-W45"
    assert result["baseline_weeks"] == ["2026-W41", "2026-W42", "2026-W43", "2026-W44"]
    assert "мегафон" not in result["top_terms"]


@pytest.mark.notebook
@pytest.mark.slow
def test_why_notebook_drills_into_the_department_that_loses_hand_offs(executed):
    handoffs = summary(executed["notebooks"]["why"])["handoffs"]
    # empty parameter: the week's worst lost share — the demo's planted department
    assert handoffs["department"] == "Операционный центр"
    assert handoffs["lost"] > 0 and handoffs["lost_share"] > 0.10
    assert len(handoffs["lost_texts"]) == min(handoffs["lost"], 5)
    other = summary(executed["notebooks"]["why_other"])["handoffs"]
    assert (other["department"], other["week"]) == ("Карточный бизнес", "2026-W45")


@pytest.mark.notebook
@pytest.mark.slow
def test_undefined_notebook_finds_the_emerging_topic(executed):
    result = summary(executed["notebooks"]["undefined"])
    assert result["weeks"] == ["2026-W44", "2026-W45", "2026-W46", "2026-W47"]
    emerging = [
        c
        for c in result["clusters"]
        if any(marker in term for term in c["top_terms"][:5] for marker in EMERGING_MARKERS)
    ]
    assert emerging, [c["top_terms"][:5] for c in result["clusters"]]
    # the topic grows: its clusters hold more contacts in the last week than in the first
    assert sum(c["weekly"]["2026-W47"] for c in emerging) > sum(
        c["weekly"]["2026-W44"] for c in emerging
    )
    assert all(c["suggested_title"] for c in result["clusters"])
    numbers = [c["number"] for c in result["clusters"]]
    assert numbers == list(range(1, len(numbers) + 1))


@pytest.mark.notebook
@pytest.mark.slow
def test_model_errors_notebook_lists_confusions_and_suspects(executed):
    result = summary(executed["notebooks"]["errors"])
    pairs = result["confusion_pairs"]
    assert pairs and all(p["actual"] != p["predicted"] for p in pairs)
    assert [p["errors"] for p in pairs] == sorted((p["errors"] for p in pairs), reverse=True)
    assert result["metrics"]["errors"] >= sum(p["errors"] for p in pairs)
    lowest = [row["confidence"] for row in result["lowest_confidence"]]
    assert len(lowest) == 20 and lowest == sorted(lowest)
    assert result["suspects"] > 0
    assert all(s["label"] != s["predicted"] for s in result["top_suspects"])


@pytest.mark.notebook
@pytest.mark.slow
def test_notebooks_write_nothing_under_data(executed):
    assert executed["after"] == executed["before"]


@pytest.mark.notebook
@pytest.mark.slow
def test_figures_render_without_network(executed):
    """Plotly figures carry their data, and plotly.js is embedded, not loaded from a CDN."""
    for key, notebook in executed["notebooks"].items():
        outputs = [o for cell in notebook.cells for o in cell.get("outputs", [])]
        figures = [o for o in outputs if "application/vnd.plotly.v1+json" in o.get("data", {})]
        assert figures, key
        html = "".join(o.get("data", {}).get("text/html", "") for o in outputs)
        assert "cdn.plot.ly/plotly" not in html, key
        assert "plotly.js v" in html, key  # the library itself, embedded once


def test_committed_notebooks_are_parameterised_and_hold_no_outputs():
    """Outputs hold client texts: they belong in reports/, never in git."""
    for name in NOTEBOOKS:
        notebook = nbformat.read(ROOT / "notebooks" / name, as_version=4)
        nbformat.validate(notebook)
        tags = [c.metadata.get("tags", []) for c in notebook.cells]
        assert sum("parameters" in t for t in tags) == 1, name
        parameters = next(c for c in notebook.cells if "parameters" in c.metadata.get("tags", []))
        assert 'warehouse = "../data/warehouse.duckdb"' in parameters.source, name
        assert "summary" in tags[-1], name
        for cell in notebook.cells:
            if cell.cell_type == "code":
                assert not cell.outputs and cell.execution_count is None, name
        code = "\n".join(c.source for c in notebook.cells if c.cell_type == "code")
        assert "from pipeline import investigate" in code, name
        assert "to_parquet" not in code and "to_csv" not in code, name
        # every styled table escapes its cells in one format call: a second .format() call
        # resets the escaping of every column it does not name (pandas Styler)
        assert code.count(".style") == code.count('.style.format(escape="html"'), name
        assert not re.search(r'escape="html"\)\s*\.format\(', code), name
        # figures go through investigate.show, which draws every data string as text
        assert not re.search(r"(?<!investigate)\.show\(", code), name


NOTEBOOK_PAYLOAD = (
    "мегафон не шлёт смс <script>window.__xss = 1</script>"
    '<img src="x" onerror="window.__xss = 2"> [нажмите](javascript:alert(1)) **срочно**'
)


@pytest.mark.notebook
@pytest.mark.slow
def test_client_text_is_inert_in_the_why_notebooks_html_export(demo_workspace, tmp_path):
    """A complaint and an owner's note carrying markup: the executed notebook exported with
    nbconvert shows them as text — no script tag, no onerror attribute, no javascript: link."""
    import shutil

    import duckdb
    import papermill
    from nbconvert import HTMLExporter

    work = tmp_path / "ws"
    shutil.copytree(demo_workspace / "notebooks", work / "notebooks")
    (work / "data").mkdir()
    warehouse = work / "data" / "warehouse.duckdb"
    shutil.copyfile(demo_workspace / "data" / "warehouse.duckdb", warehouse)
    con = duckdb.connect(str(warehouse))
    con.execute(
        """UPDATE contacts SET text = $t WHERE reason_id = 'sms_code_missing'
           AND iso_week = (SELECT report_week FROM run_info) AND lower(text) LIKE '%мегафон%'""",
        {"t": NOTEBOOK_PAYLOAD},
    )
    con.execute(
        "UPDATE closed_loop SET note_explanation = $t WHERE reason_id = 'sms_code_missing'",
        {"t": NOTEBOOK_PAYLOAD},
    )
    con.close()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("JUPYTER_PATH", str(install_kernel(tmp_path / "jupyter")))
        notebook = papermill.execute_notebook(
            str(work / "notebooks" / "why_reason_rose.ipynb"),
            str(tmp_path / "why.ipynb"),
            kernel_name=KERNEL,
            cwd=str(work / "notebooks"),
            progress_bar=False,
            log_output=False,
        )
    html, _ = HTMLExporter().from_notebook_node(notebook)
    assert "window.__xss" in html  # the payload is shown ...
    assert "<script>window.__xss" not in html  # ... as text
    assert '<img src="x"' not in html  # no element: its onerror is only text
    assert "&lt;img" in html
    assert 'href="javascript:' not in html and "<strong>срочно</strong>" not in html
