"""Grants made, as the public sees them: the list (filters, sort, totals, pages) and one grant's life. The public
pages (fundapp.disclosure.grant_views), their CSV and the API (fundapp.api.grants) all read through here.

- The selection is `grants_made()`: one grant per Award. An award exists only after an approved decision, so
  nothing of a draft, submitted, declined or withdrawn application is ever selected.
- Every grant is listed; a grant from a fund that is not public shows the fund as "Other funds" (no code, no name,
  no link) and cannot be picked by the fund filter.
- Paid so far = the grant's posted tranche payments whose journal entry was not reversed: what the books paid.
  A reversed payment is shown as a correction (the reversal's date and reason).
- Only the grantee's reports that are marked public and were accepted are shown, with their public text and
  spending; never review notes, reviewers, attachments, contact or bank details, bank references or staff names.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session, aliased, selectinload

from fundapp.disclosure.paging import Page
from fundapp.disclosure.scope import other_funds_label
from fundapp.grants.models import (
    ApplicationVersion,
    Award,
    AwardStatus,
    GrantDecision,
    GrantReport,
    Organisation,
    PaymentStatus,
    Programme,
    ReportSpending,
    ReportStatus,
    Tranche,
    TranchePayment,
    TrancheStatus,
)
from fundapp.ledger.models import Fund, JournalEntry
from fundapp.ledger.services import books_text
from fundapp.money import ZERO

STATUSES = tuple(status.value for status in AwardStatus)
SORTS = {
    "-date": (Award.awarded_on.desc(), Award.id.desc()),
    "date": (Award.awarded_on, Award.id),
    "-amount": (Award.amount.desc(), Award.id.desc()),
    "amount": (Award.amount, Award.id),
}
DEFAULT_SORT = "-date"
Q_MAX = 100
REVERSAL_MEMO = "Reversal of entry #%(seq)d: %(reason)s"  # as fundapp.ledger.services.reverse_entry writes it


@dataclass(frozen=True)
class GrantFilters:
    q: str | None = None
    programme: str | None = None  # programme code
    fund: str | None = None  # code of a public fund
    year: int | None = None  # year of the decision
    status: str | None = None  # AwardStatus value
    sort: str = DEFAULT_SORT

    @property
    def active(self) -> bool:
        return any(v is not None for v in (self.q, self.programme, self.fund, self.year, self.status))


@dataclass(frozen=True)
class GrantRow:
    id: int
    number: str
    title: str
    organisation: str
    programme_code: str
    programme: str
    fund_code: str | None  # None: the fund is not public
    fund_name: str
    amount: Decimal
    decided_on: dt.date
    paid: Decimal
    status: str
    reports_count: int


@dataclass(frozen=True)
class Totals:
    count: int
    amount: Decimal
    paid: Decimal




# --- the selection ------------------------------------------------------------------------------------------------


def grants_made() -> Select:
    """Every grant made: one per award (an award exists only for an approved decision)."""
    return select(Award)


def paid_expr():
    """Per award (correlated): posted tranche payments whose journal entry was not reversed."""
    reversal = aliased(JournalEntry)
    return (select(func.coalesce(func.sum(TranchePayment.amount), ZERO))
            .select_from(TranchePayment)
            .outerjoin(reversal, reversal.reverses_id == TranchePayment.entry_id)
            .where(TranchePayment.award_id == Award.id, TranchePayment.status == PaymentStatus.paid.value,
                   reversal.id.is_(None))
            .correlate(Award).scalar_subquery())


def public_report_condition():
    return GrantReport.is_public.is_(True), GrantReport.status == ReportStatus.accepted.value


def reports_count_expr():
    """Per award (correlated): the reports the public sees."""
    return (select(func.count(GrantReport.id)).where(GrantReport.award_id == Award.id, *public_report_condition())
            .correlate(Award).scalar_subquery())


def _joined(stmt: Select) -> Select:
    return (stmt.join(Organisation, Organisation.id == Award.organisation_id)
            .join(Programme, Programme.id == Award.programme_id)
            .join(Fund, Fund.id == Award.fund_id))


def _filtered(stmt: Select, filters: GrantFilters) -> Select:
    if filters.q:
        stmt = stmt.where(or_(Award.title.icontains(filters.q, autoescape=True),
                              Organisation.name.icontains(filters.q, autoescape=True)))
    if filters.programme:
        stmt = stmt.where(Programme.code == filters.programme)
    if filters.fund:
        stmt = stmt.where(Fund.code == filters.fund, Fund.is_public.is_(True))
    if filters.year:
        stmt = stmt.where(Award.awarded_on >= dt.date(filters.year, 1, 1),
                          Award.awarded_on < dt.date(filters.year + 1, 1, 1))
    if filters.status:
        stmt = stmt.where(Award.status == filters.status)
    return stmt


def rows_query(filters: GrantFilters) -> Select:
    """The rows (columns only: no ORM objects), filtered and sorted. The award's date is its decision's date."""
    stmt = (grants_made().with_only_columns(
        Award.id, Award.number, Award.title, Organisation.name, Programme.code, Programme.title, Fund.code,
        Fund.name, Fund.is_public, Award.amount, Award.awarded_on, paid_expr(), Award.status, reports_count_expr())
        .select_from(Award))
    return _filtered(_joined(stmt), filters).order_by(*SORTS.get(filters.sort, SORTS[DEFAULT_SORT]))


def _row(values) -> GrantRow:
    (award_id, number, title, organisation, programme_code, programme, fund_code, fund_name, fund_public, amount,
     decided_on, paid, status, reports) = values
    return GrantRow(award_id, number, title, organisation, programme_code, programme,
                    fund_code if fund_public else None, fund_name if fund_public else other_funds_label(),
                    amount, decided_on, paid if paid is not None else ZERO, status, reports or 0)


def grant_rows(session: Session, filters: GrantFilters, *, limit: int | None = None, offset: int = 0) -> list[GrantRow]:
    stmt = rows_query(filters)
    if limit is not None:
        stmt = stmt.limit(limit).offset(offset)
    return [_row(values) for values in session.execute(stmt)]


def grant_totals(session: Session, filters: GrantFilters) -> Totals:
    """Count, amount awarded and paid so far over every grant the filters select (one aggregate query)."""
    inner = _filtered(_joined(grants_made().with_only_columns(
        Award.amount.label("amount"), paid_expr().label("paid")).select_from(Award)), filters).subquery()
    count, amount, paid = session.execute(select(func.count(), func.sum(inner.c.amount), func.sum(inner.c.paid))).one()
    return Totals(count or 0, amount if amount is not None else ZERO, paid if paid is not None else ZERO)


def grants_page(session: Session, filters: GrantFilters, page: int, per_page: int) -> tuple[Page, Totals]:
    totals = grant_totals(session, filters)
    items = grant_rows(session, filters, limit=per_page, offset=(page - 1) * per_page) \
        if (page - 1) * per_page < totals.count else []
    return Page(items, page, per_page, totals.count), totals


# --- what the filters offer ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Choices:
    programmes: list[tuple[str, str]]  # (code, title) of programmes with grants
    funds: list[tuple[str, str]]  # (code, name) of public funds with grants
    years: list[int]  # newest first


def filter_choices(session: Session) -> Choices:
    with_grants = select(Award.programme_id)
    programmes = session.execute(select(Programme.code, Programme.title).where(Programme.id.in_(with_grants))
                                 .order_by(Programme.code)).all()
    funds = session.execute(select(Fund.code, Fund.name).where(Fund.is_public.is_(True),
                                                                Fund.id.in_(select(Award.fund_id)))
                            .order_by(Fund.code)).all()
    first, last = session.execute(select(func.min(Award.awarded_on), func.max(Award.awarded_on))).one()
    years = list(range(last.year, first.year - 1, -1)) if first and last else []
    return Choices([tuple(p) for p in programmes], [tuple(f) for f in funds], years)


def find_public_fund_code(session: Session, code: str) -> str | None:
    return session.scalar(select(Fund.code).where(Fund.code == code, Fund.is_public.is_(True)))


def find_programme_code(session: Session, code: str) -> str | None:
    """The code if that programme has made grants (a programme without any is not offered as a filter)."""
    return session.scalar(select(Programme.code).where(Programme.code == code,
                                                        Programme.id.in_(select(Award.programme_id))))


# --- one grant ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrancheLine:
    seq: int
    due_on: dt.date
    milestone: str
    amount: Decimal
    status: str  # public: scheduled / paid / cancelled (a payment waiting for approval is still scheduled)


@dataclass(frozen=True)
class PaymentLine:
    tranche_seq: int
    paid_on: dt.date
    amount: Decimal
    reversed_on: dt.date | None = None
    reversal_reason: str = ""

    @property
    def counts(self) -> bool:
        return self.reversed_on is None


@dataclass(frozen=True)
class SpendingLine:
    category: str
    item: str
    amount: Decimal


@dataclass(frozen=True)
class ReportView:
    id: int
    kind: str
    period_start: dt.date | None
    period_end: dt.date | None
    accepted_on: dt.date | None
    narrative: str
    outputs: str
    beneficiaries_reached: int
    spending: list[SpendingLine]
    unspent_amount: Decimal | None

    @property
    def spent(self) -> Decimal:
        return sum((line.amount for line in self.spending), ZERO)


@dataclass(frozen=True)
class CloseOut:
    closed_on: dt.date
    released: Decimal  # awarded but never paid: the payable released
    returned: Decimal  # paid and given back by the grantee
    returned_on: dt.date | None


@dataclass
class GrantDetail:
    row: GrantRow
    public_summary: str
    decided_on: dt.date
    project_summary: str
    community: str
    starts_on: dt.date | None
    ends_on: dt.date | None
    beneficiaries_count: int
    tranches: list[TrancheLine] = field(default_factory=list)
    payments: list[PaymentLine] = field(default_factory=list)
    reports: list[ReportView] = field(default_factory=list)
    close_out: CloseOut | None = None

    @property
    def corrections(self) -> list[PaymentLine]:
        return [p for p in self.payments if not p.counts]

    @property
    def outstanding(self) -> Decimal:
        """Still to be paid: awarded − paid − released at close-out."""
        released = self.close_out.released if self.close_out else ZERO
        return max(self.row.amount - self.row.paid - released, ZERO)


def _date(moment: dt.datetime | None) -> dt.date | None:
    return moment.date() if moment is not None else None


def reversal_reason(memo: str, seq: int) -> str:
    """The reason typed when entry `seq` was reversed: the reversal's memo without its prefix (in the books'
    language); the whole memo if it does not have that form."""
    prefix = books_text(REVERSAL_MEMO, seq=seq, reason="")
    return memo[len(prefix):].strip() if memo.startswith(prefix) else memo


def _tranches(session: Session, award_id: int) -> list[TrancheLine]:
    rows = session.execute(select(Tranche.seq, Tranche.due_on, Tranche.milestone, Tranche.amount, Tranche.status)
                           .where(Tranche.award_id == award_id).order_by(Tranche.seq))
    public = {TrancheStatus.awaiting_approval.value: TrancheStatus.scheduled.value}
    return [TrancheLine(seq, due, milestone, amount, public.get(status, status))
            for seq, due, milestone, amount, status in rows]


def _payments(session: Session, award_id: int) -> list[PaymentLine]:
    entry, reversal = aliased(JournalEntry), aliased(JournalEntry)
    rows = session.execute(
        select(Tranche.seq, TranchePayment.paid_on, TranchePayment.amount, reversal.effective_date, reversal.memo,
               entry.seq)
        .join(Tranche, Tranche.id == TranchePayment.tranche_id)
        .join(entry, entry.id == TranchePayment.entry_id)
        .outerjoin(reversal, reversal.reverses_id == entry.id)
        .where(TranchePayment.award_id == award_id, TranchePayment.status == PaymentStatus.paid.value)
        .order_by(TranchePayment.paid_on, TranchePayment.id))
    return [PaymentLine(seq, paid_on, amount, reversed_on, reversal_reason(memo, entry_seq) if reversed_on else "")
            for seq, paid_on, amount, reversed_on, memo, entry_seq in rows]


def _reports(session: Session, award_id: int) -> list[ReportView]:
    reports = session.scalars(
        select(GrantReport).where(GrantReport.award_id == award_id, *public_report_condition())
        .options(selectinload(GrantReport.spending).selectinload(ReportSpending.budget_line))
        .order_by(GrantReport.submitted_at, GrantReport.id))
    return [ReportView(r.id, r.kind, r.period_start, r.period_end, _date(r.reviewed_at), r.narrative, r.outputs,
                       r.beneficiaries_reached,
                       [SpendingLine(s.budget_line.category, s.budget_line.item, s.amount)
                        for s in sorted(r.spending, key=lambda s: s.budget_line.position) if s.amount > 0],
                       r.unspent_amount)
            for r in reports]


def _close_out(session: Session, award: Award) -> CloseOut | None:
    if award.status != AwardStatus.closed.value or award.closed_on is None:
        return None
    returned_on = None
    if award.returned_amount > 0:
        returned_on = session.scalar(select(JournalEntry.effective_date).where(
            JournalEntry.idempotency_key == f"grant-close:{award.id}:return"))
    return CloseOut(award.closed_on, award.released_amount, award.returned_amount, returned_on)


def _version(session: Session, application_id: int) -> ApplicationVersion | None:
    """The awarded (last submitted) version of the application: its summary is public once the grant is made."""
    return session.scalar(select(ApplicationVersion).where(
        ApplicationVersion.application_id == application_id, ApplicationVersion.submitted_at.is_not(None))
        .order_by(ApplicationVersion.version.desc()).limit(1))


def grant_detail(session: Session, award_id: int) -> GrantDetail | None:
    """One grant's public record, or None if there is no such grant. A fixed number of queries."""
    values = session.execute(rows_query(GrantFilters()).where(Award.id == award_id)).one_or_none()
    if values is None:
        return None
    award, decision = session.execute(select(Award, GrantDecision).join(
        GrantDecision, GrantDecision.id == Award.decision_id).where(Award.id == award_id)).one()
    version = _version(session, award.application_id)
    return GrantDetail(
        row=_row(values), public_summary=decision.public_summary, decided_on=decision.decided_on,
        project_summary=version.summary if version else "", community=version.community if version else "",
        starts_on=version.starts_on if version else None, ends_on=version.ends_on if version else None,
        beneficiaries_count=version.beneficiaries_count if version else 0,
        tranches=_tranches(session, award_id), payments=_payments(session, award_id),
        reports=_reports(session, award_id), close_out=_close_out(session, award))
