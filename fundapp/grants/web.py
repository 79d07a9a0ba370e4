"""Who may do what on the grant pages, and helpers the views share.

Staff (finance, admin) run programmes, assign reviewers, set agendas and pay; board members read everything
and vote; reviewers see the applications assigned to them; an applicant (a user linked to an organisation)
sees only its own organisation's applications, awards and reports. Every view carries its role decorator;
object checks run after the object was found (404 first, then 403).
"""

from __future__ import annotations

import datetime as dt

from flask import abort, g
from flask_login import current_user
from sqlalchemy import select

from fundapp.dates import local_today
from fundapp.extensions import db
from fundapp.grants.models import OrganisationMember

STAFF = ("finance", "admin")
PAYERS = ("finance",)
BOARD = "board"
REVIEWER = "reviewer"
APPLICANT = "applicant"
READERS = (*STAFF, BOARD)  # see every application, review, vote and award
PORTAL = (APPLICANT,)


def today() -> dt.date:
    return local_today()


def own_organisation_id() -> int | None:
    """The organisation the signed-in applicant acts for, once per request."""
    if "own_organisation_id" not in g:
        linked = current_user.is_authenticated and current_user.has_role(APPLICANT)
        g.own_organisation_id = db.session.scalar(
            select(OrganisationMember.organisation_id).where(OrganisationMember.user_id == current_user.id)
        ) if linked else None
    return g.own_organisation_id


def is_own(organisation_id: int) -> bool:
    return own_organisation_id() == organisation_id


def require_own_or(organisation_id: int, *roles: str) -> None:
    """403 unless the user holds one of `roles` or acts for this organisation."""
    if not (current_user.has_role(*roles) or is_own(organisation_id)):
        abort(403)
