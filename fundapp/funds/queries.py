"""Reads for the fund pages: the filtered fund list with balances, one fund's summary and its history.

Every figure comes from fundapp.ledger.queries (monthly balance rows + recent lines); nothing here writes.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session, contains_eager, lazyload

from fundapp.ledger.models import Account, AccountType, Fund, JournalEntry, JournalLine
from fundapp.ledger.queries import DebitCredit, balances_as_of, fund_lines_query, fund_net_assets

ZERO = Decimal("0.00")
BALANCE_SHEET_TYPES = (AccountType.asset.value, AccountType.liability.value)


def funds_query(*, text: str | None = None, fund_type: str | None = None, status: str | None = None) -> Select:
    stmt = select(Fund)
    if text:
        stmt = stmt.where(or_(Fund.code.icontains(text, autoescape=True), Fund.name.icontains(text, autoescape=True)))
    if fund_type:
        stmt = stmt.where(Fund.fund_type == fund_type)
    if status:
        stmt = stmt.where(Fund.status == status)
    return stmt.order_by(Fund.code)


def list_funds_with_balances(
    session: Session, as_of: dt.date, *, sort: str = "code", **filters
) -> list[tuple[Fund, Decimal]]:
    """(fund, net assets on `as_of`) for the matching funds, in two queries whatever the number of funds."""
    funds = list(session.scalars(funds_query(**filters)))
    balances = fund_net_assets(session, as_of)
    rows = [(fund, balances.get(fund.id, ZERO)) for fund in funds]
    if sort == "name":
        rows.sort(key=lambda row: (row[0].name, row[0].code))
    elif sort == "balance":
        rows.sort(key=lambda row: (-row[1], row[0].code))
    return rows


def total_of(rows: list[tuple[Fund, Decimal]]) -> Decimal:
    return sum((balance for _fund, balance in rows), ZERO)


@dataclass
class AccountBalance(DebitCredit):
    account: Account
    net_asset_class: str
    balance: Decimal  # debit positive


@dataclass
class FundSummary:
    as_of: dt.date
    balances: list[AccountBalance] = field(default_factory=list)
    income: Decimal = ZERO  # revenue of the year to date
    spending: Decimal = ZERO  # expenses of the year to date

    @property
    def net_assets(self) -> Decimal:
        return sum((row.balance for row in self.balances if row.account.type in BALANCE_SHEET_TYPES), ZERO)

    @property
    def total_debit(self) -> Decimal:
        return sum((row.debit for row in self.balances), ZERO)

    @property
    def total_credit(self) -> Decimal:
        return sum((row.credit for row in self.balances), ZERO)


def fund_summary(session: Session, fund: Fund, as_of: dt.date) -> FundSummary:
    """Balance per account and class on `as_of`, and income and spending from 1 January to `as_of`."""
    balances = balances_as_of(session, as_of, fund_ids=[fund.id])
    opening = balances_as_of(session, as_of.replace(month=1, day=1) - dt.timedelta(days=1), fund_ids=[fund.id])
    moves = {key: balances.get(key, ZERO) - opening.get(key, ZERO) for key in set(balances) | set(opening)}
    ids = {key[0] for key in balances} | {key[0] for key in moves}
    accounts = {a.id: a for a in session.scalars(select(Account).where(Account.id.in_(ids)))} if ids else {}
    summary = FundSummary(as_of=as_of)
    for (account_id, _fund_id, klass), amount in balances.items():
        summary.balances.append(AccountBalance(accounts[account_id], klass, amount))
    summary.balances.sort(key=lambda row: (row.account.code, row.net_asset_class))
    for (account_id, _fund_id, _klass), amount in moves.items():
        if accounts[account_id].type == AccountType.revenue.value:
            summary.income -= amount
        elif accounts[account_id].type == AccountType.expense.value:
            summary.spending += amount
    return summary


def fund_history_query(fund_id: int) -> Select:
    """The fund's lines, newest entry first, each with its entry loaded in the same query."""
    return fund_lines_query(fund_id).options(
        contains_eager(JournalLine.entry).options(lazyload(JournalEntry.lines))
    )


def net_assets_after_entries(session: Session, fund_id: int, lines: Sequence[JournalLine]) -> dict[int, Decimal]:
    """The fund's net assets just after each entry on a history page (in posting order), in two queries.

    `lines` are ordered newest entry first. The figure follows the posting sequence, so an entry dated in the
    past shows the balance as it stood when it was posted, not as of its date.
    """
    if not lines:
        return {}
    in_fund = (JournalLine.fund_id == fund_id, Account.type.in_(BALANCE_SHEET_TYPES))
    top_seq = max(line.entry.seq for line in lines)
    running = session.scalar(
        select(func.coalesce(func.sum(JournalLine.amount), 0))
        .join(Account, Account.id == JournalLine.account_id)
        .join(JournalEntry, JournalEntry.id == JournalLine.entry_id)
        .where(*in_fund, JournalEntry.seq <= top_seq)
    )
    entry_ids = list(dict.fromkeys(line.entry_id for line in lines))
    moves = defaultdict(lambda: ZERO)
    stmt = (
        select(JournalLine.entry_id, func.sum(JournalLine.amount))
        .join(Account, Account.id == JournalLine.account_id)
        .where(*in_fund, JournalLine.entry_id.in_(entry_ids))
        .group_by(JournalLine.entry_id)
    )
    moves.update(dict(session.execute(stmt).all()))
    after = {}
    for entry_id in entry_ids:
        after[entry_id] = running
        running -= moves[entry_id]
    return after
