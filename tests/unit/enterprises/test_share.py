"""The share computation, by example: each basis, flat and tiered, rounding half up once, the minimum, bad terms."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from fundapp.enterprises.periods import is_period_end, period_end, period_label, period_start, periods_from
from fundapp.enterprises.share import Terms, Tier, compute_share, terms_problem

D = Decimal
FLAT_5 = Terms("gross_revenue", (Tier(D("0"), D("5")),))
TIERED = Terms("gross_revenue", (Tier(D("0"), D("5")), Tier(D("100000"), D("8")), Tier(D("500000"), D("10"))))


def test_flat_percentage_of_gross_revenue():
    share = compute_share(FLAT_5, D("12345.67"))
    assert (share.base, share.exact, share.rounded, share.amount) == (D("12345.67"), D("617.2835"), D("617.28"),
                                                                      D("617.28"))
    assert [(s.portion, s.rate, s.amount) for s in share.steps] == [(D("12345.67"), D("5"), D("617.2835"))]


def test_marginal_tiers_take_each_percentage_of_their_slice_only():
    """The documented example: 100,000 × 5 % + 50,000 × 8 % = 9,000 (not 150,000 × 8 %)."""
    share = compute_share(TIERED, D("150000.00"))
    assert [(s.lower, s.upper, s.portion, s.amount) for s in share.steps] == [
        (D("0"), D("100000"), D("100000.00"), D("5000")), (D("100000"), D("500000"), D("50000.00"), D("4000"))]
    assert share.amount == D("9000.00")
    top = compute_share(TIERED, D("600000.00"))
    assert top.amount == D("5000.00") + D("32000.00") + D("10000.00")
    assert [s.upper for s in top.steps] == [D("100000"), D("500000"), None]


def test_a_tier_boundary_is_continuous():
    below, at = compute_share(TIERED, D("99999.99")), compute_share(TIERED, D("100000.00"))
    assert at.amount - below.amount == D("0.00")  # 0.01 × 5 % = 0.0005 rounds away
    assert compute_share(TIERED, D("100000.01")).exact == D("5000.0008")


@pytest.mark.parametrize("revenue, expected", [
    ("0.10", "0.01"),  # 0.005 rounds half up
    ("0.09", "0.00"),  # 0.0045 rounds down
    ("0.30", "0.02"),  # 0.015 -> 0.02 (half up, not half even)
    ("0.50", "0.03"),  # 0.025 -> 0.03 (half even would give 0.02)
    ("0.00", "0.00"),
])
def test_rounding_is_half_up_to_the_fen_once_at_the_end(revenue, expected):
    assert compute_share(FLAT_5, D(revenue)).amount == D(expected)


def test_rounding_happens_after_the_tiers_are_added():
    """Each tier alone would round 0.005 up twice (0.02); the exact sum 0.0100 is 0.01."""
    terms = Terms("gross_revenue", (Tier(D("0"), D("5")), Tier(D("0.10"), D("5"))))
    share = compute_share(terms, D("0.20"))
    assert [s.amount for s in share.steps] == [D("0.005"), D("0.005")]
    assert share.amount == D("0.01")


def test_net_profit_basis_and_a_loss_counts_as_zero():
    terms = Terms("net_profit", (Tier(D("0"), D("20")),))
    assert compute_share(terms, D("90000.00"), D("12000.00")).amount == D("2400.00")
    loss = compute_share(terms, D("90000.00"), D("-5000.00"))
    assert (loss.base, loss.amount) == (D("0.00"), D("0.00"))


def test_the_minimum_applies_when_the_share_is_below_it():
    terms = Terms("net_profit", (Tier(D("0"), D("20")),), minimum=D("500.00"))
    low = compute_share(terms, D("1000.00"), D("-1.00"))
    assert (low.rounded, low.amount, low.minimum_applied) == (D("0.00"), D("500.00"), True)
    high = compute_share(terms, D("9000.00"), D("5000.00"))
    assert (high.amount, high.minimum_applied) == (D("1000.00"), False)


def test_negative_revenue_is_refused():
    with pytest.raises(ValueError, match="non-negative"):
        compute_share(FLAT_5, D("-0.01"))


@pytest.mark.parametrize("terms, problem", [
    (Terms("turnover", (Tier(D("0"), D("5")),)), "basis"),
    (Terms("gross_revenue", ()), "first_tier"),
    (Terms("gross_revenue", (Tier(D("10"), D("5")),)), "first_tier"),
    (Terms("gross_revenue", (Tier(D("0"), D("100.01")),)), "tier_values"),
    (Terms("gross_revenue", (Tier(D("0"), D("-1")),)), "tier_values"),
    (Terms("gross_revenue", (Tier(D("0"), D("5")), Tier(D("0"), D("8")))), "tier_order"),
    (Terms("gross_revenue", (Tier(D("0"), D("5")),), minimum=D("-1")), "minimum"),
    (Terms("gross_revenue", (Tier(D("0"), D("5")),), minimum=D("0.001")), "minimum"),
])
def test_bad_terms_are_named(terms, problem):
    assert terms_problem(terms) == problem
    with pytest.raises(ValueError, match=problem):
        compute_share(terms, D("1.00"))


def test_periods():
    assert period_start(dt.date(2026, 5, 17), "quarterly") == dt.date(2026, 4, 1)
    assert period_end(dt.date(2026, 4, 1), "quarterly") == dt.date(2026, 6, 30)
    assert period_end(dt.date(2024, 2, 1), "monthly") == dt.date(2024, 2, 29)
    assert period_end(dt.date(2025, 1, 1), "yearly") == dt.date(2025, 12, 31)
    assert [period_label(s, "quarterly") for s, _e in periods_from(dt.date(2025, 10, 1), dt.date(2026, 4, 1),
                                                                    "quarterly")] == ["2025-Q4", "2026-Q1", "2026-Q2"]
    assert period_label(dt.date(2026, 3, 1), "monthly") == "2026-03"
    assert period_label(dt.date(2026, 1, 1), "yearly") == "2026"
    assert is_period_end(dt.date(2025, 12, 31), "quarterly") and not is_period_end(dt.date(2025, 11, 30), "quarterly")
