"""dvc.yaml: each stage's command names exactly its declared data paths, and its own module."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]


def load_stages() -> dict:
    spec = yaml.safe_load((ROOT / "dvc.yaml").read_text(encoding="utf-8"))
    variables = {}
    for block in spec.get("vars", []):
        variables.update(block)

    def resolve(value):
        if isinstance(value, str):
            return re.sub(r"\$\{([^}]+)\}", lambda m: str(variables[m.group(1)]), value)
        if isinstance(value, list):
            return [resolve(v) for v in value]
        if isinstance(value, dict):
            return {resolve(k): resolve(v) for k, v in value.items()}
        return value

    return resolve(spec["stages"])


def declared(entries) -> set[str]:
    paths = set()
    for entry in entries or []:
        paths.update(entry if isinstance(entry, dict) else [entry])
    return paths


STAGES = load_stages()


@pytest.mark.parametrize("name", sorted(STAGES))
def test_command_paths_match_declared_deps_and_outs(name):
    stage = STAGES[name]
    words = shlex.split(stage["cmd"])
    # the stage runs its own command (a stage running another stage's code would not rerun when
    # that code changes: its deps name its own module)
    assert words[:4] == ["python", "-m", "pipeline", name]
    in_cmd = {w for w, prev in zip(words[1:], words, strict=False) if prev.startswith("--")}
    deps = declared(stage.get("deps"))
    outs = (
        declared(stage.get("outs")) | declared(stage.get("metrics")) | declared(stage.get("plots"))
    )
    data_deps = {d for d in deps if not d.startswith("pipeline/")}
    # an output folder argument (the report site) stands for the outputs declared inside it
    for path in list(in_cmd - data_deps - outs):
        inside = {o for o in outs if o.startswith(path.rstrip("/") + "/")}
        if inside:
            in_cmd = (in_cmd - {path}) | inside
    assert in_cmd == data_deps | outs, "command paths differ from declared deps/outs"
    assert not deps & outs


@pytest.mark.parametrize("name", sorted(STAGES))
def test_stage_depends_on_its_own_module(name):
    deps = declared(STAGES[name].get("deps"))
    module = f"pipeline/{name}.py"
    assert module in deps
    produced = set()
    for stage in STAGES.values():
        for key in ("outs", "metrics", "plots"):
            produced |= declared(stage.get(key))
    for dep in deps - produced:
        assert (ROOT / dep).exists(), f"{name}: declared dependency {dep} does not exist"


def test_every_output_is_ignored_by_git():
    ignored = (ROOT / ".gitignore").read_text()
    for stage in STAGES.values():
        for out in declared(stage.get("outs")):
            top = out.split("/")[0] + "/" + out.split("/")[1] if "/" in out else out
            assert any(
                line.strip("/") and top.startswith(line.strip("/").rstrip("*"))
                for line in ignored.splitlines()
                if not line.startswith(("#", "!"))
            ), out


# --- every module a stage imports is one of its deps ---------------------------------------------

PACKAGE = ROOT / "pipeline"


def imported_modules(path: Path) -> set[str]:
    """``pipeline.X`` modules imported anywhere in a file (top level or inside functions)."""
    import ast

    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("pipeline.")}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "pipeline" or node.module.startswith("pipeline."):
                # `from pipeline.model import features`: the package and, if it is one, the module
                # (pipeline/__init__.py itself imports nothing: a test keeps it so)
                if node.module != "pipeline":
                    found.add(node.module)
                found |= {f"{node.module}.{a.name}" for a in node.names}
    return {m for m in found if module_file(m).exists()}


def module_file(module: str) -> Path:
    parts = module.split(".")[1:]
    file = PACKAGE.joinpath(*parts).with_suffix(".py")
    return file if file.exists() else PACKAGE.joinpath(*parts, "__init__.py")


def import_closure(start: Path) -> set[Path]:
    """The stage module and every pipeline module it reaches through imports, with the
    ``__init__.py`` of every package on the way (Python runs them too)."""
    seen, todo = set(), [start]
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        todo += [module_file(m) for m in imported_modules(path)]
        todo += [
            parent / "__init__.py"
            for parent in path.parents
            if parent != PACKAGE and PACKAGE in parent.parents
        ]
    return seen


def reads_package_data(path: Path) -> bool:
    """A module reading files shipped beside it (SQL, templates, stop words, static assets)."""
    text = path.read_text(encoding="utf-8")
    return re.search(r"resources\.files\((__name__|__package__|\"pipeline)", text) is not None or (
        "PackageLoader(" in text
    )


def covered(path: str, deps: set[str]) -> bool:
    return any(path == dep or path.startswith(dep.rstrip("/") + "/") for dep in deps)


@pytest.mark.parametrize("name", sorted(STAGES))
def test_stage_deps_cover_every_module_it_imports(name):
    """A change to a module a stage imports (masking in pipeline/text, the taxonomy reader) must
    rerun the stage: every module in its import closure is a dependency in dvc.yaml, and a module
    that reads data files shipped in its package has the whole package folder as one."""
    deps = declared(STAGES[name].get("deps"))
    closure = import_closure(PACKAGE / f"{name}.py")
    modules = {p.relative_to(ROOT).as_posix() for p in closure}
    missing = sorted(m for m in modules if not covered(m, deps))
    folders = {
        p.parent.relative_to(ROOT).as_posix()
        for p in closure
        if reads_package_data(p) and p.parent != PACKAGE
    }
    missing += sorted(f for f in folders if not covered(f, deps))
    assert not missing, (
        f"dvc.yaml stage {name} imports or reads, but does not depend on: {missing}"
    )


def test_import_closure_sees_imports_inside_functions(tmp_path):
    """The check itself can fail: a module imported only inside a function is still found."""
    stage = PACKAGE / "classify.py"
    assert PACKAGE / "model" / "reason_model.py" in import_closure(stage)
    assert PACKAGE / "model" / "features.py" in import_closure(stage)
    assert PACKAGE / "text" / "__init__.py" in import_closure(PACKAGE / "lemmatize.py")
    assert not covered("pipeline/text/mask.py", {"pipeline/textual", "pipeline/tex"})
    assert covered("pipeline/text/mask.py", {"pipeline/text"})
    assert covered("pipeline/sql/weekly.sql", {"pipeline/sql"})


def test_package_root_imports_nothing():
    """Every stage imports ``pipeline/__init__.py``; it stays free of imports so that no stage
    needs it as a dependency."""
    assert not imported_modules(PACKAGE / "__init__.py")
    assert "import" not in (PACKAGE / "__init__.py").read_text(encoding="utf-8")


def test_the_readme_runs_the_pipeline_with_the_projects_python():
    """`.venv/bin/dvc repro` alone runs the stages with whatever `python` is first on PATH
    (the system one, without the project's packages): the README documents `make repro`,
    which puts .venv/bin first, and the Makefile has that target."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert ".venv/bin/dvc repro" not in readme
    assert "make repro" in readme
    assert re.search(r"^repro: setup", makefile, re.M)
    assert re.search(r"^export PATH := \$\(abspath \$\(BIN\)\):\$\(PATH\)", makefile, re.M)
