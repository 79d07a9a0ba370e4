"""The in-app inbox: one's own messages, newest first; opening one marks it read and follows its link.

Also the template helpers every page uses: the unread count in the navigation (one COUNT per request) and
`has_endpoint(name)`, so base.html links only to pages that exist.
"""

from __future__ import annotations

import logging

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import ngettext
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy.exc import SQLAlchemyError

from fundapp.auth.decorators import login_required_any
from fundapp.extensions import db
from fundapp.notify import tasks as _tasks  # noqa: F401  (registers the after-commit delivery hook)
from fundapp.notify.links import is_app_path
from fundapp.notify.queries import find_own, inbox_query, unread_count
from fundapp.notify.services import mark_all_read, mark_read

log = logging.getLogger(__name__)

bp = Blueprint("inbox", __name__, url_prefix="/inbox")
from fundapp.notify import models as _models  # noqa: F401,E402  (registers the table)


class MarkAllReadForm(FlaskForm):
    """Only the CSRF token."""


@bp.app_template_global()
def has_endpoint(name: str) -> bool:
    """True if the app has a view called `name` (links to pages still being built are left out)."""
    return name in current_app.view_functions


def nav_unread_count() -> int | None:
    """The signed-in user's unread messages, counted once per request; None for visitors or on a database error."""
    if "nav_unread" not in g:
        g.nav_unread = None
        if current_user and current_user.is_authenticated:
            try:
                g.nav_unread = unread_count(db.session, current_user.id)
            except SQLAlchemyError:
                log.exception("counting unread notifications failed")
    return g.nav_unread


@bp.app_context_processor
def inject_unread() -> dict:
    return {"nav_unread": nav_unread_count}


@bp.get("/")
@login_required_any
def index():
    unread_only = request.args.get("show") == "unread"
    size = current_app.config["PAGE_SIZE"]
    page = db.paginate(inbox_query(current_user.id, unread_only), per_page=size, max_per_page=size, error_out=False)
    return render_template("notify/index.html", page=page, unread_only=unread_only,
                           unread=nav_unread_count() or 0, form=MarkAllReadForm())


@bp.get("/<int:notification_id>")
@login_required_any
def open_message(notification_id: int):
    note = find_own(db.session, notification_id, current_user.id)
    if note is None:
        abort(404)
    if mark_read(db.session, note):
        db.session.commit()
    return redirect(note.link if is_app_path(note.link) else url_for("inbox.index"))


@bp.post("/read-all")
@login_required_any
def read_all():
    form = MarkAllReadForm()
    if not form.validate_on_submit():
        abort(400)
    count = mark_all_read(db.session, current_user.id)
    db.session.commit()
    if count:
        flash(ngettext("Marked %(num)d message as read.", "Marked %(num)d messages as read.", count), "success")
    return redirect(url_for("inbox.index"))
