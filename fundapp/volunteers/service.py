"""Volunteer service: activities, shifts, sign-up, check-in/check-out, hours, and the organiser's verification.

Hours count only once the organiser verifies them; verification credits the time account through
`fundapp.volunteers.points.credit_hours` (key "service:<record id>", so it happens once). A disputed or corrected
record is reversed (its points reversed, its status `reversed`, with the reason) and, for a correction, a new
record with the right hours replaces it: hours are never edited.

Refused, with a message and nothing written: signing up twice, for a full or past-closed activity, or for a shift
overlapping another of the volunteer's; checking out before checking in (or without checking in); negative, zero
or more than 24 hours; hours on a cancelled signup; verifying twice. Services flush, never commit; each writes an
audit event.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fundapp.audit.services import AuditTag, record_event
from fundapp.db import utcnow
from fundapp.money import CENT
from fundapp.volunteers.models import (
    ActivityStatus,
    PointEntry,
    RecordStatus,
    ServiceRecord,
    Shift,
    Signup,
    SignupStatus,
    Volunteer,
)
from fundapp.volunteers.points import PointsError, credit_hours, reverse_points

MAX_HOURS = Decimal("24")



class ServiceError(PointsError):
    """A volunteer-service action the rules refuse; nothing was written."""


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


def hours_between(start: dt.datetime, end: dt.datetime) -> Decimal:
    """Hours from check-in to check-out, to the hundredth (half up)."""
    seconds = Decimal((_aware(end) - _aware(start)).total_seconds())
    return (seconds / Decimal(3600)).quantize(CENT, rounding=ROUND_HALF_UP)


def _check_hours(hours: object) -> Decimal:
    if not isinstance(hours, Decimal) or not hours.is_finite() or hours <= 0 or hours > MAX_HOURS:
        raise ServiceError(_("Hours must be more than 0 and at most %(max)s.", max=MAX_HOURS))
    if hours != hours.quantize(CENT):
        raise ServiceError(_("Hours have at most two decimal places."))
    return hours


def _overlapping(session: Session, volunteer: Volunteer, shift: Shift) -> Signup | None:
    return session.scalar(
        select(Signup).join(Shift, Shift.id == Signup.shift_id)
        .where(Signup.volunteer_id == volunteer.id, Signup.status != SignupStatus.cancelled.value,
               Signup.shift_id != shift.id, Shift.starts_at < shift.ends_at, Shift.ends_at > shift.starts_at)
    )


def sign_up(session: Session, volunteer: Volunteer, shift: Shift, actor=None) -> Signup:
    if shift.activity.status != ActivityStatus.open.value:
        raise ServiceError(_("This activity is closed."))
    existing = session.scalar(select(Signup).where(Signup.shift_id == shift.id, Signup.volunteer_id == volunteer.id))
    if existing is not None and existing.status != SignupStatus.cancelled.value:
        raise ServiceError(_("%(name)s is already signed up for this shift.", name=volunteer.name))
    clash = _overlapping(session, volunteer, shift)
    if clash is not None:
        raise ServiceError(_("%(name)s is already signed up for an overlapping shift (%(start)s).",
                             name=volunteer.name, start=clash.shift.starts_at.strftime("%Y-%m-%d %H:%M")))
    taken = session.scalar(select(func.count()).select_from(Signup).where(
        Signup.shift_id == shift.id, Signup.status != SignupStatus.cancelled.value))
    if taken >= shift.capacity:
        raise ServiceError(_("This shift is full."))
    if existing is not None:  # signing up again after cancelling
        existing.status = SignupStatus.signed_up.value
        signup = existing
    else:
        signup = Signup(shift_id=shift.id, volunteer_id=volunteer.id, status=SignupStatus.signed_up.value)
        session.add(signup)
    session.flush()
    record_event(session, AuditTag.volunteer_signed_up, actor, "volunteer_signup", signup.id,
                 after={"shift": shift.id, "volunteer": volunteer.id})
    return signup


def cancel(session: Session, signup: Signup, actor=None) -> Signup:
    if signup.status != SignupStatus.signed_up.value:
        raise ServiceError(_("Only a sign-up not yet started can be cancelled."))
    signup.status = SignupStatus.cancelled.value
    session.flush()
    record_event(session, AuditTag.volunteer_signup_cancelled, actor, "volunteer_signup", signup.id,
                 before={"status": SignupStatus.signed_up.value}, after={"status": signup.status})
    return signup


def check_in(session: Session, signup: Signup, at: dt.datetime | None = None, actor=None) -> Signup:
    if signup.status != SignupStatus.signed_up.value:
        raise ServiceError(_("Check-in is possible once, on a sign-up that is not cancelled."))
    signup.checked_in_at = _aware(at or utcnow())
    signup.status = SignupStatus.checked_in.value
    session.flush()
    record_event(session, AuditTag.volunteer_checked_in, actor, "volunteer_signup", signup.id,
                 after={"checked_in_at": signup.checked_in_at})
    return signup


def _record(session: Session, signup: Signup, hours: Decimal, actor, replaces: ServiceRecord | None = None
            ) -> ServiceRecord:
    record = ServiceRecord(signup_id=signup.id, hours=hours, status=RecordStatus.pending.value,
                           entered_by_id=getattr(actor, "id", None),
                           replaces_id=replaces.id if replaces is not None else None)
    session.add(record)
    session.flush()
    record_event(session, AuditTag.volunteer_hours_recorded, actor, "volunteer_service_record", record.id,
                 after={"signup": signup.id, "hours": hours, "replaces": record.replaces_id})
    return record


def check_out(session: Session, signup: Signup, at: dt.datetime | None = None, actor=None) -> ServiceRecord:
    """Check out: the time since check-in becomes a pending service record."""
    if signup.status != SignupStatus.checked_in.value or signup.checked_in_at is None:
        raise ServiceError(_("Check in before checking out."))
    at = _aware(at or utcnow())
    if at <= _aware(signup.checked_in_at):
        raise ServiceError(_("Check-out must be after check-in."))
    hours = _check_hours(hours_between(signup.checked_in_at, at))
    signup.checked_out_at = at
    signup.status = SignupStatus.done.value
    session.flush()
    return _record(session, signup, hours, actor)


def enter_hours(session: Session, signup: Signup, hours: Decimal, actor=None) -> ServiceRecord:
    """The organiser enters the hours of a sign-up (no check-in/out on the day)."""
    hours = _check_hours(hours)
    if signup.status == SignupStatus.cancelled.value:
        raise ServiceError(_("This sign-up was cancelled."))
    if session.scalar(select(ServiceRecord.id).where(ServiceRecord.signup_id == signup.id,
                                                     ServiceRecord.status != RecordStatus.reversed.value,
                                                     ServiceRecord.status != RecordStatus.rejected.value)):
        raise ServiceError(_("Hours are already recorded for this sign-up; correct them instead."))
    signup.status = SignupStatus.done.value
    session.flush()
    return _record(session, signup, hours, actor)


def verify(session: Session, record: ServiceRecord, actor=None) -> ServiceRecord:
    """The organiser confirms the hours: they are credited to the volunteer's time account."""
    if record.status != RecordStatus.pending.value:
        raise ServiceError(_("Only pending hours can be verified."))
    signup = record.signup
    entry = credit_hours(session, signup.volunteer, record.hours, key=f"service:{record.id}",
                         memo=signup.shift.activity.title[:300], actor=actor,
                         day=_aware(signup.shift.starts_at).date())
    record.status = RecordStatus.verified.value
    record.point_entry_id = entry.id
    record.verified_by_id = getattr(actor, "id", None)
    record.verified_at = utcnow()
    session.flush()
    record_event(session, AuditTag.volunteer_hours_verified, actor, "volunteer_service_record", record.id,
                 before={"status": RecordStatus.pending.value},
                 after={"status": record.status, "points_entry": entry.id})
    return record


def reject(session: Session, record: ServiceRecord, reason: str, actor=None) -> ServiceRecord:
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError(_("Say why the hours are not accepted."))
    if record.status != RecordStatus.pending.value:
        raise ServiceError(_("Only pending hours can be rejected; verified hours are reversed."))
    record.status, record.reason = RecordStatus.rejected.value, reason[:300]
    session.flush()
    record_event(session, AuditTag.volunteer_hours_rejected, actor, "volunteer_service_record", record.id,
                 before={"status": RecordStatus.pending.value}, after={"status": record.status, "reason": reason})
    return record


def correct(session: Session, record: ServiceRecord, reason: str, hours: Decimal | None = None, actor=None
            ) -> ServiceRecord | None:
    """Reverse verified hours (disputed) and, with `hours`, enter the right hours as a new pending record."""
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError(_("Say why the hours are corrected."))
    if record.status != RecordStatus.verified.value:
        raise ServiceError(_("Only verified hours are reversed; reject pending hours instead."))
    if hours is not None:
        hours = _check_hours(hours)
    reverse_points(session, session.get(PointEntry, record.point_entry_id), reason, actor=actor,
                   key=f"service-reversal:{record.id}")
    record.status, record.reason = RecordStatus.reversed.value, reason[:300]
    session.flush()
    record_event(session, AuditTag.volunteer_hours_reversed, actor, "volunteer_service_record", record.id,
                 before={"status": RecordStatus.verified.value}, after={"status": record.status, "reason": reason})
    return _record(session, record.signup, hours, actor, replaces=record) if hours is not None else None


def verified_hours(session: Session, volunteer: Volunteer) -> Decimal:
    total = session.scalar(select(func.coalesce(func.sum(ServiceRecord.hours), 0))
                           .join(Signup, Signup.id == ServiceRecord.signup_id)
                           .where(Signup.volunteer_id == volunteer.id,
                                  ServiceRecord.status == RecordStatus.verified.value))
    return Decimal(total).quantize(CENT)
