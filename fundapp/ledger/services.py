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

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from fundapp.audit.services import AuditTag, record_event
from fundapp.dates import local_today
from fundapp.errors import DomainError
from fundapp.ledger.chain import GENESIS_HASH, CanonicalLine, canonical_bytes, chain_hash
from fundapp.ledger.models import (
    Account,
    Fund,
    FundStatus,
    JournalEntry,
    JournalLine,
    LedgerHead,
    NetAssetClass,
    PeriodBalance,
)
from fundapp.money import CENT, MAX_AMOUNT

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


def period_keys(day: dt.date) -> tuple[tuple[str, int], ...]:
    """The (grain, period) of the year, month and day rows a line on `day` adds into."""
    return (("y", day.year), ("m", month_key(day)), ("d", month_key(day) * 100 + day.day))


BalanceItem = tuple[int, int, str, dt.date, Decimal]  # account_id, fund_id, class, date, amount


def balance_rows(items: Iterable[BalanceItem]) -> list[dict]:
    """Aggregate lines into the year/month/day balance rows they add to (values for `upsert_balances`)."""
    totals: dict[tuple, list] = {}
    for account_id, fund_id, klass, day, amount in items:
        for grain, period in period_keys(day):
            bucket = totals.setdefault((account_id, fund_id, klass, grain, period), [Decimal("0"), 0])
            bucket[0] += amount
            bucket[1] += 1
    return [
        {"account_id": a, "fund_id": f, "net_asset_class": c, "grain": g, "period": p, "amount": amt, "line_count": n}
        for (a, f, c, g, p), (amt, n) in totals.items()
    ]


def books_text(message: str, **variables: Any) -> str:
    """Text stored in the books (memos): always in the foundation's language, whoever posts it."""
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        return _(message, **variables)


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


def lock_head(session: Session) -> LedgerHead:
    """Take the chain-head lock (a row lock on PostgreSQL, the write lock on SQLite)."""
    result = session.execute(update(LedgerHead).where(LedgerHead.id == 1).values(seq=LedgerHead.seq))
    if result.rowcount == 0:
        session.add(LedgerHead(id=1, seq=0, hash=GENESIS_HASH))
        session.flush()
    return session.execute(
        select(LedgerHead).where(LedgerHead.id == 1).execution_options(populate_existing=True)
    ).scalar_one()


@dataclass
class EntryDraft:
    """One entry to post (see `post_entry` for the meaning of each field)."""

    effective_date: dt.date
    memo: str
    lines: Sequence[LineSpec]
    idempotency_key: str
    source_type: str = "manual"
    source_id: str | None = None
    author: Any | None = None
    approver: Any | None = None
    reverses: JournalEntry | None = None

    def check(self) -> None:
        """Raise LedgerError unless the draft is a valid entry (nothing is read from or written to the database)."""
        self.memo = (self.memo or "").strip()
        if not self.memo:
            raise LedgerError(_("Write a memo that says what the entry is for."))
        if len(self.memo) > MEMO_MAX:
            raise LedgerError(_("The memo is too long (at most %(n)d characters).", n=MEMO_MAX))
        if not self.idempotency_key or len(self.idempotency_key) > 200:
            raise LedgerError(_("The entry has no valid idempotency key."))
        if not isinstance(self.effective_date, dt.date) or isinstance(self.effective_date, dt.datetime):
            raise LedgerError(_("The entry needs a date."))
        validate_lines(self.lines)

    def canonical(self, seq: int) -> bytes:
        return canonical_bytes(
            seq=seq,
            effective_date=self.effective_date.isoformat(),
            memo=self.memo,
            source=self.source_type,
            key=self.idempotency_key,
            reverses=self.reverses.seq if self.reverses is not None else None,
            lines=[CanonicalLine(x.account.code, x.fund.code, x.klass, x.amount) for x in self.lines],
        )

    def same_content(self, existing: JournalEntry) -> bool:
        theirs = [(x.account_id, x.fund_id, x.net_asset_class, x.amount) for x in existing.lines]
        ours = [(x.account.id, x.fund.id, x.klass, x.amount) for x in self.lines]
        return existing.effective_date == self.effective_date and theirs == ours

    def build(self, seq: int, prev_hash: str) -> JournalEntry:
        entry = JournalEntry(
            seq=seq,
            effective_date=self.effective_date,
            memo=self.memo,
            source_type=self.source_type,
            source_id=self.source_id,
            idempotency_key=self.idempotency_key,
            reverses_id=self.reverses.id if self.reverses is not None else None,
            author_id=getattr(self.author, "id", None),
            approver_id=getattr(self.approver, "id", None),
            prev_hash=prev_hash,
            hash=chain_hash(prev_hash, self.canonical(seq)),
        )
        entry.lines = [
            JournalLine(line_no=index, effective_date=self.effective_date, account=line.account, fund=line.fund,
                        net_asset_class=line.klass, amount=line.amount, memo=line.memo or "")
            for index, line in enumerate(self.lines, start=1)
        ]
        return entry


def _existing_entries(session: Session, drafts: Sequence[EntryDraft]) -> dict[str, JournalEntry]:
    keys = list({draft.idempotency_key for draft in drafts})
    found: dict[str, JournalEntry] = {}
    for start in range(0, len(keys), 500):
        chunk = keys[start:start + 500]
        for entry in session.scalars(select(JournalEntry).where(JournalEntry.idempotency_key.in_(chunk))):
            found[entry.idempotency_key] = entry
    return found


def post_entries(session: Session, drafts: Sequence[EntryDraft]) -> list[JournalEntry]:
    """Post several entries in one go (one chain-head lock, batched inserts): all of them, or none.

    Each draft is checked as `post_entry` checks it; a LedgerError from any draft leaves nothing written. A key
    posted before (or twice in the batch) gives the entry already posted, as in `post_entry`.
    """
    for draft in drafts:
        draft.check()
    head = lock_head(session)
    existing = _existing_entries(session, drafts)
    fresh = [draft for draft in drafts if draft.idempotency_key not in existing]
    if fresh:
        ensure_open(session, min(draft.effective_date for draft in fresh))
    results, posted, seq, prev = [], [], head.seq, head.hash
    for draft in drafts:
        entry = existing.get(draft.idempotency_key)
        if entry is None:
            seq += 1
            entry = draft.build(seq, prev)
            prev = entry.hash
            existing[draft.idempotency_key] = entry
            posted.append((draft, entry))
        elif not draft.same_content(entry):
            raise IdempotencyConflict(_("This entry was already submitted with different content."))
        results.append(entry)
    if not posted:
        return results
    session.add_all(entry for _draft, entry in posted)
    head.seq, head.hash = seq, prev
    session.flush()
    items = ((x.account.id, x.fund.id, x.klass, d.effective_date, x.amount) for d, _ in posted for x in d.lines)
    upsert_balances(session, balance_rows(items))
    for draft, entry in posted:
        record_event(
            session, AuditTag.entry_reversed if draft.reverses is not None else AuditTag.entry_posted, draft.author,
            "journal_entry", entry.id,
            after={"seq": entry.seq, "date": entry.effective_date, "memo": entry.memo, "hash": entry.hash,
                   "key": entry.idempotency_key},
        )
    session.flush()
    return results


def post_entry(session: Session, **fields: Any) -> JournalEntry:
    """Post one balanced entry, or raise LedgerError having written nothing.

    Fields: effective_date, memo, lines (LineSpec), idempotency_key, and optionally source_type, source_id,
    author, approver, reverses. Posting the same idempotency key again returns the entry already posted (if its
    content differs, IdempotencyConflict is raised instead).
    """
    return post_entries(session, [EntryDraft(**fields)])[0]


_UPSERTS: dict[str, Any] = {}


def _upsert_statement(dialect: str):
    """INSERT .. ON CONFLICT DO UPDATE for period balance rows, built once per dialect (it does not cache well)."""
    if dialect not in _UPSERTS:
        table = PeriodBalance.__table__
        stmt = (pg_insert if dialect == "postgresql" else sqlite_insert)(table)
        _UPSERTS[dialect] = stmt.on_conflict_do_update(
            index_elements=["grain", "period", "account_id", "fund_id", "net_asset_class"],
            set_={
                "amount": table.c.amount + stmt.excluded.amount,
                "line_count": table.c.line_count + stmt.excluded.line_count,
            },
        )
    return _UPSERTS[dialect]


def upsert_balances(connection, rows: list[dict]) -> None:
    """Add amounts and counts into period balance rows (insert or increment), as one executemany.

    `connection` is a Session or a Connection; the posting service and the bulk loader both write through here.
    """
    if not rows:
        return
    bind = connection.get_bind() if hasattr(connection, "get_bind") else connection
    connection.execute(_upsert_statement(bind.dialect.name), rows)


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
    if entry.source_type == "year_close":
        raise LedgerError(_("A year-end closing entry cannot be reversed: the year it closes stays closed."))
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
    memo = books_text("Reversal of entry #%(seq)d: %(reason)s", seq=entry.seq, reason=reason)[:MEMO_MAX]
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
