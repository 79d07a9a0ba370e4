"""Properties of the enterprise share: never negative, monotone in the base, exact to the fen.

The oracle is independent of the implementation: it adds the tiers as Fractions and rounds half up by integer
arithmetic (floor(x × 100 + 1/2) / 100), then applies the minimum.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from math import floor

from hypothesis import assume, given
from hypothesis import strategies as st

from fundapp.enterprises.share import Terms, Tier, compute_share

MAX_CENTS = 10**16  # up to 100 trillion yuan: beyond any enterprise, well inside Numeric(18, 2)


def cents(n: int) -> Decimal:
    return Decimal(n).scaleb(-2)


amounts = st.integers(min_value=0, max_value=MAX_CENTS).map(cents)
small_amounts = st.integers(min_value=0, max_value=10**9).map(cents)
profits = st.integers(min_value=-MAX_CENTS, max_value=MAX_CENTS).map(cents)
rates = st.integers(min_value=0, max_value=1_000_000).map(lambda n: Decimal(n).scaleb(-4))  # 0..100 %, 4 places


@st.composite
def terms(draw, basis=st.sampled_from(["gross_revenue", "net_profit"])):
    bounds = sorted(draw(st.sets(st.integers(min_value=1, max_value=10**11), max_size=4)))
    lowers = [Decimal("0.00")] + [cents(b) for b in bounds]
    tiers = tuple(Tier(lower, draw(rates)) for lower in lowers)
    minimum = draw(st.one_of(st.just(Decimal("0.00")), small_amounts))
    return Terms(draw(basis), tiers, minimum)


def oracle(t: Terms, revenue: Decimal, profit: Decimal) -> Decimal:
    base = Fraction(revenue) if t.basis == "gross_revenue" else max(Fraction(profit), Fraction(0))
    total = Fraction(0)
    for index, tier in enumerate(t.tiers):
        upper = Fraction(t.tiers[index + 1].lower) if index + 1 < len(t.tiers) else None
        top = base if upper is None else min(base, upper)
        total += max(top - Fraction(tier.lower), Fraction(0)) * Fraction(tier.rate) / 100
    rounded = Decimal(floor(total * 100 + Fraction(1, 2))).scaleb(-2)
    return max(rounded, t.minimum)


@given(terms(), amounts, profits)
def test_share_is_never_negative_and_has_exactly_two_places(t, revenue, profit):
    share = compute_share(t, revenue, profit)
    assert share.amount >= 0 and share.base >= 0
    assert share.amount.as_tuple().exponent == -2
    assert share.amount >= t.minimum


@given(terms(), amounts, profits)
def test_share_is_exact_to_the_fen(t, revenue, profit):
    share = compute_share(t, revenue, profit)
    assert share.amount == oracle(t, revenue, profit)
    assert abs(share.rounded - share.exact) <= Decimal("0.005")
    assert share.exact == sum((s.amount for s in share.steps), Decimal(0))  # nothing rounded on the way


@given(terms(basis=st.just("gross_revenue")), amounts, amounts)
def test_share_is_monotone_in_revenue(t, first, second):
    low, high = sorted((first, second))
    assert compute_share(t, low).amount <= compute_share(t, high).amount


@given(terms(basis=st.just("net_profit")), amounts, profits, profits)
def test_share_is_monotone_in_profit_and_ignores_revenue_on_that_basis(t, revenue, first, second):
    low, high = sorted((first, second))
    assert compute_share(t, revenue, low).amount <= compute_share(t, revenue, high).amount
    assert compute_share(t, revenue, low).amount == compute_share(t, Decimal("0.00"), low).amount


@given(rates, amounts)
def test_a_flat_rate_is_the_rounded_product(rate, revenue):
    share = compute_share(Terms("gross_revenue", (Tier(Decimal("0.00"), rate),)), revenue)
    assert share.exact == revenue * rate / 100


@given(terms(basis=st.just("gross_revenue")), amounts)
def test_more_revenue_never_adds_more_than_the_top_rate(t, revenue):
    assume(revenue <= cents(MAX_CENTS) - 1)
    step = compute_share(t, revenue + Decimal("100.00")).amount - compute_share(t, revenue).amount
    top_rate = max(tier.rate for tier in t.tiers)
    assert step <= Decimal("100.00") * top_rate / 100 + Decimal("0.01")
