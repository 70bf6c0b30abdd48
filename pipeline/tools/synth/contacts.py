"""The contact generator: weekly volumes per reason with the planted stories, each contact's
moment, channel, queue, call outcome, transfers, resolution and text, and the repeat contacts."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

import holidays
import numpy as np
import yaml

from pipeline.tools.synth.stories import (
    ACTION_WEEK_OFFSET,
    BRANCH_QUEUES,
    CALL_SHARE,
    CALL_SHARE_DEFAULT,
    CRM_CHANNELS,
    DECLINE_REASON,
    DESK_CHANNELS,
    DESK_SHARE,
    GENERAL_QUEUE,
    PINGPONG_QUEUE,
    QUEUE_BY_OWNER,
    REPEAT_DEFAULT,
    REPEAT_PRONE,
    RISING_REASON,
    SPIKE_REASON,
    WEEKDAY_WEIGHT,
    base_story,
)
from pipeline.tools.synth.text import TextMaker


@dataclass
class Contact:
    source_id: str
    kind: str  # call | complaint
    reason_id: str
    story: str
    created: datetime  # local wall clock
    customer_id: str
    text: str = ""
    channel: str = ""
    queue: str = ""
    outcome: str = "answered"
    wait_s: int = 0
    duration_s: int = 0
    transfers: int = 0
    route: str = ""
    resolved: datetime | None = None
    status_updates: int = 0

    @property
    def contact_id(self) -> str:
        return f"{self.kind}:{self.source_id}"


def load_reasons(taxonomy_path: Path) -> list[dict]:
    """Active, non-reserved reasons (the generator only needs ids and owners)."""
    data = yaml.safe_load(Path(taxonomy_path).read_text(encoding="utf-8"))
    return [r for r in data["reasons"] if not r.get("reserved") and not r.get("retired")]


class BusinessCalendar:
    """Weekends and Russian public holidays (for realistic resolution times)."""

    def __init__(self, years: list[int]):
        self.holidays = holidays.country_holidays("RU", years=years)

    def is_business_day(self, day: date) -> bool:
        return day.weekday() < 5 and day not in self.holidays

    def next_business_day(self, day: date) -> date:
        day += timedelta(days=1)
        while not self.is_business_day(day):
            day += timedelta(days=1)
        return day


class Generator:
    def __init__(self, reasons, phrases, weeks: int, contacts: int, seed: int, end: date):
        self.reasons = reasons
        self.reason_ids = [r["id"] for r in reasons]
        self.owner = {r["id"]: r["owner"] for r in reasons}
        self.phrases = phrases
        self.weeks = weeks
        self.total = contacts
        self.rng = random.Random(seed)
        self.np = np.random.default_rng(seed)
        self.text = TextMaker(phrases, self.rng)
        end_monday = end - timedelta(days=end.weekday())
        self.week_starts = [end_monday - timedelta(weeks=weeks - 1 - i) for i in range(weeks)]
        self.calendar = BusinessCalendar(
            sorted({d.year for d in self.week_starts} | {end.year + 1})
        )
        self.counter = {"call": 0, "complaint": 0}
        self.customers = 90_000

    # --- volumes -------------------------------------------------------------------------------

    def weekly_volumes(self) -> dict[str, np.ndarray]:
        """Expected contacts per reason per week, with the planted volume stories."""
        n = len(self.reason_ids)
        shares = 1.0 / np.arange(1, n + 1) ** 0.55  # a Pareto-like spread
        order = self.np.permutation(n)
        shares = shares[order] / shares.sum()
        base_per_week = self.total / self.weeks * 0.93
        volumes = {}
        for i, reason in enumerate(self.reason_ids):
            rate = np.full(self.weeks, base_per_week * shares[i])
            if reason == DECLINE_REASON:
                rate = np.full(self.weeks, base_per_week * 0.085)
                action = self.weeks - ACTION_WEEK_OFFSET
                for w in range(max(action, 0), self.weeks):
                    rate[w] *= max(0.3, 1 - 0.18 * (w - action + 1))
            if reason == RISING_REASON:
                rate = base_per_week * 0.02 * 1.09 ** np.arange(self.weeks)
            volumes[reason] = rate
        return volumes

    # --- contacts ------------------------------------------------------------------------------

    def next_id(self, kind: str) -> str:
        self.counter[kind] += 1
        prefix = "CL" if kind == "call" else "RQ"
        return f"{prefix}-{self.counter[kind]:07d}"

    def random_moment(self, week_start: date, kind: str) -> datetime:
        day = week_start + timedelta(
            days=int(self.np.choice(7, p=WEEKDAY_WEIGHT / WEEKDAY_WEIGHT.sum()))
        )
        low, high, mean, spread = (
            (8.0, 21.0, 13.0, 3.0) if kind == "call" else (0.0, 24.0, 14.0, 4.5)
        )
        hour = self.np.normal(mean, spread)
        while not low <= hour < high:  # truncated normal: no pile-up at opening time
            hour = self.np.normal(mean, spread)
        minute = int((hour % 1) * 60)
        return datetime.combine(day, time(int(hour), minute))

    def choose_kind(self, reason: str) -> str:
        share = CALL_SHARE.get(reason, CALL_SHARE_DEFAULT)
        return "call" if self.rng.random() < share else "complaint"

    def new_contact(
        self, reason: str, week_start: date, story: str, kind: str | None = None
    ) -> Contact:
        kind = kind or self.choose_kind(reason)
        return self.make_contact(reason, self.random_moment(week_start, kind), story, kind=kind)

    def make_contact(
        self,
        reason: str,
        moment: datetime,
        story: str,
        customer: str | None = None,
        repeat: bool = False,
        kind: str | None = None,
    ) -> Contact:
        kind = kind or self.choose_kind(reason)
        customer = customer or f"C{self.np.integers(1, self.customers):06d}"
        contact = Contact(self.next_id(kind), kind, reason, story, moment, customer)
        templates = self.phrases["reasons"][reason] if reason in self.phrases["reasons"] else None
        if story == "spike":
            templates = {
                "client": self.phrases["stories"]["sms_spike_client"],
                "agent": self.phrases["stories"]["sms_spike_agent"],
            }
        elif story == "emerging":
            templates = {
                "client": self.phrases["stories"]["emerging_client"],
                "agent": self.phrases["stories"]["emerging_agent"],
            }
        elif story == "offtopic":
            templates = {
                "client": self.phrases["stories"]["offtopic_client"],
                "agent": self.phrases["stories"]["offtopic_client"],
            }
        if kind == "call":
            self.fill_call(contact, templates, repeat)
        else:
            self.fill_complaint(contact, templates, repeat)
        return contact

    def fill_call(self, c: Contact, templates: dict, repeat: bool) -> None:
        rng = self.rng
        owner = self.owner.get(c.reason_id, "")
        if c.reason_id in ("branch_unreachable", "branch_service"):
            c.queue = rng.choice(BRANCH_QUEUES)
        elif rng.random() < 0.35:
            c.queue = GENERAL_QUEUE
        else:
            c.queue = QUEUE_BY_OWNER.get(owner, GENERAL_QUEUE)
        hour = c.created.hour
        lost = 0.05
        if c.queue in BRANCH_QUEUES:
            lost = 0.5 if hour == 13 or hour >= 17 else 0.1
        roll = rng.random()
        c.wait_s = int(self.np.gamma(2.0, 30.0))
        if roll < lost:
            c.outcome = "abandoned" if rng.random() < 0.6 else "dropped"
            c.wait_s += int(self.np.gamma(3.0, 60.0))
            c.duration_s = 0 if c.outcome == "abandoned" else int(self.np.integers(5, 40))
            return
        c.outcome = "answered"
        c.duration_s = int(self.np.lognormal(np.log(260), 0.5))
        if c.queue == PINGPONG_QUEUE:
            c.transfers = int(self.np.choice([0, 1, 2, 3, 4], p=[0.3, 0.2, 0.3, 0.15, 0.05]))
        elif c.reason_id == "transferred_around":
            c.transfers = int(self.np.choice([1, 2, 3], p=[0.3, 0.5, 0.2]))
        else:
            c.transfers = int(self.np.choice([0, 1, 2], p=[0.86, 0.11, 0.03]))
        if c.transfers:
            hops = [c.queue]
            others = [GENERAL_QUEUE, "Карты", "Платежи и переводы", PINGPONG_QUEUE]
            for _ in range(c.transfers):
                if c.queue == PINGPONG_QUEUE and hops[-1] != PINGPONG_QUEUE:
                    hops.append(PINGPONG_QUEUE)  # bounced back: ping-pong
                else:
                    hops.append(rng.choice([q for q in others if q != hops[-1]]))
            c.route = " > ".join(hops)
            c.duration_s += 90 * c.transfers
        c.text = self.text.agent(templates["agent"], repeat)

    def fill_complaint(self, c: Contact, templates: dict, repeat: bool) -> None:
        rng = self.rng
        if rng.random() < DESK_SHARE:
            c.channel = _weighted(rng, DESK_CHANNELS)
        else:
            c.channel = _weighted(rng, CRM_CHANNELS)
        c.queue = next((r["owner"] for r in self.reasons if r["id"] == c.reason_id), "quality")
        c.text = self.text.client(templates["client"], repeat)
        c.resolved, c.status_updates = self.resolution(c.created)

    def resolution(self, received: datetime) -> tuple[datetime | None, int]:
        """Resolution time: mostly within the SLA; after 14:00 often late (the planted breach)."""
        rng, cal = self.rng, self.calendar
        day = received.date()
        business = cal.is_business_day(day)
        early = business and received.time() < time(14, 0)
        roll = rng.random()
        if early and roll < 0.96:
            start = max(received, datetime.combine(day, time(9, 0)))  # office hours
            done = start + timedelta(minutes=int(self.np.integers(20, 180)))
            done = min(done, datetime.combine(day, time(19, 59)))
            return done, 0
        next_day = (
            cal.next_business_day(day)
            if business
            else (day if cal.is_business_day(day) else cal.next_business_day(day))
        )
        if not early and roll < 0.55:
            return datetime.combine(next_day, time(9, 0)) + timedelta(
                minutes=int(self.np.integers(0, 119))
            ), int(rng.random() < 0.3)
        if roll < 0.985:  # late, but within three business days
            extra = cal.next_business_day(next_day) if rng.random() < 0.6 else next_day
            moment = datetime.combine(extra, time(11, 0)) + timedelta(
                minutes=int(self.np.integers(1, 360))
            )
            updates = int(self.np.choice([0, 1, 2], p=[0.25, 0.5, 0.25]))
            return moment, updates
        far = next_day
        for _ in range(rng.randint(3, 6)):
            far = cal.next_business_day(far)
        return datetime.combine(far, time(15, 0)), int(rng.random() < 0.5)

    def generate(self) -> list[Contact]:
        volumes = self.weekly_volumes()
        contacts: list[Contact] = []
        last = self.weeks - 1
        for w, week_start in enumerate(self.week_starts):
            for reason in self.reason_ids:
                count = int(self.np.poisson(volumes[reason][w]))
                story = base_story(reason, w, self.weeks)
                contacts.extend(self.new_contact(reason, week_start, story) for _ in range(count))
            if w == last:  # the spike: an SMS provider outage for one operator
                extra = int(self.np.poisson(volumes[SPIKE_REASON][w] * 2.2))
                contacts.extend(
                    self.new_contact(SPIKE_REASON, week_start, "spike") for _ in range(extra)
                )
            if w >= self.weeks - 4:  # emerging topic outside the taxonomy
                growth = int(self.np.poisson(8 * (w - (self.weeks - 5)) ** 1.4))
                contacts.extend(
                    self.new_contact("unknown", week_start, "emerging") for _ in range(growth)
                )
            offtopic = int(self.np.poisson(12))
            contacts.extend(
                self.new_contact("unknown", week_start, "offtopic", kind="complaint")
                for _ in range(offtopic)
            )
        contacts.extend(self.repeats(contacts))
        end = datetime.combine(self.week_starts[-1] + timedelta(days=7), time(0, 0))
        contacts = [c for c in contacts if c.created < end]
        contacts.sort(key=lambda c: (c.created, c.kind, c.source_id))
        return contacts

    def repeats(self, contacts: list[Contact]) -> list[Contact]:
        follow_ups = []
        for c in contacts:
            if c.reason_id == "unknown" or (c.kind == "call" and c.outcome != "answered"):
                continue
            if self.rng.random() < REPEAT_PRONE.get(c.reason_id, REPEAT_DEFAULT):
                moment = c.created + timedelta(
                    days=int(self.np.integers(1, 6)), minutes=int(self.np.integers(0, 300))
                )
                moment = moment.replace(hour=min(max(moment.hour, 8), 20))
                reason = c.reason_id
                if self.rng.random() < 0.25:
                    reason = self.rng.choice(
                        ["callback_missed", "complaint_unanswered", "transferred_around"]
                    )
                follow_ups.append(
                    self.make_contact(
                        reason, moment, "repeat", customer=c.customer_id, repeat=True
                    )
                )
        return follow_ups


def _weighted(rng: random.Random, weights: dict[str, float]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]
