"""Reads of enterprises, agreements, reports and payments: lists, an enterprise's timeline, open periods.

Arrears, missing reports and the dashboard figures are in `fundapp.enterprises.arrears`. Nothing here writes.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from fundapp.enterprises.models import (
    Agreement,
    Enterprise,
    EnterpriseMember,
    EnterprisePayment,
    PaymentStatus,
    ReportAttachment,
    ReportRevision,
    ReportStatus,
    RevenueReport,
    RevisionStatus,
)
from fundapp.enterprises.periods import period_end, period_label, periods_from
from fundapp.ledger.models import JournalEntry

ZERO = Decimal("0.00")


def find_enterprise_for_user(session: Session, user_id: int) -> Enterprise | None:
    """The enterprise a portal user is linked to."""
    return session.scalar(select(Enterprise).join(EnterpriseMember).where(EnterpriseMember.user_id == user_id))


def enterprise_id_for_user(session: Session, user_id: int) -> int | None:
    return session.scalar(select(EnterpriseMember.enterprise_id).where(EnterpriseMember.user_id == user_id))


def agreement_versions(session: Session, enterprise_id: int) -> list[Agreement]:
    return list(session.scalars(select(Agreement).where(Agreement.enterprise_id == enterprise_id)
                                .order_by(Agreement.version.desc())))


def enterprise_reports(session: Session, enterprise_id: int) -> list[RevenueReport]:
    stmt = (select(RevenueReport).where(RevenueReport.enterprise_id == enterprise_id)
            .options(selectinload(RevenueReport.revisions)).order_by(RevenueReport.period_start.desc()))
    return list(session.scalars(stmt))


def report_payments(session: Session, report_id: int) -> list[EnterprisePayment]:
    return list(session.scalars(select(EnterprisePayment).where(EnterprisePayment.report_id == report_id)
                                .order_by(EnterprisePayment.received_on, EnterprisePayment.id)))


def report_attachments(session: Session, report_id: int) -> list[ReportAttachment]:
    return list(session.scalars(select(ReportAttachment).where(ReportAttachment.report_id == report_id)
                                .order_by(ReportAttachment.id)))


@dataclass(frozen=True)
class Totals:
    share_due: Decimal = ZERO
    paid: Decimal = ZERO
    waiting: int = 0  # filings and amendments waiting for confirmation

    @property
    def outstanding(self) -> Decimal:
        return self.share_due - self.paid


def enterprise_totals(session: Session) -> dict[int, Totals]:
    """Share due, paid and revisions waiting, per enterprise, in two queries."""
    sums = session.execute(select(RevenueReport.enterprise_id, func.sum(RevenueReport.share_due),
                                  func.sum(RevenueReport.paid_amount)).group_by(RevenueReport.enterprise_id)).all()
    waiting = dict(session.execute(
        select(RevenueReport.enterprise_id, func.count(ReportRevision.id))
        .join(ReportRevision, ReportRevision.report_id == RevenueReport.id)
        .where(ReportRevision.status == RevisionStatus.pending.value).group_by(RevenueReport.enterprise_id)).all())
    totals = {eid: Totals(due or ZERO, paid or ZERO, waiting.get(eid, 0)) for eid, due, paid in sums}
    return totals


def enterprises_query(text: str | None = None, status: str | None = None):
    stmt = select(Enterprise).options(selectinload(Enterprise.related_parties))
    if text:
        stmt = stmt.where(Enterprise.name.contains(text, autoescape=True)
                          | Enterprise.community.contains(text, autoescape=True)
                          | Enterprise.sector.contains(text, autoescape=True))
    if status:
        stmt = stmt.where(Enterprise.status == status)
    return stmt.order_by(Enterprise.name, Enterprise.id)


def waiting_revisions(session: Session) -> list[ReportRevision]:
    """Filings and amendments waiting for finance, oldest first."""
    stmt = (select(ReportRevision).where(ReportRevision.status == RevisionStatus.pending.value)
            .options(selectinload(ReportRevision.report)).order_by(ReportRevision.filed_at, ReportRevision.id))
    return list(session.scalars(stmt))


# --- open periods -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OpenPeriod:
    start: dt.date
    end: dt.date
    label: str
    due_on: dt.date
    agreement: Agreement

    def days_overdue(self, today: dt.date) -> int:
        return (today - self.due_on).days


def agreement_periods(versions: list[Agreement], today: dt.date):
    """Every (start, end, version) that has ended before `today`, under the version in force for it."""
    ordered = sorted(versions, key=lambda a: a.effective_from)
    for index, version in enumerate(ordered):
        last = today - dt.timedelta(days=1)
        if index + 1 < len(ordered):
            last = min(last, ordered[index + 1].effective_from - dt.timedelta(days=1))
        if version.ends_on is not None:
            last = min(last, version.ends_on)
        for start, end in periods_from(version.effective_from, last, version.periodicity):
            if end <= last:
                yield start, end, version


def open_periods(versions: list[Agreement], reported: set[dt.date], today: dt.date) -> list[OpenPeriod]:
    """Ended periods with no report (or only rejected ones), oldest first."""
    out = []
    for start, end, version in agreement_periods(versions, today):
        if start not in reported:
            out.append(OpenPeriod(start, end, period_label(start, version.periodicity),
                                  end + dt.timedelta(days=version.due_days), version))
    return out


def reported_starts(session: Session, enterprise_id: int) -> set[dt.date]:
    stmt = select(RevenueReport.period_start).where(RevenueReport.enterprise_id == enterprise_id,
                                                    RevenueReport.status != ReportStatus.rejected.value)
    return set(session.scalars(stmt))


def enterprise_open_periods(session: Session, enterprise: Enterprise, today: dt.date) -> list[OpenPeriod]:
    return open_periods(list(enterprise.agreements), reported_starts(session, enterprise.id), today)


def period_choice_label(agreement: Agreement, start: dt.date) -> str:
    return f"{period_label(start, agreement.periodicity)} ({start.isoformat()} – " \
           f"{period_end(start, agreement.periodicity).isoformat()})"


# --- the timeline -------------------------------------------------------------------------------------------------


@dataclass
class TimelineRow:
    day: dt.date
    kind: str  # filed, amended, confirmed, rejected, paid, payment_reversed
    report: RevenueReport
    revision: ReportRevision | None = None
    payment: EnterprisePayment | None = None
    change: Decimal = ZERO  # what the enterprise owes more (+) or less (-)
    balance: Decimal = ZERO  # outstanding after this row


ORDER = {"filed": 0, "amended": 0, "confirmed": 1, "rejected": 1, "paid": 2, "payment_reversed": 3}


def local_date(moment: dt.datetime) -> dt.date:
    zone = ZoneInfo(current_app.config.get("BABEL_DEFAULT_TIMEZONE", "Asia/Shanghai"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(zone).date()


def _entry_dates(session: Session, ids: list[int]) -> dict[int, dt.date]:
    if not ids:
        return {}
    return dict(session.execute(select(JournalEntry.id, JournalEntry.effective_date)
                                .where(JournalEntry.id.in_(ids))).all())


def _revision_rows(report: RevenueReport, dates: dict[int, dt.date]) -> list[TimelineRow]:
    rows = []
    for revision in report.revisions:
        kind = "amended" if revision.is_amendment else "filed"
        rows.append(TimelineRow(revision.filed_on, kind, report, revision))
        if revision.status == RevisionStatus.confirmed.value:
            day = dates.get(revision.entry_id) or local_date(revision.decided_at)
            rows.append(TimelineRow(day, "confirmed", report, revision, change=revision.difference))
        elif revision.status == RevisionStatus.rejected.value:
            rows.append(TimelineRow(local_date(revision.decided_at), "rejected", report, revision))
    return rows


def timeline(session: Session, enterprise_id: int) -> list[TimelineRow]:
    """Reports filed, shares due, payments and the running balance owed, in date order (oldest first)."""
    reports = {r.id: r for r in enterprise_reports(session, enterprise_id)}
    payments = list(session.scalars(select(EnterprisePayment).where(EnterprisePayment.enterprise_id == enterprise_id)))
    ids = [r.entry_id for rep in reports.values() for r in rep.revisions if r.entry_id]
    dates = _entry_dates(session, ids + [p.reversal_entry_id for p in payments if p.reversal_entry_id])
    rows = [row for report in reports.values() for row in _revision_rows(report, dates)]
    for payment in payments:
        report = reports[payment.report_id]
        rows.append(TimelineRow(payment.received_on, "paid", report, payment=payment, change=-payment.amount))
        if payment.status == PaymentStatus.reversed.value:
            rows.append(TimelineRow(dates[payment.reversal_entry_id], "payment_reversed", report, payment=payment,
                                    change=payment.amount))
    rows.sort(key=lambda r: (r.day, ORDER[r.kind], r.report.period_start, r.revision.revision if r.revision else 0,
                             r.payment.id if r.payment else 0))
    balance = ZERO
    for row in rows:
        balance += row.change
        row.balance = balance
    return rows

