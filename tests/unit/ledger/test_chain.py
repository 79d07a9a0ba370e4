"""The hash chain: a stable canonical form, and tampering found at the first altered entry.

Tampering tests bypass the database guards the way someone with direct database access could: on PostgreSQL
`session_replication_role = replica` turns triggers off for the test's transaction; on SQLite the triggers are
dropped inside it. Either way the outer rollback puts everything back.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal

import pytest
import sqlalchemy as sa

from fundapp.ledger.chain import GENESIS_HASH, CanonicalLine, canonical_bytes, chain_hash
from fundapp.ledger.invariants import verify_ledger
from fundapp.ledger.models import JournalEntry
from fundapp.ledger.services import LineSpec, post_entry
from tests.factories import account, make_fund, post

KNOWN_BODY = (
    '{"date":"2026-01-31","key":"donation:7","lines":['
    '{"account":"1002","amount":"100.00","class":"unrestricted","fund":"GEN"},'
    '{"account":"4101","amount":"-100.00","class":"unrestricted","fund":"GEN"}],'
    '"memo":"张三捐赠","reverses":null,"seq":1,"source":"manual"}'
).encode()
# `printf '%s' "$(printf '0%.0s' {1..64})$KNOWN_BODY" | sha256sum`
KNOWN_HASH = "7b85fae265e06cb78829954ce360a37062cea7c41bc268842e5a93362d4e54bd"


def known_lines() -> list[CanonicalLine]:
    return [CanonicalLine("1002", "GEN", "unrestricted", Decimal("100")),
            CanonicalLine("4101", "GEN", "unrestricted", Decimal("-100.00"))]


def test_canonical_bytes_are_stable():
    body = canonical_bytes(seq=1, effective_date="2026-01-31", memo="张三捐赠", source="manual", key="donation:7",
                           reverses=None, lines=known_lines())
    assert body == KNOWN_BODY
    assert hashlib.sha256(GENESIS_HASH.encode("ascii") + KNOWN_BODY).hexdigest() == KNOWN_HASH
    assert chain_hash(GENESIS_HASH, body) == KNOWN_HASH


def test_any_change_to_the_content_changes_the_hash():
    base = {"seq": 1, "effective_date": "2026-01-31", "memo": "张三捐赠", "source": "manual", "key": "donation:7",
            "reverses": None, "lines": known_lines()}
    changed = [
        {**base, "seq": 2},
        {**base, "effective_date": "2026-02-01"},
        {**base, "memo": "张三捐赠 "},
        {**base, "reverses": 1},
        {**base, "lines": known_lines()[::-1]},
        {**base, "lines": [CanonicalLine("1001", "GEN", "unrestricted", Decimal("100")), known_lines()[1]]},
    ]
    hashes = {chain_hash(GENESIS_HASH, canonical_bytes(**values)) for values in changed}
    assert KNOWN_HASH not in hashes and len(hashes) == len(changed)
    assert chain_hash("1" * 64, KNOWN_BODY) != KNOWN_HASH


def test_posting_produces_the_known_hash(session):
    fund = make_fund(session, "GEN")
    entry = post_entry(
        session, effective_date=dt.date(2026, 1, 31), memo="张三捐赠", idempotency_key="donation:7",
        lines=[LineSpec(account(session, "1002"), fund, Decimal("100.00")),
               LineSpec(account(session, "4101"), fund, Decimal("-100.00"))],
    )
    assert (entry.seq, entry.prev_hash, entry.hash) == (1, GENESIS_HASH, KNOWN_HASH)
    second = post(session, fund, "1.00")
    assert second.prev_hash == KNOWN_HASH


# --- tampering ------------------------------------------------------------------------------------


def bypass_guards(session) -> str:
    """Turn the immutability triggers off for this test's transaction; return the dialect name."""
    session.flush()
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        session.execute(sa.text("SET LOCAL session_replication_role = replica"))
    else:
        for table in ("journal_entries", "journal_lines"):
            for op in ("update", "delete"):
                session.execute(sa.text(f"DROP TRIGGER {table}_no_{op}"))
    return dialect


def five_entries(session) -> list[JournalEntry]:
    fund = make_fund(session)
    make_fund(session, "OTHER")
    return [post(session, fund, f"{n}0.00", date=dt.date(2025, 3, n)) for n in range(1, 6)]


def chain_problems(session) -> list:
    session.expire_all()
    return [p for p in verify_ledger(session) if p.check == "chain"]


def raw_amount(session, amount: str) -> int | Decimal:
    """An amount as stored: integer cents on SQLite (see fundapp.db.MoneyType), numeric on PostgreSQL."""
    value = Decimal(amount)
    return int(value * 100) if session.get_bind().dialect.name == "sqlite" else value


def set_amount(session, entry: JournalEntry, line_no: int, amount: str) -> None:
    session.execute(sa.text("UPDATE journal_lines SET amount = :a WHERE entry_id = :id AND line_no = :n"),
                    {"a": raw_amount(session, amount), "id": entry.id, "n": line_no})


TAMPERINGS = {
    "memo": ["UPDATE journal_entries SET memo = 'tampered' WHERE id = :id"],
    "amount": ["UPDATE journal_lines SET amount = :plus WHERE entry_id = :id AND line_no = 1",
               "UPDATE journal_lines SET amount = :minus WHERE entry_id = :id AND line_no = 2"],
    "account": ["UPDATE journal_lines SET account_id = (SELECT id FROM accounts WHERE code = '1001') "
                "WHERE entry_id = :id AND line_no = 1"],
    "fund": ["UPDATE journal_lines SET fund_id = (SELECT id FROM funds WHERE code = 'OTHER') WHERE entry_id = :id"],
    "date": ["UPDATE journal_entries SET effective_date = '2025-03-28' WHERE id = :id",
             "UPDATE journal_lines SET effective_date = '2025-03-28' WHERE entry_id = :id"],
    "prev_hash": ["UPDATE journal_entries SET prev_hash = '" + "a" * 64 + "' WHERE id = :id"],
}


@pytest.mark.parametrize("what", sorted(TAMPERINGS))
def test_verify_names_the_first_altered_entry(session, what):
    entries = five_entries(session)
    assert verify_ledger(session) == []
    bypass_guards(session)
    for victim in (entries[3], entries[1]):  # altered out of order: seq 4, then seq 2
        for statement in TAMPERINGS[what]:
            params = {"id": victim.id, "plus": raw_amount(session, "99.99"), "minus": raw_amount(session, "-99.99")}
            assert session.execute(sa.text(statement), params).rowcount >= 1
    problems = chain_problems(session)
    assert problems[0].seq == entries[1].seq == 2
    assert len(problems) == 1  # after the first break the rest of the chain is not re-judged


def test_balanced_tampering_is_still_found_by_the_balance_rows(session):
    entries = five_entries(session)
    bypass_guards(session)
    set_amount(session, entries[2], 1, "12.34")
    set_amount(session, entries[2], 2, "-12.34")
    problems = verify_ledger(session)
    assert [p.seq for p in problems if p.check == "chain"] == [3]
    assert any(p.check == "balances" for p in problems)
    assert not any(p.check == "balance" for p in problems)  # the entry itself still sums to zero


def test_unbalanced_tampering_is_reported_per_entry(session):
    entries = five_entries(session)
    bypass_guards(session)
    set_amount(session, entries[1], 1, "25.00")
    problems = verify_ledger(session)
    balance = [p for p in problems if p.check == "balance"]
    assert balance and all(p.seq == 2 for p in balance)
    assert "5.00" in balance[0].message


def test_a_deleted_entry_is_a_sequence_jump(session):
    entries = five_entries(session)
    bypass_guards(session)
    session.execute(sa.text("DELETE FROM journal_lines WHERE entry_id = :id"), {"id": entries[2].id})
    session.execute(sa.text("DELETE FROM journal_entries WHERE id = :id"), {"id": entries[2].id})
    problems = chain_problems(session)
    assert len(problems) == 1
    assert problems[0].seq == 4 and "jumps from 2 to 4" in problems[0].message


def test_a_deleted_last_entry_leaves_the_head_ahead(session):
    entries = five_entries(session)
    bypass_guards(session)
    session.execute(sa.text("DELETE FROM journal_lines WHERE entry_id = :id"), {"id": entries[-1].id})
    session.execute(sa.text("DELETE FROM journal_entries WHERE id = :id"), {"id": entries[-1].id})
    problems = chain_problems(session)
    assert len(problems) == 1 and problems[0].seq is None
    assert "head (#5)" in problems[0].message and "(#4)" in problems[0].message


def test_a_rewritten_head_is_reported(session):
    five_entries(session)
    session.flush()
    session.execute(sa.text("UPDATE ledger_head SET hash = :h"), {"h": "f" * 64})
    problems = chain_problems(session)
    assert len(problems) == 1 and "chain head" in problems[0].message


def test_an_empty_ledger_verifies(session):
    assert verify_ledger(session) == []


# --- the PostgreSQL commit-time balance check ----------------------------------------------------


def insert_raw_entry(session, seq: int, amounts: list[tuple[str, str]]) -> None:
    """Insert an entry and its lines with plain SQL, skipping the posting service."""
    entry_id = session.execute(sa.text(
        "INSERT INTO journal_entries (seq, effective_date, memo, source_type, idempotency_key, created_at, "
        "prev_hash, hash) VALUES (:seq, '2025-06-01', 'raw', 'manual', :key, now(), :prev, :hash) RETURNING id"),
        {"seq": seq, "key": f"raw:{seq}", "prev": "0" * 64, "hash": f"{seq:064x}"},
    ).scalar_one()
    for line_no, (fund_code, amount) in enumerate(amounts, start=1):
        session.execute(sa.text(
            "INSERT INTO journal_lines (entry_id, line_no, effective_date, account_id, fund_id, net_asset_class, "
            "amount, memo) VALUES (:entry, :n, '2025-06-01', (SELECT id FROM accounts WHERE code = '1002'), "
            "(SELECT id FROM funds WHERE code = :fund), 'unrestricted', :amount, '')"),
            {"entry": entry_id, "n": line_no, "fund": fund_code, "amount": Decimal(amount)},
        )


@pytest.mark.parametrize(
    "amounts, message",
    [
        ([("A", "10.00")], "at least two"),
        ([("A", "10.00"), ("A", "-9.99")], "does not balance"),
        ([("A", "10.00"), ("B", "-10.00")], "within fund"),
    ],
)
def test_postgresql_refuses_an_unbalanced_entry_at_commit(session, amounts, message):
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("the deferred balance trigger exists on PostgreSQL only")
    make_fund(session, "A")
    make_fund(session, "B")
    session.flush()
    with pytest.raises(sa.exc.DatabaseError, match=message):
        with session.begin_nested():
            insert_raw_entry(session, 900, amounts)
            session.execute(sa.text("SET CONSTRAINTS ALL IMMEDIATE"))
    session.execute(sa.text("SET CONSTRAINTS ALL DEFERRED"))
    with session.begin_nested():  # the same path with a balanced entry passes: the check is not blanket
        insert_raw_entry(session, 901, [("A", "10.00"), ("A", "-10.00")])
        session.execute(sa.text("SET CONSTRAINTS ALL IMMEDIATE"))
