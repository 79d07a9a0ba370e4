"""Sign in (password, then a TOTP code or enrolment for users who need a second step), sign out, change password,
and the account page (recovery codes, a new authenticator).

The second step has no GET page of its own: while a sign-in waits for it, the login page shows that step, so
nothing between the password and the code is reachable by URL. Its forms post to `login_code` and `login_enrol`.
"""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user

from fundapp.auth import sessions
from fundapp.auth.decorators import login_required_any, public
from fundapp.auth.forms import ChangePasswordForm, CodeForm, EnrolForm, LoginForm
from fundapp.auth.models import User
from fundapp.auth.services import AccountLocked, AuthError, authenticate, record_failure, record_sign_in, set_password
from fundapp.auth.two_factor import (
    TwoFactorError,
    confirm_enrolment,
    format_secret,
    is_enrolled,
    needs_two_factor,
    pending_secret,
    provisioning_uri,
    qr_svg,
    regenerate_recovery_codes,
    restart_enrolment,
    start_enrolment,
    unused_recovery_codes,
    verify_second_factor,
)
from fundapp.extensions import db, limiter
from fundapp.main.views import safe_next

bp = Blueprint("auth", __name__, url_prefix="/auth")
bp.before_app_request(sessions.guard_session)

REENROL = "auth_reenrol"  # the account page shows the new authenticator's QR code while this is set


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def _home() -> str:
    return url_for("main.index")


# --- the password step ------------------------------------------------------------------------------------------


def _after_password(user: User, form: LoginForm):
    """The password matched: finish, or keep the sign-in pending until the second step."""
    next_url = safe_next(request.args.get("next"), _home())
    if not needs_two_factor(user):
        record_sign_in(db.session, user, None)
        db.session.commit()
        sessions.finish_sign_in(user, remember=form.remember.data, second_factor=None)
        return redirect(next_url)
    if not is_enrolled(user):
        start_enrolment(db.session, user)
    db.session.commit()
    sessions.begin_pending(user, remember=form.remember.data, next_url=next_url)
    return redirect(url_for("auth.login"))


def _second_step_page(user: User, form=None):
    if is_enrolled(user):
        return render_template("auth/two_factor.html", form=form or CodeForm())
    secret = pending_secret(db.session, user) or start_enrolment(db.session, user).pending_secret
    db.session.commit()
    return render_template("auth/enrol.html", form=form or EnrolForm(), secret=format_secret(secret),
                           qr=qr_svg(provisioning_uri(user, secret)), action=url_for("auth.login_enrol"),
                           cancel=url_for("auth.login_cancel"))


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
@public
def login():
    if current_user.is_authenticated:
        return redirect(_home())
    waiting = sessions.pending_user()
    if waiting is not None and request.method == "GET":
        return _second_step_page(waiting)
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = authenticate(db.session, form.email.data, form.password.data)
        except AccountLocked as error:
            db.session.commit()  # the audit rows are kept
            form.password.errors.append(error.message)
            return render_template("auth/login.html", form=form)
        db.session.commit()  # the audit row of a failed attempt is kept too
        if user is not None:
            return _after_password(user, form)
        form.password.errors.append(_("Wrong email or password."))
    return render_template("auth/login.html", form=form)


# --- the second step --------------------------------------------------------------------------------------------


def _restart(message: str):
    sessions.cancel_pending()
    flash(message, "info")
    return redirect(url_for("auth.login"))


def _complete(user: User, second_factor: str):
    state = sessions.pending() or {}
    record_sign_in(db.session, user, second_factor)
    db.session.commit()
    sessions.finish_sign_in(user, remember=bool(state.get("remember")), second_factor=second_factor)
    return safe_next(state.get("next"), _home())


def _refuse_code(user: User, form, error: TwoFactorError):
    """Keep the audit row of the refused code and count it toward the lockout."""
    try:
        record_failure(db.session, user.email, user, step="two_factor")
    except AccountLocked as locked:
        db.session.commit()
        return _restart(locked.message)
    db.session.commit()
    form.code.errors.append(error.message)
    return _second_step_page(user, form)


@bp.post("/login/code")
@limiter.limit(_login_limit)
@public
def login_code():
    user = sessions.pending_user()
    if user is None or not is_enrolled(user):
        return _restart(_("Please sign in again."))
    form = CodeForm()
    if not form.validate_on_submit():
        return _second_step_page(user, form)
    try:
        method = verify_second_factor(db.session, user, form.code.data)
    except TwoFactorError as error:
        return _refuse_code(user, form, error)
    next_url = _complete(user, method)
    if method == "recovery":  # after _complete: signing in starts a new session, flashes included
        flash(_("You used a recovery code; %(n)d are left. Make new ones on your account page if few remain.",
                n=unused_recovery_codes(db.session, user)), "warning")
    return redirect(next_url)


@bp.post("/login/enrol")
@limiter.limit(_login_limit)
@public
def login_enrol():
    user = sessions.pending_user()
    if user is None or is_enrolled(user):
        return _restart(_("Please sign in again."))
    form = EnrolForm()
    if not form.validate_on_submit():
        return _second_step_page(user, form)
    try:
        codes = confirm_enrolment(db.session, user, form.code.data)
    except TwoFactorError as error:
        return _refuse_code(user, form, error)
    next_url = _complete(user, "totp")
    return render_template("auth/recovery_codes.html", codes=codes, next_url=next_url)


@bp.post("/login/cancel")
@public
def login_cancel():
    sessions.cancel_pending()
    return redirect(url_for("auth.login"))


@bp.post("/logout")
@login_required_any
def logout():
    sessions.end_session()
    flash(_("You are signed out."), "info")
    return redirect(url_for("auth.login"))


# --- password and the account page ------------------------------------------------------------------------------


@bp.route("/password", methods=["GET", "POST"])
@login_required_any
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            checked = authenticate(db.session, current_user.email, form.current.data)
        except AccountLocked as error:
            db.session.commit()
            sessions.end_session()
            flash(error.message, "error")
            return redirect(url_for("auth.login"))
        if checked is None:
            db.session.commit()
            form.current.errors.append(_("The current password is wrong."))
        else:
            try:
                set_password(db.session, current_user, form.password.data, current_user)
            except AuthError as error:
                db.session.rollback()
                form.password.errors.append(error.message)
            else:
                db.session.commit()
                sessions.keep_signed_in(current_user)
                flash(_("Your password was changed. Other browsers signed in as you were signed out."), "success")
                return redirect(url_for("main.index"))
    return render_template("auth/password.html", form=form)


def _account_page(code_form=None, enrol_form=None):
    user = current_user
    secret = pending_secret(db.session, user) if session.get(REENROL) else None
    enrol = None
    if secret:
        enrol = {"secret": format_secret(secret), "qr": qr_svg(provisioning_uri(user, secret)),
                 "form": enrol_form or EnrolForm()}
    return render_template("auth/account.html", enrolled=is_enrolled(user), required=needs_two_factor(user),
                           confirmed_at=user.two_factor.confirmed_at if is_enrolled(user) else None,
                           left=unused_recovery_codes(db.session, user), form=code_form or CodeForm(), enrol=enrol)


@bp.get("/account")
@login_required_any
def account():
    return _account_page()


@bp.post("/account/recovery-codes")
@limiter.limit(_login_limit)
@login_required_any
def account_recovery_codes():
    form = CodeForm()
    if form.validate_on_submit():
        try:
            codes = regenerate_recovery_codes(db.session, current_user, form.code.data)
        except TwoFactorError as error:
            db.session.commit()  # the refused code's audit row
            form.code.errors.append(error.message)
        else:
            db.session.commit()
            return render_template("auth/recovery_codes.html", codes=codes, next_url=url_for("auth.account"))
    return _account_page(code_form=form)


@bp.post("/account/two-factor")
@limiter.limit(_login_limit)
@login_required_any
def account_reenrol():
    """Start setting up an authenticator (again): the current code first, if one is set up."""
    form = CodeForm()
    if is_enrolled(current_user) and not form.validate_on_submit():
        return _account_page(code_form=form)
    try:
        restart_enrolment(db.session, current_user, form.code.data)
    except TwoFactorError as error:
        db.session.commit()
        form.code.errors.append(error.message)
        return _account_page(code_form=form)
    db.session.commit()
    session[REENROL] = True
    return redirect(url_for("auth.account"))


@bp.post("/account/two-factor/confirm")
@limiter.limit(_login_limit)
@login_required_any
def account_enrol_confirm():
    form = EnrolForm()
    if not session.get(REENROL) or not pending_secret(db.session, current_user):
        return redirect(url_for("auth.account"))
    if form.validate_on_submit():
        try:
            codes = confirm_enrolment(db.session, current_user, form.code.data)
        except TwoFactorError as error:
            db.session.commit()  # the refused code's audit row
            form.code.errors.append(error.message)
        else:
            db.session.commit()
            session.pop(REENROL, None)
            session[sessions.MFA] = True
            sessions.keep_signed_in(current_user)
            return render_template("auth/recovery_codes.html", codes=codes, next_url=url_for("auth.account"))
    return _account_page(enrol_form=form)
