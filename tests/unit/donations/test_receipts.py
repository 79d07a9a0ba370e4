"""Receipts: numbered per year without gaps, issued only where a gift was received, voided keeping the number."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import sqlalchemy as sa

from fundapp.dates import local_today
from fundapp.donations.errors import DonationError
from fundapp.donations.queries import receipts_of_year
from fundapp.donations.receipts import (
    check_code_valid,
    issue_missing_receipts,
    issue_receipt,
    reissue_receipt,
    void_receipt,
)
from fundapp.donations.services import reverse_donation
from tests.factories import make_fund
from tests.unit.donations.factories import gift, in_kind, make_donor, pay, pledge

Y25, Y26 = dt.date(2025, 12, 31), dt.date(2026, 1, 2)


def test_numbers_run_per_year_without_gaps(session):
    fund, donor = make_fund(session), make_donor(session, "王芳")
    gifts = [gift(session, fund, f"{n}00.00", donor=donor, on=dt.date(2025, 12, 1)) for n in range(1, 6)]
    issued = [issue_receipt(session, g, None, issued_on=Y25 if n < 2 else Y26) for n, g in enumerate(gifts)]
    assert [(r.year, r.number) for r in issued] == [(2025, 1), (2025, 2), (2026, 1), (2026, 2), (2026, 3)]
    assert [r.label for r in receipts_of_year(session, 2026)] == ["2026-000001", "2026-000002", "2026-000003"]


def test_receipt_keeps_the_printed_values(session):
    fund = make_fund(session, "LIB", name="社区图书馆基金", restricted=True, fund_type="project")
    donor = make_donor(session, "张三丰", id_code="11010519491231002X")
    donation = gift(session, fund, "12345.67", donor=donor, purpose="购书", issue=True)
    receipt = donation.active_receipt
    assert (receipt.payer_name, receipt.payer_id_code, receipt.amount) == ("张三丰", "11010519491231002X",
                                                                           Decimal("12345.67"))
    assert receipt.item == "社区图书馆基金：购书" and receipt.donation_date == donation.received_on
    assert len(receipt.check_code) == 8 and check_code_valid(receipt)
    session.expunge(receipt)
    receipt.payer_name = "李四"  # a tampered copy no longer matches its check code
    assert not check_code_valid(receipt)


def test_in_kind_receipt_names_goods_and_valuation_basis(session):
    donation = in_kind(session, make_fund(session), "5000.00", donor=make_donor(session), valuation_basis="fair_value")
    receipt = issue_receipt(session, donation, None)
    assert receipt.in_kind_details == "大米 × 200袋（估值依据：公允价值）"


def test_no_receipt_for_anonymous_reversed_or_already_receipted_gifts(session):
    fund = make_fund(session)
    with pytest.raises(DonationError, match="anonymous"):
        issue_receipt(session, gift(session, fund, "10.00"), None)
    donation = gift(session, fund, "10.00", donor=make_donor(session), issue=True)
    with pytest.raises(DonationError, match="already has receipt"):
        issue_receipt(session, donation, None)
    reverse_donation(session, donation, "bounced", None)
    with pytest.raises(DonationError, match="reversed"):
        issue_receipt(session, donation, None)


def test_pledge_gets_no_receipt_but_each_payment_does(session):
    donor = make_donor(session)
    promised = pledge(session, make_fund(session), "900.00", donor)
    first = pay(session, promised, "300.00", issue=True)
    second = pay(session, promised, "600.00", issue=True)
    assert [first.active_receipt.amount, second.active_receipt.amount] == [Decimal("300.00"), Decimal("600.00")]
    assert first.active_receipt.number + 1 == second.active_receipt.number


def test_void_keeps_the_number_and_reissue_takes_the_next(session):
    donor = make_donor(session, "赵六")
    donation = gift(session, make_fund(session), "50.00", donor=donor, issue=True)
    old = donation.active_receipt
    with pytest.raises(DonationError, match="why"):
        void_receipt(session, old, "  ", None)
    new = reissue_receipt(session, old, "name misspelt", None)
    assert old.is_void and old.void_reason == "name misspelt" and old.number == 1
    assert new.number == 2 and donation.active_receipt is new
    with pytest.raises(DonationError, match="already void"):
        void_receipt(session, old, "again", None)


def test_batch_issues_every_missing_receipt_of_the_year(session):
    fund, donor = make_fund(session), make_donor(session)
    receipted = gift(session, fund, "1.00", donor=donor, on=dt.date(2026, 1, 5), issue=True)
    missing = [gift(session, fund, "2.00", donor=donor, on=dt.date(2026, 2, 1)),
               gift(session, fund, "3.00", donor=donor, on=dt.date(2026, 1, 9))]
    gift(session, fund, "4.00", on=dt.date(2026, 1, 9))  # anonymous: no receipt
    gift(session, fund, "5.00", donor=donor, on=dt.date(2025, 6, 1))  # another year
    issued = issue_missing_receipts(session, 2026, None)
    assert [r.donation_id for r in issued] == [missing[1].id, missing[0].id]
    assert [r.number for r in issued] == [receipted.active_receipt.number + 1, receipted.active_receipt.number + 2]
    assert issue_missing_receipts(session, 2026, None) == []


def _refused(session, sql: str, **params) -> None:
    with pytest.raises(sa.exc.DatabaseError):
        with session.begin_nested():
            session.execute(sa.text(sql), params)


def test_database_refuses_changing_a_receipt_except_voiding_it_once(session):
    donation = gift(session, make_fund(session), "50.00", donor=make_donor(session), issue=True)
    receipt_id = donation.active_receipt.id
    session.expunge_all()
    _refused(session, "UPDATE receipts SET payer_name = 'x' WHERE id = :id", id=receipt_id)
    _refused(session, "UPDATE receipts SET number = 99 WHERE id = :id", id=receipt_id)
    _refused(session, "DELETE FROM receipts WHERE id = :id", id=receipt_id)
    with session.begin_nested():
        session.execute(sa.text("UPDATE receipts SET void_at = CURRENT_TIMESTAMP, void_reason = 'x' WHERE id = :id"),
                        {"id": receipt_id})
    _refused(session, "UPDATE receipts SET void_reason = 'changed' WHERE id = :id", id=receipt_id)


def test_database_refuses_skipping_or_rewinding_a_counter(session):
    gift(session, make_fund(session), "50.00", donor=make_donor(session), issue=True)
    year = local_today().year
    _refused(session, "UPDATE receipt_counters SET last_number = last_number + 2 WHERE year = :y", y=year)
    _refused(session, "UPDATE receipt_counters SET last_number = 0 WHERE year = :y", y=year)
    _refused(session, "DELETE FROM receipt_counters WHERE year = :y", y=year)


def test_database_refuses_duplicate_numbers_and_two_valid_receipts(session):
    donation = gift(session, make_fund(session), "50.00", donor=make_donor(session), issue=True)
    receipt = donation.active_receipt
    columns = ("year, number, donation_id, issued_on, issued_at, issuer_name, foundation_name, foundation_reg_no, "
               "payer_name, payer_id_code, amount, donation_date, method, item, in_kind_details, check_code")
    values = ("SELECT year, {number}, donation_id, issued_on, issued_at, issuer_name, foundation_name, "
              "foundation_reg_no, payer_name, payer_id_code, amount, donation_date, method, item, in_kind_details, "
              "check_code FROM receipts WHERE id = :id")
    _refused(session, f"INSERT INTO receipts ({columns}) {values.format(number='number')}", id=receipt.id)
    _refused(session, f"INSERT INTO receipts ({columns}) {values.format(number='number + 1')}", id=receipt.id)
