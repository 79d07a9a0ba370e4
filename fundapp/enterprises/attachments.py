"""Report attachments (statements, invoice scans): checked by their bytes, stored outside the web root.

The checks and the storage are fundapp.uploads (shared with the grants); this module gives them the enterprise
settings and records the rows:

- Allowed: PDF, JPEG, PNG and XLSX, recognised by their first bytes, never by the name or the claimed type.
- At most ENTERPRISE_UPLOAD_MAX_BYTES bytes (config).
- Stored in ENTERPRISE_UPLOAD_DIR (config; default instance/uploads/enterprises) under a random name of 40 hex
  digits, created exclusively with mode 0600. The database keeps the original name (used for the download only),
  the kind, the size and the SHA-256.
- Served only by the app, as a download, to finance and to the enterprise's own users.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy.orm import Session

from fundapp import uploads
from fundapp.audit.services import AuditTag, record_event
from fundapp.enterprises.errors import EnterpriseError
from fundapp.enterprises.models import ReportAttachment, ReportRevision, RevenueReport
from fundapp.uploads import DEFAULT_MAX_BYTES, EXTENSIONS, MIME_TYPES, Upload, safe_name, sniff

__all__ = ["DEFAULT_MAX_BYTES", "EXTENSIONS", "MIME_TYPES", "Upload", "add_attachment", "attachment_path",
           "check_upload", "max_bytes", "safe_name", "sniff", "upload_dir"]


def max_bytes() -> int:
    return int(current_app.config.get("ENTERPRISE_UPLOAD_MAX_BYTES", DEFAULT_MAX_BYTES))


def upload_dir() -> Path:
    configured = current_app.config.get("ENTERPRISE_UPLOAD_DIR")
    return Path(configured) if configured else Path(current_app.instance_path) / "uploads" / "enterprises"


def check_upload(upload: Upload) -> str:
    """The upload's kind, or raise EnterpriseError saying why it is refused."""
    return uploads.check_upload(upload, max_bytes(), error=EnterpriseError)


def add_attachment(session: Session, report: RevenueReport, upload: Upload, actor: Any | None,
                   revision: ReportRevision | None = None) -> ReportAttachment:
    """Check the upload, store it and record it against the report (and the revision it was filed with)."""
    kind = check_upload(upload)
    stored = uploads.store(upload.data, upload_dir(), error=EnterpriseError)
    attachment = ReportAttachment(
        report_id=report.id, revision_id=revision.id if revision is not None else None, stored_name=stored,
        original_name=safe_name(upload.filename, kind), kind=kind, size=len(upload.data),
        sha256=upload.sha256, uploaded_by_id=getattr(actor, "id", None),
    )
    session.add(attachment)
    session.flush()
    record_event(session, AuditTag.attachment_added, actor, "enterprise_attachment", attachment.id, after={
        "report": report.id, "revision": attachment.revision_id, "name": attachment.original_name, "kind": kind,
        "size": attachment.size, "sha256": attachment.sha256})
    return attachment


def attachment_path(attachment: ReportAttachment) -> Path:
    return uploads.stored_path(upload_dir(), attachment.stored_name, error=EnterpriseError)
