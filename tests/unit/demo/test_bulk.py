"""The bulk generator: exactly N lines, every invariant kept, and the same seed gives the same chain.

It commits per batch, so it runs on fresh databases (not the rolled-back `session`).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from fundapp.extensions import db
from fundapp.ledger.bulk import generate_ledger
from fundapp.ledger.invariants import verify_ledger
from fundapp.ledger.models import Account, JournalEntry, JournalLine, LedgerHead
from fundapp.ledger.periods import close_period
from fundapp.ledger.services import lock_date
from tests.conftest import make_migrated_app
from tests.factories import make_fund, post

LINES = 500


@pytest.fixture()
def fresh_app(backend, fresh_database_url):
    """A factory of migrated apps on new databases, disposed of at the end."""
    apps = []

    def make(label: str):
        apps.append(make_migrated_app(fresh_database_url(backend, label)))
        return apps[-1]

    yield make
    for app in apps:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def generate(app, **options):
    with app.app_context():
        result = generate_ledger(db.session, LINES, start=dt.date(2024, 1, 1), batch_lines=120, **options)
        head = db.session.get(LedgerHead, 1)
        return result, (head.seq, head.hash)


def lowest_cash(session) -> Decimal:
    stmt = (
        select(JournalLine.fund_id, JournalLine.amount)
        .join(Account, Account.id == JournalLine.account_id)
        .join(JournalEntry, JournalEntry.id == JournalLine.entry_id)
        .where(Account.code.in_(("1001", "1002", "1009")))
        .order_by(JournalEntry.seq, JournalLine.line_no)
    )
    running, lowest = Counter(), Decimal(0)
    for fund_id, amount in session.execute(stmt):
        running[fund_id] += amount
        lowest = min(lowest, running[fund_id])
    return lowest


def test_same_seed_same_chain_exactly_n_lines_and_a_clean_ledger(fresh_app):
    first_app = fresh_app("bulk_a")
    first, first_head = generate(first_app, seed=7, funds=5, years=2)
    second, second_head = generate(fresh_app("bulk_b"), seed=7, funds=5, years=2)
    assert first_head == second_head == (first.entries, first.head_hash)
    assert first.lines == LINES and first.entries == second.entries
    with first_app.app_context():
        s = db.session
        assert s.scalar(select(func.count()).select_from(JournalLine)) == LINES
        sizes = Counter(s.scalars(select(func.count()).select_from(JournalLine).group_by(JournalLine.entry_id)))
        assert set(sizes) <= {2, 3, 4, 5, 6} and len(sizes) >= 4
        dates = list(s.scalars(select(JournalEntry.effective_date).order_by(JournalEntry.seq)))
        assert dates == sorted(dates) and dates[0] == dt.date(2024, 1, 1) and dates[-1] < dt.date(2026, 1, 1)
        assert all(isinstance(x, Decimal) for x in s.scalars(select(JournalLine.amount).limit(50)))
        assert verify_ledger(s) == []
        assert lowest_cash(s) >= 0


def test_another_seed_gives_another_chain(fresh_app):
    _result, head = generate(fresh_app("bulk_c"), seed=8, funds=5, years=2)
    _result, other = generate(fresh_app("bulk_d"), seed=9, funds=5, years=2)
    assert head[1] != other[1]


def test_continues_the_chain_after_the_lock_date_and_posting_still_works(fresh_app):
    app = fresh_app("bulk_e")
    with app.app_context():
        fund = make_fund(db.session, "OWN")
        post(db.session, fund, "100.00", date=dt.date(2024, 3, 10))
        close_period(db.session, 2024, 3, None)
        db.session.commit()
    result, (seq, _hash) = generate(app, seed=1, funds=3, years=1)
    with app.app_context():
        s = db.session
        assert seq == result.entries + 1
        assert result.first_date == dt.date(2024, 4, 1) > lock_date(s)
        later = post(s, s.merge(fund), "5.00", date=dt.date(2025, 6, 1))
        s.commit()
        assert later.seq == seq + 1
        assert verify_ledger(s) == []


def test_generate_command_reports_its_figures(fresh_app):
    app = fresh_app("bulk_cli")
    result = app.test_cli_runner().invoke(args=["demo", "generate", "--lines", "41", "--years", "1", "--batch", "10"])
    assert result.exit_code == 0, result.output
    assert "generated 41 lines" in result.output and "lines/s" in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(JournalLine)) == 41
        assert verify_ledger(db.session) == []
