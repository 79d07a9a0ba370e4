"""The posting rules, each shown to refuse what it must and to write nothing when it does."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlalchemy import func, select

from fundapp.dates import local_today
from fundapp.ledger.invariants import verify_ledger
from fundapp.ledger.models import JournalEntry, JournalLine, LedgerHead, PeriodBalance
from fundapp.ledger.periods import close_period
from fundapp.ledger.queries import balances_as_of, fund_net_assets, trial_balance
from fundapp.ledger.services import (
    AlreadyReversed,
    IdempotencyConflict,
    LedgerError,
    LineSpec,
    PeriodClosed,
    UnbalancedEntry,
    post_entry,
    reverse_entry,
)
from tests.factories import account, make_fund, post

D = Decimal


def counts(session):
    return (
        session.scalar(select(func.count()).select_from(JournalEntry)),
        session.scalar(select(func.count()).select_from(JournalLine)),
        session.scalar(select(func.count()).select_from(PeriodBalance)),
    )


def test_post_balanced_entry_updates_balances_and_chain(session):
    fund = make_fund(session, "GEN")
    entry = post(session, fund, "1234.56")
    assert entry.seq == 1 and len(entry.lines) == 2
    assert session.get(LedgerHead, 1).hash == entry.hash
    assert fund_net_assets(session, local_today())[fund.id] == D("1234.56")
    tb = trial_balance(session, local_today())
    assert tb.total_debit == tb.total_credit == D("1234.56")
    assert verify_ledger(session) == []


@pytest.mark.parametrize(
    "amounts, error",
    [
        ([D("100.00")], UnbalancedEntry),
        ([D("100.00"), D("-99.99")], UnbalancedEntry),
        ([D("100.00"), D("0.00"), D("-100.00")], LedgerError),
        ([D("100.001"), D("-100.001")], LedgerError),
        ([D("1e17"), D("-1e17")], LedgerError),
        ([D("NaN"), D("-1")], LedgerError),
    ],
)
def test_bad_entries_are_refused_and_write_nothing(session, amounts, error):
    fund = make_fund(session)
    before = counts(session)
    lines = [LineSpec(account(session, "4101" if a.is_signed() else "1002"), fund, a) for a in amounts]
    with pytest.raises(error):
        post_entry(session, effective_date=local_today(), memo="bad", lines=lines, idempotency_key="bad")
    assert counts(session) == before


def test_each_fund_must_balance_within_an_entry(session):
    a, b = make_fund(session), make_fund(session)
    lines = [LineSpec(account(session, "1002"), a, D("50.00")), LineSpec(account(session, "4101"), b, D("-50.00"))]
    with pytest.raises(UnbalancedEntry, match=a.code):
        post_entry(session, effective_date=local_today(), memo="cross-fund", lines=lines, idempotency_key="x")


def test_idempotency_key_posts_once(session):
    fund = make_fund(session)
    first = post(session, fund, "10.00", key="donation:1")
    again = post(session, fund, "10.00", key="donation:1")
    assert again.id == first.id
    assert counts(session)[0] == 1
    with pytest.raises(IdempotencyConflict):
        post(session, fund, "11.00", key="donation:1")


def test_reversal_mirrors_the_entry_once(session):
    fund = make_fund(session)
    entry = post(session, fund, "300.00")
    reversal = reverse_entry(session, entry, reason="wrong fund", actor=None)
    assert [line.amount for line in reversal.lines] == [D("-300.00"), D("300.00")]
    assert reversal.reverses_id == entry.id
    assert fund.id not in fund_net_assets(session, local_today())
    with pytest.raises(AlreadyReversed):
        reverse_entry(session, entry, reason="again", actor=None)
    with pytest.raises(LedgerError):
        reverse_entry(session, reversal, reason="undo", actor=None)
    assert verify_ledger(session) == []


def test_closed_period_refuses_posting(session):
    fund = make_fund(session)
    post(session, fund, "5.00", date=dt.date(2024, 1, 15))
    close_period(session, 2024, 1, None)
    before = counts(session)
    with pytest.raises(PeriodClosed):
        post(session, fund, "5.00", date=dt.date(2024, 1, 31))
    assert counts(session) == before
    post(session, fund, "5.00", date=dt.date(2024, 2, 1))


def test_balance_as_of_uses_month_rows_and_recent_lines(session):
    fund = make_fund(session)
    post(session, fund, "100.00", date=dt.date(2024, 1, 10))
    post(session, fund, "20.00", date=dt.date(2024, 2, 5))
    post(session, fund, "3.00", date=dt.date(2024, 2, 20))
    cash = account(session, "1002").id
    assert balances_as_of(session, dt.date(2024, 1, 9)) == {}
    assert balances_as_of(session, dt.date(2024, 2, 10))[(cash, fund.id, "unrestricted")] == D("120.00")
    assert balances_as_of(session, dt.date(2024, 3, 1))[(cash, fund.id, "unrestricted")] == D("123.00")


def test_database_refuses_update_and_delete_of_posted_rows(session):
    fund = make_fund(session)
    entry = post(session, fund, "7.00")
    session.flush()
    for statement in (
        sa.update(JournalLine).where(JournalLine.entry_id == entry.id).values(amount=D("8.00")),
        sa.delete(JournalLine).where(JournalLine.entry_id == entry.id),
        sa.update(JournalEntry).where(JournalEntry.id == entry.id).values(memo="tampered"),
    ):
        with pytest.raises(sa.exc.DatabaseError, match="immutable"):
            with session.begin_nested():
                session.execute(statement)


def test_database_refuses_posting_into_closed_period(session):
    fund = make_fund(session)
    close_period(session, 2024, 1, None)
    entry = post(session, fund, "1.00", date=dt.date(2024, 3, 1))
    with pytest.raises(sa.exc.DatabaseError, match="closed"):
        with session.begin_nested():
            session.execute(sa.insert(JournalLine).values(
                entry_id=entry.id, line_no=9, effective_date=dt.date(2024, 1, 5), account_id=entry.lines[0].account_id,
                fund_id=fund.id, net_asset_class="unrestricted", amount=D("1.00"), memo=""))


def test_verify_finds_a_tampered_amount(session):
    """Bypass the guards (as someone with database access could) and check verify names the entry."""
    fund = make_fund(session)
    post(session, fund, "10.00")
    victim = post(session, fund, "20.00")
    post(session, fund, "30.00")
    session.flush()
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        session.execute(sa.text("SET LOCAL session_replication_role = replica"))  # triggers off
        cents = "21.00"
    else:
        session.execute(sa.text("DROP TRIGGER journal_lines_no_update"))
        cents = "2100"
    session.execute(sa.text(f"UPDATE journal_lines SET amount = {cents} WHERE entry_id = :id AND line_no = 1"),
                    {"id": victim.id})
    problems = verify_ledger(session)
    assert any(p.check == "chain" and p.seq == victim.seq for p in problems)
    assert any(p.check == "balances" for p in problems)
