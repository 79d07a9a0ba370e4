"""Ageing of what is owed (0–30, 31–90, over 90 days past the due date), missing reports, the timeline."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from fundapp.enterprises.arrears import ageing_bucket, arrears, late_filings, missing_reports, returns
from fundapp.enterprises.payments import reverse_payment
from fundapp.enterprises.queries import enterprise_open_periods, timeline
from tests.factories import make_fund
from tests.unit.enterprises.factories import START, confirm, file, make_agreement, make_enterprise, pay

D = Decimal
DUE = dt.date(2025, 4, 15)


@pytest.mark.parametrize("days, bucket", [(-1, "not_due"), (0, "0-30"), (30, "0-30"), (31, "31-90"),
                                          (90, "31-90"), (91, "over_90"), (400, "over_90")])
def test_ageing_bucket_boundaries(days, bucket):
    assert ageing_bucket(DUE, DUE + dt.timedelta(days=days)) == bucket


def test_arrears_are_aged_by_due_date_and_totalled_per_bucket(session):
    fund = make_fund(session, "COMM")
    a, b = make_enterprise(session, "甲"), make_enterprise(session, "乙")
    make_agreement(session, a, fund, rate="10")  # quarterly, due 15 days after
    make_agreement(session, b, fund, rate="10", periodicity="monthly", due_days=10)
    q1 = confirm(session, file(session, a, START, "10000.00")).report  # due 2025-04-15
    pay(session, q1, "300.00")
    q2 = confirm(session, file(session, a, dt.date(2025, 4, 1), "5000.00"), on=dt.date(2025, 7, 1)).report
    june = confirm(session, file(session, b, dt.date(2025, 6, 1), "2000.00"), on=dt.date(2025, 7, 1)).report
    paid = confirm(session, file(session, b, dt.date(2025, 5, 1), "1000.00"), on=dt.date(2025, 6, 1)).report
    pay(session, paid, "100.00")
    today = dt.date(2025, 7, 20)
    owed = arrears(session, today)
    assert [(r.id, days, bucket) for r, days, bucket in owed.rows] == [
        (q1.id, 96, "over_90"), (june.id, 10, "0-30"), (q2.id, 5, "0-30")]
    assert owed.totals == {"not_due": D("0.00"), "0-30": D("700.00"), "31-90": D("0.00"), "over_90": D("700.00")}
    assert owed.total == D("1400.00")
    assert [r.id for r, _d, _b in arrears(session, today, enterprise_id=b.id).rows] == [june.id]
    assert arrears(session, dt.date(2025, 4, 14), enterprise_id=a.id).totals["not_due"] == D("1200.00")


def test_missing_reports_are_ended_periods_past_due_and_not_filed(session):
    fund = make_fund(session, "COMM")
    enterprise = make_enterprise(session, "丙")
    make_agreement(session, enterprise, fund, due_days=15)
    file(session, enterprise, START, "1.00")
    rejected = file(session, enterprise, dt.date(2025, 4, 1), "1.00")
    from fundapp.enterprises.reports import reject_revision

    reject_revision(session, rejected, "重报", None)
    today = dt.date(2025, 10, 20)
    missing = missing_reports(session, today)
    assert [(m.period.label, m.days_overdue, m.bucket) for m in missing] == [("2025-Q2", 97, "over_90"),
                                                                            ("2025-Q3", 5, "0-30")]
    open_now = enterprise_open_periods(session, enterprise, dt.date(2025, 10, 10))
    assert [p.label for p in open_now] == ["2025-Q2", "2025-Q3"]  # Q3 ended, not yet due
    assert missing_reports(session, dt.date(2025, 10, 10))[-1].period.label == "2025-Q2"


def test_suspended_enterprises_and_ended_agreements_have_no_missing_reports(session):
    fund = make_fund(session, "COMM")
    ended = make_enterprise(session, "丁")
    make_agreement(session, ended, fund, ends_on=dt.date(2025, 3, 31))
    asleep = make_enterprise(session, "戊", status="suspended")
    make_agreement(session, asleep, fund)
    labels = [(m.enterprise.name, m.period.label) for m in missing_reports(session, dt.date(2026, 1, 1))]
    assert labels == [("丁", "2025-Q1")]


def test_late_filings_and_the_timeline_balance(session):
    fund = make_fund(session, "COMM")
    enterprise = make_enterprise(session)
    make_agreement(session, enterprise, fund, rate="10")
    revision = file(session, enterprise, START, "10000.00", today=dt.date(2025, 4, 10))
    confirm(session, revision, on=dt.date(2025, 4, 12))
    payment = pay(session, revision.report, "400.00", on=dt.date(2025, 4, 20))
    reverse_payment(session, payment, "退票", None, on=dt.date(2025, 4, 25))
    late = file(session, enterprise, dt.date(2025, 4, 1), "10.00", today=dt.date(2025, 9, 1))
    rows = timeline(session, enterprise.id)
    assert [(r.day, r.kind, r.change, r.balance) for r in rows] == [
        (dt.date(2025, 4, 10), "filed", D("0.00"), D("0.00")),
        (dt.date(2025, 4, 12), "confirmed", D("1000.00"), D("1000.00")),
        (dt.date(2025, 4, 20), "paid", D("-400.00"), D("600.00")),
        (dt.date(2025, 4, 25), "payment_reversed", D("400.00"), D("1000.00")),
        (dt.date(2025, 9, 1), "filed", D("0.00"), D("1000.00")),
    ]
    assert late_filings(session) == [late]


def test_returns_per_enterprise_per_period_and_per_fund(session):
    fund, other = make_fund(session, "COMM"), make_fund(session, "WEST")
    a, b = make_enterprise(session, "甲"), make_enterprise(session, "乙")
    make_agreement(session, a, fund, rate="10")
    make_agreement(session, b, other, rate="10")
    ra = confirm(session, file(session, a, START, "10000.00")).report
    rb = confirm(session, file(session, b, START, "5000.00")).report
    pay(session, ra, "300.00", on=dt.date(2025, 5, 1))
    pay(session, ra, "200.00", on=dt.date(2025, 8, 1))
    reverse_payment(session, pay(session, rb, "500.00", on=dt.date(2025, 5, 2)), "错账", None)
    pay(session, rb, "100.00", on=dt.date(2025, 5, 3))
    data = returns(session, "quarter", 2025, dt.date(2026, 1, 1))
    assert data.periods == ["2025-Q1", "2025-Q2", "2025-Q3", "2025-Q4"]
    assert [e.name for e in data.enterprises] == ["乙", "甲"]
    assert (data.amount(a.id, "2025-Q2"), data.amount(a.id, "2025-Q3"), data.amount(b.id, "2025-Q2")) == (
        D("300.00"), D("200.00"), D("100.00"))
    assert (data.period_total("2025-Q2"), data.total) == (D("400.00"), D("600.00"))
    assert [(f.code, c, r, o) for f, c, r, o in data.funds] == [("COMM", D("1000.00"), D("500.00"), D("500.00")),
                                                              ("WEST", D("500.00"), D("100.00"), D("400.00"))]
    yearly = returns(session, "year", None, dt.date(2026, 1, 1))
    assert yearly.periods == ["2025"] and yearly.total == D("600.00")
