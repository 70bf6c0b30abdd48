"""Command ``evaluate``: how well would the reason classifier do on *your* labelled contacts?

    python -m pipeline evaluate --labels FILE_OR_FOLDER [--taxonomy reasons.yaml] [--folds 5]

Reads a labelled file (CSV with any usual delimiter and encoding, XLSX, JSON lines, a JSON array
of objects, or a folder of such files), validates it, and scores exactly the classifier that
``train`` fits (same text processing, same features, same model selection, ``params.yaml``
section ``train``) by stratified k-fold cross-validation: every example is predicted by a model
fitted without it, and that model chooses its regularisation and «Не определено» cut inside its
own training part. Writes a JSON report and prints a Russian summary.

Without ``--taxonomy`` the label values themselves are the classes (a provisional taxonomy).
With one, unknown labels are errors naming the file and line, and labels of retired reasons are
mapped to their successors. Labels with fewer examples than folds cannot be cross-validated:
they are dropped (the default, announced loudly) or merged into one class «прочее».
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
from sklearn.metrics import accuracy_score
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import Pipeline

from pipeline.config import ConfigError, load_section
from pipeline.ingest import IngestError, decode_bytes, fold_name
from pipeline.taxonomy.schema import load_taxonomy
from pipeline.text import Lemmatizer
from pipeline.train import TrainConfig, model_inputs, out_of_fold, per_reason, score

logger = logging.getLogger(__name__)

ENCODINGS = ("utf-8-sig", "cp1251")
DELIMITERS = (",", ";", "\t", "|")
DELIMITED_SUFFIXES = (".csv", ".tsv", ".txt")
JSON_LINES_SUFFIXES = (".jsonl", ".ndjson")
JSON_SUFFIXES = (".json",)
EXCEL_SUFFIXES = (".xlsx", ".xlsm")
SUPPORTED_SUFFIXES = DELIMITED_SUFFIXES + JSON_LINES_SUFFIXES + JSON_SUFFIXES + EXCEL_SUFFIXES
OTHER_LABEL = "прочее"  # the class rare labels are merged into with --rare merge
RareMode = Literal["merge", "drop"]
RARE_MODES: tuple[RareMode, ...] = ("merge", "drop")
MAX_LISTED_PROBLEMS = 20
# The classifier chooses C by an inner CV of at least 2 folds: a label needs 2 examples
# in a training part to appear in each inner training part.
MIN_TRAINING_EXAMPLES = 2


class EvaluateError(ConfigError):
    """The labelled file cannot be evaluated; the message says what, where and how to fix it."""


# column names recognised without --text-column / --label-column, in order of preference (they
# compare case-insensitively, ё = е); a file with none of them needs the flag
TEXT_COLUMN_NAMES = ("text", "текст", "текст обращения", "обращение", "message", "сообщение")
LABEL_COLUMN_NAMES = ("reason_id", "label", "reason", "причина", "метка", "category", "категория")


@dataclass(frozen=True)
class EvaluateOptions:
    text_column: str | None = None  # None: the first of TEXT_COLUMN_NAMES the file has
    label_column: str | None = None  # None: the first of LABEL_COLUMN_NAMES the file has
    key_column: str | None = None  # unique id of an example: later duplicates are dropped
    folds: int = 5
    rare: RareMode | None = None  # None: drop, and say so loudly
    min_per_label: int | None = None  # default: the number of folds
    seed: int = 0  # seed of the outer fold split

    @property
    def rare_threshold(self) -> int:
        """Fewest examples a label needs: at least one per fold, and at least
        ``MIN_TRAINING_EXAMPLES`` in every training part, so the model's inner CV sees it in each
        of its own training parts (with 2 folds that is 4 examples, not 2)."""
        count = max(self.folds, self.min_per_label or 0)
        while count - math.ceil(count / self.folds) < MIN_TRAINING_EXAMPLES:
            count += 1
        return count


# ================================================================================================
# reading (I/O)


@dataclass
class LabelledTable:
    """Rows of one labelled source as strings, with where each row came from."""

    frame: pd.DataFrame  # every source column (str) + "where" ("file.csv, строка 12")
    malformed: list[str] = field(default_factory=list)  # rows that could not be read


def read_labelled(path: Path, options: EvaluateOptions) -> tuple[pd.DataFrame, dict]:
    """Read a file or a folder into ``text, label, key, where``; also counts of what was read.

    Raises ``EvaluateError`` for a missing path, an unsupported format or a missing column (the
    message lists the columns the file has).
    """
    path = Path(path)
    if not path.exists():
        raise EvaluateError(f"{path}: файл или папка не найдены; укажите путь в --labels")
    if path.is_dir():
        files = sorted(
            p for p in path.iterdir() if p.is_file() and p.suffix.lower() in SUPPORTED_SUFFIXES
        )
        if not files:
            raise EvaluateError(
                f"{path}: в папке нет файлов с разметкой ({', '.join(SUPPORTED_SUFFIXES)})"
            )
    else:
        files = [path]
    parts, malformed = [], []
    for file in files:
        table = read_table(file)
        parts.append(select_columns(table.frame, file, options))
        malformed.extend(table.malformed)
    frame = pd.concat(parts, ignore_index=True)
    return frame, {
        "files": [str(f) for f in files],
        "rows_read": len(frame) + len(malformed),
        "malformed_rows": malformed,
    }


def read_table(path: Path) -> LabelledTable:
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise EvaluateError(
            f"{path}: неподдерживаемый формат '{suffix}'; ожидается один из "
            f"{', '.join(SUPPORTED_SUFFIXES)}"
        )
    if suffix in EXCEL_SUFFIXES:
        return read_excel(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise EvaluateError(f"{path}: файл не читается ({exc.strerror})") from exc
    try:
        text, _ = decode_bytes(data, ENCODINGS, path)
    except IngestError as exc:
        raise EvaluateError(str(exc)) from exc
    if not text.strip():
        raise EvaluateError(f"{path}: файл пуст")
    if suffix in JSON_LINES_SUFFIXES:
        return read_json_lines(text, path)
    if suffix in JSON_SUFFIXES:
        return read_json(text, path)
    return read_delimited(text, path)


def read_delimited(text: str, path: Path) -> LabelledTable:
    """CSV/TSV with a header line; the delimiter is the one giving the widest header."""
    first_line = text.split("\n", 1)[0].rstrip("\r")
    delimiter = max(DELIMITERS, key=lambda d: len(next(csv.reader([first_line], delimiter=d), [])))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = [name.strip() for name in next(reader)]
    rows, wheres, malformed = [], [], []
    line_start = reader.line_num + 1
    try:
        for fields in reader:
            line, line_start = line_start, reader.line_num + 1
            if not fields or (len(fields) == 1 and not fields[0].strip()):
                continue
            if len(fields) > len(header) and not any(f.strip() for f in fields[len(header) :]):
                fields = fields[: len(header)]  # trailing delimiters
            if len(fields) != len(header):
                malformed.append(
                    f"{path.name}, строка {line}: полей {len(fields)} вместо {len(header)}"
                )
                continue
            rows.append(fields)
            wheres.append(f"{path.name}, строка {line}")
    except csv.Error as exc:
        raise EvaluateError(
            f"{path}, строка {reader.line_num}: CSV не читается дальше ({exc}); "
            "проверьте незакрытые кавычки"
        ) from exc
    return LabelledTable(_frame(rows, header, wheres), malformed)


def read_json_lines(text: str, path: Path) -> LabelledTable:
    records, wheres, malformed = [], [], []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            malformed.append(f"{path.name}, строка {number}: не JSON ({exc.msg})")
            continue
        if not isinstance(item, dict):
            malformed.append(f"{path.name}, строка {number}: ожидается объект {{...}}")
            continue
        records.append(item)
        wheres.append(f"{path.name}, строка {number}")
    return LabelledTable(_records_frame(records, wheres), malformed)


def read_json(text: str, path: Path) -> LabelledTable:
    """A JSON array of objects (one object per example)."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise EvaluateError(
            f"{path}, строка {exc.lineno}: некорректный JSON ({exc.msg}); ожидается массив "
            "объектов [{...}, ...] или JSON lines (.jsonl, объект в строке)"
        ) from exc
    if not isinstance(data, list):
        raise EvaluateError(
            f"{path}: ожидается JSON-массив объектов [{{...}}, ...], найдено: "
            f"{type(data).__name__}"
        )
    records, wheres, malformed = [], [], []
    for number, item in enumerate(data, start=1):
        if isinstance(item, dict):
            records.append(item)
            wheres.append(f"{path.name}, запись {number}")
        else:
            malformed.append(f"{path.name}, запись {number}: ожидается объект {{...}}")
    return LabelledTable(_records_frame(records, wheres), malformed)


def read_excel(path: Path) -> LabelledTable:
    try:
        sheet = pd.read_excel(path, dtype=object, header=None, engine="openpyxl")
    except Exception as exc:  # openpyxl raises many types for a broken workbook
        raise EvaluateError(f"{path}: файл Excel не открывается ({exc})") from exc
    sheet = sheet.dropna(how="all")
    if sheet.empty:
        raise EvaluateError(f"{path}: лист пуст")
    header = [_cell(v).strip() for v in sheet.iloc[0].tolist()]
    body = sheet.iloc[1:]
    rows = [[_cell(v) for v in row] for row in body.itertuples(index=False)]
    wheres = [f"{path.name}, строка {int(i) + 1}" for i in body.index]  # Excel counts from 1
    return LabelledTable(_frame(rows, header, wheres))


def _cell(value: object) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # label 3 stored by Excel as 3.0
    return str(value)


def _frame(rows: list[list[str]], header: list[str], wheres: list[str]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=_unique(header), dtype=object)
    frame["where"] = wheres
    return frame


def _records_frame(records: list[dict], wheres: list[str]) -> pd.DataFrame:
    frame = pd.DataFrame.from_records(records).map(_cell) if records else pd.DataFrame()
    frame["where"] = wheres
    return frame


def _unique(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f"{name}.{seen[name]}")
    return out


def role_ru(role: str) -> str:
    return {"text": "с текстом", "label": "с меткой", "key": "с ключом"}[role]


def select_columns(frame: pd.DataFrame, path: Path, options: EvaluateOptions) -> pd.DataFrame:
    """``text, label, key, where`` from a source frame; names match case-insensitively, ё = е."""
    available = [c for c in frame.columns if c != "where"]
    folded = {fold_name(c): c for c in reversed(available)}
    wanted = {
        "text": (options.text_column,) if options.text_column else TEXT_COLUMN_NAMES,
        "label": (options.label_column,) if options.label_column else LABEL_COLUMN_NAMES,
    }
    if options.key_column:
        wanted["key"] = (options.key_column,)
    option_names = {"text": "--text-column", "label": "--label-column", "key": "--key"}
    picked = {}
    for role, names in wanted.items():
        column = next((folded[fold_name(n)] for n in names if fold_name(n) in folded), None)
        if column is None:
            looked_for = (
                f"нет колонки '{names[0]}'"
                if len(names) == 1
                else f"не найдена колонка {role_ru(role)} (искали: {', '.join(names)})"
            )
            raise EvaluateError(
                f"{path}: {looked_for}. Колонки файла: "
                f"{', '.join(repr(c) for c in available) or '(нет)'}. "
                f"Укажите нужную через {option_names[role]}"
            )
        if len(names) > 1:
            logger.info("%s: %s из колонки %r", path, role_ru(role), column)
        picked[role] = column
    out = pd.DataFrame(
        {role: frame[column].fillna("").astype(str) for role, column in picked.items()}
    )
    if "key" not in out:
        out["key"] = ""
    out["where"] = frame["where"].to_numpy()
    return out[["text", "label", "key", "where"]]


# ================================================================================================
# validation (pure)


@dataclass(frozen=True)
class Prepared:
    """Examples ready for cross-validation, and an account of every row left out."""

    texts: list[str]
    labels: np.ndarray
    skipped: dict  # why rows were left out -> count
    rare: dict  # what was done with labels too rare to cross-validate
    remapped: int  # labels of retired reasons mapped to their successors
    taxonomy: str  # "provisional" or the taxonomy file


def prepare(
    rows: pd.DataFrame, options: EvaluateOptions, taxonomy_path: Path | None = None
) -> Prepared:
    """Drop empty texts, unlabelled rows and duplicates; check labels; handle rare labels."""
    if options.folds < 2:
        raise EvaluateError(f"--folds {options.folds}: нужно не меньше 2 фолдов")
    rows = rows.assign(text=rows["text"].str.strip(), label=rows["label"].str.strip())
    skipped = {
        "empty_text": int((rows["text"] == "").sum()),
        "no_label": int(((rows["text"] != "") & (rows["label"] == "")).sum()),
    }
    rows = rows[(rows["text"] != "") & (rows["label"] != "")]
    if options.key_column:
        keyed = rows["key"] != ""
        duplicated = keyed & rows["key"].duplicated()
        skipped["duplicate_key"] = int(duplicated.sum())
        rows = rows[~duplicated]
    folded_text = rows["text"].str.lower().str.split().str.join(" ")
    duplicated = pd.Series(
        list(zip(folded_text, rows["label"], strict=True)), index=rows.index
    ).duplicated()
    skipped["duplicate_text"] = int(duplicated.sum())
    rows = rows[~duplicated]
    if rows.empty:
        raise EvaluateError(
            f"нет ни одного примера с непустыми текстом и меткой (пустых текстов: "
            f"{skipped['empty_text']}, без метки: {skipped['no_label']}); проверьте "
            "--text-column и --label-column"
        )
    remapped, taxonomy_name = 0, "provisional"
    if taxonomy_path is not None:
        rows, remapped = _apply_taxonomy(rows, taxonomy_path)
        taxonomy_name = str(taxonomy_path)
    _require_two_classes(rows["label"], "в разметке")
    rows, rare = handle_rare(rows, options)
    _require_two_classes(
        rows["label"],
        f"после обработки редких меток (меньше {options.rare_threshold} примеров)",
    )
    if any(skipped.values()):
        logger.info("evaluate: rows left out %s", skipped)
    return Prepared(
        texts=rows["text"].tolist(),
        labels=rows["label"].to_numpy(dtype=str),
        skipped=skipped,
        rare=rare,
        remapped=remapped,
        taxonomy=taxonomy_name,
    )


def _apply_taxonomy(rows: pd.DataFrame, taxonomy_path: Path) -> tuple[pd.DataFrame, int]:
    taxonomy = load_taxonomy(taxonomy_path)
    problems = []
    for row in rows.itertuples():
        reason = taxonomy.by_id.get(row.label)
        if reason is None:
            problems.append(
                f"{row.where}: неизвестная причина '{row.label}'; ожидается id из {taxonomy_path}"
            )
        elif reason.reserved:
            problems.append(f"{row.where}: причина '{row.label}' зарезервирована и не размечается")
    if problems:
        more = len(problems) - MAX_LISTED_PROBLEMS
        tail = f"\n  … и ещё {more}" if more > 0 else ""
        raise EvaluateError(
            "метки не совпадают с таксономией:\n  - "
            + "\n  - ".join(problems[:MAX_LISTED_PROBLEMS])
            + tail
        )
    successor = rows["label"].map(taxonomy.successor)
    remapped = int((successor != rows["label"]).sum())
    if remapped:
        logger.info("evaluate: %d labels of retired reasons mapped to successors", remapped)
    return rows.assign(label=successor), remapped


def _require_two_classes(labels: pd.Series, where: str) -> None:
    counts = labels.value_counts()
    if len(counts) < 2:
        only = f"'{counts.index[0]}' ({counts.iloc[0]} примеров)" if len(counts) else "нет"
        raise EvaluateError(
            f"{where} одна метка: {only}; для оценки нужны хотя бы две причины. "
            "Проверьте --label-column, а для редких меток — --rare merge или меньше --folds"
        )


def handle_rare(rows: pd.DataFrame, options: EvaluateOptions) -> tuple[pd.DataFrame, dict]:
    """Labels with fewer than ``options.rare_threshold`` examples: drop them or merge them."""
    threshold = options.rare_threshold
    counts = rows["label"].value_counts()
    rare_counts = {str(k): int(v) for k, v in counts.items() if v < threshold}
    mode = options.rare or "drop"
    report = {
        "threshold": threshold,
        "mode": mode,
        "mode_from": "option" if options.rare else "default",
        "labels": rare_counts,
        "merged_into": None,
        "dropped_examples": 0,
    }
    if not rare_counts:
        return rows, report
    is_rare = rows["label"].isin(list(rare_counts))
    if mode == "merge":
        rows = rows.assign(label=rows["label"].where(~is_rare, OTHER_LABEL))
        merged = int((rows["label"] == OTHER_LABEL).sum())
        if merged >= options.folds:
            report["merged_into"] = OTHER_LABEL
            logger.warning(
                "evaluate: %d rare labels (< %d examples) merged into «%s» (%d examples): %s",
                len(rare_counts),
                threshold,
                OTHER_LABEL,
                merged,
                rare_counts,
            )
            return rows, report
        # even merged they cannot be cross-validated
        is_rare = rows["label"] == OTHER_LABEL
        report["note"] = (
            f"в «{OTHER_LABEL}» набралось {merged} примеров — меньше числа фолдов "
            f"({options.folds}); эти примеры отброшены"
        )
    report["dropped_examples"] = int(is_rare.sum())
    logger.warning(
        "evaluate: DROPPED %d labels with fewer than %d examples (%d examples): %s%s",
        len(rare_counts),
        threshold,
        report["dropped_examples"],
        rare_counts,
        "" if options.rare else "; use --rare merge to keep them as one class",
    )
    return rows[~is_rare], report


# ================================================================================================
# cross-validation (pure)


def classifier_factory(config: TrainConfig) -> Callable[[], Pipeline]:
    """The unfitted classifier ``train`` fits, with the ``train`` parameters."""
    return config.build_pipeline


def stratified_folds(labels: np.ndarray, folds: int, seed: int) -> list[tuple[np.ndarray, ...]]:
    splitter = StratifiedKFold(folds, shuffle=True, random_state=seed)
    return list(splitter.split(np.zeros(len(labels)), labels))


def cross_validate(
    texts: Sequence[str],
    labels: np.ndarray,
    config: TrainConfig,
    folds: list[tuple[np.ndarray, np.ndarray]],
    lemmatizer: Lemmatizer,
) -> dict:
    """Out-of-fold scores of the pipeline's classifier; lemmatisation is part of the timing."""
    started = time.perf_counter()
    inputs = model_inputs(list(texts), lemmatizer)
    lemmatize_s = time.perf_counter() - started
    oof = out_of_fold(classifier_factory(config), inputs, labels, folds)
    metrics = score(labels, oof)
    metrics["fold_accuracy"] = [
        round(float(accuracy_score(labels[test], oof["predicted"][test])), 4) for _, test in folds
    ]
    metrics["fold_C"] = [float(c) for c in oof["Cs"]]
    metrics["fold_vector_weight"] = [float(w) for w in oof["vector_weights"]]
    metrics["fold_threshold"] = [round(float(t), 4) for t in oof["thresholds"]]
    metrics["per_label"] = per_reason(labels, oof["predicted"], sorted(set(labels)))
    metrics["texts_without_words"] = int(sum(not lemma for lemma in inputs["lemmas"]))
    metrics["lemmatize_s"] = round(lemmatize_s, 2)
    metrics["fit_predict_s"] = round(time.perf_counter() - started - lemmatize_s, 2)
    return {"metrics": metrics, "predicted": oof["predicted"], "covered": oof["covered"]}


def evaluate(
    rows: pd.DataFrame,
    options: EvaluateOptions,
    config: TrainConfig,
    taxonomy_path: Path | None = None,
    lemmatizer: Lemmatizer | None = None,
) -> dict:
    """The whole report for rows of ``text, label, key, where`` (see ``read_labelled``)."""
    started = time.perf_counter()
    prepared = prepare(rows, options, taxonomy_path)
    folds = stratified_folds(prepared.labels, options.folds, options.seed)
    result = cross_validate(
        prepared.texts, prepared.labels, config, folds, lemmatizer or Lemmatizer()
    )
    metrics = result["metrics"]
    counts = pd.Series(prepared.labels).value_counts()
    report = {
        "macro_f1": round(metrics["macro_f1"], 4),
        "accuracy": round(metrics["accuracy"], 4),
        "coverage": round(metrics["coverage"], 4),
        "macro_f1_covered": round(metrics.get("macro_f1_covered", 0.0), 4),
        "precision_covered": round(metrics.get("precision_covered", 0.0), 4),
        "n_examples": len(prepared.labels),
        "n_labels": int(len(counts)),
        "per_label": metrics["per_label"],
        "folds": {
            "k": options.folds,
            "seed": options.seed,
            "macro_f1": metrics["fold_macro_f1"],
            "macro_f1_std": round(metrics["fold_macro_f1_std"], 4),
            "accuracy": metrics["fold_accuracy"],
            "C": metrics["fold_C"],
            "word_vector_weight": metrics["fold_vector_weight"],
            "threshold": metrics["fold_threshold"],
        },
        "rare_labels": prepared.rare,
        "skipped": prepared.skipped,
        "remapped_to_successor": prepared.remapped,
        "texts_without_words": metrics["texts_without_words"],
        "taxonomy": prepared.taxonomy,
        "classifier": {
            "undefined_share": config.undefined_share,
            "Cs": list(config.Cs),
            "cv_folds": config.cv_folds,
            "random_state": config.random_state,
        },
        "evaluation": (
            f"{options.folds}-fold stratified cross-validation of the classifier `train` fits: "
            "each example is predicted by a model fitted without it, which chose C and its "
            "«Не определено» cut inside its own training part"
        ),
        "lemmatize_s": metrics["lemmatize_s"],
        "fit_predict_s": metrics["fit_predict_s"],
        "wall_time_s": round(time.perf_counter() - started, 2),
    }
    return report


# ================================================================================================
# summary (rendering)


def _number(value: float, digits: int = 3) -> str:
    return f"{value:.{digits}f}".replace(".", ",")


def _count(value: int) -> str:
    return f"{value:,}".replace(",", "\u00a0")


def render_summary(report: dict, source: str = "") -> str:
    """A readable Russian summary: headline metrics, per-label table, what was left out."""
    folds = report["folds"]
    taxonomy = report["taxonomy"]
    if taxonomy == "provisional":
        taxonomy = "временная, из значений меток"
    lines = [
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
    width = max([len("Причина"), *(len(label) for label in report["per_label"])])
    width = min(width, 40)
    lines.append(f"  {'Причина':<{width}}  Точн.  Полн.  F1     Примеров")
    rows = sorted(report["per_label"].items(), key=lambda item: -item[1]["support"])
    for label, m in rows:
        lines.append(
            f"  {label[:width]:<{width}}  {_number(m['precision'], 2):>5}  "
            f"{_number(m['recall'], 2):>5}  {_number(m['f1'], 2):>5}  {_count(m['support']):>8}"
        )
    rare = report["rare_labels"]
    if rare["labels"]:
        listed = ", ".join(f"«{k}» ({v})" for k, v in rare["labels"].items())
        lines.append("")
        if rare["merged_into"]:
            lines.append(
                f"  Редкие метки (меньше {rare['threshold']} примеров) объединены в "
                f"«{rare['merged_into']}»: {listed}"
            )
        else:
            lines.append(
                f"  ВНИМАНИЕ: отброшены редкие метки (меньше {rare['threshold']} примеров), "
                f"{rare['dropped_examples']} примеров: {listed}"
            )
            if rare.get("note"):
                lines.append(f"  {rare['note']}")
            if rare["mode_from"] == "default":
                lines.append("  Чтобы оставить их одной причиной «прочее», укажите --rare merge")
    skipped = {k: v for k, v in report["skipped"].items() if v}
    if skipped:
        names = {
            "empty_text": "пустых текстов",
            "no_label": "без метки",
            "duplicate_key": "повторов по ключу",
            "duplicate_text": "повторов текста",
            "malformed_rows": "нечитаемых строк",
        }
        listed = ", ".join(f"{names.get(k, k)} {_count(v)}" for k, v in skipped.items())
        lines.append(f"  Пропущено: {listed}")
    if report["remapped_to_successor"]:
        lines.append(
            f"  Метки выведенных причин заменены преемниками: {report['remapped_to_successor']}"
        )
    lines.append(
        f"  Время: {_number(report['wall_time_s'], 1)} с (лемматизация "
        f"{_number(report['lemmatize_s'], 1)} с)"
    )
    return "\n".join(lines)


# ================================================================================================
# command


def main(
    labels_path: Path,
    taxonomy_path: Path | None,
    out_path: Path | None,
    config: TrainConfig,
    options: EvaluateOptions,
) -> dict:
    started = time.perf_counter()
    rows, read = read_labelled(labels_path, options)
    report = evaluate(rows, options, config, taxonomy_path)
    report["skipped"]["malformed_rows"] = len(read["malformed_rows"])
    report["malformed_rows"] = read["malformed_rows"][:MAX_LISTED_PROBLEMS]
    report["input"] = {
        "path": str(labels_path),
        "files": read["files"],
        "rows_read": read["rows_read"],
        "text_column": options.text_column,
        "label_column": options.label_column,
        "key_column": options.key_column,
    }
    report["wall_time_s"] = round(time.perf_counter() - started, 2)
    if out_path is not None:
        out_path.parent.mkdir(parents=True, exist_ok=True)
        out_path.write_text(
            json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )
    print(render_summary(report, str(labels_path)))
    return report


def cli(args: argparse.Namespace) -> None:
    config = load_section(args.params, "train", TrainConfig)
    options = EvaluateOptions(
        text_column=args.text_column,
        label_column=args.label_column,
        key_column=args.key,
        folds=args.folds,
        rare=args.rare,
        min_per_label=args.min_per_label,
        seed=args.seed,
    )
    main(args.labels, args.taxonomy, args.out, config, options)
