"""The `volunteers` blueprint, continued: shift rosters (sign-up on a volunteer's behalf, check-in, check-out,
hours entered by the organiser), the verification queue (verify, reject, correct) and the hours report. Same
rules as fundapp/volunteers/views.py: managers act, finance reads, an organiser only on their own activities."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from fundapp import csvexport
from fundapp.auth.decorators import roles_required
from fundapp.dates import local_today
from fundapp.extensions import db
from fundapp.volunteers import manage, service
from fundapp.volunteers.forms import (
    GROUP_LABELS,
    RECORD_STATUS_LABELS,
    ConfirmForm,
    CorrectForm,
    HoursForm,
    HoursReportForm,
    RejectForm,
    SignupForm,
    parse_hours,
)
from fundapp.volunteers.models import Activity, ServiceRecord, Shift, Signup, Volunteer
from fundapp.volunteers.reports import hours_by
from fundapp.volunteers.views import (
    ALL_READERS,
    MANAGERS,
    READERS,
    _act,
    _first_error,
    _mine,
    _optional_id,
    _record,
    _scoped_activities,
    _shift,
    _signup,
    bp,
    paginate,
)
from fundapp.web import form_service

# --- shifts: the roster -------------------------------------------------------------------------------


@bp.get("/shifts/<int:shift_id>")
@roles_required(*READERS)
def shift(shift_id: int):
    shift = _shift(shift_id)
    signups = list(db.session.scalars(select(Signup).where(Signup.shift_id == shift.id)
                                      .options(selectinload(Signup.volunteer)).order_by(Signup.id)))
    records = {}
    for record in db.session.scalars(select(ServiceRecord).where(
            ServiceRecord.signup_id.in_([s.id for s in signups])).order_by(ServiceRecord.id)):
        records.setdefault(record.signup_id, []).append(record)
    signup_form = SignupForm()
    signup_form.volunteer.choices = [("", _("Choose a volunteer"))] + [
        (str(v_id), f"{name} ({community})" if community else name) for v_id, name, community in db.session.execute(
            select(Volunteer.id, Volunteer.name, Volunteer.community).order_by(Volunteer.name, Volunteer.id))]
    return render_template("volunteers/shift.html", shift=shift, activity=shift.activity, signups=signups,
                           records=records, taken=manage.shift_taken(db.session, shift), signup_form=signup_form,
                           hours_form=HoursForm(), can_edit=_mine(shift.activity, True))


@bp.post("/shifts/<int:shift_id>/signup")
@roles_required(*MANAGERS)
def signup_add(shift_id: int):
    shift = _shift(shift_id, manage_it=True)
    form = SignupForm()
    form.volunteer.choices = []
    target = url_for("volunteers.shift", shift_id=shift.id)
    volunteer = db.session.get(Volunteer, _optional_id(form.volunteer.data) or 0) if form.validate_on_submit() else None
    if volunteer is None:
        flash(_("Choose a volunteer."), "error")
        return redirect(target)
    return _act(lambda: service.sign_up(db.session, volunteer, shift, current_user),
                _("%(name)s is signed up.", name=volunteer.name), target)


SIGNUP_ACTIONS = {
    "cancel": (service.cancel, _l("Sign-up cancelled.")),
    "check-in": (service.check_in, _l("Checked in.")),
    "check-out": (service.check_out, _l("Checked out: the hours wait for verification.")),
}


@bp.post("/signups/<int:signup_id>/<action>")
@roles_required(*MANAGERS)
def signup_action(signup_id: int, action: str):
    if action not in SIGNUP_ACTIONS:
        abort(404)
    signup = _signup(signup_id)
    if not FlaskForm().validate_on_submit():  # the CSRF token
        abort(400)
    call, message = SIGNUP_ACTIONS[action]
    return _act(lambda: call(db.session, signup, actor=current_user), str(message),
                url_for("volunteers.shift", shift_id=signup.shift_id))


@bp.post("/signups/<int:signup_id>/hours")
@roles_required(*MANAGERS)
def signup_hours(signup_id: int):
    signup = _signup(signup_id)
    form = HoursForm()
    target = url_for("volunteers.shift", shift_id=signup.shift_id)
    hours = parse_hours(form.hours) if form.validate_on_submit() else None
    if hours is None:
        flash(_first_error(form), "error")
        return redirect(target)
    return _act(lambda: service.enter_hours(db.session, signup, hours, current_user),
                _("Hours entered: they wait for verification."), target)


# --- verification -------------------------------------------------------------------------------------


@bp.get("/verification")
@roles_required(*READERS)
def verification():
    status = request.args.get("status") if request.args.get("status") in RECORD_STATUS_LABELS else "pending"
    stmt = (select(ServiceRecord).join(Signup, Signup.id == ServiceRecord.signup_id)
            .join(Shift, Shift.id == Signup.shift_id).join(Activity, Activity.id == Shift.activity_id)
            .where(ServiceRecord.status == status)
            .options(selectinload(ServiceRecord.signup).selectinload(Signup.volunteer),
                     selectinload(ServiceRecord.signup).selectinload(Signup.shift).selectinload(Shift.activity))
            .order_by(Shift.starts_at, ServiceRecord.id))
    page = paginate(_scoped_activities(stmt))
    return render_template("volunteers/verification.html", page=page, status=status, confirm_form=ConfirmForm(),
                           reject_form=RejectForm())


def _queue() -> str:
    return url_for("volunteers.verification")


@bp.post("/records/<int:record_id>/verify")
@roles_required(*MANAGERS)
def record_verify(record_id: int):
    record = _record(record_id)
    if not ConfirmForm().validate_on_submit():
        flash(_("Tick the box to confirm."), "error")
        return redirect(_queue())
    return _act(lambda: service.verify(db.session, record, current_user),
                _("Verified: %(hours)s hours of %(name)s credited.", hours=record.hours,
                  name=record.signup.volunteer.name), _queue())


@bp.post("/records/<int:record_id>/reject")
@roles_required(*MANAGERS)
def record_reject(record_id: int):
    record = _record(record_id)
    form = RejectForm()
    if not form.validate_on_submit():
        flash(_first_error(form), "error")
        return redirect(_queue())
    return _act(lambda: service.reject(db.session, record, form.reason.data, current_user),
                _("Hours rejected."), _queue())


@bp.route("/records/<int:record_id>/correct", methods=["GET", "POST"])
@roles_required(*MANAGERS)
def record_correct(record_id: int):
    record = _record(record_id)
    form = CorrectForm()
    if form.validate_on_submit():
        hours = parse_hours(form.hours) if form.hours.data else None
        if hours is not None or not form.hours.data:
            with form_service(form) as done:
                service.correct(db.session, record, form.reason.data, hours, current_user)
            if done.ok:
                flash(_("The hours were reversed and the correct hours wait for verification.") if hours is not None
                      else _("The hours were reversed."), "success")
                return redirect(url_for("volunteers.detail", volunteer_id=record.signup.volunteer_id))
    elif form.is_submitted():
        form.form_errors.append(_("Correct the marked fields; nothing was saved."))
    return render_template("volunteers/correct.html", form=form, record=record)


# --- hours report -------------------------------------------------------------------------------------


def _report() -> tuple[HoursReportForm, list, dt.date, dt.date, str]:
    form = HoursReportForm(formdata=request.args)
    form.validate()
    today = local_today()
    start = form.start.data if form.start.data and not form.start.errors else dt.date(today.year, 1, 1)
    end = form.end.data if form.end.data and not form.end.errors else today
    group = form.group.data if form.group.data in GROUP_LABELS else "project"
    rows = hours_by(db.session, group, start, end) if start <= end else []
    if group == "project":
        from fundapp.grants.models import Award

        awards = {str(a.id): f"{a.number} {a.title}" for a in db.session.scalars(select(Award).where(
            Award.id.in_([int(r.label) for r in rows if r.label.isdigit()])))}
        rows = [r.__class__(awards.get(r.label, r.label), r.hours, r.people, r.records) for r in rows]
    return form, rows, start, end, group


@bp.get("/hours")
@roles_required(*ALL_READERS)
def hours():
    form, rows, start, end, group = _report()
    if start > end:
        flash(_("The period ends before it starts."), "error")
    total = sum((r.hours for r in rows), Decimal("0.00"))
    return render_template("volunteers/hours.html", form=form, rows=rows, start=start, end=end, group=group,
                           total=total, group_label=GROUP_LABELS[group])


@bp.get("/hours.csv")
@roles_required(*ALL_READERS)
def hours_csv():
    _form, rows, start, end, group = _report()
    lines = [csvexport.line([str(GROUP_LABELS[group]), _("Verified hours"), _("Volunteers"), _("Records")])]
    lines += [csvexport.line([r.label, r.hours, r.people, r.records]) for r in rows]
    return csvexport.response(lines, f"volunteer-hours-{start.isoformat()}-{end.isoformat()}.csv")
