"""Review of grant applications: assigning reviewers, conflicts of interest, scoring against the rubric, and the
ranking of a programme's applications.

The life of an assignment:

    staff assign ──▶ assigned ──declare conflict (note)──▶ conflicted   (out: no access, no scores, staff told)
                        │
                        └──confirm no conflict──▶ scoring: save drafts … ──submit (all criteria)──▶ submitted (final)

Staff may take a reviewer off an application only before any score was saved, never after a conflict was declared
(the declaration stays on record).

The figures (pure functions on plain values, so they can be property-tested):

    review total   = Σ score_i / max_score_i × weight_i  over the rubric's criteria, × 100 / Σ weight_i
                     (weights are percentages that total 100, making the last factor 1; a rubric whose weights do
                     not total 100 is scaled so a total still runs 0..100)
    weighted score = mean of the review totals of the submitted reviews
    spread         = lowest and highest review total, and their population standard deviation
                     (√(Σ(total − mean)² / n): the reviewers who scored are all the reviewers, not a sample)

Everything is computed exactly (fractions) and rounded once, at the end, to 2 places with ROUND_HALF_UP.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from fundapp.audit.services import AuditTag, record_event
from fundapp.auth.models import User, UserRole
from fundapp.db import utcnow
from fundapp.errors import Forbidden
from fundapp.grants.errors import GrantError
from fundapp.grants.models import (
    Application,
    ApplicationStatus,
    AssignmentStatus,
    OrganisationMember,
    Programme,
    ReviewAssignment,
    ReviewScore,
    RubricCriterion,
)
from fundapp.grants.transitions import ALLOWED, change_status, status_label
from fundapp.notify.services import notify

S = ApplicationStatus
ASSIGNABLE = (S.submitted.value, S.in_review.value)
SCORABLE = (S.submitted.value, S.in_review.value, S.recommended.value, S.on_agenda.value)
RANKED = (S.in_review.value, S.recommended.value, S.on_agenda.value, S.approved.value, S.rejected.value)
DRAWS_ON_BUDGET = (S.in_review.value, S.recommended.value, S.on_agenda.value, S.approved.value)
STAFF_ROLES = ("finance", "admin")
REVIEWER_ROLE = "reviewer"
HUNDRED = Fraction(100)
NOTE_MAX, COMMENT_MAX, OVERALL_MAX = 500, 2000, 10000


# --- the figures ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scored:
    """One criterion's score in one review, with the criterion's scale and weight."""

    score: Decimal
    max_score: Decimal | int
    weight: Decimal | int


@dataclass(frozen=True)
class Spread:
    low: Decimal
    high: Decimal
    stddev: Decimal


def round_half_up(value: Fraction) -> Decimal:
    """An exact value rounded once to 2 places, halves away from zero."""
    hundredths = abs(value) * 100
    whole = math.floor(hundredths)
    if hundredths - whole >= Fraction(1, 2):
        whole += 1
    return Decimal(-whole if value < 0 else whole).scaleb(-2)


def exact_total(scores: Iterable[Scored]) -> Fraction:
    """A review's total, unrounded (0..100 for scores within 0..max_score)."""
    scores = list(scores)
    if not scores:
        raise ValueError("a review total needs at least one scored criterion")
    weights = sum(Fraction(s.weight) for s in scores)
    if weights <= 0:
        raise ValueError("the weights must be positive")
    weighted = sum(Fraction(s.score) / Fraction(s.max_score) * Fraction(s.weight) for s in scores)
    return weighted * HUNDRED / weights


def review_total(scores: Iterable[Scored]) -> Decimal:
    """A review's weighted total, rounded to 2 places."""
    return round_half_up(exact_total(scores))


def weighted_score(reviews: Sequence[Sequence[Scored]]) -> Decimal | None:
    """The mean of the reviews' totals, rounded to 2 places; None without reviews."""
    if not reviews:
        return None
    totals = [exact_total(r) for r in reviews]
    return round_half_up(sum(totals, Fraction(0)) / len(totals))


def _sqrt_half_up(value: Fraction) -> Decimal:
    """√value rounded to 2 places, halves up, decided exactly: n = ⌊√(100²·v)⌋, +1 when 100²·v ≥ (n + ½)²."""
    scaled = value * 10000
    whole = math.isqrt(math.floor(scaled))
    if scaled >= (Fraction(2 * whole + 1, 2)) ** 2:
        whole += 1
    return Decimal(whole).scaleb(-2)


def spread(reviews: Sequence[Sequence[Scored]]) -> Spread | None:
    """Lowest and highest review total and their population standard deviation; None without reviews."""
    if not reviews:
        return None
    totals = [exact_total(r) for r in reviews]
    mean = sum(totals, Fraction(0)) / len(totals)
    variance = sum(((t - mean) ** 2 for t in totals), Fraction(0)) / len(totals)
    return Spread(round_half_up(min(totals)), round_half_up(max(totals)), _sqrt_half_up(variance))


@dataclass
class RankEntry:
    """One application as the ranking sees it: its submitted reviews and what it asks for."""

    key: Any
    tie_break: str
    requested: Decimal
    reviews: list[list[Scored]] = field(default_factory=list)
    draws_on_budget: bool = True


@dataclass
class RankRow:
    entry: RankEntry
    rank: int
    score: Decimal | None
    spread: Spread | None
    running_total: Decimal | None  # None: the application does not draw on the budget (rejected)
    within_budget: bool
    budget_runs_out: bool  # the first row whose running total passes the budget


def rank(entries: Iterable[RankEntry], budget: Decimal) -> list[RankRow]:
    """Entries by weighted score (highest first, unscored last, then by `tie_break`), with the running total of
    the requested amounts of those drawing on the budget, and where the budget runs out."""
    scored = [(e, weighted_score(e.reviews), spread(e.reviews)) for e in entries]
    scored.sort(key=lambda t: (t[1] is None, -(t[1] or 0), t[0].tie_break))
    rows, running, out_marked = [], Decimal("0.00"), False
    for position, (entry, score, spread_) in enumerate(scored, start=1):
        total = None
        if entry.draws_on_budget:
            running += entry.requested
            total = running
        within = total is None or total <= budget
        runs_out = not within and not out_marked
        out_marked = out_marked or runs_out
        rows.append(RankRow(entry, position, score, spread_, total, within, runs_out))
    return rows


# --- who may see what -------------------------------------------------------------------------------------------


def is_active_reviewer(assignment: ReviewAssignment, user_id: int | None) -> bool:
    """The user is this assignment's reviewer and has not declared a conflict."""
    return assignment.reviewer_id == user_id and assignment.status != AssignmentStatus.conflicted.value


def needs_declaration(assignment: ReviewAssignment) -> bool:
    return assignment.status == AssignmentStatus.assigned.value and not assignment.no_conflict


def reviewer_candidates(session: Session, application: Application | None = None) -> list[User]:
    """Enabled users with role reviewer, less those already on `application` and its organisation's own users."""
    stmt = (select(User).join(UserRole, UserRole.user_id == User.id)
            .where(UserRole.role == REVIEWER_ROLE, User.is_enabled.is_(True)).order_by(User.name, User.email))
    if application is not None:
        taken = select(ReviewAssignment.reviewer_id).where(ReviewAssignment.application_id == application.id)
        members = select(OrganisationMember.user_id).where(
            OrganisationMember.organisation_id == application.organisation_id)
        stmt = stmt.where(User.id.not_in(taken), User.id.not_in(members))
    return list(session.scalars(stmt).unique())


def staff_user_ids(session: Session) -> list[int]:
    return list(session.scalars(select(UserRole.user_id).join(User, User.id == UserRole.user_id)
                                .where(UserRole.role.in_(STAFF_ROLES), User.is_enabled.is_(True))).unique())


def lock_assignment(session: Session, assignment_id: int) -> ReviewAssignment:
    """The assignment row, locked until the transaction ends; GrantError if staff took it away meanwhile."""
    stmt = select(ReviewAssignment).where(ReviewAssignment.id == assignment_id).with_for_update(of=ReviewAssignment)
    found = session.execute(stmt.execution_options(populate_existing=True)).scalar_one_or_none()
    if found is None:
        raise GrantError(_("This reviewer is no longer assigned to the application."))
    return found


def _lock_application(session: Session, application_id: int) -> Application:
    stmt = select(Application).where(Application.id == application_id).with_for_update(of=Application)
    return session.execute(stmt.execution_options(populate_existing=True)).scalar_one()


# --- assignment -------------------------------------------------------------------------------------------------


def _eligible_reviewers(session: Session, reviewer_ids: Iterable[int]) -> list[User]:
    ids = list(dict.fromkeys(int(i) for i in reviewer_ids))
    if not ids:
        raise GrantError(_("Choose at least one reviewer."))
    users = {u.id: u for u in session.scalars(select(User).where(User.id.in_(ids)))}
    for user_id in ids:
        user = users.get(user_id)
        if user is None or not user.is_enabled or not user.has_role(REVIEWER_ROLE):
            raise GrantError(_("Only enabled users with the reviewer role can be assigned."))
    return [users[i] for i in ids]


def _check_assignable(session: Session, application: Application, reviewers: list[User]) -> None:
    if application.status not in ASSIGNABLE:
        raise GrantError(_("Reviewers can be assigned only to a submitted application or one in review; "
                           "%(ref)s is “%(status)s”.", ref=application.reference,
                           status=status_label(application.status)))
    members = set(session.scalars(select(OrganisationMember.user_id).where(
        OrganisationMember.organisation_id == application.organisation_id)))
    for reviewer in reviewers:
        if reviewer.id in members:
            raise GrantError(_("%(name)s acts for the applying organisation and cannot review %(ref)s.",
                               name=reviewer.display_name, ref=application.reference))


def _assign(session: Session, application: Application, reviewers: list[User], actor: Any) -> list[ReviewAssignment]:
    created = []
    for reviewer in reviewers:
        assignment = ReviewAssignment(application_id=application.id, reviewer_id=reviewer.id,
                                      assigned_by_id=getattr(actor, "id", None))
        session.add(assignment)
        session.flush()
        record_event(session, AuditTag.reviewer_assigned, actor, "application", application.id,
                     after={"assignment": assignment.id, "reviewer": reviewer.id})
        created.append(assignment)
    if created and application.status == S.submitted.value:
        change_status(session, application, S.in_review.value, actor)
    _tell_reviewers(session, application, created)
    return created


def _tell_reviewers(session: Session, application: Application, assignments: list[ReviewAssignment]) -> None:
    version = application.latest_submitted or application.current
    for assignment in assignments:
        with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
            subject = _("Please review application %(ref)s: %(title)s", ref=application.reference,
                        title=version.title)
            body = _("You were asked to review this application for %(programme)s. Declare any conflict of "
                     "interest first, then score it against the rubric.", programme=application.programme.title)
        notify(session, [assignment.reviewer_id], "review_assigned", subject, body,
               link=f"/grants/reviews/{assignment.id}")


def assign_reviewers(session: Session, application: Application, reviewer_ids: Iterable[int],
                     actor: Any) -> list[ReviewAssignment]:
    """Assign reviewers to one application; the first assignment puts a submitted application in review.
    A reviewer already on it (assigned, done or conflicted) is refused."""
    application = _lock_application(session, application.id)
    reviewers = _eligible_reviewers(session, reviewer_ids)
    _check_assignable(session, application, reviewers)
    taken = set(session.scalars(select(ReviewAssignment.reviewer_id).where(
        ReviewAssignment.application_id == application.id)))
    for reviewer in reviewers:
        if reviewer.id in taken:
            raise GrantError(_("%(name)s is already on application %(ref)s.", name=reviewer.display_name,
                               ref=application.reference))
    return _assign(session, application, reviewers, actor)


def assign_to_many(session: Session, applications: Sequence[Application], reviewer_ids: Iterable[int],
                   actor: Any) -> list[ReviewAssignment]:
    """Assign each reviewer to each application they are not yet on (from the ranking page)."""
    if not applications:
        raise GrantError(_("Choose at least one application."))
    reviewers = _eligible_reviewers(session, reviewer_ids)
    plan = []
    for application in sorted(applications, key=lambda a: a.id):
        application = _lock_application(session, application.id)
        _check_assignable(session, application, reviewers)
        taken = set(session.scalars(select(ReviewAssignment.reviewer_id).where(
            ReviewAssignment.application_id == application.id)))
        plan.append((application, [r for r in reviewers if r.id not in taken]))
    if not any(new for _app, new in plan):
        raise GrantError(_("Every chosen reviewer is already on every chosen application."))
    return [a for application, new in plan for a in _assign(session, application, new, actor)]


def unassign_reviewer(session: Session, assignment: ReviewAssignment, actor: Any) -> None:
    """Take a reviewer off an application before any score was saved."""
    assignment = lock_assignment(session, assignment.id)
    if assignment.status == AssignmentStatus.conflicted.value:
        raise GrantError(_("%(name)s declared a conflict of interest; the declaration stays on record.",
                           name=assignment.reviewer.display_name))
    if assignment.status != AssignmentStatus.assigned.value or assignment.scores:
        raise GrantError(_("%(name)s has started scoring; a reviewer can be taken off only before scoring.",
                           name=assignment.reviewer.display_name))
    record_event(session, AuditTag.reviewer_unassigned, actor, "application", assignment.application_id,
                 before={"assignment": assignment.id, "reviewer": assignment.reviewer_id,
                         "no_conflict": assignment.no_conflict})
    session.delete(assignment)
    session.flush()


# --- the reviewer's side ----------------------------------------------------------------------------------------


def _own(session: Session, assignment: ReviewAssignment, actor: Any) -> ReviewAssignment:
    assignment = lock_assignment(session, assignment.id)
    if assignment.reviewer_id != getattr(actor, "id", None):
        raise Forbidden(_("Only the assigned reviewer can do this."))
    if assignment.status == AssignmentStatus.conflicted.value:
        raise GrantError(_("You declared a conflict of interest and are no longer on this application."))
    if assignment.status == AssignmentStatus.submitted.value:
        raise GrantError(_("This review was submitted and is final."))
    return assignment


def declare_conflict(session: Session, assignment: ReviewAssignment, note: str, actor: Any) -> ReviewAssignment:
    """The reviewer declares a conflict of interest: off the application, any draft scores dropped, staff told."""
    note = (note or "").strip()
    if not note:
        raise GrantError(_("Say what the conflict of interest is."))
    if len(note) > NOTE_MAX:
        raise GrantError(_("Keep the note under %(n)d characters.", n=NOTE_MAX))
    assignment = _own(session, assignment, actor)
    dropped = len(assignment.scores)
    assignment.scores.clear()
    assignment.status = AssignmentStatus.conflicted.value
    assignment.conflict_note = note
    assignment.conflict_declared_at = utcnow()
    assignment.no_conflict = False
    session.flush()
    record_event(session, AuditTag.review_conflict_declared, actor, "application", assignment.application_id,
                 before={"assignment": assignment.id, "status": AssignmentStatus.assigned.value},
                 after={"status": assignment.status, "note": note, "draft_scores_dropped": dropped})
    application = assignment.application
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        subject = _("%(name)s declared a conflict of interest on %(ref)s", name=assignment.reviewer.display_name,
                    ref=application.reference)
        body = _("Note: %(note)s. The reviewer is off this application; you may assign another.", note=note)
    notify(session, staff_user_ids(session), "review_conflict", subject, body,
           link=f"/grants/applications/{application.id}/reviewers")
    return assignment


def confirm_no_conflict(session: Session, assignment: ReviewAssignment, actor: Any) -> ReviewAssignment:
    assignment = _own(session, assignment, actor)
    if assignment.no_conflict:
        return assignment
    assignment.no_conflict = True
    session.flush()
    record_event(session, AuditTag.review_no_conflict, actor, "application", assignment.application_id,
                 after={"assignment": assignment.id, "no_conflict": True})
    return assignment


@dataclass(frozen=True)
class ScoreInput:
    criterion_id: int
    score: Decimal | None  # None: not scored yet (a draft)
    comment: str = ""


def check_score(score: Any, criterion: RubricCriterion) -> Decimal:
    """A score within 0..max_score with at most one decimal place, or GrantError."""
    if not isinstance(score, Decimal) or not score.is_finite() or score < 0 or score > criterion.max_score:
        raise GrantError(_("The score for “%(name)s” must be between 0 and %(max)d.", name=criterion.name,
                           max=criterion.max_score))
    if score != score.quantize(Decimal("0.1")):
        raise GrantError(_("The score for “%(name)s” has at most one decimal place.", name=criterion.name))
    return score


def _checked(criteria: dict[int, RubricCriterion], entries: Sequence[ScoreInput]) -> dict[int, ScoreInput]:
    checked: dict[int, ScoreInput] = {}
    for entry in entries:
        criterion = criteria.get(entry.criterion_id)
        if criterion is None:
            raise GrantError(_("A score was given for a criterion that is not in this programme's rubric."))
        comment = (entry.comment or "").strip()
        if len(comment) > COMMENT_MAX:
            raise GrantError(_("Keep the comment on “%(name)s” under %(n)d characters.", name=criterion.name,
                               n=COMMENT_MAX))
        if entry.score is None and comment:
            raise GrantError(_("Give “%(name)s” a score to keep its comment.", name=criterion.name))
        if entry.score is not None:
            checked[criterion.id] = ScoreInput(criterion.id, check_score(entry.score, criterion), comment)
    return checked


def save_review(session: Session, assignment: ReviewAssignment, entries: Sequence[ScoreInput], comment: str,
                actor: Any, *, submit: bool = False) -> ReviewAssignment:
    """Save the reviewer's scores as a draft or, with `submit`, submit them (every criterion scored): final."""
    assignment = _own(session, assignment, actor)
    if not assignment.no_conflict:
        raise GrantError(_("Declare a conflict of interest or confirm there is none before scoring."))
    application = assignment.application
    if application.status not in SCORABLE:
        raise GrantError(_("Application %(ref)s is “%(status)s” and is not open for review.",
                           ref=application.reference, status=status_label(application.status)))
    comment = (comment or "").strip()
    if len(comment) > OVERALL_MAX:
        raise GrantError(_("Keep the overall comment under %(n)d characters.", n=OVERALL_MAX))
    criteria = {c.id: c for c in application.programme.criteria}
    if not criteria:
        raise GrantError(_("The programme has no rubric yet; staff must add its criteria before scoring."))
    checked = _checked(criteria, entries)
    if submit and set(checked) != set(criteria):
        missing = [c.name for c in criteria.values() if c.id not in checked]
        raise GrantError(_("Score every criterion before submitting; missing: %(names)s.", names=", ".join(missing)))
    before = {str(s.criterion_id): s.score for s in assignment.scores}
    _store(assignment, checked)
    assignment.comment = comment
    version = application.latest_submitted
    assignment.version = version.version if version is not None else None
    if submit:
        assignment.status = AssignmentStatus.submitted.value
        assignment.submitted_at = utcnow()
    session.flush()
    after = {"scores": {str(k): v.score for k, v in checked.items()}, "version": assignment.version}
    record_event(session, AuditTag.review_submitted if submit else AuditTag.review_saved, actor, "application",
                 application.id, before={"assignment": assignment.id, "scores": before}, after=after)
    return assignment


def _store(assignment: ReviewAssignment, checked: dict[int, ScoreInput]) -> None:
    existing = {s.criterion_id: s for s in assignment.scores}
    for criterion_id, row in existing.items():
        if criterion_id not in checked:
            assignment.scores.remove(row)
    for criterion_id, entry in checked.items():
        row = existing.get(criterion_id)
        if row is None:
            assignment.scores.append(ReviewScore(criterion_id=criterion_id, score=entry.score, comment=entry.comment))
        else:
            row.score, row.comment = entry.score, entry.comment


# --- ranking ----------------------------------------------------------------------------------------------------


@dataclass
class Counts:
    done: int = 0
    assigned: int = 0  # not conflicted (done included)
    conflicted: int = 0


def scored_reviews(assignment: ReviewAssignment, criteria: dict[int, RubricCriterion]) -> list[Scored]:
    return [Scored(s.score, criteria[s.criterion_id].max_score, criteria[s.criterion_id].weight)
            for s in assignment.scores if s.criterion_id in criteria]


def assignment_total(assignment: ReviewAssignment, criteria: dict[int, RubricCriterion]) -> Decimal | None:
    """A submitted review's weighted total (2 places); None for a draft, a conflict, or nothing scored."""
    if assignment.status != AssignmentStatus.submitted.value:
        return None
    sheet = scored_reviews(assignment, criteria)
    return review_total(sheet) if sheet else None


def programme_ranking(session: Session, programme: Programme) -> tuple[list[RankRow], dict[int, Counts]]:
    """The ranked rows of the programme's applications in review or later (entry.key is the Application)."""
    applications = list(session.scalars(
        select(Application).where(Application.programme_id == programme.id, Application.status.in_(RANKED))
        .options(selectinload(Application.versions))))
    assignments = session.scalars(
        select(ReviewAssignment).where(ReviewAssignment.application_id.in_([a.id for a in applications]))
        .options(selectinload(ReviewAssignment.scores))) if applications else []
    criteria = {c.id: c for c in programme.criteria}
    reviews: dict[int, list[list[Scored]]] = {a.id: [] for a in applications}
    counts = {a.id: Counts() for a in applications}
    for assignment in assignments:
        tally = counts[assignment.application_id]
        if assignment.status == AssignmentStatus.conflicted.value:
            tally.conflicted += 1
            continue
        tally.assigned += 1
        if assignment.status == AssignmentStatus.submitted.value:
            tally.done += 1
            sheet = scored_reviews(assignment, criteria)
            if sheet:  # a review scored against criteria since removed from the rubric has nothing to count
                reviews[assignment.application_id].append(sheet)
    entries = [RankEntry(key=a, tie_break=a.reference, requested=_requested(a), reviews=reviews[a.id],
                         draws_on_budget=a.status in DRAWS_ON_BUDGET) for a in applications]
    return rank(entries, programme.budget), counts


def _requested(application: Application) -> Decimal:
    version = application.latest_submitted or application.current
    return version.requested_amount


def recommend_applications(session: Session, applications: Sequence[Application], actor: Any,
                           note: str = "") -> list[Application]:
    """Mark applications recommended (for the board's agenda or a staff decision); all or none."""
    if not applications:
        raise GrantError(_("Choose at least one application."))
    locked = [_lock_application(session, a.id) for a in sorted(applications, key=lambda a: a.id)]
    for application in locked:
        if S.recommended.value not in ALLOWED.get(application.status, frozenset()):
            raise GrantError(_("Application %(ref)s is “%(status)s” and cannot be recommended.",
                               ref=application.reference, status=status_label(application.status)))
    for application in locked:
        change_status(session, application, S.recommended.value, actor, (note or "").strip())
    return locked
