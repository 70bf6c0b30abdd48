"""Deterministic demo exports of a retail bank contact centre (``python -m pipeline synth``).

Writes what real systems export, in their different formats:

* ``calls/telephony_<week>.csv``: telephony, ``;``-separated Windows-1251, ``DD.MM.YYYY HH:MM``
  dates, agent notes in operator shorthand;
* ``complaints/crm_<week>.csv``: CRM requests (e-mail, web form, chat, branch), UTF-8 with BOM,
  ISO dates; each export repeats the previous Sunday, as overlapping exports do;
* ``complaints/servicedesk_<week>.jsonl``: service desk and social media, JSON lines, ISO 8601
  with offset;
* ``drivers.csv``: active customers per week.

Texts come from the phrase bank ``synth_phrases.yaml`` with client-voice noise (typos,
caps, emoji, no punctuation, Latin look-alikes, rambling backstory). The stories the reports must
reveal are planted on purpose and listed in ``STORIES``. The true reason of every contact goes to a
separate answer file, never an input of the pipeline, and the deliberately malformed rows to a
manifest, so tests can check classification and quarantine end to end.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import logging
import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from importlib import resources
from pathlib import Path

import holidays
import numpy as np
import yaml

from pipeline.io.weeks import week_of

logger = logging.getLogger(__name__)

STORIES = {
    "spike": "sms_code_missing triples in the last week: SMS from one mobile operator (МегаФон) "
    "do not arrive",
    "decline": "card_not_delivered is high until the owner changes the courier service "
    "(week of ACTION_WEEK_OFFSET), then falls",
    "rising": "fee_dispute rises steadily over all weeks (a tariff change nobody explained)",
    "pingpong": "the 'Кредиты' queue bounces callers: ≥ 2 transfers on about half of its calls",
    "drops": "branch lines drop or abandon calls at lunch (13:00-14:00) and after 17:00",
    "sla": "complaints received after 14:00 often miss the 11:00-next-business-day deadline",
    "repeats": "unresolved payment and service problems bring the same customer back within days",
    "emerging": "a topic outside the taxonomy (QR / Mir Pay payments) grows in the last weeks",
}
SPIKE_REASON = "sms_code_missing"
DECLINE_REASON = "card_not_delivered"
RISING_REASON = "fee_dispute"
ACTION_WEEK_OFFSET = 6  # the owner's action starts this many weeks before the last week
PINGPONG_QUEUE = "Кредиты"
BRANCH_QUEUES = ("Отделение №12 (Тверская)", "Отделение №7 (Ленинский)")
QUEUE_BY_OWNER = {
    "digital": "Дистанционное обслуживание",
    "cards": "Карты",
    "payments": "Платежи и переводы",
    "antifraud": "Безопасность",
    "lending": PINGPONG_QUEUE,
    "deposits": "Вклады",
    "sales": "Продажи",
}
GENERAL_QUEUE = "Общая линия"
REPEAT_PRONE = {
    "transfer_not_arrived": 0.30,
    "callback_missed": 0.35,
    "complaint_unanswered": 0.35,
    "unknown_charge": 0.25,
    "card_blocked": 0.20,
    "transferred_around": 0.25,
}
REPEAT_DEFAULT = 0.04
CALL_SHARE = {
    "branch_unreachable": 0.9,
    "complaint_unanswered": 0.25,
    "loan_insurance": 0.35,
    "statement_request": 0.4,
    "transferred_around": 0.5,
}
CALL_SHARE_DEFAULT = 0.62
WEEKDAY_WEIGHT = np.array([1.25, 1.1, 1.05, 1.0, 0.95, 0.45, 0.35])
CRM_CHANNELS = {"E-mail": 0.35, "Web-форма": 0.3, "Чат в приложении": 0.25, "Отделение": 0.1}
DESK_CHANNELS = {"Service Desk": 0.55, "ВКонтакте": 0.25, "Telegram": 0.2}
DESK_SHARE = 0.22
EMOJI = ("😡", "😤", "🙏", "😢", "🤬", "👎", "😭", "🤷‍♀️", "❗", "😠")
MISSPELLINGS = {
    "здравствуйте": "здраствуйте",
    "пожалуйста": "пожалуйсто",
    "деньги": "денги",
    "вообще": "вобще",
    "потому что": "потомучто",
    "сегодня": "седня",
    "что-то": "чтото",
    "кредит": "кридит",
    "приложение": "преложение",
    "заблокировали": "заблакировали",
    "сейчас": "щас",
    "звонил": "звонил",
    "карточку": "карточьку",
    "позвонить": "пазвонить",
    "проблема": "праблема",
}
LOOKALIKES = {"а": "a", "е": "e", "о": "o", "р": "p", "с": "c", "х": "x", "у": "y"}
AGENT_SUFFIXES = (
    "обр. зарег.",
    "консульт. предоставлена",
    "перевод на 2Л",
    "кл. недоволен",
    "инфо предоставлена",
    "заявка создана",
    "",
)
CALL_HEADER = [
    "ИД звонка",
    "Начало",
    "Окончание",
    "Ожидание, с",
    "Очередь",
    "Результат",
    "Переводов",
    "Маршрут",
    "Клиент",
    "Комментарий оператора",
]
CRM_HEADER = [
    "request_id",
    "received_at",
    "channel",
    "customer_id",
    "text",
    "department",
    "resolved_at",
    "status",
    "status_updates",
]
OUTCOME_LABEL = {"answered": "Отвечен", "abandoned": "Пропущен", "dropped": "Разъединен"}


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


def load_phrases() -> dict:
    text = resources.files(__package__).joinpath("synth_phrases.yaml").read_text("utf-8")
    return yaml.safe_load(text)


def load_reasons(taxonomy_path: Path) -> list[dict]:
    """Active, non-reserved reasons (the generator only needs ids and owners)."""
    data = yaml.safe_load(Path(taxonomy_path).read_text(encoding="utf-8"))
    return [r for r in data["reasons"] if not r.get("reserved") and not r.get("retired")]


class TextMaker:
    """Fills phrase-bank templates and adds the noise of real client and agent texts."""

    def __init__(self, phrases: dict, rng: random.Random):
        self.phrases = phrases
        self.rng = rng

    def fill(self, template: str) -> str:
        slots = self.phrases["slots"]
        out = template
        for name, values in slots.items():
            token = "{" + name + "}"
            while token in out:
                out = out.replace(token, self.rng.choice(values), 1)
        return out

    def client(self, templates: list[str], repeat: bool = False) -> str:
        rng = self.rng
        body = self.fill(rng.choice(templates))
        parts = []
        roll = rng.random()
        if roll < 0.3:  # rambling
            parts.append(rng.choice(self.phrases["openers"]))
            parts.extend(rng.sample(self.phrases["backstory"], k=rng.randint(1, 3)))
            parts.append(body)
            if repeat:
                parts.append("Обращаюсь уже не первый раз!")
            parts.append(rng.choice(self.phrases["closers"]))
        elif roll < 0.55:  # bare one-liner
            parts.append(body)
        else:
            if rng.random() < 0.6:
                parts.append(rng.choice(self.phrases["openers"]))
            if repeat:
                parts.append(rng.choice(["Пишу повторно.", "Уже обращался, ничего не решено."]))
            parts.append(body)
            if rng.random() < 0.5:
                parts.append(rng.choice(self.phrases["closers"]))
        text = " ".join(p.strip() for p in parts if p.strip())
        return self.noise(text)

    def noise(self, text: str) -> str:
        rng = self.rng
        if rng.random() < 0.35:
            for right, wrong in MISSPELLINGS.items():
                if right in text.lower() and rng.random() < 0.6:
                    text = text.replace(right, wrong).replace(
                        right.capitalize(), wrong.capitalize()
                    )
        if rng.random() < 0.3:
            text = self.typo(text)
        if rng.random() < 0.5:
            text = text.replace("ё", "е")
        if rng.random() < 0.25:
            text = "".join(ch for ch in text if ch not in ".,!?;:").lower()
        if rng.random() < 0.07:
            text = text.upper()
        elif rng.random() < 0.1:
            words = text.split()
            if words:
                i = rng.randrange(len(words))
                words[i] = words[i].upper()
                text = " ".join(words)
        if rng.random() < 0.04:
            text = "".join(
                LOOKALIKES[ch] if ch in LOOKALIKES and rng.random() < 0.3 else ch for ch in text
            )
        if rng.random() < 0.12:
            text += " " + "".join(rng.choice(EMOJI) for _ in range(rng.randint(1, 3)))
        if rng.random() < 0.08:
            text += rng.choice(["!!!", "!!", "???", "..."])
        if rng.random() < 0.03:
            text += rng.choice(
                [
                    " Мой телефон +7 916 {:03d}-{:02d}-{:02d}.".format(  # noqa: UP032
                        rng.randrange(1000), rng.randrange(100), rng.randrange(100)
                    ),
                    " Карта 2200 7001 {:04d} {:04d}.".format(  # noqa: UP032
                        rng.randrange(10000), rng.randrange(10000)
                    ),
                    " Пишите на почту ivan.{}@example.ru".format(rng.randrange(1000)),  # noqa: UP032
                ]
            )
        return text

    def typo(self, text: str) -> str:
        rng = self.rng
        words = text.split(" ")
        candidates = [i for i, w in enumerate(words) if len(w) >= 6 and w.isalpha()]
        for i in rng.sample(candidates, k=min(len(candidates), rng.randint(1, 2))):
            w = words[i]
            j = rng.randrange(1, len(w) - 1)
            op = rng.random()
            if op < 0.4:
                w = w[:j] + w[j + 1 :]  # dropped letter
            elif op < 0.7:
                w = w[:j] + w[j + 1] + w[j] + w[j + 2 :]  # swapped letters
            else:
                w = w[:j] + w[j] + w[j:]  # doubled letter
            words[i] = w
        return " ".join(words)

    def agent(self, templates: list[str], repeat: bool = False) -> str:
        rng = self.rng
        text = self.fill(rng.choice(templates))
        if repeat and rng.random() < 0.7:
            text = rng.choice(["повторное обр., ", "кл. звонит повторно, ", "повторно: "]) + text
        suffix = rng.choice(AGENT_SUFFIXES)
        if suffix and rng.random() < 0.5:
            text = f"{text}, {suffix}"
        if rng.random() < 0.15:
            text = self.typo(text)
        return text


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
                for w in range(action, self.weeks):
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
                story = _base_story(reason, w, self.weeks)
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


def _base_story(reason: str, week: int, weeks: int) -> str:
    if reason == DECLINE_REASON and week >= weeks - ACTION_WEEK_OFFSET:
        return "decline"
    if reason == RISING_REASON:
        return "rising"
    return "base"


# --- writing -----------------------------------------------------------------------------------


def _local(moment: datetime | None, fmt: str) -> str:
    return "" if moment is None else moment.strftime(fmt)


def call_rows(contacts: list[Contact]) -> list[list[str]]:
    rows = []
    for c in contacts:
        end = c.created + timedelta(seconds=c.wait_s + c.duration_s)
        rows.append(
            [
                c.source_id,
                _local(c.created, "%d.%m.%Y %H:%M"),
                _local(end, "%d.%m.%Y %H:%M"),
                str(c.wait_s),
                c.queue,
                OUTCOME_LABEL[c.outcome],
                str(c.transfers),
                c.route,
                c.customer_id,
                c.text,
            ]
        )
    return rows


def _known(resolved: datetime | None, exported: datetime) -> datetime | None:
    """A resolution after the export moment is not in that export yet."""
    return resolved if resolved is not None and resolved < exported else None


def crm_rows(
    contacts: list[Contact], titles: dict[str, str], exported: datetime
) -> list[list[str]]:
    rows = []
    for c in contacts:
        resolved = _known(c.resolved, exported)
        rows.append(
            [
                c.source_id,
                _local(c.created, "%Y-%m-%d %H:%M"),
                c.channel,
                c.customer_id,
                c.text,
                titles.get(c.queue, c.queue),
                _local(resolved, "%Y-%m-%d %H:%M"),
                "Закрыто" if resolved else "В работе",
                str(c.status_updates),
            ]
        )
    return rows


def desk_lines(contacts: list[Contact], titles: dict[str, str], exported: datetime) -> list[str]:
    lines = []
    for c in contacts:
        resolved = _known(c.resolved, exported)
        item = {
            "ticket": c.source_id,
            "created": c.created.strftime("%Y-%m-%dT%H:%M:%S+03:00"),
            "source": c.channel,
            "client": c.customer_id,
            "description": c.text,
            "group": titles.get(c.queue, c.queue),
            "closed": resolved.strftime("%Y-%m-%dT%H:%M:%S+03:00") if resolved else None,
            "state": "closed" if resolved else "open",
            "updates": c.status_updates,
        }
        lines.append(json.dumps(item, ensure_ascii=False))
    return lines


def _csv_text(header: list[str], rows: list[list[str]], delimiter: str) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def plant_malformed(files: dict[str, dict], rng: random.Random) -> list[dict]:
    """Break a handful of rows the way real exports break; returns the manifest."""
    manifest = []
    calls = sorted(k for k in files if k.startswith("calls/"))
    crm = sorted(k for k in files if k.startswith("complaints/crm_"))
    desk = sorted(k for k in files if k.startswith("complaints/servicedesk_"))

    def breaks(name: str, index: int, mutate, code: str) -> None:
        rows = files[name]["rows"]
        row = rows[index]
        rows[index] = mutate(row if isinstance(row, str) else list(row))
        # file line: CSV files have a header line, JSON lines do not
        line = index + (1 if files[name]["kind"] == "desk" else 2)
        manifest.append({"file": name, "line": line, "reason_code": code})

    breaks(calls[2], 40, lambda r: r[:1] + ["31.02.2026 25:61"] + r[2:], "bad_date")
    breaks(calls[5], 100, lambda r: [""] + r[1:], "missing_id")
    breaks(
        calls[8], 7, lambda r: ["---- выгрузка прервана, повторите запрос ----"], "bad_field_count"
    )
    breaks(calls[9], 55, lambda r: r[:6] + ["много"] + r[7:], "bad_number")
    breaks(crm[3], 12, lambda r: r[:4] + [""] + r[5:], "empty_text")
    breaks(crm[6], 30, lambda r: r[:2] + ["Голубиная почта"] + r[3:], "unknown_channel")
    breaks(crm[10], 3, lambda r: r[:1] + ["2026-13-45 10:00"] + r[2:], "bad_date")
    breaks(desk[4], 9, lambda r: r[: len(r) // 2], "bad_json")
    breaks(desk[7], 2, lambda r: '["не", "объект"]', "bad_json")
    return manifest


def render_files(
    contacts: list[Contact],
    week_starts: list[date],
    titles: dict[str, str],
    clean: bool,
    rng: random.Random,
) -> tuple[dict[str, bytes], list[dict]]:
    """Split contacts into weekly exports per source system; returns file name -> bytes."""
    files: dict[str, dict] = {}
    for i, start in enumerate(week_starts):
        end = start + timedelta(days=7)
        label = week_of(start)
        in_week = [c for c in contacts if start <= c.created.date() < end]
        calls = [c for c in in_week if c.kind == "call"]
        complaints = [c for c in in_week if c.kind == "complaint"]
        desk = [c for c in complaints if c.channel in DESK_CHANNELS]
        crm = [c for c in complaints if c.channel not in DESK_CHANNELS]
        if i > 0 and not clean:  # overlapping export: repeats the previous Sunday
            sunday = start - timedelta(days=1)
            crm = [
                c
                for c in contacts
                if c.kind == "complaint"
                and c.channel not in DESK_CHANNELS
                and c.created.date() == sunday
            ] + crm
        files[f"calls/telephony_{label}.csv"] = {"kind": "calls", "rows": call_rows(calls)}
        exported = datetime.combine(end, time(0, 0))
        files[f"complaints/crm_{label}.csv"] = {
            "kind": "crm",
            "rows": crm_rows(crm, titles, exported),
        }
        files[f"complaints/servicedesk_{label}.jsonl"] = {
            "kind": "desk",
            "rows": desk_lines(desk, titles, exported),
        }
    manifest = [] if clean else plant_malformed(files, rng)
    out = {}
    for name, spec in files.items():
        if spec["kind"] == "calls":
            out[name] = _csv_text(CALL_HEADER, spec["rows"], ";").encode(
                "cp1251", errors="replace"
            )
        elif spec["kind"] == "crm":
            out[name] = b"\xef\xbb\xbf" + _csv_text(CRM_HEADER, spec["rows"], ",").encode("utf-8")
        else:
            out[name] = ("\n".join(spec["rows"]) + "\n").encode("utf-8")
    return out, manifest


def drivers_csv(week_starts: list[date], rng: random.Random) -> bytes:
    lines = ["week,customers"]
    customers = 1_180_000
    for start in week_starts:
        customers += rng.randint(1500, 4500)
        lines.append(f"{week_of(start)},{customers}")
    return ("\n".join(lines) + "\n").encode("utf-8")


def answers_csv(contacts: list[Contact]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["contact_id", "reason_id", "story", "has_text"])
    for c in contacts:
        writer.writerow([c.contact_id, c.reason_id, c.story, int(bool(c.text))])
    return buffer.getvalue().encode("utf-8")


def generate_files(
    taxonomy_path: Path, weeks: int, contacts: int, seed: int, end: date, clean: bool = False
) -> dict[str, bytes]:
    """All demo files as name -> bytes (pure: no file is written)."""
    taxonomy = yaml.safe_load(Path(taxonomy_path).read_text(encoding="utf-8"))
    titles = {o["id"]: o["title"] for o in taxonomy.get("owners", [])}
    gen = Generator(load_reasons(taxonomy_path), load_phrases(), weeks, contacts, seed, end)
    generated = gen.generate()
    raw, manifest = render_files(generated, gen.week_starts, titles, clean, gen.rng)
    raw["drivers.csv"] = drivers_csv(gen.week_starts, gen.rng)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, ["file", "line", "reason_code"], lineterminator="\n")
    writer.writeheader()
    writer.writerows(manifest)
    return {
        **{f"raw/{name}": data for name, data in raw.items()},
        "answers": answers_csv(generated),
        "malformed": buffer.getvalue().encode("utf-8"),
    }


def main(
    out_dir: Path,
    answers_path: Path,
    taxonomy_path: Path,
    weeks: int,
    contacts: int,
    seed: int,
    end: str,
    clean: bool = False,
) -> None:
    files = generate_files(taxonomy_path, weeks, contacts, seed, date.fromisoformat(end), clean)
    for sub in ("calls", "complaints"):
        for old in (out_dir / sub).glob("*"):
            if old.is_file() and not old.name.startswith("."):
                old.unlink()
    written = 0
    for name, data in files.items():
        if name.startswith("raw/"):
            path = out_dir / name.removeprefix("raw/")
        elif name == "answers":
            path = answers_path
        else:
            path = answers_path.with_name("malformed_rows.csv")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        written += 1
    logger.info("synth: wrote %d files to %s and answers to %s", written, out_dir, answers_path)


def cli(args: argparse.Namespace) -> None:
    main(
        out_dir=args.out,
        answers_path=args.answers,
        taxonomy_path=args.taxonomy,
        weeks=args.weeks,
        contacts=args.contacts,
        seed=args.seed,
        end=args.end,
        clean=args.clean,
    )
