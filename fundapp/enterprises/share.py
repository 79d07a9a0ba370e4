"""The share of an enterprise's income that flows back (反哺) into a community fund: a pure function over Decimal.

The rule, as agreements state it and the tests check it:

1. The base is the period's gross revenue (basis `gross_revenue`) or its net profit (basis `net_profit`).
   Revenue is never negative; a loss is a profit of zero, so it gives a base of zero (never a negative share).
2. Percentages are marginal tiers, like income-tax brackets: a tier takes its percentage of the part of the base
   from its lower bound up to the next tier's lower bound (the last tier has no upper bound). A flat percentage
   is one tier from 0. Example, tiers 0 → 5 % and 100,000 → 8 %, base 150,000:
   100,000 × 5 % + 50,000 × 8 % = 5,000 + 4,000 = 9,000.
3. The tier amounts are added exactly (Decimal, no rounding on the way) and the sum is rounded once, at the end,
   to the fen (0.01 yuan), half up (ROUND_HALF_UP: 0.005 → 0.01, 0.0049 → 0.00).
4. If the rounded amount is below the agreement's minimum per period, the minimum is due instead (also when the
   base is zero: it is a guaranteed contribution).

Hence the share is never negative, never falls when the base grows, and is exact to the fen.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, localcontext

ZERO = Decimal("0.00")
FEN = Decimal("0.01")
HUNDRED = Decimal(100)
GROSS_REVENUE = "gross_revenue"
NET_PROFIT = "net_profit"


@dataclass(frozen=True)
class Tier:
    lower: Decimal  # yuan, >= 0; the first tier starts at 0
    rate: Decimal  # percent, 0..100


@dataclass(frozen=True)
class Terms:
    basis: str
    tiers: tuple[Tier, ...]
    minimum: Decimal = ZERO


@dataclass(frozen=True)
class Step:
    """One tier's part of the arithmetic: `portion` of the base × `rate` % = `amount` (exact)."""

    lower: Decimal
    upper: Decimal | None
    portion: Decimal
    rate: Decimal
    amount: Decimal


@dataclass(frozen=True)
class Share:
    basis: str
    base: Decimal
    steps: tuple[Step, ...]
    exact: Decimal  # the sum of the steps, unrounded
    rounded: Decimal  # `exact` rounded half up to the fen
    minimum: Decimal
    amount: Decimal  # what is due: max(rounded, minimum)

    @property
    def minimum_applied(self) -> bool:
        return self.amount > self.rounded


def terms_problem(terms: Terms) -> str | None:
    """What is wrong with the terms (a short English reason), or None. Services turn it into a user message."""
    if terms.basis not in (GROSS_REVENUE, NET_PROFIT):
        return "basis"
    if not terms.tiers or terms.tiers[0].lower != 0:
        return "first_tier"
    for tier in terms.tiers:
        if not (tier.lower.is_finite() and tier.rate.is_finite()) or tier.lower < 0 or not 0 <= tier.rate <= 100:
            return "tier_values"
    if any(b.lower <= a.lower for a, b in zip(terms.tiers, terms.tiers[1:], strict=False)):
        return "tier_order"
    if not terms.minimum.is_finite() or terms.minimum < 0 or terms.minimum != terms.minimum.quantize(FEN):
        return "minimum"
    return None


def share_base(basis: str, revenue: Decimal, profit: Decimal) -> Decimal:
    if not revenue.is_finite() or revenue < 0:
        raise ValueError("revenue must be a finite, non-negative amount")
    if basis == GROSS_REVENUE:
        return revenue
    if not profit.is_finite():
        raise ValueError("profit must be finite")
    return max(profit, ZERO)


def compute_share(terms: Terms, revenue: Decimal, profit: Decimal = ZERO) -> Share:
    """The share due under `terms` for a period with this revenue and profit (see the module docstring)."""
    problem = terms_problem(terms)
    if problem:
        raise ValueError(f"invalid terms: {problem}")
    base = share_base(terms.basis, revenue, profit)
    with localcontext() as ctx:
        ctx.prec = 60  # far beyond Numeric(18, 2) × a four-decimal percentage: every step is exact
        steps = _steps(terms.tiers, base)
        exact = sum((step.amount for step in steps), Decimal(0))
        rounded = exact.quantize(FEN, rounding=ROUND_HALF_UP)
    amount = max(rounded, terms.minimum)
    return Share(terms.basis, base, steps, exact, rounded, terms.minimum, amount)


def _steps(tiers: tuple[Tier, ...], base: Decimal) -> tuple[Step, ...]:
    steps = []
    for index, tier in enumerate(tiers):
        upper = tiers[index + 1].lower if index + 1 < len(tiers) else None
        if base <= tier.lower and index > 0:
            break
        top = base if upper is None else min(base, upper)
        portion = max(top - tier.lower, Decimal(0))
        steps.append(Step(tier.lower, upper, portion, tier.rate, portion * tier.rate / HUNDRED))
    return tuple(steps)
