"""Volunteers, activities, shifts and the rewards catalogue: creating and changing them.

The rules of what may change live here so that every page (staff, organiser, the volunteer's own portal) and the
demo go through one place; each change writes an audit event with the fields before and after. Services flush,
never commit; bad input raises `ManageError` (translated) and writes nothing.

- A volunteer may be linked to at most one user account (and a user to one volunteer); the linked user gets the
  `volunteer` role there and then.
- An activity's organiser is a user with the `organiser` role (or none: staff run it). Closing an activity stops
  sign-ups; hours already served can still be entered and verified.
- Shifts end after they start, hold 1..500 people, and last at most 24 hours; a shift is never edited once anyone
  signed up for it (add another).
- A reward valued in 1201 存货 comes from an in-kind donation: its fund is the donation's, and its stock times its
  unit value can never exceed the donation's value still unclaimed by other rewards.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fundapp.audit.services import AuditTag, record_event
from fundapp.auth.models import Role, User, UserRole
from fundapp.donations.models import Donation, DonationMethod, DonationStatus
from fundapp.money import CENT
from fundapp.volunteers.models import Activity, ActivityStatus, Reward, RewardKind, Shift, Signup, Volunteer
from fundapp.volunteers.points import PointsError

MAX_SHIFT_HOURS = 24
MAX_CAPACITY = 500
MAX_STOCK = 1_000_000
MAX_POINTS = Decimal("100000")
VOLUNTEER_FIELDS = ("name", "phone", "email", "community", "skills", "consent_public")
ACTIVITY_FIELDS = ("title", "description", "community", "award_id", "organiser_id", "people_served")
REWARD_FIELDS = ("name", "kind", "points", "stock", "donor_label", "is_active")


class ManageError(PointsError):
    """A change the rules refuse; nothing was written."""


def _snapshot(obj, fields: tuple[str, ...]) -> dict:
    return {name: getattr(obj, name) for name in fields}


def _text(value: object, label: str, limit: int, required: bool = False) -> str:
    text = (value or "").strip() if isinstance(value, str) or value is None else None
    if text is None or len(text) > limit or "\x00" in text:
        raise ManageError(_("%(field)s: at most %(n)d characters.", field=label, n=limit))
    if required and not text:
        raise ManageError(_("%(field)s is required.", field=label))
    return text


# --- volunteers ----------------------------------------------------------------------------------------


@dataclass
class VolunteerInput:
    name: str
    phone: str = ""
    email: str = ""
    community: str = ""
    skills: str = ""
    consent_public: bool = False


def _clean_volunteer(data: VolunteerInput) -> dict:
    return {
        "name": _text(data.name, _("Name"), 100, required=True),
        "phone": _text(data.phone, _("Phone"), 50),
        "email": _text(data.email, _("Email"), 254),
        "community": _text(data.community, _("Community"), 100),
        "skills": _text(data.skills, _("Skills"), 2000),
        "consent_public": bool(data.consent_public),
    }


def create_volunteer(session: Session, data: VolunteerInput, actor=None) -> Volunteer:
    volunteer = Volunteer(**_clean_volunteer(data))
    session.add(volunteer)
    session.flush()
    record_event(session, AuditTag.volunteer_created, actor, "volunteer", volunteer.id,
                 after=_snapshot(volunteer, VOLUNTEER_FIELDS))
    return volunteer


def update_volunteer(session: Session, volunteer: Volunteer, data: VolunteerInput, actor=None) -> Volunteer:
    before = _snapshot(volunteer, VOLUNTEER_FIELDS)
    for name, value in _clean_volunteer(data).items():
        setattr(volunteer, name, value)
    session.flush()
    after = _snapshot(volunteer, VOLUNTEER_FIELDS)
    if after != before:
        record_event(session, AuditTag.volunteer_updated, actor, "volunteer", volunteer.id, before=before, after=after)
    return volunteer


def set_consent(session: Session, volunteer: Volunteer, consent: bool, actor=None) -> Volunteer:
    """The volunteer's own choice to appear by name on the public pages (or to stop appearing)."""
    data = VolunteerInput(**_snapshot(volunteer, VOLUNTEER_FIELDS) | {"consent_public": bool(consent)})
    return update_volunteer(session, volunteer, data, actor)


def link_user(session: Session, volunteer: Volunteer, user: User, actor=None) -> Volunteer:
    """Give the volunteer a sign-in: the user gets the `volunteer` role and sees only this volunteer's account."""
    if volunteer.user_id == user.id:
        return volunteer
    if volunteer.user_id is not None:
        raise ManageError(_("This volunteer already has a user account."))
    if session.scalar(select(Volunteer.id).where(Volunteer.user_id == user.id)) is not None:
        raise ManageError(_("This user account already belongs to another volunteer."))
    volunteer.user_id = user.id
    if not user.has_role(Role.volunteer.value):
        session.add(UserRole(user_id=user.id, role=Role.volunteer.value))
    session.flush()
    session.expire(user, ["role_rows"])
    record_event(session, AuditTag.volunteer_updated, actor, "volunteer", volunteer.id,
                 before={"user_id": None}, after={"user_id": user.id})
    return volunteer


def volunteer_for_user(session: Session, user) -> Volunteer | None:
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return session.scalar(select(Volunteer).where(Volunteer.user_id == user.id))


# --- activities and shifts -----------------------------------------------------------------------------


@dataclass
class ActivityInput:
    title: str
    description: str = ""
    community: str = ""
    award_id: int | None = None
    organiser_id: int | None = None
    people_served: int = 0


def _clean_activity(session: Session, data: ActivityInput) -> dict:
    from fundapp.grants.models import Award

    if data.award_id is not None and session.get(Award, data.award_id) is None:
        raise ManageError(_("No such grant."))
    if data.organiser_id is not None:
        organiser = session.get(User, data.organiser_id)
        if organiser is None or not organiser.has_role(Role.organiser.value):
            raise ManageError(_("The organiser must be a user with the organiser role."))
    served = data.people_served
    if not isinstance(served, int) or isinstance(served, bool) or not 0 <= served <= 10_000_000:
        raise ManageError(_("People served must be a whole number, 0 or more."))
    return {
        "title": _text(data.title, _("Title"), 200, required=True),
        "description": _text(data.description, _("Description"), 5000),
        "community": _text(data.community, _("Community"), 100),
        "award_id": data.award_id,
        "organiser_id": data.organiser_id,
        "people_served": served,
    }


def create_activity(session: Session, data: ActivityInput, actor=None) -> Activity:
    activity = Activity(status=ActivityStatus.open.value, **_clean_activity(session, data))
    session.add(activity)
    session.flush()
    record_event(session, AuditTag.volunteer_activity_created, actor, "volunteer_activity", activity.id,
                 after=_snapshot(activity, ACTIVITY_FIELDS))
    return activity


def update_activity(session: Session, activity: Activity, data: ActivityInput, actor=None) -> Activity:
    before = _snapshot(activity, ACTIVITY_FIELDS)
    for name, value in _clean_activity(session, data).items():
        setattr(activity, name, value)
    session.flush()
    after = _snapshot(activity, ACTIVITY_FIELDS)
    if after != before:
        record_event(session, AuditTag.volunteer_activity_updated, actor, "volunteer_activity", activity.id,
                     before=before, after=after)
    return activity


def set_activity_status(session: Session, activity: Activity, status: ActivityStatus, actor=None) -> Activity:
    if activity.status == status.value:
        return activity
    before = {"status": activity.status}
    activity.status = status.value
    session.flush()
    record_event(session, AuditTag.volunteer_activity_updated, actor, "volunteer_activity", activity.id,
                 before=before, after={"status": activity.status})
    return activity


def add_shift(session: Session, activity: Activity, starts_at: dt.datetime, ends_at: dt.datetime, capacity: int,
              actor=None) -> Shift:
    if starts_at is None or ends_at is None or starts_at.tzinfo is None or ends_at.tzinfo is None:
        raise ManageError(_("Give the shift's start and end."))
    if ends_at <= starts_at:
        raise ManageError(_("A shift must end after it starts."))
    if ends_at - starts_at > dt.timedelta(hours=MAX_SHIFT_HOURS):
        raise ManageError(_("A shift lasts at most %(n)d hours.", n=MAX_SHIFT_HOURS))
    if not isinstance(capacity, int) or isinstance(capacity, bool) or not 0 < capacity <= MAX_CAPACITY:
        raise ManageError(_("Capacity must be between 1 and %(n)d.", n=MAX_CAPACITY))
    if activity.status != ActivityStatus.open.value:
        raise ManageError(_("This activity is closed."))
    shift = Shift(activity_id=activity.id, starts_at=starts_at, ends_at=ends_at, capacity=capacity)
    session.add(shift)
    session.flush()
    record_event(session, AuditTag.volunteer_shift_added, actor, "volunteer_shift", shift.id,
                 after={"activity": activity.id, "starts_at": starts_at, "ends_at": ends_at, "capacity": capacity})
    return shift


def shift_taken(session: Session, shift: Shift) -> int:
    from fundapp.volunteers.models import SignupStatus

    return session.scalar(select(func.count()).select_from(Signup).where(
        Signup.shift_id == shift.id, Signup.status != SignupStatus.cancelled.value)) or 0


# --- the rewards catalogue -----------------------------------------------------------------------------


@dataclass
class RewardInput:
    name: str
    kind: str = RewardKind.goods.value
    points: Decimal | str = Decimal("1")
    stock: int = 0
    donor_label: str = ""
    donation_id: int | None = None
    unit_value: Decimal | str | None = None
    is_active: bool = True


def _decimal(value: object, label: str) -> Decimal:
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ManageError(_("%(field)s must be a number.", field=label)) from None
    if not number.is_finite() or number != number.quantize(CENT) or number <= 0:
        raise ManageError(_("%(field)s must be more than 0, with at most two decimals.", field=label))
    return number.quantize(CENT)


def _same_number(value: object, number: Decimal) -> bool:
    """Whether a submitted value (text or Decimal) is `number`; text that is no number is not."""
    try:
        return Decimal(str(value if value not in (None, "") else 0).strip()) == number
    except (InvalidOperation, ValueError):
        return False


def claimed_value(session: Session, donation_id: int, excluding: int | None = None) -> Decimal:
    """The 1201 value of a donation already given to rewards (stock still held times unit value), plus what was
    redeemed from them (it left the stock through a posted entry)."""
    from fundapp.volunteers.models import Redemption

    stmt = select(func.coalesce(func.sum(Reward.stock * Reward.unit_value), 0)).where(
        Reward.donation_id == donation_id, Reward.unit_value.is_not(None))
    redeemed = select(func.coalesce(func.sum(Redemption.quantity * Reward.unit_value), 0)).join(
        Reward, Reward.id == Redemption.reward_id).where(Reward.donation_id == donation_id,
                                                        Reward.unit_value.is_not(None))
    if excluding is not None:
        stmt = stmt.where(Reward.id != excluding)
    return (Decimal(session.scalar(stmt) or 0) + Decimal(session.scalar(redeemed) or 0)).quantize(CENT)


def _clean_reward(session: Session, data: RewardInput, reward: Reward | None = None) -> dict:
    if data.kind not in (RewardKind.goods.value, RewardKind.service.value):
        raise ManageError(_("Choose goods or a service."))
    stock = data.stock
    if not isinstance(stock, int) or isinstance(stock, bool) or not 0 <= stock <= MAX_STOCK:
        raise ManageError(_("Stock must be a whole number between 0 and %(n)d.", n=MAX_STOCK))
    points = _decimal(data.points, _("Points"))
    if points > MAX_POINTS:
        raise ManageError(_("At most %(n)s points per item.", n=MAX_POINTS))
    values = {
        "name": _text(data.name, _("Name"), 200, required=True),
        "kind": data.kind,
        "points": points,
        "stock": stock,
        "donor_label": _text(data.donor_label, _("Given by"), 200),
        "is_active": bool(data.is_active),
        "donation_id": None,
        "fund_id": None,
        "unit_value": None,
    }
    if data.donation_id is not None:
        donation = session.get(Donation, data.donation_id)
        if donation is None or donation.method != DonationMethod.in_kind.value:
            raise ManageError(_("Choose an in-kind donation."))
        if donation.status == DonationStatus.reversed.value:
            raise ManageError(_("This donation was reversed."))
        if data.kind != RewardKind.goods.value:
            raise ManageError(_("Only goods come from an in-kind donation."))
        values.update(donation_id=donation.id, fund_id=donation.fund_id)
        if data.unit_value not in (None, ""):
            unit = _decimal(data.unit_value, _("Unit value"))
            available = Decimal(donation.amount) - claimed_value(
                session, donation.id, excluding=reward.id if reward is not None else None)
            if unit * stock > available:
                raise ManageError(_("Stock times unit value (%(value)s) exceeds the donation's unclaimed value "
                                    "(%(available)s).", value=(unit * stock).quantize(CENT),
                                    available=available.quantize(CENT)))
            values["unit_value"] = unit
    elif data.unit_value not in (None, ""):
        raise ManageError(_("Only goods from an in-kind donation carry a book value."))
    return values


def create_reward(session: Session, data: RewardInput, actor=None) -> Reward:
    reward = Reward(**_clean_reward(session, data))
    session.add(reward)
    session.flush()
    record_event(session, AuditTag.volunteer_reward_created, actor, "volunteer_reward", reward.id,
                 after=_snapshot(reward, (*REWARD_FIELDS, "donation_id", "unit_value")))
    return reward


def update_reward(session: Session, reward: Reward, data: RewardInput, actor=None) -> Reward:
    """Change a reward's name, price, stock (a recount or a restock) or whether it is offered. Its donation and
    unit value are fixed once redeemed from (the posted entries used them)."""
    from fundapp.volunteers.models import Redemption

    redeemed = session.scalar(select(func.count()).select_from(Redemption).where(Redemption.reward_id == reward.id))
    if redeemed and (data.donation_id != reward.donation_id or (
            reward.unit_value is not None and not _same_number(data.unit_value, reward.unit_value))):
        raise ManageError(_("This reward was already redeemed: its donation and unit value stay as they are."))
    before = _snapshot(reward, (*REWARD_FIELDS, "donation_id", "unit_value"))
    for name, value in _clean_reward(session, data, reward).items():
        setattr(reward, name, value)
    session.flush()
    after = _snapshot(reward, (*REWARD_FIELDS, "donation_id", "unit_value"))
    if after != before:
        record_event(session, AuditTag.volunteer_reward_updated, actor, "volunteer_reward", reward.id,
                     before=before, after=after)
    return reward
