"""Parameters of the closed loop (``params.yaml`` section ``aggregate``) and its Russian labels."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from pipeline.closedloop.handoffs import HandoffRule
from pipeline.closedloop.sla import SlaRule
from pipeline.config import ConfigError
from pipeline.io.weeks import parse_week
from pipeline.model import quantify

NO_EXPLANATION = "нет объяснения владельца"
TARGET_STATUS = {
    "met": "достигнута",
    "on_track": "в графике",
    "off_track": "отстаёт",
    "no_target": "нет цели",
}
TREND_RU = {
    "rising": "растёт",
    "falling": "снижается",
    "flat": "без тренда",
    "insufficient": "мало данных",
}


class AggregateConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # ISO week to report ("2026-W47"); empty = the last complete week in the data
    report_week: str | None = None
    # DuckDB's memory for the run; beyond it the history spills to disk instead of growing RSS
    memory_limit: str = Field("2GB", pattern=r"^\d+(\.\d+)?\s*(MB|GB|MiB|GiB)$")
    trend_weeks: int = Field(13, ge=6, le=104)
    # "recent" weeks: volume, cost, repeats and transfers over this many weeks ending at the
    # report week, compared with as many before; an action's effect against as many before it
    recent_weeks: int = Field(4, ge=1, le=26)
    trend_alpha: float = Field(0.05, gt=0, lt=1)
    min_slope_pct: float = Field(0.01, ge=0)
    spike_history: int = Field(8, ge=4, le=52)
    spike_alpha: float = Field(0.001, gt=0, lt=1)
    spike_min_excess: float = Field(10, ge=0)
    repeat_window_days: int = Field(7, ge=1, le=90)
    # roubles per handling minute; None (null or absent) = not configured: no cost, no prize
    cost_per_minute: float | None = Field(None, ge=0)
    # handle time of a written contact by channel (calls use their measured handle time)
    handle_minutes: dict[str, float] = Field(
        default_factory=lambda: {
            "email": 12.0,
            "web": 10.0,
            "chat": 8.0,
            "social": 10.0,
            "service_desk": 15.0,
            "branch": 20.0,
        }
    )
    default_handle_minutes: float = Field(10.0, ge=0)
    # an owner note explains a rise if it is about a week at most this many weeks back
    note_valid_weeks: int = Field(6, ge=1)
    # volume must fall at least this much (weekly mean after vs 4 weeks before the action)
    action_min_drop: float = Field(0.10, ge=0, lt=1)
    # the organisation's SLA rule; the default is the seed-003 rule (README, "SLA"); null or
    # enabled: false = no SLA: its figures are empty and the report shows no SLA
    sla: SlaRule | None = SlaRule()
    # earlier weeks whose closed loop is kept too, for the reports' archive
    # the fate rules of the optional hand-off export (pipeline/closedloop/handoffs.py)
    handoffs: HandoffRule = HandoffRule()
    archive_weeks: int = Field(8, ge=0, le=52)
    # volume corrected for the classifier's errors: interval level, bootstrap draws, their seed
    volume_interval: float = Field(quantify.DEFAULT_LEVEL, gt=0, lt=1)
    volume_draws: int = Field(quantify.DEFAULT_DRAWS, ge=20, le=5000)
    volume_seed: int = 0

    @property
    def sla_enabled(self) -> bool:
        return self.sla is not None and self.sla.enabled

    @property
    def sla_rule(self) -> SlaRule:
        """The rule the SLA tables are computed with (the default one when there is no SLA:
        the tables keep their columns, the figures are then emptied)."""
        return self.sla if self.sla is not None else SlaRule()

    @field_validator("report_week")
    @classmethod
    def _iso_week(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        return parse_week(value)  # WeekError is a ValueError: pydantic reports it in Russian


class AggregateError(ConfigError):
    """The inputs cannot give a closed-loop report (e.g. the report week has no contacts)."""
