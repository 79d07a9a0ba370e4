"""The year-end close: a fixture year with hand-computed closing lines, continuity, refusals, idempotency, locking.

Fixture year 2025, two funds:
  GEN (unrestricted general fund)
    2025-03-10 donation       Dr 1002 10,000.00   Cr 4101 10,000.00   (unrestricted)
    2025-06-20 service income Dr 1002  2,500.50   Cr 4301  2,500.50   (unrestricted)
    2025-08-01 admin costs    Dr 5201  3,000.25   Cr 1002  3,000.25   (unrestricted)
    2025-11-30 programme      Dr 5101  1,200.00   Cr 1002  1,200.00   (unrestricted)
  PRJ (restricted project fund)
    2025-02-14 donation       Dr 1002 50,000.00   Cr 4101 50,000.00   (restricted)
    2025-09-09 programme      Dr 5101 20,000.00   Cr 1002 20,000.00   (restricted)
    2025-10-10 unrestricted gift into PRJ: Dr 1002 800.00 Cr 4101 800.00 (unrestricted class)
  2024 (closed the year before): GEN donation 1,000.00 on 2024-05-05.

The close first releases PRJ's restricted expense (release entry dated 2025-12-31, fundapp/ledger/release.py):
  Dr 5101 20,000.00 (unrestricted) / Cr 5101 20,000.00 (restricted); Dr 3102 20,000.00 / Cr 3101 20,000.00.
Expected closing entry of 2025 (dated 2025-12-31), per fund and class:
  GEN unrestricted: Dr 4101 10,000.00; Dr 4301 2,500.50; Cr 5101 1,200.00; Cr 5201 3,000.25;
                    net Cr 3101 8,300.25   (= 12,500.50 - 4,200.25)
  PRJ unrestricted: Dr 4101 800.00; Cr 5101 20,000.00; net Dr 3101 19,200.00
  PRJ restricted:   Dr 4101 50,000.00; net Cr 3102 50,000.00
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from fundapp.audit.models import AuditEvent
from fundapp.ledger.invariants import verify_ledger
from fundapp.ledger.models import AccountType, JournalEntry, Period
from fundapp.ledger.periods import close_period, close_through
from fundapp.ledger.queries import activity_between, balances_as_of
from fundapp.ledger.services import LineSpec, PeriodClosed, lock_date, post_entry
from fundapp.ledger.yearend import (
    YearCloseError,
    activity_excluding_close,
    close_year,
    closing_amounts,
    plan_close,
    years_overview,
)
from tests.factories import account, make_fund, make_user, post

TODAY = dt.date(2026, 2, 10)
D = Decimal


def gift(session, fund, amount, day, *, credit="4101", debit="1002", klass=None):
    amount = D(amount)
    return post_entry(
        session, effective_date=day, memo="fixture",
        lines=[LineSpec(account(session, debit), fund, amount, klass),
               LineSpec(account(session, credit), fund, -amount, klass)],
        idempotency_key=f"test:{uuid.uuid4()}",
    )


@pytest.fixture()
def year(session):
    gen = make_fund(session, "GEN")
    prj = make_fund(session, "PRJ", restricted=True, fund_type="project")
    gift(session, gen, "1000.00", dt.date(2024, 5, 5))
    gift(session, gen, "10000.00", dt.date(2025, 3, 10))
    gift(session, gen, "2500.50", dt.date(2025, 6, 20), credit="4301")
    gift(session, gen, "3000.25", dt.date(2025, 8, 1), debit="5201", credit="1002")
    gift(session, gen, "1200.00", dt.date(2025, 11, 30), debit="5101", credit="1002")
    gift(session, prj, "50000.00", dt.date(2025, 2, 14))
    gift(session, prj, "20000.00", dt.date(2025, 9, 9), debit="5101", credit="1002")
    gift(session, prj, "800.00", dt.date(2025, 10, 10), klass="unrestricted")
    return gen, prj


EXPECTED_2025 = [
    ("4101", "GEN", "unrestricted", D("10000.00")),
    ("4301", "GEN", "unrestricted", D("2500.50")),
    ("5101", "GEN", "unrestricted", D("-1200.00")),
    ("5201", "GEN", "unrestricted", D("-3000.25")),
    ("3101", "GEN", "unrestricted", D("-8300.25")),
    ("4101", "PRJ", "unrestricted", D("800.00")),
    ("5101", "PRJ", "unrestricted", D("-20000.00")),
    ("3101", "PRJ", "unrestricted", D("19200.00")),
    ("4101", "PRJ", "restricted", D("50000.00")),
    ("3102", "PRJ", "restricted", D("-50000.00")),
]
EXPECTED_RELEASE_2025 = [
    ("5101", "PRJ", "unrestricted", D("20000.00")),
    ("5101", "PRJ", "restricted", D("-20000.00")),
    ("3102", "PRJ", "restricted", D("20000.00")),
    ("3101", "PRJ", "unrestricted", D("-20000.00")),
]


def lines_of(entry):
    return [(x.account.code, x.fund.code, x.net_asset_class, x.amount) for x in entry.lines]


def close_2024(session):
    return close_year(session, 2024, None, today=TODAY)


def test_the_closing_entry_matches_the_hand_computed_lines(session, year):
    close_2024(session)
    actor = make_user(session, "finance")
    done = close_year(session, 2025, actor, today=TODAY)
    entry = done.entry
    assert entry.effective_date == dt.date(2025, 12, 31)
    assert entry.source_type == "year_close" and entry.source_id == "2025"
    assert entry.idempotency_key == "year-close:2025"
    assert entry.author_id == actor.id
    assert lines_of(entry) == EXPECTED_2025
    assert lines_of(done.release) == EXPECTED_RELEASE_2025 and done.release.seq == entry.seq - 1
    assert done.release.effective_date == dt.date(2025, 12, 31) and done.release.source_type == "restriction_release"
    assert "2025" in entry.memo
    assert lock_date(session) == dt.date(2025, 12, 31)
    events = list(session.scalars(select(AuditEvent).where(AuditEvent.tag == "ledger:year:closed",
                                                           AuditEvent.actor_id == actor.id)))
    assert len(events) == 1 and str(events[0].subject_id) == "2025"
    assert verify_ledger(session) == []


def test_the_preview_equals_the_posted_entry(session, year):
    close_2024(session)
    plan = plan_close(session, 2025, today=TODAY)
    assert plan.closable and plan.blockers == []
    assert [(x.account.code, x.fund.code, x.net_asset_class, x.amount) for x in plan.lines] == EXPECTED_2025
    assert plan.surplus == D("8300.25") + D("800.00") + D("30000.00")
    assert [(x.account.code, x.fund.code, x.net_asset_class, x.amount) for x in plan.release.lines] == \
        EXPECTED_RELEASE_2025
    results = {(r.fund.code, r.net_asset_class): (r.revenue, r.expenses) for r in plan.results}
    assert results == {("GEN", "unrestricted"): (D("12500.50"), D("4200.25")),
                       ("PRJ", "unrestricted"): (D("800.00"), D("20000.00")),
                       ("PRJ", "restricted"): (D("50000.00"), D("0.00"))}
    close_year(session, 2025, None, today=TODAY)
    posted = plan_close(session, 2025, today=TODAY)
    assert posted.closed and not posted.closable
    assert [(x.account.code, x.fund.code, x.net_asset_class, x.amount) for x in posted.lines] == EXPECTED_2025
    assert {(r.fund.code, r.net_asset_class): (r.revenue, r.expenses) for r in posted.results} == results


def _kinds(session):
    from fundapp.ledger.models import Account
    return {a.id: a.type for a in session.scalars(select(Account))}


def test_continuity_and_the_new_year_starts_from_zero(session, year):
    close_2024(session)
    before_close = balances_as_of(session, dt.date(2025, 12, 31))
    close_year(session, 2025, None, today=TODAY)
    kinds = _kinds(session)
    dec31 = balances_as_of(session, dt.date(2025, 12, 31))
    jan1 = balances_as_of(session, dt.date(2026, 1, 1))
    balance_sheet = {"asset", "liability", "net_assets"}
    assert {k: v for k, v in dec31.items() if kinds[k[0]] in balance_sheet} == \
           {k: v for k, v in jan1.items() if kinds[k[0]] in balance_sheet}
    # revenue and expense are zero at the year end and the new year starts from nothing
    assert not [k for k in dec31 if kinds[k[0]] in ("revenue", "expense")]
    assert not [k for k in jan1 if kinds[k[0]] in ("revenue", "expense")]
    assert activity_between(session, dt.date(2026, 1, 1), dt.date(2026, 1, 1)) == {}
    # assets did not move; net assets at the year end = opening net assets + the year's surplus
    assets = {k: v for k, v in before_close.items() if kinds[k[0]] in ("asset", "liability")}
    assert {k: v for k, v in dec31.items() if kinds[k[0]] in ("asset", "liability")} == assets

    def net_assets(balances):
        return -sum((v for k, v in balances.items() if kinds[k[0]] == "net_assets"), D(0))

    opening = net_assets(balances_as_of(session, dt.date(2024, 12, 31)))
    assert opening == D("1000.00")  # 2024's donation, closed into 3101 the year before
    assert net_assets(dec31) == opening + D("39100.25")
    assert net_assets(dec31) == sum(v for k, v in dec31.items() if kinds[k[0]] == "asset")


def test_statements_can_leave_the_close_out(session, year):
    from fundapp.ledger.release import release_restrictions

    close_2024(session)
    release_restrictions(session, dt.date(2025, 12, 31), None, today=TODAY)  # else the close posts it
    raw_before = activity_between(session, dt.date(2025, 1, 1), dt.date(2025, 12, 31))
    close_year(session, 2025, None, today=TODAY)
    assert activity_excluding_close(session, dt.date(2025, 1, 1), dt.date(2025, 12, 31)) == raw_before
    amounts = closing_amounts(session, 2025)
    raw = activity_between(session, dt.date(2025, 1, 1), dt.date(2025, 12, 31))
    keys = set(raw) | set(amounts)
    assert {k: raw.get(k, 0) - amounts.get(k, 0) for k in keys if raw.get(k, 0) != amounts.get(k, 0)} == raw_before
    gen, prj = year
    only_prj = closing_amounts(session, 2025, fund_ids=[prj.id])
    assert {k[1] for k in only_prj} == {prj.id} and len(only_prj) == 5
    assert closing_amounts(session, 2023) == {}
    # two closed years in one range
    both = activity_excluding_close(session, dt.date(2024, 1, 1), dt.date(2025, 12, 31))
    assert both[(account(session, "4101").id, gen.id, "unrestricted")] == D("-11000.00")


def test_the_year_is_locked_afterwards(session, year):
    close_2024(session)
    result = close_year(session, 2025, None, today=TODAY)
    # every open month from 2025-01 to 2025-12 was closed in order (2024's close left 2024-12 as the lock)
    assert [p.label for p in result.periods] == [f"2025-{m:02d}" for m in range(1, 13)]
    gen, _ = year
    with pytest.raises(PeriodClosed):
        post(session, gen, "5.00", date=dt.date(2025, 12, 31))
    with pytest.raises(PeriodClosed):
        post(session, gen, "5.00", date=dt.date(2025, 7, 1))
    post(session, gen, "5.00", date=dt.date(2026, 1, 2))  # the new year is open


def test_the_closing_entry_cannot_be_reversed(session, year):
    from fundapp.ledger.services import LedgerError, reverse_entry

    close_2024(session)
    result = close_year(session, 2025, None, today=TODAY)
    count = entries(session)
    with pytest.raises(LedgerError, match="closing entry cannot be reversed"):
        reverse_entry(session, result.entry, reason="undo", actor=None, effective_date=dt.date(2026, 1, 2))
    assert entries(session) == count


def entries(session):
    return session.scalar(select(func.count()).select_from(JournalEntry))


def periods(session):
    return session.scalar(select(func.count()).select_from(Period))


def test_closing_twice_is_refused_and_posts_nothing(session, year):
    close_2024(session)
    first = close_year(session, 2025, None, today=TODAY)
    count, closed = entries(session), periods(session)
    with pytest.raises(YearCloseError, match=f"already closed \\(entry #{first.entry.seq}\\)"):
        close_year(session, 2025, None, today=TODAY)
    assert (entries(session), periods(session)) == (count, closed)


@pytest.mark.parametrize("today", [dt.date(2025, 12, 31), dt.date(2025, 6, 1), dt.date(2024, 1, 1)])
def test_a_year_closes_only_after_it_ended(session, year, today):
    close_year(session, 2024, None, today=dt.date(2025, 1, 1))  # the first day after the year is fine
    count, closed = entries(session), periods(session)
    with pytest.raises(YearCloseError, match="has not ended yet"):
        close_year(session, 2025, None, today=today)
    assert (entries(session), periods(session)) == (count, closed)


def test_a_year_after_an_unclosed_year_is_refused(session, year):
    count = entries(session)
    with pytest.raises(YearCloseError, match="Close 2024 first"):
        close_year(session, 2025, None, today=TODAY)
    assert entries(session) == count and periods(session) == 0


def test_an_earlier_year_without_revenue_or_expense_does_not_block(session):
    gen = make_fund(session, "GEN")
    post(session, gen, "100.00", debit="1002", credit="2209", date=dt.date(2023, 3, 3))  # a payable, no result
    post(session, gen, "40.00", date=dt.date(2024, 4, 4))
    done = close_year(session, 2024, None, today=TODAY)
    assert [x.account.code for x in done.entry.lines] == ["4101", "3101"]
    # with no month ever closed, closing through 2024-12 closes only December (the lock date covers the rest)
    assert [p.label for p in done.periods] == ["2024-12"]


def test_a_locked_december_is_refused(session, year):
    close_through(session, 2024, 12, None, today=TODAY)
    count = entries(session)
    with pytest.raises(YearCloseError, match="closed through 2024-12-31"):
        close_year(session, 2024, None, today=TODAY)
    assert entries(session) == count


def test_earlier_open_months_are_closed_in_order(session, year):
    close_2024(session)
    close_period(session, 2025, 1, None, today=TODAY)
    close_period(session, 2025, 2, None, today=TODAY)
    result = close_year(session, 2025, None, today=TODAY)
    assert [p.label for p in result.periods] == [f"2025-{m:02d}" for m in range(3, 13)]


def test_nothing_to_close_is_refused(session):
    gen = make_fund(session, "GEN")
    post(session, gen, "100.00", debit="1002", credit="2209", date=dt.date(2025, 3, 3))
    with pytest.raises(YearCloseError, match="no revenue or expense to close"):
        close_year(session, 2025, None, today=TODAY)
    assert periods(session) == 0


@pytest.mark.parametrize("bad", [0, 1899, 9999])
def test_an_invalid_year_is_refused(session, bad):
    with pytest.raises(YearCloseError, match="valid year"):
        close_year(session, bad, None, today=TODAY)


def test_a_closed_fund_blocks_the_close_with_a_clear_message(session, year):
    close_2024(session)
    gen, _ = year
    gen.status = "closed"
    session.flush()
    count = entries(session)
    with pytest.raises(YearCloseError, match="Fund GEN is not active"):
        close_year(session, 2025, None, today=TODAY)
    assert entries(session) == count


def test_a_key_netting_to_zero_gets_no_line(session):
    gen = make_fund(session, "GEN")
    post(session, gen, "70.00", date=dt.date(2025, 1, 5))
    post(session, gen, "70.00", debit="4101", credit="1002", date=dt.date(2025, 2, 5))  # a refund: 4101 nets 0
    post(session, gen, "30.00", debit="5401", credit="1002", date=dt.date(2025, 3, 5))
    done = close_year(session, 2025, None, today=TODAY)
    assert lines_of(done.entry) == [("5401", "GEN", "unrestricted", D("-30.00")),
                                    ("3101", "GEN", "unrestricted", D("30.00"))]


def test_overview_lists_years_with_their_status(session, year):
    assert [(s.year, s.entry, s.pending, s.locked) for s in years_overview(session)] == [
        (2025, None, True, False), (2024, None, True, False)]
    first = close_2024(session)
    statuses = years_overview(session)
    assert [(s.year, s.pending, s.locked) for s in statuses] == [(2025, True, False), (2024, False, True)]
    assert statuses[1].entry.id == first.entry.id


def test_result_account_types_drive_the_close(session, year):
    close_2024(session)
    plan = plan_close(session, 2025, today=TODAY)
    assert {x.account.type for x in plan.lines if not x.is_net} <= {AccountType.revenue.value,
                                                                     AccountType.expense.value}
    assert {x.account.code for x in plan.lines if x.is_net} == {"3101", "3102"}
