"""Checks that return problems (never raise): the hash chain, the balance of every entry, and the
monthly balance rows against the lines. `flask ledger verify` prints them and exits non-zero.

Everything streams: memory stays flat however long the ledger is.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import Integer, and_, cast, func, or_, select
from sqlalchemy.orm import Session, aliased

from fundapp.ledger.chain import GENESIS_HASH, CanonicalLine, canonical_bytes, chain_hash
from fundapp.ledger.models import Account, Fund, JournalEntry, JournalLine, LedgerHead, PeriodBalance


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


def _period_exprs(session: Session) -> dict[str, object]:
    day = JournalLine.effective_date
    if session.get_bind().dialect.name == "postgresql":
        fmt = {"y": "YYYY", "m": "YYYYMM", "d": "YYYYMMDD"}
        return {grain: cast(func.to_char(day, pattern), Integer) for grain, pattern in fmt.items()}
    fmt = {"y": "%Y", "m": "%Y%m", "d": "%Y%m%d"}
    return {grain: cast(func.strftime(pattern, day), Integer) for grain, pattern in fmt.items()}


def check_balances(session: Session) -> list[Problem]:
    """Every year, month and day balance row must equal the sum of its lines, key by key.

    The comparison is a FULL OUTER JOIN in the database, so only mismatches come back to Python.
    """
    problems = []
    row = PeriodBalance
    for grain, period in _period_exprs(session).items():
        lines = (
            select(JournalLine.account_id.label("a"), JournalLine.fund_id.label("f"),
                   JournalLine.net_asset_class.label("c"), period.label("p"),
                   func.sum(JournalLine.amount).label("total"), func.count().label("n"))
            .group_by(JournalLine.account_id, JournalLine.fund_id, JournalLine.net_asset_class, period)
            .subquery()
        )
        rows = select(row.account_id.label("a"), row.fund_id.label("f"), row.net_asset_class.label("c"),
                      row.period.label("p"), row.amount.label("total"), row.line_count.label("n")).where(
            row.grain == grain).subquery()
        joined = lines.join(rows, and_(lines.c.a == rows.c.a, lines.c.f == rows.c.f, lines.c.c == rows.c.c,
                                       lines.c.p == rows.c.p), full=True)
        mismatches = select(
            func.coalesce(lines.c.a, rows.c.a), func.coalesce(lines.c.f, rows.c.f), func.coalesce(lines.c.c, rows.c.c),
            func.coalesce(lines.c.p, rows.c.p), rows.c.total, rows.c.n, lines.c.total, lines.c.n,
        ).select_from(joined).where(or_(
            func.coalesce(lines.c.total, 0) != func.coalesce(rows.c.total, 0),
            func.coalesce(lines.c.n, 0) != func.coalesce(rows.c.n, 0),
        )).limit(100)
        for a, f, c, p, have, have_n, want, want_n in session.execute(mismatches):
            problems.append(_balance_problem((grain, p, a, f, c), (have or 0, have_n or 0), (want or 0, want_n or 0)))
    return problems


def _balance_problem(key: tuple, have: tuple[Decimal, int], want: tuple[Decimal, int]) -> Problem:
    g, p, a, f, c = key
    return Problem(
        "balances",
        f"account id {a}, fund id {f}, {c}, {dict(y='year', m='month', d='day')[g]} {p}: balance row says {have[0]} "
        f"over {have[1]} lines, lines say {want[0]} over {want[1]}",
    )


def verify_ledger(session: Session) -> list[Problem]:
    return check_chain(session) + check_balances(session)
