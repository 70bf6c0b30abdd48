"""What to write for each key of ``reasons.yaml``: appended to a schema error about that key.

A maintainer who starts from a minimal reason list (id, title, owner, quadrant, target) learns
from one run of ``taxonomy check`` what every missing or wrong key should hold, with an example.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # schema imports this module
    from pipeline.taxonomy.schema import Taxonomy

_LOOKS_LIKE_ID = re.compile(r"^[a-z][a-z0-9_]*$")
UNKNOWN_LABEL = "неизвестная причина"
RESERVED_LABEL = "причина «Не определено» зарезервирована и не размечается"

# key of a reason (or "owners.<key>", "target.<key>", "top.<key>") -> what to write
_HINTS = {
    "id": "латиница в нижнем регистре, цифры и _, с буквы; например: id: street_lighting",
    "title": "название словами заявителя, от 3 символов; например: title: Не горят фонари",
    "group": "раздел отчёта, объединяющий причины; например: group: Благоустройство "
    "(можно не писать)",
    "definition": "что входит в причину и что нет, не короче 20 символов; например: "
    "definition: Не работает уличное освещение во дворах и на улицах. Не включает: "
    "освещение в подъездах (entrance_lighting)",
    "owner": "id подразделения из списка owners, которое устраняет причину; например: "
    "owner: housing",
    "quadrant": "eliminate — устранить причину, automate — дать самообслуживание, simplify — "
    "упростить, leverage — развивать; например: quadrant: eliminate",
    "target": "цель причины, можно не писать; например: "
    "target: {metric: weekly_volume, value: 40, due: 2027-06-30}",
    "order": "место в отчёте, целое число, у действующих причин разное (можно не писать: "
    "по умолчанию позиция в файле)",
    "colour": 'цвет на графиках, #RRGGBB в кавычках; например: colour: "#1f77b4" '
    "(можно не писать: по умолчанию цвет палитры по позиции)",
    "examples": "список типичных формулировок обращений; например: examples: [Не горит фонарь]",
    "reserved": "reserved: true — только у причины «Не определено», её id указан в "
    "undefined_reason; например: {id: unknown, title: Не определено, definition: Обращения, "
    "которые модель не отнесла ни к одной причине, owner: quality, quadrant: eliminate, "
    "reserved: true}",
    "retired": "дата вывода причины ГГГГ-ММ-ДД, вместе с replaced_by; например: "
    "retired: 2026-12-01",
    "replaced_by": "id действующей причины, куда переходит история выведенной",
    "target.metric": "weekly_volume — обращений за ISO-неделю; cpx — обращений на 1 000 "
    "клиентов (нужен drivers.csv); share — доля от всех обращений, от 0 до 1",
    "target.value": "число ≥ 0 в единицах metric; например: value: 40",
    "target.due": "дата ГГГГ-ММ-ДД, к которой цель должна быть достигнута; например: "
    "due: 2027-06-30",
    "owners.id": "латиница в нижнем регистре, цифры и _; например: id: housing",
    "owners.title": "название подразделения; например: title: Управление ЖКХ",
    "top.version": 'версия таксономии, любая строка; например: version: "2026.12.1"',
    "top.undefined_reason": "id зарезервированной причины «Не определено», куда попадают "
    "обращения, которые модель не отнесла ни к одной причине; например: undefined_reason: "
    "unknown, и в reasons: {id: unknown, title: Не определено, definition: Обращения, которые "
    "модель не отнесла ни к одной причине, owner: quality, quadrant: eliminate, "
    "reserved: true} (undefined_reason можно не писать, если зарезервированная причина одна)",
    "top.owners": "список владельцев причин; например: owners: [{id: housing, title: "
    "Управление ЖКХ}]",
    "top.reasons": "список причин; у каждой id, title, definition, owner, quadrant",
}


def hints(locs: Sequence[Sequence[object]]) -> list[str]:
    """``hint`` of each error location, each distinct hint only the first time it appears."""
    seen: set[str] = set()
    out = []
    for loc in locs:
        text = hint(loc)
        out.append("" if text in seen else text)
        seen.add(text)
    return out


def hint(loc: Sequence[object]) -> str:
    """`` — что писать: …`` for a schema error at ``loc`` (pydantic's path), or ""."""
    keys = [str(part) for part in loc if not isinstance(part, int)]
    if not keys:
        return ""
    if len(keys) == 1 and keys[0] not in ("reserved",):
        key = f"top.{keys[0]}"
    elif keys[0] == "owners":
        key = f"owners.{keys[-1]}"
    elif "target" in keys[:-1]:
        key = f"target.{keys[-1]}"
    else:
        key = keys[-1]
    text = _HINTS.get(key)
    if text:
        return f" — что писать: {text}"
    prefix = key.rpartition(".")[0]
    known = [k.rpartition(".")[2] for k in _HINTS if k.rpartition(".")[0] == prefix]
    close = difflib.get_close_matches(keys[-1], known, n=1)
    return f" — возможно, имелось в виду {close[0]}" if close else ""


def _fold(text: str) -> str:
    return " ".join(text.split()).lower().replace("ё", "е")


def unknown_labels_cause(labels: Iterable[str], taxonomy: Taxonomy) -> str:
    """Why labels are not in the taxonomy, guessed from what they look like, with the nearest
    ids or titles: reason titles written differently, or ids of another reasons.yaml."""
    labels = list(dict.fromkeys(labels))
    ids = [label for label in labels if _LOOKS_LIKE_ID.match(label)]
    titles = {_fold(r.title): r for r in taxonomy.reasons if r.active}
    by_id = {r.id: r for r in taxonomy.reasons if r.active}
    near = []
    for label in labels[:20]:
        pool = by_id if label in ids else titles
        match = difflib.get_close_matches(label if label in ids else _fold(label), pool, n=1)
        if match:
            reason = pool[match[0]]
            near.append(f"'{label}' → {reason.id} «{reason.title}»")
    if len(ids) * 2 >= len(labels):
        cause = (
            "этих id нет в таксономии: разметка сделана по другой версии reasons.yaml или в "
            "id опечатка; переименуйте метки или укажите нужный --taxonomy"
        )
    else:
        cause = (
            "похоже, это названия причин, а не id, и они не совпадают ни с одним title в "
            "reasons.yaml (регистр и ё не важны): поправьте названия в файле или в reasons.yaml, "
            "либо замените их на id"
        )
    return cause + (f"; ближайшие: {', '.join(near[:5])}" if near else "")
