"""The application's status machine. Every status change goes through `change_status`: it refuses a move the
table does not allow, records the audit event and tells the applicant's users.

    draft ──submit──▶ submitted ──assign reviewers──▶ in_review ──▶ recommended ──agenda──▶ on_agenda
      ▲                  │  │                            │  │                                 │
      └── revision_requested ◀──────────────────────────┘  └──▶ rejected      approved ◀──┴──▶ rejected
    (withdrawn from any status before a decision; staff may approve/reject a recommended one under the limit)
"""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from fundapp.audit.services import AuditTag, record_event
from fundapp.db import utcnow
from fundapp.grants.errors import GrantError
from fundapp.grants.models import Application, OrganisationMember
from fundapp.grants.models import ApplicationStatus as S
from fundapp.notify.services import notify

ALLOWED: dict[str, frozenset[str]] = {
    S.draft: frozenset({S.submitted, S.withdrawn}),
    S.submitted: frozenset({S.in_review, S.revision_requested, S.recommended, S.rejected, S.withdrawn}),
    S.in_review: frozenset({S.revision_requested, S.recommended, S.rejected, S.withdrawn}),
    S.revision_requested: frozenset({S.submitted, S.withdrawn}),
    S.recommended: frozenset({S.on_agenda, S.approved, S.rejected, S.in_review, S.withdrawn}),
    S.on_agenda: frozenset({S.approved, S.rejected, S.recommended, S.withdrawn}),
    S.approved: frozenset(),
    S.rejected: frozenset(),
    S.withdrawn: frozenset(),
}

STATUS_LABELS = {
    S.draft: "Draft",
    S.submitted: "Submitted",
    S.in_review: "In review",
    S.revision_requested: "Revision requested",
    S.recommended: "Recommended",
    S.on_agenda: "On the board's agenda",
    S.approved: "Approved",
    S.rejected: "Not approved",
    S.withdrawn: "Withdrawn",
}


def status_label(status: str) -> str:
    return _(STATUS_LABELS.get(status, status))


def applicant_user_ids(session: Session, organisation_id: int) -> list[int]:
    return list(session.scalars(select(OrganisationMember.user_id)
                                .where(OrganisationMember.organisation_id == organisation_id)))


def change_status(session: Session, application: Application, new: str, actor: Any | None, note: str = "",
                  tag: AuditTag = AuditTag.application_status_changed) -> Application:
    old = application.status
    if new not in ALLOWED.get(old, frozenset()):
        raise GrantError(_("An application that is “%(old)s” cannot become “%(new)s”.",
                           old=status_label(old), new=status_label(new)))
    application.status = new
    application.updated_at = utcnow()
    session.flush()
    record_event(session, tag, actor, "application", application.id,
                 before={"status": old}, after={"status": new, "note": note} if note else {"status": new})
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        subject = _("Application %(ref)s: %(status)s", ref=application.reference, status=status_label(new))
        body = note
    notify(session, applicant_user_ids(session, application.organisation_id), "application_status",
           subject, body, link=f"/grants/applications/{application.id}")
    return application
