"""Command line: ``python -m pipeline <stage> [paths]``; each stage is one ``dvc.yaml`` stage.

Paths are arguments (``dvc.yaml`` declares them once); parameters come from ``params.yaml``.
Errors in the input are printed as one readable message (in Russian, for analysts) and exit 2.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

STAGES = {
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


def _add_ingest(sub) -> None:
    p = sub.add_parser("ingest", help=STAGES["ingest"])
    p.add_argument("--raw", type=Path, required=True, help="folder with calls/ and complaints/")
    p.add_argument("--contacts", type=Path, required=True)
    p.add_argument("--quarantine", type=Path, required=True)
    p.add_argument("--drivers", type=Path, required=True, help="output: customers per week")
    p.add_argument("--metrics", type=Path, required=True)


def _add_synth(sub) -> None:
    p = sub.add_parser("synth", help=STAGES["synth"])
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


def _add_lemmatize(sub) -> None:
    p = sub.add_parser("lemmatize", help=STAGES["lemmatize"])
    p.add_argument("--contacts", type=Path, required=True)
    p.add_argument("--lemmas", type=Path, required=True)
    p.add_argument("--cache", type=Path, required=True, help="persistent token -> lemma cache")


def _add_train(sub) -> None:
    p = sub.add_parser("train", help=STAGES["train"])
    p.add_argument("--taxonomy", type=Path, required=True)
    p.add_argument("--labels", type=Path, required=True, help="folder of labelled CSV files")
    p.add_argument("--model", type=Path, required=True)
    p.add_argument("--metrics", type=Path, required=True)
    p.add_argument("--confusion", type=Path, required=True)


def _add_evaluate(sub) -> None:
    p = sub.add_parser("evaluate", help=STAGES["evaluate"])
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
    p.add_argument("--lemmas", type=Path, required=True)
    p.add_argument("--model", type=Path, required=True)
    p.add_argument("--taxonomy", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True)


def _add_aggregate(sub) -> None:
    p = sub.add_parser("aggregate", help=STAGES["aggregate"])
    p.add_argument("--contacts", type=Path, required=True)
    p.add_argument("--classified", type=Path, required=True)
    p.add_argument("--drivers", type=Path, required=True)
    p.add_argument("--quarantine", type=Path, required=True)
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
    p.add_argument("text", help="a contact text, e.g. 'СМС не приходит'")
    p.add_argument("--model", type=Path, default=Path("models/reason_classifier.joblib"))
    p.add_argument("--taxonomy", type=Path, default=Path("taxonomy/reasons.yaml"))


def _add_score_demo(sub) -> None:
    p = sub.add_parser("score-demo", help=STAGES["score-demo"])
    p.add_argument(
        "--classified", type=Path, default=Path("data/processed/contacts_classified.parquet")
    )
    p.add_argument("--answers", type=Path, default=Path("data/demo/answers.csv"))
    p.add_argument("--taxonomy", type=Path, default=Path("taxonomy/reasons.yaml"))
    p.add_argument("--out", type=Path, default=Path("reports/metrics/demo_answers.json"))


def _add_bench(sub) -> None:
    p = sub.add_parser("bench", help=STAGES["bench"])
    p.add_argument("--contacts", type=int, default=100_000)
    p.add_argument("--workdir", type=Path, default=Path("build/bench"))
    p.add_argument("--taxonomy", type=Path, default=Path("taxonomy/reasons.yaml"))
    p.add_argument("--labels", type=Path, default=Path("taxonomy/labels"))
    p.add_argument("--model", type=Path, default=Path("models/reason_classifier.joblib"))
    p.add_argument("--naive-sample", type=int, default=10_000)
    p.add_argument("--out", type=Path, default=None, help="also write the figures as JSON")


def _add_taxonomy(sub) -> None:
    p = sub.add_parser("taxonomy", help=STAGES["taxonomy"])
    action = p.add_subparsers(dest="action", required=True, metavar="action")
    check = action.add_parser("check", help="validate the reason list and print a summary")
    check.add_argument("--taxonomy", type=Path, default=Path("taxonomy/reasons.yaml"))
    _add_taxonomy_maintenance(action)


def _add_taxonomy_maintenance(action) -> None:
    """Actions of pipeline/maintain.py: labelling round trip, reason changes, health."""

    def add(name: str, help_text: str) -> argparse.ArgumentParser:
        p = action.add_parser(name, help=help_text)
        p.add_argument("--taxonomy", type=Path, default=Path("taxonomy/reasons.yaml"))
        p.add_argument("--labels", type=Path, default=Path("taxonomy/labels"))
        return p

    p = add("export-labeling", "contacts worth labelling: CSV + Label Studio tasks and config")
    p.add_argument("--warehouse", type=Path, default=Path("data/warehouse.duckdb"))
    p.add_argument(
        "--classified",
        type=Path,
        default=Path("data/processed/contacts_classified.parquet"),
        help="for the runner-up confidence (model disagreement)",
    )
    p.add_argument("--out", type=Path, required=True, help="folder to write")
    p.add_argument("--n", type=int, default=None, help="how many contacts (default 200)")
    p.add_argument(
        "--weeks", type=int, default=None, help="latest ISO weeks to pick from (default 4)"
    )
    p.add_argument(
        "--margin",
        type=float,
        default=None,
        help="disagreement: top minus runner-up confidence below this (default 0.1)",
    )
    p = add(
        "import-labels",
        "labelled file (our CSV, Label Studio JSON, or any CSV/XLSX/JSONL whose text and label "
        "columns are found by name: текст/причина/категория..., or named by --text-column and "
        "--label-column) -> taxonomy/labels",
    )
    p.add_argument("file", type=Path)
    p.add_argument("--text-column", default=None, help="column with the contact text")
    p.add_argument("--label-column", default=None, help="column with the reason id or its title")
    p.add_argument("--out", type=Path, required=True, help="taxonomy/labels/<name>.csv")
    p.add_argument("--source", choices=("client", "agent"), help="for rows without a source")
    p.add_argument(
        "--allow-conflicts",
        action="store_true",
        help="write the other rows even if some conflict with existing labels",
    )
    p = add("health", "share of 'не определено', thin, similar, confused reasons, no target")
    p.add_argument("--metrics", type=Path, default=Path("reports/metrics/model.json"))
    p.add_argument("--confusion", type=Path, default=Path("reports/plots/confusion.csv"))
    p.add_argument("--warehouse", type=Path, default=Path("data/warehouse.duckdb"))
    p.add_argument(
        "--similarity",
        type=float,
        default=None,
        help="TF-IDF cosine of two definitions counted as near-identical (0.5)",
    )
    p.add_argument(
        "--confusion-rate",
        type=float,
        default=None,
        help="share of a pair's examples mixed up either way (0.05)",
    )
    p.add_argument("--out", type=Path, default=None, help="also write the summary as JSON")
    edits = {
        "rename": "give a reason a new id (the old one stays in history)",
        "merge": "merge reasons into one of them or a new id",
        "split": "split a reason; its labels are re-assigned by rules",
        "retire": "retire a reason; its history and labels go to its successor",
    }
    for name, help_text in edits.items():
        p = add(name, help_text)
        p.add_argument("--dry-run", action="store_true", help="print the diff, write nothing")
        p.add_argument("--date", default=None, help="retired: date (default today)")
        if name == "rename":
            p.add_argument("old")
            p.add_argument("new")
            p.add_argument("--title", default=None)
        elif name == "merge":
            p.add_argument("reasons", nargs="+")
            p.add_argument("--into", required=True, help="one of the reasons or a new id")
            p.add_argument("--title", default=None)
        elif name == "split":
            p.add_argument("reason")
            p.add_argument(
                "--into",
                nargs="+",
                required=True,
                help="new ids; the first continues the weekly history",
            )
            p.add_argument("--rules", type=Path, default=None, help="CSV text,reason_id")
            p.add_argument(
                "--keyword",
                action="append",
                default=[],
                help="ID=слово1,слово2 (lemmas; 'досрочн*' matches a prefix)",
            )
            p.add_argument("--title", action="append", default=[], help="ID=Название")
            p.add_argument(
                "--unmatched",
                type=Path,
                default=None,
                help="labels no rule matched (default build/labeling/split_<id>.csv)",
            )
        else:
            p.add_argument("reason")
            p.add_argument("--replaced-by", required=True)


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
    _add_taxonomy(sub)
    _add_score_demo(sub)
    _add_bench(sub)
    return parser


def run(args: argparse.Namespace) -> None:
    from pipeline.config import load_section

    if args.stage == "ingest":
        from pipeline import ingest
        from pipeline.config import load_params

        params = load_params(args.params)
        ingest.main(
            args.raw, args.contacts, args.quarantine, args.drivers, args.metrics, params.ingest
        )
    elif args.stage == "lemmatize":
        from pipeline import lemmatize

        config = load_section(args.params, "lemmatize", lemmatize.LemmatizeConfig)
        lemmatize.main(args.contacts, args.lemmas, args.cache, config)
    elif args.stage == "train":
        from pipeline import train

        config = load_section(args.params, "train", train.TrainConfig)
        train.main(args.taxonomy, args.labels, args.model, args.metrics, args.confusion, config)
    elif args.stage == "evaluate":
        from pipeline import evaluate, train

        config = load_section(args.params, "train", train.TrainConfig)
        options = evaluate.EvaluateOptions(
            text_column=args.text_column,
            label_column=args.label_column,
            key_column=args.key,
            folds=args.folds,
            rare=args.rare,
            min_per_label=args.min_per_label,
            seed=args.seed,
        )
        evaluate.main(args.labels, args.taxonomy, args.out, config, options)
    elif args.stage == "classify":
        from pipeline import classify

        config = load_section(args.params, "classify", classify.ClassifyConfig)
        classify.main(args.lemmas, args.model, args.taxonomy, args.out, config)
    elif args.stage == "aggregate":
        from pipeline import aggregate

        config = load_section(args.params, "aggregate", aggregate.AggregateConfig)
        paths = {
            "contacts": args.contacts,
            "classified": args.classified,
            "drivers": args.drivers,
            "quarantine": args.quarantine,
            "confusion": args.confusion,
            "weekly": args.weekly,
            "closed_loop": args.closed_loop,
            "closed_loop_history": args.closed_loop_history,
            "warehouse": args.warehouse,
        }
        aggregate.main(paths, args.taxonomy, args.notes, config)
    elif args.stage == "report":
        from pipeline import report

        config = load_section(args.params, "report", report.ReportConfig)
        report.main(
            args.warehouse,
            args.history,
            args.weekly,
            args.lemmas,
            args.ingest_metrics,
            args.model_metrics,
            args.taxonomy,
            args.out,
            args.xlsx,
            config,
        )
    elif args.stage == "explain":
        from pipeline import classify, model
        from pipeline.taxonomy import load_taxonomy
        from pipeline.text import Lemmatizer

        taxonomy = load_taxonomy(args.taxonomy)
        pipeline = classify.load_model(args.model)
        contact = model.analyse_texts([args.text], Lemmatizer())
        reason_model = pipeline.named_steps["model"]
        decision, fit = model.decide(pipeline, contact)
        proba = reason_model.calibrated(decision)[0]
        classes = reason_model.classes_
        best = proba.argsort()[::-1][:3]
        print(f"леммы: {contact['lemmas'].iloc[0]}")
        if fit[0] < pipeline.metadata_["threshold"]:
            print(
                f"  {taxonomy.title(pipeline.metadata_['undefined_reason'])}: "
                "ни одна причина не подходит; ближайшие:"
            )
        for i in best:
            print(f"  {proba[i]:.2f}  {classes[i]}  {taxonomy.title(classes[i])}")
        print(
            "слова за причину:",
            ", ".join(
                f"{term} ({weight:+.2f})" for term, weight in model.explain(pipeline, contact)
            ),
        )
    elif args.stage == "score-demo":
        from pipeline import score

        score.main(args.classified, args.answers, args.taxonomy, args.out)
    elif args.stage == "bench":
        from pipeline import bench

        bench.main(
            args.contacts,
            args.workdir,
            args.taxonomy,
            args.labels,
            args.model,
            args.naive_sample,
            args.out,
        )
    elif args.stage == "taxonomy" and args.action == "check":
        from pipeline import taxonomy

        print(taxonomy.check(args.taxonomy))
    elif args.stage == "taxonomy":
        from pipeline import maintain

        maintain.run(args)
    elif args.stage == "synth":
        from pipeline import synth

        synth.main(
            out_dir=args.out,
            answers_path=args.answers,
            taxonomy_path=args.taxonomy,
            weeks=args.weeks,
            contacts=args.contacts,
            seed=args.seed,
            end=args.end,
            clean=args.clean,
        )


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
    )
    from pipeline.errors import USER_ERRORS

    try:
        run(args)
    except USER_ERRORS as exc:
        print(f"ОШИБКА ({args.stage}): {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
