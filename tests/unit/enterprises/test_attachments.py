"""Attachments: recognised by their bytes (PDF, JPEG, PNG, XLSX), size-limited, stored outside the web root under
random names with owner-only permissions, recorded with their hash."""

from __future__ import annotations

import hashlib
import io
import stat
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest
from flask import current_app
from sqlalchemy import func, select

from fundapp.enterprises.attachments import Upload, add_attachment, attachment_path, safe_name, sniff
from fundapp.enterprises.errors import EnterpriseError
from fundapp.enterprises.models import ReportAttachment, ReportRevision
from tests.factories import make_fund
from tests.unit.enterprises.factories import START, file, make_agreement, make_enterprise

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
def uploads(app, tmp_path, monkeypatch):
    folder = tmp_path / "uploads"
    monkeypatch.setitem(app.config, "ENTERPRISE_UPLOAD_DIR", str(folder))
    monkeypatch.setitem(app.config, "ENTERPRISE_UPLOAD_MAX_BYTES", 1024)
    return folder


@pytest.mark.parametrize("data, kind", [(PDF, "pdf"), (PNG, "png"), (JPEG, "jpeg"), (xlsx_bytes(), "xlsx"),
                                        (xlsx_bytes(workbook=False), None), (b"PK\x03\x04not a zip", None),
                                        (b"<html><script>alert(1)</script>", None), (b"GIF89a", None)])
def test_files_are_recognised_by_their_bytes(data, kind):
    assert sniff(data) == kind


def test_the_shown_name_never_carries_a_path_or_control_characters():
    assert safe_name("../../etc/passwd", "pdf") == "passwd"
    assert safe_name("C:\\Users\\a\\账目\u0000.pdf", "pdf") == "账目.pdf"
    assert safe_name("", "png") == "attachment.png"
    assert safe_name(".htaccess", "pdf") == "htaccess"


def test_an_attachment_is_stored_outside_the_web_root_under_a_random_name(session, uploads):
    enterprise = make_enterprise(session)
    make_agreement(session, enterprise, make_fund(session, "COMM"))
    revision = file(session, enterprise, START, "10.00", attachment=Upload("一季度报表.pdf", PDF))
    attachment = session.scalar(select(ReportAttachment))
    path = attachment_path(attachment)
    assert path.parent == uploads and path.read_bytes() == PDF
    assert attachment.stored_name != "一季度报表.pdf" and len(attachment.stored_name) == 40
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert (attachment.original_name, attachment.kind, attachment.size, attachment.revision_id) == (
        "一季度报表.pdf", "pdf", len(PDF), revision.id)
    assert attachment.sha256 == hashlib.sha256(PDF).hexdigest()
    assert not path.is_relative_to(Path(current_app.static_folder))
    add_attachment(session, revision.report, Upload("发票.png", PNG), None)
    assert len(list(uploads.iterdir())) == 2


@pytest.mark.parametrize("upload, message", [
    (Upload("report.pdf", b"just text pretending"), "PDF, JPEG, PNG or XLSX"),
    (Upload("big.pdf", b"%PDF-" + b"x" * 1024), "larger than"),
    (Upload("empty.pdf", b""), "empty"),
])
def test_bad_uploads_refuse_the_whole_filing(session, uploads, upload, message):
    enterprise = make_enterprise(session)
    make_agreement(session, enterprise, make_fund(session, "COMM"))
    with pytest.raises(EnterpriseError, match=message):
        file(session, enterprise, START, "10.00", attachment=upload)
    assert session.scalar(select(func.count()).select_from(ReportRevision)) == 0
    assert not uploads.exists() or not any(uploads.iterdir())


def test_the_limit_comes_from_the_configuration(session, uploads, app, monkeypatch):
    monkeypatch.setitem(app.config, "ENTERPRISE_UPLOAD_MAX_BYTES", 2048)
    enterprise = make_enterprise(session)
    make_agreement(session, enterprise, make_fund(session, "COMM"))
    revision = file(session, enterprise, START, "10.00", attachment=Upload("ok.pdf", b"%PDF-" + b"x" * 1500))
    assert revision.attachments[0].size == 1505
    assert revision.share == Decimal("0.50")
