"""Ratio properties: the charitable ratio grows with its numerator; the exemption never turns a pass into a fail."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from fundapp.compliance import ratios as R

money = st.decimals(min_value=Decimal("0"), max_value=Decimal("100000000"), places=2)
positive = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("100000000"), places=2)
types = st.sampled_from([R.Thresholds(), R.Thresholds(foundation_type=R.NON_PUBLIC)])


@given(types, money, money, positive, positive)
def test_charitable_ratio_monotone_in_the_numerator(th, a, b, income, net_assets):
    low, high = min(a, b), max(a, b)
    c_low, c_high = R.charitable_check(th, low, income, net_assets), R.charitable_check(th, high, income, net_assets)
    assert c_low.ratio <= c_high.ratio
    order = {R.FAIL: 0, R.WARN: 1, R.PASS: 2}
    assert order[c_low.status] <= order[c_high.status]


@given(types, money, money, money)
def test_exemption_never_turns_a_pass_into_a_fail(th, management, other, net_assets):
    spending = management + other
    without = R.management_check(R.Thresholds(foundation_type=th.foundation_type, exemption=Decimal("0")),
                                 management, spending, net_assets)
    with_exemption = R.management_check(th, management, spending, net_assets)
    if without.passes:
        assert with_exemption.passes
    if with_exemption.status == R.FAIL:
        assert without.status == R.FAIL
