"""Blueprint `certificates` at /certificates: volunteer-service certificates (PDF, verifiable by code on the
public site). Admin issues one for any volunteer, an organiser for volunteers who served in their activities,
a volunteer for themself. Staff (admin, organiser, finance) read every certificate; a volunteer only their own;
anything else is a 404."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from flask import Blueprint, abort, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import Select, or_, select
from sqlalchemy.orm import joinedload
from wtforms import DateField, SelectField, StringField
from wtforms.validators import InputRequired, Length

from fundapp import csvexport
from fundapp.auth.decorators import roles_required
from fundapp.dates import local_today
from fundapp.extensions import db
from fundapp.forms import GetForm, strip
from fundapp.volunteers.certificate_pdf import certificate_pdf, check_url
from fundapp.volunteers.forms import DATE_MESSAGE
from fundapp.volunteers.manage import volunteer_for_user
from fundapp.volunteers.models import Activity, Certificate, ServiceRecord, Shift, Signup, Volunteer
from fundapp.volunteers.reports import issue_certificate
from fundapp.volunteers.views import paginate
from fundapp.web import form_service

bp = Blueprint("certificates", __name__, url_prefix="/certificates")
ISSUERS = ("admin", "organiser", "volunteer")
STAFF = ("admin", "organiser", "finance")


class IssueForm(FlaskForm):
    volunteer_id = SelectField(_l("Volunteer"), coerce=int, validate_choice=False,
                               validators=[InputRequired(message=_l("Choose a volunteer."))])
    period_start = DateField(_l("Period from"), validators=[InputRequired(message=DATE_MESSAGE)],
                             invalid_value_message=DATE_MESSAGE)
    period_end = DateField(_l("Period to"), validators=[InputRequired(message=DATE_MESSAGE)],
                           invalid_value_message=DATE_MESSAGE)


class CertificateFilterForm(GetForm):
    q = StringField(_l("Code or volunteer's name"), filters=[strip], validators=[Length(max=100)])


# --- who may do what ----------------------------------------------------------------------------------------------


def _organised_volunteer_ids(user_id: int) -> Select:
    """Volunteers with a service record in an activity the user organises."""
    return (select(Signup.volunteer_id).join(ServiceRecord, ServiceRecord.signup_id == Signup.id)
            .join(Shift, Shift.id == Signup.shift_id).join(Activity, Activity.id == Shift.activity_id)
            .where(Activity.organiser_id == user_id))


def issuable_query() -> Select | None:
    """The volunteers the signed-in user may issue a certificate for (None: nobody)."""
    if current_user.has_role("admin"):
        return select(Volunteer)
    conditions = []
    if current_user.has_role("organiser"):
        conditions.append(Volunteer.id.in_(_organised_volunteer_ids(current_user.id)))
    if current_user.has_role("volunteer"):
        conditions.append(Volunteer.user_id == current_user.id)
    return select(Volunteer).where(or_(*conditions)) if conditions else None


def issuable_volunteer(volunteer_id: int) -> Volunteer:
    """The volunteer if the user may issue for them; 404 otherwise (unknown or not theirs)."""
    stmt = issuable_query()
    volunteer = db.session.scalar(stmt.where(Volunteer.id == volunteer_id)) if stmt is not None else None
    if volunteer is None:
        abort(404)
    return volunteer


def readable_certificate(certificate_id: int) -> Certificate:
    certificate = db.session.get(Certificate, certificate_id)
    if certificate is None:
        abort(404)
    if current_user.has_role(*STAFF):
        return certificate
    own = volunteer_for_user(db.session, current_user)
    if own is None or own.id != certificate.volunteer_id:
        abort(404)
    return certificate


# --- issuing ------------------------------------------------------------------------------------------------------


def _volunteer_arg() -> int | None:
    raw = request.args.get("volunteer_id", "")
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 10 else None


@bp.route("/issue", methods=["GET", "POST"])
@roles_required(*ISSUERS)
def issue():
    stmt = issuable_query()
    choices = [] if stmt is None else [(v.id, v.name) for v in db.session.scalars(stmt.order_by(Volunteer.name,
                                                                                                Volunteer.id))]
    own = volunteer_for_user(db.session, current_user) if current_user.has_role("volunteer") else None
    form = IssueForm()
    form.volunteer_id.choices = choices
    if request.method == "GET":
        wanted = _volunteer_arg()
        if wanted is not None:
            form.volunteer_id.data = issuable_volunteer(wanted).id
        elif own is not None and not current_user.has_role("admin", "organiser"):
            form.volunteer_id.data = own.id
        today = local_today()
        form.period_start.data = dt.date(today.year, 1, 1)
        form.period_end.data = today
    elif form.validate_on_submit():
        volunteer = issuable_volunteer(form.volunteer_id.data)
        with form_service(form) as done:
            certificate = issue_certificate(db.session, volunteer, form.period_start.data, form.period_end.data,
                                            actor=current_user)
        if done.ok:
            flash(_("Certificate %(code)s issued.", code=certificate.code), "success")
            return redirect(url_for("certificates.detail", certificate_id=certificate.id))
    return render_template("certificates/issue.html", form=form, has_choices=bool(choices))


# --- reading ------------------------------------------------------------------------------------------------------


@bp.get("/<int:certificate_id>")
@roles_required(*STAFF, "volunteer")
def detail(certificate_id: int):
    certificate = readable_certificate(certificate_id)
    return render_template("certificates/detail.html", c=certificate, check_url=check_url(certificate))


@bp.get("/<int:certificate_id>.pdf")
@roles_required(*STAFF, "volunteer")
def download(certificate_id: int):
    certificate = readable_certificate(certificate_id)
    response = make_response(certificate_pdf(db.session, certificate))
    response.mimetype = "application/pdf"
    response.headers["Content-Disposition"] = f'inline; filename="certificate-{certificate.code}.pdf"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _listed() -> tuple[CertificateFilterForm, Select, bool]:
    form = CertificateFilterForm(formdata=request.args)
    form.validate()
    text = form.q.data if form.q.data and not form.q.errors else None
    stmt = (select(Certificate).join(Volunteer, Volunteer.id == Certificate.volunteer_id)
            .options(joinedload(Certificate.volunteer)))
    if text:
        stmt = stmt.where(or_(Certificate.code == text.upper(), Volunteer.name.icontains(text, autoescape=True)))
    return form, stmt.order_by(Certificate.issued_at.desc(), Certificate.id.desc()), bool(text)


@bp.get("/")
@roles_required(*STAFF)
def index():
    form, stmt, filtered = _listed()
    page = paginate(stmt)
    return render_template("certificates/index.html", form=form, page=page, filtered=filtered,
                           csv_url=url_for("certificates.index_csv", **({"q": form.q.data} if filtered else {})))


CSV_HEADER = (_l("Code"), _l("Volunteer"), _l("Period from"), _l("Period to"), _l("Verified hours"),
              _l("Activities"), _l("Issued on"))


def _csv_lines(stmt: Select) -> Iterator[str]:
    yield csvexport.line([str(title) for title in CSV_HEADER])
    for c in db.session.scalars(stmt):
        yield csvexport.line([c.code, c.volunteer.name, c.period_start.isoformat(), c.period_end.isoformat(),
                              c.hours, c.activities, c.issued_at.date().isoformat()])


@bp.get("/certificates.csv")
@roles_required(*STAFF)
def index_csv():
    _form, stmt, _filtered = _listed()
    return csvexport.response(_csv_lines(stmt), f"certificates-{local_today().isoformat()}.csv")
