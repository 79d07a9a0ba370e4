"""Confirmations and payments post exactly the right lines: accounts by the agreement's nature, the target fund
and its class, the documented idempotency keys; partial payments, never beyond what is outstanding."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from fundapp.audit.models import AuditEvent
from fundapp.enterprises.checks import verify_enterprises
from fundapp.enterprises.errors import EnterpriseError
from fundapp.enterprises.models import EnterprisePayment, ReportRevision, RevenueReport
from fundapp.enterprises.payments import PaymentInput, record_payment, reverse_payment
from fundapp.ledger.invariants import verify_ledger
from fundapp.ledger.models import JournalEntry
from tests.factories import make_fund
from tests.unit.enterprises.factories import (
    START,
    TODAY,
    confirm,
    file,
    lines_of,
    make_agreement,
    make_enterprise,
    pay,
)

D = Decimal
U, R = "unrestricted", "restricted"


def counts(session) -> tuple[int, ...]:
    return tuple(session.scalar(select(func.count()).select_from(model))
                 for model in (JournalEntry, RevenueReport, ReportRevision, EnterprisePayment, AuditEvent))


@pytest.fixture()
def fund(session):
    return make_fund(session, "COMM", fund_type="micro", name="幸福社区微基金")


@pytest.mark.parametrize("nature, income", [("gift", "4101"), ("shareholding", "4601"), ("services", "4301")])
def test_confirmation_books_a_receivable_against_the_income_of_the_agreement_nature(session, fund, nature, income):
    enterprise = make_enterprise(session)
    make_agreement(session, enterprise, fund, nature=nature, rate="5")
    revision = file(session, enterprise, START, "20000.00")
    assert revision.entry_id is None and revision.report.share_due == 0  # nothing booked before confirmation
    confirm(session, revision)
    assert lines_of(revision.entry) == [("1121", "COMM", U, D("1000.00")), (income, "COMM", U, D("-1000.00"))]
    entry = revision.entry
    assert entry.idempotency_key == f"enterprise-share:{revision.report_id}:1"
    assert (entry.source_type, entry.source_id, entry.effective_date) == ("enterprise_share", str(revision.id),
                                                                          dt.date(2025, 4, 20))
    assert (revision.report.share_due, revision.report.status, revision.difference) == (D("1000.00"), "confirmed",
                                                                                        D("1000.00"))
    assert verify_ledger(session) == [] and verify_enterprises(session) == []


def test_a_restricted_fund_gets_restricted_lines(session):
    fund = make_fund(session, "LIB", restricted=True, fund_type="enterprise_return")
    enterprise = make_enterprise(session)
    make_agreement(session, enterprise, fund, nature="shareholding", basis="net_profit", rate="30")
    revision = confirm(session, file(session, enterprise, START, "50000.00", "40000.00"))
    assert lines_of(revision.entry) == [("1121", "LIB", R, D("3000.00")), ("4601", "LIB", R, D("-3000.00"))]
    payment = pay(session, revision.report, "3000.00")
    assert lines_of(payment.entry) == [("1002", "LIB", R, D("3000.00")), ("1121", "LIB", R, D("-3000.00"))]


def test_a_zero_share_is_confirmed_without_an_entry(session, fund):
    enterprise = make_enterprise(session)
    make_agreement(session, enterprise, fund, basis="net_profit", rate="10")
    revision = file(session, enterprise, START, "1000.00", "3000.00")  # a loss
    before = session.scalar(select(func.count()).select_from(JournalEntry))
    confirm(session, revision)
    assert (revision.status, revision.share, revision.difference, revision.entry_id) == ("confirmed", D("0.00"),
                                                                                         D("0.00"), None)
    assert session.scalar(select(func.count()).select_from(JournalEntry)) == before
    assert verify_enterprises(session) == []


def test_partial_payments_then_overpayment_is_refused_and_nothing_written(session, fund):
    enterprise = make_enterprise(session)
    make_agreement(session, enterprise, fund, rate="10")
    report = confirm(session, file(session, enterprise, START, "10000.00")).report  # 1,000.00 due
    first = pay(session, report, "400.00", reference="工行 0001")
    assert first.entry.idempotency_key == f"enterprise-payment:{first.key}"
    assert (first.entry.source_type, first.entry.source_id) == ("enterprise_payment", first.key)
    assert (report.paid_amount, report.outstanding) == (D("400.00"), D("600.00"))
    before = counts(session)
    with pytest.raises(EnterpriseError, match="more than the 600.00 still outstanding"):
        pay(session, report, "600.01")
    assert counts(session) == before and report.paid_amount == D("400.00")
    pay(session, report, "600.00")
    assert report.outstanding == D("0.00")
    with pytest.raises(EnterpriseError, match="more than the 0.00 still outstanding"):
        pay(session, report, "0.01")
    assert verify_ledger(session) == [] and verify_enterprises(session) == []


def test_a_payment_posts_once_per_key(session, fund):
    enterprise = make_enterprise(session)
    make_agreement(session, enterprise, fund, rate="10")
    report = confirm(session, file(session, enterprise, START, "10000.00")).report
    key = "8c0f6d1e-5a4b-4c3d-9e8f-7a6b5c4d3e2f"
    first = pay(session, report, "100.00", key=key)
    again = pay(session, report, "100.00", key=key)
    assert again.id == first.id and report.paid_amount == D("100.00")


@pytest.mark.parametrize("changes, message", [
    ({"amount": D("0.00")}, "positive"),
    ({"amount": D("-5.00")}, "positive"),
    ({"amount": D("1.001")}, "two decimal"),
    ({"received_on": TODAY + dt.timedelta(days=1)}, "future"),
    ({"received_on": dt.date(2024, 12, 31)}, "before the period"),
    ({"key": ""}, "submission key"),
])
def test_bad_payments_are_refused_with_nothing_written(session, fund, changes, message):
    enterprise = make_enterprise(session)
    make_agreement(session, enterprise, fund, rate="10")
    report = confirm(session, file(session, enterprise, START, "10000.00")).report
    before = counts(session)
    values = {"report": report, "received_on": dt.date(2025, 5, 1), "amount": D("10.00")} | changes
    with pytest.raises(EnterpriseError, match=message):
        record_payment(session, PaymentInput(**values), None, today=TODAY)
    assert counts(session) == before


def test_an_unconfirmed_report_takes_no_payment(session, fund):
    enterprise = make_enterprise(session)
    make_agreement(session, enterprise, fund, rate="10")
    revision = file(session, enterprise, START, "10000.00")
    with pytest.raises(EnterpriseError, match="confirmed report"):
        pay(session, revision.report, "1.00")


def test_reversing_a_payment_owes_the_amount_again(session, fund):
    enterprise = make_enterprise(session)
    make_agreement(session, enterprise, fund, rate="10")
    report = confirm(session, file(session, enterprise, START, "10000.00")).report
    payment = pay(session, report, "1000.00")
    reverse_payment(session, payment, "银行退回", None, on=dt.date(2025, 5, 2))
    assert (payment.status, report.paid_amount, report.outstanding) == ("reversed", D("0.00"), D("1000.00"))
    assert lines_of(payment.reversal_entry) == [("1002", "COMM", U, D("-1000.00")), ("1121", "COMM", U, D("1000.00"))]
    with pytest.raises(EnterpriseError, match="already reversed"):
        reverse_payment(session, payment, "again", None)
    with pytest.raises(EnterpriseError, match="Say why"):
        reverse_payment(session, pay(session, report, "1.00"), " ", None)
    assert verify_ledger(session) == [] and verify_enterprises(session) == []
