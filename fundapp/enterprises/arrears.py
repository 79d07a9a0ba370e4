"""Arrears and the foundation's view: shares owed with their ageing, missing reports, what came back when.

Ageing counts the days since the due date (the period's end plus the agreement's due days):
    not_due   before the due date
    0-30      0 to 30 days past it (the due date itself is day 0)
    31-90     31 to 90 days
    over_90   more than 90 days
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload, selectinload

from fundapp.enterprises.models import (
    Agreement,
    Enterprise,
    EnterprisePayment,
    EnterpriseStatus,
    PaymentStatus,
    ReportRevision,
    ReportStatus,
    RevenueReport,
    RevisionStatus,
)
from fundapp.enterprises.queries import OpenPeriod, open_periods
from fundapp.ledger.models import Fund, JournalEntry

ZERO = Decimal("0.00")
BUCKETS = ("not_due", "0-30", "31-90", "over_90")


def ageing_bucket(due_on: dt.date, today: dt.date) -> str:
    days = (today - due_on).days
    if days < 0:
        return "not_due"
    if days <= 30:
        return "0-30"
    if days <= 90:
        return "31-90"
    return "over_90"


@dataclass
class Arrears:
    rows: list[tuple[RevenueReport, int, str]]  # report, days past due, bucket
    totals: dict[str, Decimal]

    @property
    def total(self) -> Decimal:
        return sum(self.totals.values(), ZERO)


def arrears(session: Session, today: dt.date, enterprise_id: int | None = None) -> Arrears:
    """Confirmed shares not yet paid in full, oldest due date first, with the outstanding total per bucket."""
    stmt = (select(RevenueReport).where(RevenueReport.status == ReportStatus.confirmed.value,
                                        RevenueReport.paid_amount < RevenueReport.share_due)
            .options(joinedload(RevenueReport.enterprise).selectinload(Enterprise.related_parties)))
    if enterprise_id is not None:
        stmt = stmt.where(RevenueReport.enterprise_id == enterprise_id)
    rows = []
    totals = {bucket: ZERO for bucket in BUCKETS}
    for report in session.scalars(stmt.order_by(RevenueReport.due_on, RevenueReport.id)):
        bucket = ageing_bucket(report.due_on, today)
        rows.append((report, (today - report.due_on).days, bucket))
        totals[bucket] += report.outstanding
    return Arrears(rows, totals)


@dataclass(frozen=True)
class MissingReport:
    enterprise: Enterprise
    period: OpenPeriod
    days_overdue: int
    bucket: str


def missing_reports(session: Session, today: dt.date, enterprise_id: int | None = None) -> list[MissingReport]:
    """Periods of active enterprises whose report is past its due date and not filed (or only rejected)."""
    stmt = (select(Enterprise).where(Enterprise.status == EnterpriseStatus.active.value)
            .options(selectinload(Enterprise.agreements).selectinload(Agreement.tiers)).order_by(Enterprise.name))
    if enterprise_id is not None:
        stmt = stmt.where(Enterprise.id == enterprise_id)
    enterprises = list(session.scalars(stmt))
    reported: dict[int, set[dt.date]] = defaultdict(set)
    done = select(RevenueReport.enterprise_id, RevenueReport.period_start).where(
        RevenueReport.status != ReportStatus.rejected.value)
    for eid, start in session.execute(done):
        reported[eid].add(start)
    out = []
    for enterprise in enterprises:
        for period in open_periods(list(enterprise.agreements), reported[enterprise.id], today):
            if period.due_on < today:
                days = period.days_overdue(today)
                out.append(MissingReport(enterprise, period, days, ageing_bucket(period.due_on, today)))
    out.sort(key=lambda m: (m.period.due_on, m.enterprise.name))
    return out


def late_filings(session: Session) -> list[ReportRevision]:
    """First filings made after their due date (for the record: the enterprise reported late)."""
    stmt = (select(ReportRevision).join(RevenueReport, RevenueReport.id == ReportRevision.report_id)
            .where(ReportRevision.revision == 1, ReportRevision.filed_on > RevenueReport.due_on)
            .options(selectinload(ReportRevision.report)).order_by(ReportRevision.filed_on.desc()))
    return list(session.scalars(stmt))


# --- the dashboard ------------------------------------------------------------------------------------------------


def period_key(day: dt.date, grain: str) -> str:
    if grain == "year":
        return f"{day.year}"
    if grain == "quarter":
        return f"{day.year}-Q{(day.month - 1) // 3 + 1}"
    return f"{day.year}-{day.month:02d}"


def period_keys(grain: str, year: int | None, years: list[int]) -> list[str]:
    if grain == "year":
        return [str(y) for y in years]
    if grain == "quarter":
        return [f"{year}-Q{q}" for q in range(1, 5)]
    return [f"{year}-{m:02d}" for m in range(1, 13)]


@dataclass
class Returns:
    """Payments received (the money that came back), per enterprise and period, and per fund."""

    periods: list[str]
    enterprises: list[Enterprise]
    cells: dict[tuple[int, str], Decimal] = field(default_factory=dict)  # (enterprise id, period) -> amount
    funds: list[tuple[Fund, Decimal, Decimal, Decimal]] = field(default_factory=list)  # confirmed, received, owed

    def amount(self, enterprise_id: int, period: str) -> Decimal:
        return self.cells.get((enterprise_id, period), ZERO)

    def enterprise_total(self, enterprise_id: int) -> Decimal:
        return sum((self.amount(enterprise_id, p) for p in self.periods), ZERO)

    def period_total(self, period: str) -> Decimal:
        return sum((self.amount(e.id, period) for e in self.enterprises), ZERO)

    @property
    def total(self) -> Decimal:
        return sum((self.period_total(p) for p in self.periods), ZERO)


def payment_years(session: Session) -> list[int]:
    first = session.scalar(select(func.min(EnterprisePayment.received_on)))
    last = session.scalar(select(func.max(EnterprisePayment.received_on)))
    if first is None:
        return []
    return list(range(first.year, last.year + 1))


def _range(grain: str, year: int | None, years: list[int]) -> tuple[dt.date, dt.date]:
    if grain == "year" or year is None:
        return dt.date(min(years or [1900]), 1, 1), dt.date(max(years or [9999]), 12, 31)
    return dt.date(year, 1, 1), dt.date(year, 12, 31)


def returns(session: Session, grain: str, year: int | None, today: dt.date) -> Returns:
    """What came back per enterprise per period (`grain` month, quarter or year; a year's months or quarters)."""
    years = payment_years(session)[-10:] or [today.year]
    first, last = _range(grain, year, years)
    recorded = (EnterprisePayment.status == PaymentStatus.recorded.value,
                EnterprisePayment.received_on.between(first, last))
    stmt = (select(EnterprisePayment.enterprise_id, EnterprisePayment.received_on, func.sum(EnterprisePayment.amount))
            .where(*recorded).group_by(EnterprisePayment.enterprise_id, EnterprisePayment.received_on))
    cells: dict[tuple[int, str], Decimal] = defaultdict(lambda: ZERO)
    for eid, day, amount in session.execute(stmt):
        cells[(eid, period_key(day, grain))] += amount
    ids = {eid for eid, _period in cells}
    enterprises = list(session.scalars(select(Enterprise).where(Enterprise.id.in_(ids)).order_by(Enterprise.name))) \
        if ids else []
    result = Returns(period_keys(grain, year, years), enterprises, dict(cells))
    result.funds = fund_flows(session, first, last)
    return result


def fund_flows(session: Session, first: dt.date, last: dt.date) -> list[tuple[Fund, Decimal, Decimal, Decimal]]:
    """Per fund: shares confirmed (booked between the dates), payments received (same dates), owed today."""
    confirmed = dict(session.execute(
        select(Agreement.fund_id, func.sum(ReportRevision.difference))
        .join(RevenueReport, RevenueReport.id == ReportRevision.report_id)
        .join(Agreement, Agreement.id == RevenueReport.agreement_id)
        .join(JournalEntry, JournalEntry.id == ReportRevision.entry_id)
        .where(ReportRevision.status == RevisionStatus.confirmed.value,
               JournalEntry.effective_date.between(first, last))
        .group_by(Agreement.fund_id)).all())
    received = dict(session.execute(
        select(EnterprisePayment.fund_id, func.sum(EnterprisePayment.amount))
        .where(EnterprisePayment.status == PaymentStatus.recorded.value,
               EnterprisePayment.received_on.between(first, last))
        .group_by(EnterprisePayment.fund_id)).all())
    owed = {fund_id: due - paid for fund_id, due, paid in session.execute(  # two typed SUMs: exact on SQLite too
        select(Agreement.fund_id, func.sum(RevenueReport.share_due), func.sum(RevenueReport.paid_amount))
        .join(Agreement, Agreement.id == RevenueReport.agreement_id).group_by(Agreement.fund_id))}
    ids = set(confirmed) | set(received) | {k for k, v in owed.items() if v}
    funds = session.scalars(select(Fund).where(Fund.id.in_(ids)).order_by(Fund.code)) if ids else []
    return [(f, confirmed.get(f.id) or ZERO, received.get(f.id) or ZERO, owed.get(f.id) or ZERO) for f in funds]
