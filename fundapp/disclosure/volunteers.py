"""Volunteer service as the public sees it: verified hours only, by project, community and activity, what points
were exchanged for, the honour roll and the certificate check. The public page, its CSV and any API read here.

- Hours count only verified service records (pending, rejected and reversed records count for nothing).
- A volunteer appears by name only with `consent_public`; everyone else is counted, never named. No phone, email,
  community of residence, skills or account of a volunteer is ever selected.
- Every award is a public grant (fundapp.disclosure.grants: an award exists only for an approved decision), so an
  activity's project is shown by the award's number and title.
- People served is what organisers reported per activity, summed over the activities that had verified service.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, aliased

from fundapp.grants.models import Award
from fundapp.volunteers.models import (
    Activity,
    Certificate,
    PointEntry,
    RecordStatus,
    Redemption,
    Reward,
    ServiceRecord,
    Shift,
    Signup,
    Volunteer,
)
from fundapp.volunteers.reports import find_certificate

ZERO = Decimal("0.00")
TOP_ACTIVITIES = 10


@dataclass(frozen=True)
class Period:
    """Shifts starting in [start, end) (UTC); None on both sides: all time."""

    start: dt.datetime | None = None
    end: dt.datetime | None = None

    @classmethod
    def year(cls, year: int) -> Period:
        return cls(dt.datetime(year, 1, 1, tzinfo=dt.UTC), dt.datetime(year + 1, 1, 1, tzinfo=dt.UTC))


ALL_TIME = Period()


@dataclass(frozen=True)
class Totals:
    hours: Decimal
    volunteers: int
    people_served: int
    activities: int


@dataclass(frozen=True)
class GroupRow:
    label: str
    hours: Decimal
    volunteers: int
    people_served: int
    award_id: int | None = None  # the project's award (a link to the public grant page)


@dataclass(frozen=True)
class RewardRow:
    name: str
    given_by: str
    quantity: int
    points: Decimal


@dataclass(frozen=True)
class HonourRow:
    name: str
    hours: Decimal


@dataclass(frozen=True)
class HonourRoll:
    rows: list[HonourRow]
    others: int  # volunteers with verified hours who did not consent to be named
    others_hours: Decimal


@dataclass(frozen=True)
class CertificateCheck:
    code: str
    volunteer: str  # the name if the volunteer consented, else a neutral label
    period_start: dt.date
    period_end: dt.date
    hours: Decimal
    activities: int
    issued_on: dt.date


def _hours(value) -> Decimal:
    return Decimal(value or 0).quantize(ZERO)


def verified_service(period: Period) -> Select:
    """Verified records joined to their signup, shift and activity, shifts in the period."""
    stmt = (select().select_from(ServiceRecord)
            .join(Signup, Signup.id == ServiceRecord.signup_id)
            .join(Shift, Shift.id == Signup.shift_id)
            .join(Activity, Activity.id == Shift.activity_id)
            .where(ServiceRecord.status == RecordStatus.verified.value))
    if period.start is not None:
        stmt = stmt.where(Shift.starts_at >= period.start)
    if period.end is not None:
        stmt = stmt.where(Shift.starts_at < period.end)
    return stmt


def _served_activities(period: Period):
    return verified_service(period).add_columns(Activity.id).distinct()


def totals(session: Session, period: Period = ALL_TIME) -> Totals:
    hours, volunteers, activities = session.execute(verified_service(period).add_columns(
        func.sum(ServiceRecord.hours), func.count(func.distinct(Signup.volunteer_id)),
        func.count(func.distinct(Activity.id)))).one()
    served = session.scalar(select(func.coalesce(func.sum(Activity.people_served), 0))
                            .where(Activity.id.in_(_served_activities(period))))
    return Totals(_hours(hours), volunteers or 0, int(served or 0), activities or 0)


def _people_served(session: Session, period: Period, column) -> dict:
    """People served per group: each activity with verified service in the period counted once."""
    served = _served_activities(period).subquery()
    stmt = (select(column, func.sum(Activity.people_served)).join(served, served.c.id == Activity.id)
            .group_by(column))
    return {key: int(n or 0) for key, n in session.execute(stmt)}


def _grouped(session: Session, period: Period, column, limit: int | None = None) -> list[tuple]:
    stmt = (verified_service(period)
            .add_columns(column, func.sum(ServiceRecord.hours), func.count(func.distinct(Signup.volunteer_id)))
            .group_by(column).order_by(func.sum(ServiceRecord.hours).desc(), column))
    if limit is not None:
        stmt = stmt.limit(limit)
    return list(session.execute(stmt))


def by_project(session: Session, period: Period = ALL_TIME) -> list[GroupRow]:
    """Hours and volunteers per grant-funded project (award); activities outside a grant are one line."""
    served = _people_served(session, period, Activity.award_id)
    awards = {a.id: f"{a.number} {a.title}" for a in session.execute(
        select(Award.id, Award.number, Award.title).where(Award.id.in_(
            verified_service(period).add_columns(Activity.award_id).where(Activity.award_id.is_not(None)))))}
    return [GroupRow(awards.get(award_id, "") if award_id is not None else _("Not part of a funded project"),
                     _hours(hours), people, served.get(award_id, 0), award_id)
            for award_id, hours, people in _grouped(session, period, Activity.award_id)]


def by_community(session: Session, period: Period = ALL_TIME) -> list[GroupRow]:
    served = _people_served(session, period, Activity.community)
    return [GroupRow(community or _("Unspecified"), _hours(hours), people, served.get(community, 0))
            for community, hours, people in _grouped(session, period, Activity.community)]


def top_activities(session: Session, period: Period = ALL_TIME, limit: int = TOP_ACTIVITIES) -> list[GroupRow]:
    served = _people_served(session, period, Activity.id)
    rows = _grouped(session, period, Activity.id, limit)
    titles = dict(session.execute(select(Activity.id, Activity.title)
                               .where(Activity.id.in_([r[0] for r in rows]))).all())
    return [GroupRow(titles.get(activity_id, ""), _hours(hours), people, served.get(activity_id, 0))
            for activity_id, hours, people in rows]


def rewards_redeemed(session: Session, period: Period = ALL_TIME) -> list[RewardRow]:
    """Rewards exchanged for points (redemptions whose points were not reversed): by reward."""
    reversal = aliased(PointEntry)
    stmt = (select(Reward.name, Reward.donor_label, func.sum(Redemption.quantity), func.sum(Redemption.points))
            .join(Reward, Reward.id == Redemption.reward_id)
            .outerjoin(reversal, reversal.reverses_id == Redemption.point_entry_id)
            .where(reversal.id.is_(None)))
    if period.start is not None:
        stmt = stmt.where(Redemption.created_at >= period.start)
    if period.end is not None:
        stmt = stmt.where(Redemption.created_at < period.end)
    stmt = stmt.group_by(Reward.id, Reward.name, Reward.donor_label).order_by(func.sum(Redemption.points).desc(),
                                                                             Reward.name)
    return [RewardRow(name, given_by or "", int(quantity or 0), _hours(points))
            for name, given_by, quantity, points in session.execute(stmt)]


def honour_roll(session: Session, period: Period = ALL_TIME) -> HonourRoll:
    """Consenting volunteers by name with their hours; the others only counted (and their hours summed)."""
    stmt = (verified_service(period).join(Volunteer, Volunteer.id == Signup.volunteer_id)
            .add_columns(Volunteer.id, Volunteer.consent_public, func.sum(ServiceRecord.hours))
            .group_by(Volunteer.id, Volunteer.consent_public))
    named, others, others_hours = [], 0, ZERO
    rows = list(session.execute(stmt))
    names = dict(session.execute(select(Volunteer.id, Volunteer.name).where(
        Volunteer.consent_public.is_(True), Volunteer.id.in_([r[0] for r in rows if r[1]]))).all())
    for volunteer_id, consent, hours in rows:
        if consent and volunteer_id in names:
            named.append(HonourRow(names[volunteer_id], _hours(hours)))
        else:
            others += 1
            others_hours += _hours(hours)
    named.sort(key=lambda row: (-row.hours, row.name))
    return HonourRoll(named, others, others_hours)


def withheld_label() -> str:
    return _("A volunteer (name withheld)")


def check_certificate(session: Session, code: str) -> CertificateCheck | None:
    certificate: Certificate | None = find_certificate(session, code)
    if certificate is None:
        return None
    volunteer = certificate.volunteer
    name = volunteer.name if volunteer.consent_public else withheld_label()
    return CertificateCheck(certificate.code, name, certificate.period_start, certificate.period_end,
                            _hours(certificate.hours), certificate.activities, certificate.issued_at.date())


def first_year(session: Session) -> int | None:
    first = session.scalar(verified_service(ALL_TIME).add_columns(func.min(Shift.starts_at)))
    return first.year if first else None
