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
    assert words[:4] == ["python", "-m", "pipeline", name.split("_")[0]] or words[:3] == [
        "python",
        "-m",
        "pipeline",
    ]
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
