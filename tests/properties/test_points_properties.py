"""Point-ledger invariants under random sequences of credits, gifts and reversals (hypothesis).

An independent model (plain dicts) predicts each operation's outcome: accepted, or refused because a holder
would go below zero or above the cap. After every operation the database must agree with the model, every entry
must balance, kept balances must equal their lines (verify_points), the whole ledger must sum to zero, and the
points held by people must equal the points issued. A refused operation must write nothing.
"""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select

from fundapp.volunteers.models import PointAccount, PointAccountKind, PointEntry
from fundapp.volunteers.points import (
    PointsError,
    credit_hours,
    gift_points,
    person_account,
    points_for_hours,
    reverse_points,
    system_account,
    verify_points,
    volunteer_account,
)
from tests.volunteer_builders import make_volunteer

HOLDERS = 4  # three volunteers and one neighbour
quarter_hours = st.integers(min_value=1, max_value=96).map(lambda n: Decimal(n) / 4)
cents = st.integers(min_value=1, max_value=1500).map(lambda n: Decimal(n) / 100)
operation = st.one_of(
    st.tuples(st.just("credit"), st.integers(0, 2), quarter_hours),
    st.tuples(st.just("gift"), st.integers(0, HOLDERS - 1), st.integers(0, HOLDERS - 1), cents),
    st.tuples(st.just("reverse"), st.integers(0, 30)),
)


@given(operations=st.lists(operation, min_size=3, max_size=25), cap=st.sampled_from(["", "5", "12.5"]),
       rate=st.sampled_from(["1", "1.5", "0.8"]))
def test_point_ledger_invariants(session, app, operations, cap, rate):
    app.config.update(VOLUNTEER_POINTS_MAX_BALANCE=cap, VOLUNTEER_POINTS_PER_HOUR=rate)
    savepoint = session.begin_nested()
    try:
        _run(session, operations, Decimal(cap) if cap else None)
    finally:
        savepoint.rollback()
        app.config.update(VOLUNTEER_POINTS_MAX_BALANCE="", VOLUNTEER_POINTS_PER_HOUR="1")


def _run(session, operations, cap):
    accounts = [volunteer_account(session, make_volunteer(session)) for _ in range(3)]
    accounts.append(person_account(session, "邻居"))
    issuance = system_account(session, PointAccountKind.issuance)
    model = {account.id: Decimal("0.00") for account in accounts}
    posted: list[tuple[PointEntry, dict[int, Decimal]]] = []  # entries that may be reversed, with their effect
    reversed_ids: set[int] = set()

    def allowed(effect: dict[int, Decimal]) -> bool:
        for account_id, delta in effect.items():
            after = model[account_id] + delta
            if after < 0 or (cap is not None and delta > 0 and after > cap):
                return False
        return True

    for step, op in enumerate(operations):
        entries_before = session.scalar(select(func.count()).select_from(PointEntry))
        if op[0] == "credit":
            account = accounts[op[1]]
            effect = {account.id: points_for_hours(op[2])}
        elif op[0] == "gift":
            giver, receiver, amount = accounts[op[1]], accounts[op[2]], op[3]
            effect = {giver.id: -amount, receiver.id: amount} if giver.id != receiver.id else None
        else:
            if not posted:
                continue
            entry, original = posted[op[1] % len(posted)]
            effect = None if entry.id in reversed_ids else {k: -v for k, v in original.items()}
        expected = effect is not None and allowed(effect)
        try:
            if op[0] == "credit":
                entry_posted = credit_hours(session, account.volunteer, op[2], key=f"c{step}")
            elif op[0] == "gift":
                entry_posted = gift_points(session, giver, receiver, amount, key=f"g{step}")
            else:
                entry_posted = reverse_points(session, entry, "更正", key=f"r{step}")
        except PointsError:
            assert not expected, f"step {step} {op} refused though the model allows it"
            assert session.scalar(select(func.count()).select_from(PointEntry)) == entries_before
        else:
            assert expected, f"step {step} {op} accepted though the model refuses it"
            for account_id, delta in effect.items():
                model[account_id] += delta
            if op[0] == "reverse":
                reversed_ids.add(entry.id)
            else:
                posted.append((entry_posted, effect))
        assert {a.id: a.balance for a in accounts} == model
        assert all(balance >= 0 for balance in model.values())
        if cap is not None:
            assert all(balance <= cap for balance in model.values())
        assert verify_points(session) == []
        assert session.scalar(select(func.coalesce(func.sum(PointAccount.balance), 0))) == 0
        assert -issuance.balance == sum(model.values())
