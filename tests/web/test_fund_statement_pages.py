"""Fund statement pages: the staff page and PDF (finance, admin, board), the donor's copy in the portal (only for
a fund the donor gave to, with no donor names), bad dates shown on the form, role boundaries."""

from __future__ import annotations

import datetime as dt

import pytest

from fundapp.auth.models import User
from fundapp.donations.donors import link_user
from fundapp.donations.models import Donation, Donor
from fundapp.ledger.models import Fund
from fundapp.reports.fund_statement import fund_statement
from tests.factories import post
from tests.unit.donations.test_pdf import _tools, pdf_text
from tests.unit.test_fund_statement import build_fixture


@pytest.fixture()
def books(app_ctx) -> dict:
    with app_ctx() as s:
        f = build_fixture(s)
        s.commit()
        return {"fund": f["fund"].id, "other": f["other"].id, "start": f["start"].isoformat(),
                "end": f["end"].isoformat(), "award": f["award"].number, "wang": f["wang"].id, "li": f["li"].id,
                "han": f["han"].id}


def link(app_ctx, donor_id: int, user_id: int) -> None:
    with app_ctx() as s:
        link_user(s, s.get(Donor, donor_id), s.get(User, user_id), None)
        s.commit()


def period(books) -> dict:
    return {"start": books["start"], "end": books["end"]}


@pytest.mark.parametrize("role", ["finance", "admin", "board"])
def test_staff_page_shows_the_hand_figures(client, login, books, role):
    login(role)
    page = client.get(f"/reports/funds/{books['fund']}/statement", query_string=period(books)).get_data(as_text=True)
    for figure in ("10,000.00", "4,000.00", "250.00", "4,250.00", "3,000.00", "400.00", "120.00", "80.00",
                   "3,600.00", "10,650.00", books["award"], "阳光社工服务中心", "王芳"):
        assert figure in page, figure
    assert "李雷" not in page and "韩梅" not in page  # anonymous in public; reversed gift
    assert "Other changes in net assets" not in page
    assert f"/reports/funds/{books['fund']}/statement.pdf?start={books['start']}" in page


def test_default_period_is_this_year_to_date(client, login, books, app_ctx):
    login("finance")
    response = client.get(f"/reports/funds/{books['fund']}/statement")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Fund statement" in page and "10,650.00" in page  # closing balance on today


def test_fund_page_links_to_the_statement(client, login, books):
    login("finance")
    page = client.get(f"/funds/{books['fund']}").get_data(as_text=True)
    assert f"/reports/funds/{books['fund']}/statement" in page


@pytest.mark.parametrize("args,message", [
    ({"start": "2026-13-01", "end": "2026-12-31"}, "Enter a date as YYYY-MM-DD."),
    ({"start": "2026-05-01", "end": "2026-04-01"}, "The last day comes before the first day."),
    ({"start": "", "end": "2026-04-01"}, "Enter a date as YYYY-MM-DD."),
    ({"start": "0001-01-01", "end": "2026-04-01"}, "Enter a year between 1901 and 9998."),
    ({"start": "2000-01-01", "end": "2026-04-01"}, "Choose a period of at most ten years."),
])
def test_bad_dates_are_form_errors(client, login, books, args, message):
    login("finance")
    response = client.get(f"/reports/funds/{books['fund']}/statement", query_string=args)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert f'<div class="error">{message}</div>' in page
    assert "10,650.00" not in page and "Closing balance" not in page
    pdf = client.get(f"/reports/funds/{books['fund']}/statement.pdf", query_string=args)
    assert pdf.status_code == 302 and f"/reports/funds/{books['fund']}/statement" in pdf.headers["Location"]


def test_unknown_fund_is_404(client, login, books):
    login("finance")
    assert client.get("/reports/funds/999999/statement").status_code == 404
    assert client.get("/reports/funds/999999/statement.pdf").status_code == 404


def test_staff_pdf_has_the_key_figures(client, login, books, tmp_path):
    _tools()
    login("finance")
    response = client.get(f"/reports/funds/{books['fund']}/statement.pdf", query_string=period(books))
    assert response.status_code == 200 and response.content_type == "application/pdf"
    assert "fund-statement-" in response.headers["Content-Disposition"]
    text = pdf_text(response.data, tmp_path)
    for figure in ("基金收支报告", "社区助老基金", "10,000.00", "4,000.00", "4,250.00", "3,000.00", "3,600.00",
                   "10,650.00", books["award"], "王芳"):
        assert figure in text, figure
    assert "李雷" not in text


def test_pdf_shows_other_changes(client, login, books, app_ctx, tmp_path):
    with app_ctx() as s:
        post(s, s.get(Fund, books["fund"]), "1000.00", debit="1002", credit="3101",
             date=dt.date.fromisoformat(books["end"]))
        s.commit()
    login("finance")
    page = client.get(f"/reports/funds/{books['fund']}/statement", query_string=period(books)).get_data(as_text=True)
    assert "Other changes in net assets" in page and "11,650.00" in page
    text = pdf_text(client.get(f"/reports/funds/{books['fund']}/statement.pdf", query_string=period(books)).data,
                    tmp_path)
    assert "其他净资产变动" in text and "1,000.00" in text and "11,650.00" in text


@pytest.mark.parametrize("role", ["applicant", "donor", "reviewer", "enterprise"])
def test_staff_pages_refuse_other_roles(client, login, books, role):
    login(role)
    assert client.get(f"/reports/funds/{books['fund']}/statement").status_code == 403
    assert client.get(f"/reports/funds/{books['fund']}/statement.pdf").status_code == 403


def test_anonymous_visitor_goes_to_login(client, books):
    for url in (f"/reports/funds/{books['fund']}/statement", f"/my/funds/{books['fund']}/statement.pdf"):
        response = client.get(url)
        assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_donor_copy_names_nobody(client, login, app_ctx, books, tmp_path):
    _tools()
    link(app_ctx, books["wang"], login("donor"))
    year = books["end"][:4]
    response = client.get(f"/my/funds/{books['fund']}/statement.pdf", query_string={"year": year})
    assert response.status_code == 200 and response.content_type == "application/pdf"
    assert "attachment" in response.headers["Content-Disposition"]
    text = pdf_text(response.data, tmp_path)
    with app_ctx() as s:
        expected = fund_statement(s, s.get(Fund, books["fund"]), dt.date(int(year), 1, 1),
                                  dt.date.fromisoformat(books["end"]))
    closing = f"{expected.closing:,.2f}"
    assert "基金收支报告" in text and closing in text and "3,000.00" in text and books["award"] in text
    assert "王芳" not in text and "李雷" not in text and "韩梅" not in text
    assert client.get(f"/my/funds/{books['fund']}/statement.pdf").status_code == 200  # this year by default


def test_donor_gift_page_links_to_the_fund_statement(client, login, app_ctx, books):
    link(app_ctx, books["wang"], login("donor"))
    with app_ctx() as s:
        gift_id = s.query(Donation).filter_by(donor_id=books["wang"], fund_id=books["fund"]).first().id
    page = client.get(f"/my/gifts/{gift_id}").get_data(as_text=True)
    assert f"/my/funds/{books['fund']}/statement.pdf?year=" in page


def test_donor_without_a_gift_to_the_fund_gets_404(client, login, app_ctx, books):
    link(app_ctx, books["li"], login("donor"))  # gave to the fund, never to the other one
    assert client.get(f"/my/funds/{books['other']}/statement.pdf").status_code == 404
    assert client.get("/my/funds/999999/statement.pdf").status_code == 404
    assert client.get(f"/my/funds/{books['fund']}/statement.pdf", query_string={"year": "abc"}).status_code == 404
    assert client.get(f"/my/funds/{books['fund']}/statement.pdf", query_string={"year": "99999"}).status_code == 404
    assert client.get(f"/my/funds/{books['fund']}/statement.pdf", query_string={"year": "9998"}).status_code == 404


def test_donor_with_only_a_reversed_gift_gets_404(client, login, app_ctx, books):
    link(app_ctx, books["han"], login("donor"))
    assert client.get(f"/my/funds/{books['fund']}/statement.pdf").status_code == 404


def test_unlinked_donor_and_other_roles(client, login, books):
    login("donor")  # not linked to a donor record
    assert client.get(f"/my/funds/{books['fund']}/statement.pdf").status_code == 404


@pytest.mark.parametrize("role", ["applicant", "finance"])
def test_portal_statement_refuses_non_donors(client, login, books, role):
    login(role)
    assert client.get(f"/my/funds/{books['fund']}/statement.pdf").status_code == 403
