"""Two approvals racing on one fund on PostgreSQL: the fund can spend 40,000 and each item asks 30,000.

Both run at once in their own threads, with real commits on a fresh database (threads cannot share the
per-test rolled-back transaction). Exactly one is approved; the other is refused with FundShortfall (or, when
the race is between two members' last votes, its decision is held with the same message) and the fund's net
assets never go below zero."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from fundapp.auth.models import User
from fundapp.dates import local_today
from fundapp.extensions import db
from fundapp.grants import board
from fundapp.grants.errors import FundShortfall
from fundapp.grants.funding import net_assets
from fundapp.grants.models import AgendaItem, Award, BoardAgenda, GrantDecision
from fundapp.ledger.models import Fund
from tests.concurrency import fresh_app, race
from tests.conftest import PG_URL
from tests.factories import make_user
from tests.grants_board_builders import agenda_with_items, board_members, recommended
from tests.grants_builders import funded_fund, make_programme

pytestmark = pytest.mark.skipif(not PG_URL, reason="TEST_DATABASE_URL is not set: the PostgreSQL race is skipped")


def _setup(app, votes_before: str) -> dict:
    """Two items of 30,000 on one fund holding 40,000; three members, `votes_before` cast on each item."""
    with app.test_request_context():
        staff = make_user(db.session, "finance")
        members = board_members(db.session, 3)
        fund = funded_fund(db.session, "40000.00")
        programme = make_programme(db.session, fund, budget="90000.00")
        _, items = agenda_with_items(db.session, recommended(db.session, "30000.00", programme=programme),
                                     recommended(db.session, "30000.00", programme=programme), staff=staff)
        for item in items:
            for member, letter in zip(members, votes_before, strict=False):
                board.cast_vote(db.session, item, member, "approve" if letter == "a" else "reject")
        db.session.commit()
        return {"staff": staff.id, "members": [m.id for m in members], "fund": fund.id,
                "items": [i.id for i in items], "agenda": items[0].agenda_id}


def _run(app, calls: list[tuple]) -> list:
    """Run each (function, *args) in its own thread, all released at once; each commits or rolls back."""
    return race(app, calls, expected=(FundShortfall,))


def _decide(item_id: int, staff_id: int):
    return board.decide_item(db.session, db.session.get(AgendaItem, item_id), db.session.get(User, staff_id))


def _last_vote(item_id: int, member_id: int):
    return board.cast_vote(db.session, db.session.get(AgendaItem, item_id), db.session.get(User, member_id),
                           "approve")


def _close(agenda_id: int, staff_id: int):
    return board.close_agenda(db.session, db.session.get(BoardAgenda, agenda_id), db.session.get(User, staff_id))


def _check_books(app, ids: dict) -> None:
    """One approval of 30,000 from the 40,000: 10,000 left, never below zero; the other item still pending."""
    with app.app_context():
        fund = db.session.get(Fund, ids["fund"])
        assert net_assets(db.session, fund, local_today()) == Decimal("10000.00")
        assert db.session.scalar(select(func.count()).select_from(Award).where(Award.fund_id == fund.id)) == 1
        assert db.session.scalar(select(func.count()).select_from(GrantDecision)
                                 .where(GrantDecision.item_id.in_(ids["items"]))) == 1
        statuses = sorted(db.session.scalars(select(AgendaItem.status).where(AgendaItem.id.in_(ids["items"]))))
        assert statuses == ["decided", "pending"]
        db.session.remove()


@pytest.fixture()
def race_app(fresh_database_url):
    """A fresh database per test: the count depends on every board member in it."""
    with fresh_app(fresh_database_url, "boardrace") as app:
        yield app


def test_two_staff_closes_race_and_exactly_one_approval_is_made(race_app):
    ids = _setup(race_app, "aa")
    results = _run(race_app, [(_decide, item_id, ids["staff"]) for item_id in ids["items"]])
    assert len(results) == 2 and not [r for r in results if isinstance(r, tuple)], results
    approved = [r for r in results if isinstance(r, GrantDecision)]
    refused = [r for r in results if isinstance(r, FundShortfall)]
    assert len(approved) == 1 and len(refused) == 1, results
    assert "less than 30,000.00" in refused[0].message
    _check_books(race_app, ids)


def test_two_last_votes_race_and_the_second_decision_is_held(race_app):
    ids = _setup(race_app, "aa")  # the third member's vote completes each item
    results = _run(race_app, [(_last_vote, item_id, ids["members"][2]) for item_id in ids["items"]])
    assert len(results) == 2 and all(isinstance(r, board.VoteResult) for r in results), results
    assert sorted(r.decision is not None for r in results) == [False, True]
    held = next(r for r in results if r.decision is None)
    assert "less than 30,000.00" in held.held
    _check_books(race_app, ids)


def test_a_close_racing_a_last_vote_neither_deadlocks_nor_overspends(race_app):
    ids = _setup(race_app, "aa")
    results = _run(race_app, [(_close, ids["agenda"], ids["staff"]), (_last_vote, ids["items"][1], ids["members"][2])])
    assert len(results) == 2 and not [r for r in results if isinstance(r, tuple)], results
    refused = [r for r in results if isinstance(r, FundShortfall)]
    assert len(refused) == 1 and "Withdraw the item or wait" in refused[0].message, results  # the close
    _check_books(race_app, ids)
