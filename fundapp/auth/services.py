"""Users: create, update, passwords (argon2id via argon2-cffi, checked against the password policy),
authentication with account lockout. The second factor lives in fundapp.auth.two_factor."""

from __future__ import annotations

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
from fundapp.auth import clock, lockout
from fundapp.auth.events import AuthEvent
from fundapp.auth.models import ROLE_VALUES, User, UserRole
from fundapp.auth.password_policy import password_problems
from fundapp.errors import DomainError

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


class AccountLocked(AuthError):
    """Too many failed sign-ins for this email address (known or not)."""

    def __init__(self) -> None:
        minutes = max(1, int(current_app.config["LOCKOUT_SECONDS"]) // 60)
        super().__init__(_("Too many failed sign-ins for this email address. Try again in %(minutes)d minutes.",
                           minutes=minutes))


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def check_hash(stored: str, secret: str) -> bool:
    try:
        return _hasher().verify(stored, secret)
    except (VerificationError, InvalidHashError):
        return False


def check_password_strength(password: str, email: str | None = None) -> None:
    """AuthError listing every rule of the password policy that `password` breaks."""
    problems = password_problems(password, email)
    if problems:
        raise AuthError(" ".join(problems))


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
    check_password_strength(password, email)
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
    check_password_strength(password, user.email)
    user.password_hash = hash_password(password)
    session.flush()
    record_event(session, AuditTag.user_password_changed, actor, "user", user.id)


def _password_matches(user: User | None, password: str, locked: bool) -> bool:
    """Verify against the user's hash, or a dummy one when the email is unknown or locked: the same work always."""
    real = user is not None and not locked
    try:
        _hasher().verify(user.password_hash if real else _dummy_hash(), password or "")
    except (VerificationError, InvalidHashError):
        return False
    return real and user.is_enabled


def record_failure(session: Session, email: str, user: User | None, step: str = "password") -> None:
    """Audit a failed attempt and count it; raises AccountLocked when it locks the address."""
    after = {"email": (email or "")[:254]} | ({} if step == "password" else {"step": step})
    record_event(session, AuditTag.login_failed, None, "user", user.id if user else None, after=after)
    if lockout.register_failure(session, email):
        record_event(session, AuthEvent.login_locked, None, "user", user.id if user else None,
                     after={"email": (email or "")[:254]})
        raise AccountLocked()


def authenticate(session: Session, email: str, password: str) -> User | None:
    """The user if the email and password match an enabled account, else None (audited and counted either way).
    Raises AccountLocked while the address is locked, whatever the password, and for the failure that locks it.
    A matching password is only the first step: `record_sign_in` marks the sign-in complete."""
    user = find_user_by_email(session, email)
    locked = lockout.locked_until(session, email) is not None
    if not _password_matches(user, password, locked):
        if locked:
            record_event(session, AuditTag.login_failed, None, "user", user.id if user else None,
                         after={"email": (email or "")[:254], "step": "locked"})
            raise AccountLocked()
        record_failure(session, email, user)
        return None
    lockout.clear_failures(session, email)
    if _hasher().check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def record_sign_in(session: Session, user: User, second_factor: str | None) -> None:
    """Both steps passed: audit the sign-in and note its time."""
    user.last_login_at = clock.now()
    record_event(session, AuditTag.login_succeeded, user, "user", user.id, after={"second_factor": second_factor})
