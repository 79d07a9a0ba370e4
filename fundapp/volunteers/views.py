"""Blueprint `volunteers` at /volunteers: volunteers, activities, shifts, check-in/out, hours and verification.

Admin manages everything; an organiser manages the activities they organise (and sees the volunteers signed up
for them); finance reads. Every view checks its role here and, for organisers, the activity's organiser: another
organiser's activity, shift, sign-up, record or volunteer is a 404.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from decimal import Decimal
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm import selectinload

from fundapp import csvexport
from fundapp.auth.decorators import roles_required
from fundapp.auth.models import Role, User, UserRole
from fundapp.dates import DEFAULT_TIMEZONE
from fundapp.errors import DomainError
from fundapp.extensions import db
from fundapp.volunteers import manage
from fundapp.volunteers.forms import (
    ACTIVITY_STATUS_LABELS,
    RECORD_STATUS_LABELS,
    SIGNUP_STATUS_LABELS,
    ActivityFilterForm,
    ActivityForm,
    LinkUserForm,
    ShiftForm,
    StatusForm,
    VolunteerFilterForm,
    VolunteerForm,
)
from fundapp.volunteers.models import (
    Activity,
    ActivityStatus,
    PointAccount,
    PointEntry,
    PointLine,
    RecordStatus,
    ServiceRecord,
    Shift,
    Signup,
    Volunteer,
)
from fundapp.web import form_service, row_id

bp = Blueprint("volunteers", __name__, url_prefix="/volunteers")
MANAGERS = ("admin", "organiser")
READERS = ("admin", "organiser", "finance")
ALL_READERS = ("admin", "finance")
CSV_BATCH = 1000


# --- who sees what ------------------------------------------------------------------------------------


def _sees_all() -> bool:
    return current_user.has_role(*ALL_READERS)


def _mine(activity: Activity, manage_it: bool) -> bool:
    allowed_all = current_user.has_role("admin") if manage_it else _sees_all()
    return allowed_all or activity.organiser_id == current_user.id


def _activity(activity_id: int, manage_it: bool = False) -> Activity:
    activity = db.get_or_404(Activity, activity_id)
    if not _mine(activity, manage_it):
        abort(404)
    return activity


def _shift(shift_id: int, manage_it: bool = False) -> Shift:
    shift = db.get_or_404(Shift, shift_id)
    if not _mine(shift.activity, manage_it):
        abort(404)
    return shift


def _signup(signup_id: int) -> Signup:
    signup = db.get_or_404(Signup, signup_id)
    if not _mine(signup.shift.activity, True):
        abort(404)
    return signup


def _record(record_id: int) -> ServiceRecord:
    record = db.get_or_404(ServiceRecord, record_id)
    if not _mine(record.signup.shift.activity, True):
        abort(404)
    return record


def _my_volunteer_ids():
    return (select(Signup.volunteer_id).join(Shift, Shift.id == Signup.shift_id)
            .join(Activity, Activity.id == Shift.activity_id).where(Activity.organiser_id == current_user.id))


def _volunteer(volunteer_id: int) -> Volunteer:
    volunteer = db.get_or_404(Volunteer, volunteer_id)
    if not _sees_all() and not db.session.scalar(select(exists(_my_volunteer_ids().where(
            Signup.volunteer_id == volunteer.id)))):
        abort(404)
    return volunteer


def _scoped_activities(stmt):
    return stmt if _sees_all() else stmt.where(Activity.organiser_id == current_user.id)


@bp.context_processor
def _helpers() -> dict:
    return {"local_time": local_time, "signup_labels": SIGNUP_STATUS_LABELS, "record_labels": RECORD_STATUS_LABELS,
            "activity_labels": ACTIVITY_STATUS_LABELS, "can_manage": current_user.has_role(*MANAGERS),
            "is_admin": current_user.has_role("admin")}


def paginate(stmt):
    """One page of `stmt` (the `page` query argument), PAGE_SIZE rows."""
    size = current_app.config["PAGE_SIZE"]
    return db.paginate(stmt, per_page=size, max_per_page=size, error_out=False)


def statement_page(account: PointAccount, stmt, order: tuple):
    """One page of an account's statement (`stmt`: its lines, newest first in `order`) with the balance after each
    line, derived from the lines themselves: all of them, less those on the newer pages before this one."""
    page = paginate(stmt.order_by(*order))
    newer = (select(PointLine.amount).join(PointEntry, PointEntry.id == PointLine.entry_id)
             .where(PointLine.account_id == account.id).order_by(*order)
             .limit((page.page - 1) * page.per_page).subquery())
    total = db.session.scalar(select(func.coalesce(func.sum(PointLine.amount), 0))
                              .where(PointLine.account_id == account.id))
    on_newer_pages = db.session.scalar(select(func.coalesce(func.sum(newer.c.amount), 0)))
    running = (Decimal(total or 0) - Decimal(on_newer_pages or 0)).quantize(Decimal("0.01"))
    rows = []
    for line in page.items:
        rows.append((line, running))
        running -= line.amount
    return page, rows


def export_args() -> dict[str, str]:
    """The list's filters from the query string (not the page), for its CSV export link."""
    return {key: value for key, value in request.args.items() if key != "page" and value}


def _zone() -> ZoneInfo:
    return ZoneInfo(current_app.config.get("BABEL_DEFAULT_TIMEZONE") or DEFAULT_TIMEZONE)


def local_time(moment: dt.datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    if moment is None:
        return ""
    moment = moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(_zone()).strftime(fmt)


def _act(call: Callable[[], object], success: str, target: str):
    """Run one service call from a button: commit and flash `success`, or roll back and flash the refusal."""
    try:
        call()
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        db.session.commit()
        flash(success, "success")
    return redirect(target)


def _first_error(form) -> str:
    for errors in form.errors.values():
        if errors:
            return str(errors[0])
    return _("Correct the marked fields; nothing was saved.")


# --- volunteers ---------------------------------------------------------------------------------------


def _verified_hours_by_volunteer():
    return (select(Signup.volunteer_id.label("volunteer_id"), func.sum(ServiceRecord.hours).label("hours"))
            .join(Signup, Signup.id == ServiceRecord.signup_id)
            .where(ServiceRecord.status == RecordStatus.verified.value).group_by(Signup.volunteer_id))


def _volunteers_query(text: str | None, sort: str):
    hours = _verified_hours_by_volunteer().subquery()
    stmt = (select(Volunteer).outerjoin(hours, hours.c.volunteer_id == Volunteer.id)
            .outerjoin(PointAccount, PointAccount.volunteer_id == Volunteer.id))
    if not _sees_all():
        stmt = stmt.where(Volunteer.id.in_(_my_volunteer_ids()))
    if text:
        stmt = stmt.where(or_(Volunteer.name.icontains(text, autoescape=True),
                              Volunteer.phone.icontains(text, autoescape=True),
                              Volunteer.community.icontains(text, autoescape=True)))
    order = {"-hours": (func.coalesce(hours.c.hours, 0).desc(), Volunteer.id),
             "-points": (func.coalesce(PointAccount.balance, 0).desc(), Volunteer.id),
             "-created": (Volunteer.created_at.desc(), Volunteer.id.desc())}.get(sort, (Volunteer.name, Volunteer.id))
    return stmt.order_by(*order)


def _figures(ids: list[int]) -> dict[int, tuple[Decimal, Decimal]]:
    """Verified hours and point balance of each volunteer in `ids` (two queries)."""
    if not ids:
        return {}
    hours = dict(db.session.execute(_verified_hours_by_volunteer().where(Signup.volunteer_id.in_(ids))).all())
    points = dict(db.session.execute(select(PointAccount.volunteer_id, PointAccount.balance)
                                     .where(PointAccount.volunteer_id.in_(ids))).all())
    zero = Decimal("0.00")
    return {i: (Decimal(hours.get(i) or zero), Decimal(points.get(i) or zero)) for i in ids}


def _volunteer_filters() -> tuple[VolunteerFilterForm, str | None, str]:
    form = VolunteerFilterForm(formdata=request.args)
    form.validate()
    return form, (form.q.data if form.q.data and not form.q.errors else None), form.sort.data or "name"


@bp.get("/")
@roles_required(*READERS)
def index():
    form, text, sort = _volunteer_filters()
    page = paginate(_volunteers_query(text, sort))
    return render_template("volunteers/index.html", form=form, page=page, figures=_figures([v.id for v in page.items]),
                           filtered=bool(text), export_args=export_args())


@bp.get("/volunteers.csv")
@roles_required(*READERS)
def index_csv():
    _form, text, sort = _volunteer_filters()
    stmt = _volunteers_query(text, sort).execution_options(yield_per=CSV_BATCH)
    header = [_("Number"), _("Name"), _("Phone"), _("Email"), _("Community"), _("Skills"),
              _("Agrees to appear publicly"), _("Verified hours"), _("Points")]

    def lines() -> Iterator[str]:
        yield csvexport.line(header)
        for chunk in db.session.scalars(stmt).partitions():
            figures = _figures([v.id for v in chunk])
            for v in chunk:
                hours, points = figures[v.id]
                yield csvexport.line([v.id, v.name, v.phone, v.email, v.community, v.skills,
                                      _("yes") if v.consent_public else _("no"), hours, points])

    return csvexport.response(lines(), "volunteers.csv")


def _volunteer_input(form: VolunteerForm) -> manage.VolunteerInput:
    return manage.VolunteerInput(name=form.name.data or "", phone=form.phone.data or "", email=form.email.data or "",
                                 community=form.community.data or "", skills=form.skills.data or "",
                                 consent_public=bool(form.consent_public.data))


@bp.route("/new", methods=["GET", "POST"])
@roles_required(*MANAGERS)
def new():
    form = VolunteerForm()
    if form.validate_on_submit():
        with form_service(form) as done:
            volunteer = manage.create_volunteer(db.session, _volunteer_input(form), current_user)
        if done.ok:
            flash(_("Volunteer %(name)s added.", name=volunteer.name), "success")
            if _sees_all():
                return redirect(url_for("volunteers.detail", volunteer_id=volunteer.id))
            flash(_("Sign them up for a shift of one of your activities to see them in your list."), "info")
            return redirect(url_for("volunteers.activities"))
    elif form.is_submitted():
        form.form_errors.append(_("Correct the marked fields; nothing was saved."))
    return render_template("volunteers/volunteer_form.html", form=form, volunteer=None)


@bp.route("/<int:volunteer_id>/edit", methods=["GET", "POST"])
@roles_required(*MANAGERS)
def edit(volunteer_id: int):
    volunteer = _volunteer(volunteer_id)
    form = VolunteerForm(obj=volunteer)
    if form.validate_on_submit():
        with form_service(form) as done:
            manage.update_volunteer(db.session, volunteer, _volunteer_input(form), current_user)
        if done.ok:
            flash(_("Volunteer %(name)s saved.", name=volunteer.name), "success")
            return redirect(url_for("volunteers.detail", volunteer_id=volunteer.id))
    elif form.is_submitted():
        form.form_errors.append(_("Correct the marked fields; nothing was saved."))
    return render_template("volunteers/volunteer_form.html", form=form, volunteer=volunteer)


@bp.get("/<int:volunteer_id>")
@roles_required(*READERS)
def detail(volunteer_id: int):
    volunteer = _volunteer(volunteer_id)
    stmt = (select(Signup).join(Shift, Shift.id == Signup.shift_id).join(Activity, Activity.id == Shift.activity_id)
            .where(Signup.volunteer_id == volunteer.id)
            .options(selectinload(Signup.shift).selectinload(Shift.activity))
            .order_by(Shift.starts_at.desc(), Signup.id))
    signups = list(db.session.scalars(_scoped_activities(stmt)))
    records = list(db.session.scalars(select(ServiceRecord).where(
        ServiceRecord.signup_id.in_([s.id for s in signups])).order_by(ServiceRecord.id.desc()))) if signups else []
    hours, points = _figures([volunteer.id])[volunteer.id]
    user = db.session.get(User, volunteer.user_id) if volunteer.user_id else None
    return render_template("volunteers/detail.html", volunteer=volunteer, signups=signups, records=records,
                           hours=hours, points=points, user=user, link_form=LinkUserForm())


@bp.post("/<int:volunteer_id>/link")
@roles_required("admin")
def link(volunteer_id: int):
    volunteer = db.get_or_404(Volunteer, volunteer_id)
    form = LinkUserForm()
    target = url_for("volunteers.detail", volunteer_id=volunteer.id)
    if not form.validate_on_submit():
        flash(_first_error(form), "error")
        return redirect(target)
    user = db.session.scalar(select(User).where(func.lower(User.email) == form.email.data.lower()))
    if user is None:
        flash(_("There is no user account with this email."), "error")
        return redirect(target)
    return _act(lambda: manage.link_user(db.session, volunteer, user, current_user),
                _("%(email)s now signs in as this volunteer.", email=user.email), target)


# --- activities ---------------------------------------------------------------------------------------


def _organisers() -> list[User]:
    return list(db.session.scalars(select(User).join(UserRole, UserRole.user_id == User.id)
                                   .where(UserRole.role == Role.organiser.value).order_by(User.name, User.email)))


def _user_label(user: User) -> str:
    return f"{user.name} <{user.email}>" if user.name else user.email


def _activity_filters() -> tuple[ActivityFilterForm, object, bool]:
    form = ActivityFilterForm(formdata=request.args)
    form.organiser.choices = [("", _("All"))] + [(str(u.id), _user_label(u)) for u in _organisers()]
    form.validate()
    stmt = _scoped_activities(select(Activity))
    if form.q.data and not form.q.errors:
        stmt = stmt.where(Activity.title.icontains(form.q.data, autoescape=True))
    if form.status.data in ACTIVITY_STATUS_LABELS:
        stmt = stmt.where(Activity.status == form.status.data)
    if form.community.data and not form.community.errors:
        stmt = stmt.where(Activity.community.icontains(form.community.data, autoescape=True))
    if row_id(form.organiser.data) is not None:
        stmt = stmt.where(Activity.organiser_id == row_id(form.organiser.data))
    filtered = bool(form.q.data or form.status.data or form.community.data or form.organiser.data)
    return form, stmt.order_by(Activity.created_at.desc(), Activity.id.desc()), filtered


def _activity_figures(items: list[Activity]) -> tuple[dict[int, User], dict[int, int]]:
    """The organisers of `items` and each activity's number of shifts."""
    ids = [a.id for a in items]
    organisers = {u.id: u for u in db.session.scalars(select(User).where(
        User.id.in_({a.organiser_id for a in items if a.organiser_id})))} if ids else {}
    shifts = dict(db.session.execute(select(Shift.activity_id, func.count()).where(Shift.activity_id.in_(ids))
                                     .group_by(Shift.activity_id)).all()) if ids else {}
    return organisers, shifts


@bp.get("/activities")
@roles_required(*READERS)
def activities():
    form, stmt, filtered = _activity_filters()
    page = paginate(stmt)
    organisers, shifts = _activity_figures(page.items)
    return render_template("volunteers/activities.html", form=form, page=page, organisers=organisers,
                           shifts=shifts, filtered=filtered, export_args=export_args())


@bp.get("/activities.csv")
@roles_required(*READERS)
def activities_csv():
    _form, stmt, _filtered = _activity_filters()
    header = [_("Number"), _("Title"), _("Community"), _("Organiser"), _("Status"), _("Shifts"), _("People served"),
              _("Grant-funded project")]

    def lines() -> Iterator[str]:
        yield csvexport.line(header)
        for chunk in db.session.scalars(stmt.execution_options(yield_per=CSV_BATCH)).partitions():
            organisers, shifts = _activity_figures(chunk)
            for a in chunk:
                organiser = organisers.get(a.organiser_id)
                yield csvexport.line([a.id, a.title, a.community, organiser.email if organiser else "",
                                      ACTIVITY_STATUS_LABELS.get(a.status, a.status), shifts.get(a.id, 0),
                                      a.people_served, a.award_id or ""])

    return csvexport.response(lines(), "volunteer-activities.csv")


def _activity_form(activity: Activity | None) -> ActivityForm:
    form = ActivityForm(obj=activity)
    from fundapp.grants.models import Award

    awards = db.session.scalars(select(Award).order_by(Award.number.desc()))
    form.award.choices = [("", _("Not part of a funded project"))] + [(str(a.id), f"{a.number} {a.title}")
                                                                     for a in awards]
    if current_user.has_role("admin"):
        form.organiser.choices = [("", _("No organiser (staff run it)"))] + [
            (str(u.id), _user_label(u)) for u in _organisers()]
    else:
        form.organiser.choices = [(str(current_user.id), _user_label(current_user))]
    if activity is not None and not form.is_submitted():
        form.award.data = str(activity.award_id or "")
        form.organiser.data = str(activity.organiser_id or "")
    return form


def _optional_id(value: str | None) -> int | None:
    return row_id(value or "")


def _activity_input(form: ActivityForm, activity: Activity | None) -> manage.ActivityInput:
    if current_user.has_role("admin"):
        organiser_id = _optional_id(form.organiser.data)
    else:  # an organiser creates and keeps their own activities
        organiser_id = activity.organiser_id if activity is not None else current_user.id
    return manage.ActivityInput(title=form.title.data or "", description=form.description.data or "",
                                community=form.community.data or "", award_id=_optional_id(form.award.data),
                                organiser_id=organiser_id, people_served=form.people_served.data)


def _save_activity(activity: Activity | None):
    form = _activity_form(activity)
    if form.validate_on_submit():
        with form_service(form) as done:
            data = _activity_input(form, activity)
            if activity is None:
                activity = manage.create_activity(db.session, data, current_user)
            else:
                manage.update_activity(db.session, activity, data, current_user)
        if done.ok:
            flash(_("Activity %(title)s saved.", title=activity.title), "success")
            return redirect(url_for("volunteers.activity", activity_id=activity.id))
    elif form.is_submitted():
        form.form_errors.append(_("Correct the marked fields; nothing was saved."))
    return render_template("volunteers/activity_form.html", form=form, activity=activity)


@bp.route("/activities/new", methods=["GET", "POST"])
@roles_required(*MANAGERS)
def activity_new():
    return _save_activity(None)


@bp.route("/activities/<int:activity_id>/edit", methods=["GET", "POST"])
@roles_required(*MANAGERS)
def activity_edit(activity_id: int):
    return _save_activity(_activity(activity_id, manage_it=True))


@bp.get("/activities/<int:activity_id>")
@roles_required(*READERS)
def activity(activity_id: int):
    activity = _activity(activity_id)
    taken = dict(db.session.execute(
        select(Signup.shift_id, func.count()).join(Shift, Shift.id == Signup.shift_id)
        .where(Shift.activity_id == activity.id, Signup.status != "cancelled").group_by(Signup.shift_id)).all())
    organiser = db.session.get(User, activity.organiser_id) if activity.organiser_id else None
    award = None
    if activity.award_id:
        from fundapp.grants.models import Award

        award = db.session.get(Award, activity.award_id)
    status_form = StatusForm(status=ActivityStatus.closed.value if activity.status == ActivityStatus.open.value
                             else ActivityStatus.open.value)
    return render_template("volunteers/activity.html", activity=activity, taken=taken, organiser=organiser,
                           award=award, shift_form=ShiftForm(), status_form=status_form,
                           can_edit=_mine(activity, True))


@bp.post("/activities/<int:activity_id>/status")
@roles_required(*MANAGERS)
def activity_status(activity_id: int):
    activity = _activity(activity_id, manage_it=True)
    form = StatusForm()
    target = url_for("volunteers.activity", activity_id=activity.id)
    if not form.validate_on_submit() or form.status.data not in ACTIVITY_STATUS_LABELS:
        flash(_first_error(form) if form.errors else _("Choose open or closed."), "error")
        return redirect(target)
    status = ActivityStatus(form.status.data)
    message = _("Activity closed: no more sign-ups.") if status == ActivityStatus.closed else _("Activity reopened.")
    return _act(lambda: manage.set_activity_status(db.session, activity, status, current_user), message, target)


@bp.post("/activities/<int:activity_id>/shifts")
@roles_required(*MANAGERS)
def shift_add(activity_id: int):
    activity = _activity(activity_id, manage_it=True)
    form = ShiftForm()
    target = url_for("volunteers.activity", activity_id=activity.id)
    if not form.validate_on_submit():
        flash(_first_error(form), "error")
        return redirect(target)
    zone = _zone()
    starts = dt.datetime.combine(form.day.data, form.start.data, zone).astimezone(dt.UTC)
    ends = dt.datetime.combine(form.day.data, form.end.data, zone).astimezone(dt.UTC)
    return _act(lambda: manage.add_shift(db.session, activity, starts, ends, form.capacity.data, current_user),
                _("Shift added."), target)


from fundapp.volunteers import service_views  # noqa: E402,F401  (the roster, verification and hours routes)
