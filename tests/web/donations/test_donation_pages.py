"""Recording, reversing and correcting donations through the pages: bad input writes nothing; roles are enforced."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import select

from fundapp.dates import local_today
from fundapp.donations.models import Donation
from tests.web.donations.conftest import counts, donation_form, hidden_key

D = Decimal


def _lines(donation) -> list[tuple[str, str, str, Decimal]]:
    return [(x.account.code, x.fund.code, x.net_asset_class, x.amount) for x in donation.entry.lines]


def test_finance_records_a_named_gift_with_its_receipt(client, login, app_ctx, setup):
    user_id = login("finance")
    page = client.get(f"/donations/new?donor={setup.zhang}").get_data(as_text=True)
    key = hidden_key(page)
    assert f'value="{setup.zhang}"' in page and "GEN 综合基金" in page
    response = client.post("/donations/new", data=donation_form(key, setup.gen, donor=setup.zhang,
                                                                 amount="1,234.50", purpose="助学"))
    assert response.status_code == 302
    with app_ctx() as s:
        donation = s.scalar(select(Donation).where(Donation.key == key))
        assert (donation.donor_id, donation.amount, donation.created_by_id) == (setup.zhang, D("1234.50"), user_id)
        assert _lines(donation) == [("1002", "GEN", "unrestricted", D("1234.50")),
                                    ("4101", "GEN", "unrestricted", D("-1234.50"))]
        assert donation.active_receipt.payer_name == "张三丰"
        assert response.headers["Location"].endswith(f"/donations/{donation.id}")
    detail = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Donation recorded." in detail and "1,234.50" in detail and "助学" in detail
    assert donation.active_receipt.label in detail


def test_in_kind_gift_by_id_code_into_restricted_fund(client, login, app_ctx, setup):
    login("finance")
    key = hidden_key(client.get("/donations/new").get_data(as_text=True))
    data = donation_form(key, setup.prj, donor="91350100m000100y43", method="in_kind", amount="8000", unit="册",
                         item_description="图书", quantity="400", valuation_basis="invoice", issue_receipt="")
    assert client.post("/donations/new", data=data).status_code == 302
    with app_ctx() as s:
        donation = s.scalar(select(Donation).where(Donation.key == key))
        assert donation.donor_id == setup.acme and donation.receipts == []
        assert _lines(donation) == [("1201", "PRJ", "restricted", D("8000.00")),
                                    ("4101", "PRJ", "restricted", D("-8000.00"))]


def test_double_submit_records_once(client, login, app_ctx, setup):
    login("finance")
    key = hidden_key(client.get("/donations/new").get_data(as_text=True))
    data = donation_form(key, setup.gen, donor=setup.zhang)
    first = client.post("/donations/new", data=data)
    before = counts(app_ctx)
    second = client.post("/donations/new", data=data)
    assert second.status_code == 302 and second.headers["Location"] == first.headers["Location"]
    assert counts(app_ctx) == before
    assert "already recorded" in client.get(second.headers["Location"]).get_data(as_text=True)


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"amount": "abc"}, "Enter a number such as 1234.56."),
        ({"amount": "0"}, "The amount cannot be zero."),
        ({"amount": "12.345"}, "at most two decimal places"),
        ({"received_on": "2026-13-01"}, "Enter a date as YYYY-MM-DD."),
        ({"received_on": (local_today() + dt.timedelta(days=1)).isoformat()}, "cannot be dated in the future"),
        ({"fund": ""}, "Choose a fund."),
        ({"donor": "李四不存在"}, "No donor matches"),
        ({"donor": "#99999"}, "There is no donor number 99999."),
        ({"restriction": "unrestricted", "fund": "PRJ"}, "is restricted, so gifts to it are restricted"),
        ({"method": "in_kind"}, "Describe the goods given in kind."),
        ({"key": "not-a-uuid"}, "The form expired"),
    ],
)
def test_bad_input_shows_a_clear_error_and_writes_nothing(client, login, app_ctx, setup, changes, message):
    login("finance")
    key = hidden_key(client.get("/donations/new").get_data(as_text=True))
    data = donation_form(key, setup.gen) | {k: str(setup.prj if v == "PRJ" else v) for k, v in changes.items()}
    before = counts(app_ctx)
    response = client.post("/donations/new", data=data)
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert counts(app_ctx) == before


@pytest.mark.parametrize("role", ["donor", "board", "admin", "reviewer"])
def test_only_finance_records_donations(client, login, app_ctx, setup, role):
    login(role)
    assert client.get("/donations/new").status_code == 403
    before = counts(app_ctx)
    response = client.post("/donations/new", data=donation_form("9b1deb4d-3b7d-4bad-9bdd-2b0d7b3dcb6d", setup.gen))
    assert response.status_code == 403
    assert counts(app_ctx) == before
    assert client.get("/donations/").status_code == (200 if role == "admin" else 403)


def _record(client, app_ctx, setup, **values) -> int:
    key = hidden_key(client.get("/donations/new").get_data(as_text=True))
    assert client.post("/donations/new", data=donation_form(key, setup.gen, **values)).status_code == 302
    with app_ctx() as s:
        return s.scalar(select(Donation.id).where(Donation.key == key))


def test_reverse_page_reverses_and_voids_the_receipt(client, login, app_ctx, setup):
    login("finance")
    donation_id = _record(client, app_ctx, setup, donor=setup.zhang)
    page = client.get(f"/donations/{donation_id}/reverse").get_data(as_text=True)
    assert "data-confirm" in page and "Confirm the reversal" in page
    before = counts(app_ctx)
    assert "Say why it is reversed." in client.post(f"/donations/{donation_id}/reverse",
                                                    data={"reason": "", "effective_date": "2026-04-01"}).get_data(True)
    assert counts(app_ctx) == before
    response = client.post(f"/donations/{donation_id}/reverse", data={"reason": "退款", "effective_date": "2026-04-01"})
    assert response.status_code == 302
    with app_ctx() as s:
        donation = s.get(Donation, donation_id)
        assert donation.status == "reversed" and donation.reversal_entry.effective_date == dt.date(2026, 4, 1)
        assert donation.receipts[0].is_void and donation.receipts[0].void_reason == "退款"
    detail = client.get(f"/donations/{donation_id}").get_data(as_text=True)
    assert "Reversed: 退款" in detail and ">Void</span>" in detail


def test_correct_page_reverses_and_records_the_right_gift(client, login, app_ctx, setup):
    login("finance")
    wrong_id = _record(client, app_ctx, setup, donor=setup.zhang, amount="1000")
    page = client.get(f"/donations/{wrong_id}/correct").get_data(as_text=True)
    key = hidden_key(page)
    assert 'value="1000.00"' in page
    data = donation_form(key, setup.gen, donor=setup.zhang, amount="100", reason="多输了一个零")
    response = client.post(f"/donations/{wrong_id}/correct", data=data)
    assert response.status_code == 302
    with app_ctx() as s:
        wrong, right = s.get(Donation, wrong_id), s.scalar(select(Donation).where(Donation.key == key))
        assert wrong.status == "reversed" and wrong.receipts[0].is_void
        assert right.corrects_id == wrong_id and right.amount == D("100.00")
        assert right.active_receipt.number == wrong.receipts[0].number + 1
    assert "The wrong donation was reversed" in client.get(response.headers["Location"]).get_data(as_text=True)


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_list_without_filters_shows_no_filter_errors(client, login, setup, lang):
    login("finance")
    html = client.get("/donations/", headers={"Accept-Language": lang}).get_data(as_text=True)
    assert 'class="error"' not in html  # a plain visit is not a bad filter


def test_a_donations_entry_is_not_reversed_in_the_ledger_alone(client, login, app_ctx, setup):
    """The gift keeps its status and receipt: reversing only its entry would leave the two disagreeing."""
    login("finance")
    key = hidden_key(client.get("/donations/new").get_data(as_text=True))
    assert client.post("/donations/new", data=donation_form(key, setup.gen, donor=setup.zhang)).status_code == 302
    with app_ctx() as s:
        entry_id = s.scalar(select(Donation.entry_id).where(Donation.key == key))
    assert f"/ledger/entries/{entry_id}/reverse" not in client.get(f"/ledger/entries/{entry_id}").get_data(as_text=True)
    page = client.get(f"/ledger/entries/{entry_id}/reverse").get_data(as_text=True)
    assert "on the donation&#39;s page" in page or "on the donation's page" in page
    before = counts(app_ctx)
    refused = client.post(f"/ledger/entries/{entry_id}/reverse", data={"reason": "oops", "effective_date": "2026-03-16"})
    assert refused.status_code == 200 and "keeps its own records" in refused.get_data(as_text=True)
    assert counts(app_ctx) == before
