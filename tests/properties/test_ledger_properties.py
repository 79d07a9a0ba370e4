"""Random ledgers: valid entries, reversals and invalid entries interleaved; the books must stay right.

Each example runs in a SAVEPOINT that is rolled back, so examples never see each other's data. A plain
Python model of the ledger (every posted line, kept by the test) is the reference for the balances.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, replace
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select

from fundapp.dates import local_today
from fundapp.ledger.chart import DEFAULT_CHART
from fundapp.ledger.invariants import verify_ledger
from fundapp.ledger.models import JournalEntry, JournalLine, LedgerHead, PeriodBalance
from fundapp.ledger.queries import balances_as_of, trial_balance
from fundapp.ledger.services import LedgerError, LineSpec, post_entry, reverse_entry
from fundapp.money import MAX_AMOUNT
from tests.factories import account, make_fund

MAX_CENTS = int(MAX_AMOUNT * 100)
CODES = [row[0] for row in DEFAULT_CHART]
CLASSES = [None, "unrestricted", "restricted"]
FIRST_DAY, LAST_DAY = dt.date(2024, 1, 1), dt.date(2025, 12, 31)
FAR = dt.date(2099, 12, 31)
N_FUNDS = 3
MAX_VALID = 8  # 8 entries of at most MAX_AMOUNT keep every sum inside SQLite's exact range (9.2e16)
INVALID_KINDS = ("one_line", "off_by_cent", "cross_fund", "zero_line", "three_decimals", "too_large",
                 "total_too_large")


@dataclass(frozen=True)
class Line:
    code: str
    fund: int  # index into the example's funds
    klass: str | None
    amount: Decimal


@dataclass(frozen=True)
class Post:
    date: dt.date
    lines: tuple[Line, ...]


@dataclass(frozen=True)
class Reverse:
    pick: int  # which earlier entry (modulo the number posted)
    days_later: int | None  # None: reverse with today's date


@dataclass(frozen=True)
class Invalid:
    kind: str
    date: dt.date
    lines: tuple[Line, ...]


def cents(n: int) -> Decimal:
    return Decimal(n).scaleb(-2)


totals = st.one_of(st.integers(1, 100), st.integers(1, 10**10), st.integers(10**17, MAX_CENTS), st.just(MAX_CENTS))
dates = st.dates(FIRST_DAY, LAST_DAY)


@st.composite
def split(draw, total: int, max_parts: int = 2) -> list[int]:
    """`total` cents as 1..max_parts positive parts."""
    parts = draw(st.integers(1, min(max_parts, total)))
    cuts = []
    if parts > 1:
        cuts = sorted(draw(st.lists(st.integers(1, total - 1), min_size=parts - 1, max_size=parts - 1, unique=True)))
    bounds = [0, *cuts, total]
    return [b - a for a, b in zip(bounds, bounds[1:])]


@st.composite
def balanced_lines(draw) -> tuple[Line, ...]:
    """Lines whose total debit is at most MAX_AMOUNT, split over one or two funds, each fund balanced."""
    total = draw(totals)
    funds = draw(st.lists(st.integers(0, N_FUNDS - 1), min_size=1, max_size=min(2, total), unique=True))
    lines = []
    for fund, fund_total in zip(funds, draw(split(total, len(funds)))):
        for sign in (1, -1):
            for part in draw(split(fund_total)):
                code, klass = draw(st.sampled_from(CODES)), draw(st.sampled_from(CLASSES))
                lines.append(Line(code, fund, klass, sign * cents(part)))
    return tuple(draw(st.permutations(lines)))


@st.composite
def invalid_entry(draw) -> Invalid:
    kind = draw(st.sampled_from(INVALID_KINDS))
    lines = list(draw(balanced_lines()))
    first = lines[0]
    if kind == "one_line":
        lines = [first]
    elif kind == "off_by_cent":
        lines[0] = replace(first, amount=first.amount + cents(1))
    elif kind == "cross_fund":
        lines[0] = replace(first, fund=(first.fund + 1) % N_FUNDS)
    elif kind == "zero_line":
        lines.insert(draw(st.integers(0, len(lines))), replace(first, amount=Decimal("0.00")))
    elif kind == "three_decimals":
        lines[0] = replace(first, amount=first.amount + Decimal("0.001"))
        lines[-1] = replace(lines[-1], amount=lines[-1].amount - Decimal("0.001"))
    elif kind == "too_large":
        huge = draw(st.sampled_from([MAX_AMOUNT + cents(1), Decimal(10) ** 20, Decimal(10) ** 30 + cents(1)]))
        lines = [replace(first, amount=huge), replace(first, amount=-huge)]
    else:  # total_too_large: every line is in range, the entry's total is not
        lines = [replace(first, amount=sign * MAX_AMOUNT) for sign in (1, 1, -1, -1)]
    return Invalid(kind, draw(dates), tuple(lines))


posts = st.builds(Post, dates, balanced_lines())
operation = st.one_of(
    posts,
    posts,  # twice: posting is the common case
    st.builds(Reverse, st.integers(0, 100), st.one_of(st.none(), st.integers(0, 90))),
    invalid_entry(),
)


@st.composite
def scripts(draw) -> list:
    ops = draw(st.lists(operation, min_size=3, max_size=14))
    n_posts, kept = 0, []
    for op in ops:  # at most MAX_VALID valid entries (see MAX_VALID)
        if isinstance(op, Post):
            if n_posts == MAX_VALID:
                continue
            n_posts += 1
        kept.append(op)
    return kept


# --- running a script --------------------------------------------------------------------------------


class Ledger:
    """Posts a script through the services and keeps an independent model of every line."""

    def __init__(self, session):
        self.session = session
        self.funds = [make_fund(session) for _ in range(N_FUNDS)]
        self.accounts = {code: account(session, code) for code in CODES}
        self.entries: list[JournalEntry] = []  # original entries, in posting order
        self.posted: dict[int, list[LineSpec]] = {}  # entry id -> the lines the test asked for
        self.reversed: set[int] = set()
        self.model: list[tuple[dt.date, tuple[int, int, str], Decimal]] = []
        self.count = 0

    def specs(self, lines) -> list[LineSpec]:
        return [LineSpec(self.accounts[x.code], self.funds[x.fund], x.amount, x.klass) for x in lines]

    def key(self, spec: LineSpec) -> tuple[int, int, str]:
        return spec.account.id, spec.fund.id, spec.klass

    def post(self, op: Post) -> None:
        specs = self.specs(op.lines)
        self.count += 1
        entry = post_entry(self.session, effective_date=op.date, memo=f"entry {self.count}", lines=specs,
                           idempotency_key=f"prop:{self.count}")
        self.entries.append(entry)
        self.posted[entry.id] = specs
        self.model.extend((op.date, self.key(spec), spec.amount) for spec in specs)

    def reverse(self, op: Reverse) -> None:
        open_entries = [e for e in self.entries if e.id not in self.reversed]
        if not open_entries:
            return
        entry = open_entries[op.pick % len(open_entries)]
        date = None if op.days_later is None else entry.effective_date + dt.timedelta(days=op.days_later)
        before = balances_as_of(self.session, FAR)
        reversal = reverse_entry(self.session, entry, reason="property test", actor=None, effective_date=date)
        after = balances_as_of(self.session, FAR)
        self.reversed.add(entry.id)
        self.model.extend((reversal.effective_date, self.key(spec), -spec.amount) for spec in self.posted[entry.id])
        assert reversal.effective_date == (date or local_today())
        assert_reversal_undoes(entry, before, after)

    def snapshot(self) -> tuple:
        s = self.session
        head = s.get(LedgerHead, 1)
        s.refresh(head)
        return (
            s.scalar(select(func.count()).select_from(JournalEntry)),
            s.scalar(select(func.count()).select_from(JournalLine)),
            s.scalar(select(func.count()).select_from(PeriodBalance)),
            s.scalar(select(func.sum(PeriodBalance.line_count))),
            head.seq,
            head.hash,
        )

    def invalid(self, op: Invalid) -> None:
        before = self.snapshot()
        try:
            post_entry(self.session, effective_date=op.date, memo=f"invalid {op.kind}", lines=self.specs(op.lines),
                       idempotency_key=f"invalid:{self.count}:{op.kind}")
        except LedgerError:
            pass
        else:
            raise AssertionError(f"an invalid entry ({op.kind}) was posted")
        assert self.snapshot() == before, op.kind

    def run(self, script) -> None:
        for op in script:
            {Post: self.post, Reverse: self.reverse, Invalid: self.invalid}[type(op)](op)

    def model_balances(self, as_of: dt.date) -> dict:
        totals: dict = defaultdict(Decimal)
        for day, key, amount in self.model:
            if day <= as_of:
                totals[key] += amount
        return {key: value for key, value in totals.items() if value != 0}


def assert_reversal_undoes(entry: JournalEntry, before: dict, after: dict) -> None:
    """The reversal's change to every balance is exactly minus the entry's own lines."""
    effect: dict = defaultdict(Decimal)
    for line in entry.lines:
        effect[(line.account_id, line.fund_id, line.net_asset_class)] -= line.amount
    for key in set(before) | set(after) | set(effect):
        assert after.get(key, 0) - before.get(key, 0) == effect.get(key, 0), key


def assert_books_balance(session, ledger: Ledger, as_of: dt.date) -> None:
    tb = trial_balance(session, as_of)
    assert tb.total_debit == tb.total_credit
    for fund in ledger.funds:
        per_fund = trial_balance(session, as_of, fund)
        assert per_fund.total_debit == per_fund.total_credit, fund.code
    assert balances_as_of(session, as_of) == ledger.model_balances(as_of)


def assert_each_entry_balances_per_fund(session) -> None:
    stmt = select(JournalLine.entry_id, JournalLine.fund_id, JournalLine.amount)
    totals: dict = defaultdict(Decimal)
    for entry_id, fund_id, amount in session.execute(stmt):
        totals[(entry_id, fund_id)] += amount
    assert all(total == 0 for total in totals.values())


@given(script=scripts(), probes=st.lists(dates, min_size=1, max_size=4))
def test_random_ledgers_stay_balanced(session, script, probes):
    savepoint = session.begin_nested()
    try:
        ledger = Ledger(session)
        ledger.run(script)
        session.flush()
        for as_of in [*probes, FIRST_DAY - dt.timedelta(days=1), LAST_DAY, FAR]:
            assert_books_balance(session, ledger, as_of)
        assert_each_entry_balances_per_fund(session)
        assert verify_ledger(session) == []
    finally:
        savepoint.rollback()


@given(first=balanced_lines(), second=balanced_lines(), first_date=dates, second_date=dates)
def test_reversing_an_entry_restores_every_balance(session, first, second, first_date, second_date):
    savepoint = session.begin_nested()
    try:
        ledger = Ledger(session)
        ledger.post(Post(first_date, first))
        before = {day: balances_as_of(session, day) for day in (first_date, second_date, LAST_DAY, FAR)}
        ledger.post(Post(second_date, second))
        reverse_entry(session, ledger.entries[-1], reason="property test", actor=None,
                      effective_date=second_date)
        assert {day: balances_as_of(session, day) for day in before} == before
        assert verify_ledger(session) == []
    finally:
        savepoint.rollback()


@given(valid=st.lists(posts, min_size=1, max_size=3), bad=st.lists(invalid_entry(), min_size=1, max_size=3))
def test_invalid_entries_raise_and_change_nothing(session, valid, bad):
    savepoint = session.begin_nested()
    try:
        ledger = Ledger(session)
        ledger.run(valid)
        ledger.run(bad)  # each one: LedgerError, and counts, balance rows and the head unchanged
        assert verify_ledger(session) == []
    finally:
        savepoint.rollback()
