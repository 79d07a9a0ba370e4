"""Uploaded files (statements, invoice scans, project documents, photos): checked by their bytes, stored outside the
web root, served only as downloads. Shared by the domains; each passes its own folder and size limit (config).

- Allowed: PDF, JPEG, PNG and XLSX, recognised by their first bytes (an XLSX is a ZIP holding xl/workbook.xml),
  never by the file name or the content type the browser claims.
- At most `limit` bytes.
- Stored in `directory` under a random name of 40 hex digits, created exclusively with mode 0600. The database keeps
  the original name (used for the download only), the kind, the size and the SHA-256.
- Served by the app only, with `download_response`: as an attachment, never cached, never sniffed by the browser.

    upload = read_upload(form.file.data, limit)            # in the view (None if no file was chosen)
    kind = check_upload(upload, limit, error=MyError)       # in the service, before anything is written
    stored = store(upload.data, directory, error=MyError)   # then the row: stored, safe_name(...), kind, size, sha
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

from flask import Response, send_file
from flask_babel import gettext as _

from fundapp.errors import DomainError

MIME_TYPES = {
    "pdf": "application/pdf",
    "jpeg": "image/jpeg",
    "png": "image/png",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
EXTENSIONS = {"pdf": ".pdf", "jpeg": ".jpg", "png": ".png", "xlsx": ".xlsx"}
KINDS = tuple(MIME_TYPES)
DEFAULT_MAX_BYTES = 10 * 1024 * 1024
_STORED_NAME = re.compile(r"[0-9a-f]{40}")


class UploadError(DomainError):
    """An upload was refused; nothing was stored."""


@dataclass(frozen=True)
class Upload:
    filename: str
    data: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def read_upload(storage, limit: int) -> Upload | None:
    """The uploaded file of a form field (read up to one byte over `limit`, so the check can refuse it), or None
    if no file was chosen."""
    if storage is None or not getattr(storage, "filename", ""):
        return None
    return Upload(storage.filename, storage.stream.read(limit + 1))


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


def check_upload(upload: Upload, limit: int, *, error: type[DomainError] = UploadError) -> str:
    """The upload's kind, or raise `error` saying why it is refused."""
    if not upload.data:
        raise error(_("The attached file is empty."))
    if len(upload.data) > limit:
        raise error(_("The attached file is larger than %(size)s MB.", size=f"{limit / 1048576:g}"))
    kind = sniff(upload.data)
    if kind is None:
        raise error(_("Attach a PDF, JPEG, PNG or XLSX file."))
    return kind


def store(data: bytes, directory: Path | str, *, error: type[DomainError] = UploadError) -> str:
    """Write `data` under a new random name in `directory` (created if missing), owner-only; the name."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    stored = secrets.token_hex(20)
    try:
        fd = os.open(directory / stored, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(data)
    except OSError:
        raise error(_("The file could not be stored; nothing was saved. Tell the administrator.")) from None
    return stored


def discard(directory: Path | str, stored_name: str) -> None:
    """Remove a stored file (after the transaction that recorded it failed); quiet if it is gone."""
    if _STORED_NAME.fullmatch(stored_name or ""):
        try:
            (Path(directory) / stored_name).unlink()
        except OSError:
            pass


def stored_path(directory: Path | str, stored_name: str, *, error: type[DomainError] = UploadError) -> Path:
    """Where a stored file lives; refuses any name that is not one `store` made (no path tricks)."""
    if not _STORED_NAME.fullmatch(stored_name or ""):
        raise error(_("This attachment cannot be read."))
    return Path(directory) / stored_name


def download_response(path: Path, kind: str, download_name: str) -> Response:
    """The file as a download: the sniffed type, never inline, never cached, never content-sniffed."""
    # Read whole (at most the upload limit): no file handle outlives the request.
    response = send_file(io.BytesIO(path.read_bytes()), mimetype=MIME_TYPES[kind], as_attachment=True,
                         download_name=download_name, max_age=0, conditional=False, etag=False)
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
