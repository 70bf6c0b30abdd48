"""Label Studio: the taxonomy as a labelling config, contacts as tasks, its JSON export read back.

Choices carry the reason id as their value (what the export contains) and show the title and
group; the model's suggestion goes in as a prediction. Both export forms are read: the full
JSON (annotations per task; a cancelled one is ignored, annotators who disagree are reported)
and JSON-MIN (data fields and the choice side by side).
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pandas as pd

from pipeline.taxonomy.schema import MaintenanceError, Taxonomy

# Label Studio control and object tag names; predictions and exports refer to them
LS_CHOICES = "reason"
LS_TEXT = "text"


def label_studio_config(taxonomy: Taxonomy) -> str:
    """Labelling config: the text and one choice per reason (value = id, shown = title)."""
    view = ET.Element("View")
    ET.SubElement(view, "Header", value="Причина обращения")
    ET.SubElement(view, "Text", name=LS_TEXT, value=f"${LS_TEXT}")
    choices = ET.SubElement(
        view,
        "Choices",
        name=LS_CHOICES,
        toName=LS_TEXT,
        choice="single",
        showInline="false",
        required="true",
    )
    for reason_id in [*taxonomy.classes, taxonomy.undefined_reason]:
        reason = taxonomy.by_id[reason_id]
        shown = "Не подходит ни одна причина" if reason.reserved else reason.title
        shown += f" · {reason.group}" if reason.group and not reason.reserved else ""
        # html is shown instead of value, the value (the id) is what the export contains
        ET.SubElement(
            choices,
            "Choice",
            value=reason.id,
            html=shown,
            hint=" ".join(reason.definition.split()),
        )
    ET.indent(view)
    return ET.tostring(view, encoding="unicode") + "\n"


def label_studio_tasks(picked: pd.DataFrame, model_version: str | None = None) -> list[dict]:
    """Label Studio import JSON: one task per contact, the suggestion as a prediction."""
    tasks = []
    for row in picked.itertuples(index=False):
        task: dict = {
            "data": {
                "text": row.text,
                "contact_id": row.contact_id,
                "source": row.source,
                "why": row.why,
            }
        }
        if row.suggested_reason_id:
            prediction = {
                "result": [
                    {
                        "from_name": LS_CHOICES,
                        "to_name": LS_TEXT,
                        "type": "choices",
                        "value": {"choices": [row.suggested_reason_id]},
                    }
                ],
                "score": float(row.confidence),
            }
            if model_version:
                prediction["model_version"] = model_version
            task["predictions"] = [prediction]
        tasks.append(task)
    return tasks


def read_label_studio(path: Path) -> pd.DataFrame:
    """A Label Studio export as text, reason_id, source, where (``задача <id>``)."""
    try:
        tasks = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise MaintenanceError(f"{path}: не JSON-экспорт Label Studio ({exc})") from exc
    if not isinstance(tasks, list):
        raise MaintenanceError(f"{path}: ожидается список задач (экспорт Label Studio «JSON»)")
    rows = []
    for index, task in enumerate(tasks):
        if "data" in task:  # full JSON export
            data, answers = task["data"], _annotated(task)
        else:  # JSON-MIN export: data fields and the choice side by side
            value = task.get(LS_CHOICES)
            data, answers = task, [(value,)] if value else []
        rows.append(
            {
                "text": str(data.get(LS_TEXT, "")).strip(),
                "reason_id": _one_reason(answers),
                "source": str(data.get("source", "") or "").strip(),
                "where": f"{path.name}, задача {task.get('id', index + 1)}",
            }
        )
    return pd.DataFrame(rows, columns=["text", "reason_id", "source", "where"])


def _annotated(task: dict) -> list[tuple[str, ...]]:
    """The distinct answers of a task's annotations (each a tuple of chosen reasons)."""
    chosen = []
    for annotation in task.get("annotations", []):
        if annotation.get("was_cancelled"):
            continue
        chosen.append(
            tuple(
                choice
                for item in annotation.get("result", [])
                if item.get("type") == "choices"
                and item.get("from_name", LS_CHOICES) == LS_CHOICES
                for choice in item.get("value", {}).get("choices", [])
            )
        )
    return sorted(set(chosen))


def _one_reason(answers: list[tuple[str, ...]]) -> str:
    """The reason if all annotators agree on one; disagreeing choices joined by ``|``."""
    if len(answers) == 1 and len(answers[0]) == 1:
        return answers[0][0]
    if len(answers) > 1 or (answers and len(answers[0]) > 1):
        return "|".join(sorted({c for a in answers for c in a}))
    return ""
