"""Grant pages: programmes (calls for proposals).

Everyone signed in sees the open calls; staff and the board see every programme with filters, search and pages.
Staff create and edit programmes (with their rubric) and open, close, reopen or archive them.
"""

from __future__ import annotations

from decimal import Decimal

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from fundapp.auth.decorators import login_required_any, roles_required
from fundapp.errors import DomainError
from fundapp.extensions import db
from fundapp.grants.forms import (
    CRITERION_ROWS,
    KIND_LABELS,
    PROGRAMME_STATUS_LABELS,
    ProgrammeFilterForm,
    ProgrammeForm,
    ProgrammeStatusForm,
)
from fundapp.grants.funding import awarded_in, spendable
from fundapp.grants.models import Application, ApplicationStatus, Organisation, Programme, ProgrammeStatus
from fundapp.grants.programmes import accepting_applications, create_programme, set_programme_status, update_programme
from fundapp.grants.views import bp
from fundapp.grants.web import READERS, STAFF, own_organisation_id, today
from fundapp.ledger.models import Fund, FundStatus
from fundapp.web import form_service

PROGRAMME_ORDER = {
    "opens": (Programme.opens_on.desc(), Programme.id.desc()),
    "closes": (Programme.closes_on, Programme.id),
    "code": (Programme.code,),
    "title": (Programme.title, Programme.id),
}


@bp.context_processor
def programme_labels() -> dict:
    return {"kind_labels": KIND_LABELS, "programme_status_labels": PROGRAMME_STATUS_LABELS}


# --- list -----------------------------------------------------------------------------------------------------------


def _programmes_query(filters: dict, *, everything: bool):
    stmt = select(Programme)
    if not everything:
        stmt = stmt.where(Programme.status == ProgrammeStatus.open.value)
    elif filters["status"]:
        stmt = stmt.where(Programme.status == filters["status"])
    if filters["kind"]:
        stmt = stmt.where(Programme.kind == filters["kind"])
    if filters["q"]:
        like = f"%{filters['q'].replace('%', '').replace('_', '')}%"
        stmt = stmt.where(or_(Programme.code.ilike(like), Programme.title.ilike(like)))
    default = "opens" if everything else "closes"
    return stmt.order_by(*PROGRAMME_ORDER.get(filters["sort"] or default, PROGRAMME_ORDER[default]))


def _submitted_counts(programme_ids: list[int]) -> dict[int, int]:
    if not programme_ids:
        return {}
    return dict(db.session.execute(
        select(Application.programme_id, func.count()).where(
            Application.programme_id.in_(programme_ids), Application.submitted_at.is_not(None))
        .group_by(Application.programme_id)).all())


@bp.get("/")
@login_required_any
def index():
    everything = current_user.has_role(*READERS)
    form = ProgrammeFilterForm(formdata=request.args)
    form.validate()
    filters = {key: (getattr(form, key).data or "") for key in ("q", "status", "kind", "sort")}
    size = current_app.config["PAGE_SIZE"]
    page = db.paginate(_programmes_query(filters, everything=everything), per_page=size, max_per_page=size,
                       error_out=False)
    filtered = any(filters[key] for key in ("q", "status", "kind"))
    org_id = own_organisation_id()
    mine = list(db.session.scalars(select(Application).where(Application.organisation_id == org_id)
                                   .options(selectinload(Application.versions))
                                   .order_by(Application.id.desc()))) if org_id is not None else []
    return render_template("grants/index.html", form=form, page=page, filtered=filtered, everything=everything,
                           counts=_submitted_counts([p.id for p in page.items]) if everything else {},
                           day=today(), can_manage=current_user.has_role(*STAFF),
                           is_applicant=current_user.has_role("applicant"), own_org=org_id, mine=mine,
                           organisation=db.session.get(Organisation, org_id) if org_id is not None else None)


# --- one programme ------------------------------------------------------------------------------------------------


def _visible(programme: Programme) -> None:
    """Drafts are for staff and the board; a published programme may be read by anyone signed in."""
    if programme.status == ProgrammeStatus.draft.value and not current_user.has_role(*READERS):
        abort(403)


@bp.get("/programmes/<int:programme_id>")
@login_required_any
def programme_detail(programme_id: int):
    programme = db.get_or_404(Programme, programme_id)
    _visible(programme)
    day = today()
    awarded = awarded_in(db.session, programme.id)
    is_reader = current_user.has_role(*READERS)
    by_status, mine, fund_room = {}, [], None
    if is_reader:
        by_status = dict(db.session.execute(
            select(Application.status, func.count()).where(Application.programme_id == programme.id)
            .group_by(Application.status)).all())
        fund_room = spendable(db.session, programme.fund, day, less_commitments=True,
                              exclude_programme_id=programme.id)
    org_id = own_organisation_id()
    if org_id is not None:
        mine = list(db.session.scalars(select(Application).where(
            Application.programme_id == programme.id, Application.organisation_id == org_id)
            .order_by(Application.id)))
    live_mine = [a for a in mine if a.status not in (ApplicationStatus.withdrawn.value,
                                                     ApplicationStatus.rejected.value)]
    return render_template(
        "grants/programme.html", programme=programme, awarded=awarded,
        remaining=max(programme.budget - awarded, Decimal("0.00")), by_status=by_status,
        total_applications=sum(by_status.values()), fund_room=fund_room, mine=mine,
        can_apply=(current_user.has_role("applicant") and accepting_applications(programme, day) and not live_mine),
        needs_organisation=current_user.has_role("applicant") and org_id is None,
        accepting=accepting_applications(programme, day), is_reader=is_reader,
        can_manage=current_user.has_role(*STAFF), status_form=ProgrammeStatusForm(formdata=None), day=day)


# --- create and edit ----------------------------------------------------------------------------------------------


def _fund_choices(form: ProgrammeForm, programme: Programme | None) -> None:
    funds = list(db.session.scalars(select(Fund).where(
        or_(Fund.status == FundStatus.active.value, Fund.id == (programme.fund_id if programme else -1)))
        .order_by(Fund.code)))
    form.fund_id.choices = [(f.id, f"{f.code} {f.name}") for f in funds]


def _render_form(form: ProgrammeForm, programme: Programme | None):
    frozen = programme is not None and db.session.scalar(select(func.count()).select_from(Application).where(
        Application.programme_id == programme.id, Application.submitted_at.is_not(None))) > 0
    return render_template("grants/programme_form.html", form=form, programme=programme, frozen=frozen)


@bp.route("/programmes/new", methods=["GET", "POST"])
@roles_required(*STAFF)
def programme_new():
    form = ProgrammeForm()
    _fund_choices(form, None)
    if request.method == "GET":
        form.opens_on.data = today()
    if form.validate_on_submit() and (parsed := form.parsed()) is not None:
        values, criteria = parsed
        with form_service(form) as done:
            programme = create_programme(db.session, values, criteria, current_user, on=today())
        if done.ok:
            flash(_("Programme %(code)s was created as a draft.", code=programme.code), "success")
            return redirect(url_for("grants.programme_detail", programme_id=programme.id))
    return _render_form(form, None)


@bp.route("/programmes/<int:programme_id>/edit", methods=["GET", "POST"])
@roles_required(*STAFF)
def programme_edit(programme_id: int):
    programme = db.get_or_404(Programme, programme_id)
    if request.method == "GET":
        form = ProgrammeForm(formdata=None, obj=programme)
        form.budget.data = f"{programme.budget:.2f}"
        form.max_request.data = f"{programme.max_request:.2f}" if programme.max_request is not None else ""
        for entry, criterion in zip(form.criteria, programme.criteria, strict=False):
            entry.form.weight.data = f"{criterion.weight.normalize():f}"
        while len(form.criteria) < max(CRITERION_ROWS, len(programme.criteria) + 2):
            form.criteria.append_entry()
    else:
        form = ProgrammeForm()
    _fund_choices(form, programme)
    if form.validate_on_submit() and (parsed := form.parsed()) is not None:
        values, criteria = parsed
        with form_service(form) as done:
            update_programme(db.session, programme, values, criteria, current_user, on=today())
        if done.ok:
            flash(_("Programme %(code)s was saved.", code=programme.code), "success")
            return redirect(url_for("grants.programme_detail", programme_id=programme.id))
    return _render_form(form, programme)


@bp.post("/programmes/<int:programme_id>/status")
@roles_required(*STAFF)
def programme_status(programme_id: int):
    programme = db.get_or_404(Programme, programme_id)
    form = ProgrammeStatusForm()
    if not form.validate_on_submit():
        flash(_("The form expired. Check it and submit it again."), "error")
        return redirect(url_for("grants.programme_detail", programme_id=programme.id))
    new = form.status.data or ""
    if new == ProgrammeStatus.archived.value and not form.confirm.data:
        flash(_("Tick the box to confirm."), "error")
        return redirect(url_for("grants.programme_detail", programme_id=programme.id))
    try:
        set_programme_status(db.session, programme, new, current_user, on=today())
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        db.session.commit()
        flash(_("Programme %(code)s is now “%(status)s”.", code=programme.code,
                status=PROGRAMME_STATUS_LABELS.get(new, new)), "success")
    return redirect(url_for("grants.programme_detail", programme_id=programme.id))
