"""``python -m pipeline init``: start a new organisation's project in place.

1. The demo's material — raw exports (``data/raw/calls``, ``complaints``, ``handoffs``,
   ``drivers.csv``), its labels, owner notes, reason list and generator answers
   (``data/demo``) — moves to ``build/demo-aside/`` (``-2``, ``-3``… when that exists), or is
   deleted with ``--delete``. Empty ``calls/``, ``complaints/`` and ``taxonomy/labels/``
   folders and an owner-notes file without notes take its place.
2. Given a labelled sheet (``--labels FILE``, columns found by name or named with
   ``--text-column`` / ``--label-column``), it writes a ``reasons.yaml`` skeleton: one reason per
   label (id transliterated from the label, title as written, ordered by how often the label is
   used), one owner stub per reason, the reserved «Не определено» reason, colours, two masked
   examples each, and comments saying what to fill in; then imports the sheet as labels. The
   skeleton passes ``taxonomy check``.
3. It prints what to edit next.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import yaml

from pipeline.io import outputs
from pipeline.taxonomy.label_import import import_labels
from pipeline.taxonomy.labelfiles import read_labelled
from pipeline.taxonomy.schema import PALETTE, MaintenanceError, validate_taxonomy
from pipeline.text import mask_personal_data

ASIDE = Path("build") / "demo-aside"
# what the demo ships and a new organisation replaces (relative to the project root)
DEMO_MATERIAL = (
    Path("data/raw/calls"),
    Path("data/raw/complaints"),
    Path("data/raw/handoffs"),
    Path("data/raw/drivers.csv"),
    Path("data/demo"),
    Path("taxonomy/labels"),
    Path("taxonomy/owner_notes.yaml"),
    Path("taxonomy/reasons.yaml"),
)
UNDEFINED_ID = "unknown"
UNDEFINED_COLOUR = "#bdbdbd"
_TRANSLIT = dict(
    zip(
        "абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
        "a b v g d e e zh z i y k l m n o p r s t u f kh ts ch sh shch _ y _ e yu ya".split(),
        strict=True,
    )
)
MAX_ID_CHARS = 40
EXAMPLES_PER_REASON = 2
EXAMPLE_CHARS = 120

NOTES_HEADER = """\
# Owner notes: the "loop" of the closed loop. When a reason rises, its owner adds a note here:
# the ISO week it explains, why the volume rose, what they do about it, when the action started
# and when it is due. Example:
#  - reason: <id from reasons.yaml>
#    week: 2026-W47
#    author: <подразделение, должность>
#    explanation: <почему выросло>
#    action: <что делаем>
#    action_start: 2026-11-23
#    due: 2026-12-31
notes: []
"""


@dataclass(frozen=True)
class Skeleton:
    yaml: str
    ids: dict[str, str]  # label as written -> reason id


def reason_id(label: str, taken: set[str]) -> str:
    """An ASCII snake_case id for ``label`` ("Дороги и тротуары" -> "dorogi_i_trotuary"),
    unique among ``taken``."""
    text = "".join(_TRANSLIT.get(c, c) for c in label.lower())
    base = re.sub(r"[^a-z0-9]+", "_", text).strip("_")[:MAX_ID_CHARS].strip("_")
    if not base or not base[0].isalpha():
        base = f"reason_{base}".strip("_")
    candidate, n = base, 2
    while candidate in taken or candidate == UNDEFINED_ID:
        candidate, n = f"{base}_{n}", n + 1
    taken.add(candidate)
    return candidate


def skeleton(rows: pd.DataFrame) -> Skeleton:
    """``reasons.yaml`` text for the labels of ``rows`` (columns ``text``, ``label``)."""
    counts = rows["label"].value_counts(sort=False)
    labels = sorted(counts.index, key=lambda label: (-counts[label], label))
    if len(labels) + 1 > len(PALETTE):
        raise MaintenanceError(
            f"в таблице {len(labels)} разных меток: для стольких причин нет палитры; "
            f"объедините похожие метки (разумно 20–30 причин)"
        )
    taken: set[str] = set()
    ids = {label: reason_id(label, taken) for label in labels}
    lines = [*_HEADER, "owners:"]
    for label in labels:
        lines += [
            f"  - id: owner_{ids[label]}",
            f"    title: {_q('Владелец: ' + label)}  # замените на подразделение",
        ]
    lines += ["  - id: owner_quality", f"    title: {_q('Служба качества')}", "reasons:"]
    for order, label in enumerate(labels, start=1):
        examples = rows.loc[rows["label"] == label, "text"].head(EXAMPLES_PER_REASON)
        lines += _reason_lines(ids[label], label, order, examples.tolist())
    lines += _UNDEFINED_LINES
    return Skeleton("\n".join(lines) + "\n", ids)


def _q(value: str) -> str:
    """A YAML double-quoted scalar (JSON strings are valid YAML)."""
    return json.dumps(value, ensure_ascii=False)


def _reason_lines(rid: str, label: str, order: int, examples: list[str]) -> list[str]:
    definition = (
        f"Обращения, отмеченные в размеченной таблице как «{label}». Опишите, что входит в "
        "причину и что нет (с id соседних причин)."
    )
    lines = [
        f"  - id: {rid}",
        f"    title: {_q(label)}  # так, как говорит клиент",
        f"    group: {_q('Все причины')}  # раздел отчёта: объедините близкие причины",
        f"    definition: {_q(definition)}",
        f"    owner: owner_{rid}",
        "    quadrant: eliminate  # eliminate | automate | simplify | leverage",
        "    # target: {metric: weekly_volume, value: 100, due: 2027-06-30}"
        "  # или cpx (на 1000 клиентов), share (доля 0..1)",
        f"    order: {order}",
        f'    colour: "{PALETTE[order - 1]}"',
    ]
    shown = [mask_personal_data(" ".join(str(t).split()))[:EXAMPLE_CHARS] for t in examples]
    if shown:
        lines += ["    examples:", *(f"      - {_q(text)}" for text in shown)]
    return lines


_HEADER = [
    "# Reason taxonomy, written by `python -m pipeline init` from a labelled sheet.",
    "# Fill in: owners (the departments that remove each cause), each reason's definition,",
    "# quadrant and target; merge labels that are one cause.",
    "# Check: python -m pipeline taxonomy check",
    "#",
    "# quadrant: eliminate (irritates client and company: remove the cause),",
    "#           automate (client values it, company sees cost: self-service),",
    "#           simplify (company values it, client is irritated: make it easier),",
    "#           leverage (valuable to both: do more of it).",
    "# target.metric: weekly_volume (contacts per ISO week) | cpx (contacts per 1,000 customers,",
    "#   needs data/raw/drivers.csv) | share (0..1 of the week's contacts)",
    'version: "1"',
    f"undefined_reason: {UNDEFINED_ID}",
]
_UNDEFINED_LINES = [
    f"  - id: {UNDEFINED_ID}",
    f"    title: {_q('Не определено')}",
    f"    group: {_q('Служебные')}",
    "    definition: >-",
    "      Зарезервировано: контакты, которые модель не может отнести ни к одной причине с",
    "      достаточной уверенностью. Его содержимое кластеризуется, чтобы предложить новые",
    "      причины.",
    "    owner: owner_quality",
    "    quadrant: eliminate",
    "    order: 99",
    f'    colour: "{UNDEFINED_COLOUR}"',
    "    reserved: true",
]


def set_aside(root: Path, delete: bool, reasons: bool) -> tuple[Path | None, list[Path]]:
    """Move (or delete) the demo's material (its reason list only when ``reasons``); recreate
    empty folders and an empty notes file."""
    material = [p for p in DEMO_MATERIAL if reasons or p.name != "reasons.yaml"]
    present = [p for p in material if (root / p).exists()]
    target = None
    if present and not delete:
        target = root / ASIDE
        n = 2
        while target.exists():
            target, n = root / f"{ASIDE}-{n}", n + 1
    for rel in present:
        if delete:
            shutil.rmtree(root / rel) if (root / rel).is_dir() else (root / rel).unlink()
        else:
            (target / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.move(root / rel, target / rel)
    for folder in ("data/raw/calls", "data/raw/complaints", "taxonomy/labels"):
        (root / folder).mkdir(parents=True, exist_ok=True)
        (root / folder / ".gitkeep").touch()
    outputs.write(root / "taxonomy/owner_notes.yaml", outputs.text(NOTES_HEADER))
    return target, present


def init(
    root: Path,
    labels: Path | None = None,
    text_column: str | None = None,
    label_column: str | None = None,
    delete: bool = False,
) -> dict:
    """Set the demo aside and, given a labelled sheet, write reasons.yaml and import it."""
    rows = None
    if labels is not None:
        rows, _ = read_labelled(labels, text_column, label_column)
        rows = rows.assign(label=rows["label"].astype("string").str.strip())
        rows = rows[rows["label"].fillna("").ne("") & rows["text"].notna()]
        if rows["label"].nunique() < 2:
            raise MaintenanceError(f"{labels}: меньше двух разных меток — классифицировать нечего")
        draft = skeleton(rows)
        _check_before_writing(draft, root / "taxonomy" / "reasons.yaml")
    aside, moved = set_aside(root, delete, reasons=rows is not None)
    result = {"aside": aside, "moved": moved, "reasons": 0, "labels": 0}
    result["cost_cleared"] = clear_demo_cost(root / "params.yaml")
    if rows is not None:
        reasons_path = root / "taxonomy" / "reasons.yaml"
        outputs.write(reasons_path, outputs.text(draft.yaml))
        out = root / "taxonomy" / "labels" / f"{Path(labels).stem}.csv"
        imported = import_labels(
            Path(labels), out, reasons_path, root / "taxonomy" / "labels",
            text_column=text_column, label_column=label_column, allow_conflicts=True,
        )  # fmt: skip
        result |= {"reasons": len(draft.ids), "labels": len(imported.new)}
    return result


_COST_RE = re.compile(r"^(  cost_per_minute:)[ \t]*[0-9.]+", re.MULTILINE)


def clear_demo_cost(params: Path) -> bool:
    """The demo bank's cost per handling minute is not the new organisation's: set it to
    null (no cost or prize in the report until the organisation enters its own)."""
    if not params.exists():
        return False
    text = params.read_text(encoding="utf-8")
    cleared, count = _COST_RE.subn(r"\1 null", text)
    if count:
        outputs.write(params, outputs.text(cleared))
    return bool(count)


def _check_before_writing(draft: Skeleton, path: Path) -> None:
    """The skeleton passes ``taxonomy check`` before anything is moved or written."""
    validate_taxonomy(yaml.safe_load(draft.yaml), path)


NEXT_STEPS = """Дальше:
  1. taxonomy/reasons.yaml — впишите владельцев (owners), определения, квадранты и цели
     причин; объедините метки, которые на деле одна причина. Проверка:
     python -m pipeline taxonomy check
  2. params.yaml — имена колонок ваших выгрузок (ingest.columns), правило SLA и стоимость
     минуты (aggregate), если они у вас есть.
  3. Положите выгрузки недели в data/raw/complaints/ (и звонки в data/raw/calls/, если есть;
     data/raw/drivers.csv — число клиентов по неделям, если есть) и запустите: make run
  4. Отчёт: reports/index.html."""


def cli(args: argparse.Namespace) -> None:
    result = init(Path(args.root), args.labels, args.text_column, args.label_column, args.delete)
    if result["moved"]:
        where = "удалено" if args.delete else f"перенесено в {result['aside']}"
        print(f"демо ({', '.join(str(p) for p in result['moved'])}): {where}")
    if result["cost_cleared"]:
        print(
            "params.yaml: стоимость минуты демо (aggregate.cost_per_minute) снята — "
            "впишите свою, чтобы видеть стоимость и приз"
        )
    if result["reasons"]:
        print(
            f"taxonomy/reasons.yaml: {result['reasons']} причин из {args.labels} "
            f"+ «Не определено»; меток импортировано: {result['labels']}"
        )
    else:
        print("taxonomy/reasons.yaml не изменён: передайте --labels ФАЙЛ, чтобы создать его")
    print(NEXT_STEPS)
