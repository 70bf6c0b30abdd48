"""A new organisation's first week, as README "Your first week" walks it: a city complaint desk
with a labelled sheet of 12 categories, complaints only (no calls, no drivers, no cost per
minute), `init` -> `taxonomy check` -> the weekly run -> reports, with no workaround."""

from __future__ import annotations

import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest
from conftest import copy_repository, run_dvc

pytestmark = [pytest.mark.slow]

# category -> what residents write about it (combined with the openers and places below)
CATEGORIES = {
    "Ямы на дорогах": ["огромная яма на проезжей части", "разбитый асфальт, машины ломают колёса"],
    "Уборка снега": ["не убран снег во дворе", "тротуар не чистят от снега и наледи"],
    "Вывоз мусора": ["переполнены мусорные контейнеры", "мусор не вывозят уже неделю"],
    "Освещение": ["не горят фонари во дворе", "темно, уличное освещение не работает"],
    "Общественный транспорт": ["автобус не приходит по расписанию", "отменили маршрут автобуса"],
    "Парковка": ["машины паркуются на газоне", "автомобили стоят на тротуаре, не пройти"],
    "Детские площадки": ["сломаны качели на детской площадке", "на площадке торчат гвозди"],
    "Отопление": ["в квартире холодно, батареи еле тёплые", "нет отопления в подъезде"],
    "Шум": ["соседи шумят по ночам", "стройка шумит после 23 часов"],
    "Бродячие собаки": ["стая бездомных собак у школы", "бродячие собаки бросаются на детей"],
    "Озеленение": ["спилили деревья во дворе", "газон вытоптан, просим посадить деревья"],
    "Водоснабжение": ["нет горячей воды третий день", "из крана течёт ржавая вода"],
}
OPENERS = ["Здравствуйте!", "Прошу принять меры:", "Уже месяц", "Жители дома жалуются:", ""]
PLACES = ["у дома 5", "на ул. Садовой", "во дворе", "возле школы №3", "на остановке"]


def texts(category: str, count: int, shift: int = 0) -> list[str]:
    phrases = CATEGORIES[category]
    return [
        " ".join(
            part
            for part in (
                OPENERS[(i + shift) % len(OPENERS)],
                phrases[i % len(phrases)],
                PLACES[(i // 2 + shift) % len(PLACES)],
            )
            if part
        )
        for i in range(count)
    ]


def labelled_sheet(path: Path) -> Path:
    rows = [
        {"Текст обращения": text, "Категория": category}
        for category in CATEGORIES
        for text in texts(category, 10)
    ]
    pd.DataFrame(rows).to_csv(path, index=False, encoding="utf-8-sig")
    return path


def weekly_export(path: Path, monday: date, week: int) -> None:
    rows = []
    for c, category in enumerate(CATEGORIES):
        for i, text in enumerate(texts(category, 3 + (c + week) % 4, shift=week + 1)):
            day = monday + timedelta(days=(i + c) % 5)
            rows.append(
                {
                    "request_id": f"W{week}-{c:02d}-{i}",
                    "received_at": f"{day:%Y-%m-%d} {9 + i % 8:02d}:{(c * 7) % 60:02d}",
                    "channel": "Web-форма",
                    "customer_id": f"R{(c * 31 + i * 7 + week) % 500:04d}",
                    "text": text,
                    "department": "Городская служба",
                    "resolved_at": f"{day + timedelta(days=2):%Y-%m-%d} 17:00",
                    "status": "Закрыто",
                    "status_updates": 1,
                }
            )
    path.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows).to_csv(path, index=False, encoding="utf-8-sig")


def pipeline(ws: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pipeline", *args], cwd=ws, capture_output=True, text=True
    )


@pytest.fixture(scope="module")
def first_week(tmp_path_factory) -> dict:
    ws = copy_repository(tmp_path_factory.mktemp("city") / "repo")
    sheet = labelled_sheet(ws / "city_labels.csv")
    init = pipeline(
        ws, "init", "--labels", sheet.name,
        "--text-column", "Текст обращения", "--label-column", "Категория",
    )  # fmt: skip
    assert init.returncode == 0, init.stderr
    check = pipeline(ws, "taxonomy", "check")
    for n, monday in enumerate([date(2026, 11, 2), date(2026, 11, 9), date(2026, 11, 16)]):
        weekly_export(ws / "data" / "raw" / "complaints" / f"obrashcheniya_{n + 1}.csv", monday, n)
    assert run_dvc(ws, "config", "core.no_scm", "true").returncode == 0
    repro = run_dvc(ws, "repro")
    return {"ws": ws, "init": init, "check": check, "repro": repro}


def test_init_sets_the_demo_aside_and_writes_a_taxonomy_that_passes_check(first_week):
    ws, init = first_week["ws"], first_week["init"]
    aside = ws / "build" / "demo-aside"
    assert (aside / "taxonomy" / "reasons.yaml").exists()
    assert sorted(p.name for p in (aside / "data" / "raw" / "calls").iterdir())
    assert not [p for p in (ws / "data" / "raw" / "calls").iterdir() if p.name != ".gitkeep"]
    assert not (ws / "data" / "raw" / "drivers.csv").exists()
    assert not (ws / "data" / "raw" / "handoffs").exists()  # the bank's hand-off events too
    assert "12 причин" in init.stdout and "make run" in init.stdout
    assert first_week["check"].returncode == 0, first_week["check"].stderr
    reasons = (ws / "taxonomy" / "reasons.yaml").read_text(encoding="utf-8")
    assert "id: yamy_na_dorogakh" in reasons and 'title: "Ямы на дорогах"' in reasons
    assert "Не определено" in reasons and "# target:" in reasons
    labels = pd.read_csv(ws / "taxonomy" / "labels" / "city_labels.csv")
    assert len(labels) == 120 and labels["reason_id"].nunique() == 12


def test_the_weekly_run_writes_a_city_report_with_nothing_from_the_bank(first_week):
    repro = first_week["repro"]
    assert repro.returncode == 0, repro.stdout[-3000:] + repro.stderr[-3000:]
    site = first_week["ws"] / "reports"
    index = (site / "index.html").read_text(encoding="utf-8")
    assert "Ямы на дорогах" in index
    assert (site / "reasons" / "yamy_na_dorogakh.html").exists()
    pages = "\n".join(p.read_text(encoding="utf-8") for p in site.rglob("*.html"))
    for bank in ("Карточный бизнес", "СМС-код", "банкомат", "Не приходит"):
        assert bank not in pages, bank
    # no calls, no drivers, no cost per minute (init cleared the demo's): no such sections
    for absent in ("Звонки без ответа", "Переводы", "₽", "CPX", "Приз", "приз"):
        assert absent not in pages, absent
    assert "cost_per_minute: null" in (first_week["ws"] / "params.yaml").read_text("utf-8")
