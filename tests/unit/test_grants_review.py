"""Review services: assigning and unassigning reviewers, conflicts of interest, scoring, submitting, recommending.
Every refusal leaves nothing written."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from fundapp.audit.models import AuditEvent
from fundapp.errors import DomainError, Forbidden
from fundapp.grants import review
from fundapp.grants.attachments import reviewer_may_see
from fundapp.grants.errors import GrantError
from fundapp.grants.models import (
    ApplicationStatus,
    AssignmentStatus,
    OrganisationMember,
    ReviewAssignment,
    ReviewScore,
)
from fundapp.grants.review import ScoreInput
from fundapp.notify.models import Notification
from tests.factories import make_user
from tests.grants_builders import make_applicant, make_application, make_programme

S = ApplicationStatus


@pytest.fixture()
def staff(session):
    return make_user(session, "finance")


@pytest.fixture()
def programme(session):
    return make_programme(session)


def reviewers(session, n=2):
    return [make_user(session, "reviewer") for _ in range(n)]


def state(session) -> tuple[int, int, int, int]:
    """Rows that a refused action must not have added: assignments, scores, audit events, notifications."""
    return tuple(session.scalar(select(func.count()).select_from(model))
                 for model in (ReviewAssignment, ReviewScore, AuditEvent, Notification))


def tags(session) -> list[str]:
    return list(session.scalars(select(AuditEvent.tag).order_by(AuditEvent.id)))


def full(programme, *scores, comment="fine") -> list[ScoreInput]:
    return [ScoreInput(c.id, None if s is None else Decimal(s), comment if s is not None else "")
            for c, s in zip(programme.criteria, scores, strict=True)]


def ready(session, programme, staff, reviewer=None):
    """An application in review with one reviewer who confirmed no conflict."""
    reviewer = reviewer or reviewers(session, 1)[0]
    application = make_application(session, programme)
    (assignment,) = review.assign_reviewers(session, application, [reviewer.id], staff)
    review.confirm_no_conflict(session, assignment, reviewer)
    return application, assignment, reviewer


# --- assignment -------------------------------------------------------------------------------------------------


def test_first_assignment_puts_the_application_in_review_and_tells_the_reviewers(session, staff, programme):
    org, applicant = make_applicant(session)
    application = make_application(session, programme, org)
    one, two = reviewers(session)
    created = review.assign_reviewers(session, application, [one.id, two.id], staff)

    assert [a.reviewer_id for a in created] == [one.id, two.id]
    assert all(a.status == AssignmentStatus.assigned.value and a.assigned_by_id == staff.id for a in created)
    assert application.status == S.in_review.value
    assert tags(session).count("grants:review:assigned") == 2
    assert tags(session).count("grants:application:status_changed") == 1
    told = session.scalars(select(Notification).where(Notification.kind == "review_assigned")
                           .order_by(Notification.id)).all()
    assert [(n.user_id, n.link) for n in told] == [(one.id, f"/grants/reviews/{created[0].id}"),
                                                   (two.id, f"/grants/reviews/{created[1].id}")]
    assert application.reference in told[0].subject
    assert session.scalar(select(Notification).where(Notification.user_id == applicant.id,
                                                     Notification.kind == "application_status"))


def test_a_later_assignment_leaves_the_status_alone(session, staff, programme):
    application = make_application(session, programme)
    one, two = reviewers(session)
    review.assign_reviewers(session, application, [one.id], staff)
    review.assign_reviewers(session, application, [two.id], staff)
    assert application.status == S.in_review.value
    assert tags(session).count("grants:application:status_changed") == 1


@pytest.mark.parametrize("status", [S.draft, S.revision_requested, S.recommended, S.approved, S.rejected,
                                    S.withdrawn])
def test_assignment_refused_outside_submitted_and_in_review(session, staff, programme, status):
    application = make_application(session, programme, status=status.value)
    (one,) = reviewers(session, 1)
    before = state(session)
    with pytest.raises(GrantError, match="only to a submitted application"):
        review.assign_reviewers(session, application, [one.id], staff)
    assert state(session) == before and application.status == status.value


def test_assignment_refuses_non_reviewers_disabled_users_duplicates_members_and_nobody(session, staff, programme):
    org, applicant = make_applicant(session)
    application = make_application(session, programme, org)
    one, two = reviewers(session)
    review.assign_reviewers(session, application, [one.id], staff)
    disabled = make_user(session, "reviewer")
    disabled.is_enabled = False
    member = make_user(session, "reviewer")
    session.add(OrganisationMember(organisation_id=org.id, user_id=member.id))
    board = make_user(session, "board")
    session.flush()
    before = state(session)
    cases = [([board.id], "reviewer role"), ([disabled.id], "reviewer role"), ([applicant.id], "reviewer role"),
             ([two.id, one.id], "already on"), ([member.id], "acts for the applying organisation"),
             ([], "at least one reviewer"), ([999999], "reviewer role")]
    for ids, message in cases:
        with pytest.raises(GrantError, match=message):
            review.assign_reviewers(session, application, ids, staff)
        assert state(session) == before, ids


def test_assign_to_many_skips_pairs_already_made_and_refuses_when_nothing_is_new(session, staff, programme):
    first, second = make_application(session, programme), make_application(session, programme)
    one, two = reviewers(session)
    review.assign_reviewers(session, first, [one.id], staff)
    created = review.assign_to_many(session, [first, second], [one.id, two.id], staff)
    assert sorted((a.application_id, a.reviewer_id) for a in created) == sorted(
        [(first.id, two.id), (second.id, one.id), (second.id, two.id)])
    assert second.status == S.in_review.value
    before = state(session)
    with pytest.raises(GrantError, match="already on every"):
        review.assign_to_many(session, [first, second], [one.id, two.id], staff)
    with pytest.raises(GrantError, match="at least one application"):
        review.assign_to_many(session, [], [one.id], staff)
    assert state(session) == before


def test_assign_to_many_is_all_or_nothing(session, staff, programme):
    good = make_application(session, programme)
    bad = make_application(session, programme, status=S.draft.value)
    (one,) = reviewers(session, 1)
    before = state(session)
    with pytest.raises(GrantError):
        review.assign_to_many(session, [good, bad], [one.id], staff)
    assert state(session) == before and good.status == S.submitted.value


def test_unassign_before_scoring(session, staff, programme):
    application = make_application(session, programme)
    (one,) = reviewers(session, 1)
    (assignment,) = review.assign_reviewers(session, application, [one.id], staff)
    review.confirm_no_conflict(session, assignment, one)  # confirming is not scoring
    review.unassign_reviewer(session, assignment, staff)
    assert session.scalar(select(func.count()).select_from(ReviewAssignment)) == 0
    event = session.scalars(select(AuditEvent).where(AuditEvent.tag == "grants:review:unassigned")).one()
    assert event.subject_id == str(application.id) and event.before["reviewer"] == one.id


def test_unassign_refused_once_scoring_started_submitted_or_conflicted(session, staff, programme):
    _app, drafted, one = ready(session, programme, staff)
    review.save_review(session, drafted, full(programme, "5", None, None), "", one)
    _app, submitted, two = ready(session, programme, staff)
    review.save_review(session, submitted, full(programme, "5", "5", "5"), "", two, submit=True)
    application = make_application(session, programme)
    (three,) = reviewers(session, 1)
    (conflicted,) = review.assign_reviewers(session, application, [three.id], staff)
    review.declare_conflict(session, conflicted, "My sister runs it", three)
    before = state(session)
    for assignment, message in ((drafted, "started scoring"), (submitted, "started scoring"),
                                (conflicted, "stays on record")):
        with pytest.raises(GrantError, match=message):
            review.unassign_reviewer(session, assignment, staff)
    assert state(session) == before


# --- conflicts of interest --------------------------------------------------------------------------------------


def test_declaring_a_conflict_takes_the_reviewer_off_and_tells_staff(session, staff, programme):
    admin, board = make_user(session, "admin"), make_user(session, "board")
    application = make_application(session, programme)
    (one,) = reviewers(session, 1)
    (assignment,) = review.assign_reviewers(session, application, [one.id], staff)
    assert reviewer_may_see(session, application.id, one.id)

    review.declare_conflict(session, assignment, "  I sit on their board  ", one)

    assert assignment.status == AssignmentStatus.conflicted.value
    assert assignment.conflict_note == "I sit on their board" and assignment.conflict_declared_at is not None
    assert not reviewer_may_see(session, application.id, one.id)
    assert not review.is_active_reviewer(assignment, one.id)
    told = session.scalars(select(Notification.user_id).where(Notification.kind == "review_conflict")).all()
    assert set(told) >= {staff.id, admin.id} and board.id not in told and one.id not in told
    event = session.scalars(select(AuditEvent).where(AuditEvent.tag == "grants:review:conflict_declared")).one()
    assert event.after["note"] == "I sit on their board" and event.actor_id == one.id


def test_a_conflict_after_confirming_none_drops_the_draft_scores(session, staff, programme):
    _app, assignment, one = ready(session, programme, staff)
    review.save_review(session, assignment, full(programme, "8", "7", None), "", one)
    assert len(assignment.scores) == 2
    review.declare_conflict(session, assignment, "Found out my cousin works there", one)
    assert session.scalar(select(func.count()).select_from(ReviewScore)) == 0
    assert assignment.status == AssignmentStatus.conflicted.value and not assignment.no_conflict


def test_conflict_refusals_leave_nothing_written(session, staff, programme):
    application = make_application(session, programme)
    one, two = reviewers(session)
    (assignment,) = review.assign_reviewers(session, application, [one.id], staff)
    before = state(session)
    with pytest.raises(GrantError, match="Say what"):
        review.declare_conflict(session, assignment, "   ", one)
    with pytest.raises(GrantError, match="under 500"):
        review.declare_conflict(session, assignment, "x" * 501, one)
    with pytest.raises(Forbidden):
        review.declare_conflict(session, assignment, "not mine", two)
    assert state(session) == before and assignment.status == AssignmentStatus.assigned.value
    review.declare_conflict(session, assignment, "related", one)
    with pytest.raises(GrantError, match="no longer on this application"):
        review.declare_conflict(session, assignment, "again", one)
    with pytest.raises(GrantError, match="no longer on this application"):
        review.confirm_no_conflict(session, assignment, one)


# --- scoring ----------------------------------------------------------------------------------------------------


def test_scoring_needs_the_declaration_first(session, staff, programme):
    application = make_application(session, programme)
    (one,) = reviewers(session, 1)
    (assignment,) = review.assign_reviewers(session, application, [one.id], staff)
    before = state(session)
    with pytest.raises(GrantError, match="before scoring"):
        review.save_review(session, assignment, full(programme, "5", "5", "5"), "", one)
    assert state(session) == before
    review.confirm_no_conflict(session, assignment, one)
    assert assignment.no_conflict and "grants:review:no_conflict" in tags(session)


@pytest.mark.parametrize("score, message", [("-1", "between 0 and 10"), ("10.5", "between 0 and 10"),
                                            ("11", "between 0 and 10"), ("7.25", "one decimal place"),
                                            ("NaN", "between 0 and 10"), ("Infinity", "between 0 and 10")])
def test_scores_out_of_range_are_refused(session, staff, programme, score, message):
    _app, assignment, one = ready(session, programme, staff)
    before = state(session)
    with pytest.raises(GrantError, match=message):
        review.save_review(session, assignment, full(programme, score, "5", "5"), "", one)
    assert state(session) == before


def test_scores_at_the_edges_and_with_one_decimal_are_kept(session, staff, programme):
    _app, assignment, one = ready(session, programme, staff)
    review.save_review(session, assignment, full(programme, "0", "10", "7.5"), "Solid plan", one)
    kept = {s.criterion_id: (s.score, s.comment) for s in assignment.scores}
    need, feasibility, value = programme.criteria
    assert kept == {need.id: (Decimal("0"), "fine"), feasibility.id: (Decimal("10"), "fine"),
                    value.id: (Decimal("7.5"), "fine")}
    assert assignment.comment == "Solid plan" and assignment.status == AssignmentStatus.assigned.value
    assert assignment.version == 1
    assert tags(session)[-1] == "grants:review:saved"


def test_a_draft_can_be_changed_and_a_score_cleared(session, staff, programme):
    _app, assignment, one = ready(session, programme, staff)
    review.save_review(session, assignment, full(programme, "3", "4", "5"), "", one)
    review.save_review(session, assignment, full(programme, "6", None, "5"), "", one)
    assert sorted(s.score for s in assignment.scores) == [Decimal("5"), Decimal("6")]


def test_unknown_criterion_and_comment_without_score_are_refused(session, staff, programme):
    _app, assignment, one = ready(session, programme, staff)
    other = make_programme(session)
    before = state(session)
    with pytest.raises(GrantError, match="not in this programme"):
        review.save_review(session, assignment, [ScoreInput(other.criteria[0].id, Decimal("5"))], "", one)
    with pytest.raises(GrantError, match="to keep its comment"):
        review.save_review(session, assignment, [ScoreInput(programme.criteria[0].id, None, "great")], "", one)
    assert state(session) == before


def test_submitting_an_incomplete_review_is_refused(session, staff, programme):
    _app, assignment, one = ready(session, programme, staff)
    review.save_review(session, assignment, full(programme, "5", None, None), "", one)
    before = state(session)
    with pytest.raises(GrantError, match=r"missing: Value\."):
        review.save_review(session, assignment, full(programme, "5", "6", None), "", one, submit=True)
    assert state(session) == before
    assert assignment.status == AssignmentStatus.assigned.value and len(assignment.scores) == 1


def test_a_submitted_review_is_final(session, staff, programme):
    _app, assignment, one = ready(session, programme, staff)
    review.save_review(session, assignment, full(programme, "8", "7", "9"), "Good", one, submit=True)
    assert assignment.status == AssignmentStatus.submitted.value and assignment.submitted_at is not None
    assert tags(session)[-1] == "grants:review:submitted"
    before = state(session)
    with pytest.raises(GrantError, match="submitted and is final"):
        review.save_review(session, assignment, full(programme, "8", "7", "9"), "Good", one, submit=True)
    with pytest.raises(GrantError, match="submitted and is final"):
        review.save_review(session, assignment, full(programme, "1", "1", "1"), "changed my mind", one)
    with pytest.raises(GrantError, match="submitted and is final"):
        review.declare_conflict(session, assignment, "late conflict", one)
    assert state(session) == before
    assert sorted(s.score for s in assignment.scores) == [Decimal("7"), Decimal("8"), Decimal("9")]


def test_only_the_assigned_reviewer_may_score(session, staff, programme):
    _app, assignment, one = ready(session, programme, staff)
    (other,) = reviewers(session, 1)
    before = state(session)
    for actor in (other, staff):
        with pytest.raises(Forbidden):
            review.save_review(session, assignment, full(programme, "5", "5", "5"), "", actor)
    assert state(session) == before


def test_no_scoring_once_the_application_left_review(session, staff, programme):
    application, assignment, one = ready(session, programme, staff)
    from fundapp.grants.transitions import change_status
    change_status(session, application, S.withdrawn.value, staff)
    before = state(session)
    with pytest.raises(GrantError, match="not open for review"):
        review.save_review(session, assignment, full(programme, "5", "5", "5"), "", one, submit=True)
    assert state(session) == before


# --- recommending -----------------------------------------------------------------------------------------------


def test_recommend_is_all_or_none(session, staff, programme):
    in_review = make_application(session, programme, status=S.in_review.value)
    draft = make_application(session, programme, status=S.draft.value)
    before = state(session)
    with pytest.raises(GrantError, match="cannot be recommended"):
        review.recommend_applications(session, [in_review, draft], staff)
    assert state(session) == before and in_review.status == S.in_review.value
    with pytest.raises(GrantError, match="at least one"):
        review.recommend_applications(session, [], staff)
    review.recommend_applications(session, [in_review], staff, "Strong community support")
    assert in_review.status == S.recommended.value
    event = session.scalars(select(AuditEvent).where(AuditEvent.tag == "grants:application:status_changed")).one()
    assert event.after == {"status": "recommended", "note": "Strong community support"}


def test_errors_are_domain_errors_with_a_message(session, staff, programme):
    application = make_application(session, programme, status=S.draft.value)
    with pytest.raises(DomainError) as caught:
        review.assign_reviewers(session, application, [staff.id], staff)
    assert caught.value.message


def test_no_scoring_without_a_rubric(session, staff):
    programme = make_programme(session, criteria=())
    _app, assignment, one = ready(session, programme, staff)
    before = state(session)
    with pytest.raises(GrantError, match="no rubric yet"):
        review.save_review(session, assignment, [], "", one, submit=True)
    assert state(session) == before and review.assignment_total(assignment, {}) is None
