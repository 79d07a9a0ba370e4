"""Amendments never edit a confirmed report: they add a revision, computed by the report's own agreement version,
and confirming it posts only the difference (in either direction)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from fundapp.enterprises.checks import verify_enterprises
from fundapp.enterprises.errors import EnterpriseError
from fundapp.ledger.invariants import verify_ledger
from tests.factories import make_fund
from tests.unit.enterprises.factories import START, amend, confirm, file, lines_of, make_agreement, make_enterprise, pay

D = Decimal
U = "unrestricted"


@pytest.fixture()
def confirmed(session):
    enterprise = make_enterprise(session)
    make_agreement(session, enterprise, make_fund(session, "COMM"), nature="services", rate="10")
    return confirm(session, file(session, enterprise, START, "10000.00"))  # 1,000.00 due


def test_a_higher_amendment_posts_the_difference(session, confirmed):
    report = confirmed.report
    amendment = amend(session, report, "12500.00", reason="漏报一笔收入")
    assert (amendment.revision, amendment.status, amendment.share, report.share_due) == (
        2, "pending", D("1250.00"), D("1000.00"))
    confirm(session, amendment)
    assert lines_of(amendment.entry) == [("1121", "COMM", U, D("250.00")), ("4301", "COMM", U, D("-250.00"))]
    assert amendment.entry.idempotency_key == f"enterprise-share:{report.id}:2"
    assert (report.share_due, amendment.difference, report.current_revision) == (D("1250.00"), D("250.00"),
                                                                                  amendment)
    assert (confirmed.status, confirmed.revenue, confirmed.share) == ("confirmed", D("10000.00"), D("1000.00"))
    assert verify_ledger(session) == [] and verify_enterprises(session) == []


def test_a_lower_amendment_posts_the_difference_the_other_way(session, confirmed):
    amendment = confirm(session, amend(session, confirmed.report, "8000.00"))
    assert lines_of(amendment.entry) == [("1121", "COMM", U, D("-200.00")), ("4301", "COMM", U, D("200.00"))]
    assert confirmed.report.share_due == D("800.00")
    assert verify_enterprises(session) == []


def test_an_amendment_below_what_was_paid_is_refused_until_a_payment_is_reversed(session, confirmed):
    pay(session, confirmed.report, "900.00")
    amendment = amend(session, confirmed.report, "8000.00")
    with pytest.raises(EnterpriseError, match=r"amended share \(800.00\) is less than the 900.00 already paid"):
        confirm(session, amendment)
    assert (amendment.status, confirmed.report.share_due) == ("pending", D("1000.00"))


def test_an_amendment_keeps_the_version_the_report_was_filed_under(session, confirmed):
    enterprise, fund = confirmed.report.enterprise, confirmed.report.agreement.fund
    make_agreement(session, enterprise, fund, start=dt.date(2025, 4, 1), nature="services", rate="50")
    amendment = confirm(session, amend(session, confirmed.report, "20000.00"))
    assert amendment.share == D("2000.00")  # 10 %, not the new 50 %
    assert confirmed.report.agreement.version == 1


@pytest.mark.parametrize("revenue, reason, message", [
    ("10000.00", "没变", "same figures"),
    ("12000.00", "", "Say why the report is amended."),
    ("-1.00", "负数", "Revenue cannot be negative."),
])
def test_bad_amendments_are_refused(session, confirmed, revenue, reason, message):
    with pytest.raises(EnterpriseError, match=message):
        amend(session, confirmed.report, revenue, reason=reason)
    assert len(confirmed.report.revisions) == 1


def test_only_a_confirmed_report_without_a_waiting_amendment_is_amended(session, confirmed):
    waiting = file(session, confirmed.report.enterprise, dt.date(2025, 4, 1), "1.00")
    with pytest.raises(EnterpriseError, match="Only a confirmed report can be amended."):
        amend(session, waiting.report, "2.00")
    amend(session, confirmed.report, "11000.00")
    with pytest.raises(EnterpriseError, match="already waits for confirmation"):
        amend(session, confirmed.report, "12000.00")
