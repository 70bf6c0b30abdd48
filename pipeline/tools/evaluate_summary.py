"""The Russian summary ``evaluate`` prints: headline metrics, the per-label table, what was
left out (rare labels, skipped rows) and the time taken. Reads the report dict only."""

from __future__ import annotations


def _number(value: float, digits: int = 3) -> str:
    return f"{value:.{digits}f}".replace(".", ",")


def _count(value: int) -> str:
    return f"{value:,}".replace(",", "\u00a0")


def render_summary(report: dict, source: str = "") -> str:
    """A readable Russian summary: headline metrics, per-label table, what was left out."""
    lines = _headline(report, source) + _per_label_table(report["per_label"])
    lines += _rare_lines(report["rare_labels"]) + _left_out_lines(report)
    lines.append(
        f"  Время: {_number(report['wall_time_s'], 1)} с (лемматизация "
        f"{_number(report['lemmatize_s'], 1)} с)"
    )
    return "\n".join(lines)


def _headline(report: dict, source: str) -> list[str]:
    folds = report["folds"]
    taxonomy = report["taxonomy"]
    if taxonomy == "provisional":
        taxonomy = "временная, из значений меток"
    return [
        f"Оценка классификатора причин{': ' + source if source else ''}",
        f"  {_count(report['n_examples'])} примеров, {report['n_labels']} причин, "
        f"{folds['k']}-кратная стратифицированная кросс-валидация (seed {folds['seed']}); "
        f"таксономия: {taxonomy}",
        "",
        f"  macro-F1                 {_number(report['macro_f1'])}   (по фолдам "
        f"{_number(min(folds['macro_f1']))}–{_number(max(folds['macro_f1']))}, "
        f"σ {_number(folds['macro_f1_std'])})",
        f"  доля верных (accuracy)   {_number(report['accuracy'])}",
        f"  покрытие                 {_number(report['coverage'] * 100, 1)} % контактов "
        "получают причину, остальные — «Не определено» (не подходят ни под одну причину; "
        f"цель — около {_number(report['classifier']['undefined_share'] * 100, 0)} %)",
        f"  в покрытии: macro-F1     {_number(report['macro_f1_covered'])}, точность "
        f"{_number(report['precision_covered'])}",
        "",
    ]


def _per_label_table(per_label: dict) -> list[str]:
    width = max([len("Причина"), *(len(label) for label in per_label)])
    width = min(width, 40)
    lines = [f"  {'Причина':<{width}}  Точн.  Полн.  F1     Примеров"]
    rows = sorted(per_label.items(), key=lambda item: -item[1]["support"])
    for label, m in rows:
        lines.append(
            f"  {label[:width]:<{width}}  {_number(m['precision'], 2):>5}  "
            f"{_number(m['recall'], 2):>5}  {_number(m['f1'], 2):>5}  {_count(m['support']):>8}"
        )
    return lines


def _rare_lines(rare: dict) -> list[str]:
    if not rare["labels"]:
        return []
    listed = ", ".join(f"«{k}» ({v})" for k, v in rare["labels"].items())
    if rare["merged_into"]:
        return [
            "",
            f"  Редкие метки (меньше {rare['threshold']} примеров) объединены в "
            f"«{rare['merged_into']}»: {listed}",
        ]
    lines = [
        "",
        f"  ВНИМАНИЕ: отброшены редкие метки (меньше {rare['threshold']} примеров), "
        f"{rare['dropped_examples']} примеров: {listed}",
    ]
    if rare.get("note"):
        lines.append(f"  {rare['note']}")
    if rare["mode_from"] == "default":
        lines.append("  Чтобы оставить их одной причиной «прочее», укажите --rare merge")
    return lines


SKIPPED_RU = {
    "empty_text": "пустых текстов",
    "no_label": "без метки",
    "duplicate_key": "повторов по ключу",
    "duplicate_text": "повторов текста",
    "malformed_rows": "нечитаемых строк",
}


def _left_out_lines(report: dict) -> list[str]:
    lines = []
    skipped = {k: v for k, v in report["skipped"].items() if v}
    if skipped:
        listed = ", ".join(f"{SKIPPED_RU.get(k, k)} {_count(v)}" for k, v in skipped.items())
        lines.append(f"  Пропущено: {listed}")
    if report["remapped_to_successor"]:
        lines.append(
            f"  Метки выведенных причин заменены преемниками: {report['remapped_to_successor']}"
        )
    return lines
