"""Two-factor sign-in: TOTP (RFC 6238: 30-second steps, 6 digits, one step of clock drift either way) and
single-use recovery codes hashed with argon2. A code is accepted only for a step later than the last one
accepted, so an intercepted code cannot be replayed within its window."""

from __future__ import annotations

import hmac
import io
import re
import secrets
from typing import Any

import pyotp
import segno
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from fundapp.audit.services import record_event
from fundapp.auth import clock
from fundapp.auth.events import AuthEvent
from fundapp.auth.models import RecoveryCode, TwoFactor, User
from fundapp.auth.services import AuthError, check_hash, hash_password

STEP_SECONDS = 30
DIGITS = 6
DRIFT_STEPS = 1
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i
RECOVERY_LENGTH = 10
TOTP_PATTERN = re.compile(r"\d{6}")


class TwoFactorError(AuthError):
    pass


def two_factor_roles() -> set[str]:
    return set(current_app.config["TWO_FACTOR_ROLES"])


def required_by_role(user: User) -> bool:
    """Holding any of TWO_FACTOR_ROLES makes the second step compulsory."""
    return bool(user.roles & two_factor_roles())


def is_enrolled(user: User) -> bool:
    return user.two_factor is not None and user.two_factor.enrolled


def needs_two_factor(user: User) -> bool:
    """A user whose role requires it, or who set it up anyway, passes a second step at sign-in."""
    return required_by_role(user) or is_enrolled(user)


def _credential(session: Session, user: User, *, lock: bool = False) -> TwoFactor | None:
    stmt = select(TwoFactor).where(TwoFactor.user_id == user.id)
    return session.scalar(stmt.with_for_update() if lock else stmt)


def provisioning_uri(user: User, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=current_app.config["TWO_FACTOR_ISSUER"])


def qr_svg(uri: str) -> str:
    """The otpauth URI as an inline SVG (no style attributes, so the CSP allows it)."""
    out = io.BytesIO()
    segno.make(uri, error="m").save(out, kind="svg", xmldecl=False, svgclass="qr", lineclass=None, scale=4,
                                    border=4, dark="#000", light="#fff", title=_("QR code for your authenticator"))
    return out.getvalue().decode()


def format_secret(secret: str) -> str:
    """The secret in groups of four, easier to type into an authenticator by hand."""
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))


def matching_step(secret: str, code: str | None) -> int | None:
    """The time step (within the allowed drift) whose code equals `code`, or None."""
    code = (code or "").replace(" ", "")
    if not secret or not TOTP_PATTERN.fullmatch(code):
        return None
    totp = pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS)
    step = int(clock.now().timestamp()) // STEP_SECONDS
    found = None
    for candidate in range(step - DRIFT_STEPS, step + DRIFT_STEPS + 1):  # no early exit: same work every time
        if hmac.compare_digest(totp.generate_otp(candidate), code):
            found = candidate
    return found


def start_enrolment(session: Session, user: User) -> TwoFactor:
    """Give the user a new secret to confirm (keeping any confirmed one until the new one is confirmed)."""
    credential = _credential(session, user, lock=True)
    if credential is None:
        credential = TwoFactor(user_id=user.id)
        session.add(credential)
    if credential.pending_secret is None:
        credential.pending_secret = pyotp.random_base32(length=32)
    session.flush()
    return credential


def pending_secret(session: Session, user: User) -> str | None:
    credential = _credential(session, user)
    return credential.pending_secret if credential else None


def _new_recovery_codes(session: Session, credential: TwoFactor) -> list[str]:
    count = int(current_app.config["RECOVERY_CODE_COUNT"])
    codes = ["".join(secrets.choice(RECOVERY_ALPHABET) for _i in range(RECOVERY_LENGTH)) for _n in range(count)]
    credential.recovery_codes = [RecoveryCode(code_hash=hash_password(code)) for code in codes]
    session.flush()
    return [f"{code[:5]}-{code[5:]}" for code in codes]


def confirm_enrolment(session: Session, user: User, code: str | None) -> list[str]:
    """Make the pending secret the user's secret if `code` matches it; returns new recovery codes (shown once)."""
    credential = _credential(session, user, lock=True)
    step = matching_step(credential.pending_secret, code) if credential and credential.pending_secret else None
    if step is None:
        record_event(session, AuthEvent.two_factor_failed, user, "user", user.id, after={"enrolment": True})
        raise TwoFactorError(_("That code is not right. Check the time on your phone and enter the newest code."))
    replaced = credential.enrolled
    credential.secret, credential.pending_secret = credential.pending_secret, None
    credential.confirmed_at, credential.last_step = clock.now(), step
    codes = _new_recovery_codes(session, credential)
    record_event(session, AuthEvent.two_factor_enrolled, user, "user", user.id, after={"replaced": replaced})
    return codes


def _normalise_recovery(code: str) -> str:
    return re.sub(r"[\s-]", "", code or "").lower()


def _use_recovery_code(session: Session, user: User, credential: TwoFactor, code: str) -> bool:
    code = _normalise_recovery(code)
    if len(code) != RECOVERY_LENGTH:
        return False
    unused = [row for row in credential.recovery_codes if row.used_at is None]
    match = next((row for row in unused if check_hash(row.code_hash, code)), None)
    if match is None:
        return False
    match.used_at = clock.now()
    record_event(session, AuthEvent.recovery_code_used, user, "user", user.id,
                 after={"left": len(unused) - 1})
    return True


def verify_second_factor(session: Session, user: User, code: str | None, *, recovery: bool = True) -> str:
    """"totp" or "recovery" when `code` is a fresh TOTP code or an unused recovery code; else TwoFactorError."""
    credential = _credential(session, user, lock=True)
    if credential is not None and credential.enrolled:
        step = matching_step(credential.secret, code)
        if step is not None and step > (credential.last_step or -1):
            credential.last_step = step
            session.flush()
            return "totp"
        if recovery and step is None and _use_recovery_code(session, user, credential, code or ""):
            session.flush()
            return "recovery"
    record_event(session, AuthEvent.two_factor_failed, user, "user", user.id)
    raise TwoFactorError(_("That code is not right, or it was already used. Wait for the next code."))


def regenerate_recovery_codes(session: Session, user: User, code: str | None) -> list[str]:
    """New recovery codes (the old ones stop working) once the user proved the second factor."""
    verify_second_factor(session, user, code)
    codes = _new_recovery_codes(session, _credential(session, user))
    record_event(session, AuthEvent.recovery_codes_regenerated, user, "user", user.id)
    return codes


def restart_enrolment(session: Session, user: User, code: str | None) -> TwoFactor:
    """A new secret to set up (another phone); an enrolled user first proves the current second factor."""
    if is_enrolled(user):
        verify_second_factor(session, user, code)
    credential = start_enrolment(session, user)
    credential.pending_secret = pyotp.random_base32(length=32)
    session.flush()
    return credential


def unused_recovery_codes(session: Session, user: User) -> int:
    credential = _credential(session, user)
    return sum(1 for row in credential.recovery_codes if row.used_at is None) if credential else 0


def reset_two_factor(session: Session, user: User, actor: Any) -> None:
    """Admin: forget the user's secret and recovery codes; they enrol again at their next sign-in."""
    credential = _credential(session, user, lock=True)
    had = bool(credential and credential.enrolled)
    if credential is not None:
        session.delete(credential)
        session.flush()
    session.expire(user, ["two_factor"])
    record_event(session, AuthEvent.two_factor_reset, actor, "user", user.id, before={"enrolled": had})
