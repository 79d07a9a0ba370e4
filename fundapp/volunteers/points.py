"""The point ledger's only writer: post a balanced movement, credit verified hours, give points, reverse.

Rules, each enforced here and checked again by `verify_points`:
- an entry has at least two lines, none zero, each a two-place decimal within range, summing to zero;
- posting is idempotent on its key: the same key with the same content returns the first entry, with other
  content it is refused;
- a holder's account (a volunteer's, or a person's who was given points) never goes below zero, and never above
  the configured maximum balance (VOLUNTEER_POINTS_MAX_BALANCE; empty = no cap) when it grows;
- the accounts an entry touches are locked in id order (SELECT ... FOR UPDATE on PostgreSQL; SQLite serialises
  writers), so two concurrent spends cannot both pass the balance check;
- entries never change: a correction is a reversal entry (once per entry; a reversal itself is not reversed)
  that must not drive a holder below zero (points already spent cannot be taken back).
Every posting writes an audit event. Services flush, never commit.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fundapp.audit.services import AuditTag, record_event
from fundapp.dates import local_today
from fundapp.errors import DomainError
from fundapp.money import CENT, MAX_AMOUNT
from fundapp.volunteers.models import (
    HOLDER_KINDS,
    PointAccount,
    PointAccountKind,
    PointEntry,
    PointEntryKind,
    PointLine,
    Volunteer,
)

KEY_MAX = 120
MAX_HOURS = Decimal("24")



class PointsError(DomainError):
    """A point movement the rules refuse; nothing was written."""


@dataclass(frozen=True)
class Move:
    account: PointAccount
    amount: Decimal


# --- accounts -----------------------------------------------------------------------------------------


def system_account(session: Session, kind: PointAccountKind) -> PointAccount:
    """The single system account of `kind` (issuance, redemption or expiry), created on first use."""
    account = session.scalar(select(PointAccount).where(PointAccount.kind == kind.value).order_by(PointAccount.id))
    if account is None:
        account = PointAccount(kind=kind.value, balance=Decimal("0.00"))
        session.add(account)
        session.flush()
    return account


def volunteer_account(session: Session, volunteer: Volunteer) -> PointAccount:
    account = session.scalar(select(PointAccount).where(PointAccount.volunteer_id == volunteer.id))
    if account is None:
        account = PointAccount(kind=PointAccountKind.volunteer.value, volunteer_id=volunteer.id,
                               balance=Decimal("0.00"))
        session.add(account)
        session.flush()
    return account


def person_account(session: Session, name: str) -> PointAccount:
    """A new account for someone who is given points without being a volunteer."""
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise PointsError(_("Give the name of the person receiving the points (at most 100 characters)."))
    account = PointAccount(kind=PointAccountKind.person.value, holder_name=name, balance=Decimal("0.00"))
    session.add(account)
    session.flush()
    return account


# --- checks -------------------------------------------------------------------------------------------


def max_balance() -> Decimal | None:
    raw = current_app.config.get("VOLUNTEER_POINTS_MAX_BALANCE")
    return None if raw in (None, "") else Decimal(str(raw))


def _check_amount(amount: object) -> Decimal:
    if not isinstance(amount, Decimal) or not amount.is_finite():
        raise PointsError(_("Points must be a decimal number."))
    if amount == 0:
        raise PointsError(_("A movement of zero points means nothing; give an amount."))
    if amount.copy_abs() > MAX_AMOUNT or amount != amount.quantize(CENT):
        raise PointsError(_("Points have at most two decimal places."))
    return amount.quantize(CENT)


def _check_key(key: str) -> str:
    key = (key or "").strip()
    if not key or len(key) > KEY_MAX:
        raise PointsError(_("Every point movement needs a key of at most %(n)d characters.", n=KEY_MAX))
    return key


def _same(entry: PointEntry, kind: str, moves: Sequence[Move]) -> bool:
    posted = sorted((line.account_id, line.amount) for line in entry.lines)
    return entry.kind == kind and posted == sorted((move.account.id, move.amount) for move in moves)


def _locked_accounts(session: Session, ids: set[int]) -> dict[int, PointAccount]:
    stmt = select(PointAccount).where(PointAccount.id.in_(sorted(ids))).order_by(PointAccount.id)
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    accounts = session.scalars(stmt.execution_options(populate_existing=True)).all()
    return {account.id: account for account in accounts}


# --- posting ------------------------------------------------------------------------------------------


def post_points(session: Session, *, kind: PointEntryKind, moves: Sequence[Move], key: str, memo: str = "",
                actor=None, day: dt.date | None = None, reverses: PointEntry | None = None) -> PointEntry:
    """Post one balanced movement of points; idempotent on `key`."""
    key = _check_key(key)
    moves = [Move(move.account, _check_amount(move.amount)) for move in moves]
    if len(moves) < 2:
        raise PointsError(_("A movement of points needs at least two accounts."))
    if sum((move.amount for move in moves), Decimal("0.00")) != 0:
        raise PointsError(_("A movement of points must balance: what leaves one account arrives in another."))
    if len(memo or "") > 300:
        raise PointsError(_("The note is longer than 300 characters."))
    existing = session.scalar(select(PointEntry).where(PointEntry.idempotency_key == key))
    if existing is not None:
        if _same(existing, kind.value, moves):
            return existing
        raise PointsError(_("This movement was already posted with different content."))
    accounts = _locked_accounts(session, {move.account.id for move in moves})
    change: dict[int, Decimal] = defaultdict(lambda: Decimal("0.00"))
    for move in moves:
        change[move.account.id] += move.amount
    cap = max_balance()
    for account_id, delta in change.items():
        account = accounts[account_id]
        after = account.balance + delta
        if account.kind in HOLDER_KINDS and after < 0:
            raise PointsError(_("%(holder)s holds %(held)s points; %(needed)s are needed.",
                                holder=account.label, held=account.balance, needed=-delta))
        if account.kind in HOLDER_KINDS and cap is not None and delta > 0 and after > cap:
            raise PointsError(_("%(holder)s would hold %(after)s points, above the maximum of %(cap)s.",
                                holder=account.label, after=after, cap=cap))
    entry = PointEntry(kind=kind.value, effective_date=day or local_today(), memo=(memo or "").strip(),
                       idempotency_key=key, reverses_id=reverses.id if reverses is not None else None,
                       created_by_id=getattr(actor, "id", None))
    session.add(entry)
    session.flush()
    for move in moves:
        session.add(PointLine(entry_id=entry.id, account_id=move.account.id, amount=move.amount))
    for account_id, delta in change.items():
        accounts[account_id].balance = accounts[account_id].balance + delta
    session.flush()
    session.refresh(entry)
    tag = AuditTag.points_reversed if reverses is not None else AuditTag.points_posted
    record_event(session, tag, actor, "point_entry", entry.id, after={
        "kind": entry.kind, "key": key, "memo": entry.memo, "reverses": entry.reverses_id,
        "lines": [[move.account.id, str(move.amount)] for move in moves]})
    return entry


def points_for_hours(hours: Decimal, rate: Decimal | None = None) -> Decimal:
    """Points earned for `hours` of verified service at `rate` points an hour (VOLUNTEER_POINTS_PER_HOUR)."""
    if rate is None:
        rate = Decimal(str(current_app.config.get("VOLUNTEER_POINTS_PER_HOUR", "1")))
    return (hours * rate).quantize(CENT, rounding=ROUND_HALF_UP)


def credit_hours(session: Session, volunteer: Volunteer, hours: Decimal, *, key: str, memo: str = "",
                 actor=None, day: dt.date | None = None) -> PointEntry:
    """Credit a volunteer's time account for verified hours: issuance -> volunteer."""
    if not isinstance(hours, Decimal) or not hours.is_finite() or hours <= 0 or hours > MAX_HOURS:
        raise PointsError(_("Hours must be more than 0 and at most %(max)s.", max=MAX_HOURS))
    points = points_for_hours(hours)
    if points <= 0:
        raise PointsError(_("These hours earn no points at the current rate."))
    return post_points(session, kind=PointEntryKind.hours, key=key, memo=memo, actor=actor, day=day, moves=[
        Move(system_account(session, PointAccountKind.issuance), -points),
        Move(volunteer_account(session, volunteer), points),
    ])


def gift_points(session: Session, giver: PointAccount, receiver: PointAccount, points: Decimal, *, key: str,
                memo: str = "", actor=None) -> PointEntry:
    """One holder gives points to another (e.g. a volunteer to an elderly neighbour)."""
    if giver.kind not in HOLDER_KINDS or receiver.kind not in HOLDER_KINDS:
        raise PointsError(_("Points are given from one person's account to another's."))
    if giver.id == receiver.id:
        raise PointsError(_("Points cannot be given to the same account."))
    points = _check_amount(points)
    if points < 0:
        raise PointsError(_("Give a positive number of points."))
    return post_points(session, kind=PointEntryKind.gift, key=key, memo=memo, actor=actor,
                       moves=[Move(giver, -points), Move(receiver, points)])


def reverse_points(session: Session, entry: PointEntry, reason: str, *, actor=None,
                   key: str | None = None) -> PointEntry:
    """Reverse a posted movement (disputed or corrected hours, a mistaken gift); the entry itself never changes."""
    reason = (reason or "").strip()
    if not reason:
        raise PointsError(_("Say why the points are reversed."))
    if entry.kind == PointEntryKind.reversal.value:
        raise PointsError(_("A reversal is not reversed; post the movement again instead."))
    already = session.scalar(select(PointEntry).where(PointEntry.reverses_id == entry.id))
    if already is not None:
        if key is not None and already.idempotency_key == key:
            return already
        raise PointsError(_("This movement was already reversed."))
    moves = [Move(line.account, -line.amount) for line in entry.lines]
    return post_points(session, kind=PointEntryKind.reversal, moves=moves, key=key or f"reversal:{entry.id}",
                       memo=reason, actor=actor, reverses=entry)


# --- verification -------------------------------------------------------------------------------------


def verify_points(session: Session) -> list[str]:
    """Problems in the point ledger: unbalanced or one-line entries, kept balances that differ from the lines,
    holders below zero, entries reversed twice. Empty when all is well."""
    problems: list[str] = []
    for entry_id, total, count in session.execute(
        select(PointLine.entry_id, func.sum(PointLine.amount), func.count())
        .group_by(PointLine.entry_id)
        .having((func.sum(PointLine.amount) != 0) | (func.count() < 2))
    ):
        problems.append(f"entry {entry_id}: {count} lines summing to {total}")
    empty = session.scalars(select(PointEntry.id).where(~PointEntry.lines.any())).all()
    problems += [f"entry {entry_id}: no lines" for entry_id in empty]
    sums = dict(session.execute(select(PointLine.account_id, func.sum(PointLine.amount))
                                .group_by(PointLine.account_id)).all())
    for account in session.scalars(select(PointAccount).order_by(PointAccount.id)):
        expected = sums.get(account.id) or Decimal("0.00")
        if account.balance != expected:
            problems.append(f"account {account.id}: balance {account.balance}, lines sum to {expected}")
        if account.kind in HOLDER_KINDS and account.balance < 0:
            problems.append(f"account {account.id}: a holder below zero ({account.balance})")
    return problems


# --- expiry -------------------------------------------------------------------------------------------


def expiry_months() -> int | None:
    raw = current_app.config.get("VOLUNTEER_POINTS_EXPIRY_MONTHS")
    return None if raw in (None, "") else int(raw)


def expirable(session: Session, account: PointAccount, cutoff: dt.date) -> Decimal:
    """Points of `account` earned on or before `cutoff` and not yet spent, given away or expired: oldest points
    are used first, so that is what was received up to the cutoff less everything that has left the account."""
    received = session.scalar(
        select(func.coalesce(func.sum(PointLine.amount), 0)).join(PointEntry, PointEntry.id == PointLine.entry_id)
        .where(PointLine.account_id == account.id, PointLine.amount > 0, PointEntry.effective_date <= cutoff))
    left = session.scalar(select(func.coalesce(func.sum(PointLine.amount), 0))
                          .where(PointLine.account_id == account.id, PointLine.amount < 0))
    return max(Decimal("0.00"), (Decimal(received) + Decimal(left)).quantize(CENT))


def add_months(day: dt.date, months: int) -> dt.date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return dt.date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def expire_points(session: Session, today: dt.date | None = None, actor=None) -> list[PointEntry]:
    """Apply the expiry rule (VOLUNTEER_POINTS_EXPIRY_MONTHS; none by default): points older than that many
    months and still held lapse into the expiry account. Idempotent per account and day."""
    months = expiry_months()
    if months is None:
        return []
    today = today or local_today()
    cutoff = add_months(today, -months)
    lapsed = system_account(session, PointAccountKind.expiry)
    entries = []
    holders = session.scalars(select(PointAccount).where(PointAccount.kind.in_(HOLDER_KINDS), PointAccount.balance > 0)
                              .order_by(PointAccount.id)).all()
    for account in holders:
        amount = min(expirable(session, account, cutoff), account.balance)
        if amount > 0:
            entries.append(post_points(
                session, kind=PointEntryKind.expiry, key=f"expiry:{account.id}:{today.isoformat()}", actor=actor,
                day=today, memo=f"earned on or before {cutoff.isoformat()}",
                moves=[Move(account, -amount), Move(lapsed, amount)]))
    return entries
