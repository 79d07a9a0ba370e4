"""Administration: users and their roles (admin only) and the audit trail (admin and finance read it).

Views parse the form, call the auth services, commit or roll back; errors go back onto the form.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import or_, select
from wtforms.fields.choices import SelectChoice

from fundapp import csvexport
from fundapp.admin.forms import KNOWN_TAGS, AuditFilterForm
from fundapp.admin.queries import audit_query, subject_types
from fundapp.auth.decorators import roles_required
from fundapp.auth.forms import ROLE_LABELS, UserEditForm, UserForm
from fundapp.auth.models import User
from fundapp.auth.services import create_user, set_password, update_user
from fundapp.auth.two_factor import is_enrolled, reset_two_factor
from fundapp.extensions import db
from fundapp.web import form_service

bp = Blueprint("admin", __name__, url_prefix="/admin")

AUDIT_READERS = ("admin", "finance")
CSV_BATCH = 1000


@bp.context_processor
def labels() -> dict:
    return {"role_labels": ROLE_LABELS}


# --- users ----------------------------------------------------------------------------------------------------


@bp.get("/users")
@roles_required("admin")
def users():
    text = (request.args.get("q") or "").strip()[:100]
    stmt = select(User).order_by(User.email)
    if text:
        stmt = stmt.where(or_(User.email.icontains(text, autoescape=True), User.name.icontains(text, autoescape=True)))
    size = current_app.config["PAGE_SIZE"]
    page = db.paginate(stmt, per_page=size, max_per_page=size, error_out=False)
    return render_template("admin/users.html", page=page, q=text)


@bp.route("/users/new", methods=["GET", "POST"])
@roles_required("admin")
def user_new():
    form = UserForm()
    if form.validate_on_submit():
        with form_service(form) as done:
            user = create_user(db.session, form.email.data, form.password.data or "", form.roles.data or [],
                               name=form.name.data or "", actor=current_user)
        if done.ok:
            flash(_("User %(email)s was created.", email=user.email), "success")
            return redirect(url_for("admin.users"))
    return render_template("admin/user_form.html", form=form, user=None)


def _save_user(form: UserEditForm, user: User) -> None:
    update_user(db.session, user, name=form.name.data or "", roles=form.roles.data or [],
                enabled=bool(form.enabled.data), actor=current_user)
    if form.password.data:
        set_password(db.session, user, form.password.data, current_user)


@bp.route("/users/<int:user_id>/edit", methods=["GET", "POST"])
@roles_required("admin")
def user_edit(user_id: int):
    user = db.get_or_404(User, user_id)
    form = UserEditForm(obj=user, data={"roles": sorted(user.roles), "enabled": user.is_enabled})
    if form.validate_on_submit():
        with form_service(form) as done:
            _save_user(form, user)
        if done.ok:
            flash(_("User %(email)s was saved.", email=user.email), "success")
            return redirect(url_for("admin.users"))
    return render_template("admin/user_form.html", form=form, user=user, two_factor_on=is_enrolled(user))


@bp.post("/users/<int:user_id>/two-factor/reset")
@roles_required("admin")
def user_reset_two_factor(user_id: int):
    """Forget the user's authenticator and recovery codes (a lost phone); audited. They enrol again at sign-in."""
    user = db.get_or_404(User, user_id)
    reset_two_factor(db.session, user, current_user)
    db.session.commit()
    flash(_("Two-factor sign-in of %(email)s was reset; they set it up again at their next sign-in.",
            email=user.email), "success")
    return redirect(url_for("admin.user_edit", user_id=user.id))


# --- audit trail ----------------------------------------------------------------------------------------------


def _audit_filters() -> tuple[AuditFilterForm, dict]:
    form = AuditFilterForm(formdata=request.args)
    form.subject_type.choices = form.subject_type.choices[:1] + [SelectChoice(t, t) for t in subject_types(db.session)]
    form.validate()
    return form, form.filters()


def pretty_json(value) -> str:
    return json.dumps(value, ensure_ascii=False, indent=1, sort_keys=True) if value is not None else ""


def _shown(value) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def changes(before: dict | None, after: dict | None) -> list[tuple[str, str, str]]:
    """(key, before, after) as text for the keys whose value differs; empty unless both snapshots exist."""
    if not before or not after:
        return []
    keys = sorted(set(before) | set(after))
    return [(key, _shown(before.get(key)), _shown(after.get(key))) for key in keys if before.get(key) != after.get(key)]


@bp.get("/audit")
@roles_required(*AUDIT_READERS)
def audit():
    form, filters = _audit_filters()
    size = current_app.config["PAGE_SIZE"]
    page = db.paginate(audit_query(**filters), per_page=size, max_per_page=size, error_out=False)
    export_args = {key: value for key, value in request.args.items() if key != "page" and value}
    return render_template("admin/audit.html", form=form, page=page, filtered=any(filters.values()),
                           export_args=export_args, changes=changes, pretty_json=pretty_json, known_tags=KNOWN_TAGS)


@bp.get("/audit.csv")
@roles_required(*AUDIT_READERS)
def audit_csv():
    _form, filters = _audit_filters()
    stmt = audit_query(**filters).execution_options(yield_per=CSV_BATCH)
    header = [_("Time (UTC)"), _("Actor"), _("Event"), _("Subject type"), _("Subject"), _("IP address"),
              _("Before"), _("After")]

    def lines() -> Iterator[str]:
        yield csvexport.line(header)
        for event in db.session.scalars(stmt):
            yield csvexport.line([event.created_at.isoformat(), event.actor.email if event.actor else "", event.tag,
                             event.subject_type, event.subject_id, event.ip,
                             json.dumps(event.before, ensure_ascii=False) if event.before is not None else "",
                             json.dumps(event.after, ensure_ascii=False) if event.after is not None else ""])

    return csvexport.response(lines(), "audit.csv")
