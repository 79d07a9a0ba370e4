"""Random revenue and expense entries over two years, each year closed in turn: after each close every revenue
and expense account is zero at the year end, and 3101/3102 moved by revenue - expenses per fund and class.

Each example runs in a SAVEPOINT that is rolled back. A plain Python model (revenue and expense per fund and
class per year) is the reference.
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
from fundapp.ledger.queries import activity_between, balances_as_of
from fundapp.ledger.services import LineSpec, post_entry
from fundapp.ledger.yearend import YearCloseError, activity_excluding_close, close_year
from tests.factories import account, make_fund

REVENUE = ["4101", "4301", "4601", "4901"]
EXPENSE = ["5101", "5201", "5301", "5401"]
TODAY = dt.date(2026, 3, 1)
YEARS = (2024, 2025)

movements = st.tuples(
    st.sampled_from(YEARS),
    st.integers(1, 365),  # day of the year
    st.sampled_from(REVENUE + EXPENSE),
    st.integers(0, 1),  # fund index
    st.sampled_from(["unrestricted", "restricted"]),
    st.integers(1, 10**9).map(lambda cents: Decimal(cents) / 100),
    st.booleans(),  # reversed direction: a refund of revenue or a recovery of expense
)


def day_of(year: int, n: int) -> dt.date:
    return dt.date(year, 1, 1) + dt.timedelta(days=n - 1)


@given(script=st.lists(movements, min_size=0, max_size=10))
def test_closing_zeroes_results_into_net_assets(session, script):
    savepoint = session.begin_nested()
    try:
        funds = [make_fund(session, f"U{uuid.uuid4().hex[:6]}"),
                 make_fund(session, f"R{uuid.uuid4().hex[:6]}", restricted=True, fund_type="project")]
        cash = account(session, "1002")
        kinds = {a.id: a.type for a in session.scalars(select(Account))}
        codes = {a.id: a.code for a in session.scalars(select(Account))}
        surplus: dict[tuple[int, int, str], Decimal] = defaultdict(Decimal)  # (year, fund id, class)
        for year, n, code, f, klass, amount, flip in script:
            is_revenue = code.startswith("4")
            amount = -amount if flip else amount
            # revenue: Cr revenue (negative line), Dr cash; expense: Dr expense, Cr cash
            line = -amount if is_revenue else amount
            post_entry(session, effective_date=day_of(year, n), memo="random",
                       lines=[LineSpec(account(session, code), funds[f], line, klass),
                              LineSpec(cash, funds[f], -line, klass)],
                       idempotency_key=f"prop:{uuid.uuid4()}")
            surplus[(year, funds[f].id, klass)] += amount if is_revenue else -amount
        fund_ids = {f.id for f in funds}
        for year in YEARS:
            start, end = dt.date(year, 1, 1), dt.date(year, 12, 31)
            before = activity_between(session, start, end, fund_ids=fund_ids)
            has_result = any(v != 0 and kinds[k[0]] in ("revenue", "expense") for k, v in before.items())
            try:
                done = close_year(session, year, None, today=TODAY)
            except YearCloseError as error:
                assert not has_result, error.message
                assert "no revenue or expense to close" in error.message
                continue
            at_end = balances_as_of(session, end, fund_ids=fund_ids)
            assert not [k for k, v in at_end.items() if kinds[k[0]] in ("revenue", "expense") and v != 0]
            moved = activity_between(session, start, end, fund_ids=fund_ids)
            for fund_id in fund_ids:
                for klass, code in (("unrestricted", "3101"), ("restricted", "3102")):
                    change = -sum((v for k, v in moved.items()
                                   if k[1] == fund_id and k[2] == klass and codes[k[0]] in ("3101", "3102")),
                                  Decimal(0))
                    assert change == surplus[(year, fund_id, klass)]
                    # the right account in the right class: unrestricted into 3101 only, restricted into 3102 only
                    other = "3102" if code == "3101" else "3101"
                    assert not [k for k, v in moved.items() if k[1] == fund_id and k[2] == klass
                                and codes[k[0]] == other]
            # statements leave the close out: the year's activity as it was before the close, with the release
            # from restriction the close posted first (restricted expenses moved to unrestricted, 3102 to 3101)
            for line in done.release.lines if done.release is not None else ():
                key = (line.account_id, line.fund_id, line.net_asset_class)
                before[key] = before.get(key, Decimal(0)) + line.amount
            before = {k: v for k, v in before.items() if v != 0}
            assert activity_excluding_close(session, start, end, fund_ids=fund_ids) == before
        assert verify_ledger(session) == []
    finally:
        savepoint.rollback()
