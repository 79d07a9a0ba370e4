"""Corrections: a wrong gift is reversed (never edited), its receipt voided with the reason, a new one recorded."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import sqlalchemy as sa

from fundapp.audit.models import AuditEvent
from fundapp.donations.errors import DonationError
from fundapp.donations.pledges import reverse_pledge
from fundapp.donations.services import DonationInput, correct_donation, reverse_donation
from fundapp.ledger.invariants import verify_ledger
from fundapp.ledger.queries import fund_net_assets
from tests.factories import make_fund
from tests.unit.donations.factories import DAY, gift, lines_of, make_donor, pay, pledge

D = Decimal


def test_reversal_mirrors_the_entry_and_voids_the_receipt(session):
    fund = make_fund(session, "GEN")
    donation = gift(session, fund, "700.00", donor=make_donor(session), issue=True)
    receipt = donation.active_receipt
    reverse_donation(session, donation, "wrong amount", None, on=dt.date(2026, 4, 1))
    assert donation.status == "reversed" and donation.reversal_reason == "wrong amount"
    assert lines_of(donation.reversal_entry) == [("1002", "GEN", "unrestricted", D("-700.00")),
                                                 ("4101", "GEN", "unrestricted", D("700.00"))]
    assert donation.reversal_entry.reverses_id == donation.entry_id
    assert receipt.is_void and receipt.void_reason == "wrong amount" and receipt.number == 1
    assert fund.id not in fund_net_assets(session, dt.date(2026, 4, 1))
    with pytest.raises(DonationError, match="already reversed"):
        reverse_donation(session, donation, "again", None)
    assert verify_ledger(session) == []


def test_reversal_needs_a_reason_and_a_date_not_before_the_gift(session):
    donation = gift(session, make_fund(session), "10.00")
    with pytest.raises(DonationError, match="why"):
        reverse_donation(session, donation, " ", None)
    with pytest.raises(DonationError, match="before the gift"):
        reverse_donation(session, donation, "typo", None, on=DAY - dt.timedelta(days=1))
    assert donation.status == "recorded"


def test_correction_reverses_voids_and_records_the_right_gift_with_a_new_receipt(session):
    fund, other = make_fund(session, "GEN"), make_fund(session, "EDU")
    donor = make_donor(session, "李雷")
    wrong = gift(session, fund, "1000.00", donor=donor, issue=True)
    data = DonationInput(fund=other, received_on=DAY, amount=D("100.00"), method="cash", donor=donor)
    right = correct_donation(session, wrong, "typed 1000 for 100", data, None)
    assert wrong.status == "reversed" and wrong.receipts[0].is_void
    assert right.corrects_id == wrong.id and right.status == "recorded"
    assert lines_of(right.entry) == [("1001", "EDU", "unrestricted", D("100.00")),
                                     ("4101", "EDU", "unrestricted", D("-100.00"))]
    assert (right.active_receipt.number, right.active_receipt.amount) == (2, D("100.00"))
    assert correct_donation(session, wrong, "double click", data, None).id == right.id
    tags = set(session.scalars(sa.select(AuditEvent.tag)))
    assert {"donations:donation:reversed", "donations:receipt:voided", "donations:receipt:issued"} <= tags
    assert verify_ledger(session) == []


def test_reversing_a_pledge_payment_reopens_the_pledge(session):
    promised = pledge(session, make_fund(session), "500.00", make_donor(session))
    payment = pay(session, promised, "500.00", issue=True)
    assert promised.status == "fulfilled"
    reverse_donation(session, payment, "bounced", None)
    assert (promised.status, promised.outstanding) == ("open", D("500.00"))
    assert payment.receipts[0].is_void
    with pytest.raises(DonationError, match="reversing it"):
        correct_donation(session, payment, "x", DonationInput(fund=promised.fund, received_on=DAY,
                                                               amount=D("1.00"), method="cash"), None)


def test_pledge_reversal_needs_its_payments_reversed_first(session):
    promised = pledge(session, make_fund(session, "GEN"), "500.00", make_donor(session))
    payment = pay(session, promised, "100.00")
    with pytest.raises(DonationError, match="payments"):
        reverse_pledge(session, promised, "withdrawn", None)
    reverse_donation(session, payment, "withdrawn", None)
    reverse_pledge(session, promised, "withdrawn", None)
    assert promised.status == "reversed" and promised.outstanding == D("0.00")
    assert lines_of(promised.reversal_entry) == [("1122", "GEN", "unrestricted", D("-500.00")),
                                                 ("4101", "GEN", "unrestricted", D("500.00"))]
    with pytest.raises(DonationError, match="reversed"):
        pay(session, promised, "1.00")


def _refused(session, sql: str, **params) -> None:
    with pytest.raises(sa.exc.DatabaseError):
        with session.begin_nested():
            session.execute(sa.text(sql), params)


def test_database_refuses_editing_a_donation_in_place(session):
    donation = gift(session, make_fund(session), "10.00", donor=make_donor(session))
    other = make_donor(session)
    donation_id = donation.id
    session.expunge_all()
    _refused(session, "UPDATE donations SET amount = amount + 1 WHERE id = :id", id=donation_id)
    _refused(session, "UPDATE donations SET received_on = '2020-01-01' WHERE id = :id", id=donation_id)
    _refused(session, "UPDATE donations SET purpose = 'edited' WHERE id = :id", id=donation_id)
    _refused(session, "DELETE FROM donations WHERE id = :id", id=donation_id)
    with session.begin_nested():  # a merge moves the gift to another donor
        session.execute(sa.text("UPDATE donations SET donor_id = :d WHERE id = :id"),
                        {"d": other.id, "id": donation_id})


def test_database_refuses_changing_a_pledge_amount(session):
    promised = pledge(session, make_fund(session), "500.00", make_donor(session))
    pledge_id = promised.id
    session.expunge_all()
    _refused(session, "UPDATE pledges SET amount = 1 WHERE id = :id", id=pledge_id)
    # CHECK paid_amount <= amount
    _refused(session, "UPDATE pledges SET paid_amount = amount + amount WHERE id = :id", id=pledge_id)
    _refused(session, "DELETE FROM pledges WHERE id = :id", id=pledge_id)
