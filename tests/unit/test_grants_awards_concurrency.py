"""Payments racing on one award on PostgreSQL: at most one pays a tranche; a double submit makes one payment; two
checkers approving one payment post it once.

Runs on a fresh database with real commits (threads cannot share the per-test rolled-back transaction).
"""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError

from fundapp.auth.models import User
from fundapp.dates import local_today
from fundapp.errors import DomainError
from fundapp.extensions import db
from fundapp.grants.models import Award, Tranche, TranchePayment
from fundapp.grants.payments import PaymentInput, approve_payment, request_payment
from fundapp.ledger.models import JournalEntry
from tests.concurrency import fresh_app, is_unexpected, race
from tests.conftest import PG_URL
from tests.factories import make_user
from tests.grants_award_builders import Cast, award_for, pay, schedule, tranche

THREADS = 4
pytestmark = pytest.mark.skipif(not PG_URL, reason="TEST_DATABASE_URL is not set: PostgreSQL concurrency is skipped")


@pytest.fixture()
def app(fresh_database_url):
    with fresh_app(fresh_database_url, "awards") as app:
        yield app


def _setup(app, amount: str, *, waiting: bool = False) -> dict:
    with app.test_request_context():
        cast = Cast(db.session)
        makers = [make_user(db.session, "finance") for _ in range(THREADS)]
        award = award_for(db.session, cast, amount, fund_amount="500000.00")
        half = (Decimal(amount) / 2).quantize(Decimal("0.01"))
        schedule(db.session, award, str(half), str(Decimal(amount) - half), reports=False)
        payment = pay(db.session, award, 1, cast.maker) if waiting else None
        db.session.commit()
        return {"award": award.id, "tranche": tranche(db.session, award, 1).id, "makers": [u.id for u in makers],
                "payment": payment.id if payment else None}


def _race(app, work) -> tuple[list, list]:
    """Run `work(n)` in THREADS threads started together, each committing; (results, refusals)."""
    refused_by = (DomainError, DBAPIError)
    outcomes = race(app, [(work, n) for n in range(THREADS)], expected=refused_by)
    errors = [o for o in outcomes if is_unexpected(o)]
    assert not errors, errors
    refusals = [o for o in outcomes if isinstance(o, refused_by)]
    return [o for o in outcomes if not is_unexpected(o) and not isinstance(o, refused_by)], refusals


def _totals(app, award_id: int) -> tuple[int, Decimal, int]:
    with app.app_context():
        live = db.session.scalar(select(func.count()).select_from(TranchePayment)
                                 .where(TranchePayment.award_id == award_id, TranchePayment.status == "paid"))
        paid = db.session.scalar(select(Award.paid_amount).where(Award.id == award_id))
        entries = db.session.scalar(select(func.count()).select_from(JournalEntry)
                                    .where(JournalEntry.source_type == "grant_payment"))
        return live, paid, entries


def test_concurrent_payments_of_one_tranche_pay_it_once(app):
    ids = _setup(app, "10000.00")

    def work(n: int):
        data = PaymentInput(tranche=db.session.get(Tranche, ids["tranche"]), paid_on=local_today(),
                            key=str(uuid.uuid4()))
        return request_payment(db.session, data, db.session.get(User, ids["makers"][n])).id

    results, refusals = _race(app, work)
    assert len(results) == 1 and len(refusals) == THREADS - 1
    assert all("already paid" in str(r) for r in refusals), refusals
    assert _totals(app, ids["award"]) == (1, Decimal("5000.00"), 1)


def test_a_double_submit_racing_itself_makes_one_payment(app):
    ids = _setup(app, "10000.00")
    key = str(uuid.uuid4())

    def work(n: int):
        data = PaymentInput(tranche=db.session.get(Tranche, ids["tranche"]), paid_on=local_today(), key=key)
        return request_payment(db.session, data, db.session.get(User, ids["makers"][0])).id

    results, refusals = _race(app, work)
    assert not refusals and len(set(results)) == 1
    assert _totals(app, ids["award"]) == (1, Decimal("5000.00"), 1)


def test_two_checkers_approving_one_payment_post_it_once(app):
    ids = _setup(app, "160000.00", waiting=True)

    def work(n: int):
        payment = db.session.get(TranchePayment, ids["payment"])
        return approve_payment(db.session, payment, db.session.get(User, ids["makers"][n])).id

    results, refusals = _race(app, work)
    assert len(results) == 1 and all("no longer waiting" in str(r) for r in refusals), refusals
    assert _totals(app, ids["award"]) == (1, Decimal("80000.00"), 1)
