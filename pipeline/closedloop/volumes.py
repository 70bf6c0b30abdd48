"""Weekly volumes corrected for the classifier's errors (``pipeline/model/quantify.py``) from
train's out-of-fold confusion rows (``reports/plots/confusion.csv``)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from pipeline import sql
from pipeline.closedloop.config import AggregateConfig, AggregateError
from pipeline.io.inputs import require
from pipeline.model import quantify
from pipeline.taxonomy.schema import Taxonomy

CONFUSION_COLUMNS = ("actual", "predicted", "above_threshold")
ESTIMATE_COLUMNS = (
    "volume_estimated",
    "volume_estimated_low",
    "volume_estimated_high",
    "expected_precision",
    "expected_precision_support",
)


def read_confusion(path: Path) -> pd.DataFrame:
    """Train's out-of-fold predictions of the labelled examples (reports/plots/confusion.csv)."""
    require(path, "train")
    try:
        frame = pd.read_csv(path, dtype={"actual": str, "predicted": str})
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise AggregateError(
            f"{path}: не читается как CSV ({exc}); файл пишет стадия train — перезапустите "
            "`dvc repro train`"
        ) from exc
    missing = [c for c in CONFUSION_COLUMNS if c not in frame.columns]
    if missing:
        raise AggregateError(
            f"{path}: нет столбцов {missing} (есть {list(frame.columns)}); файл пишет стадия "
            "train — перезапустите `dvc repro train`"
        )
    if frame.empty:
        frame["above_threshold"] = frame["above_threshold"].astype(bool)
    if frame["above_threshold"].dtype != bool:
        raise AggregateError(
            f"{path}, столбец above_threshold: ожидаются True/False, найдено "
            f"{sorted(frame['above_threshold'].astype(str).unique())[:5]}"
        )
    return frame


def estimated_volumes(
    con: duckdb.DuckDBPyConnection,
    taxonomy: Taxonomy,
    confusion: pd.DataFrame,
    config: AggregateConfig,
) -> pd.DataFrame:
    """ISO week x reason: the raw count and the volume corrected for the classifier's errors.

    Raw count: contacts the classifier assigned to the reason (``weekly_assigned.sql``).
    The correction uses the out-of-fold confusion of the predictions above the threshold (the
    ones classify assigns), retired ids counted under their successors like the contacts.
    """
    classes = taxonomy.classes
    above = confusion[confusion["above_threshold"]]
    counts = quantify.confusion_counts(
        [taxonomy.successor(r) for r in above["actual"]],
        [taxonomy.successor(r) for r in above["predicted"]],
        classes,
    )
    weeks = [w for (w,) in con.execute(sql.load("weekly_weeks")).fetchall()]
    assigned = con.execute(sql.load("weekly_assigned")).df()
    observed = (
        assigned.pivot_table(
            index="iso_week", columns="reason_id", values="contacts", aggfunc="sum", fill_value=0
        )
        .reindex(index=weeks, columns=classes, fill_value=0)
        .to_numpy()
    )
    result = quantify.estimate_volumes(
        counts,
        observed,
        level=config.volume_interval,
        draws=config.volume_draws,
        seed=config.volume_seed,
    )
    precision, support = quantify.expected_precision(counts)
    frame = pd.DataFrame(
        {
            "iso_week": np.repeat(weeks, len(classes)),
            "reason_id": np.tile(classes, len(weeks)),
            "contacts": observed.ravel().astype(np.int64),
            "volume_estimated": result.estimate.ravel(),
            "volume_estimated_low": result.low.ravel(),
            "volume_estimated_high": result.high.ravel(),
            "expected_precision": np.tile(precision, len(weeks)),
            "expected_precision_support": np.tile(support, len(weeks)),
        }
    )
    totals = frame.groupby("iso_week")[["contacts", "volume_estimated"]].sum()
    if not np.allclose(totals["contacts"], totals["volume_estimated"]):
        raise AggregateError(
            "оценки объёмов по неделям не сходятся с числом контактов: "
            f"{totals[~np.isclose(totals['contacts'], totals['volume_estimated'])].head()}"
        )
    if assigned["contacts"].sum() != frame["contacts"].sum():
        raise AggregateError(
            "контакты с причинами вне таксономии: "
            f"{sorted(set(assigned['reason_id']) - set(classes))}"
        )
    return frame
