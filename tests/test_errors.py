"""One error root: every error the package raises for bad input is a PipelineError, which the CLI
prints in Russian without a traceback."""

from __future__ import annotations

import importlib
import inspect
import subprocess
import sys

from conftest import ROOT

from pipeline.errors import PipelineError


def package_exceptions() -> dict[str, type]:
    found = {}
    package = ROOT / "pipeline"
    for path in sorted(package.rglob("*.py")):
        if path.stem == "__main__":
            continue
        parts = path.relative_to(package).with_suffix("").parts
        parts = parts[:-1] if parts[-1] == "__init__" else parts
        module = importlib.import_module(".".join(("pipeline", *parts)))
        for name, value in vars(module).items():
            if (
                inspect.isclass(value)
                and issubclass(value, BaseException)
                and value.__module__ == module.__name__
            ):
                found[f"{module.__name__}.{name}"] = value
    return found


def test_every_package_error_is_a_pipeline_error():
    errors = package_exceptions()
    assert len(errors) >= 10  # config, taxonomy, labels, ingest, sla, trends, weeks, ...
    outside = sorted(name for name, cls in errors.items() if not issubclass(cls, PipelineError))
    assert not outside, f"not under PipelineError: {outside}"


def test_a_user_mistake_is_a_russian_message_not_a_traceback(tmp_path):
    """A report week that does not exist in params.yaml: exit 2, where and what, no traceback."""
    params = tmp_path / "params.yaml"
    params.write_text('aggregate:\n  report_week: "2026-W00"\n', encoding="utf-8")
    paths = [
        f"--{name}={tmp_path / name}"
        for name in (
            "contacts",
            "classified",
            "drivers",
            "quarantine",
            "handoffs",
            "notes",
            "confusion",
            "weekly",
            "closed-loop",
            "closed-loop-history",
            "warehouse",
        )
    ]
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pipeline",
            "--params",
            str(params),
            "aggregate",
            "--taxonomy",
            str(ROOT / "taxonomy" / "reasons.yaml"),
            *paths,
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert "ОШИБКА (aggregate)" in result.stderr
    assert "report_week" in result.stderr and "в 2026 году недели с W01 по W53" in result.stderr


def test_one_formatter_says_where_what_and_what_was_found_in_russian(tmp_path):
    """params.yaml, reasons.yaml and owner notes share one pydantic-error formatter."""
    from pipeline.closedloop.config import AggregateConfig
    from pipeline.config import ConfigError, load_section

    params = tmp_path / "params.yaml"
    params.write_text(
        "aggregate:\n  trend_weeks: 3\n  recent_weeks: четыре\n  sla: {target: 2}\n  trnd: 1\n",
        encoding="utf-8",
    )
    try:
        load_section(params, "aggregate", AggregateConfig)
    except ConfigError as exc:
        message = str(exc)
    else:
        raise AssertionError("a bad params.yaml was accepted")
    assert message.splitlines() == [
        f"{params} [aggregate]: ошибок 4:",
        "  - trend_weeks: ожидается число не меньше 6; найдено: 3",
        "  - recent_weeks: ожидается целое число; найдено: 'четыре'",
        "  - sla.target: ожидается число не больше 1.0; найдено: 2",
        "  - trnd: неизвестный ключ (опечатка?); найдено: 1",
    ]
