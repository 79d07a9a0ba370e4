"""Users: create, update, passwords (argon2id via argon2-cffi), authentication."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from email_validator import EmailNotValidError, validate_email
from flask import current_app, has_app_context
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fundapp.audit.services import AuditTag, record_event
from fundapp.auth.models import ROLE_VALUES, User, UserRole
from fundapp.errors import DomainError

MIN_PASSWORD_LENGTH = 10
_strong = PasswordHasher()  # argon2id, library defaults (RFC 9106 low-memory profile)
_fast = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)  # tests only: PASSWORD_HASH_FAST
_dummy_hashes: dict[int, str] = {}


def _hasher() -> PasswordHasher:
    return _fast if has_app_context() and current_app.config.get("PASSWORD_HASH_FAST") else _strong


def _dummy_hash() -> str:
    """Verified against when the email is unknown, so a wrong email costs as long as a wrong password."""
    hasher = _hasher()
    return _dummy_hashes.setdefault(id(hasher), hasher.hash("not-a-real-password"))


class AuthError(DomainError):
    pass


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def check_password_strength(password: str) -> None:
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise AuthError(_("A password needs at least %(n)d characters.", n=MIN_PASSWORD_LENGTH))


def normalise_email(email: str) -> str:
    try:
        return validate_email((email or "").strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        raise AuthError(_("%(email)s is not a valid email address.", email=email)) from None


def _check_roles(roles: Iterable[str]) -> list[str]:
    roles = sorted(set(roles))
    unknown = [r for r in roles if r not in ROLE_VALUES]
    if unknown:
        raise AuthError(_("Unknown role: %(roles)s.", roles=", ".join(unknown)))
    return roles


def find_user_by_email(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(func.lower(User.email) == (email or "").strip().lower()))


def _user_state(user: User) -> dict[str, Any]:
    return {"email": user.email, "name": user.name, "enabled": user.is_enabled, "roles": sorted(user.roles)}


def create_user(session: Session, email: str, password: str, roles: Iterable[str], name: str = "",
                actor: Any | None = None) -> User:
    email = normalise_email(email)
    roles = _check_roles(roles)
    check_password_strength(password)
    if find_user_by_email(session, email) is not None:
        raise AuthError(_("A user with the email %(email)s already exists.", email=email))
    user = User(email=email, name=(name or "").strip(), password_hash=hash_password(password))
    user.role_rows = [UserRole(role=r) for r in roles]
    session.add(user)
    session.flush()
    record_event(session, AuditTag.user_created, actor, "user", user.id, after=_user_state(user))
    return user


def update_user(session: Session, user: User, *, name: str, roles: Iterable[str], enabled: bool,
                actor: Any | None) -> User:
    roles = _check_roles(roles)
    if actor is not None and actor.id == user.id and ("admin" not in roles or not enabled):
        raise AuthError(_("You cannot remove your own admin role or disable yourself."))
    before = _user_state(user)
    user.name = (name or "").strip()
    user.is_enabled = enabled
    keep = [row for row in user.role_rows if row.role in roles]
    user.role_rows = keep + [UserRole(role=r) for r in roles if r not in {row.role for row in keep}]
    session.flush()
    record_event(session, AuditTag.user_updated, actor, "user", user.id, before=before, after=_user_state(user))
    return user


def set_password(session: Session, user: User, password: str, actor: Any | None) -> None:
    check_password_strength(password)
    user.password_hash = hash_password(password)
    session.flush()
    record_event(session, AuditTag.user_password_changed, actor, "user", user.id)


def authenticate(session: Session, email: str, password: str) -> User | None:
    """The user if the email and password match an enabled account, else None (audited either way)."""
    user = find_user_by_email(session, email)
    try:
        _hasher().verify(user.password_hash if user else _dummy_hash(), password or "")
        ok = user is not None and user.is_enabled
    except (VerificationError, InvalidHashError):
        ok = False
    if not ok:
        record_event(session, AuditTag.login_failed, None, "user", user.id if user else None,
                     after={"email": (email or "")[:254]})
        return None
    if _hasher().check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = dt.datetime.now(dt.UTC)
    record_event(session, AuditTag.login_succeeded, user, "user", user.id)
    return user
