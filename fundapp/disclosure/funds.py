"""Data of the public fund pages, their CSV and the funds API: one set of functions, so all three show the same numbers.

- Only public funds are listed by name (fundapp.disclosure.scope); the net assets of the others are one
  "other funds" figure, so listed funds + other funds = the books' total net assets.
- Balances are `fund_net_assets` (period balance rows); income and spending of the year come from
  `activity_excluding_close` (revenue accounts: credit side = income; expense accounts: spending), the monthly
  series from the month balance rows grouped by month and account type, with year-end closing entries left out
  (as fundapp.reports.annual.monthly_series does). Every read is a GROUP BY or a bounded list: the number of
  queries and rows read do not grow with the ledger or with the number of funds.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from fundapp.disclosure.scope import donor_public_name, public_funds_query
from fundapp.donations.models import Donation, DonationStatus
from fundapp.grants.models import Award, GrantDecision, Organisation
from fundapp.ledger.models import Account, AccountType, Fund, FundStatus, PeriodBalance
from fundapp.ledger.queries import fund_net_assets
from fundapp.ledger.yearend import activity_excluding_close, closing_amounts

ZERO = Decimal("0.00")
SORTS = ("code", "name", "balance", "income")
MONTHS = 24
DONATION_LIMIT = 20
AWARD_LIMIT = 100
REVENUE, EXPENSE = AccountType.revenue.value, AccountType.expense.value


@dataclass
class PublicFund:
    id: int
    code: str
    name: str
    fund_type: str
    restriction: str
    purpose: str
    status: str
    balance: Decimal = ZERO
    income: Decimal = ZERO  # this year to date
    spending: Decimal = ZERO  # this year to date

    @property
    def is_closed(self) -> bool:
        return self.status == FundStatus.closed.value


@dataclass
class FundList:
    """The listed (public, filtered, sorted) funds, and the figures that tie the list to the books."""

    rows: list[PublicFund]
    other_funds: Decimal  # net assets of the funds that are not public, as one figure
    books_total: Decimal  # net assets of every fund
    filtered: bool

    @property
    def total_balance(self) -> Decimal:
        return sum((row.balance for row in self.rows), ZERO)

    @property
    def total_income(self) -> Decimal:
        return sum((row.income for row in self.rows), ZERO)

    @property
    def total_spending(self) -> Decimal:
        return sum((row.spending for row in self.rows), ZERO)


@dataclass
class MonthFlow:
    month: str  # YYYY-MM
    income: Decimal
    spending: Decimal


@dataclass
class DonationRow:
    received_on: dt.date
    donor: str
    amount: Decimal
    method: str
    reversed: bool
    correction: bool  # this gift corrects an earlier one


@dataclass
class AwardRow:
    id: int
    number: str
    organisation: str
    title: str
    amount: Decimal
    decided_on: dt.date


@dataclass
class FundDetail:
    fund: PublicFund
    monthly: list[MonthFlow]
    donations: list[DonationRow]
    awards: list[AwardRow]
    award_count: int
    award_total: Decimal

    @property
    def monthly_income(self) -> Decimal:
        return sum((m.income for m in self.monthly), ZERO)

    @property
    def monthly_spending(self) -> Decimal:
        return sum((m.spending for m in self.monthly), ZERO)


# --- figures --------------------------------------------------------------------------------------------------


def account_types(session: Session) -> dict[int, str]:
    return dict(session.execute(select(Account.id, Account.type)).all())


def year_flows(session: Session, today: dt.date, fund_ids: list[int] | None = None,
               kinds: dict[int, str] | None = None) -> dict[int, tuple[Decimal, Decimal]]:
    """(income, spending) per fund from 1 January to `today`, year-end closing entries left out."""
    kinds = kinds if kinds is not None else account_types(session)
    income: dict[int, Decimal] = defaultdict(lambda: ZERO)
    spending: dict[int, Decimal] = defaultdict(lambda: ZERO)
    moves = activity_excluding_close(session, today.replace(month=1, day=1), today, fund_ids=fund_ids)
    for (account_id, fund_id, _class), amount in moves.items():
        if kinds.get(account_id) == REVENUE:
            income[fund_id] -= amount
        elif kinds.get(account_id) == EXPENSE:
            spending[fund_id] += amount
    return {fund_id: (income[fund_id], spending[fund_id]) for fund_id in set(income) | set(spending)}


def _public_fund(fund: Fund, balances: dict[int, Decimal], flows: dict[int, tuple[Decimal, Decimal]]) -> PublicFund:
    income, spending = flows.get(fund.id, (ZERO, ZERO))
    return PublicFund(fund.id, fund.code, fund.name, fund.fund_type, fund.restriction, fund.purpose or "",
                      fund.status, balances.get(fund.id, ZERO) + ZERO, income + ZERO, spending + ZERO)


def _sort(rows: list[PublicFund], sort: str) -> None:
    if sort == "name":
        rows.sort(key=lambda row: (row.name, row.code))
    elif sort == "balance":
        rows.sort(key=lambda row: (-row.balance, row.code))
    elif sort == "income":
        rows.sort(key=lambda row: (-row.income, row.code))


def public_funds_stmt(*, text: str | None = None, fund_type: str | None = None):
    stmt = public_funds_query()
    if text:
        stmt = stmt.where(or_(Fund.code.icontains(text, autoescape=True), Fund.name.icontains(text, autoescape=True)))
    if fund_type:
        stmt = stmt.where(Fund.fund_type == fund_type)
    return stmt


def list_public_funds(session: Session, today: dt.date, *, text: str | None = None, fund_type: str | None = None,
                      sort: str = "code") -> FundList:
    """Public funds matching the filters with balance on `today` and the year's income and spending.

    A constant number of queries, whatever the number of funds or journal lines.
    """
    funds = list(session.scalars(public_funds_stmt(text=text, fund_type=fund_type)))
    balances = fund_net_assets(session, today)
    flows = year_flows(session, today)
    rows = [_public_fund(fund, balances, flows) for fund in funds]
    _sort(rows, sort if sort in SORTS else "code")
    public_ids = set(session.scalars(select(Fund.id).where(Fund.is_public.is_(True))))
    other = sum((value for fund_id, value in balances.items() if fund_id not in public_ids), ZERO)
    return FundList(rows=rows, other_funds=other + ZERO, books_total=sum(balances.values(), ZERO) + ZERO,
                    filtered=bool(text or fund_type))


def find_public_fund(session: Session, code: str) -> Fund | None:
    """The public fund with this code, or None (unknown and hidden funds alike)."""
    return session.scalar(public_funds_query().where(Fund.code == code))


def public_fund_figures(session: Session, fund: Fund, today: dt.date,
                        kinds: dict[int, str] | None = None) -> PublicFund:
    balances = fund_net_assets(session, today, fund_ids=[fund.id])
    return _public_fund(fund, balances, year_flows(session, today, [fund.id], kinds))


def month_labels(today: dt.date, months: int = MONTHS) -> list[tuple[int, int]]:
    """(year, month) of the last `months` months, oldest first, ending with `today`'s month."""
    index = today.year * 12 + today.month - 1
    return [divmod(i, 12) for i in range(index - months + 1, index + 1)]


def monthly_flows(session: Session, fund_id: int, today: dt.date, months: int = MONTHS,
                  kinds: dict[int, str] | None = None) -> list[MonthFlow]:
    """Income and spending of the fund per month over the last `months` months, from the month balance rows."""
    kinds = kinds if kinds is not None else account_types(session)
    labels = [(year, month + 1) for year, month in month_labels(today, months)]
    first, last = labels[0][0] * 100 + labels[0][1], labels[-1][0] * 100 + labels[-1][1]
    row = PeriodBalance
    stmt = (select(row.period, row.account_id, func.sum(row.amount))
            .where(row.grain == "m", row.fund_id == fund_id, row.period >= first, row.period <= last)
            .group_by(row.period, row.account_id))
    moves: dict[tuple[int, int], Decimal] = defaultdict(lambda: ZERO)
    for period, account_id, amount in session.execute(stmt):
        moves[(period, account_id)] += amount
    for year in {y for y, m in labels if m == 12}:
        for (account_id, _fund, _class), amount in closing_amounts(session, year, fund_ids=[fund_id]).items():
            moves[(year * 100 + 12, account_id)] -= amount  # the closing entry is dated 31 December
    income: dict[int, Decimal] = defaultdict(lambda: ZERO)
    spending: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for (period, account_id), amount in moves.items():
        if kinds.get(account_id) == REVENUE:
            income[period] -= amount
        elif kinds.get(account_id) == EXPENSE:
            spending[period] += amount
    return [MonthFlow(f"{y}-{m:02d}", income[y * 100 + m] + ZERO, spending[y * 100 + m] + ZERO) for y, m in labels]


def latest_donations(session: Session, fund_id: int, limit: int = DONATION_LIMIT) -> list[DonationRow]:
    """The fund's latest gifts, donors as shown publicly; reversed gifts are kept and marked."""
    stmt = (select(Donation).where(Donation.fund_id == fund_id)
            .order_by(Donation.received_on.desc(), Donation.id.desc()).limit(limit))
    return [DonationRow(d.received_on, donor_public_name(d.donor), d.amount, d.method,
                        d.status == DonationStatus.reversed.value, d.corrects_id is not None)
            for d in session.scalars(stmt)]


def fund_awards(session: Session, fund_id: int, limit: int = AWARD_LIMIT) -> tuple[list[AwardRow], int, Decimal]:
    """The grants awarded from the fund, newest decision first (at most `limit`), and their count and total."""
    stmt = (select(Award.id, Award.number, Organisation.name, Award.title, Award.amount, GrantDecision.decided_on)
            .join(Organisation, Organisation.id == Award.organisation_id)
            .join(GrantDecision, GrantDecision.id == Award.decision_id)
            .where(Award.fund_id == fund_id)
            .order_by(GrantDecision.decided_on.desc(), Award.id.desc()).limit(limit))
    rows = [AwardRow(*values) for values in session.execute(stmt)]
    count, total = session.execute(select(func.count(Award.id), func.sum(Award.amount))
                                   .where(Award.fund_id == fund_id)).one()
    return rows, count, (total or ZERO) + ZERO


def fund_detail(session: Session, fund: Fund, today: dt.date) -> FundDetail:
    kinds = account_types(session)
    awards, count, total = fund_awards(session, fund.id)
    return FundDetail(fund=public_fund_figures(session, fund, today, kinds),
                      monthly=monthly_flows(session, fund.id, today, kinds=kinds),
                      donations=latest_donations(session, fund.id), awards=awards, award_count=count,
                      award_total=total)

