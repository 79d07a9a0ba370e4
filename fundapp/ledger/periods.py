"""Closing months. Months close in order, without gaps; the last closed month is the lock date."""

from __future__ import annotations

import calendar
import datetime as dt
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from fundapp.audit.services import AuditTag, record_event
from fundapp.dates import local_today
from fundapp.ledger.models import Period
from fundapp.ledger.services import LedgerError


def month_end(year: int, month: int) -> dt.date:
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def next_month(year: int, month: int) -> tuple[int, int]:
    return (year + 1, 1) if month == 12 else (year, month + 1)


def last_closed(session: Session) -> Period | None:
    return session.scalar(select(Period).order_by(Period.end_date.desc()).limit(1))


def next_closable(session: Session) -> tuple[int, int] | None:
    """The month that may be closed next, or None if the first close may pick any ended month."""
    latest = last_closed(session)
    return None if latest is None else next_month(latest.year, latest.month)


def close_period(session: Session, year: int, month: int, actor: Any | None, today: dt.date | None = None) -> Period:
    """Close one month. Refused for a month not yet ended, already closed, or out of order."""
    today = today or local_today()
    if not (1 <= month <= 12) or not (1900 <= year <= 9999):
        raise LedgerError(_("Choose a valid month."))
    end = month_end(year, month)
    if end >= today:
        raise LedgerError(_("%(month)s has not ended yet; it can be closed from %(date)s.",
                            month=f"{year}-{month:02d}", date=(end + dt.timedelta(days=1)).isoformat()))
    latest = last_closed(session)
    if latest is not None and end <= latest.end_date:
        raise LedgerError(_("%(month)s is already closed.", month=f"{year}-{month:02d}"))
    expected = next_closable(session)
    if expected is not None and (year, month) != expected:
        raise LedgerError(_("Close %(month)s first: months close in order.", month=f"{expected[0]}-{expected[1]:02d}"))
    period = Period(year=year, month=month, end_date=end, closed_by_id=getattr(actor, "id", None))
    session.add(period)
    session.flush()
    record_event(session, AuditTag.period_closed, actor, "period", period.id, after={"month": period.label})
    return period


def close_through(session: Session, year: int, month: int, actor: Any | None, today: dt.date | None = None) -> list[Period]:
    """Close every month up to and including (year, month), in order."""
    if not (1 <= month <= 12 and 1900 <= year <= 9999) or month_end(year, month) >= (today or local_today()):
        close_period(session, year, month, actor, today=today)  # raises why, before any earlier month is closed
    target = month_end(year, month)
    closed: list[Period] = []
    cursor = next_closable(session) or (year, month)
    while month_end(*cursor) <= target:
        closed.append(close_period(session, *cursor, actor, today=today))
        cursor = next_month(*cursor)
    if not closed:
        raise LedgerError(_("%(month)s is already closed.", month=f"{year}-{month:02d}"))
    return closed
