"""Concurrent posting on PostgreSQL: the chain-head lock makes parallel writers append one after another.

These tests commit for real, so they run on a database of their own, dropped at the end.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlalchemy import func, select

from fundapp.extensions import db
from fundapp.ledger.invariants import verify_ledger
from fundapp.ledger.models import Fund, JournalEntry
from fundapp.ledger.services import LedgerError, LineSpec, post_entry
from tests.conftest import PG_URL, make_migrated_app
from tests.factories import account, make_fund

pytestmark = [
    pytest.mark.skipif(not PG_URL, reason="TEST_DATABASE_URL is not set: PostgreSQL concurrency tests skipped"),
    pytest.mark.xdist_group("ledger-concurrency"),
]

THREADS, PER_THREAD = 4, 25


@pytest.fixture()
def pg_app(fresh_database_url):
    url = fresh_database_url("postgresql", "concurrency")
    app = make_migrated_app(url)
    with app.app_context():
        make_fund(db.session, "CONC")
        db.session.commit()
    yield app
    with app.app_context():
        db.engine.dispose()
    admin = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{sa.make_url(url).database}" WITH (FORCE)'))
    admin.dispose()


def post_one(key: str, amount: str = "1.00", memo: str = "concurrent") -> int:
    """Post and commit one entry in the current app context; return its seq."""
    fund = db.session.scalar(select(Fund).where(Fund.code == "CONC"))
    lines = [LineSpec(account(db.session, "1002"), fund, Decimal(amount)),
             LineSpec(account(db.session, "4101"), fund, -Decimal(amount))]
    try:
        entry = post_entry(db.session, effective_date=dt.date(2025, 6, 1), memo=memo, lines=lines, idempotency_key=key)
        seq = entry.seq
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return seq


def run_in_threads(app, work: list[Callable[[], object]]) -> tuple[list, list[BaseException]]:
    """Run each callable in its own thread and app context, all started together."""
    barrier = threading.Barrier(len(work))
    results: list = [None] * len(work)
    errors: list[BaseException] = []

    def target(index: int) -> None:
        with app.test_request_context(headers={"Accept-Language": "en"}):
            try:
                barrier.wait(timeout=30)
                results[index] = work[index]()
            except BaseException as error:  # noqa: BLE001 - reported by the test
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=target, args=(i,)) for i in range(len(work))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a posting thread hung"
    return results, errors


def test_parallel_posting_keeps_one_contiguous_chain(pg_app):
    def writer(worker: int) -> Callable[[], list[int]]:
        return lambda: [post_one(f"conc:{worker}:{n}", f"{worker + 1}.{n:02d}") for n in range(PER_THREAD)]

    results, errors = run_in_threads(pg_app, [writer(w) for w in range(THREADS)])
    assert errors == []
    posted = sorted(seq for seqs in results for seq in seqs)
    assert posted == list(range(1, THREADS * PER_THREAD + 1))
    with pg_app.app_context():
        seqs = list(db.session.scalars(select(JournalEntry.seq).order_by(JournalEntry.seq)))
        assert seqs == list(range(1, THREADS * PER_THREAD + 1))
        assert verify_ledger(db.session) == []


def test_the_same_idempotency_key_from_two_threads_posts_once(pg_app):
    results, errors = run_in_threads(pg_app, [lambda: post_one("donation:race")] * 2)
    assert all(isinstance(error, LedgerError) for error in errors), errors
    seqs = [seq for seq in results if seq is not None]
    assert seqs and set(seqs) == {1}  # the loser got the existing entry (or a clean LedgerError)
    with pg_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(JournalEntry)) == 1
        assert verify_ledger(db.session) == []


def test_the_same_key_with_different_content_is_refused(pg_app):
    run_in_threads(pg_app, [lambda: post_one("donation:once", "5.00")])
    results, errors = run_in_threads(pg_app, [lambda: post_one("donation:once", "6.00")] * 2)
    assert len(errors) == 2 and all(isinstance(error, LedgerError) for error in errors)
    with pg_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(JournalEntry)) == 1
