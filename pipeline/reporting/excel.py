"""The closed loop of the report week as an Excel workbook (openpyxl), headers in Russian."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import datetime, time
from pathlib import Path

import pandas as pd

from pipeline.io.outputs import data, write
from pipeline.io.weeks import week_bounds
from pipeline.reporting import formatting
from pipeline.reporting.formatting import METRIC_RU, QUADRANTS

XLSX_COLUMNS = {
    "title": "Причина",
    "owner": "Владелец",
    "quadrant_ru": "Квадрант",
    "contacts": "Контакты",
    "volume_estimated": "Оценка с поправкой на ошибки модели",
    "volume_estimated_low": "Оценка: нижняя граница интервала {level}",
    "volume_estimated_high": "Оценка: верхняя граница интервала {level}",
    "expected_precision": "Ожидаемая точность модели",
    "prev_week": "Прошлая неделя",
    "wow_change": "Изменение к прошлой неделе",
    "change_4w": "{recent_weeks_ru} к {recent_weeks} предыдущим",
    "trend_ru": "Тренд {trend_weeks_ru}",
    "is_spike": "Всплеск",
    "target_value": "Цель",
    "target_metric_ru": "Метрика цели",
    "target_due": "Срок цели",
    "target_status_ru": "Статус цели",
    "sla_compliance": "SLA (в срок)",
    "sla_breached_limit": "Сверх {sla_limit_days} рабочих дней",
    "repeat_rate": "Повторы",
    "mean_transfers": "Переводов на звонок",
    "share_2plus_transfers": "Доля с ≥ 2 переводами",
    "handoff_lost_share": "Потеряно передач ({recent_weeks_ru})",
    "cost": "Стоимость недели, ₽",
    "prize_year": "Приз в год, ₽",
    "note_action": "Действие владельца",
    "action_effect": "Изменение после действия",
    "flag": "Флаг",
    "cpx": "CPX",
}
XLSX_PERCENT = {
    "wow_change",
    "change_4w",
    "sla_compliance",
    "repeat_rate",
    "share_2plus_transfers",
    "action_effect",
    "expected_precision",
    "handoff_lost_share",
}
XLSX_WHOLE = {"volume_estimated", "volume_estimated_low", "volume_estimated_high"}
WIDE = {"title", "note_action"}
# columns that need what the data or params may lack (``ReportData.run.sections``)
NEEDS = {
    "sla": ("sla_compliance", "sla_breached_limit"),
    "calls": ("mean_transfers", "share_2plus_transfers"),
    "cost": ("cost", "prize_year"),
    "drivers": ("cpx",),
    "handoffs": ("handoff_lost_share",),
}
# sections a workbook has only when the run says so (the others: unless it says they are missing)
SHOWN_ONLY_IF_SAID = {"handoffs"}


def xlsx_columns(sections: dict[str, bool] | None = None) -> dict[str, str]:
    """The workbook's columns; without ``sections`` every one (the demo's)."""
    said = sections or {}
    missing = [need for need in NEEDS if not said.get(need, need not in SHOWN_ONLY_IF_SAID)]
    dropped = {column for need in missing for column in NEEDS[need]}
    return {k: v for k, v in XLSX_COLUMNS.items() if k not in dropped}


def sheet_frame(
    loop: pd.DataFrame,
    volume_interval: float,
    windows: dict,
    sections: dict[str, bool] | None = None,
) -> pd.DataFrame:
    """The closed-loop rows with Russian values and headers; windows and the interval level
    in the headers come from the run's params; columns needing missing data are left out."""
    columns = xlsx_columns(sections)
    frame = loop.copy()
    frame["quadrant_ru"] = frame["quadrant"].map(lambda q: QUADRANTS[q][0])
    frame["target_metric_ru"] = frame["target_metric"].map(METRIC_RU)
    frame["is_spike"] = frame["is_spike"].map({True: "да", False: ""})
    frame["flag"] = frame["flag"].fillna("")
    frame["note_action"] = frame["note_action"].fillna("")
    words = {
        "level": formatting.percent(volume_interval, 0),
        "recent_weeks_ru": formatting.weeks_ru(windows["recent_weeks"]),
        "trend_weeks_ru": formatting.weeks_ru(windows["trend_weeks"]),
        **windows,
    }
    return frame[list(columns)].rename(columns={k: v.format(**words) for k, v in columns.items()})


def write_xlsx(
    loop: pd.DataFrame,
    path: Path,
    week: str,
    volume_interval: float,
    windows: dict,
    sections: dict[str, bool] | None = None,
) -> None:
    """The workbook, written to a temporary file renamed over ``path`` on success."""
    write(path, data(xlsx_bytes(loop, week, volume_interval, windows, sections)))


def xlsx_bytes(
    loop: pd.DataFrame,
    week: str,
    volume_interval: float,
    windows: dict,
    sections: dict[str, bool] | None = None,
) -> bytes:
    """One sheet, frozen header and first column, filters, percent and whole-number formats."""
    columns = xlsx_columns(sections)
    frame = sheet_frame(loop, volume_interval, windows, sections)
    sheet_name = f"Замкнутый цикл {week}"[:31]
    book = io.BytesIO()
    with pd.ExcelWriter(book, engine="openpyxl") as writer:
        frame.to_excel(writer, sheet_name=sheet_name, index=False)
        sheet = writer.sheets[sheet_name]
        sheet.freeze_panes = "B2"
        for i, key in enumerate(columns, start=1):
            letter = sheet.cell(row=1, column=i).column_letter
            sheet.column_dimensions[letter].width = 40 if key in WIDE else 16
            number_format = "0.0%" if key in XLSX_PERCENT else "0" if key in XLSX_WHOLE else None
            if number_format:
                for cell in sheet[letter][1:]:
                    cell.number_format = number_format
        _text_stays_text(sheet)
        sheet.auto_filter.ref = sheet.dimensions
    # the file's own dates: the report week's end, not the moment it was written
    return _fix_times(book.getvalue(), datetime.combine(week_bounds(week)[1], time(23, 59, 59)))


def _text_stays_text(sheet) -> None:
    """openpyxl stores a string starting with "=" as a formula: an owner's note or a title
    written "=HYPERLINK(...)" would be a live link in Excel. Such cells are strings."""
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            if cell.data_type == "f":
                cell.data_type = "s"


def _fix_times(book: bytes, stamp: datetime) -> bytes:
    """The workbook's zip again with one entry time and ``stamp`` as its created / modified
    dates, so the same closed loop gives the same bytes on every run (openpyxl writes the
    current time into both)."""
    when = stamp.strftime("%Y-%m-%dT%H:%M:%SZ")
    with zipfile.ZipFile(io.BytesIO(book)) as source:
        entries = [(info, source.read(info)) for info in source.infolist()]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info, content in entries:
            if info.filename == "docProps/core.xml":
                text = content.decode("utf-8")
                for tag in ("dcterms:created", "dcterms:modified"):
                    text = re.sub(rf"(<{tag}[^>]*>)[^<]*(</{tag}>)", rf"\g<1>{when}\g<2>", text)
                content = text.encode("utf-8")
            fixed = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = info.external_attr
            target.writestr(fixed, content)
    return out.getvalue()
