"""Grant attachments: checked by their bytes, size-limited, stored outside the web root, one owner, never added to a
submitted (frozen) version; the shared upload module underneath."""

from __future__ import annotations

import hashlib
import io
import stat
import zipfile

import pytest
from sqlalchemy import func, select, text

from fundapp import uploads
from fundapp.audit.models import AuditEvent
from fundapp.grants.attachments import (
    attachment_path,
    copy_attachments,
    remove_grant_attachment,
    save_grant_attachment,
)
from fundapp.grants.errors import GrantError
from fundapp.grants.models import ApplicationAttachment, ApplicationStatus
from fundapp.uploads import Upload
from tests.factories import make_user
from tests.grants_builders import make_application, make_programme

PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 32


def xlsx_bytes(workbook: bool = True) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        if workbook:
            archive.writestr("xl/workbook.xml", "<workbook/>")
    return buffer.getvalue()


@pytest.fixture()
def grant_uploads(app, tmp_path, monkeypatch):
    folder = tmp_path / "grant-uploads"
    monkeypatch.setitem(app.config, "GRANT_UPLOAD_DIR", str(folder))
    monkeypatch.setitem(app.config, "GRANT_UPLOAD_MAX_BYTES", 1024)
    return folder


def _draft(session):
    return make_application(session, make_programme(session), status=ApplicationStatus.draft.value)


def _count(session) -> int:
    return session.scalar(select(func.count()).select_from(ApplicationAttachment))


# --- the shared module --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("data, kind", [(PDF, "pdf"), (PNG, "png"), (JPEG, "jpeg"), (xlsx_bytes(), "xlsx"),
                                        (xlsx_bytes(workbook=False), None), (b"PK\x03\x04broken", None),
                                        (b"<svg onload=alert(1)>", None), (b"GIF89a", None), (b"", None)])
def test_kinds_come_from_the_bytes(data, kind):
    assert uploads.sniff(data) == kind


def test_the_limit_and_folder_are_arguments(tmp_path, session):
    with pytest.raises(uploads.UploadError, match="larger than"):
        uploads.check_upload(Upload("a.pdf", PDF), len(PDF) - 1)
    assert uploads.check_upload(Upload("a.pdf", PDF), len(PDF)) == "pdf"
    with pytest.raises(GrantError, match="PDF, JPEG, PNG or XLSX"):
        uploads.check_upload(Upload("a.pdf", b"text"), 100, error=GrantError)
    name = uploads.store(PDF, tmp_path / "x")
    path = uploads.stored_path(tmp_path / "x", name)
    assert path.read_bytes() == PDF and stat.S_IMODE(path.stat().st_mode) == 0o600
    with pytest.raises(uploads.UploadError):
        uploads.stored_path(tmp_path, "../etc/passwd")
    uploads.discard(tmp_path / "x", name)
    assert not path.exists()


# --- grant attachments ------------------------------------------------------------------------------------------


def test_a_file_is_stored_under_a_random_name_and_recorded(session, grant_uploads):
    application = _draft(session)
    user = make_user(session, "applicant")
    attachment = save_grant_attachment(session, Upload("../项目计划书.pdf", PDF), version=application.current,
                                       actor=user)
    path = attachment_path(attachment)
    assert path.parent == grant_uploads and path.read_bytes() == PDF
    assert len(attachment.stored_name) == 40 and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert (attachment.original_name, attachment.kind, attachment.size, attachment.version_id,
            attachment.report_id, attachment.uploaded_by_id) == ("项目计划书.pdf", "pdf", len(PDF),
                                                                 application.current.id, None, user.id)
    assert attachment.sha256 == hashlib.sha256(PDF).hexdigest()
    assert application.current.attachments == [attachment]
    event = session.scalar(select(AuditEvent).where(AuditEvent.tag == "grants:attachment:added"))
    assert event.subject_id == str(attachment.id) and event.after["name"] == "项目计划书.pdf"


@pytest.mark.parametrize("upload, message", [
    (Upload("plan.pdf", b"MZ\x90\x00 pretending to be a pdf"), "PDF, JPEG, PNG or XLSX"),
    (Upload("page.html", b"<html><script>alert(1)</script>"), "PDF, JPEG, PNG or XLSX"),
    (Upload("big.pdf", b"%PDF-" + b"x" * 1024), "larger than"),
    (Upload("empty.pdf", b""), "empty"),
])
def test_bad_files_are_refused_and_nothing_is_written(session, grant_uploads, upload, message):
    application = _draft(session)
    before = session.scalar(select(func.count()).select_from(AuditEvent))
    with pytest.raises(GrantError, match=message):
        save_grant_attachment(session, upload, version=application.current, actor=None)
    assert _count(session) == 0
    assert session.scalar(select(func.count()).select_from(AuditEvent)) == before
    assert not grant_uploads.exists() or not any(grant_uploads.iterdir())


def test_the_limit_comes_from_the_configuration(session, grant_uploads, app, monkeypatch):
    monkeypatch.setitem(app.config, "GRANT_UPLOAD_MAX_BYTES", 4096)
    application = _draft(session)
    attachment = save_grant_attachment(session, Upload("big.pdf", b"%PDF-" + b"x" * 2000),
                                       version=application.current, actor=None)
    assert attachment.size == 2005


def test_a_submitted_version_takes_no_files(session, grant_uploads):
    application = make_application(session, make_programme(session))  # submitted: version 1 frozen
    with pytest.raises(GrantError, match="submitted and cannot change"):
        save_grant_attachment(session, Upload("late.pdf", PDF), version=application.current, actor=None)
    assert _count(session) == 0 and (not grant_uploads.exists() or not any(grant_uploads.iterdir()))


def test_exactly_one_owner(session, grant_uploads):
    with pytest.raises(GrantError, match="either"):
        save_grant_attachment(session, Upload("a.pdf", PDF), actor=None)
    assert _count(session) == 0


def test_the_database_also_requires_one_owner(session, grant_uploads):
    application = _draft(session)
    attachment = save_grant_attachment(session, Upload("a.pdf", PDF), version=application.current, actor=None)
    with pytest.raises(Exception), session.begin_nested():  # noqa: B017,PT011 - the CHECK constraint
        session.execute(text("UPDATE grant_attachments SET version_id = NULL WHERE id = :id"), {"id": attachment.id})


def test_a_draft_file_can_be_removed_but_a_submitted_one_cannot(session, grant_uploads):
    application = _draft(session)
    attachment = save_grant_attachment(session, Upload("a.png", PNG), version=application.current, actor=None)
    stored = remove_grant_attachment(session, attachment, None)
    assert stored and _count(session) == 0
    assert session.scalar(select(AuditEvent).where(AuditEvent.tag == "grants:attachment:removed")).before[
        "name"] == "a.png"

    frozen = make_application(session, make_programme(session), status=ApplicationStatus.draft.value)
    kept = save_grant_attachment(session, Upload("b.png", PNG), version=frozen.current, actor=None)
    frozen.current.submitted_at = frozen.created_at
    session.flush()
    with pytest.raises(GrantError, match="submitted"):
        remove_grant_attachment(session, kept, None)
    assert _count(session) == 1


def test_files_are_copied_to_the_next_version(session, grant_uploads):
    source, data = _draft(session), xlsx_bytes()
    original = save_grant_attachment(session, Upload("budget.xlsx", data), version=source.current, actor=None)
    other = make_application(session, make_programme(session), status=ApplicationStatus.draft.value)
    copies = copy_attachments(session, source.current, other.current, None)
    assert len(copies) == 1 and copies[0].stored_name != original.stored_name
    assert attachment_path(copies[0]).read_bytes() == data and copies[0].sha256 == original.sha256
    assert (copies[0].original_name, copies[0].kind, copies[0].version_id) == ("budget.xlsx", "xlsx",
                                                                               other.current.id)
