"""The year-end close: revenue and expense of a year are closed into net assets by one entry dated 12-31.

Rules (see docs/year-end.md):

- The closing entry is dated 31 December of the year, so December must still be open when the year is closed.
  `close_year` posts the entry and then closes every open month up to December (in order, through
  `periods.close_through`), so the year is locked by the same transaction.
- A year closes once (the entry's idempotency key is "year-close:<year>"), only after it has ended, and only
  when no earlier year still has revenue or expense that was never closed.
- For every revenue or expense account x fund x net-asset class with a non-zero activity in the year, the
  entry posts the opposite amount; the net of each fund and class goes to 3101 (unrestricted) or 3102
  (restricted) in that same fund and class. The entry therefore balances per fund.

- Expenses are unrestricted: any expense of the year still booked against restricted net assets is released
  first, in the same transaction, by the release entry dated 12-31 (fundapp/ledger/release.py, key
  "restriction-release:<year>-12-31"), so the closing entry closes every expense into 3101 and the release moves
  the fund's total from 3102 to 3101. `plan_close` shows that release (`ClosingPlan.release`) and closing lines as
  they will be after it. If a release dated 12-31 was already posted and restricted expenses were booked on 12-31
  after it, that remainder is closed into 3102 as booked (the statements show it as an implied release).

Amounts come from the period balance rows (`activity_between`), never from scanning lines. Statements of a
closed year must leave the closing entry out of their revenue and expense: `activity_excluding_close` does
that (or add `closing_amounts` back to `activity_between`).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from fundapp.audit.services import AuditTag, record_event
from fundapp.dates import local_today
from fundapp.ledger.models import (
    Account,
    AccountType,
    Fund,
    FundStatus,
    JournalEntry,
    JournalLine,
    NetAssetClass,
    Period,
    PeriodBalance,
)
from fundapp.ledger.periods import close_through
from fundapp.ledger.queries import ZERO, BalanceKey, activity_between
from fundapp.ledger.release import ReleasePlan, post_release, release_entry
from fundapp.ledger.release import _plan_items as _release_items
from fundapp.ledger.services import LedgerError, LineSpec, books_text, lock_date, lock_head, post_entry

SOURCE = "year_close"
NET_ASSET_CODES = {NetAssetClass.unrestricted.value: "3101", NetAssetClass.restricted.value: "3102"}
RESULT_TYPES = (AccountType.revenue.value, AccountType.expense.value)


class YearCloseError(LedgerError):
    """The year cannot be closed (nothing was written)."""


def close_key(year: int) -> str:
    return f"year-close:{year}"


def year_start(year: int) -> dt.date:
    return dt.date(year, 1, 1)


def year_end(year: int) -> dt.date:
    return dt.date(year, 12, 31)


@dataclass(frozen=True)
class ClosingLine:
    """One line of the closing entry. `activity` is the year's movement closed by a revenue/expense line
    (None on the net line to 3101/3102)."""

    account: Account
    fund: Fund
    net_asset_class: str
    amount: Decimal
    activity: Decimal | None = None

    @property
    def is_net(self) -> bool:
        return self.activity is None

    def spec(self) -> LineSpec:
        return LineSpec(self.account, self.fund, self.amount, net_asset_class=self.net_asset_class)


@dataclass(frozen=True)
class FundResult:
    """Revenue, expenses and surplus of one fund and class in the year (revenue and expenses as positives)."""

    fund: Fund
    net_asset_class: str
    revenue: Decimal
    expenses: Decimal

    @property
    def surplus(self) -> Decimal:
        return self.revenue - self.expenses


@dataclass
class ClosingPlan:
    """What closing `year` posts (or posted), and why it may not be closed now."""

    year: int
    lines: list[ClosingLine] = field(default_factory=list)
    results: list[FundResult] = field(default_factory=list)
    entry: JournalEntry | None = None
    blockers: list[str] = field(default_factory=list)
    release: ReleasePlan | None = None  # the release from restriction posted first (dated 12-31), if any

    @property
    def closed(self) -> bool:
        return self.entry is not None

    @property
    def closable(self) -> bool:
        return not self.closed and not self.blockers

    @property
    def surplus(self) -> Decimal:
        return sum((r.surplus for r in self.results), ZERO)

    @property
    def total_debit(self) -> Decimal:
        return sum((line.amount for line in self.lines if line.amount > 0), ZERO)


@dataclass(frozen=True)
class YearClose:
    year: int
    entry: JournalEntry
    periods: list[Period]
    release: JournalEntry | None = None  # the release from restriction posted just before the closing entry


@dataclass(frozen=True)
class YearStatus:
    year: int
    entry: JournalEntry | None  # the closing entry, if closed
    pending: bool  # revenue or expense of the year not (yet) closed
    locked: bool  # December of the year is closed


# --- reads ----------------------------------------------------------------------------------------------------


def _result_account_ids(session: Session) -> list[int]:
    return list(session.scalars(select(Account.id).where(Account.type.in_(RESULT_TYPES))))


def closing_entry(session: Session, year: int) -> JournalEntry | None:
    return session.scalar(select(JournalEntry).where(JournalEntry.idempotency_key == close_key(year)))


def pending_years(session: Session, before: int | None = None) -> list[int]:
    """Years whose revenue or expense activity is not zero: never closed (a closed year's activity is zero).

    Reads the yearly balance rows only.
    """
    stmt = (
        select(PeriodBalance.period)
        .where(PeriodBalance.grain == "y", PeriodBalance.account_id.in_(_result_account_ids(session)),
               PeriodBalance.amount != 0)
        .distinct()
        .order_by(PeriodBalance.period)
    )
    if before is not None:
        stmt = stmt.where(PeriodBalance.period < before)
    return list(session.scalars(stmt))


def years_overview(session: Session) -> list[YearStatus]:
    """Every year with journal lines, newest first, with its closing status."""
    years = sorted(set(session.scalars(
        select(PeriodBalance.period).where(PeriodBalance.grain == "y", PeriodBalance.line_count > 0).distinct()
    )), reverse=True)
    if not years:
        return []
    entries = {
        entry.idempotency_key: entry
        for entry in session.scalars(select(JournalEntry).where(
            JournalEntry.idempotency_key.in_([close_key(y) for y in years])))
    }
    pending = set(pending_years(session))
    locked_through = lock_date(session)
    return [
        YearStatus(y, entries.get(close_key(y)), y in pending,
                   locked_through is not None and locked_through >= year_end(y))
        for y in years
    ]


def _account(session: Session, code: str) -> Account | None:
    return session.scalar(select(Account).where(Account.code == code))


def _plan_lines(session: Session, year: int, release: ReleasePlan | None = None
                ) -> tuple[list[ClosingLine], list[FundResult], list[str]]:
    """The closing lines from the year's activity (after `release`, if given); problems (closed funds, missing
    accounts) as messages."""
    result_ids = set(_result_account_ids(session))
    activity = {
        key: amount for key, amount in activity_between(session, year_start(year), year_end(year)).items()
        if key[0] in result_ids
    }
    for fund_release in release.funds if release is not None else ():
        for item in fund_release.items:  # the release moves the expense from the restricted to the unrestricted class
            for klass, amount in (("restricted", -item.amount), ("unrestricted", item.amount)):
                key = (item.account.id, fund_release.fund.id, klass)
                activity[key] = activity.get(key, ZERO) + amount
    activity = {key: amount for key, amount in activity.items() if amount != 0}
    if not activity:
        return [], [], []
    accounts = {a.id: a for a in session.scalars(select(Account).where(Account.id.in_({k[0] for k in activity})))}
    funds = {f.id: f for f in session.scalars(select(Fund).where(Fund.id.in_({k[1] for k in activity})))}
    groups: dict[tuple[int, str], list[tuple[Account, Decimal]]] = defaultdict(list)
    for (account_id, fund_id, klass), amount in activity.items():
        groups[(fund_id, klass)].append((accounts[account_id], amount))
    problems: list[str] = []
    net_accounts = {klass: _account(session, code) for klass, code in NET_ASSET_CODES.items()}
    lines: list[ClosingLine] = []
    results: list[FundResult] = []
    for fund_id, klass in sorted(groups, key=lambda k: (funds[k[0]].code, k[1] != "unrestricted")):
        fund = funds[fund_id]
        if fund.status != FundStatus.active.value:
            problems.append(_("Fund %(fund)s is not active, but the closing entry needs a line in it; reopen it "
                              "to close the year.", fund=fund.code))
        items = sorted(groups[(fund_id, klass)], key=lambda item: item[0].code)
        revenue = expenses = ZERO
        for account, amount in items:
            if not account.is_active:
                problems.append(_("Account %(code)s is not active, but the closing entry needs a line in it; "
                                  "reactivate it to close the year.", code=account.code))
            if account.type == AccountType.revenue.value:
                revenue -= amount
            else:
                expenses += amount
            lines.append(ClosingLine(account, fund, klass, -amount, activity=amount))
        net = sum((amount for _account_, amount in items), ZERO)
        target = net_accounts.get(klass)
        if target is None or not target.is_active:
            problems.append(_("Account %(code)s is missing or not active; the year's result is closed into it.",
                              code=NET_ASSET_CODES.get(klass, "3101")))
        elif net != 0:
            lines.append(ClosingLine(target, fund, klass, net))
        results.append(FundResult(fund, klass, revenue, expenses))
    return lines, results, list(dict.fromkeys(problems))


def plan_close(session: Session, year: int, today: dt.date | None = None) -> ClosingPlan:
    """The closing entry `close_year` would post (or the one posted), and every reason it cannot be posted."""
    today = today or local_today()
    if not 1900 <= year <= 9998:
        return ClosingPlan(year, blockers=[_("Choose a valid year.")])
    entry = closing_entry(session, year)
    if entry is not None:
        return _posted_plan(session, year, entry)
    release: ReleasePlan | None = None
    release_funds, release_lines, release_problems = _release_items(session, year_end(year))
    if release_lines and release_entry(session, year_end(year)) is None:
        release = ReleasePlan(year_end(year), release_funds, release_lines)
    lines, results, problems = _plan_lines(session, year, release)
    if release is not None:
        problems = list(dict.fromkeys(release_problems + problems))
    blockers: list[str] = []
    if year_end(year) >= today:
        blockers.append(_("%(year)s has not ended yet; it can be closed from %(date)s.",
                          year=year, date=year_start(year + 1).isoformat()))
    locked_through = lock_date(session)
    if locked_through is not None and locked_through >= year_end(year):
        blockers.append(_("The books are closed through %(date)s: the closing entry of %(year)s, dated %(end)s, "
                          "can no longer be posted. Close a year before closing its December.",
                          date=locked_through.isoformat(), year=year, end=year_end(year).isoformat()))
    earlier = pending_years(session, before=year)
    if earlier:
        blockers.append(_("Close %(year)s first: years close in order, and %(year)s still has revenue or "
                          "expenses that were never closed.", year=earlier[0]))
    if not lines:
        blockers.append(_("%(year)s has no revenue or expense to close.", year=year))
    blockers.extend(problems)
    return ClosingPlan(year, lines, results, None, blockers, release)


def _posted_plan(session: Session, year: int, entry: JournalEntry) -> ClosingPlan:
    lines = [
        ClosingLine(line.account, line.fund, line.net_asset_class, line.amount,
                    activity=None if line.account.type == AccountType.net_assets.value else -line.amount)
        for line in entry.lines
    ]
    totals: dict[tuple[int, str], list] = {}
    for line in lines:
        if line.is_net:
            continue
        bucket = totals.setdefault((line.fund.id, line.net_asset_class), [line.fund, ZERO, ZERO])
        if line.account.type == AccountType.revenue.value:
            bucket[1] -= line.activity
        else:
            bucket[2] += line.activity
    results = [FundResult(fund, klass, revenue, expenses) for (_f, klass), (fund, revenue, expenses) in totals.items()]
    return ClosingPlan(year, lines, results, entry, [])


# --- the close ------------------------------------------------------------------------------------------------


def close_year(session: Session, year: int, actor: Any | None, today: dt.date | None = None) -> YearClose:
    """Post the closing entry of `year` (dated 12-31) and close every open month through December.

    Expenses still booked against restricted net assets are released first by the release entry dated 12-31
    (same transaction; see fundapp/ledger/release.py), so the closing entry closes them into 3101.

    Raises YearCloseError, having written nothing, if the year is already closed, has not ended, has its
    December locked already, follows a year never closed, or has nothing to close.
    """
    today = today or local_today()
    # Hold the chain-head lock from the reading of the year's balances to the commit: an entry posted into
    # December meanwhile would otherwise miss the close (posting waits for the lock, then finds December closed).
    lock_head(session)
    plan = plan_close(session, year, today)
    if plan.closed:
        raise YearCloseError(_("%(year)s is already closed (entry #%(seq)d).", year=year, seq=plan.entry.seq))
    if plan.blockers:
        raise YearCloseError(plan.blockers[0])
    release = post_release(session, plan.release, actor) if plan.release is not None else None
    entry = post_entry(
        session,
        effective_date=year_end(year),
        memo=books_text("Year-end close of %(year)s", year=str(year)),
        lines=[line.spec() for line in plan.lines],
        idempotency_key=close_key(year),
        source_type=SOURCE,
        source_id=str(year),
        author=actor,
    )
    periods = close_through(session, year, 12, actor, today=today)
    record_event(
        session, AuditTag.year_closed, actor, "year", year,
        after={"entry_id": entry.id, "seq": entry.seq, "lines": len(plan.lines), "surplus": str(plan.surplus),
               "closed_through": periods[-1].label, "release_entry_id": release.id if release else None},
    )
    return YearClose(year, entry, periods, release)


# --- for statements -------------------------------------------------------------------------------------------


def closing_amounts(session: Session, year: int, *, fund_ids: Iterable[int] | None = None) -> dict[BalanceKey, Decimal]:
    """The closing entry's amount per (account, fund, class) (revenue, expense and 3101/3102 lines); {} if open."""
    funds = set(fund_ids) if fund_ids is not None else None
    stmt = (
        select(JournalLine.account_id, JournalLine.fund_id, JournalLine.net_asset_class, JournalLine.amount)
        .join(JournalEntry, JournalEntry.id == JournalLine.entry_id)
        .where(JournalEntry.idempotency_key == close_key(year))
    )
    out: dict[BalanceKey, Decimal] = defaultdict(lambda: ZERO)
    for account_id, fund_id, klass, amount in session.execute(stmt):
        if funds is None or fund_id in funds:
            out[(account_id, fund_id, klass)] += amount
    return dict(out)


def activity_excluding_close(
    session: Session, start: dt.date, end: dt.date, *, fund_ids: Iterable[int] | None = None
) -> dict[BalanceKey, Decimal]:
    """`activity_between` without the closing entries of the years ending inside [start, end].

    This is what a statement of activities reads: a closed year still shows its revenue and expenses, and
    3101/3102 move only by real entries (releases, direct postings), not by the close.
    """
    fund_ids = list(fund_ids) if fund_ids is not None else None
    moves = dict(activity_between(session, start, end, fund_ids=fund_ids))
    years = session.scalars(
        select(JournalEntry.effective_date).where(
            JournalEntry.source_type == SOURCE, JournalEntry.effective_date >= start, JournalEntry.effective_date <= end
        )
    )
    for day in years:
        for key, amount in closing_amounts(session, day.year, fund_ids=fund_ids).items():
            moves[key] = moves.get(key, ZERO) - amount
    return {key: value for key, value in moves.items() if value != 0}
