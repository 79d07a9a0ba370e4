"""Sign in, sign out, change password."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from fundapp.auth.decorators import login_required_any, public
from fundapp.auth.forms import ChangePasswordForm, LoginForm
from fundapp.auth.services import AuthError, authenticate, set_password
from fundapp.extensions import db, limiter
from fundapp.main.views import safe_next

bp = Blueprint("auth", __name__, url_prefix="/auth")


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
@public
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = LoginForm()
    if form.validate_on_submit():
        user = authenticate(db.session, form.email.data, form.password.data)
        db.session.commit()  # the audit row of a failed attempt is kept too
        if user is None:
            form.password.errors.append(_("Wrong email or password."))
        else:
            login_user(user, remember=form.remember.data)
            return redirect(safe_next(request.args.get("next"), url_for("main.index")))
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
@login_required_any
def logout():
    logout_user()
    flash(_("You are signed out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/password", methods=["GET", "POST"])
@login_required_any
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        if authenticate(db.session, current_user.email, form.current.data) is None:
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
                flash(_("Your password was changed."), "success")
                return redirect(url_for("main.index"))
    return render_template("auth/password.html", form=form)
