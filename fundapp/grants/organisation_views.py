"""Grant pages: organisations. An applicant registers and edits their own organisation; staff list, search, view and
edit every organisation and link applicant users to it; the board reads. (Imported by application_views.)"""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from fundapp.auth.decorators import roles_required
from fundapp.errors import DomainError
from fundapp.extensions import db
from fundapp.grants.forms import ActionForm, LinkMemberForm, OrganisationFilterForm, OrganisationForm
from fundapp.grants.models import Application, Organisation, OrganisationMember
from fundapp.grants.organisations import (
    create_own_organisation,
    link_member,
    organisations_query,
    save_organisation,
    unlink_member,
)
from fundapp.grants.views import bp
from fundapp.grants.web import APPLICANT, READERS, STAFF, own_organisation_id, require_own_or
from fundapp.web import form_service


@bp.get("/organisations")
@roles_required(*READERS)
def organisations():
    form = OrganisationFilterForm(formdata=request.args)
    form.validate()
    text, sort = form.q.data or "", form.sort.data or "name"
    size = current_app.config["PAGE_SIZE"]
    page = db.paginate(organisations_query(text, sort), per_page=size, max_per_page=size, error_out=False)
    return render_template("grants/organisations.html", form=form, page=page, filtered=bool(text),
                           can_manage=current_user.has_role(*STAFF))


@bp.get("/organisations/<int:organisation_id>")
@roles_required(*READERS, APPLICANT)
def organisation_detail(organisation_id: int):
    organisation = db.get_or_404(Organisation, organisation_id)
    require_own_or(organisation.id, *READERS)
    applications = list(db.session.scalars(select(Application).where(Application.organisation_id == organisation.id)
                                           .options(selectinload(Application.versions))
                                           .order_by(Application.id.desc())))
    return render_template("grants/organisation.html", organisation=organisation, applications=applications,
                           can_manage=current_user.has_role(*STAFF),
                           can_edit=current_user.has_role(*STAFF) or own_organisation_id() == organisation.id,
                           link_form=LinkMemberForm(formdata=None), action_form=ActionForm(formdata=None))


def _render_form(form: OrganisationForm, organisation: Organisation | None, *, own: bool):
    return render_template("grants/organisation_form.html", form=form, organisation=organisation, own=own)


@bp.route("/organisation", methods=["GET", "POST"])
@roles_required(APPLICANT)
def my_organisation():
    """The applicant's own organisation: its page once registered, else the form to register it."""
    org_id = own_organisation_id()
    if org_id is not None:
        return redirect(url_for("grants.organisation_detail", organisation_id=org_id))
    form = OrganisationForm()
    if form.validate_on_submit():
        with form_service(form) as done:
            organisation = create_own_organisation(db.session, form.values(), current_user)
        if done.ok:
            flash(_("%(name)s is registered. You can now apply for grants.", name=organisation.name), "success")
            return redirect(url_for("grants.index"))
    return _render_form(form, None, own=True)


@bp.route("/organisations/new", methods=["GET", "POST"])
@roles_required(*STAFF)
def organisation_new():
    form = OrganisationForm()
    if form.validate_on_submit():
        with form_service(form) as done:
            organisation = save_organisation(db.session, None, form.values(), current_user)
        if done.ok:
            flash(_("%(name)s was added.", name=organisation.name), "success")
            return redirect(url_for("grants.organisation_detail", organisation_id=organisation.id))
    return _render_form(form, None, own=False)


@bp.route("/organisations/<int:organisation_id>/edit", methods=["GET", "POST"])
@roles_required(*STAFF, APPLICANT)
def organisation_edit(organisation_id: int):
    organisation = db.get_or_404(Organisation, organisation_id)
    require_own_or(organisation.id, *STAFF)
    form = OrganisationForm(obj=organisation)
    if form.validate_on_submit():
        with form_service(form) as done:
            save_organisation(db.session, organisation, form.values(), current_user)
        if done.ok:
            flash(_("The profile of %(name)s was saved.", name=organisation.name), "success")
            return redirect(url_for("grants.organisation_detail", organisation_id=organisation.id))
    return _render_form(form, organisation, own=own_organisation_id() == organisation.id)


@bp.post("/organisations/<int:organisation_id>/members")
@roles_required(*STAFF)
def organisation_link(organisation_id: int):
    organisation = db.get_or_404(Organisation, organisation_id)
    form = LinkMemberForm()
    if form.validate_on_submit():
        with form_service(form) as done:
            member = link_member(db.session, organisation, form.email.data, current_user)
        if done.ok:
            flash(_("%(email)s now acts for %(name)s.", email=member.user.email, name=organisation.name), "success")
            return redirect(url_for("grants.organisation_detail", organisation_id=organisation.id))
    for message in [*form.form_errors, *form.email.errors]:
        flash(message, "error")
    return redirect(url_for("grants.organisation_detail", organisation_id=organisation.id))


@bp.post("/organisation-members/<int:member_id>/remove")
@roles_required(*STAFF)
def organisation_unlink(member_id: int):
    member = db.get_or_404(OrganisationMember, member_id)
    organisation_id, email = member.organisation_id, member.user.email
    if not ActionForm().validate_on_submit():
        flash(_("The form expired. Check it and submit it again."), "error")
        return redirect(url_for("grants.organisation_detail", organisation_id=organisation_id))
    try:
        unlink_member(db.session, member, current_user)
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        db.session.commit()
        flash(_("%(email)s no longer acts for this organisation.", email=email), "success")
    return redirect(url_for("grants.organisation_detail", organisation_id=organisation_id))
