"""The Russian business calendar of the SLA: weekends, public holidays and the government's
transfer decrees (the ``holidays`` package), and the working day before a public holiday."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import TYPE_CHECKING

import holidays

if TYPE_CHECKING:
    from pipeline.closedloop.sla import SlaRule

COUNTRY = "RU"


def as_date(day: dt.date) -> dt.date:
    # datetime and pd.Timestamp are dates too, but hash differently from the plain date
    return day.date() if isinstance(day, dt.datetime) else day


class BusinessCalendar:
    """Monday to Friday minus Russian public holidays, with the government's transfers.

    Public holidays, transferred days off and working weekend days come from the ``holidays``
    package; ``extra_holidays`` and ``extra_workdays`` override it for transfers it lacks.
    """

    def __init__(
        self,
        years: Iterable[int],
        extra_holidays: Iterable[dt.date] = (),
        extra_workdays: Iterable[dt.date] = (),
    ) -> None:
        self.years = tuple(sorted(set(years)))
        self.extra_holidays = frozenset(as_date(d) for d in extra_holidays)
        self.extra_workdays = frozenset(as_date(d) for d in extra_workdays)
        both = sorted(self.extra_holidays & self.extra_workdays)
        if both:
            raise ValueError(
                f"даты {[d.isoformat() for d in both]} указаны и в extra_holidays, "
                "и в extra_workdays"
            )
        # the package loads further years on demand, so dates outside `years` stay correct
        self._public = holidays.country_holidays(COUNTRY, years=self.years)
        self._known: dict[dt.date, bool] = {}

    @classmethod
    def for_rule(cls, rule: SlaRule, years: Iterable[int]) -> BusinessCalendar:
        """Calendar with the rule's extra holidays and working days."""
        return cls(years, rule.extra_holidays, rule.extra_workdays)

    def is_business_day(self, day: dt.date) -> bool:
        day = as_date(day)
        known = self._known.get(day)
        if known is None:
            known = self._known[day] = self._lookup(day)
        return known

    def _lookup(self, day: dt.date) -> bool:
        if day in self.extra_workdays:
            return True
        if day in self.extra_holidays:
            return False
        public_holiday = day in self._public  # also loads day.year into the package calendar
        if day.weekday() >= 5:
            # a working Saturday of a transfer decree, in package versions that list them
            return day in getattr(self._public, "weekend_workdays", ())
        return not public_holiday

    def is_pre_holiday(self, day: dt.date) -> bool:
        """A business day followed by a public holiday of Labour Code art. 112 (not a day off
        moved by a transfer decree): art. 95 shortens it by one hour."""
        day = as_date(day)
        following = day + dt.timedelta(days=1)
        name = self._public.get(following, "")
        return (
            self.is_business_day(day)
            and bool(name)
            and not any(word in name for word in ("observed", "substituted", "Day off"))
        )

    def next_business_day(self, day: dt.date) -> dt.date:
        """The first business day strictly after ``day``."""
        day = as_date(day) + dt.timedelta(days=1)
        while not self.is_business_day(day):
            day += dt.timedelta(days=1)
        return day

    def first_business_day_on_or_after(self, day: dt.date) -> dt.date:
        day = as_date(day)
        return day if self.is_business_day(day) else self.next_business_day(day)

    def add_business_days(self, day: dt.date, n: int) -> dt.date:
        """The ``n``-th business day after ``day`` (``day`` itself when ``n`` is 0)."""
        if n < 0:
            raise ValueError(f"n = {n}: ожидается неотрицательное число рабочих дней")
        day = as_date(day)
        for _ in range(n):
            day = self.next_business_day(day)
        return day

    def business_days_between(self, start: dt.date, end: dt.date) -> int:
        """Number of business days in ``(start, end]``; 0 when ``end <= start``."""
        start, end = as_date(start), as_date(end)
        return sum(
            self.is_business_day(start + dt.timedelta(days=k))
            for k in range(1, (end - start).days + 1)
        )
