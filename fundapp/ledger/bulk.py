"""Bulk ledger generation for benchmarks (`flask demo generate --lines N`).

Writes N journal lines that keep every ledger invariant, much faster than N / 3 calls of post_entry:

- entries of 2-6 lines, each fund balanced inside the entry, amounts as Decimal, dates in order over the
  years asked for, starting after the lock date and after the last entry already posted;
- the hash chain continues from the current head, computed with the same canonical_bytes / chain_hash as
  post_entry, under the same lock on the chain head;
- year/month/day balance rows are aggregated per batch and upserted; ledger_head is updated per batch;
- rows go in with COPY on PostgreSQL (entry ids drawn from the sequence) and with Core executemany
  (insertmanyvalues) elsewhere, one transaction per batch: memory stays flat, and the database guards (closed
  periods on insert, the deferred balance check at each commit, immutability) stay on and run as for any posting.

Deterministic: the same seed on an empty ledger gives the same entries and the same hashes. Unlike the posting
service this tool commits (once per batch) and writes no audit event per entry: it is for test databases.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import Connection, func, insert, select, text, update
from sqlalchemy.orm import Session

from fundapp.funds.services import create_fund
from fundapp.ledger.chain import CanonicalLine, canonical_bytes, chain_hash
from fundapp.ledger.chart import seed_chart
from fundapp.ledger.models import Account, Fund, FundType, JournalEntry, JournalLine, LedgerHead
from fundapp.ledger.services import balance_rows, lock_date, upsert_balances

SOURCE = "bulk"
FUND_PREFIX = "BULK-"
SIZES = (2, 3, 4, 5, 6)
SIZE_WEIGHTS = (50, 20, 15, 8, 7)
ZERO = Decimal("0.00")

# fund type, restriction, name
FUND_KINDS = (
    (FundType.general.value, "unrestricted", "非限定性基金"),
    (FundType.micro.value, "restricted", "社区微基金"),
    (FundType.named.value, "restricted", "专项基金"),
    (FundType.project.value, "restricted", "公益项目基金"),
    (FundType.enterprise_return.value, "unrestricted", "社会企业反哺基金"),
    (FundType.endowment.value, "restricted", "留本基金"),
)

# Two-line blocks: kind -> (memo, debit account, credit account). Inflows first, then outflows.
INFLOWS = {
    "gift_bank": ("捐赠收入（银行转账）", "1002", "4101"),
    "gift_online": ("线上募捐平台捐赠到账", "1009", "4101"),
    "subsidy": ("政府补助收入", "1002", "4401"),
    "share_due": ("社区社会企业收益分成（应收）", "1121", "4601"),
    "service_due": ("社区社会企业服务费（应收）", "1121", "4301"),
    "in_kind": ("接受实物捐赠（按发票计价）", "1201", "4101"),
    "interest": ("投资收益到账", "1002", "4601"),
}
OUTFLOWS = {
    "award": ("理事会决议资助项目（应付）", "5101", "2209"),
    "admin": ("管理费用支出", "5201", "1002"),
    "fundraising": ("筹资费用支出", "5301", "1002"),
}
# Settling what is owed, limited by what is owed.
SETTLEMENTS = {
    "settle_share": ("收到社区社会企业反哺款", "1002", "1121", "1121"),
    "pay_grant": ("支付项目资助款", "2209", "1002", "2209"),
    "distribute": ("向受益人发放实物", "5101", "1201", "1201"),
    "withdraw": ("线上平台资金提现至银行账户", "1002", "1009", "1009"),
}


@dataclass
class Draft:
    """An entry before it has a place in the chain: lines are (account code, fund code, class, amount)."""

    date: dt.date
    memo: str
    lines: list[tuple[str, str, str, Decimal]]


@dataclass
class BulkResult:
    entries: int = 0
    lines: int = 0
    seconds: float = 0.0
    generate_seconds: float = 0.0  # outside the database: building entries and hashing them
    insert_seconds: float = 0.0  # COPY / INSERTs and balance upserts (with the per-row insert triggers)
    commit_seconds: float = 0.0  # COMMIT: on PostgreSQL, the deferred balance triggers run here
    head_hash: str = ""
    first_date: dt.date | None = None
    last_date: dt.date | None = None

    @property
    def lines_per_second(self) -> float:
        return self.lines / self.seconds if self.seconds else 0.0


@dataclass
class _FundState:
    code: str
    klass: str
    held: dict[str, Decimal] = field(default_factory=lambda: defaultdict(lambda: ZERO))

    @property
    def cash(self) -> Decimal:
        """Money the fund may still spend: cash less grants awarded but not paid."""
        return self.held["1002"] + self.held["1009"] + self.held["2209"]


def _cents(rng: random.Random, low: int, high: int) -> Decimal:
    """A random amount of `low` to `high` yuan with cents, as often small as large (one decade picked first)."""
    decades = []
    while low < high:
        decades.append((low, min(low * 10, high)))
        low *= 10
    floor, ceiling = rng.choice(decades)
    return Decimal(rng.randrange(floor * 100, ceiling * 100)).scaleb(-2)


class EntryMaker:
    """Deterministic drafts for `total` lines from `start` over `days` days, keeping every fund solvent."""

    def __init__(self, seed: int, funds: list[Fund], start: dt.date, days: int, total: int):
        self.rng = random.Random(seed)
        self.funds = [_FundState(f.code, f.restriction) for f in funds]
        self.start, self.days, self.total = start, days, total

    def drafts(self) -> Iterator[Draft]:
        done = 0
        while done < self.total:
            size = self._size(self.total - done)
            day = self.start + dt.timedelta(days=done * self.days // self.total)
            draft = self._draft(day, size)
            done += len(draft.lines)
            yield draft

    def _size(self, left: int) -> int:
        """2-6, never leaving a single line over."""
        if left <= 6:
            return left
        size = self.rng.choices(SIZES, SIZE_WEIGHTS)[0]
        return size - 1 if left - size == 1 else size

    def _draft(self, day: dt.date, size: int) -> Draft:
        blocks = {2: (2,), 3: (3,), 4: (2, 2), 5: (3, 2), 6: (2, 2, 2)}[size]
        funds = self.rng.sample(self.funds, len(blocks)) if len(self.funds) >= len(blocks) else None
        if funds is None:  # fewer funds than blocks: one fund, split into same-fund blocks
            funds = [self.rng.choice(self.funds)] * len(blocks)
        lines: list[tuple[str, str, str, Decimal]] = []
        memos = []
        for width, fund in zip(blocks, funds):
            memo, block = (self._three if width == 3 else self._two)(fund)
            memos.append(memo)
            lines += [(account, fund.code, fund.klass, amount) for account, amount in block]
            for account, amount in block:
                fund.held[account] += amount
        memo = memos[0] if len(set(memos)) == 1 else "；".join(dict.fromkeys(memos))
        if len(blocks) > 1:
            memo += f"（{len(blocks)}个基金合并凭证）"
        return Draft(day, memo, lines)

    def _two(self, fund: _FundState) -> tuple[str, list[tuple[str, Decimal]]]:
        roll = self.rng.random()
        if roll < 0.25:
            for kind in self.rng.sample(list(SETTLEMENTS), len(SETTLEMENTS)):
                memo, debit, credit, owed_account = SETTLEMENTS[kind]
                owed = abs(fund.held[owed_account])
                if owed >= Decimal("1.00"):
                    amount = min(owed, _cents(self.rng, 100, 50_000))
                    return memo, [(debit, amount), (credit, -amount)]
        if roll < 0.55 and fund.cash >= 200:
            memo, debit, credit = OUTFLOWS[self.rng.choice(list(OUTFLOWS))]
            amount = min(fund.cash, _cents(self.rng, 100, 80_000))
            return memo, [(debit, amount), (credit, -amount)]
        memo, debit, credit = INFLOWS[self.rng.choice(list(INFLOWS))]
        amount = _cents(self.rng, 20, 100_000)
        return memo, [(debit, amount), (credit, -amount)]

    def _three(self, fund: _FundState) -> tuple[str, list[tuple[str, Decimal]]]:
        if self.rng.random() < 0.4 and fund.cash >= 400:
            programme = min(fund.cash / 2, _cents(self.rng, 100, 40_000)).quantize(Decimal("0.01"))
            staff = min(fund.cash - programme, _cents(self.rng, 100, 20_000))
            return "项目人员薪酬及管理人员薪酬", [("5101", programme), ("5201", staff), ("1002", -programme - staff)]
        gift, fee = _cents(self.rng, 100, 50_000), _cents(self.rng, 1, 50)
        if self.rng.random() < 0.5:
            return "线上捐赠到账（扣除平台手续费）", [("1009", gift - fee), ("5301", fee), ("4101", -gift)]
        online = _cents(self.rng, 20, 5_000)
        return "捐赠收入（银行及线上合计）", [("1002", gift), ("1009", online), ("4101", -gift - online)]


# --- writing ------------------------------------------------------------------------------------


def ensure_funds(session: Session, count: int) -> list[Fund]:
    """The funds BULK-001 .. BULK-<count>, created (through create_fund) where missing."""
    existing = {f.code: f for f in session.scalars(select(Fund).where(Fund.code.startswith(FUND_PREFIX)))}
    funds = []
    for number in range(1, count + 1):
        code = f"{FUND_PREFIX}{number:03d}"
        if code not in existing:
            fund_type, restriction, name = FUND_KINDS[(number - 1) % len(FUND_KINDS)]
            values = {"code": code, "name": f"{name}{number:03d}", "fund_type": fund_type,
                      "restriction": restriction, "purpose": "性能测试用生成数据"}
            existing[code] = create_fund(session, values, None)
        funds.append(existing[code])
    return funds


def start_date(session: Session, years: int, start: dt.date | None = None) -> dt.date:
    """January 1st `years` years ago by default; never on or before the lock date or the last entry's date."""
    start = start or dt.date(dt.date.today().year - years, 1, 1)
    locked = lock_date(session)
    if locked is not None and start <= locked:
        start = locked + dt.timedelta(days=1)
    last = session.scalar(select(func.max(JournalEntry.effective_date)))
    return max(start, last) if last is not None else start


ENTRY_COLUMNS = ("id", "seq", "effective_date", "memo", "source_type", "idempotency_key", "created_at", "prev_hash",
                 "hash")
LINE_COLUMNS = ("entry_id", "line_no", "effective_date", "account_id", "fund_id", "net_asset_class", "amount", "memo")


class _ManyInserts:
    """Core executemany (insertmanyvalues): SQLite, or any database."""

    def __init__(self, conn: Connection):
        self.conn = conn

    def entries(self, rows: list[tuple]) -> list[int]:
        table = JournalEntry.__table__
        stmt = insert(table).returning(table.c.id, sort_by_parameter_order=True)
        return list(self.conn.execute(stmt, [dict(zip(ENTRY_COLUMNS[1:], row[1:])) for row in rows]).scalars())

    def lines(self, rows: list[tuple]) -> None:
        self.conn.execute(insert(JournalLine.__table__), [dict(zip(LINE_COLUMNS, row)) for row in rows])


class _PostgresCopy(_ManyInserts):
    """COPY ... FROM STDIN through psycopg, with entry ids drawn from the table's sequence."""

    def _copy(self, table: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
        with self.conn.connection.driver_connection.cursor() as cursor:
            with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)

    def entries(self, rows: list[tuple]) -> list[int]:
        ids = sorted(self.conn.execute(
            text("SELECT nextval(pg_get_serial_sequence('journal_entries', 'id')) FROM generate_series(1, :n)"),
            {"n": len(rows)},
        ).scalars())
        self._copy("journal_entries", ENTRY_COLUMNS, [(id_, *row[1:]) for id_, row in zip(ids, rows)])
        return ids

    def lines(self, rows: list[tuple]) -> None:
        self._copy("journal_lines", LINE_COLUMNS, rows)


class _Writer:
    """Puts batches of drafts into the chain: one transaction per batch, under the chain-head lock."""

    def __init__(self, session: Session, seed: int, result: BulkResult, copy: bool = True):
        self.session, self.seed, self.result = session, seed, result
        self.copy = copy and session.get_bind().dialect.name == "postgresql"
        self.accounts = {code: id_ for code, id_ in session.execute(select(Account.code, Account.id))}
        self.funds = {code: id_ for code, id_ in session.execute(select(Fund.code, Fund.id))}

    def _lock_head(self, conn: Connection) -> tuple[int, str]:
        conn.execute(update(LedgerHead).where(LedgerHead.id == 1).values(seq=LedgerHead.seq))
        return conn.execute(select(LedgerHead.seq, LedgerHead.hash).where(LedgerHead.id == 1)).one()

    def _chain(self, drafts: list[Draft], seq: int, prev: str) -> list[tuple]:
        """Entry rows (id left None), hashed exactly as post_entry hashes."""
        rows, now = [], dt.datetime.now(dt.UTC)
        for draft in drafts:
            seq += 1
            key = f"bulk:{self.seed}:{seq}"
            body = canonical_bytes(
                seq=seq, effective_date=draft.date.isoformat(), memo=draft.memo, source=SOURCE, key=key,
                reverses=None, lines=[CanonicalLine(*line) for line in draft.lines],
            )
            entry_hash = chain_hash(prev, body)
            rows.append((None, seq, draft.date, draft.memo, SOURCE, key, now, prev, entry_hash))
            prev = entry_hash
        return rows

    def _line_rows(self, drafts: list[Draft], entry_ids: list[int]) -> tuple[list[tuple], list[dict]]:
        rows = []
        for draft, entry_id in zip(drafts, entry_ids, strict=True):
            for line_no, (account, fund, klass, amount) in enumerate(draft.lines, start=1):
                rows.append((entry_id, line_no, draft.date, self.accounts[account], self.funds[fund], klass, amount, ""))
        balances = balance_rows((row[3], row[4], row[5], row[2], row[6]) for row in rows)
        return rows, balances

    def write(self, drafts: list[Draft]) -> None:
        conn = self.session.connection()
        seq, prev = self._lock_head(conn)
        entry_rows = self._chain(drafts, seq, prev)
        started = time.perf_counter()
        sink = _PostgresCopy(conn) if self.copy else _ManyInserts(conn)
        line_rows, balances = self._line_rows(drafts, sink.entries(entry_rows))
        sink.lines(line_rows)
        upsert_balances(conn, balances)
        last = entry_rows[-1]
        conn.execute(update(LedgerHead).where(LedgerHead.id == 1).values(seq=last[1], hash=last[-1]))
        inserted = time.perf_counter()
        self.session.commit()
        self._count(drafts, len(line_rows), last[-1], inserted - started, time.perf_counter() - inserted)

    def _count(self, drafts: list[Draft], lines: int, head: str, inserting: float, committing: float) -> None:
        result = self.result
        result.entries += len(drafts)
        result.lines += lines
        result.head_hash = head
        result.first_date = result.first_date or drafts[0].date
        result.last_date = drafts[-1].date
        result.insert_seconds += inserting
        result.commit_seconds += committing


def _batches(drafts: Iterator[Draft], batch_lines: int) -> Iterator[list[Draft]]:
    batch: list[Draft] = []
    size = 0
    for draft in drafts:
        batch.append(draft)
        size += len(draft.lines)
        if size >= batch_lines:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


def generate_ledger(
    session: Session,
    lines: int,
    *,
    seed: int = 1,
    funds: int = 20,
    years: int = 3,
    batch_lines: int = 20_000,
    start: dt.date | None = None,
    progress: Callable[[BulkResult], None] | None = None,
    copy: bool = True,
) -> BulkResult:
    """Append exactly `lines` journal lines (entries of 2-6 lines) and commit them batch by batch.

    `copy=False` uses executemany on PostgreSQL too (for comparison).
    """
    if lines < 2 or funds < 1 or years < 1 or batch_lines < 6:
        raise ValueError("need lines >= 2, funds >= 1, years >= 1, batch_lines >= 6")
    began = time.perf_counter()
    seed_chart(session)
    fund_rows = ensure_funds(session, funds)
    maker = EntryMaker(seed, fund_rows, start_date(session, years, start), 365 * years + years // 4, lines)
    session.commit()
    result = BulkResult()
    writer = _Writer(session, seed, result, copy=copy)
    for batch in _batches(maker.drafts(), batch_lines):
        writer.write(batch)
        result.seconds = time.perf_counter() - began
        result.generate_seconds = result.seconds - result.insert_seconds - result.commit_seconds
        if progress is not None:
            progress(result)
    return result
