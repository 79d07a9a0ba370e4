"""Files attached to an application version (project plan, budget sheet, registration certificate) or to a
progress report (photos, receipts). Checked and stored by fundapp.uploads: PDF, JPEG, PNG or XLSX by their bytes,
at most GRANT_UPLOAD_MAX_BYTES, in GRANT_UPLOAD_DIR under a random owner-only name.

An attachment has exactly one owner (a version or a report). A submitted (frozen) version takes no more files:
the applicant attaches to the next version, started when staff request a revision.

Downloads (grants.attachment_download) go to staff, the board, reviewers assigned to the application and not
conflicted, and the owning organisation's users — see `can_download`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from fundapp import uploads
from fundapp.audit.services import AuditTag, record_event
from fundapp.grants.errors import GrantError
from fundapp.grants.models import (
    ApplicationAttachment,
    ApplicationVersion,
    AssignmentStatus,
    GrantReport,
    ReviewAssignment,
)
from fundapp.uploads import Upload

__all__ = ["Upload", "attachment_path", "check_grant_upload", "copy_attachments", "max_bytes", "owner_application_id",
           "owner_organisation_id", "read_grant_upload", "remove_grant_attachment", "reviewer_may_see",
           "save_grant_attachment", "upload_dir"]


def max_bytes() -> int:
    return int(current_app.config.get("GRANT_UPLOAD_MAX_BYTES", uploads.DEFAULT_MAX_BYTES))


def upload_dir() -> Path:
    configured = current_app.config.get("GRANT_UPLOAD_DIR")
    return Path(configured) if configured else Path(current_app.instance_path) / "uploads" / "grants"


def read_grant_upload(storage) -> Upload | None:
    """A form's FileField data as an Upload (None if no file was chosen); read one byte over the limit."""
    return uploads.read_upload(storage, max_bytes())


def check_grant_upload(upload: Upload) -> str:
    """The upload's kind, or GrantError saying why it is refused (call before writing anything else)."""
    return uploads.check_upload(upload, max_bytes(), error=GrantError)


def save_grant_attachment(session: Session, upload: Upload, *, version: ApplicationVersion | None = None,
                          report: GrantReport | None = None, actor: Any | None) -> ApplicationAttachment:
    """Check the upload, store it and record it against one owner: an application version still in draft, or a
    progress report. Refused → nothing stored, nothing written."""
    if (version is None) == (report is None):
        raise GrantError(_("An attachment belongs either to an application version or to a report."))
    if version is not None:
        session.refresh(version, ["submitted_at"])  # the current state, not what this session last saw
        if version.is_frozen:
            raise GrantError(_("Version %(n)s of this application was submitted and cannot change; files go with "
                               "the next version.", n=version.version))
    kind = check_grant_upload(upload)
    stored = uploads.store(upload.data, upload_dir(), error=GrantError)
    attachment = ApplicationAttachment(
        version_id=version.id if version is not None else None, report_id=report.id if report is not None else None,
        stored_name=stored, original_name=uploads.safe_name(upload.filename, kind), kind=kind,
        size=len(upload.data), sha256=upload.sha256, uploaded_by_id=getattr(actor, "id", None))
    session.add(attachment)
    try:
        session.flush()
    except Exception:
        uploads.discard(upload_dir(), stored)
        raise
    session.expire(version if version is not None else report, ["attachments"])
    record_event(session, AuditTag.grant_attachment_added, actor, "grant_attachment", attachment.id, after={
        "version": attachment.version_id, "report": attachment.report_id, "name": attachment.original_name,
        "kind": kind, "size": attachment.size, "sha256": attachment.sha256})
    return attachment


def remove_grant_attachment(session: Session, attachment: ApplicationAttachment, actor: Any | None) -> str:
    """Take a file off a draft version (not off a submitted one, nor off a report). Returns the stored name: the
    caller discards the file (`fundapp.uploads.discard(upload_dir(), name)`) after the commit."""
    version = attachment.version
    if version is None:
        raise GrantError(_("Files of a report stay with the report."))
    session.refresh(version, ["submitted_at"])
    if version.is_frozen:
        raise GrantError(_("Version %(n)s of this application was submitted and cannot change; files go with "
                           "the next version.", n=version.version))
    stored, state = attachment.stored_name, {"version": attachment.version_id, "name": attachment.original_name,
                                             "kind": attachment.kind, "size": attachment.size,
                                             "sha256": attachment.sha256}
    attachment_id = attachment.id
    session.delete(attachment)
    session.flush()
    session.expire(version, ["attachments"])
    record_event(session, AuditTag.grant_attachment_removed, actor, "grant_attachment", attachment_id, before=state)
    return stored


def copy_attachments(session: Session, source: ApplicationVersion, target: ApplicationVersion,
                     actor: Any | None) -> list[ApplicationAttachment]:
    """Carry the files of a submitted version over to the next draft (each as a new stored copy); a file missing
    from the disk is skipped."""
    copies = []
    for attachment in source.attachments:
        try:
            data = attachment_path(attachment).read_bytes()
        except (GrantError, OSError):
            continue
        stored = uploads.store(data, upload_dir(), error=GrantError)
        copy = ApplicationAttachment(version_id=target.id, stored_name=stored, original_name=attachment.original_name,
                                     kind=attachment.kind, size=attachment.size, sha256=attachment.sha256,
                                     uploaded_by_id=attachment.uploaded_by_id)
        session.add(copy)
        session.flush()
        record_event(session, AuditTag.grant_attachment_added, actor, "grant_attachment", copy.id, after={
            "version": target.id, "copied_from": attachment.id, "name": copy.original_name, "kind": copy.kind,
            "size": copy.size, "sha256": copy.sha256})
        copies.append(copy)
    session.expire(target, ["attachments"])
    return copies


def attachment_path(attachment: ApplicationAttachment) -> Path:
    return uploads.stored_path(upload_dir(), attachment.stored_name, error=GrantError)


def owner_application_id(attachment: ApplicationAttachment) -> int | None:
    """The application the file belongs to (through its version, or its report's award); None if neither."""
    if attachment.version is not None:
        return attachment.version.application_id
    if attachment.report is not None:
        return attachment.report.award.application_id
    return None


def owner_organisation_id(attachment: ApplicationAttachment) -> int | None:
    if attachment.version is not None:
        return attachment.version.application.organisation_id
    if attachment.report is not None:
        return attachment.report.award.organisation_id
    return None


def reviewer_may_see(session: Session, application_id: int, user_id: int) -> bool:
    """True if `user_id` is assigned to review the application and has not declared a conflict."""
    status = session.scalar(select(ReviewAssignment.status).where(
        ReviewAssignment.application_id == application_id, ReviewAssignment.reviewer_id == user_id))
    return status is not None and status != AssignmentStatus.conflicted.value
