"""Grant pages: applications (applicant and staff sides) and attachment downloads.

- Applicants (acting for an organisation) start an application to an open call, edit the draft version, attach
  files, submit it (the version freezes), start the next version when staff ask for a revision, withdraw it
  before a decision. They see only their own organisation's applications (403 for any other).
- Staff list, filter and export every application and, on one application, ask for a revision, recommend it or
  turn it down at screening. The board reads everything. A reviewer reads the applications assigned to them
  (not after declaring a conflict).
- Staff, the board and reviewers see submitted versions only; the draft in progress is the applicant's.
"""

from __future__ import annotations

from collections.abc import Iterator

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import exists, or_, select
from sqlalchemy.orm import selectinload

from fundapp import csvexport, uploads
from fundapp.auth.decorators import roles_required
from fundapp.errors import DomainError
from fundapp.extensions import db
from fundapp.grants import organisation_views  # noqa: F401  (registers the organisation pages on bp)
from fundapp.grants.applications import (
    VERSION_FIELDS,
    ApplicationIncomplete,
    editable_version,
    recommend,
    reject_at_screening,
    request_revision,
    save_draft,
    start_application,
    start_revision,
    submission_problems,
    submit_application,
    timeline,
    withdraw_application,
)
from fundapp.grants.attachments import (
    attachment_path,
    max_bytes,
    owner_application_id,
    owner_organisation_id,
    read_grant_upload,
    remove_grant_attachment,
    reviewer_may_see,
    save_grant_attachment,
    upload_dir,
)
from fundapp.grants.forms import (
    APPLICATION_SORTS,
    APPLICATION_STATUS_LABELS,
    BUDGET_CATEGORIES,
    ActionForm,
    ApplicationFilterForm,
    ApplicationForm,
    AttachmentForm,
    RecommendForm,
    RevisionRequestForm,
    ScreenOutForm,
    SubmitApplicationForm,
    WithdrawForm,
)
from fundapp.grants.models import (
    Application,
    ApplicationAttachment,
    ApplicationStatus,
    ApplicationVersion,
    Award,
    GrantDecision,
    Organisation,
    Programme,
    ReviewAssignment,
)
from fundapp.grants.views import bp
from fundapp.grants.web import APPLICANT, READERS, REVIEWER, STAFF, is_own, own_organisation_id, today
from fundapp.uploads import download_response

A = ApplicationStatus
DOWNLOADERS = (*READERS, REVIEWER, APPLICANT)
VIEWERS = (*READERS, REVIEWER, APPLICANT)
CSV_BATCH = 500
STAFF_ACTIONABLE = (A.submitted.value, A.in_review.value)


@bp.context_processor
def application_labels() -> dict:
    return {"application_status_labels": APPLICATION_STATUS_LABELS}


# --- who may see what ---------------------------------------------------------------------------------------------


def _role_on(application: Application) -> str:
    """'reader' (staff, board), 'owner' (the applicant organisation), 'reviewer' (assigned, no conflict);
    403 for anyone else."""
    if current_user.has_role(*READERS):
        return "reader"
    if is_own(application.organisation_id):
        return "owner"
    if current_user.has_role(REVIEWER) and reviewer_may_see(db.session, application.id, current_user.id):
        return "reviewer"
    abort(403)


def _own(application_id: int) -> Application:
    """The application, if the signed-in applicant acts for its organisation (404, then 403)."""
    application = db.get_or_404(Application, application_id)
    if not is_own(application.organisation_id):
        abort(403)
    return application


def _to_detail(application_id: int):
    return redirect(url_for("grants.application_detail", application_id=application_id))


# --- staff list and export ----------------------------------------------------------------------------------------


def _latest_amount():
    return (select(ApplicationVersion.requested_amount).where(ApplicationVersion.application_id == Application.id)
            .order_by(ApplicationVersion.version.desc()).limit(1).scalar_subquery())


ORDER = {
    "newest": lambda: (Application.id.desc(),),
    "oldest": lambda: (Application.id,),
    "reference": lambda: (Application.reference,),
    "amount": lambda: (_latest_amount().desc(), Application.id.desc()),
    "organisation": lambda: (Organisation.name, Application.id),
}


def _filters() -> tuple[ApplicationFilterForm, dict]:
    form = ApplicationFilterForm(formdata=request.args)
    programmes = list(db.session.execute(select(Programme.id, Programme.code, Programme.title)
                                         .order_by(Programme.opens_on.desc(), Programme.id.desc())))
    form.programme.choices = [("", _("All programmes"))] + [(str(p.id), f"{p.code} {p.title}") for p in programmes]
    form.validate()
    programme = form.programme.data or ""
    filters = {"q": form.q.data or "", "status": form.status.data or "",
               "programme": int(programme) if programme.isdigit() else None,
               "sort": form.sort.data if form.sort.data in APPLICATION_SORTS else "newest"}
    return form, filters


def _applications_query(filters: dict):
    stmt = select(Application).join(Organisation, Application.organisation_id == Organisation.id)
    if filters["programme"]:
        stmt = stmt.where(Application.programme_id == filters["programme"])
    if filters["status"] in APPLICATION_STATUS_LABELS:
        stmt = stmt.where(Application.status == filters["status"])
    if filters["q"]:
        like = f"%{filters['q'].replace('%', '').replace('_', '')}%"
        titled = exists().where(ApplicationVersion.application_id == Application.id,
                                ApplicationVersion.submitted_at.is_not(None), ApplicationVersion.title.ilike(like))
        stmt = stmt.where(or_(Application.reference.ilike(like), Organisation.name.ilike(like),
                              Organisation.reg_no.ilike(like), titled))
    return stmt.options(selectinload(Application.versions)).order_by(*ORDER[filters["sort"]]())


@bp.get("/applications")
@roles_required(*READERS)
def applications():
    form, filters = _filters()
    size = current_app.config["PAGE_SIZE"]
    page = db.paginate(_applications_query(filters), per_page=size, max_per_page=size, error_out=False)
    export_args = {key: value for key, value in request.args.items() if key != "page" and value}
    filtered = bool(filters["q"] or filters["status"] or filters["programme"])
    return render_template("grants/applications.html", form=form, page=page, filtered=filtered,
                           export_args=export_args)


@bp.get("/applications.csv")
@roles_required(*READERS)
def applications_csv():
    _form, filters = _filters()
    stmt = _applications_query(filters).execution_options(yield_per=CSV_BATCH)
    header = [_("Reference"), _("Programme"), _("Organisation"), _("Credit code"), _("Project"), _("Community"),
              _("Amount requested"), _("Status"), _("Version"), _("First submitted (UTC)")]

    def lines() -> Iterator[str]:
        yield csvexport.line(header)
        for application in db.session.scalars(stmt):
            version = application.latest_submitted
            yield csvexport.line([
                application.reference, application.programme.code, application.organisation.name,
                application.organisation.reg_no, version.title if version else "",
                version.community if version else "", version.requested_amount if version else "",
                str(APPLICATION_STATUS_LABELS.get(application.status, application.status)),
                version.version if version else "",
                application.submitted_at.isoformat(timespec="seconds") if application.submitted_at else ""])

    return csvexport.response(lines(), f"applications-{today().isoformat()}.csv")


# --- one application ----------------------------------------------------------------------------------------------


def _changed_fields(version: ApplicationVersion, previous: ApplicationVersion | None) -> set[str]:
    if previous is None:
        return set()
    changed = {key for key in VERSION_FIELDS if getattr(version, key) != getattr(previous, key)}
    lines = [(line.category, line.item, line.amount) for line in version.budget_lines]
    if lines != [(line.category, line.item, line.amount) for line in previous.budget_lines]:
        changed.add("lines")
    return changed


def _render_detail(application: Application, role: str, status: int = 200, **forms):
    visible = [v for v in application.versions if role == "owner" or v.is_frozen]
    wanted = request.args.get("version", type=int)
    version = next((v for v in visible if v.version == wanted), visible[-1] if visible else None)
    previous = None
    if version is not None:
        earlier = [v for v in visible if v.version < version.version]
        previous = earlier[-1] if earlier else None
    staff = current_user.has_role(*STAFF)
    decisions, award, assignments = [], None, []
    if role == "reader":
        decisions = list(db.session.scalars(select(GrantDecision).where(GrantDecision.application_id == application.id)
                                            .order_by(GrantDecision.id)))
        award = db.session.scalar(select(Award).where(Award.application_id == application.id))
        assignments = list(db.session.scalars(select(ReviewAssignment).where(
            ReviewAssignment.application_id == application.id).order_by(ReviewAssignment.id)))
    elif role == "owner":
        award = db.session.scalar(select(Award).where(Award.application_id == application.id))
    forms.setdefault("revision_form", RevisionRequestForm(formdata=None))
    forms.setdefault("recommend_form", RecommendForm(formdata=None))
    forms.setdefault("screen_form", ScreenOutForm(formdata=None))
    forms.setdefault("action_form", ActionForm(formdata=None))
    return render_template(
        "grants/application.html", application=application, version=version, versions=visible,
        changed=_changed_fields(version, previous) if version else set(), previous=previous, role=role,
        steps=timeline(db.session, application, with_actors=role == "reader"),
        can_act=staff and application.status in STAFF_ACTIONABLE, decisions=decisions, award=award,
        assignments=assignments, draft=application.current if not application.current.is_frozen else None,
        **forms), status


@bp.get("/applications/<int:application_id>")
@roles_required(*VIEWERS)
def application_detail(application_id: int):
    application = db.get_or_404(Application, application_id)
    return _render_detail(application, _role_on(application))


# --- applicant: start, edit, attach, submit, revise, withdraw ----------------------------------------------------


@bp.post("/programmes/<int:programme_id>/apply")
@roles_required(APPLICANT)
def application_start(programme_id: int):
    programme = db.get_or_404(Programme, programme_id)
    org_id = own_organisation_id()
    if org_id is None:
        flash(_("Register your organisation before you apply."), "error")
        return redirect(url_for("grants.my_organisation"))
    if not ActionForm().validate_on_submit():
        flash(_("The form expired. Check it and submit it again."), "error")
        return redirect(url_for("grants.programme_detail", programme_id=programme.id))
    try:
        application = start_application(db.session, programme, db.session.get(Organisation, org_id), current_user,
                                        on=today())
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(url_for("grants.programme_detail", programme_id=programme.id))
    db.session.commit()
    flash(_("Application %(ref)s was started. Fill it in, save the draft and submit it before %(date)s.",
            ref=application.reference, date=programme.closes_on.isoformat()), "success")
    return redirect(url_for("grants.application_edit", application_id=application.id))


def _render_edit(application: Application, version: ApplicationVersion, form: ApplicationForm, status: int = 200):
    return render_template("grants/application_form.html", application=application, version=version, form=form,
                           attach_form=AttachmentForm(formdata=None), action_form=ActionForm(formdata=None),
                           categories=BUDGET_CATEGORIES, max_mb=f"{max_bytes() / 1048576:g}"), status


@bp.route("/applications/<int:application_id>/edit", methods=["GET", "POST"])
@roles_required(APPLICANT)
def application_edit(application_id: int):
    application = _own(application_id)
    try:
        version = editable_version(db.session, application)
    except DomainError as error:
        flash(error.message, "error")
        return _to_detail(application.id)
    if request.method == "GET":
        form = ApplicationForm(formdata=None)
        form.fill(version)
        for _extra in range(min(request.args.get("rows", 0, type=int), 20)):
            form.lines.append_entry()
        return _render_edit(application, version, form)
    form = ApplicationForm()
    parsed = form.parsed() if form.validate_on_submit() else None
    if parsed is None:
        return _render_edit(application, version, form, 400)
    values, lines = parsed
    try:
        save_draft(db.session, application, values, lines, current_user)
    except DomainError as error:
        db.session.rollback()
        form.form_errors.append(error.message)
        return _render_edit(db.session.get(Application, application_id), version, form, 400)
    db.session.commit()
    if form.add_line.data:
        blank = sum(1 for entry in form.lines if entry.form.is_blank())
        return redirect(url_for("grants.application_edit", application_id=application.id,
                                rows=max(3 - blank, 1) if blank < 3 else 1, _anchor="budget"))
    flash(_("The draft was saved. It is not submitted yet."), "success")
    return _to_detail(application.id)


@bp.post("/applications/<int:application_id>/attachments")
@roles_required(APPLICANT)
def application_attach(application_id: int):
    application = _own(application_id)
    form = AttachmentForm()
    upload = read_grant_upload(form.file.data) if form.validate_on_submit() else None
    if upload is None:
        flash(_("Choose a file to attach."), "error")
        return redirect(url_for("grants.application_edit", application_id=application.id, _anchor="files"))
    try:
        version = editable_version(db.session, application)
        attachment = save_grant_attachment(db.session, upload, version=version, actor=current_user)
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        db.session.commit()
        flash(_("%(name)s was attached.", name=attachment.original_name), "success")
    return redirect(url_for("grants.application_edit", application_id=application.id, _anchor="files"))


@bp.post("/attachments/<int:attachment_id>/remove")
@roles_required(APPLICANT)
def application_attachment_remove(attachment_id: int):
    attachment = db.get_or_404(ApplicationAttachment, attachment_id)
    organisation_id = owner_organisation_id(attachment)
    if organisation_id is None or not is_own(organisation_id):
        abort(403)
    application_id = owner_application_id(attachment)
    if not ActionForm().validate_on_submit():
        flash(_("The form expired. Check it and submit it again."), "error")
        return redirect(url_for("grants.application_edit", application_id=application_id, _anchor="files"))
    name = attachment.original_name
    try:
        stored = remove_grant_attachment(db.session, attachment, current_user)
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        db.session.commit()
        uploads.discard(upload_dir(), stored)
        flash(_("%(name)s was removed.", name=name), "success")
    return redirect(url_for("grants.application_edit", application_id=application_id, _anchor="files"))


@bp.route("/applications/<int:application_id>/submit", methods=["GET", "POST"])
@roles_required(APPLICANT)
def application_submit(application_id: int):
    application = _own(application_id)
    try:
        version = editable_version(db.session, application)
    except DomainError as error:
        flash(error.message, "error")
        return _to_detail(application.id)
    form = SubmitApplicationForm()
    problems = []
    if form.validate_on_submit():
        try:
            submitted = submit_application(db.session, application, current_user, on=today())
        except ApplicationIncomplete as error:
            db.session.rollback()
            problems = error.problems
        except DomainError as error:
            db.session.rollback()
            form.form_errors.append(error.message)
        else:
            db.session.commit()
            flash(_("Application %(ref)s (version %(n)d) was submitted. You will be told of every change of its "
                    "status.", ref=application.reference, n=submitted.version), "success")
            return _to_detail(application.id)
        application = db.session.get(Application, application_id)
        version = application.current
    elif request.method == "GET":
        problems = submission_problems(application, version, today())
    return render_template("grants/application_submit.html", application=application, version=version, form=form,
                           problems=problems), 200 if request.method == "GET" else 400


@bp.post("/applications/<int:application_id>/revise")
@roles_required(APPLICANT)
def application_revise(application_id: int):
    application = _own(application_id)
    if not ActionForm().validate_on_submit():
        flash(_("The form expired. Check it and submit it again."), "error")
        return _to_detail(application.id)
    try:
        version = start_revision(db.session, application, current_user)
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
        return _to_detail(application.id)
    db.session.commit()
    flash(_("Version %(n)d was started as a copy of the last one. Revise it and submit it again.",
            n=version.version), "success")
    return redirect(url_for("grants.application_edit", application_id=application.id))


@bp.route("/applications/<int:application_id>/withdraw", methods=["GET", "POST"])
@roles_required(APPLICANT)
def application_withdraw(application_id: int):
    application = _own(application_id)
    form = WithdrawForm()
    if form.validate_on_submit():
        try:
            withdraw_application(db.session, application, current_user, form.reason.data or "")
        except DomainError as error:
            db.session.rollback()
            form.form_errors.append(error.message)
        else:
            db.session.commit()
            flash(_("Application %(ref)s was withdrawn.", ref=application.reference), "success")
            return _to_detail(application.id)
    status = 400 if request.method == "POST" else 200
    return render_template("grants/application_withdraw.html", application=application, form=form), status


# --- staff actions ------------------------------------------------------------------------------------------------


def _staff_action(application_id: int, form_name: str, form, call, done_message: str):
    application = db.get_or_404(Application, application_id)
    if form.validate_on_submit():
        try:
            call(application, form)
        except DomainError as error:
            db.session.rollback()
            form.form_errors.append(error.message)
        else:
            db.session.commit()
            flash(done_message % {"ref": application.reference}, "success")
            return _to_detail(application.id)
    application = db.session.get(Application, application_id)
    return _render_detail(application, "reader", 400, **{form_name: form})


@bp.post("/applications/<int:application_id>/request-revision")
@roles_required(*STAFF)
def application_request_revision(application_id: int):
    return _staff_action(application_id, "revision_form", RevisionRequestForm(),
                         lambda app, form: request_revision(db.session, app, form.note.data, current_user),
                         _("A revision of %(ref)s was requested; the applicant was told."))


@bp.post("/applications/<int:application_id>/recommend")
@roles_required(*STAFF)
def application_recommend(application_id: int):
    return _staff_action(application_id, "recommend_form", RecommendForm(),
                         lambda app, form: recommend(db.session, app, current_user, form.note.data or ""),
                         _("%(ref)s is marked as recommended."))


@bp.post("/applications/<int:application_id>/screen-out")
@roles_required(*STAFF)
def application_screen_out(application_id: int):
    return _staff_action(application_id, "screen_form", ScreenOutForm(),
                         lambda app, form: reject_at_screening(db.session, app, form.reason.data, current_user),
                         _("%(ref)s was turned down at screening; the applicant was told."))


# --- files --------------------------------------------------------------------------------------------------------


@bp.get("/attachments/<int:attachment_id>")
@roles_required(*DOWNLOADERS)
def attachment_download(attachment_id: int):
    """A file of an application or a report: staff, board, reviewers assigned (not conflicted), the owners."""
    attachment = db.get_or_404(ApplicationAttachment, attachment_id)
    allowed = current_user.has_role(*READERS)
    if not allowed:
        organisation_id = owner_organisation_id(attachment)
        allowed = organisation_id is not None and is_own(organisation_id)
    if not allowed and current_user.has_role(REVIEWER):
        application_id = owner_application_id(attachment)
        allowed = application_id is not None and reviewer_may_see(db.session, application_id, current_user.id)
        # a reviewer reads the submitted versions only, never the applicant's draft in progress
        allowed = allowed and (attachment.version is None or attachment.version.is_frozen)
    if not allowed:
        abort(403)
    try:
        path = attachment_path(attachment)
    except DomainError:
        abort(404)
    if not path.is_file():
        abort(404)
    return download_response(path, attachment.kind, attachment.original_name)
