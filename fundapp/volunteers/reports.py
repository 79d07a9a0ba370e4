"""Volunteer-service figures: hours by project, community and month, the annual report's volunteer-service note,
and certificates (issue and verify). Verified hours only; every figure is one GROUP BY query."""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fundapp.audit.services import AuditTag, record_event
from fundapp.volunteers.models import (
    Activity,
    Certificate,
    RecordStatus,
    ServiceRecord,
    Shift,
    Signup,
    Volunteer,
)
from fundapp.volunteers.service import ServiceError

ZERO = Decimal("0.00")



@dataclass(frozen=True)
class HoursRow:
    label: str
    hours: Decimal
    people: int
    records: int


def _verified(start: dt.datetime, end: dt.datetime):
    return (select().select_from(ServiceRecord)
            .join(Signup, Signup.id == ServiceRecord.signup_id)
            .join(Shift, Shift.id == Signup.shift_id)
            .join(Activity, Activity.id == Shift.activity_id)
            .where(ServiceRecord.status == RecordStatus.verified.value,
                   Shift.starts_at >= start, Shift.starts_at < end))


def _bounds(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    return (dt.datetime.combine(start, dt.time(), dt.UTC),
            dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), dt.UTC))


def hours_by(session: Session, group: str, start: dt.date, end: dt.date) -> list[HoursRow]:
    """Verified hours between `start` and `end` (inclusive) by "project" (award; activities outside a grant are
    one line), "community" or "activity"."""
    column = {"project": Activity.award_id, "community": Activity.community, "activity": Activity.title}.get(group)
    if column is None:
        raise ValueError(f"unknown grouping {group!r}")
    stmt = (_verified(*_bounds(start, end))
            .add_columns(column, func.sum(ServiceRecord.hours), func.count(func.distinct(Signup.volunteer_id)),
                         func.count(ServiceRecord.id))
            .group_by(column).order_by(func.sum(ServiceRecord.hours).desc()))
    return [HoursRow(str(label) if label not in (None, "") else _("Not part of a funded project")
                     if group == "project" else _("Unspecified"),
                     Decimal(hours).quantize(ZERO), people, records)
            for label, hours, people, records in session.execute(stmt)]


@dataclass(frozen=True)
class ServiceNote:
    """The annual report's note on volunteer service: hours and headcount (donated services are disclosed in the
    notes, not recognised as income)."""

    year: int
    hours: Decimal
    people: int
    activities: int


def service_note(session: Session, year: int) -> ServiceNote:
    stmt = _verified(*_bounds(dt.date(year, 1, 1), dt.date(year, 12, 31))).add_columns(
        func.coalesce(func.sum(ServiceRecord.hours), 0), func.count(func.distinct(Signup.volunteer_id)),
        func.count(func.distinct(Activity.id)))
    hours, people, activities = session.execute(stmt).one()
    return ServiceNote(year, Decimal(hours).quantize(ZERO), people, activities)


def issue_certificate(session: Session, volunteer: Volunteer, start: dt.date, end: dt.date, actor=None
                      ) -> Certificate:
    """A certificate of the volunteer's verified hours in the period, with a random code to check it by."""
    if end < start:
        raise ServiceError(_("The period ends before it starts."))
    stmt = _verified(*_bounds(start, end)).where(Signup.volunteer_id == volunteer.id).add_columns(
        func.coalesce(func.sum(ServiceRecord.hours), 0), func.count(func.distinct(Activity.id)))
    hours, activities = session.execute(stmt).one()
    if not hours:
        raise ServiceError(_("%(name)s has no verified hours in this period.", name=volunteer.name))
    certificate = Certificate(code=secrets.token_hex(8).upper(), volunteer_id=volunteer.id, period_start=start,
                              period_end=end, hours=Decimal(hours).quantize(ZERO), activities=activities,
                              issued_by_id=getattr(actor, "id", None))
    session.add(certificate)
    session.flush()
    record_event(session, AuditTag.volunteer_certificate_issued, actor, "volunteer_certificate", certificate.id,
                 after={"volunteer": volunteer.id, "hours": certificate.hours, "code": certificate.code})
    return certificate


def find_certificate(session: Session, code: str) -> Certificate | None:
    code = (code or "").strip().upper()
    if not code or len(code) > 32 or not code.isalnum():
        return None
    return session.scalar(select(Certificate).where(Certificate.code == code))
