"""Who may do what on the enterprise pages, and helpers the views share.

Finance manages; admin and board read everything; a user with role `enterprise` sees only the enterprise it is
linked to (its reports, what it owes and paid) and may file and amend its reports and attach files. Attachments
are served only to finance and to the enterprise's own users. Every view also carries its role decorator; the
per-enterprise check below runs after the object was found (404 first, then 403).
"""

from __future__ import annotations

import datetime as dt

from flask import abort, g
from flask_login import current_user
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from fundapp.dates import local_today
from fundapp.enterprises.queries import enterprise_id_for_user
from fundapp.extensions import db
from fundapp.ledger.models import Fund, FundStatus

MANAGERS = ("finance",)
READERS = ("finance", "admin", "board")
PORTAL = "enterprise"
VIEWERS = (*READERS, PORTAL)
FILERS = (*MANAGERS, PORTAL)
DOWNLOADERS = ("finance", PORTAL)


def today() -> dt.date:
    return local_today()


def own_enterprise_id() -> int | None:
    """The enterprise the signed-in user is linked to (as a portal user), once per request."""
    if "own_enterprise_id" not in g:
        linked = current_user.is_authenticated and current_user.has_role(PORTAL)
        g.own_enterprise_id = enterprise_id_for_user(db.session, current_user.id) if linked else None
    return g.own_enterprise_id


def is_own(enterprise_id: int) -> bool:
    return own_enterprise_id() == enterprise_id


def allowed(enterprise_id: int, *roles: str) -> bool:
    """The user holds one of `roles`, or is a portal user of this enterprise."""
    return current_user.has_role(*roles) or is_own(enterprise_id)


def require(enterprise_id: int, *roles: str) -> None:
    if not allowed(enterprise_id, *roles):
        abort(403)


def is_reader() -> bool:
    return current_user.has_role(*READERS)


def fund_choices() -> list[SelectChoice]:
    funds = db.session.scalars(select(Fund).where(Fund.status == FundStatus.active.value).order_by(Fund.code))
    return [SelectChoice("", "—")] + [SelectChoice(str(f.id), f"{f.code} {f.name}") for f in funds]


def fund_by_id(value: str | None) -> Fund | None:
    return db.session.get(Fund, int(value)) if (value or "").isdigit() else None
