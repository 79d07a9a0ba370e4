"""Release from restriction (限定性净资产转为非限定性净资产) at period end.

An expense is always unrestricted (民间非营利组织会计制度): spending a restricted gift releases the restriction.
Grant awards post the release when they are made (fundapp/grants/decisions.py), but an expense entered by hand
against a restricted fund is often booked with the restricted class and no release. `release_restrictions` posts
what is missing, as ONE entry dated `through` (source "restriction_release", key "restriction-release:<date>"):

- per fund and expense account with a restricted-class balance B: Dr the account B (unrestricted class),
  Cr the account B (restricted class) — the expense moves to the unrestricted column;
- per fund, for the total T of its B: Dr 3102 T (restricted), Cr 3101 T (unrestricted) — the release itself.

What remains to release is the restricted-class balance of the expense accounts itself (a release moves it to the
unrestricted class), counted from the start of `through`'s year: B = balance as of `through` − balance as of the
previous 31 December, read from the balance rows (`balances_as_of`), never from the lines. Counting within the year
keeps each year's releases inside that year: a year not yet closed is released by its own close (dated 12-31,
see yearend.py), whatever was released in the next year meanwhile.

Refused, with nothing written: nothing to release; `through` in the future or in a closed month; a release dated
later in the same year exists (its amounts already include everything up to its date, so releasing again at an
earlier date would release twice); a release on the same date exists (the idempotency key); a line would need an
inactive fund or account, or 3101/3102 is missing.

The entry changes neither the assets nor the net assets of any fund, class by class, as the statements read them
(3101 is unrestricted and 3102 restricted; revenue and expense by their lines' class): it only shows the release.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from fundapp.audit.services import AuditTag, record_event
from fundapp.dates import local_today
from fundapp.ledger.models import Account, AccountType, Fund, FundStatus, JournalEntry, NetAssetClass
from fundapp.ledger.queries import ZERO, balances_as_of
from fundapp.ledger.services import LedgerError, LineSpec, books_text, lock_date, lock_head, post_entry

SOURCE = "restriction_release"
U, R = NetAssetClass.unrestricted.value, NetAssetClass.restricted.value
UNRESTRICTED_CODE, RESTRICTED_CODE = "3101", "3102"


class ReleaseError(LedgerError):
    """The release cannot be posted (nothing was written)."""


def release_key(through: dt.date) -> str:
    return f"restriction-release:{through.isoformat()}"


@dataclass(frozen=True)
class ReleaseLine:
    account: Account
    fund: Fund
    net_asset_class: str
    amount: Decimal

    def spec(self) -> LineSpec:
        return LineSpec(self.account, self.fund, self.amount, net_asset_class=self.net_asset_class)


@dataclass(frozen=True)
class AccountRelease:
    """The restricted-class expense of one account in one fund that the release moves to unrestricted."""

    account: Account
    amount: Decimal


@dataclass(frozen=True)
class FundRelease:
    fund: Fund
    items: list[AccountRelease]

    @property
    def total(self) -> Decimal:
        return sum((item.amount for item in self.items), ZERO)


@dataclass
class ReleasePlan:
    """What `release_restrictions(through)` would post (or posted), and every reason it cannot be posted now."""

    through: dt.date
    funds: list[FundRelease] = field(default_factory=list)
    lines: list[ReleaseLine] = field(default_factory=list)
    blockers: list[str] = field(default_factory=list)
    entry: JournalEntry | None = None  # the release already posted on `through`, if any

    @property
    def total(self) -> Decimal:
        return sum((f.total for f in self.funds), ZERO)

    @property
    def total_debit(self) -> Decimal:
        return sum((line.amount for line in self.lines if line.amount > 0), ZERO)

    @property
    def postable(self) -> bool:
        return bool(self.lines) and not self.blockers


# --- reads ----------------------------------------------------------------------------------------------------


def _account(session: Session, code: str) -> Account | None:
    return session.scalar(select(Account).where(Account.code == code))


def release_entry(session: Session, through: dt.date) -> JournalEntry | None:
    return session.scalar(select(JournalEntry).where(JournalEntry.idempotency_key == release_key(through)))


def later_release(session: Session, through: dt.date) -> JournalEntry | None:
    """A release dated after `through` in the same year (the latest), if any."""
    return session.scalar(
        select(JournalEntry)
        .where(JournalEntry.source_type == SOURCE, JournalEntry.effective_date > through,
               JournalEntry.effective_date <= dt.date(through.year, 12, 31))
        .order_by(JournalEntry.effective_date.desc())
        .limit(1)
    )


def latest_release(session: Session) -> JournalEntry | None:
    return session.scalar(select(JournalEntry).where(JournalEntry.source_type == SOURCE)
                          .order_by(JournalEntry.effective_date.desc()).limit(1))


def unreleased(session: Session, through: dt.date) -> dict[tuple[int, int], Decimal]:
    """Restricted-class expense not yet released, per (account, fund), booked from 1 January of `through`'s year
    to `through` (balance rows only: two `balances_as_of`)."""
    expense_ids = list(session.scalars(select(Account.id).where(Account.type == AccountType.expense.value)))
    if not expense_ids:
        return {}
    closing = balances_as_of(session, through, account_ids=expense_ids)
    opening = balances_as_of(session, dt.date(through.year - 1, 12, 31), account_ids=expense_ids)
    out: dict[tuple[int, int], Decimal] = defaultdict(lambda: ZERO)
    for balances, sign in ((closing, 1), (opening, -1)):
        for (account_id, fund_id, klass), amount in balances.items():
            if klass == R:
                out[(account_id, fund_id)] += sign * amount
    return {key: value for key, value in out.items() if value != 0}


def default_through(session: Session, today: dt.date | None = None) -> dt.date:
    """The last day of the latest month that has ended, if it is still open; otherwise today."""
    today = today or local_today()
    last_month_end = today.replace(day=1) - dt.timedelta(days=1)
    locked = lock_date(session)
    return last_month_end if locked is None or last_month_end > locked else today


def _plan_items(session: Session, through: dt.date) -> tuple[list[FundRelease], list[ReleaseLine], list[str]]:
    amounts = unreleased(session, through)
    if not amounts:
        return [], [], []
    accounts = {a.id: a for a in session.scalars(select(Account).where(Account.id.in_({k[0] for k in amounts})))}
    funds = {f.id: f for f in session.scalars(select(Fund).where(Fund.id.in_({k[1] for k in amounts})))}
    per_fund: dict[int, list[AccountRelease]] = defaultdict(list)
    for (account_id, fund_id), amount in amounts.items():
        per_fund[fund_id].append(AccountRelease(accounts[account_id], amount))
    problems: list[str] = []
    unrestricted, restricted = _account(session, UNRESTRICTED_CODE), _account(session, RESTRICTED_CODE)
    for code, target in ((UNRESTRICTED_CODE, unrestricted), (RESTRICTED_CODE, restricted)):
        if target is None or not target.is_active:
            problems.append(_("Account %(code)s is missing or not active; the release is posted into it.", code=code))
    releases: list[FundRelease] = []
    lines: list[ReleaseLine] = []
    for fund_id in sorted(per_fund, key=lambda f: funds[f].code):
        fund = funds[fund_id]
        release = FundRelease(fund, sorted(per_fund[fund_id], key=lambda item: item.account.code))
        releases.append(release)
        if fund.status != FundStatus.active.value:
            problems.append(_("Fund %(fund)s is not active, but the release needs a line in it; reopen it to "
                              "release its restricted expenses.", fund=fund.code))
        for item in release.items:
            if not item.account.is_active:
                problems.append(_("Account %(code)s is not active, but the release needs a line in it; reactivate "
                                  "it to release the restricted expenses booked on it.", code=item.account.code))
            lines.append(ReleaseLine(item.account, fund, U, item.amount))
            lines.append(ReleaseLine(item.account, fund, R, -item.amount))
        if release.total != 0 and unrestricted is not None and restricted is not None:
            lines.append(ReleaseLine(restricted, fund, R, release.total))
            lines.append(ReleaseLine(unrestricted, fund, U, -release.total))
    return releases, lines, list(dict.fromkeys(problems))


def plan_release(session: Session, through: dt.date, today: dt.date | None = None) -> ReleasePlan:
    """The release `release_restrictions` would post through `through`, and every reason it cannot be posted."""
    today = today or local_today()
    if not dt.date(1900, 1, 1) <= through <= dt.date(9998, 12, 31):
        return ReleasePlan(through, blockers=[_("Choose a valid date.")])
    entry = release_entry(session, through)
    funds, lines, problems = _plan_items(session, through)
    blockers: list[str] = []
    if entry is not None:
        blockers.append(_("Restrictions were already released through %(date)s (entry #%(seq)d); choose a later "
                          "date to release expenses booked since.", date=through.isoformat(), seq=entry.seq))
    if through > today:
        blockers.append(_("%(date)s is in the future: restrictions are released for expenses already booked, "
                          "through today at the latest.", date=through.isoformat()))
    locked = lock_date(session)
    if locked is not None and through <= locked:
        blockers.append(_("The books are closed through %(locked)s: a release dated %(date)s can no longer be "
                          "posted. Choose a later date.", locked=locked.isoformat(), date=through.isoformat()))
    later = later_release(session, through)
    if later is not None:
        blockers.append(_("Restrictions were already released through %(later)s (entry #%(seq)d), which includes "
                          "everything up to %(date)s: choose %(later)s or a later date.",
                          later=later.effective_date.isoformat(), seq=later.seq, date=through.isoformat()))
    if not lines and entry is None:
        blockers.append(_("Nothing to release through %(date)s: no expense of %(year)s is booked against "
                          "restricted net assets without its release.", date=through.isoformat(), year=through.year))
    blockers.extend(problems)
    return ReleasePlan(through, funds, lines, list(dict.fromkeys(blockers)), entry)


# --- the release ----------------------------------------------------------------------------------------------


def post_release(session: Session, plan: ReleasePlan, actor: Any | None) -> JournalEntry:
    """Post a checked plan (no blockers) and record the audit event. For `release_restrictions` and the close."""
    through = plan.through
    entry = post_entry(
        session,
        effective_date=through,
        memo=books_text("Restricted net assets released to unrestricted net assets (through %(date)s)",
                        date=through.isoformat()),
        lines=[line.spec() for line in plan.lines],
        idempotency_key=release_key(through),
        source_type=SOURCE,
        source_id=through.isoformat(),
        author=actor,
    )
    record_event(
        session, AuditTag.restrictions_released, actor, "journal_entry", entry.id,
        after={"through": through, "seq": entry.seq, "total": str(plan.total),
               "funds": {f.fund.code: str(f.total) for f in plan.funds}},
    )
    return entry


def release_restrictions(session: Session, through: dt.date, actor: Any | None,
                         today: dt.date | None = None) -> JournalEntry:
    """Post the release of every restricted-class expense booked up to `through` as one entry dated `through`.

    Raises ReleaseError, having written nothing, when the plan has a blocker (see the module docstring).
    """
    # Hold the chain-head lock from reading the balances to the commit, so an expense posted meanwhile is either
    # in the release or posted after it.
    lock_head(session)
    plan = plan_release(session, through, today)
    if plan.blockers:
        raise ReleaseError(plan.blockers[0])
    return post_release(session, plan, actor)
