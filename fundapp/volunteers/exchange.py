"""The points exchange: redeem points for an item of the catalogue.

One redemption, in one transaction: the reward row is locked (SELECT ... FOR UPDATE on PostgreSQL), its stock
checked and drawn down, the points moved from the holder to the redemption account (`post_points`), and, for
goods carried in 1201 存货, the money entry posted through the ledger service: Dr 5101 业务活动成本 / Cr 1201 存货 in
the reward's fund, for quantity x unit value (the goods leave the stock and become programme spending). Stock never
goes negative (a CHECK backs the lock), so of two redemptions of the last item exactly one succeeds. Idempotent on
the redemption's key.
"""

from __future__ import annotations

from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from fundapp.audit.services import AuditTag, record_event
from fundapp.donations.models import Donation
from fundapp.ledger.models import Account, Fund
from fundapp.ledger.services import LineSpec, books_text, post_entry
from fundapp.volunteers.models import HOLDER_KINDS, PointAccount, PointAccountKind, PointEntryKind, Redemption, Reward
from fundapp.volunteers.points import Move, PointsError, post_points, system_account

PROGRAMME_COSTS = "5101"
INVENTORY = "1201"
MAX_QUANTITY = 100



class ExchangeError(PointsError):
    """A redemption the rules refuse; nothing was written."""


def _locked_reward(session: Session, reward_id: int) -> Reward:
    stmt = select(Reward).where(Reward.id == reward_id).execution_options(populate_existing=True)
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    return session.scalar(stmt)


def _account(session: Session, code: str) -> Account:
    return session.scalar(select(Account).where(Account.code == code))


def _already(session: Session, key: str, reward: Reward, account: PointAccount, quantity: int) -> Redemption | None:
    existing = session.scalar(select(Redemption).where(Redemption.key == key))
    if existing is not None and (existing.reward_id, existing.account_id, existing.quantity) != (
            reward.id, account.id, quantity):
        raise ExchangeError(_("This redemption was already made with different content."))
    return existing


def redeem(session: Session, account: PointAccount, reward: Reward, quantity: int = 1, *, key: str,
           actor=None) -> Redemption:
    existing = _already(session, key, reward, account, quantity)
    if existing is not None:
        return existing
    if account.kind not in HOLDER_KINDS:
        raise ExchangeError(_("Points are redeemed from a person's account."))
    if not isinstance(quantity, int) or isinstance(quantity, bool) or not 0 < quantity <= MAX_QUANTITY:
        raise ExchangeError(_("Redeem between 1 and %(max)d items.", max=MAX_QUANTITY))
    reward = _locked_reward(session, reward.id)
    # The same key posted twice at once: the second waited for the first's lock on the reward and, under READ
    # COMMITTED, now sees its redemption (checking only before the lock would end in a unique-key error).
    existing = _already(session, key, reward, account, quantity)
    if existing is not None:
        return existing
    if not reward.is_active:
        raise ExchangeError(_("This reward is no longer offered."))
    if reward.stock < quantity:
        raise ExchangeError(_("Only %(stock)d left of %(name)s.", stock=reward.stock, name=reward.name))
    points = (reward.points * quantity).quantize(Decimal("0.01"))
    entry = post_points(session, kind=PointEntryKind.redemption, key=f"redemption:{key}",
                        memo=f"{reward.name} x{quantity}"[:300], actor=actor,
                        moves=[Move(account, -points),
                               Move(system_account(session, PointAccountKind.redemption), points)])
    journal_entry = None
    if reward.unit_value is not None:
        fund = session.get(Fund, reward.fund_id)
        value = (reward.unit_value * quantity).quantize(Decimal("0.01"))
        # The goods keep the class of the gift that brought them in (a restricted gift stays restricted).
        gift = session.get(Donation, reward.donation_id) if reward.donation_id is not None else None
        klass = gift.net_asset_class if gift is not None else None
        journal_entry = post_entry(
            session, effective_date=entry.effective_date,
            memo=books_text("Points exchange: %(item)s x%(n)d", item=reward.name[:100], n=quantity),
            lines=[LineSpec(_account(session, PROGRAMME_COSTS), fund, value, klass),
                   LineSpec(_account(session, INVENTORY), fund, -value, klass)],
            idempotency_key=f"redemption:{key}"[:120], source_type="volunteer_redemption",
            source_id=str(reward.id), author=actor)
    reward.stock -= quantity
    redemption = Redemption(key=key, reward_id=reward.id, account_id=account.id, quantity=quantity, points=points,
                            point_entry_id=entry.id, journal_entry_id=journal_entry.id if journal_entry else None,
                            created_by_id=getattr(actor, "id", None))
    session.add(redemption)
    session.flush()
    record_event(session, AuditTag.volunteer_reward_redeemed, actor, "volunteer_redemption", redemption.id, after={
        "reward": reward.id, "account": account.id, "quantity": quantity, "points": points,
        "stock_after": reward.stock, "journal_entry": redemption.journal_entry_id})
    return redemption
