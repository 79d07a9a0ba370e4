"""Donation receipts for enterprises' gift payments, through the pages: finance issues one from the report page
(POST, CSRF, confirmation); the receipts page lists it with a link back to the report, and lists the gift payments
still lacking one; voiding and reissuing lead back to the report; a share of return gets none; only finance
issues; the PDF goes to finance and to the enterprise's own users only."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import pytest
from sqlalchemy import func, select

from fundapp.audit.models import AuditEvent
from fundapp.dates import local_today
from fundapp.donations.models import Receipt, ReceiptCounter
from fundapp.donations.receipts import issue_enterprise_receipt
from fundapp.enterprises.models import EnterprisePayment
from fundapp.ledger.models import JournalEntry
from tests.factories import make_fund
from tests.unit.donations.factories import gift, make_donor
from tests.unit.enterprises.factories import confirm, file, make_agreement, make_enterprise, pay
from tests.web.enterprises.conftest import link

Q1 = dt.date(2025, 1, 1)
CODE = "91350100M000100Y43"
OTHER_CODE = "91310000MA1FL0000N"


@dataclass(frozen=True)
class Setup:
    canteen: int  # 幸福食堂: gift agreement
    laundry: int  # 邻里洗衣: shareholding agreement
    gift_report: int
    gift_payment: int
    share_report: int
    share_payment: int
    donation_receipt: int  # a donor's receipt, issued today


@pytest.fixture()
def setup(app_ctx) -> Setup:
    with app_ctx() as s:
        fund = make_fund(s, "COMM", fund_type="micro", name="幸福社区微基金")
        canteen = make_enterprise(s, "幸福食堂", credit_code=CODE)
        laundry = make_enterprise(s, "邻里洗衣", credit_code=OTHER_CODE)
        make_agreement(s, canteen, fund, rate="5")
        make_agreement(s, laundry, fund, nature="shareholding", basis="net_profit", rate="20")
        gift_report = confirm(s, file(s, canteen, Q1, "100000.00")).report
        share_report = confirm(s, file(s, laundry, Q1, "80000.00", "60000.00")).report
        gift_payment, share_payment = pay(s, gift_report, "5000.00"), pay(s, share_report, "4000.00")
        donation = gift(s, fund, "10.00", donor=make_donor(s, "王芳"), issue=True)
        s.commit()
        return Setup(canteen.id, laundry.id, gift_report.id, gift_payment.id, share_report.id, share_payment.id,
                     donation.active_receipt.id)


def written(app_ctx) -> tuple:
    """Everything issuing a receipt may write."""
    with app_ctx() as s:
        return (s.scalar(select(func.count()).select_from(Receipt)),
                s.scalar(select(func.coalesce(func.sum(ReceiptCounter.last_number), 0))),
                s.scalar(select(func.count()).select_from(AuditEvent)),
                s.scalar(select(func.count()).select_from(JournalEntry)))


def issued(app_ctx, setup: Setup) -> int:
    """Issue the gift payment's receipt (as finance would); its id."""
    with app_ctx() as s:
        receipt = issue_enterprise_receipt(s, s.get(EnterprisePayment, setup.gift_payment), None)
        s.commit()
        return receipt.id


def valid_receipts(app_ctx, payment_id: int) -> list[Receipt]:
    with app_ctx() as s:
        return list(s.scalars(select(Receipt).where(Receipt.enterprise_payment_id == payment_id,
                                                    Receipt.void_at.is_(None))))


def test_finance_issues_the_receipt_from_the_report_page(client, login, app_ctx, setup):
    login("finance")
    page = client.get(f"/enterprises/reports/{setup.gift_report}").get_data(as_text=True)
    assert "TODO" not in page and "each payment gets an official donation receipt" in page
    assert f'action="/enterprises/payments/{setup.gift_payment}/receipt"' in page and "Issue receipt" in page
    assert "Issue the donation receipt for the payment of ¥5,000.00 received on 2025-05-01?" in page  # data-confirm

    response = client.post(f"/enterprises/payments/{setup.gift_payment}/receipt")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/enterprises/reports/{setup.gift_report}")
    [receipt] = valid_receipts(app_ctx, setup.gift_payment)
    with app_ctx() as s:
        donation_receipt = s.get(Receipt, setup.donation_receipt)
        assert (receipt.year, receipt.number) == (donation_receipt.year, donation_receipt.number + 1)  # one series
    assert (receipt.payer_name, receipt.payer_id_code, str(receipt.amount)) == ("幸福食堂", CODE, "5000.00")
    page = client.get(f"/enterprises/reports/{setup.gift_report}").get_data(as_text=True)
    assert f"Receipt {receipt.label} issued." in page
    assert f'href="/enterprises/receipts/{receipt.id}.pdf">{receipt.label}</a>' in page
    assert f'href="/donations/receipts/{receipt.id}/void"' in page
    assert f'action="/enterprises/payments/{setup.gift_payment}/receipt"' not in page

    before = written(app_ctx)
    again = client.post(f"/enterprises/payments/{setup.gift_payment}/receipt", follow_redirects=True)
    assert f"This payment already has receipt {receipt.label}." in again.get_data(as_text=True)
    assert written(app_ctx) == before

    listing = client.get(f"/donations/receipts?year={receipt.year}").get_data(as_text=True)
    assert receipt.label in listing and "幸福食堂" in listing
    assert f'href="/enterprises/reports/{setup.gift_report}">Enterprise report</a>' in listing
    assert f'href="/donations/{donation_receipt.donation_id}">Donation</a>' in listing
    single = client.get(f"/enterprises/receipts/{receipt.id}.pdf")
    assert single.status_code == 200 and single.mimetype == "application/pdf" and single.data.startswith(b"%PDF")
    year = client.get(f"/donations/receipts/year/{receipt.year}.pdf")
    assert year.status_code == 200 and year.mimetype == "application/pdf"


def test_the_receipts_page_lists_gift_payments_lacking_a_receipt_and_the_batch_issues_them(client, login, app_ctx,
                                                                                            setup):
    login("finance")
    listing = client.get("/donations/receipts?year=2025").get_data(as_text=True)
    assert "Enterprise gifts without a receipt" in listing and "幸福食堂" in listing
    assert "邻里洗衣" not in listing  # a return on a shareholding is not a gift
    assert f'href="/enterprises/reports/{setup.gift_report}"' in listing
    assert "Issue the 1 missing receipts of 2025" in listing
    assert client.post("/donations/receipts/issue-year", data={"year": "2025"}).status_code == 302
    assert len(valid_receipts(app_ctx, setup.gift_payment)) == 1
    assert valid_receipts(app_ctx, setup.share_payment) == []
    listing = client.get("/donations/receipts?year=2025").get_data(as_text=True)
    assert "Enterprise gifts without a receipt" not in listing and "missing receipts" not in listing


def test_money_that_is_not_a_gift_gets_no_receipt(client, login, app_ctx, setup):
    login("finance")
    page = client.get(f"/enterprises/reports/{setup.share_report}").get_data(as_text=True)
    assert "No donation receipt: this money is not a gift." in page and "Issue receipt" not in page
    pay_page = client.get(f"/enterprises/reports/{setup.share_report}/pay").get_data(as_text=True)
    assert "not a gift" in pay_page and "TODO" not in pay_page
    before = written(app_ctx)
    refused = client.post(f"/enterprises/payments/{setup.share_payment}/receipt", follow_redirects=True)
    assert "No donation receipt: this money is not a gift." in refused.get_data(as_text=True)
    assert written(app_ctx) == before


@pytest.mark.parametrize("role", ["enterprise", "board", "admin", "donor"])
def test_only_finance_issues_a_receipt(client, login, app_ctx, setup, role):
    user_id = login(role)
    if role == "enterprise":
        link(app_ctx, user_id, setup.canteen)
        page = client.get(f"/enterprises/reports/{setup.gift_report}").get_data(as_text=True)
        assert "5,000.00" in page and "Issue receipt" not in page and "/receipt\"" not in page
    before = written(app_ctx)
    assert client.post(f"/enterprises/payments/{setup.gift_payment}/receipt").status_code == 403
    assert written(app_ctx) == before


def test_anonymous_visitors_are_sent_to_sign_in(client, app_ctx, setup):
    before = written(app_ctx)
    response = client.post(f"/enterprises/payments/{setup.gift_payment}/receipt")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]
    assert written(app_ctx) == before


def test_the_issue_button_needs_its_csrf_token(client, login, app_ctx, setup, monkeypatch, app):
    login("finance")
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    before = written(app_ctx)
    assert client.post(f"/enterprises/payments/{setup.gift_payment}/receipt").status_code == 400
    assert written(app_ctx) == before
    page = client.get(f"/enterprises/reports/{setup.gift_report}").get_data(as_text=True)
    form = page[page.index(f'action="/enterprises/payments/{setup.gift_payment}/receipt"'):]
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form).group(1)
    response = client.post(f"/enterprises/payments/{setup.gift_payment}/receipt", data={"csrf_token": token})
    assert response.status_code == 302 and len(valid_receipts(app_ctx, setup.gift_payment)) == 1


def test_the_pdf_goes_to_finance_and_the_enterprises_own_users_only(client, login, app_ctx, setup):
    receipt_id = issued(app_ctx, setup)
    link(app_ctx, login("enterprise"), setup.canteen)
    report = client.get(f"/enterprises/reports/{setup.gift_report}").get_data(as_text=True)
    assert f'href="/enterprises/receipts/{receipt_id}.pdf"' in report and "/void" not in report
    own = client.get(f"/enterprises/receipts/{receipt_id}.pdf")
    assert own.status_code == 200 and own.data.startswith(b"%PDF")
    assert own.headers["Cache-Control"] == "private, no-store"
    assert client.get(f"/donations/receipts/{receipt_id}.pdf").status_code == 403
    assert client.get(f"/enterprises/receipts/{setup.donation_receipt}.pdf").status_code == 404  # a donor's
    assert client.get("/enterprises/receipts/999999.pdf").status_code == 404
    client.post("/auth/logout")

    link(app_ctx, login("enterprise"), setup.laundry)
    assert client.get(f"/enterprises/receipts/{receipt_id}.pdf").status_code == 403
    client.post("/auth/logout")

    login("board")
    report = client.get(f"/enterprises/reports/{setup.gift_report}").get_data(as_text=True)
    assert "-000" in report and f'/enterprises/receipts/{receipt_id}.pdf' not in report  # the number, no file
    assert client.get(f"/enterprises/receipts/{receipt_id}.pdf").status_code == 403


def test_void_and_reissue_lead_back_to_the_report(client, login, app_ctx, setup):
    receipt_id = issued(app_ctx, setup)
    login("finance")
    page = client.get(f"/donations/receipts/{receipt_id}/void").get_data(as_text=True)
    assert f'<a href="/enterprises/reports/{setup.gift_report}">Cancel</a>' in page
    assert "Issue a new receipt for the same payment" in page and "data-confirm" in page
    response = client.post(f"/donations/receipts/{receipt_id}/void", data={"reason": "企业名称有误", "reissue": "y"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/enterprises/reports/{setup.gift_report}")
    [new] = valid_receipts(app_ctx, setup.gift_payment)
    assert new.id != receipt_id
    with app_ctx() as s:
        old = s.get(Receipt, receipt_id)
        assert old.is_void and old.void_reason == "企业名称有误" and new.number == old.number + 1

    response = client.post(f"/donations/receipts/{new.id}/void", data={"reason": "重复开具"})
    assert response.headers["Location"].endswith(f"/enterprises/reports/{setup.gift_report}")
    assert valid_receipts(app_ctx, setup.gift_payment) == []
    page = client.get(f"/enterprises/reports/{setup.gift_report}").get_data(as_text=True)
    assert page.count(">Void</span>") == 2 and "Issue receipt" in page


def test_reversing_a_receipted_payment_is_refused_until_the_receipt_is_void(client, login, app_ctx, setup):
    receipt_id = issued(app_ctx, setup)
    login("finance")
    form = {"reason": "银行退回", "effective_date": local_today().isoformat()}
    before = written(app_ctx)
    refused = client.post(f"/enterprises/payments/{setup.gift_payment}/reverse", data=form)
    assert refused.status_code == 200 and "void the receipt first" in refused.get_data(as_text=True)
    assert written(app_ctx) == before
    client.post(f"/donations/receipts/{receipt_id}/void", data={"reason": "款项退回"})
    assert client.post(f"/enterprises/payments/{setup.gift_payment}/reverse", data=form).status_code == 302
    with app_ctx() as s:
        assert s.get(EnterprisePayment, setup.gift_payment).is_reversed
    page = client.get(f"/enterprises/reports/{setup.gift_report}").get_data(as_text=True)
    assert "Issue receipt" not in page  # a reversed payment gets none
