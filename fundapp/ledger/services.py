"""The posting service: the only code that writes journal entries, lines and balance rows.

`post_entry` validates every invariant, appends the entry to the hash chain under a lock on the
chain head, maintains the monthly balance rows and records an audit event, all in the caller's
transaction (it flushes, never commits). `reverse_entry` is the only correction.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from fundapp.audit.services import AuditTag, record_event
from fundapp.errors import DomainError
from fundapp.ledger.chain import GENESIS_HASH, CanonicalLine, canonical_bytes, chain_hash
from fundapp.ledger.models import (
    Account,
    Fund,
    FundStatus,
    JournalEntry,
    JournalLine,
    LedgerHead,
    MonthlyBalance,
    NetAssetClass,
)
from fundapp.money import CENT, MAX_AMOUNT
from fundapp.dates import local_today

MEMO_MAX = 500
CLASS_VALUES = {c.value for c in NetAssetClass}


class LedgerError(DomainError):
    """A posting was refused; nothing was written."""


class UnbalancedEntry(LedgerError):
    pass


class PeriodClosed(LedgerError):
    pass


class AlreadyReversed(LedgerError):
    pass


class IdempotencyConflict(LedgerError):
    pass


@dataclass(frozen=True)
class LineSpec:
    """One line to post. `amount` > 0 debits, < 0 credits. `net_asset_class` defaults to the fund's."""

    account: Account
    fund: Fund
    amount: Decimal
    net_asset_class: str | None = None
    memo: str = ""

    @property
    def klass(self) -> str:
        return self.net_asset_class or self.fund.restriction


def month_key(day: dt.date) -> int:
    return day.year * 100 + day.month


# --- validation -----------------------------------------------------------------------------------


def _check_amount(amount: Any, index: int) -> None:
    if not isinstance(amount, Decimal) or not amount.is_finite():
        raise LedgerError(_("Line %(n)d: the amount must be a decimal number.", n=index))
    if amount.copy_abs() > MAX_AMOUNT:  # before quantize(), which fails beyond 28 digits
        raise LedgerError(_("Line %(n)d: the amount is too large.", n=index))
    if amount != amount.quantize(CENT):
        raise LedgerError(_("Line %(n)d: an amount has at most two decimal places.", n=index))
    if amount.is_zero():
        raise LedgerError(_("Line %(n)d: the amount cannot be zero.", n=index))


def _check_line(line: LineSpec, index: int) -> None:
    _check_amount(line.amount, index)
    if line.account is None or not line.account.is_active:
        raise LedgerError(_("Line %(n)d: choose an active account.", n=index))
    if line.fund is None or line.fund.status != FundStatus.active.value:
        raise LedgerError(_("Line %(n)d: choose an active fund.", n=index))
    if line.klass not in CLASS_VALUES:
        raise LedgerError(_("Line %(n)d: unknown net-asset class.", n=index))
    if len(line.memo or "") > MEMO_MAX:
        raise LedgerError(_("Line %(n)d: the memo is too long.", n=index))


def validate_lines(lines: Sequence[LineSpec]) -> None:
    """Raise LedgerError unless the lines form a valid balanced entry."""
    if len(lines) < 2:
        raise UnbalancedEntry(_("An entry needs at least two lines."))
    for index, line in enumerate(lines, start=1):
        _check_line(line, index)
    debits = sum((x.amount for x in lines if x.amount > 0), Decimal("0"))
    credits = -sum((x.amount for x in lines if x.amount < 0), Decimal("0"))
    if debits != credits:
        raise UnbalancedEntry(
            _("Debits (%(debits)s) and credits (%(credits)s) must be equal.", debits=debits, credits=credits)
        )
    if debits > MAX_AMOUNT:
        raise LedgerError(_("The entry total is too large."))
    per_fund: dict[str, Decimal] = defaultdict(Decimal)
    for line in lines:
        per_fund[line.fund.code] += line.amount
    for code, total in sorted(per_fund.items()):
        if total != 0:
            raise UnbalancedEntry(
                _("Fund %(fund)s does not balance within the entry (off by %(amount)s).", fund=code, amount=total)
            )


# --- periods --------------------------------------------------------------------------------------


def lock_date(session: Session) -> dt.date | None:
    """The end of the latest closed month; nothing may be posted on or before it."""
    from fundapp.ledger.models import Period

    return session.scalar(select(Period.end_date).order_by(Period.end_date.desc()).limit(1))


def ensure_open(session: Session, effective_date: dt.date) -> None:
    closed_through = lock_date(session)
    if closed_through is not None and effective_date <= closed_through:
        raise PeriodClosed(
            _(
                "The books are closed through %(date)s; post on a later date (use a reversal dated today to "
                "correct a closed period).",
                date=closed_through.isoformat(),
            )
        )


# --- posting --------------------------------------------------------------------------------------


def _lock_head(session: Session) -> LedgerHead:
    """Take the chain-head lock (a row lock on PostgreSQL, the write lock on SQLite)."""
    result = session.execute(update(LedgerHead).where(LedgerHead.id == 1).values(seq=LedgerHead.seq))
    if result.rowcount == 0:
        session.add(LedgerHead(id=1, seq=0, hash=GENESIS_HASH))
        session.flush()
    return session.execute(
        select(LedgerHead).where(LedgerHead.id == 1).execution_options(populate_existing=True)
    ).scalar_one()


def _canonical(entry: JournalEntry, lines: Sequence[LineSpec], reverses_seq: int | None) -> bytes:
    return canonical_bytes(
        seq=entry.seq,
        effective_date=entry.effective_date.isoformat(),
        memo=entry.memo,
        source=entry.source_type,
        key=entry.idempotency_key,
        reverses=reverses_seq,
        lines=[CanonicalLine(x.account.code, x.fund.code, x.klass, x.amount) for x in lines],
    )


def _same_content(existing: JournalEntry, effective_date: dt.date, lines: Sequence[LineSpec]) -> bool:
    theirs = [(x.account_id, x.fund_id, x.net_asset_class, x.amount) for x in existing.lines]
    ours = [(x.account.id, x.fund.id, x.klass, x.amount) for x in lines]
    return existing.effective_date == effective_date and theirs == ours


def post_entry(
    session: Session,
    *,
    effective_date: dt.date,
    memo: str,
    lines: Sequence[LineSpec],
    idempotency_key: str,
    source_type: str = "manual",
    source_id: str | None = None,
    author: Any | None = None,
    approver: Any | None = None,
    reverses: JournalEntry | None = None,
) -> JournalEntry:
    """Post one balanced entry, or raise LedgerError having written nothing.

    Posting the same idempotency key again returns the entry already posted (if its content differs,
    IdempotencyConflict is raised instead).
    """
    memo = (memo or "").strip()
    if not memo:
        raise LedgerError(_("Write a memo that says what the entry is for."))
    if len(memo) > MEMO_MAX:
        raise LedgerError(_("The memo is too long (at most %(n)d characters).", n=MEMO_MAX))
    if not idempotency_key or len(idempotency_key) > 200:
        raise LedgerError(_("The entry has no valid idempotency key."))
    if not isinstance(effective_date, dt.date) or isinstance(effective_date, dt.datetime):
        raise LedgerError(_("The entry needs a date."))
    validate_lines(lines)

    head = _lock_head(session)
    existing = session.scalar(select(JournalEntry).where(JournalEntry.idempotency_key == idempotency_key))
    if existing is not None:
        if not _same_content(existing, effective_date, lines):
            raise IdempotencyConflict(_("This entry was already submitted with different content."))
        return existing
    ensure_open(session, effective_date)

    entry = JournalEntry(
        seq=head.seq + 1,
        effective_date=effective_date,
        memo=memo,
        source_type=source_type,
        source_id=source_id,
        idempotency_key=idempotency_key,
        reverses_id=reverses.id if reverses is not None else None,
        author_id=getattr(author, "id", None),
        approver_id=getattr(approver, "id", None),
        prev_hash=head.hash,
    )
    entry.hash = chain_hash(head.hash, _canonical(entry, lines, reverses.seq if reverses is not None else None))
    entry.lines = [
        JournalLine(
            line_no=index,
            effective_date=effective_date,
            account=line.account,
            fund=line.fund,
            net_asset_class=line.klass,
            amount=line.amount,
            memo=line.memo or "",
        )
        for index, line in enumerate(lines, start=1)
    ]
    session.add(entry)
    head.seq, head.hash = entry.seq, entry.hash
    session.flush()
    _add_to_balances(session, effective_date, lines)
    record_event(
        session,
        AuditTag.entry_reversed if reverses is not None else AuditTag.entry_posted,
        author,
        "journal_entry",
        entry.id,
        after={"seq": entry.seq, "date": effective_date, "memo": memo, "hash": entry.hash, "key": idempotency_key},
    )
    return entry


def _add_to_balances(session: Session, effective_date: dt.date, lines: Iterable[LineSpec]) -> None:
    month = month_key(effective_date)
    totals: dict[tuple[int, int, str], list] = {}
    for line in lines:
        key = (line.account.id, line.fund.id, line.klass)
        bucket = totals.setdefault(key, [Decimal("0"), 0])
        bucket[0] += line.amount
        bucket[1] += 1
    rows = [
        {"account_id": a, "fund_id": f, "net_asset_class": c, "month": month, "amount": amt, "line_count": n}
        for (a, f, c), (amt, n) in totals.items()
    ]
    upsert_balances(session, rows)


def upsert_balances(session: Session, rows: list[dict]) -> None:
    """Add amounts and counts into monthly balance rows (insert or increment)."""
    if not rows:
        return
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    stmt = insert(MonthlyBalance).values(rows)
    stmt = stmt.on_conflict_do_update(
        index_elements=["account_id", "fund_id", "net_asset_class", "month"],
        set_={
            "amount": MonthlyBalance.amount + stmt.excluded.amount,
            "line_count": MonthlyBalance.line_count + stmt.excluded.line_count,
        },
    )
    session.execute(stmt)


# --- reversal -------------------------------------------------------------------------------------


def reverse_entry(
    session: Session,
    entry: JournalEntry,
    *,
    reason: str,
    actor: Any | None,
    effective_date: dt.date | None = None,
) -> JournalEntry:
    """Post the mirror image of `entry`. An entry is reversed at most once; a reversal is not reversed."""
    reason = (reason or "").strip()
    if not reason:
        raise LedgerError(_("Say why the entry is reversed."))
    if entry.reverses_id is not None:
        raise LedgerError(_("A reversal cannot itself be reversed; post a new entry instead."))
    already = session.scalar(select(JournalEntry.seq).where(JournalEntry.reverses_id == entry.id))
    if already is not None:
        raise AlreadyReversed(_("Entry #%(seq)d was already reversed by entry #%(by)d.", seq=entry.seq, by=already))
    lines = [
        LineSpec(
            account=line.account,
            fund=line.fund,
            amount=-line.amount,
            net_asset_class=line.net_asset_class,
            memo=line.memo,
        )
        for line in entry.lines
    ]
    memo = _("Reversal of entry #%(seq)d: %(reason)s", seq=entry.seq, reason=reason)[:MEMO_MAX]
    return post_entry(
        session,
        effective_date=effective_date or local_today(),
        memo=memo,
        lines=lines,
        idempotency_key=f"reverse:{entry.id}",
        source_type="reversal",
        source_id=str(entry.id),
        author=actor,
        reverses=entry,
    )
