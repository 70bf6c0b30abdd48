"""Hostile exports end to end: personal data and markup typed into complaints, call comments,
queue and department names, an owner's note and a file name go through `dvc repro`, the
labelling export and every notebook; no output holds the personal data and no sink runs the
markup.

The PII sweep reads every output a run writes (interim and processed Parquet, the DuckDB
warehouse, report pages, chart JSON, the workbook, the labelling sheet and Label Studio tasks,
executed notebooks and their HTML export, the terminal output of the run) and looks for each
planted value; the injection tests open every page and notebook export in Chromium.
"""

from __future__ import annotations

import html
import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from conftest import Visit, copy_repository, run_dvc
from test_ingest import CALL_HEADER, CRM_HEADER
from test_notebooks import KERNEL, NOTEBOOKS, install_kernel

pytestmark = [pytest.mark.slow]

WEEK_DAYS = ["16.11.2026", "17.11.2026", "18.11.2026", "19.11.2026", "20.11.2026"]

# One value of each kind; the needles are the forms in which the value must never reappear
# (as written, and as normalisation would leave it: lower case, digits regrouped).
PERSONAL_DATA = {
    "phone": ("+7 (916) 555-12-34", ["555-12-34", "555 12 34", "9165551234"]),
    "phone_8": ("8 903 777 66 55", ["903 777 66 55", "9037776655"]),
    "phone_foreign": ("+375 29 765-43-21", ["765-43-21", "765 43 21"]),
    "email": ("anna.kuznetsova77@mail.ru", ["kuznetsova77", "анна.кузнецова77"]),
    "card": ("4276 3811 2299 4471", ["3811 2299", "4276381122994471"]),
    "card_plain": ("5536913877001234", ["5536913877001234", "5536 9138"]),
    "passport": ("паспорт 4516 778899", ["778899"]),
    "passport_words": ("паспорт серии 4517 № 112233", ["112233"]),
    "account": ("счёт 40817810500001234567", ["40817810500001234567", "0500001234567"]),
    "snils": ("112-233-445 95", ["112-233-445", "112 233 445"]),
    "snils_keyword": ("СНИЛС 11223344596", ["11223344596"]),
    "inn_person": ("ИНН 500100732259", ["500100732259"]),
    "inn_company": ("ИНН 7707083893", ["7707083893"]),
    "full_name": ("Кузнецова Анна Викторовна", ["кузнецова", "викторовна"]),
    "initials": ("сотрудник Сидоренко П.А.", ["сидоренко"]),
    "address": ("ул. Профсоюзная, д. 93, кв. 17", ["д. 93", "кв. 17", "профсоюзная 93"]),
    "flat": ("дом 14 квартира 88", ["квартира 88", "квартира 88".upper()]),
}
MARKUP = (
    "<script>window.__xss = 'text'</script>"
    "<img src=x onerror=\"window.__xss = 'img'\">"
    "<a href=\"javascript:window.__xss = 'link'\">подробнее</a>"
)
QUEUE = "<a href=\"javascript:window.__xss = 'queue'\">Карты VIP</a>"
DEPARTMENT = "Отдел <img src=x onerror=\"window.__xss = 'dept'\">"
FORMULA = '=HYPERLINK("http://evil.example/","нажмите")'
HOSTILE_FILE = "crm_<img src=x onerror=window.__xss=5>.csv"


def csv_cell(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def complaint_rows() -> list[str]:
    rows = []
    for i, (_kind, (value, _)) in enumerate(sorted(PERSONAL_DATA.items())):
        for copy in range(3):
            day = WEEK_DAYS[(i + copy) % len(WEEK_DAYS)]
            iso = "-".join(reversed(day.split(".")))
            text = (
                f"Здравствуйте! СМС-код для входа в приложение не приходит уже третий день, "
                f"{value}. Прошу разобраться {MARKUP}"
            )
            if copy == 1:
                text = f"{FORMULA} {text}"
            department = DEPARTMENT if copy == 1 else "Дирекция цифровых каналов"
            rows.append(
                ",".join(
                    [
                        f"RQ-H{i:02d}{copy}",
                        f"{iso} 1{copy}:0{i % 10}",
                        "E-mail",
                        f"C9{i:02d}{copy}01",
                        csv_cell(text),
                        csv_cell(department),
                        f"{iso} 17:30",
                        "Закрыто",
                        "1",
                    ]
                )
            )
    # rows that cannot be used: quarantined, raw text masked there too
    rows.append(
        f'RQ-HBAD,31.02.2026 10:00,E-mail,C9BAD,"{PERSONAL_DATA["card"][0]} '
        f'{PERSONAL_DATA["full_name"][0]} {MARKUP}",Отдел,,Закрыто,0'
    )
    rows.append(
        "RQ-HESC,2026-11-17 10:00,E-mail\x1b[2J\x1b[31m,C9ESC,Карта не пришла,Отдел,,Закрыто,0"
    )
    return rows


def call_rows() -> list[str]:
    rows = []
    for i, (value, _) in enumerate(PERSONAL_DATA.values()):
        day = WEEK_DAYS[i % len(WEEK_DAYS)]
        outcome = "Пропущен" if i % 2 else "Отвечен"
        comment = f"кл. не получает смс-код, {value}, {MARKUP}" if outcome == "Отвечен" else ""
        rows.append(
            f"CL-H{i:03d};{day} 1{i % 8}:05;{day} 1{i % 8}:11;{30 + i};{QUEUE};{outcome};1;"
            f"Общая линия > {QUEUE};C8{i:03d}01;{comment}"
        )
    return rows


OWNER_NOTE = f"""
  - reason: sms_code_missing
    week: 2026-W47
    author: {json.dumps("Цифровые каналы " + MARKUP, ensure_ascii=False)}
    explanation: {json.dumps("Оператор СМС сменил маршрут. " + MARKUP, ensure_ascii=False)}
    action: {json.dumps(FORMULA, ensure_ascii=False)}
    action_start: 2026-11-16
    due: 2026-12-31
"""


@pytest.fixture(scope="session")
def hostile(tmp_path_factory) -> dict:
    """A copy of the repository with hostile exports added, after `dvc repro`, the labelling
    export and every notebook (executed and exported to HTML)."""
    ws = copy_repository(tmp_path_factory.mktemp("hostile") / "repo")
    raw = ws / "data" / "raw"
    text = "\ufeff" + "\n".join([CRM_HEADER, *complaint_rows()]) + "\n"
    (raw / "complaints" / HOSTILE_FILE).write_text(text, encoding="utf-8")
    calls = "\r\n".join([CALL_HEADER, *call_rows()]) + "\r\n"
    (raw / "calls" / "telephony_hostile.csv").write_bytes(calls.encode("cp1251"))
    notes = ws / "taxonomy" / "owner_notes.yaml"
    notes.write_text(notes.read_text(encoding="utf-8") + OWNER_NOTE, encoding="utf-8")
    assert run_dvc(ws, "config", "core.no_scm", "true").returncode == 0
    repro = run_dvc(ws, "repro")
    assert repro.returncode == 0, repro.stdout[-3000:] + repro.stderr[-3000:]
    labeling = ws / "build" / "labeling"
    export = subprocess.run(
        [sys.executable, "-m", "pipeline", "taxonomy", "export-labeling", "--out", str(labeling)],
        cwd=ws,
        capture_output=True,
        text=True,
        check=False,
    )
    assert export.returncode == 0, export.stderr
    notebooks = run_notebooks(ws, tmp_path_factory.mktemp("hostile_notebooks"))
    return {
        "ws": ws,
        "terminal": repro.stdout + repro.stderr + export.stdout + export.stderr,
        "labeling": labeling,
        "notebooks": notebooks,
    }


def run_notebooks(ws: Path, out: Path) -> list[Path]:
    import papermill
    from nbconvert import HTMLExporter

    parameters = {"why_reason_rose.ipynb": {"reason_id": "sms_code_missing", "week": "2026-W47"}}
    written = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("JUPYTER_PATH", str(install_kernel(out / "jupyter")))
        for name in NOTEBOOKS:
            executed = papermill.execute_notebook(
                str(ws / "notebooks" / name),
                str(out / name),
                parameters=parameters.get(name, {}),
                kernel_name=KERNEL,
                cwd=str(ws / "notebooks"),
                progress_bar=False,
                log_output=False,
            )
            page, _ = HTMLExporter().from_notebook_node(executed)
            html_path = out / name.replace(".ipynb", ".html")
            html_path.write_text(page, encoding="utf-8")
            written += [out / name, html_path]
    return written


# --- reading every output as text ----------------------------------------------------------------


def parquet_text(path: Path) -> str:
    frame = pd.read_parquet(path)
    text_columns = [
        c for c in frame.columns if frame[c].dtype == object or "string" in str(frame[c].dtype)
    ]
    return "\n".join(frame[c].astype("string").fillna("").str.cat(sep="\n") for c in text_columns)


def warehouse_text(path: Path) -> str:
    parts = []
    with duckdb.connect(str(path), read_only=True) as con:
        tables = [
            t
            for (t,) in con.execute("SELECT table_name FROM information_schema.tables").fetchall()
        ]
        for table in tables:
            parts.append(con.execute(f'SELECT * FROM "{table}"').df().astype("string").to_csv())
    return "\n".join(parts)


def file_text(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        return parquet_text(path)
    if suffix == ".duckdb":
        return warehouse_text(path)
    if suffix == ".xlsx":
        with zipfile.ZipFile(path) as book:
            return "\n".join(book.read(n).decode("utf-8") for n in book.namelist())
    data = path.read_bytes()
    if b"\x00" in data[:1000]:
        return ""  # binary (the model pickle holds no text; its vocabulary is lemmas)
    text = data.decode("utf-8", errors="replace")
    if suffix in {".json", ".ipynb"}:
        text = json.dumps(json.loads(text), ensure_ascii=False)
    return html.unescape(text)


def outputs(hostile: dict) -> list[Path]:
    ws = hostile["ws"]
    found = [p for p in (ws / "data" / "interim").rglob("*") if p.is_file()]
    found += [p for p in (ws / "data" / "processed").rglob("*") if p.is_file()]
    found += [ws / "data" / "warehouse.duckdb"]
    found += [p for p in (ws / "reports").rglob("*") if p.is_file() and p.suffix != ".js"]
    found += [p for p in hostile["labeling"].rglob("*") if p.is_file()]
    return found + hostile["notebooks"]


def test_no_personal_data_in_any_output(hostile):
    """17 kinds of personal data, planted in complaints, call comments and a quarantined row,
    appear in no output; the labels that replaced them do (the rows did go through)."""
    leaks = []
    texts = {p: file_text(p).lower() for p in outputs(hostile)}
    texts[Path("terminal")] = hostile["terminal"].lower()
    for path, text in texts.items():
        for kind, (_, needles) in PERSONAL_DATA.items():
            leaks += [f"{path.name}: {kind} ({n})" for n in needles if n.lower() in text]
    assert not leaks, "\n".join(leaks)
    ws = hostile["ws"]
    with duckdb.connect(str(ws / "data" / "warehouse.duckdb"), read_only=True) as con:
        planted = con.execute(
            "SELECT text FROM contacts WHERE contact_id LIKE 'complaint:RQ-H%'"
        ).fetchall()
        quarantined = con.execute(
            "SELECT raw FROM quarantine WHERE source_row IS NOT NULL AND raw LIKE '%RQ-HBAD%'"
        ).fetchall()
    masked = "\n".join(t for (t,) in planted)
    assert len(planted) == 3 * len(PERSONAL_DATA)
    for label in ("[телефон]", "[e-mail]", "[карта]", "[паспорт]", "[счёт]", "[СНИЛС]", "[ИНН]"):
        assert label in masked
    assert "[ФИО]" in masked and "[адрес]" in masked
    assert len(quarantined) == 1 and "[карта]" in quarantined[0][0]
    ingest = json.loads((ws / "reports" / "metrics" / "ingest.json").read_text())
    assert ingest["rows_read"] == ingest["accepted"] + ingest["quarantined"] + ingest["duplicates"]


# --- injection sinks -----------------------------------------------------------------------------


def assert_inert(visit: Visit, where: str) -> None:
    page = visit.page
    assert page.evaluate("typeof window.__xss") == "undefined", where
    assert page.locator("img[src='x']").count() == 0, where
    assert page.locator("a[href^='javascript:']").count() == 0, where
    assert page.locator("svg a").count() == 0, where  # plotly draws <a> in labels as links


@pytest.mark.browser
def test_report_pages_show_the_markup_as_text_and_run_none_of_it(browser, hostile):
    """Complaint texts (examples, emerging topics), queue names (drops heatmap, transfer
    tables), department names (SLA), the owner's note and the export's file name (data
    quality): every report page, charts rendered, runs nothing; the markup is visible text."""
    site = hostile["ws"] / "reports"
    shown = []
    for path in sorted(site.rglob("*.html")):
        visit = Visit(browser, path)
        visit.charts_rendered()
        assert_inert(visit, str(path.relative_to(site)))
        body = visit.page.inner_text("body")
        shown += [
            marker for marker in ("window.__xss", "Карты VIP", "Отдел <img") if marker in body
        ]
        visit.close()
    assert "window.__xss" in shown and "Карты VIP" in shown


def test_overview_names_the_hostile_file_as_text(hostile):
    page = (hostile["ws"] / "reports" / "index.html").read_text(encoding="utf-8")
    assert "crm_&lt;img src=x onerror=window.__xss=5&gt;.csv" in page
    assert HOSTILE_FILE not in page


def test_workbook_cells_that_look_like_formulas_are_text(hostile):
    from openpyxl import load_workbook

    book = load_workbook(hostile["ws"] / "reports" / "closed_loop.xlsx")
    cells = [cell for row in book.active.iter_rows() for cell in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    assert FORMULA in [c.value for c in cells]  # the owner's action, as text


def test_labelling_sheet_starts_no_formula(hostile):
    """A labeller opens to_label.csv in Excel: no cell starts a formula."""
    sheet = pd.read_csv(hostile["labeling"] / "to_label.csv", dtype=str, keep_default_na=False)
    assert len(sheet)
    starts = [v for column in sheet for v in sheet[column] if v[:1] in ("=", "+", "-", "@")]
    assert not starts


def test_a_guarded_labelling_sheet_reads_back_as_the_clients_text(tmp_path):
    from pipeline.io.cells import guard_frame
    from pipeline.taxonomy.label_import import read_labelled

    texts = [FORMULA + " карта не пришла", "-5000 руб списали дважды", "@банк ответьте", "ок"]
    frame = pd.DataFrame({"text": texts, "reason_id": "card_not_delivered"})
    guard_frame(frame).to_csv(tmp_path / "labelled.csv", index=False, encoding="utf-8-sig")
    written = (tmp_path / "labelled.csv").read_text(encoding="utf-8-sig")
    assert "\n'=HYPERLINK" in written.replace('"', "") and "\n'-5000" in written
    assert read_labelled(tmp_path / "labelled.csv")["text"].tolist() == texts


@pytest.mark.notebook
@pytest.mark.browser
def test_notebook_html_exports_run_none_of_the_markup(browser, hostile):
    pages = [p for p in hostile["notebooks"] if p.suffix == ".html"]
    assert len(pages) == len(NOTEBOOKS)
    for path in pages:
        source = path.read_text(encoding="utf-8")
        assert "<script>window.__xss" not in source and '<img src="x"' not in source
        assert not re.search(r"""<img[^>]*onerror\s*=\s*["']?window""", source)
        visit = Visit(browser, path)
        assert_inert(visit, path.name)
        visit.close()
    why = next(p for p in pages if p.name.startswith("why")).read_text(encoding="utf-8")
    assert "window.__xss" in why  # the planted complaints are among its examples


def test_terminal_output_of_the_run_holds_no_control_characters(hostile):
    """A channel written with an escape sequence (quarantined) does not reach the terminal."""
    assert "\x1b" not in hostile["terminal"]


def test_a_stop_message_quoting_an_export_prints_its_control_characters_as_escapes(tmp_path):
    """A header carrying "clear screen" and a right-to-left override: the stop message names
    the columns found, inert."""
    raw = tmp_path / "raw"
    (raw / "complaints").mkdir(parents=True)
    (raw / "complaints" / "crm.csv").write_text(
        "request_id,\x1b[2Jreceived_at\u202e,text\nRQ-1,2026-11-16 10:00,текст\n", encoding="utf-8"
    )
    out = tmp_path / "out"
    result = subprocess.run(
        [sys.executable, "-m", "pipeline", "ingest", "--raw", str(raw),
         "--contacts", str(out / "c.parquet"), "--quarantine", str(out / "q.parquet"),
         "--drivers", str(out / "d.parquet"), "--metrics", str(out / "m.json")],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert "\x1b" not in result.stderr and "\u202e" not in result.stderr
    assert "\\x1b[2J" in result.stderr
