"""Checks that return problems (never raise): the hash chain, the balance of every entry, and the
monthly balance rows against the lines. `flask ledger verify` prints them and exits non-zero.

Everything streams: memory stays flat however long the ledger is.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import Integer, cast, func, select
from sqlalchemy.orm import Session, aliased

from fundapp.ledger.chain import GENESIS_HASH, CanonicalLine, canonical_bytes, chain_hash
from fundapp.ledger.models import Account, Fund, JournalEntry, JournalLine, LedgerHead, MonthlyBalance


@dataclass(frozen=True)
class Problem:
    check: str
    message: str
    seq: int | None = None

    def __str__(self) -> str:
        where = f"entry #{self.seq}: " if self.seq is not None else ""
        return f"[{self.check}] {where}{self.message}"


@dataclass
class _Entry:
    seq: int
    date: str
    memo: str
    source: str
    key: str
    reverses: int | None
    prev_hash: str
    hash: str
    lines: list[tuple[CanonicalLine, str]]  # line, line's own date


def _stream_entries(session: Session, batch: int = 5000) -> Iterator[_Entry]:
    reversed_entry = aliased(JournalEntry)
    stmt = (
        select(
            JournalEntry.seq, JournalEntry.effective_date, JournalEntry.memo, JournalEntry.source_type,
            JournalEntry.idempotency_key, reversed_entry.seq, JournalEntry.prev_hash, JournalEntry.hash,
            Account.code, Fund.code, JournalLine.net_asset_class, JournalLine.amount, JournalLine.effective_date,
        )
        .outerjoin(JournalLine, JournalLine.entry_id == JournalEntry.id)
        .outerjoin(Account, Account.id == JournalLine.account_id)
        .outerjoin(Fund, Fund.id == JournalLine.fund_id)
        .outerjoin(reversed_entry, reversed_entry.id == JournalEntry.reverses_id)
        .order_by(JournalEntry.seq, JournalLine.line_no)
        .execution_options(yield_per=batch)
    )
    current: _Entry | None = None
    for row in session.execute(stmt):
        seq = row[0]
        if current is None or current.seq != seq:
            if current is not None:
                yield current
            current = _Entry(seq, row[1].isoformat(), row[2], row[3], row[4], row[5], row[6], row[7], [])
        if row[8] is not None:
            current.lines.append((CanonicalLine(row[8], row[9], row[10], row[11]), row[12].isoformat()))
    if current is not None:
        yield current


def _entry_problems(entry: _Entry) -> list[Problem]:
    problems = []
    amounts = [line.amount for line, _ in entry.lines]
    if len(amounts) < 2:
        problems.append(Problem("balance", "fewer than two lines", entry.seq))
    if sum(amounts, Decimal(0)) != 0:
        problems.append(Problem("balance", f"lines sum to {sum(amounts, Decimal(0))}, not zero", entry.seq))
    per_fund: dict[str, Decimal] = defaultdict(Decimal)
    for line, _ in entry.lines:
        per_fund[line.fund] += line.amount
    for fund, total in sorted(per_fund.items()):
        if total != 0:
            problems.append(Problem("balance", f"fund {fund} sums to {total}, not zero", entry.seq))
    if any(day != entry.date for _, day in entry.lines):
        problems.append(Problem("balance", "a line's date differs from its entry's date", entry.seq))
    return problems


def check_chain(session: Session) -> list[Problem]:
    """Recompute every hash in order. Reports the first break in the chain, and every unbalanced entry."""
    problems: list[Problem] = []
    expected_prev, expected_seq, chain_broken = GENESIS_HASH, 1, False
    for entry in _stream_entries(session):
        problems.extend(_entry_problems(entry))
        if chain_broken:
            expected_seq, expected_prev = entry.seq + 1, entry.hash
            continue
        body = canonical_bytes(seq=entry.seq, effective_date=entry.date, memo=entry.memo, source=entry.source,
                               key=entry.key, reverses=entry.reverses, lines=[line for line, _ in entry.lines])
        if entry.seq != expected_seq:
            problems.append(Problem("chain", f"sequence jumps from {expected_seq - 1} to {entry.seq}", entry.seq))
            chain_broken = True
        elif entry.prev_hash != expected_prev:
            problems.append(Problem("chain", "prev_hash does not match the previous entry's hash", entry.seq))
            chain_broken = True
        elif chain_hash(entry.prev_hash, body) != entry.hash:
            problems.append(Problem("chain", "content does not match its hash (altered after posting)", entry.seq))
            chain_broken = True
        expected_seq, expected_prev = entry.seq + 1, entry.hash
    head = session.get(LedgerHead, 1)
    head_seq, head_hash = (head.seq, head.hash) if head else (0, GENESIS_HASH)
    if not chain_broken and (head_seq != expected_seq - 1 or head_hash != expected_prev):
        problems.append(Problem("chain", f"the chain head (#{head_seq}) does not match the last entry (#{expected_seq - 1})"))
    return problems


def _month_expr(session: Session):
    if session.get_bind().dialect.name == "postgresql":
        return cast(func.to_char(JournalLine.effective_date, "YYYYMM"), Integer)
    return cast(func.strftime("%Y%m", JournalLine.effective_date), Integer)


def check_balances(session: Session) -> list[Problem]:
    """The monthly balance rows must equal the sums of the lines, key by key."""
    month = _month_expr(session)
    from_lines = select(
        JournalLine.account_id, JournalLine.fund_id, JournalLine.net_asset_class, month,
        func.sum(JournalLine.amount), func.count(),
    ).group_by(JournalLine.account_id, JournalLine.fund_id, JournalLine.net_asset_class, month)
    expected = {(a, f, c, m): (total, n) for a, f, c, m, total, n in session.execute(from_lines)}
    stored_rows = select(
        MonthlyBalance.account_id, MonthlyBalance.fund_id, MonthlyBalance.net_asset_class, MonthlyBalance.month,
        MonthlyBalance.amount, MonthlyBalance.line_count,
    )
    stored = {(a, f, c, m): (total, n) for a, f, c, m, total, n in session.execute(stored_rows)}
    problems = []
    for key in sorted(set(expected) | set(stored)):
        want = expected.get(key, (Decimal(0), 0))
        have = stored.get(key, (Decimal(0), 0))
        if want[0] != have[0] or want[1] != have[1]:
            a, f, c, m = key
            problems.append(Problem(
                "balances",
                f"account id {a}, fund id {f}, {c}, month {m}: balance row says {have[0]} over {have[1]} lines, "
                f"lines say {want[0]} over {want[1]}",
            ))
    return problems


def verify_ledger(session: Session) -> list[Problem]:
    return check_chain(session) + check_balances(session)
