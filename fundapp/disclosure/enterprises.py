"""Reads behind the public social-enterprise pages, their CSV and /api/v1/enterprises (no writes).

What is public about an enterprise that returns part of its income to community funds:
- who it is (name, sector, community served, status) — never its contacts, credit code, members or notes;
- its agreements in public form: the share basis (gross revenue or net profit) and rates, the target fund, the
  reporting periodicity and the dates in force — never the contract number, minimum, due days or notes;
- per reporting period, the share due (from the latest confirmed revision), what was paid and what is still
  owed. The revenue, costs and profit an enterprise reports are its own business figures and are NOT
  published; unconfirmed and rejected filings are not shown at all;
- amendments of a confirmed report as corrections: the old and new share, the reason given and the date booked;
- payments received (date, amount, period, fund) — never the bank reference; a reversed payment stays, marked
  as corrected with its reason and date.

Money returned is summed from posted payments (reversed ones excluded), by fund: public funds by name, the rest
summed as "Other funds" (`fundapp.disclosure.scope`), so the totals equal the books.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session, aliased

from fundapp.disclosure.scope import other_funds_label
from fundapp.enterprises.models import (
    Agreement,
    AgreementTier,
    Enterprise,
    EnterprisePayment,
    PaymentStatus,
    ReportRevision,
    ReportStatus,
    RevenueReport,
    RevisionStatus,
)
from fundapp.enterprises.periods import period_label
from fundapp.enterprises.queries import local_date
from fundapp.ledger.models import Fund, JournalEntry

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class FundReturn:
    code: str | None  # None: the sum over funds that are not public
    name: str
    amount: Decimal


@dataclass
class Summary:
    """Share due, paid and owed for confirmed reports, and money received by fund."""

    share_due: Decimal = ZERO
    paid_on_share: Decimal = ZERO  # paid against these reports (whenever received)
    returns: list[FundReturn] = field(default_factory=list)  # received (in the year, when one is chosen)

    @property
    def outstanding(self) -> Decimal:
        return self.share_due - self.paid_on_share

    @property
    def received(self) -> Decimal:
        return sum((r.amount for r in self.returns), ZERO)


def _year_range(year: int) -> tuple[dt.date, dt.date]:
    return dt.date(year, 1, 1), dt.date(year, 12, 31)


def listed_query() -> Select:
    """Enterprises with at least one agreement (a public relationship with the foundation), by name."""
    has_agreement = select(Agreement.id).where(Agreement.enterprise_id == Enterprise.id).exists()
    return select(Enterprise).where(has_agreement).order_by(Enterprise.name, Enterprise.id)


def find_listed(session: Session, enterprise_id: int) -> Enterprise | None:
    return session.scalar(listed_query().where(Enterprise.id == enterprise_id))


def years(session: Session) -> list[int]:
    """Years with confirmed shares or payments, newest first (one query)."""
    confirmed = RevenueReport.status == ReportStatus.confirmed.value
    bounds = [select(edge(column)).where(*where).scalar_subquery() for edge in (func.min, func.max)
              for column, where in ((EnterprisePayment.received_on, ()), (RevenueReport.period_end, (confirmed,)))]
    row = session.execute(select(*bounds)).one()
    days = [day for day in row if day is not None]
    if not days:
        return []
    return list(range(max(days).year, min(days).year - 1, -1))


def _returns(session: Session, enterprise_ids: list[int] | None, year: int | None) -> dict[int | None, list]:
    """Posted (not reversed) payments per enterprise and fund; key None holds the sum over all enterprises."""
    stmt = (select(EnterprisePayment.enterprise_id, Fund.code, Fund.name, Fund.is_public,
                   func.sum(EnterprisePayment.amount))
            .join(Fund, Fund.id == EnterprisePayment.fund_id)
            .where(EnterprisePayment.status == PaymentStatus.recorded.value)
            .group_by(EnterprisePayment.enterprise_id, Fund.code, Fund.name, Fund.is_public))
    if enterprise_ids is not None:
        stmt = stmt.where(EnterprisePayment.enterprise_id.in_(enterprise_ids))
    if year:
        stmt = stmt.where(EnterprisePayment.received_on.between(*_year_range(year)))
    grouped: dict[int | None, dict[str | None, list]] = defaultdict(dict)
    for enterprise_id, code, name, is_public, amount in session.execute(stmt):
        key = code if is_public else None
        for owner in (enterprise_id, None):
            slot = grouped[owner].setdefault(key, [name if is_public else other_funds_label(), ZERO])
            slot[1] += amount or ZERO
    return {owner: _ordered(funds) for owner, funds in grouped.items()}


def _ordered(funds: dict[str | None, list]) -> list[FundReturn]:
    """Public funds by code, then "Other funds" last."""
    rows = [FundReturn(code, name, amount) for code, (name, amount) in funds.items() if code is not None]
    rows.sort(key=lambda r: r.code)
    if None in funds:
        name, amount = funds[None]
        rows.append(FundReturn(None, name, amount))
    return rows


def _shares(session: Session, enterprise_ids: list[int] | None, year: int | None) -> dict[int, tuple]:
    """(share due, paid) of confirmed reports per enterprise (periods ending in `year` when given)."""
    stmt = (select(RevenueReport.enterprise_id, func.sum(RevenueReport.share_due), func.sum(RevenueReport.paid_amount))
            .where(RevenueReport.status == ReportStatus.confirmed.value).group_by(RevenueReport.enterprise_id))
    if enterprise_ids is not None:
        stmt = stmt.where(RevenueReport.enterprise_id.in_(enterprise_ids))
    if year:
        stmt = stmt.where(RevenueReport.period_end.between(*_year_range(year)))
    return {eid: (due or ZERO, paid or ZERO) for eid, due, paid in session.execute(stmt)}


def summaries(session: Session, enterprise_ids: list[int], year: int | None) -> dict[int, Summary]:
    """The summary of each enterprise in `enterprise_ids`, in two queries."""
    returns = _returns(session, enterprise_ids, year) if enterprise_ids else {}
    shares = _shares(session, enterprise_ids, year) if enterprise_ids else {}
    return {eid: Summary(*shares.get(eid, (ZERO, ZERO)), returns.get(eid, [])) for eid in enterprise_ids}


def overall(session: Session, year: int | None) -> Summary:
    """All enterprises together (every fund: hidden ones as "Other funds"), in two queries."""
    shares = _shares(session, None, year)
    due = sum((d for d, _p in shares.values()), ZERO)
    paid = sum((p for _d, p in shares.values()), ZERO)
    return Summary(due, paid, _returns(session, None, year).get(None, []))


# --- one enterprise -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PublicAgreement:
    version: int
    effective_from: dt.date
    ends_on: dt.date | None
    basis: str
    periodicity: str
    fund_code: str | None  # None when the fund is not public
    fund_name: str
    tiers: list[tuple[Decimal, str]]  # (from amount, rate in percent as text: "5", "2.5")


@dataclass(frozen=True)
class Correction:
    old_share: Decimal
    new_share: Decimal
    reason: str
    date: dt.date


@dataclass
class PublicReport:
    id: int
    label: str
    start: dt.date
    end: dt.date
    due_on: dt.date
    share_due: Decimal
    paid: Decimal
    corrections: list[Correction] = field(default_factory=list)

    @property
    def outstanding(self) -> Decimal:
        return self.share_due - self.paid


@dataclass(frozen=True)
class PublicPayment:
    received_on: dt.date
    amount: Decimal
    period: str
    fund_code: str | None
    fund_name: str
    status: str
    reversal_reason: str | None
    reversed_on: dt.date | None


def agreements(session: Session, enterprise_id: int) -> list[PublicAgreement]:
    """Every version, oldest first, with its tiers (two queries)."""
    rows = session.execute(
        select(Agreement.id, Agreement.version, Agreement.effective_from, Agreement.ends_on, Agreement.basis,
               Agreement.periodicity, Fund.code, Fund.name, Fund.is_public)
        .join(Fund, Fund.id == Agreement.fund_id).where(Agreement.enterprise_id == enterprise_id)
        .order_by(Agreement.version)).all()
    tiers: dict[int, list] = defaultdict(list)
    if rows:
        for agreement_id, lower, rate in session.execute(
                select(AgreementTier.agreement_id, AgreementTier.lower_bound, AgreementTier.rate)
                .where(AgreementTier.agreement_id.in_([r.id for r in rows])).order_by(AgreementTier.position)):
            tiers[agreement_id].append((lower, format(rate.normalize(), "f")))
    return [PublicAgreement(r.version, r.effective_from, r.ends_on, r.basis, r.periodicity,
                            r.code if r.is_public else None, r.name if r.is_public else other_funds_label(),
                            tiers[r.id]) for r in rows]


def _corrections(session: Session, report_ids: list[int]) -> dict[int, list[Correction]]:
    """Confirmed amendments per report: each confirmed revision after the first confirmed one (one query)."""
    if not report_ids:
        return {}
    entry = aliased(JournalEntry)
    stmt = (select(ReportRevision.report_id, ReportRevision.share, ReportRevision.note, ReportRevision.decided_at,
                   entry.effective_date)
            .outerjoin(entry, entry.id == ReportRevision.entry_id)
            .where(ReportRevision.report_id.in_(report_ids),
                   ReportRevision.status == RevisionStatus.confirmed.value)
            .order_by(ReportRevision.report_id, ReportRevision.revision))
    out: dict[int, list[Correction]] = defaultdict(list)
    previous: dict[int, Decimal] = {}
    for report_id, share, note, decided_at, booked_on in session.execute(stmt):
        if report_id in previous:
            day = booked_on or local_date(decided_at)
            out[report_id].append(Correction(previous[report_id], share, note, day))
        previous[report_id] = share
    return out


def reports(session: Session, enterprise_id: int) -> list[PublicReport]:
    """Confirmed reports, newest period first, with their corrections (two queries)."""
    rows = session.execute(
        select(RevenueReport.id, RevenueReport.period_start, RevenueReport.period_end, RevenueReport.due_on,
               RevenueReport.share_due, RevenueReport.paid_amount, Agreement.periodicity)
        .join(Agreement, Agreement.id == RevenueReport.agreement_id)
        .where(RevenueReport.enterprise_id == enterprise_id,
               RevenueReport.status == ReportStatus.confirmed.value)
        .order_by(RevenueReport.period_start.desc())).all()
    corrections = _corrections(session, [r.id for r in rows])
    return [PublicReport(r.id, period_label(r.period_start, r.periodicity), r.period_start, r.period_end, r.due_on,
                         r.share_due, r.paid_amount, corrections.get(r.id, [])) for r in rows]


def payments(session: Session, enterprise_id: int) -> list[PublicPayment]:
    """Payments received, newest first; reversed ones stay with their reason and date (one query)."""
    reversal = aliased(JournalEntry)
    rows = session.execute(
        select(EnterprisePayment.received_on, EnterprisePayment.amount, EnterprisePayment.status,
               EnterprisePayment.reversal_reason, reversal.effective_date, RevenueReport.period_start,
               Agreement.periodicity, Fund.code, Fund.name, Fund.is_public)
        .join(RevenueReport, RevenueReport.id == EnterprisePayment.report_id)
        .join(Agreement, Agreement.id == RevenueReport.agreement_id)
        .join(Fund, Fund.id == EnterprisePayment.fund_id)
        .outerjoin(reversal, reversal.id == EnterprisePayment.reversal_entry_id)
        .where(EnterprisePayment.enterprise_id == enterprise_id)
        .order_by(EnterprisePayment.received_on.desc(), EnterprisePayment.id.desc())).all()
    return [PublicPayment(r.received_on, r.amount, period_label(r.period_start, r.periodicity),
                          r.code if r.is_public else None, r.name if r.is_public else other_funds_label(),
                          r.status, r.reversal_reason, r.effective_date) for r in rows]


def search_condition(text: str):
    return or_(Enterprise.name.contains(text, autoescape=True), Enterprise.sector.contains(text, autoescape=True),
               Enterprise.community.contains(text, autoescape=True))
