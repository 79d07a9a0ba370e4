"""Filing reports: the share is computed by the version in force, the filing is idempotent, and bad input
(negative revenue, a period already reported, outside the agreement, not ended) is refused with nothing written."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlalchemy import func, select

from fundapp.audit.models import AuditEvent
from fundapp.enterprises.errors import EnterpriseError
from fundapp.enterprises.models import ReportRevision, RevenueReport
from fundapp.enterprises.reports import reject_revision
from fundapp.ledger.models import JournalEntry
from tests.factories import make_fund
from tests.unit.enterprises.factories import START, confirm, file, make_agreement, make_enterprise

D = Decimal
Q2 = dt.date(2025, 4, 1)


def counts(session) -> tuple[int, ...]:
    return tuple(session.scalar(select(func.count()).select_from(model))
                 for model in (JournalEntry, RevenueReport, ReportRevision, AuditEvent))


@pytest.fixture()
def enterprise(session):
    enterprise = make_enterprise(session, "幸福食堂")
    make_agreement(session, enterprise, make_fund(session, "COMM"), rate="5", minimum="100.00",
                   ends_on=dt.date(2025, 12, 31))
    return enterprise


def test_filing_computes_the_share_and_waits_for_confirmation(session, enterprise):
    revision = file(session, enterprise, START, "30000.00", "25000.00", note="一季度")
    report = revision.report
    assert (report.period_start, report.period_end, report.due_on) == (START, dt.date(2025, 3, 31),
                                                                       dt.date(2025, 4, 15))
    assert (revision.revision, revision.status, revision.revenue, revision.profit, revision.base, revision.share) == (
        1, "pending", D("30000.00"), D("5000.00"), D("30000.00"), D("1500.00"))
    assert (report.status, report.share_due) == ("filed", D("0.00"))
    event = session.scalar(select(AuditEvent).where(AuditEvent.tag == "enterprises:report:filed"))
    assert event.after["share"] == "1500.00" and event.after["revision"] == 1


def test_filing_is_idempotent_on_its_key(session, enterprise):
    key = "0b6e4f00-1111-4222-8333-444455556666"
    first = file(session, enterprise, START, "100.00", key=key)
    again = file(session, enterprise, START, "100.00", key=key)
    assert again.id == first.id
    assert session.scalar(select(func.count()).select_from(ReportRevision)) == 1


@pytest.mark.parametrize("start, revenue, costs, profit, message", [
    (START, "-0.01", "0", None, "Revenue cannot be negative."),
    (START, "100.00", "-1.00", None, "Costs cannot be negative."),
    (START, "100.001", "0", None, "at most two decimal places"),
    (dt.date(2024, 10, 1), "100.00", "0", None, "outside the agreement, in force from 2025-01-01 to 2025-12-31"),
    (dt.date(2026, 1, 1), "100.00", "0", None, "outside the agreement"),
    (dt.date(2025, 2, 1), "100.00", "0", None, "does not start a reporting period"),
])
def test_bad_filings_are_refused_with_nothing_written(session, enterprise, start, revenue, costs, profit, message):
    before = counts(session)
    with pytest.raises(EnterpriseError, match=message):
        file(session, enterprise, start, revenue, costs, profit)
    assert counts(session) == before


def test_a_period_not_yet_ended_is_refused(session, enterprise):
    with pytest.raises(EnterpriseError, match=r"Period 2025-Q2 has not ended yet; it can be reported from 2025-07-01"):
        file(session, enterprise, Q2, "1.00", today=dt.date(2025, 6, 30))
    assert file(session, enterprise, Q2, "1.00", today=dt.date(2025, 7, 1)).report.period_end == dt.date(2025, 6, 30)


def test_a_period_already_reported_is_refused_until_rejected(session, enterprise):
    first = file(session, enterprise, START, "100.00")
    before = counts(session)
    with pytest.raises(EnterpriseError, match="Period 2025-Q1 is already reported and waits for confirmation."):
        file(session, enterprise, START, "200.00")
    assert counts(session) == before
    reject_revision(session, first, "数字有误", None)
    assert first.report.status == "rejected"
    again = file(session, enterprise, START, "200.00")
    assert (again.report_id, again.revision, again.report.status) == (first.report_id, 2, "filed")
    confirm(session, again)
    with pytest.raises(EnterpriseError, match="already reported and confirmed; file an amendment instead"):
        file(session, enterprise, START, "300.00")


def test_an_enterprise_without_agreement_cannot_file(session):
    enterprise = make_enterprise(session, "新企业")
    with pytest.raises(EnterpriseError, match="新企业 has no agreement yet"):
        file(session, enterprise, START, "1.00")


def test_rejection_needs_a_reason_and_is_final(session, enterprise):
    revision = file(session, enterprise, START, "100.00")
    with pytest.raises(EnterpriseError, match="Say why"):
        reject_revision(session, revision, "  ", None)
    reject_revision(session, revision, "缺少附件", None)
    with pytest.raises(EnterpriseError, match="was rejected"):
        confirm(session, revision)
    with pytest.raises(EnterpriseError, match="was rejected"):
        reject_revision(session, revision, "again", None)


def test_confirmation_date_rules(session, enterprise):
    revision = file(session, enterprise, START, "100.00")
    with pytest.raises(EnterpriseError, match="before the period ends"):
        confirm(session, revision, on=dt.date(2025, 3, 30))
    with pytest.raises(EnterpriseError, match="future"):
        confirm(session, revision, on=dt.date(2027, 1, 1))
    confirm(session, revision, on=dt.date(2025, 3, 31))
    with pytest.raises(EnterpriseError, match="already confirmed"):
        confirm(session, revision)


def _refused(session, sql: str, **params) -> None:
    with pytest.raises(sa.exc.DatabaseError):
        with session.begin_nested():
            session.execute(sa.text(sql), params)


def test_database_refuses_editing_reports_revisions_and_agreements(session, enterprise):
    revision = confirm(session, file(session, enterprise, START, "100.00"))
    report_id, revision_id, agreement_id = revision.report_id, revision.id, revision.report.agreement_id
    session.expunge_all()
    _refused(session, "UPDATE enterprise_report_revisions SET revenue = 1 WHERE id = :id", id=revision_id)
    _refused(session, "UPDATE enterprise_report_revisions SET decision_note = 'x' WHERE id = :id", id=revision_id)
    _refused(session, "DELETE FROM enterprise_report_revisions WHERE id = :id", id=revision_id)
    _refused(session, "UPDATE enterprise_reports SET period_start = '2025-04-01' WHERE id = :id", id=report_id)
    _refused(session, "UPDATE enterprise_reports SET paid_amount = share_due + 1 WHERE id = :id", id=report_id)
    _refused(session, "DELETE FROM enterprise_reports WHERE id = :id", id=report_id)
    _refused(session, "UPDATE enterprise_agreements SET due_days = 1 WHERE id = :id", id=agreement_id)
    _refused(session, "UPDATE enterprise_agreement_tiers SET rate = 1 WHERE agreement_id = :id", id=agreement_id)
    _refused(session, "DELETE FROM enterprise_agreements WHERE id = :id", id=agreement_id)
    with session.begin_nested():  # the moving parts of a report may change
        session.execute(sa.text("UPDATE enterprise_reports SET paid_amount = 1 WHERE id = :id"), {"id": report_id})
