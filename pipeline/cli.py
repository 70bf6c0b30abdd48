"""Command line: ``python -m pipeline <stage> [paths]``; each stage is one ``dvc.yaml`` stage.

Each subcommand names its handler (``set_defaults(func=...)``): the module's ``cli(args)``,
which reads its ``params.yaml`` section and calls the stage. This file holds no logic.

Paths are arguments (``dvc.yaml`` declares them once); parameters come from ``params.yaml``.
Errors in the input are printed as one readable message (in Russian, for analysts) and exit 2.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Callable
from pathlib import Path

from pipeline.errors import USER_ERRORS, terminal_safe
from pipeline.taxonomy import cli as taxonomy_cli

STAGES = {
    "init": "начать свой проект: убрать демо, создать reasons.yaml из размеченной таблицы",
    "synth": "сгенерировать демо-выгрузки (звонки, обращения, ответы) — не стадия DVC",
    "ingest": "прочитать выгрузки из data/raw, карантин плохих строк, метрики загрузки",
    "lemmatize": "нормализовать и лемматизировать тексты (с постоянным кэшем лемм)",
    "train": "обучить классификатор причин на размеченных примерах и оценить его",
    "evaluate": "оценить классификатор на своей разметке (кросс-валидация) — не стадия DVC",
    "classify": "присвоить каждому контакту причину, уверенность и вторую по вероятности",
    "aggregate": "недельные факты, замкнутый цикл по причинам, SLA, повторы, переводы; DuckDB",
    "report": "HTML-отчёты (обзор недели, страницы причин и владельцев, архив) и Excel",
    "explain": "показать, какие слова привели текст к его причине",
    "taxonomy": "проверить и сопровождать таксономию: check, health, export-labeling, "
    "import-labels, rename, merge, split, retire",
    "score-demo": "сверить классификацию демо-данных с файлом ответов генератора",
    "bench": "замерить скорость и память lemmatize + classify",
}


def command(module: str, function: str = "cli") -> Callable[[argparse.Namespace], None]:
    """The handler of a subcommand: ``module.function(args)``, imported only when it runs (so
    ``--help`` and a quick stage do not load scikit-learn)."""

    def run(args: argparse.Namespace) -> None:
        getattr(importlib.import_module(module), function)(args)

    return run


def _add_ingest(sub) -> None:
    p = sub.add_parser("ingest", help=STAGES["ingest"])
    p.set_defaults(func=command("pipeline.ingest"))
    p.add_argument(
        "--raw",
        type=Path,
        required=True,
        help="folder with calls/ and complaints/ (and optional handoffs/)",
    )
    p.add_argument("--contacts", type=Path, required=True)
    p.add_argument("--quarantine", type=Path, required=True)
    p.add_argument("--drivers", type=Path, required=True, help="output: customers per week")
    p.add_argument("--metrics", type=Path, required=True)
    p.add_argument(
        "--handoffs",
        type=Path,
        default=None,
        help="output: события передачи (CRM) из handoffs/, привязанные к контактам (пустая "
        "таблица без выгрузки; без параметра не пишется)",
    )
    p.add_argument(
        "--cache",
        type=Path,
        default=None,
        help="кэш прочитанных выгрузок (по умолчанию ingest_cache рядом с --contacts)",
    )


def _add_synth(sub) -> None:
    p = sub.add_parser("synth", help=STAGES["synth"])
    p.set_defaults(func=command("pipeline.tools.synth"))
    p.add_argument("--out", type=Path, default=Path("data/raw"), help="raw folder to write")
    p.add_argument(
        "--answers",
        type=Path,
        default=Path("data/demo/answers.csv"),
        help="true reason of every generated contact (never an input of the pipeline)",
    )
    p.add_argument("--weeks", type=int, default=13)
    p.add_argument("--contacts", type=int, default=26000, help="approximate number of contacts")
    p.add_argument("--seed", type=int, default=20261123)
    p.add_argument("--end", default="2026-11-22", help="last day of the last generated week")
    p.add_argument("--taxonomy", type=Path, default=Path("taxonomy/reasons.yaml"))
    p.add_argument("--clean", action="store_true", help="no malformed rows and no overlap")


def _add_engine(p) -> None:
    p.add_argument(
        "--engine",
        choices=["local", "spark"],
        default=None,
        help="где считать части недель: local (эта машина) или spark (Apache Spark); "
        "по умолчанию — из params.yaml",
    )
    p.add_argument(
        "--spark-master",
        default=None,
        help="адрес Spark (local[*], spark://host:7077, yarn); по умолчанию — из params.yaml",
    )


def _add_lemmatize(sub) -> None:
    p = sub.add_parser("lemmatize", help=STAGES["lemmatize"])
    p.set_defaults(func=command("pipeline.lemmatize"))
    p.add_argument("--contacts", type=Path, required=True)
    p.add_argument("--lemmas", type=Path, required=True)
    p.add_argument("--cache", type=Path, required=True, help="persistent token -> lemma cache")
    _add_engine(p)


def _add_train(sub) -> None:
    p = sub.add_parser("train", help=STAGES["train"])
    p.set_defaults(func=command("pipeline.train"))
    p.add_argument("--taxonomy", type=Path, required=True)
    p.add_argument("--labels", type=Path, required=True, help="folder of labelled CSV files")
    p.add_argument("--model", type=Path, required=True)
    p.add_argument("--metrics", type=Path, required=True)
    p.add_argument("--confusion", type=Path, required=True)


def _add_evaluate(sub) -> None:
    p = sub.add_parser("evaluate", help=STAGES["evaluate"])
    p.set_defaults(func=command("pipeline.tools.evaluate"))
    p.add_argument(
        "--labels",
        type=Path,
        required=True,
        help="labelled CSV/XLSX/JSONL/JSON file, or a folder of them",
    )
    p.add_argument(
        "--taxonomy",
        type=Path,
        default=None,
        help="reasons.yaml; without it the label values are the classes",
    )
    p.add_argument("--folds", type=int, default=5)
    p.add_argument("--out", type=Path, default=None, help="JSON report to write")
    p.add_argument(
        "--text-column", default=None, help="default: text, текст, обращение, сообщение ..."
    )
    p.add_argument(
        "--label-column",
        default=None,
        help="default: reason_id, label, reason, причина, метка, category, категория",
    )
    p.add_argument("--key", default=None, help="unique id column, e.g. url: duplicates dropped")
    p.add_argument(
        "--rare",
        choices=("merge", "drop"),
        default=None,
        help="labels with fewer examples than folds: merge into «прочее» or drop "
        "(default: drop, with a warning)",
    )
    p.add_argument(
        "--min-per-label",
        type=int,
        default=None,
        help="labels with fewer examples are rare (default: --folds)",
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the fold split")


def _add_classify(sub) -> None:
    p = sub.add_parser("classify", help=STAGES["classify"])
    p.set_defaults(func=command("pipeline.classify"))
    p.add_argument("--lemmas", type=Path, required=True)
    p.add_argument("--model", type=Path, required=True)
    p.add_argument("--taxonomy", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True)
    _add_engine(p)


def _add_aggregate(sub) -> None:
    p = sub.add_parser("aggregate", help=STAGES["aggregate"])
    p.set_defaults(func=command("pipeline.aggregate"))
    p.add_argument("--contacts", type=Path, required=True)
    p.add_argument("--classified", type=Path, required=True)
    p.add_argument("--drivers", type=Path, required=True)
    p.add_argument("--quarantine", type=Path, required=True)
    p.add_argument(
        "--handoffs", type=Path, required=True, help="hand-off events (ingest; may be empty)"
    )
    p.add_argument("--taxonomy", type=Path, required=True)
    p.add_argument("--notes", type=Path, required=True, help="taxonomy/owner_notes.yaml")
    p.add_argument(
        "--confusion",
        type=Path,
        required=True,
        help="train's out-of-fold predictions: volumes are corrected for their errors",
    )
    p.add_argument("--weekly", type=Path, required=True)
    p.add_argument("--closed-loop", type=Path, required=True)
    p.add_argument(
        "--closed-loop-history",
        type=Path,
        required=True,
        help="closed loop of the report week and the archive weeks before it",
    )
    p.add_argument("--warehouse", type=Path, required=True, help="DuckDB file to write")


def _add_report(sub) -> None:
    p = sub.add_parser("report", help=STAGES["report"])
    p.set_defaults(func=command("pipeline.report"))
    p.add_argument("--warehouse", type=Path, required=True)
    p.add_argument("--history", type=Path, required=True, help="closed_loop_history.parquet")
    p.add_argument("--weekly", type=Path, required=True)
    p.add_argument("--lemmas", type=Path, required=True, help="for emerging topics")
    p.add_argument("--ingest-metrics", type=Path, required=True)
    p.add_argument("--model-metrics", type=Path, required=True)
    p.add_argument("--taxonomy", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True, help="folder of the site (reports/)")
    p.add_argument("--xlsx", type=Path, required=True)


def _add_explain(sub) -> None:
    p = sub.add_parser("explain", help=STAGES["explain"])
    p.set_defaults(func=command("pipeline.classify", "explain_cli"))
    p.add_argument("text", help="a contact text, e.g. 'СМС не приходит'")
    p.add_argument("--model", type=Path, default=Path("models/reason_classifier.joblib"))
    p.add_argument("--taxonomy", type=Path, default=Path("taxonomy/reasons.yaml"))


def _add_score_demo(sub) -> None:
    p = sub.add_parser("score-demo", help=STAGES["score-demo"])
    p.set_defaults(func=command("pipeline.tools.score"))
    p.add_argument("--classified", type=Path, default=Path("data/processed/classified"))
    p.add_argument("--answers", type=Path, default=Path("data/demo/answers.csv"))
    p.add_argument("--taxonomy", type=Path, default=Path("taxonomy/reasons.yaml"))
    p.add_argument("--out", type=Path, default=Path("reports/metrics/demo_answers.json"))


def _add_init(sub) -> None:
    p = sub.add_parser("init", help=STAGES["init"])
    p.set_defaults(func=command("pipeline.tools.init"))
    p.add_argument(
        "--labels", type=Path, default=None, help="размеченная таблица (CSV/XLSX/JSONL)"
    )
    p.add_argument("--text-column", default=None, help="колонка текста (по умолчанию ищется)")
    p.add_argument("--label-column", default=None, help="колонка метки (по умолчанию ищется)")
    p.add_argument("--delete", action="store_true", help="удалить демо, а не переносить в build/")
    p.add_argument("--root", type=Path, default=Path("."), help="корень проекта")


def _add_bench(sub) -> None:
    p = sub.add_parser("bench", help=STAGES["bench"])
    p.set_defaults(func=command("pipeline.tools.bench"))
    p.add_argument("--contacts", type=int, default=100_000)
    p.add_argument("--workdir", type=Path, default=Path("build/bench"))
    p.add_argument("--taxonomy", type=Path, default=Path("taxonomy/reasons.yaml"))
    p.add_argument("--labels", type=Path, default=Path("taxonomy/labels"))
    p.add_argument("--model", type=Path, default=Path("models/reason_classifier.joblib"))
    p.add_argument("--naive-sample", type=int, default=10_000)
    p.add_argument("--out", type=Path, default=None, help="also write the figures as JSON")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m pipeline",
        description="Contact-reason root-cause analytics. Stages: "
        + "; ".join(f"{name} — {text}" for name, text in STAGES.items()),
    )
    parser.add_argument("--params", type=Path, default=Path("params.yaml"))
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="stage", required=True, metavar="stage")
    _add_synth(sub)
    _add_ingest(sub)
    _add_lemmatize(sub)
    _add_train(sub)
    _add_evaluate(sub)
    _add_classify(sub)
    _add_aggregate(sub)
    _add_report(sub)
    _add_explain(sub)
    taxonomy_cli.add_parser(sub, STAGES["taxonomy"], command)
    _add_score_demo(sub)
    _add_init(sub)
    _add_bench(sub)
    return parser


class TerminalSafeFormatter(logging.Formatter):
    """Log lines quote file names and values from exports: control characters print inert."""

    def format(self, record: logging.LogRecord) -> str:
        return terminal_safe(super().format(record))


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler = logging.StreamHandler()
    handler.setFormatter(
        TerminalSafeFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s", "%H:%M:%S")
    )
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, handlers=[handler])
    try:
        args.func(args)
    except USER_ERRORS as exc:
        print(terminal_safe(f"ОШИБКА ({args.stage}): {exc}"), file=sys.stderr)
        return 2
    return 0
