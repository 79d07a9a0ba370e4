"""Several finance users issuing receipts at the same moment on PostgreSQL get numbers 1..N: no duplicate, no gap.

Runs on a fresh database with real commits (threads cannot share the per-test rolled-back transaction).
A thread that rolls its issue back must not leave a hole either.
"""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal

import pytest
from sqlalchemy import select

from fundapp.donations.models import Donation, Receipt
from fundapp.donations.receipts import issue_receipt
from fundapp.extensions import db
from tests.conftest import PG_URL, make_migrated_app
from tests.factories import make_fund
from tests.unit.donations.factories import gift, make_donor

THREADS = 6
PER_THREAD = 4
ISSUED_ON = dt.date(2026, 5, 4)


def _make_gifts(app, count: int) -> list[int]:
    with app.app_context():
        fund, donor = make_fund(db.session, "CONC"), make_donor(db.session, "并发测试")
        ids = [gift(db.session, fund, f"{n + 1}.00", donor=donor, on=dt.date(2026, 5, 1)).id for n in range(count)]
        db.session.commit()
        return ids


def _issuer(app, barrier: threading.Barrier, ids: list[int], errors: list, roll_back_first: bool) -> None:
    try:
        with app.app_context():
            barrier.wait(timeout=30)
            if roll_back_first:  # takes a number, then abandons it
                issue_receipt(db.session, db.session.get(Donation, ids[0]), None, issued_on=ISSUED_ON)
                db.session.rollback()
            for donation_id in ids:
                issue_receipt(db.session, db.session.get(Donation, donation_id), None, issued_on=ISSUED_ON)
                db.session.commit()
            db.session.remove()
    except Exception as error:  # noqa: BLE001 - reported by the test below
        errors.append(error)


@pytest.mark.skipif(not PG_URL, reason="TEST_DATABASE_URL is not set: the PostgreSQL concurrency test is skipped")
def test_concurrent_issuers_number_receipts_without_duplicates_or_gaps(fresh_database_url):
    app = make_migrated_app(fresh_database_url("postgresql", "receipts"))
    try:
        ids = _make_gifts(app, THREADS * PER_THREAD)
        barrier, errors = threading.Barrier(THREADS), []
        threads = [
            threading.Thread(target=_issuer, args=(app, barrier, ids[n::THREADS], errors, n % 2 == 0))
            for n in range(THREADS)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert not errors, errors
        with app.app_context():
            rows = db.session.execute(select(Receipt.year, Receipt.number, Receipt.amount)).all()
            assert sorted(number for _year, number, _amount in rows) == list(range(1, THREADS * PER_THREAD + 1))
            assert {year for year, _number, _amount in rows} == {2026}
            assert sum(amount for *_rest, amount in rows) == sum(Decimal(n) for n in range(1, len(ids) + 1))
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
