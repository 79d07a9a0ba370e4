"""Blueprint `volunteer_portal` at /my/time-bank: a volunteer's own account. Only users with the `volunteer` role
linked to a volunteer record (Volunteer.user_id) see it, and only their own: profile and consent, sign-ups,
hours, points, gifts, the catalogue and redemptions, certificates.

A volunteer user not (yet) linked to a volunteer record sees a page asking them to contact the foundation, on every
page. Another volunteer's sign-up in a URL is 404. Views parse, call one service, commit or roll back."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from decimal import Decimal
from functools import wraps

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, or_, select
from sqlalchemy.orm import contains_eager, selectinload

from fundapp import csvexport
from fundapp.auth.decorators import roles_required
from fundapp.dates import local_today
from fundapp.db import utcnow
from fundapp.extensions import db
from fundapp.forms import new_key
from fundapp.volunteers import exchange, manage, points, service
from fundapp.volunteers.models import (
    Activity,
    ActivityStatus,
    Certificate,
    PointAccount,
    PointEntry,
    PointLine,
    RecordStatus,
    Redemption,
    Reward,
    ServiceRecord,
    Shift,
    Signup,
    SignupStatus,
    Volunteer,
)
from fundapp.volunteers.portal_forms import (
    ENTRY_KIND_LABELS,
    PERSON,
    RECORD_STATUS_LABELS,
    TICK,
    ActivityFilterForm,
    ConfirmForm,
    GiftForm,
    HoursFilterForm,
    ProfileForm,
    RedeemForm,
    parse_points_field,
)
from fundapp.volunteers.views import _zone, export_args, local_time, paginate, statement_page
from fundapp.web import form_service

bp = Blueprint("volunteer_portal", __name__, url_prefix="/my/time-bank")
VOLUNTEER = "volunteer"
ZERO = Decimal("0.00")
UPCOMING_LIMIT = 20
ACTIVE_SIGNUPS = (SignupStatus.signed_up.value, SignupStatus.checked_in.value)


@bp.context_processor
def _helpers() -> dict:
    return {"local_time": local_time}


def own_volunteer() -> Volunteer | None:
    return manage.volunteer_for_user(db.session, current_user)


def portal_page(view: Callable) -> Callable:
    """Give the view the signed-in user's own volunteer; a user without one sees the 'ask the foundation' page."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        volunteer = own_volunteer()
        if volunteer is None:
            return render_template("volunteer_portal/unlinked.html")
        return view(volunteer, *args, **kwargs)

    return wrapped


# --- reads ----------------------------------------------------------------------------------------------------


def own_account(volunteer: Volunteer) -> PointAccount | None:
    """The volunteer's time account, if one was opened (reading never opens one)."""
    return db.session.scalar(select(PointAccount).where(PointAccount.volunteer_id == volunteer.id))


def _balance(account: PointAccount | None) -> Decimal:
    return account.balance if account is not None else ZERO


def _hours(volunteer: Volunteer, status: RecordStatus, since: dt.datetime | None = None) -> Decimal:
    stmt = (select(func.coalesce(func.sum(ServiceRecord.hours), 0))
            .join(Signup, Signup.id == ServiceRecord.signup_id).join(Shift, Shift.id == Signup.shift_id)
            .where(Signup.volunteer_id == volunteer.id, ServiceRecord.status == status.value))
    if since is not None:
        stmt = stmt.where(Shift.starts_at >= since)
    return Decimal(db.session.scalar(stmt) or 0).quantize(ZERO)


def _upcoming(volunteer: Volunteer) -> list[Signup]:
    return list(db.session.scalars(
        select(Signup).join(Shift, Shift.id == Signup.shift_id)
        .where(Signup.volunteer_id == volunteer.id, Signup.status.in_(ACTIVE_SIGNUPS), Shift.ends_at > utcnow())
        .options(contains_eager(Signup.shift).selectinload(Shift.activity))
        .order_by(Shift.starts_at).limit(UPCOMING_LIMIT)))


def _own_signup(volunteer: Volunteer, signup_id: int) -> Signup:
    signup = db.session.get(Signup, signup_id)
    if signup is None or signup.volunteer_id != volunteer.id:
        abort(404)
    return signup


def _taken_counts(shift_ids: list[int]) -> dict[int, int]:
    if not shift_ids:
        return {}
    return dict(db.session.execute(
        select(Signup.shift_id, func.count()).where(Signup.shift_id.in_(shift_ids),
                                                    Signup.status != SignupStatus.cancelled.value)
        .group_by(Signup.shift_id)).all())


def _my_signups(volunteer: Volunteer, shift_ids: list[int]) -> dict[int, Signup]:
    if not shift_ids:
        return {}
    rows = db.session.scalars(select(Signup).where(Signup.volunteer_id == volunteer.id,
                                                   Signup.shift_id.in_(shift_ids),
                                                   Signup.status != SignupStatus.cancelled.value))
    return {signup.shift_id: signup for signup in rows}


def _award_titles(activities: list[Activity]) -> dict[int, str]:
    from fundapp.grants.models import Award

    ids = {activity.award_id for activity in activities if activity.award_id is not None}
    if not ids:
        return {}
    return dict(db.session.execute(select(Award.id, Award.title).where(Award.id.in_(ids))).all())


# --- home and profile -----------------------------------------------------------------------------------------


@bp.get("/")
@roles_required(VOLUNTEER)
@portal_page
def index(volunteer: Volunteer):
    year_start = dt.datetime(local_today().year, 1, 1, tzinfo=_zone())
    return render_template(
        "volunteer_portal/index.html", volunteer=volunteer, balance=_balance(own_account(volunteer)),
        hours_year=_hours(volunteer, RecordStatus.verified, since=year_start),
        hours_all=_hours(volunteer, RecordStatus.verified), hours_pending=_hours(volunteer, RecordStatus.pending),
        upcoming=_upcoming(volunteer), year=local_today().year)


@bp.route("/profile", methods=["GET", "POST"])
@roles_required(VOLUNTEER)
@portal_page
def profile(volunteer: Volunteer):
    form = ProfileForm(obj=volunteer)
    if form.validate_on_submit():
        data = manage.VolunteerInput(name=volunteer.name, phone=form.phone.data or "", email=form.email.data or "",
                                     community=form.community.data or "", skills=form.skills.data or "",
                                     consent_public=volunteer.consent_public)
        with form_service(form) as done:
            manage.update_volunteer(db.session, volunteer, data, current_user)
            if bool(form.consent_public.data) != volunteer.consent_public:
                manage.set_consent(db.session, volunteer, bool(form.consent_public.data), current_user)
        if done.ok:
            flash(_("Your details were saved."), "success")
            return redirect(url_for("volunteer_portal.profile"))
    return render_template("volunteer_portal/profile.html", volunteer=volunteer, form=form)


# --- activities and sign-ups ----------------------------------------------------------------------------------


@bp.get("/activities")
@roles_required(VOLUNTEER)
@portal_page
def activities(volunteer: Volunteer):
    form = ActivityFilterForm(formdata=request.args)
    form.validate()
    stmt = (select(Shift).join(Activity, Activity.id == Shift.activity_id)
            .where(Activity.status == ActivityStatus.open.value, Shift.starts_at > utcnow())
            .options(contains_eager(Shift.activity)).order_by(Shift.starts_at, Shift.id))
    text = form.q.data if form.q.data and not form.q.errors else None
    if text:
        pattern = f"%{text}%"
        stmt = stmt.where(or_(Activity.title.ilike(pattern), Activity.community.ilike(pattern)))
    page = paginate(stmt)
    shift_ids = [shift.id for shift in page.items]
    return render_template(
        "volunteer_portal/activities.html", form=form, page=page, filtered=bool(text),
        taken=_taken_counts(shift_ids), mine=_my_signups(volunteer, shift_ids),
        projects=_award_titles([shift.activity for shift in page.items]))


@bp.route("/shifts/<int:shift_id>/sign-up", methods=["GET", "POST"])
@roles_required(VOLUNTEER)
@portal_page
def sign_up(volunteer: Volunteer, shift_id: int):
    shift = db.get_or_404(Shift, shift_id)
    form = ConfirmForm()
    started = service._aware(shift.starts_at) <= utcnow()
    if form.validate_on_submit():
        if started:
            form.form_errors.append(_("This shift has already started."))
        else:
            with form_service(form) as done:
                service.sign_up(db.session, volunteer, shift, current_user)
            if done.ok:
                flash(_("You are signed up. Thank you!"), "success")
                return redirect(url_for("volunteer_portal.index"))
    return render_template("volunteer_portal/sign_up.html", shift=shift, form=form, started=started,
                           taken=manage.shift_taken(db.session, shift), projects=_award_titles([shift.activity]))


@bp.route("/sign-ups/<int:signup_id>/cancel", methods=["GET", "POST"])
@roles_required(VOLUNTEER)
@portal_page
def cancel(volunteer: Volunteer, signup_id: int):
    signup = _own_signup(volunteer, signup_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        with form_service(form) as done:
            service.cancel(db.session, signup, current_user)
        if done.ok:
            flash(_("Your sign-up was cancelled."), "success")
            return redirect(url_for("volunteer_portal.index"))
    return render_template("volunteer_portal/cancel.html", signup=signup, form=form)


# --- hours ----------------------------------------------------------------------------------------------------


def _hours_query(volunteer: Volunteer, status: str | None):
    stmt = (select(ServiceRecord).join(Signup, Signup.id == ServiceRecord.signup_id)
            .join(Shift, Shift.id == Signup.shift_id)
            .where(Signup.volunteer_id == volunteer.id)
            .options(contains_eager(ServiceRecord.signup).contains_eager(Signup.shift).selectinload(Shift.activity)))
    if status:
        stmt = stmt.where(ServiceRecord.status == status)
    return stmt.order_by(Shift.starts_at.desc(), ServiceRecord.id.desc())


def _hours_filter() -> tuple[HoursFilterForm, str | None]:
    form = HoursFilterForm(formdata=request.args)
    form.validate()
    return form, (form.status.data if form.status.data in RECORD_STATUS_LABELS else None)


@bp.get("/hours")
@roles_required(VOLUNTEER)
@portal_page
def hours(volunteer: Volunteer):
    form, status = _hours_filter()
    page = paginate(_hours_query(volunteer, status))
    return render_template("volunteer_portal/hours.html", form=form, page=page, filtered=bool(status),
                           labels=RECORD_STATUS_LABELS, hours_all=_hours(volunteer, RecordStatus.verified),
                           export_args=export_args())


@bp.get("/hours.csv")
@roles_required(VOLUNTEER)
@portal_page
def hours_csv(volunteer: Volunteer):
    _form, status = _hours_filter()
    rows = []
    for record in db.session.scalars(_hours_query(volunteer, status)):
        shift = record.signup.shift
        day = service._aware(shift.starts_at).astimezone(_zone()).date()
        rows.append([day.isoformat(), shift.activity.title, record.hours,
                     RECORD_STATUS_LABELS.get(record.status, record.status), record.reason])

    def lines() -> Iterator[str]:
        yield csvexport.line([_("Date"), _("Activity"), _("Hours"), _("Status"), _("Reason")])
        for row in rows:
            yield csvexport.line(row)

    return csvexport.response(lines(), f"my-hours-{local_today().isoformat()}.csv")


# --- points ---------------------------------------------------------------------------------------------------


STATEMENT_ORDER = (PointEntry.effective_date, PointLine.entry_id, PointLine.id)


def _statement_query(account: PointAccount, newest_first: bool = True):
    """The account's lines in date order (then posting order), newest first unless asked otherwise."""
    stmt = (select(PointLine).join(PointEntry, PointEntry.id == PointLine.entry_id)
            .where(PointLine.account_id == account.id).options(contains_eager(PointLine.entry)))
    return stmt if newest_first else stmt.order_by(*STATEMENT_ORDER)


@bp.get("/points")
@roles_required(VOLUNTEER)
@portal_page
def statement(volunteer: Volunteer):
    account = own_account(volunteer)
    page, rows = None, []
    if account is not None:
        page, rows = statement_page(account, _statement_query(account), tuple(k.desc() for k in STATEMENT_ORDER))
    return render_template("volunteer_portal/points.html", balance=_balance(account), page=page, rows=rows,
                           labels=ENTRY_KIND_LABELS)


@bp.get("/points.csv")
@roles_required(VOLUNTEER)
@portal_page
def statement_csv(volunteer: Volunteer):
    account = own_account(volunteer)
    rows, running = [], ZERO
    for line in db.session.scalars(_statement_query(account, newest_first=False)) if account else ():
        running += line.amount
        entry = line.entry
        rows.append([entry.effective_date.isoformat(), ENTRY_KIND_LABELS.get(entry.kind, entry.kind), entry.memo,
                     line.amount, running])

    def lines() -> Iterator[str]:
        yield csvexport.line([_("Date"), _("Kind"), _("Note"), _("Points"), _("Balance")])
        for row in rows:
            yield csvexport.line(row)

    return csvexport.response(lines(), f"my-points-{local_today().isoformat()}.csv")


# --- giving points --------------------------------------------------------------------------------------------


def _gift_key(form: GiftForm) -> str:
    return f"portal-gift:{form.key.data}"


def masked_name(volunteer: Volunteer) -> str:
    """A volunteer's name as another volunteer may see it: in full with their consent to appear publicly, else the
    first character only (王大明 -> 王**), so that knowing a phone number does not tell whose it is."""
    name = volunteer.name
    return name if volunteer.consent_public else name[:1] + "*" * max(len(name) - 1, 1)


def _recipient(form: GiftForm, volunteer: Volunteer) -> tuple[str, Volunteer | None] | None:
    """(the name shown, the volunteer receiving or None for a new person account), or None after a message."""
    if form.recipient.data == PERSON:
        if not form.person_name.data:
            form.person_name.errors.append(_("Give the name of the person receiving the points."))
            return None
        return form.person_name.data, None
    if not form.phone.data:
        form.phone.errors.append(_("Give the volunteer's phone number."))
        return None
    found = db.session.scalars(select(Volunteer).where(Volunteer.phone == form.phone.data,
                                                      Volunteer.id != volunteer.id).limit(2)).all()
    if len(found) != 1:
        form.phone.errors.append(_("No single registered volunteer has this phone number."))
        return None
    return masked_name(found[0]), found[0]


def _already_given(account: PointAccount | None, form: GiftForm) -> bool | None:
    """True if this form was already posted from the account; None if its key belongs to someone else."""
    entry = db.session.scalar(select(PointEntry).where(PointEntry.idempotency_key == _gift_key(form)))
    if entry is None:
        return False
    return True if account is not None and any(line.account_id == account.id for line in entry.lines) else None


def _give(volunteer: Volunteer, form: GiftForm, receiver: Volunteer | None, amount: Decimal) -> bool:
    giver = points.volunteer_account(db.session, volunteer)
    with form_service(form) as done:
        account = (points.volunteer_account(db.session, receiver) if receiver is not None
                   else points.person_account(db.session, form.person_name.data))
        points.gift_points(db.session, giver, account, amount, key=_gift_key(form), memo=form.memo.data or "",
                           actor=current_user)
    return done.ok


@bp.route("/give", methods=["GET", "POST"])
@roles_required(VOLUNTEER)
@portal_page
def give(volunteer: Volunteer):
    form = GiftForm()
    balance = _balance(own_account(volunteer))
    confirming, name, amount = False, None, None
    if not form.is_submitted():
        form.key.data = new_key()
    elif form.ensure_key() and form.validate():
        already = _already_given(own_account(volunteer), form)
        if already:
            flash(_("These points were already given; they were not given again."), "info")
            return redirect(url_for("volunteer_portal.statement"))
        if already is None:
            form.key.data = new_key()
            form.form_errors.append(_("The form expired. Check it and submit it again."))
        else:
            found = _recipient(form, volunteer)
            amount = parse_points_field(form.points)
            if found is not None and amount is not None:
                name, receiver = found
                if amount > balance:
                    form.points.errors.append(_("You hold %(held)s points.", held=balance))
                elif not form.confirm.data:
                    confirming = True
                elif _give(volunteer, form, receiver, amount):
                    flash(_("You gave %(points)s points to %(name)s.", points=amount, name=name), "success")
                    return redirect(url_for("volunteer_portal.statement"))
    return render_template("volunteer_portal/give.html", form=form, balance=balance, confirming=confirming,
                           name=name, amount=amount)


# --- the catalogue --------------------------------------------------------------------------------------------


def _my_redemptions(account: PointAccount | None) -> list[Redemption]:
    if account is None:
        return []
    return list(db.session.scalars(select(Redemption).where(Redemption.account_id == account.id)
                                   .options(selectinload(Redemption.reward)).order_by(Redemption.id.desc()).limit(100)))


@bp.get("/catalogue")
@roles_required(VOLUNTEER)
@portal_page
def catalogue(volunteer: Volunteer):
    account = own_account(volunteer)
    page = paginate(select(Reward).where(Reward.is_active.is_(True), Reward.stock > 0)
                     .order_by(Reward.points, Reward.name, Reward.id))
    return render_template("volunteer_portal/catalogue.html", page=page, balance=_balance(account),
                           redemptions=_my_redemptions(account))


def _offered(reward_id: int) -> Reward:
    reward = db.session.get(Reward, reward_id)
    if reward is None or not reward.is_active:
        abort(404)
    return reward


@bp.route("/catalogue/<int:reward_id>/redeem", methods=["GET", "POST"])
@roles_required(VOLUNTEER)
@portal_page
def redeem(volunteer: Volunteer, reward_id: int):
    reward = _offered(reward_id)
    form = RedeemForm()
    if not form.is_submitted():
        form.key.data = new_key()
    elif form.ensure_key() and form.validate():
        done = db.session.scalar(select(Redemption).where(Redemption.key == form.key.data))
        if done is None and not form.confirm.data:
            form.confirm.errors.append(TICK)
        elif done is None or done.account_id == getattr(own_account(volunteer), "id", None):
            if _redeem(volunteer, reward, form):
                if done is not None:
                    flash(_("This exchange was already made; it was not made again."), "info")
                else:
                    flash(_("Exchanged. The foundation will tell you how to receive %(name)s.", name=reward.name),
                          "success")
                return redirect(url_for("volunteer_portal.catalogue"))
        else:
            form.key.data = new_key()
            form.form_errors.append(_("The form expired. Check it and submit it again."))
    balance = _balance(own_account(volunteer))
    quantity = form.quantity.data if isinstance(form.quantity.data, int) and 0 < form.quantity.data <= 100 else 1
    cost = (reward.points * quantity).quantize(ZERO)
    return render_template("volunteer_portal/redeem.html", reward=reward, form=form, balance=balance, cost=cost,
                           after=balance - cost, quantity=quantity)


def _redeem(volunteer: Volunteer, reward: Reward, form: RedeemForm) -> bool:
    with form_service(form) as done:
        account = points.volunteer_account(db.session, volunteer)
        exchange.redeem(db.session, account, reward, form.quantity.data, key=form.key.data, actor=current_user)
    return done.ok


# --- certificates ---------------------------------------------------------------------------------------------


@bp.get("/certificates")
@roles_required(VOLUNTEER)
@portal_page
def certificates(volunteer: Volunteer):
    rows = db.session.scalars(select(Certificate).where(Certificate.volunteer_id == volunteer.id)
                              .order_by(Certificate.issued_at.desc(), Certificate.id.desc())).all()
    return render_template("volunteer_portal/certificates.html", volunteer=volunteer, certificates=rows)

