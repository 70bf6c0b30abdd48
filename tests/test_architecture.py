"""The package's shape, as docs/architecture.md describes it: layers that import only downwards,
no import cycles between packages, and modules small enough to read."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from conftest import ROOT

PACKAGE = ROOT / "pipeline"

# lowest first; a unit may import units of its own layer or below (never above), and the graph
# of units has no cycle. A unit is a subpackage or a top-level module.
LAYERS = (
    ("errors", "config"),
    ("io", "text", "sql"),
    ("model",),
    ("engine",),
    ("taxonomy",),
    ("closedloop", "reporting"),
    ("ingest", "lemmatize", "train", "classify", "aggregate", "report"),
    ("investigate", "tools"),
    ("cli", "__main__"),
)
LAYER_OF = {unit: level for level, units in enumerate(LAYERS) for unit in units}
STAGES = set(next(units for units in LAYERS if "ingest" in units))


def unit_of(path: Path) -> str:
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    return parts[0]


def imported_units(path: Path) -> set[str]:
    """Units of the package a module imports (at the top or inside functions)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
            if node.module == "pipeline":
                names = [f"pipeline.{a.name}" for a in node.names]
        found |= {n.split(".")[1] for n in names if n.startswith("pipeline.")}
    return found


def unit_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        unit = unit_of(path)
        graph.setdefault(unit, set()).update(imported_units(path) - {unit})
    return graph


def test_every_unit_has_a_layer():
    assert set(unit_graph()) - {"__init__"} <= set(LAYER_OF), "add new units to LAYERS"


def test_no_unit_imports_a_layer_above_it():
    upward = sorted(
        f"{unit} -> {other}"
        for unit, others in unit_graph().items()
        for other in others
        if unit in LAYER_OF and LAYER_OF[other] > LAYER_OF[unit]
    )
    assert not upward, f"imports of a higher layer: {upward}"


def test_no_stage_imports_another_stage():
    graph = unit_graph()
    crossing = sorted(f"{s} -> {o}" for s in STAGES for o in graph.get(s, ()) if o in STAGES)
    assert not crossing, f"a stage reaches into another stage: {crossing}"


def test_units_import_without_cycles():
    graph = unit_graph()
    visiting, done, cycles = set(), set(), []

    def visit(unit: str, path: list[str]) -> None:
        if unit in done:
            return
        if unit in visiting:
            cycles.append(" -> ".join([*path[path.index(unit) :], unit]))
            return
        visiting.add(unit)
        for other in sorted(graph.get(unit, ())):
            visit(other, [*path, unit])
        visiting.discard(unit)
        done.add(unit)

    for unit in sorted(graph):
        visit(unit, [])
    assert not cycles, f"import cycles: {cycles}"


def test_the_checks_can_fail(tmp_path):
    """A module importing upwards is seen (the graph reads imports inside functions too)."""
    module = tmp_path / "probe.py"
    module.write_text("def f():\n    from pipeline.report import main\n", encoding="utf-8")
    assert imported_units(module) == {"report"}
    assert LAYER_OF["report"] > LAYER_OF["model"]


MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60


def python_files() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", python_files(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_module_is_at_most_400_lines(path):
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_MODULE_LINES, f"{path.name}: {lines} lines"


def long_functions(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        f"{node.name} ({node.end_lineno - node.lineno + 1} lines)"
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES
    ]


@pytest.mark.parametrize("path", python_files(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_functions_are_at_most_60_lines(path):
    assert not long_functions(path)


STAGE_MODULES = ("ingest", "lemmatize", "train", "classify", "aggregate", "report")


@pytest.mark.parametrize("stage", STAGE_MODULES)
def test_a_stage_module_only_reads_calls_the_core_and_writes(stage):
    """The core of a stage lives in a subpackage: the stage module stays short."""
    lines = len((PACKAGE / f"{stage}.py").read_text(encoding="utf-8").splitlines())
    assert lines <= 150, f"{stage}.py: {lines} lines"
    assert set(STAGE_MODULES) == STAGES


def test_masking_has_one_implementation_used_where_text_is_stored_or_shown():
    """One masking implementation (``text/mask.py``, names and addresses in ``text/names.py``,
    its patterns in ``text/patterns.py``; ``normalize`` reads its labels); it is applied where
    client text is first stored (ingest: contact texts and quarantined rows, in io), where
    quarantined rows are stored again (the warehouse: closedloop/tables; the contacts' texts
    come masked from ingest's week parts, read there out of core) and where it is shown
    (report, notebooks), so a warehouse written by an older run or edited by hand still shows
    no personal data."""
    defined, users = [], set()
    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef) and node.name.startswith("mask"):
                defined.append(path.relative_to(PACKAGE).as_posix())
            if isinstance(node, ast.Name) and node.id in ("mask_personal_data", "mask_column"):
                users.add(unit_of(path))
    assert sorted(set(defined)) == ["text/mask.py", "text/names.py"]
    # tools: `init` writes examples from a labelled sheet into reasons.yaml
    assert users - {"text"} == {
        "io",
        "closedloop",
        "reporting",
        "investigate",
        "tools",
    }
