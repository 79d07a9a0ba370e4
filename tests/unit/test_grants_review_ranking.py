"""The ranking of a programme against figures worked out by hand.

Rubric (make_programme): Need 40 %, Feasibility 35 %, Value 25 %, each scored 0..10. A review's total is
Σ score/10 × weight. Budget 25,000.

    B  requested 12,000  reviews 9/9/9 = 90.00 · 10/8/9.5 = 40+28+23.75 = 91.75 · 7.5/8/6 = 30+28+15 = 73.00
                         mean 254.75/3 = 84.9166… → 84.92; low 73.00, high 91.75;
                         σ = √((61² + 82² + 143²)/144/3) = √(30894/432) = √71.5138… = 8.4566… → 8.46
    A  requested 10,000  reviews 8/7/9 = 32+24.5+22.5 = 79.00 · 6/9/5 = 24+31.5+12.5 = 68.00
                         (+ one conflicted reviewer, + one whose 10/10/10 is only a draft: neither counts)
                         mean 73.50; low 68.00, high 79.00; σ = 5.50
    E  recommended, requested 6,000, one review 7/7/7 = 70.00; σ 0
    D  rejected, requested 5,000, one review 5/5/5 = 50.00 — ranked, but not in the running total
    C  in review, requested 8,000, no review submitted — ranked last
    F  submitted (no reviewer yet) and G withdrawn — not in the ranking

    rank  app  score  running total
      1    B   84.92   12,000  within
      2    A   73.50   22,000  within
      3    E   70.00   28,000  ← the budget runs out here
      4    D   50.00     —     (rejected)
      5    C     —     36,000  over
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from fundapp.grants import review
from fundapp.grants.models import ApplicationStatus
from fundapp.grants.review import ScoreInput
from fundapp.grants.transitions import change_status
from tests.factories import make_user
from tests.grants_builders import make_application, make_programme

S = ApplicationStatus
D = Decimal


def scored(session, programme, application, staff, *sheets, submit=True):
    for sheet in sheets:
        reviewer = make_user(session, "reviewer")
        (assignment,) = review.assign_reviewers(session, application, [reviewer.id], staff)
        review.confirm_no_conflict(session, assignment, reviewer)
        entries = [ScoreInput(c.id, D(s)) for c, s in zip(programme.criteria, sheet, strict=True)]
        review.save_review(session, assignment, entries, "", reviewer, submit=submit)


@pytest.fixture()
def ranked(session):
    staff = make_user(session, "finance")
    programme = make_programme(session, budget="25000.00")
    apps = {}
    for name, amount in (("A", "10000"), ("B", "12000"), ("C", "8000"), ("D", "5000"), ("E", "6000"),
                         ("F", "3000"), ("G", "2000")):
        apps[name] = make_application(session, programme, amount=amount, title=f"Project {name}")
    scored(session, programme, apps["A"], staff, ("8", "7", "9"), ("6", "9", "5"))
    scored(session, programme, apps["A"], staff, ("10", "10", "10"), submit=False)
    conflicted = make_user(session, "reviewer")
    (assignment,) = review.assign_reviewers(session, apps["A"], [conflicted.id], staff)
    review.declare_conflict(session, assignment, "Former employee", conflicted)
    scored(session, programme, apps["B"], staff, ("9", "9", "9"), ("10", "8", "9.5"), ("7.5", "8", "6"))
    review.assign_reviewers(session, apps["C"], [make_user(session, "reviewer").id], staff)
    scored(session, programme, apps["D"], staff, ("5", "5", "5"))
    change_status(session, apps["D"], S.rejected.value, staff)
    scored(session, programme, apps["E"], staff, ("7", "7", "7"))
    change_status(session, apps["E"], S.recommended.value, staff)
    change_status(session, apps["G"], S.withdrawn.value, staff)
    return programme, apps


def test_ranking_matches_the_hand_computed_figures(session, ranked):
    programme, apps = ranked
    rows, counts = review.programme_ranking(session, programme)
    names = {a.id: name for name, a in apps.items()}
    table = [(r.rank, names[r.entry.key.id], r.score, r.running_total, r.within_budget, r.budget_runs_out)
             for r in rows]
    assert table == [
        (1, "B", D("84.92"), D("12000.00"), True, False),
        (2, "A", D("73.50"), D("22000.00"), True, False),
        (3, "E", D("70.00"), D("28000.00"), False, True),
        (4, "D", D("50.00"), None, True, False),
        (5, "C", None, D("36000.00"), False, False),
    ]
    spreads = {names[r.entry.key.id]: r.spread for r in rows}
    assert spreads["B"] == review.Spread(D("73.00"), D("91.75"), D("8.46"))
    assert spreads["A"] == review.Spread(D("68.00"), D("79.00"), D("5.50"))
    assert spreads["E"] == review.Spread(D("70.00"), D("70.00"), D("0.00"))
    assert spreads["C"] is None
    tallies = {names[k]: (c.done, c.assigned, c.conflicted) for k, c in counts.items()}
    assert tallies == {"A": (2, 3, 1), "B": (3, 3, 0), "C": (0, 1, 0), "D": (1, 1, 0), "E": (1, 1, 0)}
    assert [r.entry.requested for r in rows] == [D("12000.00"), D("10000.00"), D("6000.00"), D("5000.00"),
                                                 D("8000.00")]


def test_review_totals_of_the_fixture(session, ranked):
    programme, _apps = ranked
    weights = [c.weight for c in programme.criteria]

    def total(*scores):
        return review.review_total([review.Scored(D(s), 10, w) for s, w in zip(scores, weights, strict=True)])

    assert total("8", "7", "9") == D("79.00")
    assert total("10", "8", "9.5") == D("91.75")
    assert total("7.5", "8", "6") == D("73.00")
    assert total("10", "10", "10") == D("100.00")
    assert total("0", "0", "0") == D("0.00")


def test_an_empty_programme_ranks_nothing(session):
    programme = make_programme(session)
    make_application(session, programme)  # submitted, no reviewer: waiting, not ranked
    assert review.programme_ranking(session, programme) == ([], {})


def test_ties_are_broken_by_reference():
    one = review.RankEntry("x", "A-2", D("10"), [[review.Scored(D("5"), 10, D("100"))]])
    two = review.RankEntry("y", "A-1", D("10"), [[review.Scored(D("5"), 10, D("100"))]])
    assert [r.entry.key for r in review.rank([one, two], D("100"))] == ["y", "x"]


def test_a_budget_met_exactly_is_within_it():
    rows = review.rank([review.RankEntry(n, n, D("50.00")) for n in "ab"] + [review.RankEntry("c", "c", D("0.01"))],
                       D("100.00"))
    assert [(r.running_total, r.within_budget, r.budget_runs_out) for r in rows] == [
        (D("50.00"), True, False), (D("100.00"), True, False), (D("100.01"), False, True)]
