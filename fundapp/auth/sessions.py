"""The signed-in session (ASVS 3.2, 3.3): a fresh session at each sign-in, the pending state between the password
and the second step, and the idle and absolute limits checked before every request.

Between the two steps the session holds only `PENDING` (who, since when, where to go next): nobody is signed
in, so every role page sends the visitor to the login page. A signed-in session carries `AUTH_AT` (sign-in
time), `SEEN_AT` (last request) and `MFA` (the second step was passed); one without them is ended.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from flask import current_app, flash, request, session
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from fundapp.auth import clock
from fundapp.auth.models import User
from fundapp.extensions import db

PENDING = "auth_pending"
AUTH_AT = "auth_at"
SEEN_AT = "auth_seen"
MFA = "auth_mfa"
STAMP = "auth_stamp"  # the credentials the session was signed in with (see credential_stamp)
KEPT = ("lang",)  # survives the session being renewed
SEEN_RESOLUTION = 60  # seconds: SEEN_AT is rewritten at most this often (one Set-Cookie a minute, not per page)


def _now() -> float:
    return clock.now().timestamp()


def renew_session() -> None:
    """Drop everything in the session but the language: a new session (and CSRF token) for the new state."""
    kept = {key: session[key] for key in KEPT if key in session}
    session.clear()
    session.update(kept)


def begin_pending(user: User, *, remember: bool, next_url: str) -> None:
    renew_session()
    session[PENDING] = {"user": user.id, "at": _now(), "remember": bool(remember), "next": next_url}


def pending() -> dict[str, Any] | None:
    """The state of a sign-in waiting for its second step, unless it is too old."""
    state = session.get(PENDING)
    if not isinstance(state, dict):
        return None
    if _now() - float(state.get("at", 0)) > int(current_app.config["TWO_FACTOR_PENDING_SECONDS"]):
        session.pop(PENDING, None)
        return None
    return state


def pending_user() -> User | None:
    state = pending()
    user = db.session.get(User, int(state["user"])) if state else None
    return user if user is not None and user.is_enabled else None


def cancel_pending() -> None:
    session.pop(PENDING, None)


def credential_stamp(user: User) -> str:
    """A keyed digest of what proves who the user is: the password hash and the two-factor secret. A session
    holding another stamp is ended, so a password change, an admin's password reset or a two-factor reset signs the
    user out of every other browser (ASVS 3.3.3). Keyed with SECRET_KEY: the session cookie is signed, not secret."""
    credential = user.two_factor
    secret = (credential.secret or "") if credential is not None else ""
    material = f"{user.password_hash}\x00{secret}".encode()
    return hmac.new(current_app.secret_key.encode(), material, hashlib.sha256).hexdigest()[:32]


def keep_signed_in(user: User) -> None:
    """The user changed their own credentials in this session: it stays signed in (the others end)."""
    session[STAMP] = credential_stamp(user)


def finish_sign_in(user: User, *, remember: bool, second_factor: str | None) -> None:
    """Sign the user in on a new session. "Keep me signed in" keeps the cookie across browser restarts (until
    PERMANENT_SESSION_LIFETIME); it never outlives the idle and absolute limits. No remember-me token is used."""
    renew_session()
    login_user(user, remember=False)
    now = _now()
    session[AUTH_AT], session[SEEN_AT], session[MFA] = now, now, second_factor is not None
    session[STAMP] = credential_stamp(user)
    session.permanent = bool(remember)


def end_session() -> None:
    logout_user()
    remember = session.get("_remember")  # Flask-Login's order to delete an old remember-me cookie
    renew_session()
    if remember:
        session["_remember"] = remember


def _expiry_reason(user: User) -> str | None:
    from fundapp.auth.two_factor import required_by_role

    now, auth_at, seen_at = _now(), session.get(AUTH_AT), session.get(SEEN_AT)
    if auth_at is None or seen_at is None:
        return "unknown"  # signed in some other way (an old session or a remember-me cookie)
    if not hmac.compare_digest(str(session.get(STAMP, "")), credential_stamp(user)):
        return "credentials"  # the password or the second factor changed since this session signed in
    if now - float(seen_at) > int(current_app.config["SESSION_IDLE_SECONDS"]):
        return "idle"
    if now - float(auth_at) > int(current_app.config["SESSION_MAX_SECONDS"]):
        return "lifetime"
    if required_by_role(user) and not session.get(MFA):
        return "two_factor"  # given a role that needs a second step since signing in
    return None


def guard_session() -> None:
    """Before every request: end a signed-in session that is too old, idle too long or lacks its second step."""
    if request.endpoint == "static" or not current_user.is_authenticated:
        return
    reason = _expiry_reason(current_user)
    if reason is None:
        if _now() - float(session[SEEN_AT]) > SEEN_RESOLUTION:
            session[SEEN_AT] = _now()
        return
    end_session()
    messages = {
        "idle": _("You were signed out after a while without activity. Please sign in again."),
        "lifetime": _("Your session reached its time limit. Please sign in again."),
        "credentials": _("Your password or two-factor sign-in was changed. Please sign in again."),
    }
    flash(messages.get(reason, _("Please sign in again.")), "info")
