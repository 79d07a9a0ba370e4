"""What a fund can spend, and the lock that makes "check, then commit the money" safe under concurrency.

    spendable(fund) = net assets of the fund (assets − liabilities, from the ledger's balance rows)
                      − for an endowment (留本基金): its principal, the gifts recorded into it, which is kept
                      − commitments: the part of other live programmes' budgets not yet awarded
                        (only when asked, for setting a programme's budget)

Awards post their payable (Cr 2209) at once, so an approved grant has already left the fund's net assets; a
second approval sees the smaller figure. `lock_fund` takes the fund row FOR UPDATE (PostgreSQL) before the
figure is read, so two approvals on one fund run one after the other and cannot both take the last yuan.
SQLite serialises writers anyway.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fundapp.donations.models import Donation, DonationStatus
from fundapp.grants.models import Award, Programme, ProgrammeStatus
from fundapp.ledger.models import Fund, FundType
from fundapp.ledger.queries import fund_net_assets

ZERO = Decimal("0.00")
LIVE_PROGRAMMES = (ProgrammeStatus.draft.value, ProgrammeStatus.open.value, ProgrammeStatus.closed.value)


def lock_fund(session: Session, fund_id: int) -> Fund:
    """The fund row, locked until the transaction ends (a no-op lock on SQLite)."""
    stmt = select(Fund).where(Fund.id == fund_id).with_for_update(of=Fund)
    return session.execute(stmt.execution_options(populate_existing=True)).scalar_one()


def endowment_principal(session: Session, fund: Fund) -> Decimal:
    if fund.fund_type != FundType.endowment.value:
        return ZERO
    total = session.scalar(select(func.coalesce(func.sum(Donation.amount), 0)).where(
        Donation.fund_id == fund.id, Donation.status == DonationStatus.recorded.value))
    return Decimal(total or 0).quantize(Decimal("0.01"))


def awarded_in(session: Session, programme_id: int) -> Decimal:
    total = session.scalar(select(func.coalesce(func.sum(Award.amount - Award.released_amount), 0))
                           .where(Award.programme_id == programme_id))
    return Decimal(total or 0).quantize(Decimal("0.01"))


def commitments(session: Session, fund_id: int, exclude_programme_id: int | None = None) -> Decimal:
    """Budgets of the fund's live programmes not yet awarded (awards already left the net assets)."""
    awarded = (select(Award.programme_id, func.sum(Award.amount - Award.released_amount).label("total"))
               .group_by(Award.programme_id).subquery())
    stmt = (select(Programme.budget, func.coalesce(awarded.c.total, 0))
            .outerjoin(awarded, awarded.c.programme_id == Programme.id)
            .where(Programme.fund_id == fund_id, Programme.status.in_(LIVE_PROGRAMMES)))
    if exclude_programme_id is not None:
        stmt = stmt.where(Programme.id != exclude_programme_id)
    return sum((max(budget - Decimal(total or 0), ZERO) for budget, total in session.execute(stmt)), ZERO)


def net_assets(session: Session, fund: Fund, as_of: dt.date) -> Decimal:
    return fund_net_assets(session, as_of, fund_ids=[fund.id]).get(fund.id, ZERO)


def spendable(session: Session, fund: Fund, as_of: dt.date, *, less_commitments: bool = False,
              exclude_programme_id: int | None = None) -> Decimal:
    """What the fund can still spend on `as_of` (never below zero)."""
    amount = net_assets(session, fund, as_of) - endowment_principal(session, fund)
    if less_commitments:
        amount -= commitments(session, fund.id, exclude_programme_id)
    return max(amount, ZERO)
