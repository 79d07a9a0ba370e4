"""Builders for volunteer and time-bank tests. Each takes a session and flushes; none commits."""

from __future__ import annotations

import datetime as dt
import itertools

from fundapp.volunteers.models import Volunteer

_counter = itertools.count(1)


def make_volunteer(session, name: str | None = None, **values) -> Volunteer:
    volunteer = Volunteer(name=name or f"志愿者{next(_counter)}", **values)
    session.add(volunteer)
    session.flush()
    return volunteer


def make_activity(session, *, title: str = "社区助老探访", shifts: int = 1, capacity: int = 10,
                  start: dt.datetime | None = None, **values):
    """An open activity with `shifts` consecutive two-hour shifts starting at `start` (default 2026-03-14 09:00 UTC)."""

    from fundapp.volunteers.models import Activity, Shift

    activity = Activity(title=title, **values)
    session.add(activity)
    session.flush()
    start = start or dt.datetime(2026, 3, 14, 9, 0, tzinfo=dt.UTC)
    for n in range(shifts):
        session.add(Shift(activity_id=activity.id, starts_at=start + dt.timedelta(hours=2 * n),
                          ends_at=start + dt.timedelta(hours=2 * n + 2), capacity=capacity))
    session.flush()
    session.refresh(activity)
    return activity
