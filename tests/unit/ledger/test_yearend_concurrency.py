"""The year-end close under concurrency (PostgreSQL, real commits): one closing entry however many closers race,
and an entry posted into December while the year closes is either in the close or refused, never left over.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from fundapp.extensions import db
from fundapp.ledger.invariants import verify_ledger
from fundapp.ledger.models import Fund, JournalEntry
from fundapp.ledger.queries import balances_as_of
from fundapp.ledger.services import LedgerError, LineSpec, PeriodClosed, post_entry
from fundapp.ledger.yearend import close_year
from tests.conftest import PG_URL
from tests.factories import account
from tests.unit.ledger.test_concurrency import pg_app, post_one, run_in_threads  # noqa: F401 - pg_app is a fixture

pytestmark = [
    pytest.mark.skipif(not PG_URL, reason="TEST_DATABASE_URL is not set: PostgreSQL concurrency tests skipped"),
    pytest.mark.xdist_group("ledger-concurrency"),
]

TODAY = dt.date(2026, 3, 1)


def closer():
    try:
        result = close_year(db.session, 2025, None, today=TODAY)
        seq = result.entry.seq
        db.session.commit()
        return seq
    except Exception:
        db.session.rollback()
        raise


def december_poster(count: int):
    def work() -> list[str]:
        outcomes = []
        for _ in range(count):
            fund = db.session.scalar(select(Fund).where(Fund.code == "CONC"))
            try:
                post_entry(db.session, effective_date=dt.date(2025, 12, 20), memo="late gift",
                           lines=[LineSpec(account(db.session, "1002"), fund, Decimal("3.00")),
                                  LineSpec(account(db.session, "4101"), fund, Decimal("-3.00"))],
                           idempotency_key=f"late:{uuid.uuid4()}")
                db.session.commit()
                outcomes.append("posted")
            except PeriodClosed:
                db.session.rollback()
                outcomes.append("refused")
        return outcomes
    return work


def closing_entries() -> int:
    return db.session.scalar(select(func.count()).select_from(JournalEntry).where(
        JournalEntry.source_type == "year_close"))


def test_racing_closers_post_one_closing_entry(pg_app):  # noqa: F811 - the imported fixture
    with pg_app.test_request_context():
        post_one("gift:2025", "100.00")
    results, errors = run_in_threads(pg_app, [closer] * 3)
    assert len([r for r in results if r is not None]) == 1
    assert len(errors) == 2 and all(isinstance(e, LedgerError) for e in errors), errors
    with pg_app.app_context():
        assert closing_entries() == 1
        assert verify_ledger(db.session) == []


def test_december_postings_racing_the_close_are_closed_or_refused(pg_app):  # noqa: F811 - the imported fixture
    with pg_app.test_request_context():
        post_one("gift:2025", "100.00")
    results, errors = run_in_threads(pg_app, [closer, december_poster(8), december_poster(8)])
    assert errors == [], errors
    with pg_app.app_context():
        assert closing_entries() == 1
        revenue = account(db.session, "4101").id
        left = {k: v for k, v in balances_as_of(db.session, dt.date(2025, 12, 31)).items() if k[0] == revenue}
        assert left == {}, "a December posting escaped the close"
        posted = sum(outcome == "posted" for outcomes in results[1:] for outcome in outcomes)
        net = account(db.session, "3101").id
        closed_into = -sum(v for k, v in balances_as_of(db.session, dt.date(2025, 12, 31)).items() if k[0] == net)
        assert closed_into == Decimal("100.00") + 3 * posted
        assert verify_ledger(db.session) == []
