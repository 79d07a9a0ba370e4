"""The ledger exported to beancount and hledger/ledger-cli journals, read back by those tools.

Each tool must accept the file without a complaint and compute, per (account, fund) and per (account, fund,
class), exactly the balances our own queries give for today.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import shutil
import subprocess
from collections import defaultdict
from decimal import Decimal

import pytest
from beancount import loader
from beancount.core import data, realization
from sqlalchemy import func, select

from fundapp.dates import local_today
from fundapp.ledger.export import (
    ExportError,
    ExportStats,
    iter_export,
    journal_text,
    leaf_accounts,
    unescape_journal_text,
    write_beancount,
    write_hledger,
)
from fundapp.ledger.models import Fund, JournalEntry
from fundapp.ledger.queries import balances_as_of
from fundapp.ledger.services import LineSpec, post_entry, reverse_entry
from tests.factories import account, make_fund, post

D = Decimal
TODAY = local_today()
TOMORROW = TODAY + dt.timedelta(days=1)
TRICKY = [
    'He said "hi"; then left, sadly',
    "捐赠：王小明 “匿名” 100元；谢谢",
    "line one\nline two\r\nline\tthree",
    "back\\slash \\n not a newline, \\u003b not a semicolon",
    "* (7) ! =2026-01-01 | pipe # hash @ at {brace} :tag:x: key: value",
    "\x07bell and \u2028separator",
    '引号 "' * 120,  # long (480 characters), full of quotes
]
needs_hledger = pytest.mark.skipif(shutil.which("hledger") is None, reason="hledger is not installed (Debian: hledger)")
needs_ledger = pytest.mark.skipif(shutil.which("ledger") is None, reason="ledger is not installed (Debian: ledger)")


def _lines(session, *specs):
    return [LineSpec(account(session, code), fund, D(amount), klass, memo) for code, fund, amount, klass, memo in specs]


def _post_lines(session, memo: str, *specs, date: dt.date = TODAY) -> JournalEntry:
    return post_entry(
        session,
        effective_date=date,
        memo=memo,
        lines=_lines(session, *specs),
        idempotency_key=f"export-test:{memo[:40]}:{len(specs)}:{date}",
    )


@pytest.fixture()
def books(session):
    """A small, varied ledger: several funds and classes, multi-fund entries, a reversal, odd memos and codes."""
    gen = make_fund(session, "GEN", name='通用基金 "general", 一')
    edu = make_fund(session, "EDU", restricted=True, fund_type="project", name="助学基金")
    under = make_fund(session, "W_1", fund_type="micro", name="社区微基金")  # '_' is not allowed by beancount
    dash = make_fund(session, "W-1", fund_type="micro")  # the name W_1 would get without care
    han = make_fund(session, "社区2", fund_type="micro")  # a non-ASCII code
    post(session, gen, "1234.56", memo=TRICKY[0], date=TODAY - dt.timedelta(days=10))
    post(session, edu, "0.01", memo=TRICKY[1], date=TODAY - dt.timedelta(days=5))
    post(session, gen, "9999999999999999.99", debit="1401", credit="4601", memo=TRICKY[2])
    _post_lines(
        session,
        TRICKY[3],
        ("5101", gen, "300.00", None, "a, b: c"),
        ("1002", gen, "-300.00", None, "  spaces at both ends  "),
        ("5101", edu, "200.00", None, '助学 "x";\n第二行'),
        ("1002", edu, "-200.00", None, ""),
        ("3102", edu, "200.00", None, "release"),
        ("3101", edu, "-200.00", "unrestricted", "release"),
        date=TODAY - dt.timedelta(days=3),
    )
    _post_lines(
        session,
        TRICKY[4],
        ("1002", edu, "50.00", "unrestricted", ""),
        ("4901", edu, "-50.00", "unrestricted", TRICKY[5]),
    )
    post(session, under, "88.88", memo=TRICKY[5])
    post(session, dash, "11.11", memo="dash fund")
    post(session, han, "66.00", debit="1001", memo=TRICKY[6])
    wrong = post(session, gen, "500.00", debit="5201", credit="1002", memo="Wrong entry")
    reverse_entry(session, wrong, reason='typo "oops"', actor=None)
    post(session, gen, "10.00", date=TODAY - dt.timedelta(days=60), memo="Backdated, posted last")
    post(session, gen, "7.00", date=TODAY + dt.timedelta(days=5), memo="Dated in the future")
    return {"gen": gen, "edu": edu, "wrong": wrong}


def _entry_count(session) -> int:
    return session.scalar(select(func.count()).select_from(JournalEntry))


def _memos(session) -> dict[int, str]:
    return dict(session.execute(select(JournalEntry.seq, JournalEntry.memo)).tuples().all())


def _ours(session) -> tuple[dict[str, Decimal], dict[str, Decimal]]:
    """Our balances today by exported leaf name and by (account, fund) node name; zeros left out."""
    leaves = leaf_accounts(session)
    by_leaf, by_fund = {}, defaultdict(Decimal)
    for key, amount in balances_as_of(session, TODAY).items():
        by_leaf[leaves[key].name] = amount
        by_fund[leaves[key].fund_level] += amount
    return by_leaf, {name: amount for name, amount in by_fund.items() if amount != 0}


def _export(session, tmp_path, writer, suffix: str, **kwargs):
    path = tmp_path / f"books.{suffix}"
    with open(path, "w", encoding="utf-8", newline="\n") as out:
        count = writer(session, out, **kwargs)
    return path, count


def _run(*args: str) -> str:
    """Run a tool under a UTF-8 locale (hledger cannot read a UTF-8 file under the C locale)."""
    env = {**os.environ, "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8"}
    done = subprocess.run(args, capture_output=True, text=True, encoding="utf-8", env=env, timeout=60, check=False)
    assert done.returncode == 0 and done.stderr == "", done.stderr
    return done.stdout


# --- beancount ------------------------------------------------------------------------------------


def _load_beancount(path):
    entries, errors, _options = loader.load_file(str(path))
    assert errors == []  # what bean-check reports
    return entries


def test_beancount_loads_without_errors_and_balances_match(session, books, tmp_path):
    path, count = _export(session, tmp_path, write_beancount, "beancount", batch_size=2)
    assert count == _entry_count(session) == 12
    entries = _load_beancount(path)
    root = realization.realize([entry for entry in entries if entry.date <= TODAY])
    by_leaf, by_fund = {}, {}
    for node in realization.iter_children(root):
        depth = len(node.account.split(":")) if node.account else 0
        balance = realization.compute_balance(node).get_currency_units("CNY").number
        if depth in (3, 4) and balance != 0:
            (by_leaf if depth == 4 else by_fund)[node.account] = balance
    ours_by_leaf, ours_by_fund = _ours(session)
    assert by_fund == ours_by_fund
    assert by_leaf == ours_by_leaf
    assert by_fund["Assets:A1002:Fund-EDU"] == D("-149.99")  # two classes in one (account, fund)
    assert by_fund["Assets:A1401:Fund-GEN"] == D("9999999999999999.99")
    assert len({name for name in by_fund if name.startswith("Income:A4101:Fund-W-1")}) == 2  # W_1 and W-1 kept apart


def test_beancount_keeps_memos_metadata_and_first_use_dates(session, books, tmp_path):
    path, _count = _export(session, tmp_path, write_beancount, "beancount")
    entries = _load_beancount(path)
    transactions = {int(e.meta["seq"]): e for e in entries if isinstance(e, data.Transaction)}
    assert {seq: txn.narration for seq, txn in transactions.items()} == _memos(session)
    multi = transactions[4]
    assert [p.meta.get("memo") for p in multi.postings] == [
        "a, b: c",
        "  spaces at both ends  ",
        '助学 "x";\n第二行',
        None,
        "release",
        "release",
    ]
    assert [(p.meta["fund"], p.meta["class"]) for p in multi.postings][-2:] == [
        ("EDU", "restricted"),
        ("EDU", "unrestricted"),
    ]
    wrong, reversal = transactions[books["wrong"].seq], transactions[books["wrong"].seq + 1]
    assert wrong.meta["reversed-by"] == reversal.meta["seq"] and reversal.meta["reverses"] == wrong.meta["seq"]
    assert wrong.links == reversal.links == {f"reversal-{books['wrong'].seq}"}
    assert wrong.meta["hash"] == books["wrong"].hash
    opens = {e.account: e for e in entries if isinstance(e, data.Open)}
    bank = opens["Assets:A1002:Fund-GEN:Unrestricted"]
    assert bank.date == TODAY - dt.timedelta(days=60)  # the backdated entry, posted last, used it first
    assert bank.currencies == ["CNY"]
    assert (bank.meta["name"], bank.meta["fund-name"], bank.meta["class"]) == (
        "银行存款",
        '通用基金 "general", 一',
        "unrestricted",
    )
    assert all(name.isascii() for name in opens)


def test_streaming_in_small_batches_writes_the_same_file(session, books):
    small, large = io.StringIO(), io.StringIO()
    write_hledger(session, small, batch_size=1)
    write_hledger(session, large)
    assert small.getvalue() == large.getvalue()


def test_empty_ledger_exports_cleanly(session, tmp_path):
    path, count = _export(session, tmp_path, write_beancount, "beancount")
    assert count == 0
    assert _load_beancount(path) == []
    journal = io.StringIO()
    assert write_hledger(session, journal) == 0
    assert journal.getvalue().startswith("; fundapp ledger export (hledger/ledger journal): no entries\n")
    assert "commodity CNY" in journal.getvalue() and "\naccount " not in journal.getvalue()


# --- hledger and ledger-cli -----------------------------------------------------------------------


def _hledger_balances(path, *extra: str) -> dict[str, Decimal]:
    out = _run(
        "hledger", "-f", str(path), "balance", "--flat", "--no-total", "-O", "csv", "-e", TOMORROW.isoformat(), *extra
    )
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0] == ["account", "balance"]
    balances = {name: D(amount.removesuffix(" CNY")) for name, amount in rows[1:]}
    return {name: amount for name, amount in balances.items() if amount != 0}


@needs_hledger
def test_hledger_checks_the_journal_and_balances_match(session, books, tmp_path):
    path, count = _export(session, tmp_path, write_hledger, "journal", batch_size=3)
    assert count == 12
    _run("hledger", "-f", str(path), "check", "--strict")  # every account and the commodity declared
    ours_by_leaf, ours_by_fund = _ours(session)
    assert _hledger_balances(path) == ours_by_leaf
    assert _hledger_balances(path, "--depth", "3") == ours_by_fund
    restricted = _hledger_balances(path, "tag:class=^restricted$")
    assert restricted == {name: amount for name, amount in ours_by_leaf.items() if name.endswith(":Restricted")}


@needs_hledger
def test_hledger_keeps_memos_and_tags(session, books, tmp_path):
    path, _count = _export(session, tmp_path, write_hledger, "journal")
    transactions = json.loads(_run("hledger", "-f", str(path), "print", "-O", "json"))
    memos = {int(t["tcode"]): unescape_journal_text(t["tdescription"]) for t in transactions}
    assert memos == _memos(session)
    multi = next(t for t in transactions if t["tcode"] == "4")
    posting_memos = [dict(p["ptags"]).get("memo") for p in multi["tpostings"]]
    assert [unescape_journal_text(m) if m else None for m in posting_memos] == [
        "a, b: c",
        "  spaces at both ends  ",
        '助学 "x";\n第二行',
        None,
        "release",
        "release",
    ]
    assert dict(multi["tpostings"][2]["ptags"])["fund"] == "EDU"
    assert dict(multi["ttags"])["hash"] == session.scalar(select(JournalEntry.hash).where(JournalEntry.seq == 4))


@needs_ledger
def test_ledger_reads_the_journal_and_balances_match(session, books, tmp_path):
    path, _count = _export(session, tmp_path, write_hledger, "journal")
    _run("ledger", "--pedantic", "-f", str(path), "balance")
    report = ["balance", "--flat", "--no-total", "--end", TOMORROW.isoformat()]
    out = _run(
        "ledger", "-f", str(path), *report, "--balance-format", "%(account)\t%(quantity(scrub(display_total)))\n"
    )
    balances = {name: D(amount) for name, amount in (line.split("\t") for line in out.splitlines())}
    assert {name: amount for name, amount in balances.items() if amount != 0} == _ours(session)[0]
    payees = _run("ledger", "-f", str(path), "register", "--format", "%(code)\t%(payee)\n")
    rows = (line.split("\t") for line in payees.splitlines())
    assert {int(code): unescape_journal_text(payee) for code, payee in rows} == _memos(session)


@pytest.mark.parametrize("text", TRICKY + ["", " ", "a,b", "\\u002c", '"', "\\"])
def test_journal_text_is_one_line_without_separators_and_round_trips(text):
    for tag in (False, True):
        escaped = journal_text(text, tag=tag)
        assert "\n" not in escaped and "\r" not in escaped and ";" not in escaped
        assert escaped == escaped.strip()
        assert not tag or "," not in escaped
        assert unescape_journal_text(escaped) == text


def test_account_names_are_ascii_distinct_and_keep_clean_codes(session, books):
    names = {(leaf.account.code, leaf.fund.code, leaf.klass): leaf.name for leaf in leaf_accounts(session).values()}
    under, han = (session.scalar(select(Fund.id).where(Fund.code == code)) for code in ("W_1", "社区2"))
    assert names[("4101", "W-1", "unrestricted")] == "Income:A4101:Fund-W-1:Unrestricted"
    assert names[("4101", "W_1", "unrestricted")] == f"Income:A4101:Fund-W-1-{under}:Unrestricted"
    assert names[("1001", "社区2", "unrestricted")] == f"Assets:A1001:Fund---2-{han}:Unrestricted"
    assert names[("3102", "EDU", "restricted")] == "Equity:A3102:Fund-EDU:Restricted"
    assert names[("5201", "GEN", "unrestricted")] == "Expenses:A5201:Fund-GEN:Unrestricted"
    assert len(set(names.values())) == len(names) and all(name.isascii() for name in names.values())


def test_iter_export_streams_chunks_and_refuses_an_unknown_format(session, books):
    stats = ExportStats()
    chunks = iter_export(session, "beancount", stats=stats, batch_size=2)
    header = next(chunks)
    assert header.startswith("; fundapp ledger export (beancount)") and stats.entries == 0
    assert "open Assets:A1002:Fund-GEN:Unrestricted CNY" in header
    first = next(chunks)
    assert first.startswith((TODAY - dt.timedelta(days=10)).isoformat() + ' * "He said \\"hi\\"; then left, sadly"\n')
    assert len(list(chunks)) == 11 and stats.entries == 12
    with pytest.raises(ExportError, match="Unknown export format xml"):
        iter_export(session, "xml")


# --- the command ----------------------------------------------------------------------------------


def test_cli_exports_to_a_file(app, session, books, tmp_path):
    path = tmp_path / "books.beancount"
    result = app.test_cli_runner().invoke(args=["ledger", "export", "--format", "beancount", str(path)])
    assert result.exit_code == 0, result.output
    assert result.output == f"wrote 12 entries to {path}\n"
    assert len([e for e in _load_beancount(path) if isinstance(e, data.Transaction)]) == 12
    assert [p.name for p in tmp_path.iterdir()] == ["books.beancount"]


def test_cli_exports_to_stdout(app, session, books):
    result = app.test_cli_runner().invoke(args=["ledger", "export", "--format", "hledger", "-"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("; fundapp ledger export (hledger/ledger journal): entries 1..12")
    assert f"{(TODAY + dt.timedelta(days=5)).isoformat()} * (12) Dated in the future\n" in result.stdout
    assert result.stderr == "wrote 12 entries\n"


def test_cli_refuses_an_unknown_format(app, session):
    result = app.test_cli_runner().invoke(args=["ledger", "export", "--format", "csv", "out.csv"])
    assert result.exit_code == 2
    assert "Invalid value for '--format'" in result.output and "'csv' is not one of" in result.output


@pytest.mark.parametrize("where", ["missing/books.journal", "."])
def test_cli_reports_an_unwritable_path_and_leaves_nothing(app, session, books, tmp_path, where):
    target = tmp_path / where
    result = app.test_cli_runner().invoke(args=["ledger", "export", "--format", "hledger", str(target)])
    assert result.exit_code == 1
    assert f"Error: cannot write {target}" in result.output
    assert list(tmp_path.iterdir()) == [] and list(tmp_path.parent.glob(".ledger-export-*")) == []
