"""Export the whole ledger as plain-text accounting files: beancount, and hledger/ledger-cli journals.

Independent tools can then check the books (bean-check, `hledger check`, `ledger --pedantic`) and compute
balances that must equal ours. Each line becomes a posting to the leaf account

    <Root>:A<account code>:Fund-<fund code>:<Unrestricted|Restricted>

so the tools give the balance per (account, fund, class) at the leaf, per (account, fund) one level up and per
account two levels up; fund, class, entry seq, hash and memos are also written as metadata (docs/ledger-export.md).

The export streams: one aggregate query lists the accounts used (with the date of first use), then the lines
are read in (seq, line_no) order in batches (`yield_per`), so memory does not grow with the ledger. The writers
take a session and a text stream; `iter_export` gives text chunks for a streamed HTTP response.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import json
import os
import tempfile
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TextIO

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from fundapp.errors import DomainError
from fundapp.ledger.models import Account, AccountType, Fund, JournalEntry, JournalLine, NetAssetClass

CURRENCY = "CNY"
FORMATS = ("beancount", "hledger")
BATCH_SIZE = 1000
ROOTS = {
    AccountType.asset.value: "Assets",
    AccountType.liability.value: "Liabilities",
    AccountType.net_assets.value: "Equity",
    AccountType.revenue.value: "Income",
    AccountType.expense.value: "Expenses",
}
HLEDGER_TYPES = {"Assets": "A", "Liabilities": "L", "Equity": "E", "Income": "R", "Expenses": "X"}
CLASS_SEGMENTS = {NetAssetClass.unrestricted.value: "Unrestricted", NetAssetClass.restricted.value: "Restricted"}
HLEDGER_TAGS = ("seq", "hash", "key", "source", "source-id", "reverses", "reversed-by",
                "code", "name", "name-en", "fund", "fund-name", "class", "memo")  # fmt: skip

LeafKey = tuple[int, int, str]  # account_id, fund_id, net_asset_class


class ExportError(DomainError):
    """The ledger cannot be exported as asked; nothing useful was written."""


@dataclass(frozen=True)
class Leaf:
    """One exported account: an (account, fund, class) of ours, with the date of its first line."""

    name: str
    account: Account
    fund: Fund
    klass: str
    opened: dt.date

    @property
    def fund_level(self) -> str:
        """The (account, fund) node: the leaf name without its class segment."""
        return self.name.rsplit(":", 1)[0]


@dataclass
class ExportEntry:
    seq: int
    date: dt.date
    memo: str
    source_type: str
    source_id: str | None
    key: str
    hash: str
    reverses: int | None
    reversed_by: int | None
    lines: list[tuple[Leaf, Decimal, str]] = field(default_factory=list)  # leaf, amount, line memo


# --- account names --------------------------------------------------------------------------------


def _segment(prefix: str, code: str) -> str:
    """`prefix` + code with anything but ASCII letters, digits and '-' turned into '-'."""
    return prefix + "".join(ch if ch.isascii() and (ch.isalnum() or ch == "-") else "-" for ch in code)


def _unique_segments(prefix: str, items: dict[int, str]) -> dict[int, str]:
    """Segment per id. A code made only of ASCII letters, digits and '-' keeps its name; another code is cleaned
    and gets its id appended (again while that clashes), so names never merge and rarely change."""
    names = {ident: prefix + code for ident, code in items.items() if _segment(prefix, code) == prefix + code}
    taken = set(names.values())
    for ident, code in sorted(items.items()):
        if ident not in names:
            name = f"{_segment(prefix, code)}-{ident}"
            while name in taken:
                name = f"{name}-{ident}"
            names[ident] = name
            taken.add(name)
    if len(taken) != len(items):
        codes = ", ".join(sorted(items.values()))
        raise ExportError(_("Codes %(codes)s cannot be given distinct account names.", codes=codes))
    return names


def leaf_accounts(session: Session, upto_seq: int | None = None) -> dict[LeafKey, Leaf]:
    """Every (account, fund, class) with lines (up to entry `upto_seq`), named, with its first date."""
    stmt = select(
        JournalLine.account_id, JournalLine.fund_id, JournalLine.net_asset_class, func.min(JournalLine.effective_date)
    ).group_by(JournalLine.account_id, JournalLine.fund_id, JournalLine.net_asset_class)
    if upto_seq is not None:
        stmt = stmt.join(JournalEntry, JournalLine.entry_id == JournalEntry.id).where(JournalEntry.seq <= upto_seq)
    rows = session.execute(stmt).all()
    # All accounts and funds (small tables), so a name does not depend on which others have lines yet.
    accounts = {a.id: a for a in session.scalars(select(Account))}
    funds = {f.id: f for f in session.scalars(select(Fund))}
    account_segments = _unique_segments("A", {i: a.code for i, a in accounts.items()})
    fund_segments = _unique_segments("Fund-", {i: f.code for i, f in funds.items()})
    leaves = {}
    for account_id, fund_id, klass, first in sorted(rows, key=lambda r: (accounts[r[0]].code, funds[r[1]].code, r[2])):
        account = accounts[account_id]
        if account.type not in ROOTS or klass not in CLASS_SEGMENTS:
            raise ExportError(_("Account %(code)s has an unknown type or net-asset class.", code=account.code))
        name = ":".join(
            (ROOTS[account.type], account_segments[account_id], fund_segments[fund_id], CLASS_SEGMENTS[klass])
        )
        leaves[(account_id, fund_id, klass)] = Leaf(name, account, funds[fund_id], klass, first)
    return leaves


# --- streaming the entries ------------------------------------------------------------------------


def _head_seq(session: Session) -> tuple[int, str | None]:
    """The last committed entry: entries are appended under a lock, so 1..seq are all there."""
    last = select(JournalEntry.seq, JournalEntry.hash).order_by(JournalEntry.seq.desc()).limit(1)
    row = session.execute(last).first()
    return (row[0], row[1]) if row else (0, None)


def _lines_query(upto_seq: int):
    original, reversal = aliased(JournalEntry), aliased(JournalEntry)
    return (
        select(
            JournalEntry.seq,
            JournalEntry.effective_date,
            JournalEntry.memo,
            JournalEntry.source_type,
            JournalEntry.source_id,
            JournalEntry.idempotency_key,
            JournalEntry.hash,
            original.seq,
            reversal.seq,
            JournalLine.account_id,
            JournalLine.fund_id,
            JournalLine.net_asset_class,
            JournalLine.amount,
            JournalLine.memo,
        )
        .join(JournalEntry, JournalLine.entry_id == JournalEntry.id)
        .outerjoin(original, JournalEntry.reverses_id == original.id)
        .outerjoin(reversal, reversal.reverses_id == JournalEntry.id)
        .where(JournalEntry.seq <= upto_seq)
        .order_by(JournalEntry.seq, JournalLine.line_no)
    )


def iter_entries(
    session: Session, leaves: dict[LeafKey, Leaf], upto_seq: int, batch_size: int = BATCH_SIZE
) -> Iterator[ExportEntry]:
    """Entries 1..upto_seq in order, each with its lines, read `batch_size` rows at a time."""
    result = session.execute(_lines_query(upto_seq).execution_options(yield_per=batch_size))
    try:
        for seq, rows in itertools.groupby(result, key=lambda row: row[0]):
            rows = list(rows)
            entry = ExportEntry(*rows[0][:9])  # the first nine columns are ExportEntry's fields, in order
            entry.lines = [(leaves[(r[9], r[10], r[11])], r[12], r[13] or "") for r in rows]
            yield entry
    finally:
        result.close()


def _amount(value: Decimal) -> str:
    return f"{value:.2f} {CURRENCY}"


def _leaf_meta(leaf: Leaf) -> dict[str, str]:
    meta = {"code": leaf.account.code, "name": leaf.account.name, "name-en": leaf.account.name_en,
            "fund": leaf.fund.code, "fund-name": leaf.fund.name, "class": leaf.klass}  # fmt: skip
    return {key: value for key, value in meta.items() if value}


def _entry_meta(entry: ExportEntry) -> dict[str, str | int]:
    meta = {"seq": entry.seq, "hash": entry.hash, "key": entry.key, "source": entry.source_type,
            "source-id": entry.source_id, "reverses": entry.reverses, "reversed-by": entry.reversed_by}  # fmt: skip
    return {key: value for key, value in meta.items() if value}


def _posting_meta(leaf: Leaf, memo: str) -> dict[str, str]:
    return {"fund": leaf.fund.code, "class": leaf.klass} | ({"memo": memo} if memo else {})


# --- beancount ------------------------------------------------------------------------------------

_BEANCOUNT_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def beancount_string(text: str) -> str:
    """A beancount string literal: backslash, quote, newline, CR and tab escaped (its lexer undoes them)."""
    return '"' + "".join(_BEANCOUNT_ESCAPES.get(ch, ch) for ch in text) + '"'


def _beancount_meta(meta: dict[str, str | int], indent: str) -> list[str]:
    return [
        f"{indent}{key}: {value if isinstance(value, int) else beancount_string(value)}" for key, value in meta.items()
    ]


def _beancount_open(leaf: Leaf) -> list[str]:
    return [f"{leaf.opened.isoformat()} open {leaf.name} {CURRENCY}"] + _beancount_meta(_leaf_meta(leaf), "  ")


def _beancount_entry(entry: ExportEntry) -> list[str]:
    link = f" ^reversal-{entry.reverses or entry.seq}" if entry.reverses or entry.reversed_by else ""
    out = [f"{entry.date.isoformat()} * {beancount_string(entry.memo)}{link}"]
    out += _beancount_meta(_entry_meta(entry), "  ")
    for leaf, amount, memo in entry.lines:
        out.append(f"  {leaf.name}  {_amount(amount)}")
        out += _beancount_meta(_posting_meta(leaf, memo), "    ")
    return out


def _beancount_header(upto: int, head_hash: str | None, leaves: dict[LeafKey, Leaf]) -> list[str]:
    out = [
        f"; fundapp ledger export (beancount): {_span(upto, head_hash)}",
        "; Accounts are <Root>:A<account code>:Fund-<fund code>:<class>; see docs/ledger-export.md.",
        'option "title" "fundapp ledger"',
        f'option "operating_currency" "{CURRENCY}"',
        "",
    ]
    if leaves:
        first = min(leaf.opened for leaf in leaves.values())
        out += [f"{first.isoformat()} commodity {CURRENCY}", ""]
    for leaf in leaves.values():
        out += _beancount_open(leaf) + [""]
    return out


# --- hledger / ledger-cli -------------------------------------------------------------------------

_JOURNAL_ESCAPES = {"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t", ";": "\\u003b"}


def journal_text(text: str, *, tag: bool = False) -> str:
    """Text for a journal description (`tag=False`) or tag value (`tag=True`), on one line.

    ';' would start a comment and, in a tag value, ',' would end it; they, backslash and control characters are
    written as JSON escapes, and so is whitespace at either end (the tools trim it). `unescape_journal_text`
    gives the original back.
    """
    if text.isprintable() and text == text.strip() and not any(ch in text for ch in "\\;,"):
        return text  # the common case, nothing to escape
    chars = []
    for ch in text:
        if ch in _JOURNAL_ESCAPES:
            chars.append(_JOURNAL_ESCAPES[ch])
        elif (tag and ch == ",") or unicodedata.category(ch) in ("Cc", "Zl", "Zp"):
            chars.append(f"\\u{ord(ch):04x}")
        else:
            chars.append(ch)
    for index in (0, -1):
        if chars and chars[index].isspace():
            chars[index] = f"\\u{ord(chars[index]):04x}"
    return "".join(chars)


def unescape_journal_text(text: str) -> str:
    """The inverse of `journal_text`."""
    return json.loads('"' + text.replace('"', '\\"') + '"')


def _journal_comments(meta: dict[str, str | int], indent: str) -> list[str]:
    return [f"{indent}; {key}: {journal_text(str(value), tag=True)}" for key, value in meta.items()]


def _journal_account(leaf: Leaf) -> list[str]:
    meta = {"type": HLEDGER_TYPES[leaf.name.split(":", 1)[0]]} | _leaf_meta(leaf)
    return [f"account {leaf.name}"] + _journal_comments(meta, "    ")


def _journal_entry(entry: ExportEntry) -> list[str]:
    out = [f"{entry.date.isoformat()} * ({entry.seq}) {journal_text(entry.memo)}"]
    out += _journal_comments(_entry_meta(entry), "    ")
    for leaf, amount, memo in entry.lines:
        out.append(f"    {leaf.name}  {_amount(amount)}")
        out += _journal_comments(_posting_meta(leaf, memo), "        ")
    return out


def _journal_header(upto: int, head_hash: str | None, leaves: dict[LeafKey, Leaf]) -> list[str]:
    out = [
        f"; fundapp ledger export (hledger/ledger journal): {_span(upto, head_hash)}",
        "; Accounts are <Root>:A<account code>:Fund-<fund code>:<class>; descriptions and tag values",
        "; escape backslash, ';', ',' and control characters as JSON does; see docs/ledger-export.md.",
        "",
        f"commodity {CURRENCY}",
        f"    format 1000.00 {CURRENCY}",
        "",
    ]
    out += [f"tag {name}" for name in HLEDGER_TAGS] + [""]
    for leaf in leaves.values():
        out += _journal_account(leaf) + [""]
    return out


# --- entry point ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Format:
    header: Callable[[int, str | None, dict[LeafKey, Leaf]], list[str]]
    entry: Callable[[ExportEntry], list[str]]


_FORMATS = {
    "beancount": _Format(_beancount_header, _beancount_entry),
    "hledger": _Format(_journal_header, _journal_entry),
}


@dataclass
class ExportStats:
    entries: int = 0


def iter_export(
    session: Session, fmt: str, *, batch_size: int = BATCH_SIZE, stats: ExportStats | None = None
) -> Iterator[str]:
    """The export in format `fmt` as text chunks (one per entry), e.g. for a streamed HTTP response.

    An unknown format raises ExportError here, before anything is produced. The session must stay open while
    the chunks are consumed (in a view: `stream_with_context`); `stats.entries` counts the entries produced.
    """
    spec = _FORMATS.get(fmt)
    if spec is None:
        choices = ", ".join(FORMATS)
        raise ExportError(_("Unknown export format %(format)s: choose %(choices)s.", format=fmt, choices=choices))
    return _chunks(session, spec, batch_size, stats if stats is not None else ExportStats())


def _chunks(session: Session, spec: _Format, batch_size: int, stats: ExportStats) -> Iterator[str]:
    upto, head_hash = _head_seq(session)
    leaves = leaf_accounts(session, upto)
    yield _text(spec.header(upto, head_hash, leaves))
    for entry in iter_entries(session, leaves, upto, batch_size):
        yield _text(spec.entry(entry) + [""])
        stats.entries += 1


def export_ledger(session: Session, fmt: str, out: TextIO, *, batch_size: int = BATCH_SIZE) -> int:
    """Write the ledger in format `fmt` (one of FORMATS) to `out`; return the number of entries written."""
    stats = ExportStats()
    out.writelines(iter_export(session, fmt, batch_size=batch_size, stats=stats))
    return stats.entries


def write_beancount(session: Session, out: TextIO, *, batch_size: int = BATCH_SIZE) -> int:
    """Write the ledger as a beancount file to `out`; return the number of entries written."""
    return export_ledger(session, "beancount", out, batch_size=batch_size)


def write_hledger(session: Session, out: TextIO, *, batch_size: int = BATCH_SIZE) -> int:
    """Write the ledger as an hledger journal (also read by ledger-cli) to `out`; return the entries written."""
    return export_ledger(session, "hledger", out, batch_size=batch_size)


def write_export_file(session: Session, fmt: str, path: str) -> int:
    """Export to the file `path`, replaced only once the whole export is written (raises OSError, ExportError).

    The file is created readable by its owner only: it holds the foundation's books.
    """
    stats = ExportStats()
    chunks = iter_export(session, fmt, stats=stats)  # an unknown format raises before the disk is touched
    fd, temporary = tempfile.mkstemp(prefix=".ledger-export-", dir=os.path.dirname(os.path.abspath(path)))
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as out:
            out.writelines(chunks)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    return stats.entries


def _span(upto: int, head_hash: str | None) -> str:
    return f"entries 1..{upto}, chain head {head_hash}" if upto else "no entries"


def _text(lines: list[str]) -> str:
    return "\n".join(lines) + "\n"
