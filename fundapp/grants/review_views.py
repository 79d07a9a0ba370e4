"""Grant pages: reviews. Staff assign reviewers (from an application's reviewers page or the programme's ranking);
a reviewer lists their reviews, declares a conflict or confirms none, then scores; staff and the board read
submitted reviews and the ranking, and staff mark applications recommended from it.

A reviewer opens only their own assignments, and not once they declared a conflict (403). Staff and the board
read any submitted review; a draft stays the reviewer's own.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import case, select
from sqlalchemy.orm import selectinload

from fundapp import csvexport
from fundapp.auth.decorators import roles_required
from fundapp.donations.forms import ActionForm
from fundapp.extensions import db
from fundapp.grants import review
from fundapp.grants.forms_review import (
    ASSIGNMENT_LABELS,
    AssignForm,
    BulkAssignForm,
    ConflictForm,
    NoConflictForm,
    RecommendForm,
    ReviewFilterForm,
    score_sheet,
)
from fundapp.grants.models import Application, ApplicationStatus, AssignmentStatus, Programme, ReviewAssignment
from fundapp.grants.transitions import status_label
from fundapp.grants.views import bp
from fundapp.grants.web import READERS, REVIEWER, STAFF
from fundapp.web import form_service


@bp.app_template_global()
def assignment_state(assignment: ReviewAssignment) -> str:
    """declare | scoring | submitted | conflicted (the keys of ASSIGNMENT_LABELS)."""
    if assignment.status == AssignmentStatus.assigned.value:
        return "scoring" if assignment.no_conflict else "declare"
    return assignment.status


@bp.app_template_global()
def assignment_label(state: str) -> str:
    return str(ASSIGNMENT_LABELS.get(state, state))


# --- staff: who reviews an application ------------------------------------------------------------------------


def _assignments(application_id: int) -> list[ReviewAssignment]:
    return list(db.session.scalars(select(ReviewAssignment).where(ReviewAssignment.application_id == application_id)
                                   .options(selectinload(ReviewAssignment.scores))
                                   .order_by(ReviewAssignment.assigned_at, ReviewAssignment.id)))


def _review_totals(application: Application, assignments: list[ReviewAssignment]) -> dict:
    criteria = {c.id: c for c in application.programme.criteria}
    return {a.id: total for a in assignments if (total := review.assignment_total(a, criteria)) is not None}


def _render_reviewers(application: Application, form: AssignForm | None = None):
    assignments = _assignments(application.id)
    can_manage = current_user.has_role(*STAFF)
    candidates = review.reviewer_candidates(db.session, application) if can_manage else []
    return render_template("grants/review_reviewers.html", application=application, assignments=assignments,
                           totals=_review_totals(application, assignments), candidates=candidates,
                           form=form or AssignForm(formdata=None), can_manage=can_manage,
                           assignable=application.status in review.ASSIGNABLE,
                           version=application.latest_submitted or application.current)


@bp.get("/applications/<int:application_id>/reviewers")
@roles_required(*READERS)
def application_reviewers(application_id: int):
    return _render_reviewers(db.get_or_404(Application, application_id))


@bp.post("/applications/<int:application_id>/reviewers")
@roles_required(*STAFF)
def reviewers_assign(application_id: int):
    application = db.get_or_404(Application, application_id)
    form = AssignForm()
    if form.validate():
        with form_service(form) as done:
            created = review.assign_reviewers(db.session, application, form.reviewers.data, current_user)
        if done.ok:
            flash(ngettext("%(num)d reviewer was assigned and notified.",
                           "%(num)d reviewers were assigned and notified.", len(created)), "success")
            return redirect(url_for("grants.application_reviewers", application_id=application_id))
    return _render_reviewers(application, form), 400


@bp.post("/reviews/<int:assignment_id>/unassign")
@roles_required(*STAFF)
def reviewer_unassign(assignment_id: int):
    assignment = db.get_or_404(ReviewAssignment, assignment_id)
    application_id = assignment.application_id
    form = ActionForm()  # its CSRF token is checked app-wide (CSRFProtect)
    with form_service(form) as done:
        review.unassign_reviewer(db.session, assignment, current_user)
    if done.ok:
        flash(_("The reviewer was taken off the application."), "success")
    else:
        flash(" ".join(str(e) for e in form.form_errors), "error")
    return redirect(url_for("grants.application_reviewers", application_id=application_id))


# --- the reviewer ---------------------------------------------------------------------------------------------


STATE_FILTERS = {
    "declare": (ReviewAssignment.status == AssignmentStatus.assigned.value, ReviewAssignment.no_conflict.is_(False)),
    "scoring": (ReviewAssignment.status == AssignmentStatus.assigned.value, ReviewAssignment.no_conflict.is_(True)),
    AssignmentStatus.submitted.value: (ReviewAssignment.status == AssignmentStatus.submitted.value,),
    AssignmentStatus.conflicted.value: (ReviewAssignment.status == AssignmentStatus.conflicted.value,),
}


@bp.get("/reviews/")
@roles_required(REVIEWER)
def my_reviews():
    form = ReviewFilterForm(formdata=request.args)
    state = form.state.data if form.validate() else ""
    to_do_first = case((ReviewAssignment.status == AssignmentStatus.assigned.value, 0), else_=1)
    stmt = (select(ReviewAssignment).where(ReviewAssignment.reviewer_id == current_user.id)
            .where(*STATE_FILTERS.get(state, ()))
            .options(selectinload(ReviewAssignment.application).selectinload(Application.versions))
            .order_by(to_do_first, ReviewAssignment.assigned_at.desc(), ReviewAssignment.id.desc()))
    size = current_app.config["PAGE_SIZE"]
    page = db.paginate(stmt, per_page=size, max_per_page=size, error_out=False)
    return render_template("grants/review_mine.html", form=form, page=page, filtered=bool(state))


def _readable(assignment: ReviewAssignment) -> bool:
    """The reviewer (not conflicted) or staff/board. Drafts stay the reviewer's own: see the template."""
    if review.is_active_reviewer(assignment, current_user.id):
        return True
    return current_user.has_role(*READERS)


def _render_review(assignment: ReviewAssignment, **forms):
    application = assignment.application
    criteria = application.programme.criteria
    own = review.is_active_reviewer(assignment, current_user.id)
    scores = {s.criterion_id: s for s in assignment.scores}
    if "sheet" not in forms:
        data = {"comment": assignment.comment}
        for c in criteria:
            if c.id in scores:
                data[f"score_{c.id}"] = f"{scores[c.id].score.normalize():f}"
                data[f"comment_{c.id}"] = scores[c.id].comment
        forms["sheet"] = _filled_sheet(criteria, data)
    forms.setdefault("conflict_form", ConflictForm(formdata=None))
    forms.setdefault("no_conflict_form", NoConflictForm(formdata=None))
    submitted = assignment.status == AssignmentStatus.submitted.value
    total = review.assignment_total(assignment, {c.id: c for c in criteria})
    return render_template(
        "grants/review_assignment.html", assignment=assignment, application=application, criteria=criteria,
        version=application.latest_submitted, scores=scores, own=own, total=total,
        show_scores=submitted or own, can_score=own and assignment.status == AssignmentStatus.assigned.value,
        scorable=application.status in review.SCORABLE, status_text=status_label(application.status), **forms)


def _filled_sheet(criteria, data):
    """A sheet filled from the saved draft (also while another form of the page was posted)."""
    form = score_sheet(criteria)
    form.process(formdata=None, data=data)
    return form


def _load_for_reviewer(assignment_id: int) -> ReviewAssignment:
    assignment = db.get_or_404(ReviewAssignment, assignment_id)
    if not review.is_active_reviewer(assignment, current_user.id):
        abort(403)
    return assignment


@bp.get("/reviews/<int:assignment_id>")
@roles_required(REVIEWER, *READERS)
def review_assignment(assignment_id: int):
    assignment = db.get_or_404(ReviewAssignment, assignment_id)
    if not _readable(assignment):
        abort(403)
    return _render_review(assignment)


@bp.post("/reviews/<int:assignment_id>/conflict")
@roles_required(REVIEWER)
def review_conflict(assignment_id: int):
    assignment = _load_for_reviewer(assignment_id)
    form = ConflictForm()
    if form.validate():
        with form_service(form) as done:
            review.declare_conflict(db.session, assignment, form.note.data, current_user)
        if done.ok:
            flash(_("Your conflict of interest was recorded and staff were told. You are off this application."),
                  "success")
            return redirect(url_for("grants.my_reviews"))
    return _render_review(assignment, conflict_form=form), 400


@bp.post("/reviews/<int:assignment_id>/no-conflict")
@roles_required(REVIEWER)
def review_no_conflict(assignment_id: int):
    assignment = _load_for_reviewer(assignment_id)
    form = NoConflictForm()
    if form.validate():
        with form_service(form) as done:
            review.confirm_no_conflict(db.session, assignment, current_user)
        if done.ok:
            flash(_("Thank you. You can score the application now."), "success")
            return redirect(url_for("grants.review_assignment", assignment_id=assignment_id, _anchor="scores"))
    return _render_review(assignment, no_conflict_form=form), 400


@bp.post("/reviews/<int:assignment_id>/scores")
@roles_required(REVIEWER)
def review_save(assignment_id: int):
    assignment = _load_for_reviewer(assignment_id)
    sheet = score_sheet(assignment.application.programme.criteria)
    submit = bool(sheet.send.data)
    rows = sheet.parsed_scores() if sheet.validate() else None
    if submit and not sheet.final.data:
        sheet.final.errors = [*sheet.final.errors, _("Tick the box to confirm that the review is final.")]
        rows = None
    if rows is None:
        sheet.form_errors.append(_("Correct the marked fields; nothing was saved."))
    else:
        entries = [review.ScoreInput(criterion_id, score, comment) for criterion_id, score, comment in rows]
        with form_service(sheet) as done:
            review.save_review(db.session, assignment, entries, sheet.comment.data, current_user, submit=submit)
        if done.ok:
            flash(_("Your review was submitted. Thank you.") if submit else _("Draft saved."), "success")
            return redirect(url_for("grants.my_reviews") if submit
                            else url_for("grants.review_assignment", assignment_id=assignment_id, _anchor="scores"))
    return _render_review(db.session.get(ReviewAssignment, assignment_id), sheet=sheet), 400


# --- the ranking ----------------------------------------------------------------------------------------------


def _waiting(programme_id: int) -> list[Application]:
    """Submitted applications without reviewers yet (they join the ranking once in review)."""
    return list(db.session.scalars(
        select(Application).where(Application.programme_id == programme_id,
                                  Application.status == ApplicationStatus.submitted.value)
        .options(selectinload(Application.versions)).order_by(Application.reference)))


def _render_ranking(programme: Programme, form=None, status: int = 200):
    rows, counts = review.programme_ranking(db.session, programme)
    can_manage = current_user.has_role(*STAFF)
    requested = sum((r.entry.requested for r in rows if r.running_total is not None), Decimal("0.00"))
    page = render_template(
        "grants/ranking.html", programme=programme, rows=rows, counts=counts, requested=requested,
        waiting=_waiting(programme.id) if can_manage else [], can_manage=can_manage,
        reviewers=review.reviewer_candidates(db.session) if can_manage else [],
        form=form or RecommendForm(formdata=None), recommendable=review.ASSIGNABLE)
    return page, status


@bp.get("/programmes/<int:programme_id>/ranking")
@roles_required(*READERS)
def ranking(programme_id: int):
    return _render_ranking(db.get_or_404(Programme, programme_id))


@bp.get("/programmes/<int:programme_id>/ranking.csv")
@roles_required(*READERS)
def ranking_csv(programme_id: int):
    programme = db.get_or_404(Programme, programme_id)
    rows, counts = review.programme_ranking(db.session, programme)
    header = [_("Rank"), _("Application"), _("Organisation"), _("Project"), _("Status"), _("Weighted score"),
              _("Lowest review"), _("Highest review"), _("Standard deviation"), _("Reviews done"),
              _("Reviewers assigned"), _("Conflicts declared"), _("Requested"), _("Running total"),
              _("Within budget")]

    def lines() -> Iterator[str]:
        yield csvexport.line(header)
        for row in rows:
            application, tally = row.entry.key, counts[row.entry.key.id]
            version = application.latest_submitted or application.current
            yield csvexport.line([
                row.rank, application.reference, application.organisation.name, version.title,
                status_label(application.status), row.score if row.score is not None else "",
                row.spread.low if row.spread else "", row.spread.high if row.spread else "",
                row.spread.stddev if row.spread else "", tally.done, tally.assigned, tally.conflicted,
                row.entry.requested, row.running_total if row.running_total is not None else "",
                "" if row.running_total is None else (_("yes") if row.within_budget else _("no"))])

    return csvexport.response(lines(), f"ranking-{programme.code}.csv")


def _chosen(programme: Programme, ids: list[int]) -> list[Application]:
    return list(db.session.scalars(select(Application).where(Application.programme_id == programme.id,
                                                             Application.id.in_(ids or [0]))))


@bp.post("/programmes/<int:programme_id>/ranking/assign")
@roles_required(*STAFF)
def ranking_assign(programme_id: int):
    programme = db.get_or_404(Programme, programme_id)
    form = BulkAssignForm()
    if form.validate():
        with form_service(form) as done:
            created = review.assign_to_many(db.session, _chosen(programme, form.applications.data),
                                            form.reviewers.data, current_user)
        if done.ok:
            flash(ngettext("%(num)d assignment was made; the reviewer was notified.",
                           "%(num)d assignments were made; the reviewers were notified.", len(created)), "success")
            return redirect(url_for("grants.ranking", programme_id=programme_id))
    return _render_ranking(programme, form, 400)


@bp.post("/programmes/<int:programme_id>/ranking/recommend")
@roles_required(*STAFF)
def ranking_recommend(programme_id: int):
    programme = db.get_or_404(Programme, programme_id)
    form = RecommendForm()
    if form.validate():
        with form_service(form) as done:
            chosen = review.recommend_applications(db.session, _chosen(programme, form.applications.data),
                                                   current_user, form.note.data or "")
        if done.ok:
            flash(ngettext("%(num)d application was marked recommended.",
                           "%(num)d applications were marked recommended.", len(chosen)), "success")
            return redirect(url_for("grants.ranking", programme_id=programme_id))
    return _render_ranking(programme, form, 400)
