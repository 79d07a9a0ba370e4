"""Pledges and receipts through the pages: payments never beyond what is outstanding, ageing, void, batch, PDFs."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import select

from fundapp.dates import local_today
from fundapp.donations.models import Donation, Donor, Pledge, Receipt
from fundapp.ledger.models import Fund
from tests.unit.donations.factories import gift
from tests.web.donations.conftest import counts, hidden_key

D = Decimal


def _pledge(client, app_ctx, setup, amount: str = "1000") -> int:
    key = hidden_key(client.get("/donations/pledges/new").get_data(as_text=True))
    data = {"key": key, "donor": "张三丰", "pledged_on": "2026-01-10", "due_on": "2026-02-10", "amount": amount,
            "fund": str(setup.prj), "restriction": "", "purpose": "图书"}
    assert client.post("/donations/pledges/new", data=data).status_code == 302
    with app_ctx() as s:
        return s.scalar(select(Pledge.id).where(Pledge.key == key))


def _pay(client, pledge_id: int, amount: str, **values):
    key = hidden_key(client.get(f"/donations/pledges/{pledge_id}/pay").get_data(as_text=True))
    data = {"key": key, "received_on": "2026-03-01", "amount": amount, "method": "bank_transfer", "reference": "",
            "issue_receipt": "y"} | values
    return client.post(f"/donations/pledges/{pledge_id}/pay", data=data)


def test_pledge_partial_payment_then_overpayment_refused(client, login, app_ctx, setup):
    login("finance")
    pledge_id = _pledge(client, app_ctx, setup)
    assert _pay(client, pledge_id, "400").status_code == 302
    before = counts(app_ctx)
    refused = _pay(client, pledge_id, "600.01")
    assert refused.status_code == 200 and "more than the 600.00 still outstanding" in refused.get_data(as_text=True)
    assert counts(app_ctx) == before
    with app_ctx() as s:
        pledge = s.get(Pledge, pledge_id)
        assert (pledge.paid_amount, pledge.status, pledge.donor_id) == (D("400.00"), "open", setup.zhang)
        payment = s.scalar(select(Donation).where(Donation.pledge_id == pledge_id))
        assert payment.active_receipt.amount == D("400.00")
    page = client.get("/donations/pledges").get_data(as_text=True)
    assert "600.00" in page and "张三丰" in page
    assert _pay(client, pledge_id, "600").status_code == 302
    assert "No pledges are outstanding." in client.get("/donations/pledges").get_data(as_text=True)
    assert "This pledge takes no more payments." in client.get(f"/donations/pledges/{pledge_id}/pay").get_data(True)


def test_pledge_form_needs_a_known_donor(client, login, app_ctx, setup):
    login("finance")
    key = hidden_key(client.get("/donations/pledges/new").get_data(as_text=True))
    before = counts(app_ctx)
    response = client.post("/donations/pledges/new", data={"key": key, "donor": "", "pledged_on": "2026-01-10",
                                                            "amount": "10", "fund": str(setup.gen)})
    assert response.status_code == 200 and "A pledge needs a donor." in response.get_data(as_text=True)
    assert counts(app_ctx) == before


def test_void_and_reissue_then_batch_issue_the_missing_receipts(client, login, app_ctx, setup):
    year = local_today().year
    with app_ctx() as s:
        fund, donor = s.get(Fund, setup.gen), s.get(Donor, setup.zhang)
        receipted = gift(s, fund, "10.00", donor=donor, on=dt.date(year, 1, 2), issue=True)
        missing = [gift(s, fund, "20.00", donor=donor, on=dt.date(year, 1, 3)) for _ in range(2)]
        s.commit()
        receipt_id, missing_ids = receipted.active_receipt.id, [d.id for d in missing]
    login("finance")
    page = client.get(f"/donations/receipts/{receipt_id}/void").get_data(as_text=True)
    assert "data-confirm" in page
    assert client.post(f"/donations/receipts/{receipt_id}/void", data={"reason": "名字写错", "reissue": "y"}
                       ).status_code == 302
    listing = client.get(f"/donations/receipts?year={year}").get_data(as_text=True)
    assert "Issue the 2 missing receipts" in listing
    assert client.post("/donations/receipts/issue-year", data={"year": str(year)}).status_code == 302
    with app_ctx() as s:
        numbers = [(r.number, r.is_void) for r in s.scalars(select(Receipt).where(Receipt.year == year)
                                                             .order_by(Receipt.number))]
        assert numbers == [(1, True), (2, False), (3, False), (4, False)]
        assert {r.donation_id for r in s.scalars(select(Receipt).where(Receipt.number > 2))} == set(missing_ids)
    listing = client.get(f"/donations/receipts?year={year}").get_data(as_text=True)
    assert ">Void</span>" in listing and "missing receipts" not in listing


def test_receipt_pdfs_download_for_readers_only(client, login, app_ctx, setup):
    with app_ctx() as s:
        donation = gift(s, s.get(Fund, setup.gen), "12.00", donor=s.get(Donor, setup.zhang), issue=True)
        s.commit()
        receipt_id, year = donation.active_receipt.id, donation.active_receipt.year
    login("donor")
    assert client.get(f"/donations/receipts/{receipt_id}.pdf").status_code == 403
    client.post("/auth/logout")
    login("admin")
    single = client.get(f"/donations/receipts/{receipt_id}.pdf")
    assert single.status_code == 200 and single.mimetype == "application/pdf" and single.data.startswith(b"%PDF")
    batch = client.get(f"/donations/receipts/year/{year}.pdf")
    assert batch.mimetype == "application/pdf" and "attachment" in batch.headers["Content-Disposition"]
    empty = client.get("/donations/receipts/year/1999.pdf")
    assert empty.status_code == 302


def test_finance_issues_one_receipt_from_the_donation_page(client, login, app_ctx, setup):
    with app_ctx() as s:
        named = gift(s, s.get(Fund, setup.gen), "5.00", donor=s.get(Donor, setup.acme))
        anonymous = gift(s, s.get(Fund, setup.gen), "5.00")
        s.commit()
        named_id, anonymous_id = named.id, anonymous.id
    login("finance")
    assert "Issue the official receipt" in client.get(f"/donations/{named_id}").get_data(as_text=True)
    assert client.post(f"/donations/{named_id}/receipt").status_code == 302
    before = counts(app_ctx)
    refused = client.post(f"/donations/{anonymous_id}/receipt", follow_redirects=True)
    assert "An anonymous gift has no payer to name on a receipt." in refused.get_data(as_text=True)
    assert counts(app_ctx) == before
    with app_ctx() as s:
        assert s.get(Donation, named_id).active_receipt.payer_name == "上海某某科技有限公司"
