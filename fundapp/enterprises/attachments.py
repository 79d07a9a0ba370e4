"""Report attachments (statements, invoice scans): checked by their bytes, stored outside the web root.

- Allowed: PDF, JPEG, PNG and XLSX, recognised by their first bytes (an XLSX is a ZIP holding xl/workbook.xml),
  never by the file name or the content type the browser claims.
- At most ENTERPRISE_UPLOAD_MAX_BYTES bytes (config).
- Stored in ENTERPRISE_UPLOAD_DIR (config; default instance/uploads/enterprises) under a random name of 40 hex
  digits, created exclusively with mode 0600. The database keeps the original name (used for the download only),
  the kind, the size and the SHA-256.
- Served only by the app, as a download, to finance and to the enterprise's own users.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import secrets
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from fundapp.audit.services import AuditTag, record_event
from fundapp.enterprises.errors import EnterpriseError
from fundapp.enterprises.models import ReportAttachment, ReportRevision, RevenueReport

MIME_TYPES = {
    "pdf": "application/pdf",
    "jpeg": "image/jpeg",
    "png": "image/png",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
EXTENSIONS = {"pdf": ".pdf", "jpeg": ".jpg", "png": ".png", "xlsx": ".xlsx"}
DEFAULT_MAX_BYTES = 10 * 1024 * 1024


@dataclass(frozen=True)
class Upload:
    filename: str
    data: bytes


def max_bytes() -> int:
    return int(current_app.config.get("ENTERPRISE_UPLOAD_MAX_BYTES", DEFAULT_MAX_BYTES))


def upload_dir() -> Path:
    configured = current_app.config.get("ENTERPRISE_UPLOAD_DIR")
    return Path(configured) if configured else Path(current_app.instance_path) / "uploads" / "enterprises"


def _is_xlsx(data: bytes) -> bool:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, ValueError, OSError):
        return False
    return "[Content_Types].xml" in names and "xl/workbook.xml" in names


def sniff(data: bytes) -> str | None:
    """The file's kind from its first bytes, or None if it is not one we accept."""
    if data.startswith(b"%PDF-"):
        return "pdf"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"PK\x03\x04") and _is_xlsx(data):
        return "xlsx"
    return None


def safe_name(filename: str, kind: str) -> str:
    """The name shown and offered on download: no directories, no control characters, at most 200 characters."""
    name = re.split(r"[\\/]", filename or "")[-1]
    name = "".join(ch for ch in unicodedata.normalize("NFC", name) if unicodedata.category(ch)[0] != "C").strip()
    name = name.lstrip(".") or f"attachment{EXTENSIONS[kind]}"
    return name[-200:]


def check_upload(upload: Upload) -> str:
    """The upload's kind, or raise EnterpriseError saying why it is refused."""
    limit = max_bytes()
    if not upload.data:
        raise EnterpriseError(_("The attached file is empty."))
    if len(upload.data) > limit:
        raise EnterpriseError(_("The attached file is larger than %(size)s MB.", size=f"{limit / 1048576:g}"))
    kind = sniff(upload.data)
    if kind is None:
        raise EnterpriseError(_("Attach a PDF, JPEG, PNG or XLSX file."))
    return kind


def _write(data: bytes) -> str:
    directory = upload_dir()
    directory.mkdir(parents=True, exist_ok=True)
    stored = secrets.token_hex(20)
    try:
        fd = os.open(directory / stored, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(data)
    except OSError:
        raise EnterpriseError(_("The file could not be stored; nothing was saved. Tell the administrator.")) from None
    return stored


def add_attachment(session: Session, report: RevenueReport, upload: Upload, actor: Any | None,
                   revision: ReportRevision | None = None) -> ReportAttachment:
    """Check the upload, store it and record it against the report (and the revision it was filed with)."""
    kind = check_upload(upload)
    stored = _write(upload.data)
    attachment = ReportAttachment(
        report_id=report.id, revision_id=revision.id if revision is not None else None, stored_name=stored,
        original_name=safe_name(upload.filename, kind), kind=kind, size=len(upload.data),
        sha256=hashlib.sha256(upload.data).hexdigest(), uploaded_by_id=getattr(actor, "id", None),
    )
    session.add(attachment)
    session.flush()
    record_event(session, AuditTag.attachment_added, actor, "enterprise_attachment", attachment.id, after={
        "report": report.id, "revision": attachment.revision_id, "name": attachment.original_name, "kind": kind,
        "size": attachment.size, "sha256": attachment.sha256})
    return attachment


def attachment_path(attachment: ReportAttachment) -> Path:
    if not re.fullmatch(r"[0-9a-f]{40}", attachment.stored_name):
        raise EnterpriseError(_("This attachment cannot be read."))
    return upload_dir() / attachment.stored_name
