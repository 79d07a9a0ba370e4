"""Compliance pages: the statutory ratios dashboard, the disclosure duties, marking a duty done, the iCalendar feed.

Finance, admin and board read; finance and admin mark duties done. The feed is `public` (a calendar app cannot sign
in) but answers 404 unless its token is a valid HMAC for a user holding one of the reader roles.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlsplit

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from fundapp.auth.decorators import public, roles_required
from fundapp.auth.models import User
from fundapp.compliance import ratios
from fundapp.compliance.calendar import (
    DONE,
    DUE_SOON,
    OVERDUE,
    compute_duties,
    feed_token,
    find_duty,
    mark_done,
    to_ics,
    user_id_from_token,
)
from fundapp.compliance.forms import MarkDoneForm
from fundapp.dates import local_today
from fundapp.extensions import db
from fundapp.web import form_service

bp = Blueprint("compliance", __name__, url_prefix="/compliance")

READERS = ("finance", "admin", "board")
MARKERS = ("finance", "admin")


def _today() -> dt.date:
    return local_today()


@bp.route("/")
@roles_required(*READERS)
def index():
    choice = request.args.get("average")
    three_year = choice == "1" if choice in ("0", "1") else bool(current_app.config.get("RATIO_THREE_YEAR_AVERAGE"))
    th = ratios.thresholds_from_config(current_app.config)
    today = _today()
    years = ratios.dashboard_years(db.session, th, today, three_year=three_year)
    duties = compute_duties(db.session, today)
    counts = {status: sum(1 for d in duties if d.status == status) for status in (OVERDUE, DUE_SOON, DONE)}
    feed_url = url_for("compliance.feed", token=feed_token(current_user.id, current_app.config["SECRET_KEY"]),
                       _external=True)
    return render_template("compliance/index.html", th=th, years=years, today=today, duties=duties,
                           counts=counts, feed_url=feed_url, three_year=three_year,
                           can_mark=current_user.has_role(*MARKERS), R=ratios)


@bp.route("/duties/<string:key>/done", methods=["GET", "POST"])
@roles_required(*MARKERS)
def duty_done(key: str):
    today = _today()
    duty = find_duty(db.session, key, today)
    if duty is None:
        abort(404)
    form = MarkDoneForm()
    if not form.is_submitted():
        form.done_on.data = today
    elif form.validate():
        with form_service(form) as done:
            mark_done(db.session, key, form.done_on.data, form.note.data, current_user, today)
        if done.ok:
            flash(_("The duty was marked done."), "success")
            return redirect(url_for("compliance.index") + "#duties")
    return render_template("compliance/duty_done.html", duty=duty, form=form)


@bp.route("/feed/<string:token>/calendar.ics")
@public
def feed(token: str):
    secret = current_app.config["SECRET_KEY"]
    user_id = user_id_from_token(token, secret)
    user = db.session.get(User, user_id) if user_id is not None else None
    if user is None or not user.is_active or not user.has_role(*READERS):
        abort(404)
    duties = compute_duties(db.session, _today())
    host = urlsplit(current_app.config.get("SITE_URL", "")).hostname or "fundapp"
    body = to_ics(duties, host=host, stamp=dt.datetime.now(dt.UTC), name=_("Disclosure duties"))
    response = Response(body, mimetype="text/calendar")
    response.headers["Content-Type"] = "text/calendar; charset=utf-8"
    response.headers["Cache-Control"] = "private, max-age=900"
    return response
