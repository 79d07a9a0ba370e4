"""Reads of the ledger: the entry search, activity over a range, fund net assets, the trial balance."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from fundapp.errors import NotFound
from fundapp.ledger.queries import (
    activity_between,
    balances_as_of,
    entries_query,
    find_reversal,
    fund_net_assets,
    get_entry,
    trial_balance,
)
from fundapp.ledger.services import LineSpec, post_entry, reverse_entry
from tests.factories import account, make_fund, post

D = Decimal
U = "unrestricted"


@pytest.fixture()
def books(session):
    """Two funds, A and B, and six entries from January to March 2024 (seq 1..6)."""
    a, b = make_fund(session, "QA"), make_fund(session, "QB")
    e1 = post(session, a, "100.00", date=dt.date(2024, 1, 10), key="q:one", memo="Donation from Zhang")
    e2 = post(session, b, "50.00", date=dt.date(2024, 2, 5), key="q:two", memo="Grant 50% advance")
    e3 = post(session, a, "30.00", debit="5101", credit="1002", date=dt.date(2024, 2, 20), key="q:three",
              memo="Programme costs")
    e4 = post_entry(
        session, effective_date=dt.date(2024, 3, 1), memo="Mixed", idempotency_key="q:four",
        lines=[LineSpec(account(session, "1001"), a, D("7.00")), LineSpec(account(session, "4901"), a, D("-7.00")),
               LineSpec(account(session, "5201"), b, D("3.00")), LineSpec(account(session, "1002"), b, D("-3.00"))],
    )
    e5 = post(session, a, "20.00", debit="5101", credit="2209", date=dt.date(2024, 3, 10), key="q:five",
              memo="Grant awarded")
    e6 = reverse_entry(session, e2, reason="returned", actor=None, effective_date=dt.date(2024, 3, 15))
    return {"a": a, "b": b, "entries": [e1, e2, e3, e4, e5, e6]}


def seqs(session, **filters) -> list[int]:
    return [entry.seq for entry in session.scalars(entries_query(**filters))]


def key(session, code: str, fund) -> tuple[int, int, str]:
    return account(session, code).id, fund.id, U


def test_entries_query_without_filters_is_newest_first(session, books):
    assert seqs(session) == [6, 5, 4, 3, 2, 1]
    assert seqs(session, newest_first=False) == [1, 2, 3, 4, 5, 6]


def test_entries_query_by_date(session, books):
    assert seqs(session, date_from=dt.date(2024, 2, 5)) == [6, 5, 4, 3, 2]
    assert seqs(session, date_to=dt.date(2024, 2, 5)) == [2, 1]
    assert seqs(session, date_from=dt.date(2024, 2, 6), date_to=dt.date(2024, 3, 1)) == [4, 3]
    assert seqs(session, date_from=dt.date(2024, 4, 1)) == []


def test_entries_query_by_fund_and_account(session, books):
    assert seqs(session, fund_id=books["b"].id) == [6, 4, 2]
    assert seqs(session, account_id=account(session, "5101").id) == [5, 3]
    assert seqs(session, fund_id=books["a"].id, account_id=account(session, "1002").id) == [3, 1]
    # Both conditions hold on one line: entry 4 has 1001 in fund A only, never in fund B.
    assert seqs(session, fund_id=books["b"].id, account_id=account(session, "1001").id) == []
    assert seqs(session, fund_id=books["a"].id, account_id=account(session, "1001").id) == [4]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Zhang", [1]),
        ("zhang", [1]),  # case does not matter
        ("  Zhang ", [1]),
        ("50%", [2]),  # % is a literal, not a wildcard
        ("%", [2]),
        ("_", []),
        ("q:t", [3, 2]),  # idempotency keys are searched too
        ("#4", [4]),
        ("Grant", [5, 2]),
        ("returned", [6]),  # a reversal memo carries its reason
        ("nothing like it", []),
    ],
)
def test_entries_query_by_text(session, books, text, expected):
    assert seqs(session, text=text) == expected


def test_a_bare_number_also_finds_the_entry_by_seq(session, books):
    assert 4 in seqs(session, text="4")  # other entries may match too: the reversal's key holds an id


def test_get_entry_and_find_reversal(session, books):
    e1, e2 = books["entries"][:2]
    assert get_entry(session, e1.id) is e1
    with pytest.raises(NotFound):
        get_entry(session, 10**9)
    assert find_reversal(session, e2).seq == 6
    assert find_reversal(session, e1) is None


def test_activity_between(session, books):
    a, b = books["a"], books["b"]
    february = activity_between(session, dt.date(2024, 2, 1), dt.date(2024, 2, 29))
    assert february == {
        key(session, "1002", b): D("50.00"), key(session, "4101", b): D("-50.00"),
        key(session, "5101", a): D("30.00"), key(session, "1002", a): D("-30.00"),
    }
    assert activity_between(session, dt.date(2024, 2, 6), dt.date(2024, 2, 29)) == {
        key(session, "5101", a): D("30.00"), key(session, "1002", a): D("-30.00"),
    }
    # March in fund B: entry 4's lines and the reversal of entry 2.
    assert activity_between(session, dt.date(2024, 3, 1), dt.date(2024, 3, 31), fund_ids=[b.id]) == {
        key(session, "5201", b): D("3.00"), key(session, "1002", b): D("-53.00"), key(session, "4101", b): D("50.00"),
    }
    assert activity_between(session, dt.date(2023, 1, 1), dt.date(2023, 12, 31)) == {}


def test_activity_adds_up_to_the_balance(session, books):
    january_on = activity_between(session, dt.date(2024, 1, 1), dt.date(2024, 12, 31))
    assert january_on == balances_as_of(session, dt.date(2024, 12, 31))


def test_fund_net_assets(session, books):
    a, b = books["a"], books["b"]
    # A: cash 100 - 30 + 7, less a 20 grant payable. B: 50 - 3, then the 50 reversed.
    assert fund_net_assets(session, dt.date(2024, 3, 31)) == {a.id: D("57.00"), b.id: D("-3.00")}
    assert fund_net_assets(session, dt.date(2024, 2, 29)) == {a.id: D("70.00"), b.id: D("50.00")}
    assert fund_net_assets(session, dt.date(2024, 3, 31), fund_ids=[a.id]) == {a.id: D("57.00")}
    assert fund_net_assets(session, dt.date(2023, 12, 31)) == {}


def test_trial_balance_for_the_foundation_and_per_fund(session, books):
    a, b = books["a"], books["b"]
    whole = trial_balance(session, dt.date(2024, 3, 31))
    assert [(row.account.code, row.debit, row.credit) for row in whole.rows] == [
        ("1001", D("7.00"), D("0.00")),
        ("1002", D("67.00"), D("0.00")),  # A 70, B -3
        ("2209", D("0.00"), D("20.00")),
        ("4101", D("0.00"), D("100.00")),
        ("4901", D("0.00"), D("7.00")),
        ("5101", D("50.00"), D("0.00")),
        ("5201", D("3.00"), D("0.00")),
    ]
    assert whole.total_debit == whole.total_credit == D("127.00") and whole.difference == 0
    only_b = trial_balance(session, dt.date(2024, 3, 31), b)
    assert only_b.fund is b
    assert [(row.account.code, row.balance) for row in only_b.rows] == [("1002", D("-3.00")), ("5201", D("3.00"))]
    assert only_b.total_debit == only_b.total_credit == D("3.00")
    only_a = trial_balance(session, dt.date(2024, 2, 29), a)
    assert [(row.account.code, row.balance) for row in only_a.rows] == [
        ("1002", D("70.00")), ("4101", D("-100.00")), ("5101", D("30.00")),
    ]
    assert trial_balance(session, dt.date(2023, 12, 31)).rows == []


def test_balances_as_of_filters(session, books):
    a = books["a"]
    cash = account(session, "1002").id
    assert balances_as_of(session, dt.date(2024, 3, 31), fund_ids=[a.id], account_ids=[cash]) == {
        (cash, a.id, U): D("70.00")
    }
    assert balances_as_of(session, dt.date(2024, 3, 31), fund_ids=[]) == {}
