"""CRM hand-off events: transfers of a contact from the first line to the department that owns
its reason, promised call-backs and what became of them, as the CRM exports them
(``handoffs/crm_events_<week>.csv``, UTF-8 with BOM, ``,``-separated, ``DD.MM.YYYY HH:MM``).

A transfer is picked up by the receiving department's next event on the contact; a promised
call-back is kept by a ``Звонок выполнен``. Most are on time, some late, a few lost; the planted
stories (``stories.STORIES``: ``handoff_lost``, ``handoff_rate``) change exactly these shares.
The events use their own random generator, so the contact exports stay byte-identical."""

from __future__ import annotations

import bisect
import csv
import io
import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from pipeline.io.weeks import week_of
from pipeline.tools.synth.contacts import BusinessCalendar, Contact
from pipeline.tools.synth.stories import (
    HANDOFF_LATE_DEFAULT,
    HANDOFF_LOST_DEFAULT,
    HANDOFF_RATE,
    HANDOFF_RATE_DEFAULT,
    LOST_LATE_WEEKS,
    LOST_OWNER,
    LOST_PROMISE_SHARE,
    LOST_PROMISE_SHARE_OWNER,
    PROMISE_SHARE,
)

HEADER = [
    "ИД события",
    "Номер обращения",
    "Время события",
    "Тип события",
    "Из отдела",
    "В отдел",
    "Обещано на",
]
ASSIGNED, TRANSFERRED, PROMISED, CALLED = (
    "Назначено",
    "Передано",
    "Обещан звонок",
    "Звонок выполнен",
)
ESCALATED, UPDATED, CLOSED = "Эскалация", "Обновление статуса", "Закрыто"
EVENT_TYPES = (ASSIGNED, TRANSFERRED, PROMISED, CALLED, ESCALATED, UPDATED, CLOSED)
BAD_TYPE = "Перезвонить позже"  # not a CRM event type: a planted bad row
FIRST_LINE = "contact_center"
ESCALATION_OWNER = "quality"
REPEAT_WINDOW = timedelta(days=5)  # a client who comes back within this is a "came back" story
BAD_EVERY = 130  # one deliberately bad row per this many event rows of a file
DATE_FORMAT = "%d.%m.%Y %H:%M"


@dataclass
class Event:
    moment: datetime
    source_id: str
    kind: str
    sender: str
    receiver: str = ""
    promised: datetime | None = None
    bad: str = ""  # the manifest reason code of a planted bad row

    def row(self, event_id: str) -> list[str]:
        promised = self.promised.strftime(DATE_FORMAT) if self.promised else ""
        moment = self.moment.strftime(DATE_FORMAT)
        return [event_id, self.source_id, moment, self.kind, self.sender, self.receiver, promised]


class HandoffMaker:
    def __init__(
        self,
        contacts: list[Contact],
        week_starts: list[date],
        titles: dict[str, str],
        owners: dict[str, str],
        calendar: BusinessCalendar,
        seed: int,
    ):
        self.contacts = contacts
        self.week_starts = week_starts
        self.titles = titles
        self.owners = owners
        self.calendar = calendar
        self.rng = random.Random(f"handoffs:{seed}")
        self.end = datetime.combine(week_starts[-1] + timedelta(days=7), time(0, 0))
        self.first_line = titles.get(FIRST_LINE, "Контакт-центр")

    # --- time ----------------------------------------------------------------------------------

    def business_day(self, day: date, n: int) -> date:
        """The n-th business day after ``day`` (n = 0: ``day`` itself if a business day)."""
        if n == 0 and self.calendar.is_business_day(day):
            return day
        for _ in range(max(n, 1)):
            day = self.calendar.next_business_day(day)
        return day

    def office(self, day: date, after: datetime) -> datetime:
        """A moment of office hours (9:00-18:59) on ``day``, later than ``after``."""
        moment = datetime.combine(day, time(9, 0)) + timedelta(minutes=self.rng.randint(0, 599))
        if moment <= after:
            moment = after + timedelta(minutes=self.rng.randint(5, 40))
        return moment

    def fate(self, lost: float, late: float) -> str:
        roll = self.rng.random()
        return "lost" if roll < lost else "late" if roll < lost + late else "on_time"

    # --- flows ---------------------------------------------------------------------------------

    def department(self, reason: str) -> str:
        owner = self.owners.get(reason, ESCALATION_OWNER)
        owner = ESCALATION_OWNER if owner == FIRST_LINE else owner
        return self.titles.get(owner, owner)

    def pickup_moment(self, sent: datetime, fate: str) -> datetime | None:
        day = sent.date()
        if fate == "on_time":
            same_day = self.calendar.is_business_day(day) and sent.hour < 17
            pick = self.business_day(day, 0 if same_day and self.rng.random() < 0.6 else 1)
            moment = self.office(pick, sent)
            deadline = datetime.combine(self.business_day(day, 1) + timedelta(days=1), time(0))
            return moment if moment < deadline else deadline - timedelta(minutes=1)
        if fate == "late":
            return self.office(self.business_day(day, self.rng.choice([2, 3])), sent)
        if self.rng.random() < 0.8:
            return None  # lost: nobody ever takes it
        return self.office(self.business_day(day, self.rng.randint(4, 6)), sent)

    def work(self, c: Contact, dept: str, start: datetime, direct_close: float) -> list[Event]:
        """The department works the contact from ``start``: status updates, then a close."""
        events = []
        if self.rng.random() >= direct_close:
            events.append(Event(start, c.source_id, UPDATED, dept))
            if self.rng.random() < 0.3:
                return events  # still in work
            start = self.office(self.business_day(start.date(), self.rng.randint(0, 2)), start)
        events.append(Event(start, c.source_id, CLOSED, dept))
        return events

    def transfer_flow(self, c: Contact, dept: str) -> list[Event]:
        sent = c.created + timedelta(minutes=c.duration_s // 60 + self.rng.randint(2, 25))
        kind = TRANSFERRED if c.kind == "call" else ASSIGNED
        if self.rng.random() < 0.03:
            kind = ESCALATED
        events = [Event(sent, c.source_id, kind, self.first_line, dept)]
        picked = self.pickup_moment(sent, self.fate(HANDOFF_LOST_DEFAULT, HANDOFF_LATE_DEFAULT))
        if picked is None:
            return events
        roll = self.rng.random()
        if roll < 0.06:  # sent back to the first line, which then answers the client itself
            events.append(Event(picked, c.source_id, TRANSFERRED, dept, self.first_line))
            back = self.pickup_moment(picked, self.fate(0.01, 0.05))
            if back is not None:
                events += self.work(c, self.first_line, back, 0.5)
            return events
        quality = self.titles.get(ESCALATION_OWNER, ESCALATION_OWNER)
        if roll < 0.1 and dept != quality:
            events.append(Event(picked, c.source_id, UPDATED, dept))
            up = self.office(self.business_day(picked.date(), self.rng.randint(0, 1)), picked)
            events.append(Event(up, c.source_id, ESCALATED, dept, quality))
            taken = self.pickup_moment(up, self.fate(0.02, 0.08))
            if taken is not None:
                events += self.work(c, quality, taken, 0.2)
            return events
        return events + self.work(c, dept, picked, 0.4)

    def promise_time(self, c: Contact) -> datetime:
        day = self.business_day(c.created.date(), 1 if self.rng.random() < 0.85 else 2)
        return datetime.combine(day, time(10, 0)) + timedelta(minutes=30 * self.rng.randint(0, 14))

    def promise_flow(self, c: Contact, dept: str, promised: datetime, fate: str) -> list[Event]:
        sent = c.created + timedelta(minutes=c.duration_s // 60 + self.rng.randint(2, 15))
        events = [Event(sent, c.source_id, PROMISED, self.first_line, dept, promised)]
        if fate == "on_time":
            called = promised - timedelta(minutes=self.rng.choice([0, 0, 2, 5, 8, 10, 15]))
        elif fate == "late" and self.rng.random() < 0.8:
            called = promised + timedelta(minutes=self.rng.randint(1, 60))
        elif fate == "late":
            called = self.office(self.business_day(promised.date(), 1), promised)
        elif self.rng.random() < 0.15:
            called = self.office(self.business_day(promised.date(), self.rng.randint(4, 5)), sent)
        else:
            return events
        events.append(Event(called, c.source_id, CALLED, dept))
        if self.rng.random() < 0.7:
            events.append(
                Event(
                    called + timedelta(minutes=self.rng.randint(3, 40)), c.source_id, CLOSED, dept
                )
            )
        return events

    # --- who is handed over --------------------------------------------------------------------

    def came_back(self) -> set[str]:
        """Contacts whose customer contacts the bank again within REPEAT_WINDOW."""
        by_customer: dict[str, list[datetime]] = {}
        for c in self.contacts:
            by_customer.setdefault(c.customer_id, []).append(c.created)
        for moments in by_customer.values():
            moments.sort()
        found = set()
        for c in self.contacts:
            moments = by_customer[c.customer_id]
            later = bisect.bisect_right(moments, c.created)
            if later < len(moments) and moments[later] <= c.created + REPEAT_WINDOW:
                found.add(c.source_id)
        return found

    def lost_share(self, week: int) -> float:
        early, ramp, late = LOST_PROMISE_SHARE
        weeks = len(self.week_starts)
        if week >= weeks - LOST_LATE_WEEKS:
            return late
        return ramp if week == weeks - LOST_LATE_WEEKS - 1 else early

    def lost_promises(self, promises: list[tuple[Contact, int]]) -> set[str]:
        """The planted story: per week, this share of the department's promises is lost,
        preferably those whose client came back before anyone called."""
        back = self.came_back()
        lost = set()
        for week in range(len(self.week_starts)):
            ids = [c.source_id for c, w in promises if w == week]
            count = int(self.lost_share(week) * len(ids) + self.rng.random())
            returning = [i for i in ids if i in back]
            others = [i for i in ids if i not in back]
            self.rng.shuffle(returning)
            self.rng.shuffle(others)
            lost.update((returning + others)[:count])
        return lost

    def plan(self) -> tuple[list[tuple[Contact, str, str]], list[tuple[Contact, int]]]:
        """Who is handed over, where, and how: (contact, department, flow), and the promises of
        the department that loses them, with their week."""
        plans, lossy = [], []
        lossy_title = self.titles.get(LOST_OWNER, LOST_OWNER)
        for c in self.contacts:
            if c.reason_id == "unknown" or (c.kind == "call" and c.outcome != "answered"):
                continue
            if self.rng.random() >= HANDOFF_RATE.get(c.reason_id, HANDOFF_RATE_DEFAULT):
                continue
            dept = self.department(c.reason_id)
            share = LOST_PROMISE_SHARE_OWNER if dept == lossy_title else PROMISE_SHARE
            flow = "promise" if self.rng.random() < share else "transfer"
            plans.append((c, dept, flow))
            if flow == "promise" and dept == lossy_title:
                week = (c.created.date() - self.week_starts[0]).days // 7
                lossy.append((c, week))
        return plans, lossy

    def events(self) -> list[Event]:
        plans, lossy = self.plan()
        lost = self.lost_promises(lossy)
        lossy_ids = {c.source_id for c, _ in lossy}
        events = []
        for c, dept, flow in plans:
            if flow == "transfer":
                events += self.transfer_flow(c, dept)
                continue
            if c.source_id in lossy_ids:
                fate = "lost" if c.source_id in lost else self.fate(0.0, HANDOFF_LATE_DEFAULT)
            else:
                fate = self.fate(HANDOFF_LOST_DEFAULT, HANDOFF_LATE_DEFAULT)
            events += self.promise_flow(c, dept, self.promise_time(c), fate)
        return [e for e in events if e.moment < self.end]

    # --- deliberately bad rows -----------------------------------------------------------------

    def bad_rows(self, week_events: list[Event], start: date, index: int) -> list[Event]:
        """About one bad row per BAD_EVERY rows of a week's file (none in a small file)."""
        bad = []
        week_start = datetime.combine(start, time(0, 0))
        quiet = [
            c
            for c in self.contacts
            if c.created.date() > start and c.created < week_start + timedelta(days=7)
        ]
        for k in range(len(week_events) // BAD_EVERY):
            code = ("unknown_contact", "event_before_contact", "unknown_event_type")[
                (index + k) % 3
            ]
            if code == "unknown_contact":
                moment = self.office(start + timedelta(days=self.rng.randint(0, 4)), week_start)
                number = f"CL-{9_900_000 + index * 100 + k:07d}"
                bad.append(
                    Event(moment, number, UPDATED, self.department("card_reissue"), bad=code)
                )
            elif code == "event_before_contact" and quiet:
                c = self.rng.choice(quiet)
                moment = max(c.created - timedelta(hours=self.rng.randint(2, 20)), week_start)
                bad.append(
                    Event(moment, c.source_id, UPDATED, self.department(c.reason_id), bad=code)
                )
            else:
                e = self.rng.choice(week_events)
                moment = e.moment + timedelta(minutes=self.rng.randint(1, 30))
                moment = min(moment, week_start + timedelta(days=7, minutes=-1))
                bad.append(
                    Event(moment, e.source_id, BAD_TYPE, e.sender, bad="unknown_event_type")
                )
        return bad


def _csv_bytes(rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=",", lineterminator="\r\n")
    writer.writerow(HEADER)
    writer.writerows(rows)
    return b"\xef\xbb\xbf" + buffer.getvalue().encode("utf-8")


def handoff_files(
    contacts: list[Contact],
    week_starts: list[date],
    titles: dict[str, str],
    owners: dict[str, str],
    calendar: BusinessCalendar,
    seed: int,
    clean: bool,
) -> tuple[dict[str, bytes], list[dict]]:
    """The weekly event exports (name -> bytes) and the manifest of their planted bad rows."""
    maker = HandoffMaker(contacts, week_starts, titles, owners, calendar, seed)
    events = maker.events()
    by_week: dict[date, list[Event]] = {start: [] for start in week_starts}
    for e in events:
        by_week[e.moment.date() - timedelta(days=e.moment.weekday())].append(e)
    if not clean:
        for index, start in enumerate(week_starts):
            by_week[start] += maker.bad_rows(by_week[start], start, index)
    order = sorted(
        (e for week in by_week.values() for e in week),
        key=lambda e: (
            e.moment,
            e.source_id,
            EVENT_TYPES.index(e.kind) if e.kind in EVENT_TYPES else 9,
        ),
    )
    ids = {id(e): f"EV-{n:07d}" for n, e in enumerate(order, start=1)}
    files, manifest = {}, []
    for start in week_starts:
        name = f"handoffs/crm_events_{week_of(start)}.csv"
        week = sorted(by_week[start], key=lambda e: ids[id(e)])
        files[name] = _csv_bytes([e.row(ids[id(e)]) for e in week])
        manifest += [
            {"file": name, "line": line, "reason_code": e.bad}
            for line, e in enumerate(week, start=2)
            if e.bad
        ]
    return files, manifest
