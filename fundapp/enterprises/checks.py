"""Checks that return problems (never raise): each report against its revisions and payments, each share against a
recomputation by its agreement version, each confirmation and payment against its journal entry.
`flask enterprises verify` prints them and exits non-zero."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from fundapp.enterprises.agreements import terms_of
from fundapp.enterprises.models import (
    RECEIVABLE,
    EnterprisePayment,
    PaymentStatus,
    ReportStatus,
    RevenueReport,
    RevisionStatus,
)
from fundapp.enterprises.share import compute_share
from fundapp.ledger.models import JournalEntry

ZERO = Decimal("0.00")


def _receivable(entry: JournalEntry | None) -> Decimal:
    if entry is None:
        return ZERO
    return sum((line.amount for line in entry.lines if line.account.code == RECEIVABLE), ZERO)


def _status(report: RevenueReport) -> str:
    statuses = {r.status for r in report.revisions}
    if RevisionStatus.confirmed.value in statuses:
        return ReportStatus.confirmed.value
    if RevisionStatus.pending.value in statuses:
        return ReportStatus.filed.value
    return ReportStatus.rejected.value


def _revision_problems(report: RevenueReport) -> list[str]:
    problems, confirmed = [], ZERO
    terms = terms_of(report.agreement)
    for revision in report.revisions:
        where = f"report {report.id} revision {revision.revision}"
        if compute_share(terms, revision.revenue, revision.profit).amount != revision.share:
            problems.append(f"{where}: share {revision.share} differs from its recomputation")
        if revision.status != RevisionStatus.confirmed.value:
            continue
        if revision.difference != revision.share - confirmed:
            problems.append(f"{where}: difference {revision.difference} but {revision.share} - {confirmed}")
        if _receivable(revision.entry) != revision.difference:
            moved = _receivable(revision.entry)
            problems.append(f"{where}: its entry moves 1121 by {moved}, not {revision.difference}")
        confirmed = revision.share
    if report.share_due != confirmed:
        problems.append(f"report {report.id}: share due {report.share_due} but the confirmed share is {confirmed}")
    return problems


def report_problems(session: Session) -> list[str]:
    paid: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for report_id, status, amount in session.execute(select(EnterprisePayment.report_id, EnterprisePayment.status,
                                                            EnterprisePayment.amount)):
        if status == PaymentStatus.recorded.value:
            paid[report_id] += amount
    problems = []
    stmt = select(RevenueReport).options(selectinload(RevenueReport.revisions)).order_by(RevenueReport.id)
    for report in session.scalars(stmt):
        problems.extend(_revision_problems(report))
        if report.paid_amount != paid[report.id]:
            problems.append(f"report {report.id}: paid {report.paid_amount} but its payments sum to {paid[report.id]}")
        if report.status != _status(report):
            problems.append(f"report {report.id}: status {report.status} but its revisions say {_status(report)}")
    return problems


def payment_problems(session: Session) -> list[str]:
    problems = []
    for payment in session.scalars(select(EnterprisePayment).order_by(EnterprisePayment.id)):
        if _receivable(payment.entry) != -payment.amount:
            problems.append(f"payment {payment.id}: its entry moves 1121 by {_receivable(payment.entry)}")
        reversed_entry = session.scalar(select(JournalEntry.id).where(JournalEntry.reverses_id == payment.entry_id))
        if (reversed_entry is not None) != (payment.status == PaymentStatus.reversed.value):
            problems.append(f"payment {payment.id}: status {payment.status} but its entry "
                            f"{'was' if reversed_entry else 'was not'} reversed")
    return problems


def verify_enterprises(session: Session) -> list[str]:
    return report_problems(session) + payment_problems(session)
