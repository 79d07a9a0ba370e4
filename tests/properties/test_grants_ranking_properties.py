"""Properties of the review figures (fundapp.grants.review): a review's weighted total, the mean over reviews, the
reviewers' spread, the exact rounding, and the ranking's running total."""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal, localcontext
from fractions import Fraction

from hypothesis import assume, given
from hypothesis import strategies as st

from fundapp.grants.review import (
    RankEntry,
    Scored,
    _sqrt_half_up,
    exact_total,
    rank,
    review_total,
    round_half_up,
    spread,
    weighted_score,
)

CENT = Decimal("0.01")


@st.composite
def rubrics(draw) -> list[tuple[int, Decimal]]:
    """1..6 criteria: (max_score 1..100, weight in hundredths of a percent), weights totalling exactly 100."""
    n = draw(st.integers(1, 6))
    cuts = sorted(draw(st.sets(st.integers(1, 9999), min_size=n - 1, max_size=n - 1)))
    bounds = [0, *cuts, 10000]
    weights = [Decimal(b - a) / 100 for a, b in zip(bounds, bounds[1:], strict=False)]
    maxima = draw(st.lists(st.integers(1, 100), min_size=n, max_size=n))
    return list(zip(maxima, weights, strict=True))


def score_for(maximum: int):
    """0..maximum with at most one decimal place."""
    return st.integers(0, maximum * 10).map(lambda tenths: Decimal(tenths) / 10)


@st.composite
def reviews(draw, rubric=None) -> tuple[list[tuple[int, Decimal]], list[Scored]]:
    rubric = rubric or draw(rubrics())
    return rubric, [Scored(draw(score_for(m)), m, w) for m, w in rubric]


def hand_formula(scores: list[Scored]) -> Decimal:
    """Σ score/max × weight in 60-digit decimals, rounded half up to cents (weights total 100)."""
    with localcontext() as ctx:
        ctx.prec = 60
        total = sum((s.score / Decimal(s.max_score) * s.weight for s in scores), Decimal(0))
        return total.quantize(CENT, rounding=ROUND_HALF_UP)


@given(reviews())
def test_a_review_total_lies_between_0_and_100(case):
    _rubric, scores = case
    total = review_total(scores)
    assert Decimal("0.00") <= total <= Decimal("100.00")
    assert total == total.quantize(CENT)


@given(reviews())
def test_a_review_total_equals_the_hand_formula(case):
    _rubric, scores = case
    assert review_total(scores) == hand_formula(scores)


@given(rubrics())
def test_full_marks_make_100_and_no_marks_make_0(rubric):
    assert review_total([Scored(Decimal(m), m, w) for m, w in rubric]) == Decimal("100.00")
    assert review_total([Scored(Decimal(0), m, w) for m, w in rubric]) == Decimal("0.00")


@given(reviews(), st.data())
def test_a_review_total_is_monotone_in_each_criterion(case, data):
    rubric, scores = case
    i = data.draw(st.integers(0, len(scores) - 1))
    maximum = rubric[i][0]
    higher = data.draw(score_for(maximum).filter(lambda s: s >= scores[i].score))
    raised = [*scores[:i], Scored(higher, maximum, rubric[i][1]), *scores[i + 1:]]
    assert exact_total(raised) >= exact_total(scores)
    assert review_total(raised) >= review_total(scores)


@given(st.lists(reviews(), min_size=1, max_size=5))
def test_the_weighted_score_is_the_mean_of_the_totals(cases):
    sheets = [scores for _rubric, scores in cases]
    exact_mean = sum((exact_total(s) for s in sheets), Fraction(0)) / len(sheets)
    score = weighted_score(sheets)
    assert score == round_half_up(exact_mean)
    assert Decimal("0.00") <= score <= Decimal("100.00")
    low, high, stddev = (lambda sp: (sp.low, sp.high, sp.stddev))(spread(sheets))
    assert low <= score <= high
    assert Decimal("0.00") <= stddev <= (high - low) / 2 + CENT


@given(reviews(), st.integers(1, 6))
def test_the_spread_is_zero_when_all_reviewers_agree(case, n):
    _rubric, scores = case
    result = spread([scores] * n)
    assert result.stddev == Decimal("0.00")
    assert result.low == result.high == review_total(scores) == weighted_score([scores] * n)


def test_no_reviews_no_score():
    assert weighted_score([]) is None and spread([]) is None


@given(st.fractions(min_value=-10**6, max_value=10**6))
def test_round_half_up_agrees_with_decimal_on_exact_values(value):
    with localcontext() as ctx:
        ctx.prec = 80
        expected = (Decimal(value.numerator) / Decimal(value.denominator)).quantize(CENT, rounding=ROUND_HALF_UP)
    assume(value.denominator < 10**20)
    assert round_half_up(value) == expected


@given(st.integers(0, 10**8))
def test_round_half_up_takes_halves_up(cents_times_ten):
    value = Fraction(cents_times_ten, 1000)  # thousandths: every fifth is a half-cent
    expected = Decimal(cents_times_ten).scaleb(-3).quantize(CENT, rounding=ROUND_HALF_UP)
    assert round_half_up(value) == expected


@given(st.fractions(min_value=0, max_value=10**4, max_denominator=10**6))
def test_the_square_root_is_rounded_exactly(value):
    result = _sqrt_half_up(value)
    # result is the cent nearest √value, halves up: (r − ½¢)² ≤ value < (r + ½¢)²
    r = Fraction(result)
    half = Fraction(1, 200)
    assert (max(r - half, Fraction(0))) ** 2 <= value < (r + half) ** 2
    assert math.isclose(float(result), math.sqrt(value), abs_tol=0.006)


@given(st.lists(st.tuples(st.one_of(st.none(), reviews()), st.integers(1, 10**6), st.booleans()), max_size=8),
       st.integers(0, 5 * 10**6))
def test_the_ranking_runs_its_total_in_score_order(items, budget_yuan):
    entries = [RankEntry(key=i, tie_break=f"{i:03d}", requested=Decimal(amount),
                         reviews=[] if case is None else [case[1]], draws_on_budget=draws)
               for i, (case, amount, draws) in enumerate(items)]
    budget = Decimal(budget_yuan)
    rows = rank(entries, budget)
    assert sorted(r.entry.key for r in rows) == list(range(len(items)))
    assert [r.rank for r in rows] == list(range(1, len(rows) + 1))
    scores = [r.score for r in rows]
    known = [s for s in scores if s is not None]
    assert known == sorted(known, reverse=True)
    assert all(s is None for s in scores[len(known):])  # unscored last
    running = Decimal(0)
    for row in rows:
        if row.entry.draws_on_budget:
            running += row.entry.requested
            assert row.running_total == running and row.within_budget == (running <= budget)
        else:
            assert row.running_total is None and row.within_budget
    out = [r for r in rows if r.budget_runs_out]
    over = [r for r in rows if not r.within_budget]
    assert out == over[:1]


@given(st.lists(st.tuples(st.integers(1, 100), st.integers(1, 100), st.integers(0, 1000)), min_size=1, max_size=6))
def test_weights_not_totalling_100_are_scaled_to_it(criteria):
    """Weights 1..100 each (any total): the total is Σ score/max × weight × 100 / Σ weight, still 0..100."""
    scores = [Scored(Decimal(min(s, m * 10)) / 10, m, Decimal(w)) for m, w, s in criteria]
    weights = sum(Fraction(s.weight) for s in scores)
    expected = sum(Fraction(s.score) / s.max_score * Fraction(s.weight) for s in scores) * 100 / weights
    total = review_total(scores)
    assert total == round_half_up(expected)
    assert Decimal("0.00") <= total <= Decimal("100.00")
