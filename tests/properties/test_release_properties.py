"""Random restricted and unrestricted expense (and revenue) postings in 2025, then a release at a random date:
after it, the restricted-class balance of every expense account is zero at that date, and the net assets of
every fund — per class as the statements read them (3101 unrestricted, 3102 restricted, revenue and expense by
their lines' class) and in total — and its assets did not move, at that date and at the year end.
A plain Python model of the restricted expense per (account, fund) is the reference for what is released.

Each example runs in a SAVEPOINT that is rolled back.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from fundapp.ledger.invariants import verify_ledger
from fundapp.ledger.models import Account
from fundapp.ledger.queries import balances_as_of
from fundapp.ledger.release import ReleaseError, release_restrictions
from fundapp.ledger.services import LineSpec, post_entry
from tests.factories import account, make_fund

REVENUE = ["4101", "4301"]
EXPENSE = ["5101", "5201", "5301", "5401"]
TODAY = dt.date(2026, 3, 1)
YEAR_END = dt.date(2025, 12, 31)
ZERO = Decimal(0)

movements = st.tuples(
    st.integers(1, 365),  # day of 2025
    st.sampled_from(REVENUE + EXPENSE),
    st.integers(0, 2),  # fund index
    st.sampled_from(["unrestricted", "restricted"]),
    st.integers(1, 10**9).map(lambda cents: Decimal(cents) / 100),
    st.booleans(),  # reversed direction: a refund of revenue or a recovery of expense
)


def day_of(n: int) -> dt.date:
    return dt.date(2025, 1, 1) + dt.timedelta(days=n - 1)


def position(session, as_of, fund_ids, kinds, codes):
    """(fund, class) -> net assets as the statements read them; fund -> assets."""
    net: dict[tuple[int, str], Decimal] = defaultdict(lambda: ZERO)
    assets: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for (account_id, fund_id, klass), amount in balances_as_of(session, as_of, fund_ids=fund_ids).items():
        if kinds[account_id] in ("asset", "liability"):
            assets[fund_id] += amount
            continue
        klass = {"3101": "unrestricted", "3102": "restricted"}.get(codes[account_id], klass)
        net[(fund_id, klass)] -= amount
    return {k: v for k, v in net.items() if v != 0}, {k: v for k, v in assets.items() if v != 0}


@given(script=st.lists(movements, min_size=0, max_size=12), through_day=st.integers(1, 365))
def test_release_zeroes_restricted_expenses_and_keeps_net_assets(session, script, through_day):
    savepoint = session.begin_nested()
    try:
        funds = [make_fund(session, f"U{uuid.uuid4().hex[:6]}"),
                 make_fund(session, f"R{uuid.uuid4().hex[:6]}", restricted=True, fund_type="project"),
                 make_fund(session, f"S{uuid.uuid4().hex[:6]}", restricted=True, fund_type="named")]
        cash = account(session, "1002")
        kinds = {a.id: a.type for a in session.scalars(select(Account))}
        codes = {a.id: a.code for a in session.scalars(select(Account))}
        through = day_of(through_day)
        model: dict[tuple[int, int], Decimal] = defaultdict(lambda: ZERO)  # restricted expense up to `through`
        for n, code, f, klass, amount, flip in script:
            is_revenue = code.startswith("4")
            amount = -amount if flip else amount
            line = -amount if is_revenue else amount
            expense_account = account(session, code)
            post_entry(session, effective_date=day_of(n), memo="random",
                       lines=[LineSpec(expense_account, funds[f], line, klass),
                              LineSpec(cash, funds[f], -line, klass)],
                       idempotency_key=f"prop:{uuid.uuid4()}")
            if not is_revenue and klass == "restricted" and day_of(n) <= through:
                model[(expense_account.id, funds[f].id)] += line
        model = {k: v for k, v in model.items() if v != 0}
        fund_ids = [f.id for f in funds]
        before = {day: position(session, day, fund_ids, kinds, codes) for day in (through, YEAR_END)}
        try:
            entry = release_restrictions(session, through, None, today=TODAY)
        except ReleaseError as error:
            assert not model, error.message
            assert "Nothing to release" in error.message
            return
        released = {(x.account_id, x.fund_id): -x.amount for x in entry.lines
                    if kinds[x.account_id] == "expense" and x.net_asset_class == "restricted"}
        assert released == model
        assert entry.effective_date == through
        after = balances_as_of(session, through, fund_ids=fund_ids)
        assert not [k for k, v in after.items() if kinds[k[0]] == "expense" and k[2] == "restricted" and v != 0]
        for day in (through, YEAR_END):
            assert position(session, day, fund_ids, kinds, codes) == before[day]
        # per fund: 3102 debited and 3101 credited by exactly the fund's released expense
        for fund in funds:
            total = sum((v for (a, f), v in model.items() if f == fund.id), ZERO)
            moved = {codes[x.account_id]: x.amount for x in entry.lines
                     if x.fund_id == fund.id and codes[x.account_id] in ("3101", "3102")}
            assert moved == ({} if total == 0 else {"3102": total, "3101": -total})
        assert verify_ledger(session) == []
    finally:
        savepoint.rollback()
