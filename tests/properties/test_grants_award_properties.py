"""Properties of an award's money: after any schedule, any run of payments (some needing a second approver) and a
close-out with any money returned,

    paid + released = awarded
    the fund's 2209 (grants payable) balance is zero, and was −outstanding after every payment
    money out of the fund's bank (1002) = paid − returned = the grant's cost on 5101
    restricted fund: the restriction released (3102 debit) = paid − returned
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fundapp.dates import local_today
from fundapp.grants.awards import CloseInput, close_award
from fundapp.grants.models import ReportKind
from tests.grants_award_builders import Cast, award_for, balance, pay_through, report, schedule

TODAY = local_today()


def cents(n: int) -> Decimal:
    return Decimal(n).scaleb(-2)


@st.composite
def plans(draw):
    """(tranche amounts, tranches paid, restricted, needs reports, spent share, returned share)."""
    total = draw(st.integers(min_value=100, max_value=20_000_000))  # 1.00 .. 200,000.00
    cuts = sorted(draw(st.sets(st.integers(min_value=1, max_value=total - 1), max_size=3)))
    edges = [0, *cuts, total]
    amounts = [cents(b - a) for a, b in zip(edges, edges[1:], strict=False)]
    paid = draw(st.integers(min_value=1, max_value=len(amounts)))
    return (amounts, paid, draw(st.booleans()), draw(st.booleans()),
            draw(st.integers(min_value=0, max_value=100)), draw(st.integers(min_value=0, max_value=100)))


def share(amount: Decimal, percent: int) -> Decimal:
    return (amount * percent / 100).quantize(Decimal("0.01"), rounding="ROUND_DOWN")


@pytest.fixture()
def cast(session):
    return Cast(session)


@given(plan=plans())
def test_after_payments_and_close_out_the_award_adds_up(session, cast, plan):
    amounts, paid_count, restricted, needs_reports, spent_pct, returned_pct = plan
    savepoint = session.begin_nested()
    try:
        award = award_for(session, cast, str(sum(amounts)), restricted=restricted)
        fund = award.fund
        bank_before = balance(session, fund, "1002")
        schedule(session, award, *map(str, amounts), actor=cast.maker, reports=needs_reports)
        for seq in range(1, paid_count + 1):
            if needs_reports and seq > 1:
                report(session, award, cast)  # accepted: unlocks tranche `seq`
            pay_through(session, award, seq, cast)
            assert balance(session, fund, "2209") == -award.outstanding
        paid = sum(amounts[:paid_count], Decimal("0.00"))
        assert award.paid_amount == paid
        spent = share(paid, spent_pct)
        lines = (str(spent),) if spent else ()
        report(session, award, cast, kind=ReportKind.final.value, spend=lines)
        returned = share(paid, returned_pct)
        close_award(session, CloseInput(award=award, closed_on=TODAY, returned_amount=returned,
                                        returned_on=TODAY), cast.maker)

        assert award.paid_amount + award.released_amount == award.amount
        assert award.returned_amount == returned and award.outstanding == 0
        assert balance(session, fund, "2209") == 0
        assert bank_before - balance(session, fund, "1002") == paid - returned
        assert balance(session, fund, "5101") == paid - returned
        if restricted:
            assert balance(session, fund, "3102") == paid - returned  # gifts go to 4101, never to 3102
    finally:
        savepoint.rollback()

