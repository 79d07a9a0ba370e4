"""Fund statements for donors and fund holders: one fund over a period, from its opening to its closing balance.

    opening balance (the fund's net assets the day before `start`)
  + gifts (4101) + other income (every other revenue account, by account)
  - grants awarded (5101 lines of grant_award / grant_close entries) - other programme costs (the rest of 5101)
  - management, fundraising and other costs (every other expense account, by account)
  (+ other changes of net assets: direct postings to 3101/3102, shown with a warning)
  = closing balance (the fund's net assets on `end`)

Sums come from the period balance rows (`activity_excluding_close`: a year-end close is neither income nor
spending); only the grants line reads journal lines (by source type). The closing figure is read from the balances,
not computed, so a statement whose lines do not explain it says so instead of silently balancing.

Donor names are never listed for anonymous gifts (no donor, or a donor anonymous in public); the donor's copy
(`public=True`) lists no names at all. Nothing here writes.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fundapp.donations.models import DONATION_INCOME, Donation, DonationStatus, Donor
from fundapp.grants.models import Award
from fundapp.ledger.models import Account, AccountType, Fund, JournalEntry, JournalLine
from fundapp.ledger.queries import ZERO, fund_net_assets
from fundapp.ledger.yearend import activity_excluding_close

PROGRAMME_COSTS = "5101"
GRANT_SOURCES = ("grant_award", "grant_close")


@dataclass(frozen=True)
class AccountLine:
    code: str
    name: str
    name_en: str
    amount: Decimal  # positive: income received or money spent


@dataclass(frozen=True)
class GrantLine:
    number: str
    organisation: str
    title: str
    awarded_on: dt.date
    amount: Decimal
    paid: Decimal  # paid so far (today), not only in the period


@dataclass(frozen=True)
class DonorLine:
    name: str
    gifts: int
    amount: Decimal


@dataclass
class FundStatement:
    fund: Fund
    start: dt.date
    end: dt.date
    opening: Decimal
    gifts: Decimal
    other_income: list[AccountLine]
    grants_awarded: Decimal
    other_programme: Decimal
    costs: list[AccountLine]  # management, fundraising and other expenses, by account
    closing: Decimal
    grants: list[GrantLine] = field(default_factory=list)
    gift_count: int = 0
    donor_count: int = 0
    anonymous_gifts: int = 0
    donors: list[DonorLine] = field(default_factory=list)  # named donors only; empty on the donor's copy
    net_asset_postings: Decimal = ZERO  # direct movements of 3101/3102 in the fund (credit positive)

    @property
    def opening_date(self) -> dt.date:
        return self.start - dt.timedelta(days=1)

    @property
    def total_income(self) -> Decimal:
        return self.gifts + sum((line.amount for line in self.other_income), ZERO)

    @property
    def total_spending(self) -> Decimal:
        return self.grants_awarded + self.other_programme + sum((line.amount for line in self.costs), ZERO)

    @property
    def surplus(self) -> Decimal:
        return self.total_income - self.total_spending

    @property
    def other_changes(self) -> Decimal:
        """What moved the fund's net assets besides income and spending (zero in a clean fund)."""
        return self.closing - self.opening - self.surplus

    @property
    def reconciles(self) -> bool:
        """Opening + income - spending = closing, with nothing else moving net assets."""
        return self.opening + self.total_income - self.total_spending == self.closing


def _accounts(session: Session, ids) -> dict[int, Account]:
    return {a.id: a for a in session.scalars(select(Account).where(Account.id.in_(list(ids))))}


def _grant_costs(session: Session, fund: Fund, start: dt.date, end: dt.date) -> Decimal:
    stmt = (
        select(func.sum(JournalLine.amount))
        .join(JournalEntry, JournalLine.entry_id == JournalEntry.id)
        .join(Account, JournalLine.account_id == Account.id)
        .where(JournalLine.fund_id == fund.id, Account.code == PROGRAMME_COSTS,
               JournalEntry.source_type.in_(GRANT_SOURCES),
               JournalEntry.effective_date >= start, JournalEntry.effective_date <= end)
    )
    return Decimal(session.scalar(stmt) or ZERO)


def _grants(session: Session, fund: Fund, start: dt.date, end: dt.date) -> list[GrantLine]:
    awards = session.scalars(
        select(Award).where(Award.fund_id == fund.id, Award.awarded_on >= start, Award.awarded_on <= end)
        .order_by(Award.awarded_on, Award.id))
    return [GrantLine(a.number, a.organisation.name, a.title, a.awarded_on, a.amount, a.paid_amount) for a in awards]


def _gifts(session: Session, statement: FundStatement, public: bool) -> None:
    rows = session.execute(
        select(Donation.donor_id, Donor.name, Donor.anonymous_in_public, func.count(Donation.id),
               func.sum(Donation.amount))
        .outerjoin(Donor, Donation.donor_id == Donor.id)
        .where(Donation.fund_id == statement.fund.id, Donation.status == DonationStatus.recorded.value,
               Donation.received_on >= statement.start, Donation.received_on <= statement.end)
        .group_by(Donation.donor_id, Donor.name, Donor.anonymous_in_public))
    named: list[DonorLine] = []
    for donor_id, name, anonymous, count, total in rows:
        statement.gift_count += count
        if donor_id is None:
            statement.anonymous_gifts += count
            continue
        statement.donor_count += 1
        if anonymous:
            statement.anonymous_gifts += count
        elif not public:
            named.append(DonorLine(name, count, Decimal(total)))
    statement.donors = sorted(named, key=lambda d: (-d.amount, d.name))


def fund_statement(session: Session, fund: Fund, start: dt.date, end: dt.date, *,
                   public: bool = False) -> FundStatement:
    """The statement of `fund` from `start` to `end` inclusive (`public`: the donor's copy, with no names)."""
    opening = fund_net_assets(session, start - dt.timedelta(days=1), [fund.id]).get(fund.id, ZERO)
    closing = fund_net_assets(session, end, [fund.id]).get(fund.id, ZERO)
    per_account: dict[int, Decimal] = defaultdict(lambda: ZERO)
    moves = activity_excluding_close(session, start, end, fund_ids=[fund.id])
    for (account_id, _fund, _class), amount in moves.items():
        per_account[account_id] += amount
    accounts = _accounts(session, per_account)
    gifts, programme, postings = ZERO, ZERO, ZERO
    other_income: list[AccountLine] = []
    costs: list[AccountLine] = []
    for account_id, amount in sorted(per_account.items(), key=lambda item: accounts[item[0]].code):
        account = accounts[account_id]
        if amount == 0:
            continue
        if account.type == AccountType.revenue.value:
            if account.code == DONATION_INCOME:
                gifts = -amount
            else:
                other_income.append(AccountLine(account.code, account.name, account.name_en, -amount))
        elif account.type == AccountType.expense.value:
            if account.code == PROGRAMME_COSTS:
                programme = amount
            else:
                costs.append(AccountLine(account.code, account.name, account.name_en, amount))
        elif account.type == AccountType.net_assets.value:
            postings -= amount
    grants_awarded = _grant_costs(session, fund, start, end)
    statement = FundStatement(
        fund=fund, start=start, end=end, opening=opening, gifts=gifts, other_income=other_income,
        grants_awarded=grants_awarded, other_programme=programme - grants_awarded, costs=costs, closing=closing,
        grants=_grants(session, fund, start, end), net_asset_postings=postings)
    _gifts(session, statement, public)
    return statement


def has_given_to(session: Session, donor: Donor, fund: Fund) -> bool:
    """True if `donor` has a recorded (not reversed) gift into `fund`."""
    return session.scalar(
        select(Donation.id).where(Donation.donor_id == donor.id, Donation.fund_id == fund.id,
                                  Donation.status == DonationStatus.recorded.value).limit(1)) is not None
