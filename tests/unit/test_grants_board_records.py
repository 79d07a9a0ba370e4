"""What the board leaves behind: votes, recusals and decisions the database never lets change (both databases),
the minutes PDF with the key figures in its text layer, and the reviews' weighted scores in the packet."""

from __future__ import annotations

from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlalchemy import select

from fundapp.db import utcnow
from fundapp.grants import board
from fundapp.grants.minutes import mean_score, minutes_pdf, minutes_values, review_rows
from fundapp.grants.models import BoardRecusal, BoardVote, GrantDecision, ReviewAssignment, ReviewScore
from tests.factories import make_user
from tests.grants_board_builders import agenda_with_items, board_members, recommended, vote_all
from tests.grants_builders import funded_fund, make_organisation, make_programme
from tests.unit.donations.test_pdf import _tools, pdf_text

D = Decimal


def _review(session, application, scores: tuple[int, ...], *, name: str, comment: str = "") -> ReviewAssignment:
    reviewer = make_user(session, "reviewer", email=f"{name}@example.org")
    assignment = ReviewAssignment(application_id=application.id, reviewer_id=reviewer.id, status="submitted",
                                  no_conflict=True, comment=comment, version=1, submitted_at=utcnow())
    session.add(assignment)
    session.flush()
    for criterion, score in zip(application.programme.criteria, scores, strict=True):
        session.add(ReviewScore(assignment_id=assignment.id, criterion_id=criterion.id, score=D(score)))
    session.flush()
    return assignment


@pytest.fixture()
def decided(session):
    """A board decision on 幸福社区服务中心's project: 2 for, 1 against, 1 recused; two reviews (78 and 50)."""
    staff = make_user(session, "finance")
    members = board_members(session, 4)
    fund = funded_fund(session, "100000.00", name="社区发展基金")
    programme = make_programme(session, fund, budget="90000.00")
    application = recommended(session, "30000.00", programme=programme, title="长者食堂",
                              organisation=make_organisation(session, name="幸福社区服务中心"))
    _review(session, application, (8, 6, 10), name="wang", comment="Well planned")
    _review(session, application, (5, 5, 5), name="li")
    conflicted = ReviewAssignment(application_id=application.id, reviewer_id=make_user(session, "reviewer").id,
                                  status="conflicted", conflict_note="Board member of the applicant")
    session.add(conflicted)
    session.flush()
    _, [item] = agenda_with_items(session, application, amounts=("28000.00",), staff=staff)
    board.declare_recusal(session, item, members[3], "配偶在申请机构任职")
    result = vote_all(session, item, members[:3], "ara")
    assert result.decision is not None
    return result.decision


def test_weighted_scores_and_their_mean(session, decided):
    rows = review_rows(session, decided.application)
    assert [(r.reviewer, r.status, r.score) for r in rows] == [
        ("wang", "submitted", D("78.00")), ("li", "submitted", D("50.00")), (rows[2].reviewer, "conflicted", None)]
    assert rows[2].conflict == "Board member of the applicant"
    assert mean_score(rows) == D("64.00") and mean_score(rows[2:]) is None


def test_the_minutes_carry_the_key_figures(session, decided, tmp_path):
    _tools()
    values = minutes_values(session, decided)
    assert values["mean_score"] == "64.00"
    assert values["figures"] == {"fund_net_assets": "100,000.00", "fund_spendable": "100,000.00",
                                 "programme_left": "90,000.00"}
    assert (values["quorum_votes"], values["approvals_needed"], values["cast"]) == (2, 2, 3)
    text = pdf_text(minutes_pdf(session, decided), tmp_path)
    flat = " ".join(text.split())
    for expected in (decided.application.reference, "长者食堂", "幸福社区服务中心", "社区发展基金", "28,000.00",
                     "30,000.00", "64.00", "78.00", "100,000.00", "配偶在申请机构任职", "2/3", "1/2",
                     values["decided_at"]):
        assert expected in flat, expected
    for vote in decided.item.votes:
        assert vote.member.name in flat and vote.comment in flat
    assert flat.count("comment of") == 3


def test_a_staff_decision_has_a_record_too(session, tmp_path):
    _tools()
    application = recommended(session, "8000.00", title="Reading corner")
    decision = board.staff_decide(session, application, "approved", D("8000.00"), "", make_user(session, "finance"))
    flat = " ".join(pdf_text(minutes_pdf(session, decision), tmp_path).split())
    assert "Reading corner" in flat and "8,000.00" in flat and "2/3" not in flat


@pytest.mark.parametrize("statement", [
    "UPDATE board_votes SET comment = 'changed' WHERE id = :id",
    "DELETE FROM board_votes WHERE id = :id",
])
def test_a_vote_never_changes(session, decided, statement):
    vote_id = session.scalar(select(BoardVote.id).where(BoardVote.item_id == decided.item_id).limit(1))
    _refused_by_the_database(session, statement, vote_id)
    assert session.get(BoardVote, vote_id).comment.startswith("comment of")


@pytest.mark.parametrize("statement", [
    "UPDATE board_recusals SET reason = 'none' WHERE id = :id",
    "DELETE FROM board_recusals WHERE id = :id",
])
def test_a_recusal_never_changes(session, decided, statement):
    recusal_id = session.scalar(select(BoardRecusal.id).where(BoardRecusal.item_id == decided.item_id))
    _refused_by_the_database(session, statement, recusal_id)


@pytest.mark.parametrize("statement", [
    "UPDATE grant_decisions SET outcome = 'approved' WHERE id = :id",
    "UPDATE grant_decisions SET public_summary = '' WHERE id = :id",
    "DELETE FROM grant_decisions WHERE id = :id",
])
def test_a_decision_never_changes(session, statement):
    application = recommended(session, "50000.00")  # rejected: no award refers to it, only the trigger guards it
    decision = board.staff_decide(session, application, "rejected", None, "", None)
    _refused_by_the_database(session, statement, decision.id)
    session.expire_all()
    assert session.get(GrantDecision, decision.id).outcome == "rejected"


def _refused_by_the_database(session, statement: str, row_id: int) -> None:
    with pytest.raises(sa.exc.DBAPIError):
        with session.begin_nested():
            session.execute(sa.text(statement), {"id": row_id})
