"""The Spark engine: the plan's tasks on Apache Spark, one Spark partition per week part.

The driver makes a DataFrame of one row per task (plain strings; ``inputs`` as JSON) in as many
Spark partitions as there are tasks, broadcasts the context (the ``Lemmatizer`` with its cache,
or the fitted sklearn ``Pipeline``) once, and ``mapInPandas`` calls the same ``run_task`` as the
local engine on each executor. Each task writes its part with the dataset's one writer, so the
bytes are those of the local engine; the driver collects the manifest entries and the tokens
learnt, exactly what ``run_local`` returns.

Executors read and write the parts at the paths the tasks carry: on a cluster the data folder
must be on storage every node mounts at the same path (NFS, the HDFS NFS gateway, s3fs), and
every node must import ``pipeline`` (the package installed there, or the zip this module ships
with ``addPyFile`` when the master is not local). README.md, "Running lemmatize and classify on
Apache Spark", shows the commands.

One session per call, stopped at the end: a stage is one process (``dvc repro`` runs each stage
as ``python -m pipeline …``) that calls the engine once, and stopping frees the cluster's
executors as soon as the stage is done. A second call in the same process (the tests) reuses
the already started JVM, so only the first pays its start-up.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import sys
import tempfile
import warnings
import zipfile
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

from pipeline.engine.tasks import Task, run_task
from pipeline.errors import PipelineError

logger = logging.getLogger(__name__)

APP_NAME = "contact-reasons"
DEFAULT_MASTER = "local[*]"
SUBMITTED = "PYSPARK_GATEWAY_PORT"  # set in the Python process spark-submit starts
RESULT_SCHEMA = "part string, entry string, learnt string, error string"
TASK_COLUMNS = ("kind", "part", "source_root", "target_root", "inputs")
# the driver JVM's log: errors only (Spark's start-up otherwise prints a screen of WARN lines)
QUIET_LOG4J = (
    "rootLogger.level = error\nrootLogger.appenderRef.stderr.ref = console\n"
    "appender.console.type = Console\nappender.console.name = console\n"
    "appender.console.target = SYSTEM_ERR\nappender.console.layout.type = PatternLayout\n"
    "appender.console.layout.pattern = spark: %p %c{1}: %m%n\n"
)
INSTALL_HINT = (
    "установите Java 17 (Debian/Ubuntu: `sudo apt-get install openjdk-17-jre-headless`) и "
    "pyspark (`pip install pyspark`, или `make setup`), либо запустите с `--engine local`"
)


class SparkUnavailable(PipelineError, RuntimeError):
    """Spark cannot start here: no pyspark, no Java, or the master does not answer."""


class SparkTaskError(PipelineError, RuntimeError):
    """A part could not be computed on an executor (the executor's message, with the part)."""


def resolve_master(master: str | None) -> str | None:
    """The argument, else ``$SPARK_MASTER``, else spark-submit's ``--master`` when spark-submit
    started this process (None: the session takes it), else ``local[*]``."""
    if master or os.environ.get("SPARK_MASTER"):
        return master or os.environ["SPARK_MASTER"]
    return None if os.environ.get(SUBMITTED) else DEFAULT_MASTER


def is_local(master: str | None) -> bool:
    return master is not None and (master == "local" or master.startswith("local["))


def java_command() -> str | None:
    """The ``java`` Spark would start: ``$JAVA_HOME/bin/java``, else the one on ``PATH``."""
    home = os.environ.get("JAVA_HOME")
    if home and (Path(home) / "bin" / "java").is_file():
        return str(Path(home) / "bin" / "java")
    return shutil.which("java")


def require_spark() -> None:
    """A Russian message naming what to install, instead of pyspark's traceback."""
    try:
        import pyspark  # noqa: F401
    except ImportError as error:
        raise SparkUnavailable(
            f"движок spark: не установлен pyspark ({error}); {INSTALL_HINT}"
        ) from error
    if java_command() is None:
        raise SparkUnavailable(
            f"движок spark: не найдена Java (нет `java` в PATH и в JAVA_HOME); {INSTALL_HINT}"
        )


def package_zip(folder: Path) -> Path:
    """The ``pipeline`` package as a zip for ``addPyFile`` (sources and package data)."""
    package = Path(__file__).resolve().parents[1]
    target = folder / "pipeline.zip"
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(package.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                archive.write(path, path.relative_to(package.parent).as_posix())
    return target


def start_session(master: str | None, folder: Path):
    """A SparkSession at ``master``: no UI, quiet log; a local one runs this very Python."""
    require_spark()
    from pyspark.sql import SparkSession

    log_config = folder / "log4j2.properties"
    log_config.write_text(QUIET_LOG4J, encoding="utf-8")
    builder = SparkSession.builder.appName(APP_NAME)
    if master is not None:
        builder = builder.master(master)
    for key, value in {
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.driver.extraJavaOptions": f"-Dlog4j2.configurationFile=file:{log_config}",
    }.items():
        builder = builder.config(key, value)
    if is_local(master):
        # workers are this machine's processes: the same venv, and the package's folder
        os.environ["PYSPARK_PYTHON"] = os.environ["PYSPARK_DRIVER_PYTHON"] = sys.executable
        source = str(Path(__file__).resolve().parents[2])
        builder = builder.config("spark.executorEnv.PYTHONPATH", source)
    try:
        with pandas_3_warning_ignored():
            session = builder.getOrCreate()
    except Exception as error:  # pyspark raises its own and py4j's types here
        raise SparkUnavailable(
            f"движок spark: не удалось запустить Spark (master {master!r}): {java_cause(error)}; "
            "проверьте адрес мастера и что кластер запущен, либо запустите с `--engine local`"
        ) from error
    session.sparkContext.setLogLevel("ERROR")
    return session


def java_cause(error: Exception) -> str:
    """The line of a py4j error that names the Java exception, else its first line."""
    lines = [line.strip(" \t:") for line in str(error).splitlines() if line.strip(" \t:")]
    named = [line for line in lines if "Exception:" in line and not line.startswith("at ")]
    return (named or lines or [type(error).__name__])[0]


@contextmanager
def pandas_3_warning_ignored():
    """pyspark 4 warns about pandas 3 in general; only string columns cross between the JVM
    and Python here, and tests/test_spark.py checks the parts are the local engine's bytes."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "PySpark does not yet fully support pandas")
        yield


def task_rows(tasks: list[Task]) -> list[tuple[str, ...]]:
    return [
        (t.kind, t.part, t.source_root, t.target_root, json.dumps(t.inputs, sort_keys=True))
        for t in tasks
    ]


def part_computer(broadcast, batch_size: int):
    """The function ``mapInPandas`` runs on an executor: each task row -> one result row."""

    def compute(batches):
        context = broadcast.value  # unpickled once per Python worker, kept between its tasks
        for batch in batches:
            for row in batch.itertuples(index=False):
                task = Task(
                    row.kind, row.part, row.source_root, row.target_root, json.loads(row.inputs)
                )
                entry, learnt, error = {}, {}, None
                try:
                    entry, learnt = run_task(task, context, batch_size)
                except PipelineError as problem:  # bad input: the driver says it in Russian
                    error = str(problem)
                yield pd.DataFrame(
                    {
                        "part": [task.part],
                        "entry": [json.dumps(entry, ensure_ascii=False)],
                        "learnt": [json.dumps(learnt, ensure_ascii=False)],
                        "error": [error],
                    }
                )

    return compute


def run_spark(
    tasks: list[Task], context, batch_size: int = 100_000, master: str | None = None
) -> tuple[dict[str, dict], dict[str, str]]:
    """Every task's manifest entry by part name, and the tokens learnt (lemmatize)."""
    if not tasks:
        return {}, {}
    master = resolve_master(master)
    with tempfile.TemporaryDirectory(prefix="contact-reasons-spark-") as folder:
        session = start_session(master, Path(folder))
        try:
            collected = compute_parts(session, tasks, context, batch_size, Path(folder))
        finally:
            session.stop()
    return gather(collected)


def compute_parts(session, tasks: list[Task], context, batch_size: int, folder: Path):
    """Run the tasks through ``mapInPandas``; the collected result rows in part order."""
    spark = session.sparkContext
    master = spark.master  # spark-submit's when it gave it
    if not is_local(master):
        spark.addPyFile(str(package_zip(folder)))
    logger.info("spark: частей к расчёту %d, master %s", len(tasks), master)
    rows = spark.parallelize(task_rows(tasks), numSlices=len(tasks))  # one partition per task
    frame = session.createDataFrame(rows, ", ".join(f"{c} string" for c in TASK_COLUMNS))
    broadcast = spark.broadcast(context)
    with pandas_3_warning_ignored():
        results = frame.mapInPandas(part_computer(broadcast, batch_size), RESULT_SCHEMA)
        collected = sorted(results.collect(), key=lambda row: row["part"])
    broadcast.destroy()
    return collected


def gather(rows) -> tuple[dict[str, dict], dict[str, str]]:
    """The collected result rows as ``run_local``'s dicts; a part that failed is an error."""
    failed = [row for row in rows if row["error"] is not None]
    if failed:
        shown = "; ".join(f"{row['part']}: {row['error']}" for row in failed[:5])
        more = f"; … и ещё {len(failed) - 5}" if len(failed) > 5 else ""
        raise SparkTaskError(f"движок spark: частей не посчитано {len(failed)}: {shown}{more}")
    entries = {row["part"]: json.loads(row["entry"]) for row in rows}
    learnt: dict[str, str] = {}
    for row in rows:
        learnt.update(json.loads(row["learnt"]))
    return entries, learnt
