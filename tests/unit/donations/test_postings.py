"""Each kind of gift posts exactly one balanced entry with the right accounts, fund, class and amounts."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from fundapp.dates import local_today
from fundapp.donations.errors import DonationError
from fundapp.donations.models import Donation, Pledge
from fundapp.donations.pledges import PaymentInput, record_pledge_payment
from fundapp.donations.services import DonationInput, record_donation
from fundapp.ledger.invariants import verify_ledger
from fundapp.ledger.models import JournalEntry
from tests.factories import make_fund
from tests.unit.donations.factories import DAY, gift, in_kind, lines_of, make_donor, pay, pledge

D = Decimal
U, R = "unrestricted", "restricted"


def counts(session):
    return tuple(session.scalar(select(func.count()).select_from(model)) for model in (JournalEntry, Donation, Pledge))


@pytest.mark.parametrize("method, account", [("cash", "1001"), ("bank_transfer", "1002"), ("online", "1009")])
def test_money_gift_debits_its_account_and_credits_donation_income(session, method, account):
    fund = make_fund(session, "GEN")
    donation = gift(session, fund, "1234.56", method=method, donor=make_donor(session))
    assert lines_of(donation.entry) == [(account, "GEN", U, D("1234.56")), ("4101", "GEN", U, D("-1234.56"))]
    assert donation.entry.source_type == "donation"
    assert donation.entry.idempotency_key == f"donation:{donation.key}"
    assert donation.entry.effective_date == DAY
    assert verify_ledger(session) == []


def test_in_kind_gift_goes_to_inventory_at_its_valuation(session):
    fund = make_fund(session, "GEN")
    donation = in_kind(session, fund, "8000.00", donor=make_donor(session), valuation_basis="customs")
    assert lines_of(donation.entry) == [("1201", "GEN", U, D("8000.00")), ("4101", "GEN", U, D("-8000.00"))]
    assert (donation.item_description, donation.quantity, donation.unit, donation.valuation_basis) == (
        "大米", "200", "袋", "customs")


def test_gift_to_restricted_fund_is_restricted_by_default(session):
    fund = make_fund(session, "LIB", restricted=True, fund_type="project")
    donation = gift(session, fund, "500.00")
    assert donation.net_asset_class == R and donation.donor is None
    assert lines_of(donation.entry) == [("1002", "LIB", R, D("500.00")), ("4101", "LIB", R, D("-500.00"))]


def test_restricted_gift_to_unrestricted_fund_needs_a_purpose(session):
    fund = make_fund(session, "GEN")
    before = counts(session)
    with pytest.raises(DonationError, match="purpose"):
        gift(session, fund, "300.00", restricted=True)
    assert counts(session) == before
    donation = gift(session, fund, "300.00", restricted=True, purpose="社区图书室购书")
    assert lines_of(donation.entry) == [("1002", "GEN", R, D("300.00")), ("4101", "GEN", R, D("-300.00"))]


def test_unrestricted_gift_to_restricted_fund_is_refused(session):
    fund = make_fund(session, "LIB", restricted=True, fund_type="project")
    before = counts(session)
    with pytest.raises(DonationError, match="restricted"):
        gift(session, fund, "300.00", restricted=False)
    assert counts(session) == before


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"amount": D("0.00")}, "positive"),
        ({"amount": D("-5.00")}, "positive"),
        ({"amount": D("1.001")}, "two decimal"),
        ({"received_on": local_today() + dt.timedelta(days=1)}, "future"),
        ({"method": "cheque"}, "how the gift"),
        ({"method": "in_kind"}, "Describe"),
        ({"method": "in_kind", "item_description": "书", "quantity": "-1", "valuation_basis": "invoice"}, "quantity"),
        ({"method": "in_kind", "item_description": "书", "quantity": "3", "valuation_basis": "guess"}, "valued"),
        ({"key": ""}, "submission key"),
    ],
)
def test_bad_gifts_are_refused_and_write_nothing(session, changes, message):
    fund = make_fund(session)
    before = counts(session)
    values = {"fund": fund, "received_on": DAY, "amount": D("10.00"), "method": "cash"} | changes
    with pytest.raises(DonationError, match=message):
        record_donation(session, DonationInput(**values), None)
    assert counts(session) == before


def test_closed_fund_and_merged_donor_are_refused(session):
    from fundapp.donations.donors import merge_donors
    from fundapp.funds.services import update_fund

    fund, closed = make_fund(session), make_fund(session)
    update_fund(session, closed, {"status": "closed"}, None)
    with pytest.raises(DonationError, match="active fund"):
        gift(session, closed, "10.00")
    survivor, duplicate = make_donor(session), make_donor(session)
    merge_donors(session, survivor, duplicate, None)
    with pytest.raises(DonationError, match="merged"):
        gift(session, fund, "10.00", donor=duplicate)


def test_same_key_records_once_and_a_changed_resubmit_is_refused(session):
    fund = make_fund(session)
    first = gift(session, fund, "88.00", key="9b1deb4d-3b7d-4bad-9bdd-2b0d7b3dcb6d")
    again = gift(session, fund, "88.00", key="9b1deb4d-3b7d-4bad-9bdd-2b0d7b3dcb6d")
    assert again.id == first.id
    assert counts(session)[:2] == (1, 1)
    with pytest.raises(DonationError, match="different content"):
        gift(session, fund, "89.00", key="9b1deb4d-3b7d-4bad-9bdd-2b0d7b3dcb6d")
    assert counts(session)[:2] == (1, 1)


def test_pledge_is_a_receivable_against_donation_income(session):
    fund = make_fund(session, "ELDER", restricted=True, fund_type="named")
    promised = pledge(session, fund, "10000.00", make_donor(session), due_on=dt.date(2026, 6, 30))
    assert lines_of(promised.entry) == [("1122", "ELDER", R, D("10000.00")), ("4101", "ELDER", R, D("-10000.00"))]
    assert promised.entry.idempotency_key == f"pledge:{promised.key}"
    assert (promised.status, promised.outstanding) == ("open", D("10000.00"))


def test_pledge_payments_settle_the_receivable_partly_then_fully(session):
    fund = make_fund(session, "GEN")
    promised = pledge(session, fund, "1000.00", make_donor(session))
    first = pay(session, promised, "400.00", method="online")
    assert lines_of(first.entry) == [("1009", "GEN", U, D("400.00")), ("1122", "GEN", U, D("-400.00"))]
    assert first.entry.idempotency_key == f"pledge-payment:{first.key}"
    assert first.entry.source_type == "pledge-payment"
    assert (promised.status, promised.outstanding) == ("open", D("600.00"))
    second = pay(session, promised, "600.00", method="cash", on=dt.date(2026, 4, 1))
    assert lines_of(second.entry) == [("1001", "GEN", U, D("600.00")), ("1122", "GEN", U, D("-600.00"))]
    assert (promised.status, promised.outstanding, promised.paid_amount) == ("fulfilled", D("0.00"), D("1000.00"))
    assert first.donor_id == second.donor_id == promised.donor_id
    assert verify_ledger(session) == []


def test_overpaying_a_pledge_is_refused_and_writes_nothing(session):
    fund = make_fund(session)
    promised = pledge(session, fund, "1000.00", make_donor(session))
    pay(session, promised, "999.00")
    before = counts(session)
    with pytest.raises(DonationError, match="outstanding"):
        pay(session, promised, "1.01")
    assert counts(session) == before
    assert promised.outstanding == D("1.00")


@pytest.mark.parametrize(
    "changes, message",
    [({"method": "in_kind"}, "cash, by bank transfer or online"), ({"received_on": dt.date(2026, 3, 1)}, "before")],
)
def test_bad_pledge_payments_are_refused(session, changes, message):
    promised = pledge(session, make_fund(session), "100.00", make_donor(session))
    values = {"pledge": promised, "received_on": DAY, "amount": D("10.00"), "method": "cash"} | changes
    with pytest.raises(DonationError, match=message):
        record_pledge_payment(session, PaymentInput(**values), None)


def test_pledge_payment_key_records_once(session):
    promised = pledge(session, make_fund(session), "100.00", make_donor(session))
    key = "0f8fad5b-d9cb-469f-a165-70867728950e"
    first = pay(session, promised, "30.00", key=key)
    again = pay(session, promised, "30.00", key=key)
    assert again.id == first.id and promised.paid_amount == D("30.00")


def test_gift_in_a_closed_month_is_refused_and_writes_nothing(session):
    from fundapp.ledger.periods import close_period
    from fundapp.ledger.services import PeriodClosed

    fund = make_fund(session)
    close_period(session, 2026, 1, None)
    before = counts(session)
    with pytest.raises(PeriodClosed):
        gift(session, fund, "10.00", on=dt.date(2026, 1, 20))
    assert counts(session) == before
