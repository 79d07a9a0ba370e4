"""Role boundaries: an enterprise user sees and files only for its own enterprise; attachments go only to finance
and that enterprise; admin and board read everything else; finance alone confirms and records payments."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from fundapp.enterprises.attachments import Upload
from fundapp.enterprises.models import Agreement, Enterprise, ReportAttachment
from tests.unit.enterprises.factories import confirm, file
from tests.web.enterprises.conftest import PDF, Q1, counts, hidden_key, link, report_form


@pytest.fixture()
def filed(app_ctx, setup) -> dict:
    """Each enterprise has a Q1 report with a PDF: the canteen's is confirmed, the laundry's waits."""
    with app_ctx() as s:
        canteen, laundry = s.get(Enterprise, setup.canteen), s.get(Enterprise, setup.laundry)
        mine = confirm(s, file(s, canteen, Q1, "150000.00", attachment=Upload("食堂一季度.pdf", PDF)))
        theirs = file(s, laundry, Q1, "80000.00", "60000.00", attachment=Upload("洗衣一季度.pdf", PDF))
        s.commit()
        attachment = {a.report_id: a.id for a in s.scalars(select(ReportAttachment))}
        agreement = s.scalar(select(Agreement.id).where(Agreement.enterprise_id == setup.laundry))
        return {"mine": mine.report_id, "theirs": theirs.report_id, "their_revision": theirs.id,
                "my_file": attachment[mine.report_id], "their_file": attachment[theirs.report_id],
                "their_agreement": agreement}


def test_an_enterprise_user_sees_only_its_own_enterprise(client, login, app_ctx, setup, filed):
    link(app_ctx, login("enterprise"), setup.canteen)
    assert client.get("/enterprises/mine").headers["Location"].endswith(f"/enterprises/{setup.canteen}")
    page = client.get(f"/enterprises/{setup.canteen}").get_data(as_text=True)
    assert "幸福食堂" in page and "9,000.00" in page and "邻里洗衣" not in page
    assert "/ledger/" not in page and "Portal users" not in page  # finance's details stay with finance
    report = client.get(f"/enterprises/reports/{filed['mine']}").get_data(as_text=True)
    assert "100,000.00 × 5%" in report and "50,000.00 × 8%" in report and "/ledger/" not in report
    own_file = client.get(f"/enterprises/attachments/{filed['my_file']}")
    assert own_file.status_code == 200 and own_file.data == PDF
    forbidden = [f"/enterprises/{setup.laundry}", f"/enterprises/reports/{filed['theirs']}",
                 f"/enterprises/attachments/{filed['their_file']}",
                 f"/enterprises/agreements/{filed['their_agreement']}",
                 f"/enterprises/{setup.laundry}/reports/new", f"/enterprises/reports/{filed['theirs']}/amend",
                 "/enterprises/", "/enterprises/arrears", "/enterprises/dashboard", "/enterprises/new",
                 f"/enterprises/reports/{filed['mine']}/pay", f"/enterprises/{setup.canteen}/edit",
                 f"/enterprises/{setup.canteen}/agreements/new"]
    for url in forbidden:
        assert client.get(url).status_code == 403, url
    before = counts(app_ctx)
    assert client.post(f"/enterprises/revisions/{filed['their_revision']}/confirm",
                       data={"effective_date": "2025-04-20"}).status_code == 403
    upload = {"attachment": (io.BytesIO(PDF), "x.pdf")}
    assert client.post(f"/enterprises/reports/{filed['theirs']}/attachments", data=upload,
                       content_type="multipart/form-data").status_code == 403
    key = hidden_key(client.get(f"/enterprises/{setup.canteen}/reports/new").get_data(as_text=True))
    assert client.post(f"/enterprises/{setup.laundry}/reports/new",
                       data=report_form(key, Q1.replace(month=4))).status_code == 403
    assert counts(app_ctx) == before


def test_an_enterprise_user_files_for_its_own_enterprise(client, login, app_ctx, setup, filed, uploads):
    link(app_ctx, login("enterprise"), setup.laundry)
    key = hidden_key(client.get(f"/enterprises/{setup.laundry}/reports/new").get_data(as_text=True))
    data = report_form(key, Q1.replace(month=4), revenue="50000", costs="45000",
                       attachment=(io.BytesIO(PDF), "二季度.pdf"))
    response = client.post(f"/enterprises/{setup.laundry}/reports/new", data=data, content_type="multipart/form-data")
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Waiting for confirmation" in page and "5,000.00 × 20%" in page and "二季度.pdf" in page
    assert "Confirm and book the share" not in page  # finance's step


def test_an_unlinked_enterprise_user_sees_nothing(client, login, setup, filed):
    login("enterprise")
    assert "not linked to an enterprise" in client.get("/enterprises/mine").get_data(as_text=True)
    assert client.get(f"/enterprises/{setup.canteen}").status_code == 403
    assert client.get(f"/enterprises/attachments/{filed['my_file']}").status_code == 403


@pytest.mark.parametrize("role", ["admin", "board"])
def test_admin_and_board_read_reports_but_not_attachments(client, login, setup, filed, role):
    login(role)
    page = client.get(f"/enterprises/reports/{filed['mine']}").get_data(as_text=True)
    assert "食堂一季度.pdf" in page and "/enterprises/attachments/" not in page
    assert "Record a payment" not in page
    assert client.get(f"/enterprises/attachments/{filed['my_file']}").status_code == 403
    assert client.get(f"/enterprises/reports/{filed['mine']}/pay").status_code == 403
    assert client.get("/enterprises/dashboard").status_code == 200


def test_finance_downloads_an_attachment_as_a_file(client, login, filed):
    login("finance")
    response = client.get(f"/enterprises/attachments/{filed['their_file']}")
    assert response.status_code == 200 and response.data == PDF and response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in response.headers["Cache-Control"]
    assert client.get("/enterprises/attachments/999999").status_code == 404
