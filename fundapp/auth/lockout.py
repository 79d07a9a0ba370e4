"""Account lockout (ASVS 2.2.1): after LOCKOUT_THRESHOLD failed sign-ins within LOCKOUT_WINDOW_SECONDS an email
address is locked for LOCKOUT_SECONDS. Counted per address whether or not a user has it, so a locked unknown
address looks exactly like a locked account. Wrong passwords and wrong second-factor codes both count."""

from __future__ import annotations

import datetime as dt
import hashlib

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from fundapp.auth import clock
from fundapp.auth.models import SignInThrottle


def throttle_key(email: str | None) -> str:
    return hashlib.sha256((email or "").strip().lower().encode()).hexdigest()


def _seconds(name: str) -> dt.timedelta:
    return dt.timedelta(seconds=int(current_app.config[name]))


def _row(session: Session, email: str | None) -> SignInThrottle | None:
    stmt = select(SignInThrottle).where(SignInThrottle.key == throttle_key(email)).with_for_update()
    return session.scalar(stmt)


def locked_until(session: Session, email: str | None) -> dt.datetime | None:
    """When the lock on `email` ends, or None if it is not locked now."""
    row = session.scalar(select(SignInThrottle).where(SignInThrottle.key == throttle_key(email)))
    until = clock.aware(row.locked_until) if row else None
    return until if until is not None and until > clock.now() else None


def _new_row(session: Session, email: str | None, now: dt.datetime) -> SignInThrottle:
    """Insert the counter; if a concurrent request inserted it first, use theirs."""
    try:
        with session.begin_nested():
            row = SignInThrottle(key=throttle_key(email), failures=0, window_started_at=now)
            session.add(row)
        return row
    except IntegrityError:
        return _row(session, email)


def register_failure(session: Session, email: str | None) -> bool:
    """Count one failed attempt; True when this one locks the address."""
    now = clock.now()
    row = _row(session, email) or _new_row(session, email, now)
    if clock.aware(row.window_started_at) + _seconds("LOCKOUT_WINDOW_SECONDS") < now:
        row.failures, row.window_started_at = 0, now
    row.failures += 1
    locks = row.failures >= int(current_app.config["LOCKOUT_THRESHOLD"])
    if locks:
        row.locked_until = now + _seconds("LOCKOUT_SECONDS")
        row.failures, row.window_started_at = 0, now
    session.flush()
    return locks


def clear_failures(session: Session, email: str | None) -> None:
    row = _row(session, email)
    if row is not None:
        session.delete(row)
        session.flush()
