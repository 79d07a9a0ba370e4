"""Reporting periods (pure date arithmetic): months, quarters and years, named by their first day."""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterator

MONTHS = {"monthly": 1, "quarterly": 3, "yearly": 12}


def _add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def period_start(day: dt.date, periodicity: str) -> dt.date:
    """The first day of the period that contains `day`."""
    size = MONTHS[periodicity]
    month = (day.month - 1) // size * size + 1
    return dt.date(day.year, month, 1)


def is_period_start(day: dt.date, periodicity: str) -> bool:
    return period_start(day, periodicity) == day


def next_start(start: dt.date, periodicity: str) -> dt.date:
    return _add_months(period_start(start, periodicity), MONTHS[periodicity])


def period_end(start: dt.date, periodicity: str) -> dt.date:
    return next_start(start, periodicity) - dt.timedelta(days=1)


def is_period_end(day: dt.date, periodicity: str) -> bool:
    return day == period_end(day, periodicity)


def period_label(start: dt.date, periodicity: str) -> str:
    """`2026-03` (a month), `2026-Q1` (a quarter) or `2026` (a year)."""
    if periodicity == "yearly":
        return f"{start.year}"
    if periodicity == "quarterly":
        return f"{start.year}-Q{(start.month - 1) // 3 + 1}"
    return f"{start.year}-{start.month:02d}"


def periods_from(first: dt.date, last_day: dt.date, periodicity: str) -> Iterator[tuple[dt.date, dt.date]]:
    """(start, end) of every period from the one starting at `first` while it starts on or before `last_day`."""
    start = period_start(first, periodicity)
    while start <= last_day:
        yield start, period_end(start, periodicity)
        start = next_start(start, periodicity)


def month_end(year: int, month: int) -> dt.date:
    return dt.date(year, month, calendar.monthrange(year, month)[1])
