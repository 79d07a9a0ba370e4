"""Reads of the audit trail for the admin pages."""

from __future__ import annotations

import datetime as dt

from flask_babel import to_utc
from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session, joinedload, lazyload

from fundapp.audit.models import AuditEvent
from fundapp.auth.models import User


def local_day_start(day: dt.date) -> dt.datetime:
    """The UTC instant at which `day` begins in the user's time zone."""
    return to_utc(dt.datetime.combine(day, dt.time.min)).replace(tzinfo=dt.UTC)


def audit_query(
    *,
    tag: str | None = None,
    subject_type: str | None = None,
    subject_id: str | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
) -> Select:
    """Audit events, newest first, each with its actor loaded in the same query. Dates are local and inclusive."""
    stmt = select(AuditEvent).options(
        joinedload(AuditEvent.actor).load_only(User.email, User.name).options(lazyload(User.role_rows))
    )
    if tag:
        stmt = stmt.where(or_(AuditEvent.tag == tag, AuditEvent.tag.startswith(tag.rstrip(":") + ":", autoescape=True)))
    if subject_type:
        stmt = stmt.where(AuditEvent.subject_type == subject_type)
    if subject_id:
        stmt = stmt.where(AuditEvent.subject_id == subject_id)
    if date_from:
        stmt = stmt.where(AuditEvent.created_at >= local_day_start(date_from))
    if date_to:
        stmt = stmt.where(AuditEvent.created_at < local_day_start(date_to + dt.timedelta(days=1)))
    return stmt.order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())


def subject_types(session: Session) -> list[str]:
    return list(session.scalars(select(AuditEvent.subject_type).distinct().order_by(AuditEvent.subject_type)))
