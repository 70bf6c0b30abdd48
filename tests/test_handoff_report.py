"""The «Передачи и обещания» page, its link, the owner pages' department rows and the
closed-loop column — present with a hand-off export, absent without one; department names
from the export are shown as text, client texts masked."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from test_aggregate import aggregate_and_render, contact, write_inputs

from pipeline.closedloop.config import AggregateConfig

HOSTILE = '<img src=x onerror="window.__xss=1">Отдел претензий'


def complaints() -> list[dict]:
    rows = [
        contact(f"A{i}", f"2026-11-16 1{i}:00", kind="complaint", customer=f"C{i}")
        for i in range(4)
    ]
    rows += [
        contact(f"B{i}", f"2026-11-10 1{i}:00", kind="complaint", customer=f"D{i}")
        for i in range(3)
    ]
    # the client of A0 comes back on Friday, before anyone called
    rows.append(
        contact(
            "A9", "2026-11-20 09:00", kind="complaint", customer="C0", reason="callback_missed"
        )
    )
    return rows


EVENTS = [
    ("E1", "complaint:A0", "2026-11-16 10:30", "callback_promised", "Контакт-центр",
     "Операционный центр", "2026-11-16 15:00"),
    ("E2", "complaint:A1", "2026-11-16 11:30", "transferred", "Контакт-центр", HOSTILE, None),
    # only the sender writes again: the hostile-named department loses it too
    ("E3", "complaint:A1", "2026-11-16 12:30", "status_update", "Контакт-центр", None, None),
    ("E4", "complaint:A2", "2026-11-16 12:30", "transferred", "Контакт-центр",
     "Карточный бизнес", None),
    ("E5", "complaint:A2", "2026-11-18 09:00", "closed", "Карточный бизнес", None, None),
]  # fmt: skip


def render(work: Path, events) -> Path:
    paths = write_inputs(work, complaints(), events=events)
    config = AggregateConfig(report_week="2026-W47")
    return aggregate_and_render(work, paths, config, rows_read=8) / "site"


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    return render(tmp_path_factory.mktemp("handoffs"), EVENTS)


@pytest.fixture(scope="module")
def plain_site(tmp_path_factory) -> Path:
    return render(tmp_path_factory.mktemp("no_handoffs"), ())


def text_of(path: Path) -> str:
    html = re.sub(r"<script.*?</script>", " ", path.read_text(encoding="utf-8"), flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_the_page_shows_departments_lost_hand_offs_and_masked_texts(site):
    page = site / "handoffs" / "index.html"
    text = text_of(page)
    assert "Передачи и обещания: неделя 2026-W47" in text
    # Операционный центр lost its only promise (end of Thu 19 Nov): 1 of 1 settled
    row = re.search(
        r"Операционный центр Операционный центр ([\d ]+) ([\d ]+) ([\d ]+) ([\d,]+ %)", text
    )
    assert row and row.groups() == ("1", "1", "1", "100,0 %"), text
    # Карточный бизнес closed its transfer on Wednesday: after the next business day, late
    assert re.search(r"Карточный бизнес Карточный бизнес 1 1 0 0,0 % 0 из 0 100,0 %", text), text
    lost = text.split("Потерянные за неделю", 1)[1]
    assert "complaint:A0" in lost and "обещан звонок" in lost
    assert "+7 916 123-45-67" not in page.read_text(encoding="utf-8")
    assert "Карту заблокировали" in lost  # the contact's text, its phone masked
    assert "повторных обращений из-за потерянных передач" in text


def test_department_names_from_the_export_stay_text(site):
    for page in (site / "handoffs" / "index.html", site / "index.html"):
        html = page.read_text(encoding="utf-8")
        assert "<img" not in html and 'onerror="window' not in html
    html = (site / "handoffs" / "index.html").read_text(encoding="utf-8")
    assert "&lt;img src=x onerror=" in html  # in the table, as text
    chart = re.search(r'<script type="application/json"[^>]*>(.*?)</script>', html, re.S)
    assert chart and "\\u0026lt;img" in chart.group(1)  # a plotly label: an entity, not a tag


def test_overview_owner_pages_and_closed_loop_link_to_it(site):
    index = (site / "index.html").read_text(encoding="utf-8")
    assert 'href="handoffs/index.html"' in index
    assert "Поте&shy;ряно пере&shy;дач" in index  # the closed-loop column
    owner = text_of(site / "owners" / "operations.html")
    assert "Передачи и обещания отделов владельца" in owner
    assert "Отделы теряют передачи" in owner  # 100 % lost against a 5 % target
    assert "отделов владельца" not in text_of(site / "owners" / "digital.html")


def test_without_a_hand_off_export_nothing_of_it_appears(plain_site):
    assert not (plain_site / "handoffs" / "index.html").exists()
    assert (plain_site / "handoffs").is_dir()  # the DVC output, left empty
    for name in ("index.html", "owners/operations.html", "reasons/card_blocked.html"):
        text = text_of(plain_site / name)
        assert "ередач" not in text.replace("Переводы", ""), name
        assert "handoffs/" not in (plain_site / name).read_text(encoding="utf-8"), name


def headers_and_rows(workbook: Path) -> tuple[list, list]:
    import openpyxl

    sheet = openpyxl.load_workbook(workbook).active
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    return rows[0], rows[1:]


def test_the_workbook_has_the_lost_share_only_with_the_export(site, plain_site):
    header, rows = headers_and_rows(site.parent / "closed_loop.xlsx")
    column = header.index("Потеряно передач (4 недели)")
    shares = {row[0]: row[column] for row in rows}
    # card_blocked contacts' 3 settled hand-offs: A0's promise and A1's transfer lost, A2 late
    assert shares["Карту заблокировали"] == pytest.approx(2 / 3)
    assert shares["Обещали перезвонить и не перезвонили"] is None  # no hand-off of its own
    header, _ = headers_and_rows(plain_site.parent / "closed_loop.xlsx")
    assert not any("передач" in str(h) for h in header)


def test_the_why_notebook_drills_into_one_departments_lost_hand_offs(site):
    from pipeline import investigate

    con = investigate.connect(site.parent / "warehouse.duckdb")
    try:
        drill = investigate.department_handoffs(con, "Операционный центр", "2026-W47")
        figures = drill.figures()
        assert (figures["settled"], figures["lost"], figures["lost_share"]) == (1, 1, 1.0)
        assert figures["lost_came_back"] == 1  # A0's client wrote again on Friday
        assert drill.lost["contact_id"].tolist() == ["complaint:A0"]
        assert "916 123-45-67" not in drill.lost["text"].iloc[0]
        assert drill.reasons["reason_id"].tolist() == ["card_blocked"]
        assert drill.senders[["from_department", "handoff_type"]].values.tolist() == [
            ["Контакт-центр", "promise"]
        ]
        with pytest.raises(investigate.InvestigationError, match="Операционный центр"):
            investigate.department_handoffs(con, "Операционный цент", "2026-W47")
    finally:
        con.close()
