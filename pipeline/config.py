"""Typed, frozen configuration loaded once from ``params.yaml``.

Every section forbids unknown keys, so a typo in ``params.yaml`` is an error that names the key,
not a silently ignored setting.
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path
from typing import Any

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from pipeline.errors import PipelineError

logger = logging.getLogger(__name__)


class ConfigError(PipelineError, ValueError):
    """``params.yaml`` (or another YAML config) is missing, malformed or has a wrong key."""


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


CALL_FIELDS = (
    "contact_id",
    "started_at",
    "ended_at",
    "duration_s",
    "wait_time_s",
    "queue",
    "outcome",
    "transfers",
    "route",
    "customer_id",
    "text",
)
COMPLAINT_FIELDS = (
    "contact_id",
    "received_at",
    "channel",
    "customer_id",
    "text",
    "queue",
    "resolved_at",
    "status",
    "status_updates",
)
# a hand-off (CRM event) export: optional, read from data/raw/handoffs/
HANDOFF_FIELDS = (
    "event_id",
    "contact_id",
    "event_at",
    "event_type",
    "from_department",
    "to_department",
    "promised_at",
)
REQUIRED_FIELDS = {
    "call": ("contact_id", "started_at", "queue", "outcome"),
    "complaint": ("contact_id", "received_at", "channel", "text"),
    "handoff": ("event_id", "contact_id", "event_at", "event_type"),
}
# canonical hand-off event type -> the spellings found in exports (params.yaml may override)
HANDOFF_TYPES: dict[str, tuple[str, ...]] = {
    "assigned": ("assigned", "назначено", "назначен"),
    "transferred": ("transferred", "transfer", "передано", "передача", "переведено"),
    "callback_promised": ("callback_promised", "обещан звонок", "обещан перезвон"),
    "callback_done": ("callback_done", "звонок выполнен", "перезвонили"),
    "escalated": ("escalated", "эскалация", "эскалировано"),
    "status_update": ("status_update", "обновление статуса"),
    "closed": ("closed", "закрыто", "закрыт"),
}


class IngestConfig(_Frozen):
    timezone: str = "Europe/Moscow"
    encodings: tuple[str, ...] = ("utf-8-sig", "cp1251")
    delimiters: tuple[str, ...] = (",", ";", "\t", "|")
    date_formats: tuple[str, ...] = Field(min_length=1)
    max_bad_row_share: float = Field(0.05, ge=0, le=1)
    columns: dict[str, dict[str, tuple[str, ...]]]
    channels: dict[str, tuple[str, ...]]
    call_channel: str = "phone"
    # the channel of written requests whose export has no channel column or leaves it empty
    # (a city portal's exports are all web reports); None: the column is required
    complaint_channel: str | None = None
    outcomes: dict[str, tuple[str, ...]]
    statuses: dict[str, tuple[str, ...]]
    drivers_columns: dict[str, tuple[str, ...]]
    handoff_types: dict[str, tuple[str, ...]] = Field(default_factory=lambda: dict(HANDOFF_TYPES))
    # implausible values are quarantined, not counted: a 10^9-second call would make one
    # reason cost hundreds of millions, a complaint dated 2030 would become the report week
    max_call_seconds: float = Field(12 * 3600, gt=0)
    max_wait_seconds: float = Field(4 * 3600, gt=0)
    earliest_date: dt.date = dt.date(2000, 1, 1)
    # a contact dated more than this many days after the day ingest runs is in the future
    future_days: int = Field(1, ge=0)
    # contacts are stored by ISO week in parts of at most this many rows: the unit of work of
    # lemmatize and classify (a part is computed whole, in one worker)
    partition_rows: int = Field(200_000, ge=1000)

    @model_validator(mode="after")
    def _complaint_channel_is_known(self) -> IngestConfig:
        if self.complaint_channel is not None and self.complaint_channel not in self.channels:
            raise ValueError(
                f"complaint_channel: {self.complaint_channel!r} — ожидается один из "
                f"{', '.join(self.channels)}"
            )
        return self

    @field_validator("handoff_types")
    @classmethod
    def _known_handoff_types(cls, value: dict[str, tuple[str, ...]]) -> Any:
        unknown = set(value) - set(HANDOFF_TYPES)
        if unknown:
            raise ValueError(
                f"handoff_types: неизвестные типы событий {sorted(unknown)}; "
                f"ожидаются некоторые из {list(HANDOFF_TYPES)}"
            )
        return value

    def required_fields(self, kind: str) -> tuple[str, ...]:
        """Fields an export of ``kind`` must have a column for."""
        optional = {"channel"} if kind == "complaint" and self.complaint_channel else set()
        return tuple(f for f in REQUIRED_FIELDS[kind] if f not in optional)

    @field_validator("columns")
    @classmethod
    def _known_fields(cls, value: dict[str, dict[str, tuple[str, ...]]]) -> Any:
        allowed = {
            "call": set(CALL_FIELDS),
            "complaint": set(COMPLAINT_FIELDS),
            "handoff": set(HANDOFF_FIELDS),
        }
        for kind, mapping in value.items():
            if kind not in allowed:
                raise ValueError(f"columns.{kind}: ожидается одно из {sorted(allowed)}")
            unknown = set(mapping) - allowed[kind]
            if unknown:
                raise ValueError(
                    f"columns.{kind}: неизвестные поля {sorted(unknown)}; "
                    f"ожидаются некоторые из {sorted(allowed[kind])}"
                )
            missing = set(REQUIRED_FIELDS[kind]) - set(mapping)
            if missing:
                raise ValueError(f"columns.{kind}: нет обязательных полей {sorted(missing)}")
        for kind in ("call", "complaint"):  # columns.handoff is optional
            if kind not in value:
                raise ValueError(f"columns.{kind}: нет раздела")
        return value


class Params(_Frozen):
    ingest: IngestConfig
    # Sections of later stages are validated by their own models; kept opaque here so that a
    # stage only needs its own section to be valid.
    lemmatize: dict[str, Any] = Field(default_factory=dict)
    train: dict[str, Any] = Field(default_factory=dict)
    classify: dict[str, Any] = Field(default_factory=dict)
    aggregate: dict[str, Any] = Field(default_factory=dict)
    report: dict[str, Any] = Field(default_factory=dict)


class _TextDatesLoader(yaml.SafeLoader):
    """SafeLoader that leaves dates as text: the schema parses them, so an impossible date
    (2027-02-30) is a validation error naming the key, not a crash inside the YAML parser."""


_TextDatesLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def read_yaml(path: Path) -> Any:
    """Read a YAML file, turning I/O and syntax problems into a ConfigError naming the file."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: не удалось прочитать файл ({exc.strerror})") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{path}: файл не в кодировке UTF-8 (байт {exc.start}); сохраните его в UTF-8"
        ) from exc
    try:
        return yaml.load(text, Loader=_TextDatesLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f", строка {mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"{path}{where}: некорректный YAML ({exc})") from exc


# pydantic error types in the analyst's language; others keep pydantic's own message
_MESSAGES_RU = {
    "missing": "обязательный ключ отсутствует",
    "extra_forbidden": "неизвестный ключ (опечатка?)",
    "int_parsing": "ожидается целое число",
    "int_from_float": "ожидается целое число",
    "float_parsing": "ожидается число",
    "bool_parsing": "ожидается true или false",
    "string_type": "ожидается текст",
    "list_type": "ожидается список",
    "tuple_type": "ожидается список",
    "dict_type": "ожидается словарь",
    "model_type": "ожидается словарь",
}


def _message_ru(err: dict) -> str:
    kind, ctx = err["type"], err.get("ctx") or {}
    if kind in _MESSAGES_RU:
        return _MESSAGES_RU[kind]
    limits = {
        "greater_than": "больше",
        "greater_than_equal": "не меньше",
        "less_than": "меньше",
        "less_than_equal": "не больше",
    }
    if kind in limits:
        bound = next(iter(ctx.values()), "?")
        return f"ожидается число {limits[kind]} {bound}"
    if kind in ("too_short", "string_too_short"):
        return f"слишком коротко: нужно не меньше {ctx.get('min_length', '?')}"
    if kind in ("too_long", "string_too_long"):
        return f"слишком длинно: допустимо не больше {ctx.get('max_length', '?')}"
    if kind == "literal_error":
        return f"ожидается одно из: {ctx.get('expected', '?')}"
    if kind.startswith("date"):
        return "ожидается дата ГГГГ-ММ-ДД"
    if kind == "string_pattern_mismatch":
        return f"не соответствует шаблону {ctx.get('pattern', '?')}"
    if kind == "value_error":  # our validators' own (Russian) messages
        return str(ctx.get("error", err["msg"]))
    return err["msg"]


def validation_problems(
    exc: ValidationError, raw: object = None, items: str | None = None, label: str = "id"
) -> list[str]:
    """One line per problem of a pydantic validation: where (dotted key; for an item of the
    list ``raw[items]``, its index and its ``label`` value), what is wrong, what was found."""
    entries = raw.get(items) if items and isinstance(raw, dict) else None
    lines = []
    for err in exc.errors():
        loc = [part for part in err["loc"] if not str(part).startswith("function-")]
        head = ""
        if items and len(loc) >= 2 and loc[0] == items and isinstance(loc[1], int):
            entry = entries[loc[1]] if isinstance(entries, list) and loc[1] < len(entries) else {}
            value = entry.get(label, "?") if isinstance(entry, dict) else "?"
            head, loc = f"{items}[{loc[1]}] ({label}={value})", loc[2:]
        key = ".".join(str(part) for part in loc)
        where = ".".join(part for part in (head, key) if part) or "(корень)"
        found = err.get("input")
        found_text = "" if isinstance(found, dict | list) else f"; найдено: {found!r}"
        lines.append(f"{where}: {_message_ru(err)}{found_text}")
    return lines


def format_validation_error(
    path: Path | str,
    exc: ValidationError,
    raw: object = None,
    items: str | None = None,
    label: str = "id",
) -> str:
    """The file, how many problems, and one indented line per problem."""
    lines = validation_problems(exc, raw, items, label)
    return f"{path}: ошибок {len(lines)}:\n  - " + "\n  - ".join(lines)


def load_params(path: Path | str = "params.yaml") -> Params:
    data = read_yaml(Path(path))
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: ожидается словарь секций (ingest, train, ...)")
    try:
        return Params.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(format_validation_error(path, exc)) from exc


def load_section(path: Path | str, section: str, model: type[BaseModel]) -> Any:
    """Validate one section of ``params.yaml`` against its stage model."""
    data = read_yaml(Path(path))
    if not isinstance(data, dict) or section not in data:
        raise ConfigError(f"{path}: нет секции '{section}'")
    try:
        return model.model_validate(data[section] or {})
    except ValidationError as exc:
        raise ConfigError(format_validation_error(f"{path} [{section}]", exc)) from exc
