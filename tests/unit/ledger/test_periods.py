"""Closing months: in order, without gaps, only once ended; the lock date stops posting, not correcting."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from sqlalchemy import func, select

from fundapp.audit.models import AuditEvent
from fundapp.dates import local_today
from fundapp.ledger.invariants import verify_ledger
from fundapp.ledger.models import JournalEntry, Period
from fundapp.ledger.periods import close_period, close_through, month_end, next_closable
from fundapp.ledger.queries import fund_net_assets
from fundapp.ledger.services import LedgerError, PeriodClosed, lock_date, reverse_entry
from tests.factories import make_fund, make_user, post

MAY_15 = dt.date(2024, 5, 15)


def closed_months(session) -> list[str]:
    return [p.label for p in session.scalars(select(Period).order_by(Period.end_date))]


def entry_count(session) -> int:
    return session.scalar(select(func.count()).select_from(JournalEntry))


def test_month_end():
    assert month_end(2024, 2) == dt.date(2024, 2, 29)
    assert month_end(2023, 2) == dt.date(2023, 2, 28)
    assert month_end(2024, 12) == dt.date(2024, 12, 31)


def test_months_close_in_order_without_gaps(session):
    assert next_closable(session) is None and lock_date(session) is None
    close_period(session, 2024, 1, None, today=MAY_15)  # the first close may pick any ended month
    assert next_closable(session) == (2024, 2)
    with pytest.raises(LedgerError, match="Close 2024-02 first"):
        close_period(session, 2024, 3, None, today=MAY_15)
    close_period(session, 2024, 2, None, today=MAY_15)
    close_period(session, 2024, 3, None, today=MAY_15)
    assert closed_months(session) == ["2024-01", "2024-02", "2024-03"]
    assert lock_date(session) == dt.date(2024, 3, 31)


@pytest.mark.parametrize("year, month", [(2024, 1), (2023, 12), (2023, 6)])
def test_a_closed_or_earlier_month_cannot_be_closed(session, year, month):
    close_period(session, 2024, 1, None, today=MAY_15)
    with pytest.raises(LedgerError, match="already closed"):
        close_period(session, year, month, None, today=MAY_15)
    assert closed_months(session) == ["2024-01"]


@pytest.mark.parametrize("today", [dt.date(2024, 5, 1), dt.date(2024, 5, 31), dt.date(2024, 4, 30)])
def test_a_month_closes_only_after_it_ended(session, today):
    with pytest.raises(LedgerError, match="has not ended yet"):
        close_period(session, 2024, 5, None, today=today)
    assert closed_months(session) == []
    close_period(session, 2024, 5, None, today=dt.date(2024, 6, 1))
    assert closed_months(session) == ["2024-05"]


@pytest.mark.parametrize("year, month", [(2024, 0), (2024, 13), (1800, 1)])
def test_an_invalid_month_is_refused(session, year, month):
    for close in (close_period, close_through):
        with pytest.raises(LedgerError, match="valid month"):
            close(session, year, month, None, today=MAY_15)


def test_close_through_closes_every_month_up_to_the_target(session):
    close_period(session, 2023, 11, None, today=MAY_15)
    closed = close_through(session, 2024, 3, None, today=MAY_15)
    assert [p.label for p in closed] == ["2023-12", "2024-01", "2024-02", "2024-03"]
    assert closed_months(session) == ["2023-11", "2023-12", "2024-01", "2024-02", "2024-03"]
    with pytest.raises(LedgerError, match="already closed"):
        close_through(session, 2024, 2, None, today=MAY_15)


def test_close_through_on_open_books_closes_the_target_month(session):
    assert [p.label for p in close_through(session, 2024, 2, None, today=MAY_15)] == ["2024-02"]


def test_close_through_an_unended_month_closes_nothing(session):
    close_period(session, 2024, 1, None, today=MAY_15)
    with pytest.raises(LedgerError, match="has not ended yet"):
        close_through(session, 2024, 5, None, today=MAY_15)
    assert closed_months(session) == ["2024-01"]


def test_closing_is_audited_with_the_actor(session):
    user = make_user(session, "finance")
    period = close_period(session, 2024, 1, user, today=MAY_15)
    assert period.closed_by_id == user.id
    session.flush()
    event = session.scalar(select(AuditEvent).where(AuditEvent.tag == "ledger:period:closed"))
    assert (event.actor_id, event.subject_type, event.subject_id) == (user.id, "period", str(period.id))
    assert event.after == {"month": "2024-01"}


def test_the_lock_date_stops_posting_on_and_before_it(session):
    fund = make_fund(session)
    post(session, fund, "10.00", date=dt.date(2024, 1, 10))
    close_through(session, 2024, 2, None, today=MAY_15)
    before = entry_count(session)
    for day in (dt.date(2023, 6, 1), dt.date(2024, 1, 31), dt.date(2024, 2, 29)):
        with pytest.raises(PeriodClosed, match="closed through 2024-02-29"):
            post(session, fund, "1.00", date=day)
    assert entry_count(session) == before
    assert post(session, fund, "1.00", date=dt.date(2024, 3, 1)).seq == before + 1


def test_a_closed_period_entry_is_corrected_by_a_reversal_dated_later(session):
    fund = make_fund(session)
    entry = post(session, fund, "10.00", date=dt.date(2024, 1, 10))
    close_through(session, 2024, 1, None, today=MAY_15)
    before = entry_count(session)
    with pytest.raises(PeriodClosed):
        reverse_entry(session, entry, reason="wrong fund", actor=None, effective_date=dt.date(2024, 1, 31))
    assert entry_count(session) == before
    reversal = reverse_entry(session, entry, reason="wrong fund", actor=None)  # dated today
    assert reversal.effective_date == local_today() and reversal.reverses_id == entry.id
    assert fund_net_assets(session, dt.date(2024, 1, 31))[fund.id] == 10  # the closed month is untouched
    assert fund.id not in fund_net_assets(session, local_today())
    assert verify_ledger(session) == []


def test_the_database_keeps_closed_periods(session):
    close_period(session, 2024, 1, None, today=MAY_15)
    session.flush()
    for statement in (sa.update(Period).values(end_date=dt.date(2023, 1, 31)), sa.delete(Period)):
        with pytest.raises(sa.exc.DatabaseError, match="immutable"):
            with session.begin_nested():
                session.execute(statement)
