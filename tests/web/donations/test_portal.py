"""The donor portal: a donor sees only their own gifts, receipts and pledges; where restricted money went; the
yearly giving statement PDF. Finance staff use it only if they are donors too."""

from __future__ import annotations

import datetime as dt

import pytest

from fundapp.auth.models import User
from fundapp.donations.donors import link_user
from fundapp.donations.models import Donor
from fundapp.donations.services import reverse_donation
from fundapp.ledger.models import Fund
from tests.factories import post
from tests.unit.donations.factories import gift, pledge
from tests.unit.donations.test_pdf import _tools, pdf_text


@pytest.fixture()
def gifts(app_ctx, setup) -> dict:
    """张三丰 gave twice (one restricted, with receipts) and pledged; the company gave once, with a receipt."""
    with app_ctx() as s:
        gen, prj = s.get(Fund, setup.gen), s.get(Fund, setup.prj)
        zhang, acme = s.get(Donor, setup.zhang), s.get(Donor, setup.acme)
        post(s, prj, "70.00", debit="5101", credit="2209", date=dt.date(2026, 3, 1), memo="早于捐赠的支出")
        restricted = gift(s, prj, "1000.00", donor=zhang, issue=True, on=dt.date(2026, 3, 10), purpose="购书")
        plain = gift(s, gen, "500.00", donor=zhang, issue=True, on=dt.date(2026, 4, 2))
        wrong = gift(s, gen, "9.00", donor=zhang, on=dt.date(2026, 4, 3))
        reverse_donation(s, wrong, "录入错误", None, on=dt.date(2026, 4, 3))
        other = gift(s, gen, "777.00", donor=acme, issue=True, on=dt.date(2026, 3, 12))
        pledge(s, gen, "3000.00", zhang, on=dt.date(2026, 5, 1))
        post(s, prj, "300.00", debit="5101", credit="2209", date=dt.date(2026, 3, 20), memo="社区图书角项目资助")
        post(s, prj, "300.00", debit="2209", credit="1002", date=dt.date(2026, 3, 25), memo="支付图书角项目款")
        s.commit()
        return {"restricted": restricted.id, "plain": plain.id, "other": other.id,
                "my_receipt": restricted.active_receipt.id, "other_receipt": other.active_receipt.id}


def link(app_ctx, donor_id: int, user_id: int) -> None:
    with app_ctx() as s:
        link_user(s, s.get(Donor, donor_id), s.get(User, user_id), None)
        s.commit()


def test_a_donor_sees_only_their_own_gifts_and_receipts(client, login, app_ctx, setup, gifts):
    link(app_ctx, setup.zhang, login("donor"))
    page = client.get("/my/").get_data(as_text=True)
    assert "张三丰" in page and "1,000.00" in page and "500.00" in page and "3,000.00" in page
    assert "777.00" not in page and "上海某某科技有限公司" not in page
    assert "¥1,500.00" in page  # given in all: reversed gifts do not count
    assert f"/my/receipts/{gifts['my_receipt']}.pdf" in page
    assert f"/my/receipts/{gifts['other_receipt']}.pdf" not in page
    assert "/my/statement/2026.pdf" in page
    own = client.get(f"/my/receipts/{gifts['my_receipt']}.pdf")
    assert own.status_code == 200 and own.content_type == "application/pdf" and own.data.startswith(b"%PDF")
    assert client.get(f"/my/receipts/{gifts['other_receipt']}.pdf").status_code == 404
    assert client.get("/my/receipts/999999.pdf").status_code == 404
    assert client.get(f"/my/gifts/{gifts['other']}").status_code == 404
    assert client.get(f"/donations/receipts/{gifts['other_receipt']}.pdf").status_code == 403  # staff pages stay shut


def test_where_a_restricted_gift_went(client, login, app_ctx, setup, gifts):
    link(app_ctx, setup.zhang, login("donor"))
    page = client.get(f"/my/gifts/{gifts['restricted']}").get_data(as_text=True)
    assert "Where the money went" in page and "社区图书角项目资助" in page and "支付图书角项目款" in page
    assert "早于捐赠的支出" not in page  # spent before the gift
    assert "Grant awarded" in page and "Grant paid" in page and "Programme cost" in page
    assert "¥300.00" in page  # programme costs since the gift
    assert "No grant has been awarded from this fund since your gift yet." in page
    plain = client.get(f"/my/gifts/{gifts['plain']}").get_data(as_text=True)
    assert "unrestricted" in plain and "社区图书角项目资助" not in plain


def test_a_restricted_gift_shows_the_grants_made_from_its_fund(client, login, app_ctx, setup, gifts):
    from tests.grants_builders import make_award, make_organisation

    with app_ctx() as s:
        post(s, s.get(Fund, setup.prj), "20000.00", date=dt.date(2026, 4, 1), memo="补充资金")
        make_award(s, "8000.00", fund=s.get(Fund, setup.prj), organisation=make_organisation(s, name="邻里互助协会"))
        make_award(s, "600.00", fund=s.get(Fund, setup.gen), organisation=make_organisation(s, name="别的基金的机构"))
        s.commit()
    link(app_ctx, setup.zhang, login("donor"))
    page = client.get(f"/my/gifts/{gifts['restricted']}").get_data(as_text=True)
    assert "Grants from this fund since your gift" in page
    assert "邻里互助协会" in page and "8,000.00" in page
    assert "别的基金的机构" not in page  # another fund's grant
    plain = client.get(f"/my/gifts/{gifts['plain']}").get_data(as_text=True)
    assert "邻里互助协会" not in plain and "别的基金的机构" not in plain  # unrestricted gifts list no grants


def test_access(client, login, app_ctx, setup, gifts):
    login("finance")
    assert client.get("/my/").status_code == 403
    assert client.get(f"/my/receipts/{gifts['my_receipt']}.pdf").status_code == 403
    client.post("/auth/logout")
    link(app_ctx, setup.acme, login("finance", "donor"))
    page = client.get("/my/").get_data(as_text=True)
    assert "777.00" in page and "1,000.00" not in page
    client.post("/auth/logout")
    login("donor")  # not linked to any donor record
    page = client.get("/my/")
    assert page.status_code == 200 and "not linked to a donor record" in page.get_data(as_text=True)
    assert client.get(f"/my/receipts/{gifts['my_receipt']}.pdf").status_code == 404
    assert client.get("/my/statement/2026.pdf").status_code == 404
    assert client.get(f"/donations/donors/{setup.zhang}/statement/2026.pdf").status_code == 403


def test_yearly_giving_statement(client, login, app_ctx, setup, gifts, tmp_path):
    _tools()
    link(app_ctx, setup.zhang, login("donor"))
    response = client.get("/my/statement/2026.pdf")
    assert response.status_code == 200 and response.content_type == "application/pdf"
    assert "attachment" in response.headers["Content-Disposition"]
    text = pdf_text(response.data, tmp_path)
    assert "2026年度捐赠证明" in text and "张三丰" in text and "11010519491231002X" in text
    assert "1,500.00" in text and "壹仟伍佰元整" in text and "2 笔" in text
    assert "社区图书馆基金：购书" in text and "9.00" not in text  # the reversed gift is left out
    assert client.get("/my/statement/2025.pdf").status_code == 404  # no gifts that year
    assert client.get("/my/statement/99999.pdf").status_code == 404


def test_finance_downloads_any_donors_statement(client, login, setup, gifts, tmp_path):
    _tools()
    login("finance")
    response = client.get(f"/donations/donors/{setup.acme}/statement/2026.pdf")
    assert response.status_code == 200
    text = pdf_text(response.data, tmp_path)
    assert "上海某某科技有限公司" in text and "777.00" in text and "柒佰柒拾柒元整" in text
