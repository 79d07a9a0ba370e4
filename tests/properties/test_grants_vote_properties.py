"""Properties of the board's count (fundapp.grants.board.outcome) under any quorum and majority rule.

The oracle is plain integer arithmetic, independent of Fraction: quorum met iff cast × q_den ≥ q_num × eligible
rounded up, i.e. cast ≥ ⌈q_num × eligible / q_den⌉ = (q_num × eligible + q_den − 1) // q_den; approved iff
approve × m_den > m_num × cast.
"""

from __future__ import annotations

from fractions import Fraction

from hypothesis import assume, given
from hypothesis import strategies as st

from fundapp.grants.board import Tally, outcome, parse_rule, quorum_needed


@st.composite
def rules(draw):
    q_den = draw(st.integers(min_value=1, max_value=12))
    q_num = draw(st.integers(min_value=1, max_value=q_den))  # 0 < quorum ≤ 1
    m_den = draw(st.integers(min_value=1, max_value=12))
    m_num = draw(st.integers(min_value=0, max_value=m_den - 1))  # 0 ≤ majority < 1
    return Fraction(q_num, q_den), Fraction(m_num, m_den)


@st.composite
def tallies(draw):
    eligible = draw(st.integers(min_value=0, max_value=40))
    cast = draw(st.integers(min_value=0, max_value=eligible))
    approve = draw(st.integers(min_value=0, max_value=cast))
    reject = draw(st.integers(min_value=0, max_value=cast - approve))
    recused = draw(st.integers(min_value=0, max_value=10))
    return Tally(approve, reject, cast - approve - reject, recused, eligible)


def oracle(t: Tally, quorum: Fraction, majority: Fraction) -> str:
    needed = (quorum.numerator * t.eligible + quorum.denominator - 1) // quorum.denominator
    if t.cast == 0 or t.cast < needed:
        return "no_quorum"
    return "approved" if t.approve * majority.denominator > majority.numerator * t.cast else "rejected"


@given(tallies(), rules())
def test_the_count_matches_integer_arithmetic(tally, rule):
    assert outcome(tally, *rule) == oracle(tally, *rule)


@given(tallies(), rules())
def test_no_quorum_exactly_when_fewer_votes_than_the_rounded_up_share(tally, rule):
    quorum, majority = rule
    needed = quorum_needed(tally.eligible, quorum)
    assert needed >= quorum * tally.eligible and needed - 1 < quorum * tally.eligible
    assert (outcome(tally, quorum, majority) == "no_quorum") == (tally.cast < needed or tally.cast == 0)


@given(tallies(), rules())
def test_one_more_approval_never_turns_an_approval_into_a_rejection(tally, rule):
    """An approval from a member who had not voted (more votes cast) or instead of a rejection or abstention."""
    before = outcome(tally, *rule)
    if tally.cast < tally.eligible:
        added = Tally(tally.approve + 1, tally.reject, tally.abstain, tally.recused, tally.eligible)
        assert not (before == "approved" and outcome(added, *rule) != "approved")
        assert not (before == "rejected" and outcome(added, *rule) == "no_quorum")
    for switched in (Tally(tally.approve + 1, tally.reject - 1, tally.abstain, tally.recused, tally.eligible),
                     Tally(tally.approve + 1, tally.reject, tally.abstain - 1, tally.recused, tally.eligible)):
        if min(switched.reject, switched.abstain) >= 0:
            assert outcome(switched, *rule) != "no_quorum" or before == "no_quorum"
            assert not (before == "approved" and outcome(switched, *rule) == "rejected")


@given(tallies(), rules())
def test_more_votes_never_lose_the_quorum(tally, rule):
    assume(tally.cast < tally.eligible)
    more = Tally(tally.approve, tally.reject, tally.abstain + 1, tally.recused, tally.eligible)
    assert not (outcome(tally, *rule) != "no_quorum" and outcome(more, *rule) == "no_quorum")


@given(tallies(), rules())
def test_a_unanimous_quorate_vote_is_approved(tally, rule):
    assume(tally.eligible > 0)
    unanimous = Tally(tally.eligible, 0, 0, tally.recused, tally.eligible)
    assert outcome(unanimous, *rule) == "approved"


@given(st.integers(min_value=1, max_value=50), st.integers(min_value=1, max_value=50))
def test_rules_parse_exactly(numerator, denominator):
    assume(numerator <= denominator)
    assert parse_rule(f"{numerator}/{denominator}") == Fraction(numerator, denominator)
