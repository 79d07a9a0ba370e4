"""Home page (a dashboard for signed-in staff) and the language switch."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, redirect, render_template, request, session, url_for
from flask_login import current_user
from sqlalchemy import func, select

from fundapp.auth.decorators import public
from fundapp.dates import local_today
from fundapp.extensions import db
from fundapp.ledger.models import Fund, FundStatus, JournalEntry
from fundapp.ledger.queries import fund_net_assets
from fundapp.ledger.services import lock_date

bp = Blueprint("main", __name__)


def safe_next(target: str | None, fallback: str) -> str:
    """Only same-site relative paths are followed after a redirect."""
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return fallback


@bp.get("/")
@public
def index():
    if not current_user.is_authenticated:  # visitors land on the public site; it links to the sign-in page
        return redirect(url_for("disclosure.home"))
    context = {}
    if current_user.has_role("finance", "admin", "board"):
        funds = db.session.scalars(select(Fund).where(Fund.status == FundStatus.active.value).order_by(Fund.code)).all()
        balances = fund_net_assets(db.session, local_today())
        context = {
            "funds": funds,
            "balances": balances,
            "total": sum(balances.values()),
            "entry_count": db.session.scalar(select(func.count()).select_from(JournalEntry)),
            "recent": db.session.scalars(select(JournalEntry).order_by(JournalEntry.seq.desc()).limit(8)).all(),
            "lock_date": lock_date(db.session),
        }
    return render_template("main/index.html", **context)


@bp.get("/lang/<code>")
@public
def set_language(code: str):
    if code in current_app.config["LANGUAGES"]:
        session["lang"] = code
    return redirect(safe_next(request.args.get("next"), url_for("main.index")))
