"""Optional hand-off (CRM event) exports under ``handoffs/`` (transfers, promised call-backs):
every row accepted, quarantined (kind ``handoff``, a Russian reason) or a duplicate of an event
id read before; per file ``rows_read == accepted + quarantined + duplicates``. The contact
reference (the source id ``RQ-0000286`` or the canonical ``complaint:RQ-0000286``) is resolved
against the contacts as this run leaves them (weeks kept on disk through DuckDB, recomputed
weeks from memory), reading only the ids referenced. Small exports: read whole on every run.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd

from pipeline import sql
from pipeline.config import HANDOFF_FIELDS, IngestConfig
from pipeline.io.convert import (
    QUARANTINE_COLUMNS,
    Problems,
    _date_bounds_problem,
    _date_problem,
    _split_rejected,
    blank_to_na,
    normalise_labels,
    parse_datetimes,
    quoted,
)
from pipeline.io.exports import IngestResult, log_file, quarantine_table
from pipeline.io.partitions import Part
from pipeline.io.sources import (
    IngestError,
    RawTable,
    _file_label,
    list_handoff_sources,
    read_source,
)
from pipeline.text.mask import mask_column

logger = logging.getLogger(__name__)

HANDOFF_COLUMNS = (*HANDOFF_FIELDS, "source_file", "source_row")
# event types that hand the contact to a department: the receiving department is required
NEEDS_DEPARTMENT = ("assigned", "transferred", "escalated")
# what makes an event; two copies of an event id differing in these are a conflict
CONTENT = ("contact_id", "event_at", "event_type", "from_department", "to_department")
LOOKUP_COLUMNS = ("contact_id", "source_id", "created_at")
_UTC = "datetime64[us, UTC]"


def empty_handoffs() -> pd.DataFrame:
    return typed(pd.DataFrame({name: [] for name in HANDOFF_COLUMNS}))


def typed(events: pd.DataFrame) -> pd.DataFrame:
    """The output's columns in order, with their types."""
    types = {name: "string" for name in HANDOFF_COLUMNS} | {
        "event_at": _UTC,
        "promised_at": _UTC,
        "source_row": "int64",
    }
    return events.loc[:, list(HANDOFF_COLUMNS)].astype(types).reset_index(drop=True)


# --- converting (pure) -------------------------------------------------------------------------


def _local(values: pd.Series, timezone: str) -> pd.Series:
    return "'" + values.dt.tz_convert(timezone).dt.strftime("%d.%m.%Y %H:%M").fillna("") + "'"


def resolve(refs: pd.Series, contacts: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """Each reference's canonical contact id (NA when none or more than one matches) and the
    number of contacts (unique ids) it matches: a canonical ``kind:id`` first, then the source
    id."""
    canonical = refs.where(refs.isin(contacts["contact_id"]))
    by_source = contacts.groupby("source_id")["contact_id"].agg(["count", "first"])
    matches = refs.map(by_source["count"]).fillna(0).astype("int64")
    matches = matches.where(canonical.isna(), 1)
    found = canonical.fillna(refs.map(by_source["first"]).astype("string").where(matches == 1))
    return found.astype("string"), matches


def _contact_problems(problems, refs, contacts, event_at, config: IngestConfig) -> pd.Series:
    """Tie each event to its contact; an unknown or ambiguous reference and an event earlier
    than its contact are problems. Returns the canonical contact ids."""
    contacts = contacts.drop_duplicates("contact_id")
    contact_id, matches = resolve(refs, contacts)
    problems.add(
        refs.notna() & (matches == 0),
        "unknown_contact",
        "контакт "
        + quoted(refs)
        + " не найден среди звонков и обращений ни одной недели: ожидается номер "
        "обращения или звонка из выгрузок calls/ и complaints/ (или вида complaint:RQ-1)",
    )
    problems.add(
        matches > 1,
        "ambiguous_contact",
        "номер "
        + quoted(refs)
        + " есть и у звонка, и у обращения: укажите контакт с видом — call:"
        + refs.fillna("")
        + " или complaint:"
        + refs.fillna(""),
    )
    when = contacts.set_index("contact_id")["created_at"].astype(_UTC)
    created = pd.Series(when.reindex(contact_id.fillna("")).array, index=contact_id.index)
    problems.add(
        event_at < created,
        "event_before_contact",
        "время события "
        + _local(event_at, config.timezone)
        + " раньше создания контакта "
        + contact_id.fillna("")
        + " ("
        + _local(created, config.timezone)
        + "): время идёт назад — проверьте дату и часовой пояс выгрузки",
    )
    return contact_id


def _type_problems(problems: Problems, text_of: dict, config: IngestConfig) -> pd.Series:
    """The canonical event type; an unknown or missing one, and a hand-over to no department,
    are problems."""
    kind = text_of["event_type"]
    accepted = (
        "ожидается одно из: "
        + "; ".join(f"{k} ({' | '.join(v)})" for k, v in config.handoff_types.items())
        + " (написания — ingest.handoff_types в параметрах)"
    )
    canonical = normalise_labels(kind, config.handoff_types)
    problems.add(kind.isna(), "unknown_event_type", f"нет типа события (event_type): {accepted}")
    problems.add(
        kind.notna() & canonical.isna(),
        "unknown_event_type",
        "неизвестный тип события " + quoted(kind) + f": {accepted}",
    )
    problems.add(
        canonical.isin(NEEDS_DEPARTMENT) & text_of["to_department"].isna(),
        "missing_department",
        "нет отдела-получателя (to_department) у события "
        + quoted(kind)
        + ": для назначения, передачи и эскалации он обязателен",
    )
    return canonical


def _time_problems(problems: Problems, text_of: dict, config: IngestConfig, today: date):
    """The event's time and the promised time in UTC; an empty, unreadable or implausible event
    time, an unreadable promise and a promise earlier than the event are problems."""
    raw_at, raw_promised = text_of["event_at"], text_of["promised_at"]
    event_at = parse_datetimes(raw_at, config.date_formats, config.timezone)
    problems.add(raw_at.isna(), "bad_date", "нет даты в колонке event_at")
    _date_problem(problems, raw_at, event_at, "event_at", required=False)
    _date_bounds_problem(problems, raw_at, event_at, "event_at", config, today)
    promised = parse_datetimes(raw_promised, config.date_formats, config.timezone)
    problems.add(
        raw_promised.notna() & promised.isna(),
        "bad_promised_at",
        "не удалось разобрать срок обещания "
        + quoted(raw_promised)
        + " в колонке promised_at: ожидается ДД.ММ.ГГГГ ЧЧ:ММ или ГГГГ-ММ-ДД ЧЧ:ММ",
    )
    problems.add(
        promised < event_at,
        "promise_before_event",
        "обещано на "
        + quoted(raw_promised)
        + " — раньше самого события "
        + quoted(raw_at)
        + ": обещание не может быть в прошлом",
    )
    return event_at, promised


def convert_handoffs(
    raw: pd.DataFrame, config: IngestConfig, contacts: pd.DataFrame, today: date | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Validate and type one export's events against ``contacts`` (``LOOKUP_COLUMNS``):
    (accepted events, rejected rows with reason). ``today`` (default: the day ingest runs)
    bounds how far in the future an event may be."""
    text_of = {name: blank_to_na(raw[name]) for name in config.columns["handoff"]}
    problems = Problems(raw.index)
    out = pd.DataFrame({"event_id": text_of["event_id"]}, index=raw.index)
    problems.add(out["event_id"].isna(), "missing_id", "нет идентификатора события (event_id)")
    problems.add(
        text_of["contact_id"].isna(),
        "missing_contact",
        "нет номера обращения или звонка (contact_id), к которому относится событие",
    )
    event_at, promised = _time_problems(problems, text_of, config, today or date.today())
    out["event_type"] = _type_problems(problems, text_of, config)
    out["contact_id"] = _contact_problems(
        problems, text_of["contact_id"], contacts, event_at, config
    )
    out["event_at"], out["promised_at"] = event_at, promised
    out["from_department"] = text_of["from_department"]
    out["to_department"] = text_of["to_department"]
    return _split_rejected(out, raw, problems, "handoff")


def deduplicate_events(events: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The first copy of each event id in reading order; the later copies, and among them
    those whose content differs from the first (conflicts)."""
    copy = events["event_id"].duplicated(keep="first")
    content = events[[*CONTENT, "promised_at"]].astype("string").fillna("\u0000")
    signature = content.agg("\u001f".join, axis=1) if len(events) else content.iloc[:, 0]
    first = signature.groupby(events["event_id"]).transform("first")
    return events.loc[~copy], events.loc[copy], events.loc[copy & (signature != first)]


# --- reading (I/O shell) -----------------------------------------------------------------------


@dataclass
class HandoffRead:
    """The hand-off exports of a run: the events kept, the rejected rows, what each file gave."""

    events: pd.DataFrame
    quarantine: pd.DataFrame
    files: dict


def stored_contacts(files: list[Path], refs: list[str]) -> pd.DataFrame:
    """The contacts of the stored week parts ``files`` that ``refs`` name (DuckDB reads only
    three columns and keeps the referenced rows)."""
    if not files or not refs:
        return pd.DataFrame({name: [] for name in LOOKUP_COLUMNS}).astype({"created_at": _UTC})
    con = duckdb.connect()
    try:
        found = sql.frame(con, "handoff_contacts", files=[str(f) for f in files], refs=refs)
    finally:
        con.close()
    return found.assign(created_at=pd.to_datetime(found["created_at"], utc=True).astype(_UTC))


def lookup_contacts(
    refs: list[str],
    contacts: pd.DataFrame,
    weeks: set[str] | None,
    contacts_root: Path,
    parts: dict[str, dict],
) -> pd.DataFrame:
    """The contacts ``refs`` name as the dataset will be after this run: the recomputed
    ``weeks`` (all: None) from ``contacts``, the others from their parts on disk."""
    named = contacts["contact_id"].isin(refs) | contacts["source_id"].isin(refs)
    in_memory = contacts.loc[named, list(LOOKUP_COLUMNS)]
    kept = [] if weeks is None else sorted(n for n in parts if Part.parse(n).week not in weeks)
    stored = stored_contacts([Path(contacts_root) / name for name in kept], refs)
    frames = [f for f in (stored, in_memory) if len(f)]
    if not frames:
        return stored
    found = pd.concat(frames, ignore_index=True).astype({"created_at": _UTC})
    return found.astype({"contact_id": "string", "source_id": "string"})


def _file_info(table: RawTable, quarantined: int) -> dict:
    info = {
        "kind": "handoff",
        "encoding": table.encoding,
        "delimiter": table.delimiter,
        "rows_read": table.rows_read,
        "quarantined": quarantined,
    }
    if table.stray_quotes:
        info["stray_quotes"] = table.stray_quotes
    if table.rows_read == 0:
        info["empty"] = True
    return info


def _rejected(label: str, bad: pd.DataFrame, table: RawTable) -> pd.DataFrame:
    structural = pd.DataFrame(
        table.bad_rows, columns=["source_row", "raw", "reason_code", "reason"]
    ).assign(kind="handoff")
    rejected = pd.concat([bad, structural], ignore_index=True).sort_values("source_row")
    rejected.insert(0, "source_file", label)
    rejected["raw"] = mask_column(rejected["raw"].astype("string"))
    return rejected.loc[:, list(QUARANTINE_COLUMNS)]


def read_tables(raw_dir: Path, config: IngestConfig) -> list[tuple[str, RawTable]]:
    """Each hand-off export under ``raw_dir`` read into rows of strings (none: no export)."""
    paths = list_handoff_sources(raw_dir)
    if paths and "handoff" not in config.columns:
        raise IngestError(
            f"{raw_dir}: есть выгрузки событий передачи "
            f"({', '.join(_file_label(p, raw_dir) for p in paths)}), но в параметрах нет раздела "
            "ingest.columns.handoff с именами их колонок; добавьте его (поля event_id, "
            "contact_id, event_at, event_type, from_department, to_department, promised_at) "
            "или уберите файлы из папки"
        )
    return [(_file_label(path, raw_dir), read_source(path, "handoff", config)) for path in paths]


def read_handoffs(
    tables: list[tuple[str, RawTable]],
    config: IngestConfig,
    lookup: pd.DataFrame,
    today: date | None = None,
) -> HandoffRead:
    """Convert, tie to contacts (``lookup``) and de-duplicate the exports' events, in reading
    order; the counts of each file reconcile."""
    accepted, rejected, files = [], [], {}
    for label, table in tables:
        good, bad = convert_handoffs(table.frame, config, lookup, today)
        accepted.append(good.assign(source_file=label))
        rejected.append(_rejected(label, bad, table))
        files[label] = _file_info(table, len(bad) + len(table.bad_rows))
    events = pd.concat(accepted, ignore_index=True)
    unique, copies, conflicts = deduplicate_events(events)
    if len(conflicts):
        logger.warning(
            "разные данные под одним id события передачи: %s; оставлена первая прочитанная копия",
            conflicts["source_file"].value_counts().to_dict(),
        )
    for label, info in files.items():
        info["duplicates"] = int((copies["source_file"] == label).sum())
        info["conflicts"] = int((conflicts["source_file"] == label).sum())
        info["accepted"] = int((unique["source_file"] == label).sum())
        info["reconciles"] = (
            info["rows_read"] == info["accepted"] + info["quarantined"] + info["duplicates"]
        )
    events = typed(unique).sort_values(["event_at", "event_id"], kind="stable")
    return HandoffRead(events.reset_index(drop=True), pd.concat(rejected), files)


def summary(files: dict) -> dict:
    """The ``handoffs`` block of the ingest metrics: the hand-off files' totals."""
    totals = {
        key: int(sum(info[key] for info in files.values()))
        for key in ("rows_read", "accepted", "quarantined", "duplicates", "conflicts")
    }
    reconciles = all(info["reconciles"] for info in files.values())
    return {"files": len(files), **totals, "reconciles": reconciles}


def add_handoffs(
    result: IngestResult,
    raw_dir: Path,
    config: IngestConfig,
    contacts_root: Path,
    parts: dict[str, dict],
) -> pd.DataFrame:
    """Read the hand-off exports against the contacts of ``result`` (and the parts of the last
    run's manifest ``parts`` not recomputed); their rejected rows join ``result.quarantine``,
    their files and a ``handoffs`` block ``result.metrics``. Without an export nothing changes
    and the events are an empty table."""
    tables = read_tables(raw_dir, config)
    if not tables:
        return empty_handoffs()
    refs = set()
    for _, table in tables:
        refs |= set(blank_to_na(table.frame["contact_id"]).dropna())
    lookup = lookup_contacts(sorted(refs), result.contacts, result.weeks, contacts_root, parts)
    read = read_handoffs(tables, config, lookup)
    result.quarantine = quarantine_table([result.quarantine, read.quarantine])
    block = summary(read.files)
    result.metrics["files"].update(read.files)
    result.metrics["handoffs"] = block
    result.metrics["reconciles"] = bool(result.metrics["reconciles"] and block["reconciles"])
    for label, info in read.files.items():
        log_file(label, info)
    logger.info(
        "ingest: hand-off events %d read, %d accepted, %d quarantined, %d duplicates "
        "(события передачи: выгрузок %d)",
        block["rows_read"],
        block["accepted"],
        block["quarantined"],
        block["duplicates"],
        block["files"],
    )
    return read.events
