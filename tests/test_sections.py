"""Sections follow the data (#16): a complaints-only organisation without drivers.csv, cost per
minute or SLA gets a report without unanswered calls, transfers, CPX, roubles or SLA — not
those sections printed with zeros or dashes. The demo keeps every one of them."""

from __future__ import annotations

import re
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from test_aggregate import aggregate_and_render, contact, write_inputs

from pipeline.closedloop.config import AggregateConfig

# words of those sections (the demo taxonomy's titles have «Перевод…» and «грубили» of their own)
ABSENT = (
    "Звонки без ответа",
    "Переводы",
    "переводы",
    "Переводов на звонок",
    "₽",
    "руб.",
    "рубл",
    "CPX",
    "SLA",
    "Приз",
    "приз",
    "Стоимость",
    "стоимость",
)


def complaints(reason: str, n: int, day: str, prefix: str) -> list[dict]:
    return [
        contact(
            f"{prefix}{i}",
            f"{day} 1{i % 8}:00",
            kind="complaint",
            customer=f"{prefix}{i}",
            reason=reason,
            resolved=f"{day} 18:00" if i % 2 else None,
        )
        for i in range(n)
    ]


@pytest.fixture(scope="module")
def city_site(tmp_path_factory) -> Path:
    """Complaints only (no call), no drivers.csv, no cost_per_minute, ``sla: null``."""
    work = tmp_path_factory.mktemp("city")
    rows = complaints("card_blocked", 12, "2026-11-17", "a") + complaints(
        "callback_missed", 6, "2026-11-18", "b"
    )
    rows += complaints("card_blocked", 8, "2026-11-10", "c")
    paths = write_inputs(work, rows)
    empty = pd.read_parquet(paths["drivers"]).iloc[0:0]
    empty.to_parquet(paths["drivers"])  # as ingest writes it without drivers.csv
    config = AggregateConfig(report_week="2026-W47", cost_per_minute=None, sla=None)
    return aggregate_and_render(work, paths, config, rows_read=26)


def visible_text(html: str) -> str:
    """The page's text without chart data and attributes (what a reader sees)."""
    html = re.sub(r"<script.*?</script>", " ", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


def pages(site: Path) -> dict[str, str]:
    names = ["index.html", "reasons/card_blocked.html", "owners/cards.html", "archive/index.html"]
    return {name: visible_text((site / name).read_text(encoding="utf-8")) for name in names}


def test_complaints_only_report_has_no_calls_cost_drivers_or_sla(city_site):
    for name, text in pages(city_site / "site").items():
        found = [word for word in ABSENT if word in text]
        assert not found, f"{name}: {found}"
        assert "Повтор" in text or name.startswith("archive")  # the rest is still there
    index = (city_site / "site" / "index.html").read_text(encoding="utf-8")
    assert 'id="drops"' not in index and 'id="loop"' in index
    reason = (city_site / "site" / "reasons/card_blocked.html").read_text(encoding="utf-8")
    assert 'id="transfers"' not in reason and 'id="sla"' not in reason
    assert 'id="repeats"' in reason


def test_complaints_only_workbook_has_no_such_columns(city_site):
    header = [c.value for c in openpyxl.load_workbook(city_site / "closed_loop.xlsx").active[1]]
    assert "Контакты" in header and "Повторы" in header
    found = [h for h in header if any(word in h for word in ABSENT)]
    assert not found
    assert not any("звонок" in h for h in header)


def test_without_sla_its_figures_are_empty_not_computed(city_site):
    loop = pd.read_parquet(city_site / "closed_loop.parquet")
    assert loop["sla_due"].isna().all() and loop["sla_compliance"].isna().all()
    assert loop["cost"].isna().all() and loop["prize_year"].isna().all()


def test_sla_disabled_by_enabled_false():
    config = AggregateConfig(sla={"enabled": False})
    assert not config.sla_enabled and config.sla_rule.enabled is False
    assert AggregateConfig().sla_enabled and AggregateConfig(sla=None).sla_rule.cutoff.hour == 14


def test_the_demo_report_keeps_every_section(demo_workspace):
    site = demo_workspace / "reports"
    index = visible_text((site / "index.html").read_text(encoding="utf-8"))
    for word in ("Звонки без ответа", "Переводы", "₽", "CPX", "SLA", "приз"):
        assert word in index, word
    reason = visible_text((site / "reasons/card_blocked.html").read_text(encoding="utf-8"))
    for word in ("Переводы между отделами", "SLA по письменным обращениям", "приз в год", "₽"):
        assert word in reason, word
    header = [
        c.value
        for c in openpyxl.load_workbook(demo_workspace / "reports/closed_loop.xlsx").active[1]
    ]
    for column in ("SLA (в срок)", "Переводов на звонок", "Стоимость недели, ₽", "CPX"):
        assert column in header, column
