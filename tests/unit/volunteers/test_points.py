"""The point ledger by example: hours credited at the rate, gifts, caps, reversals, idempotency, bad input,
immutability in the database, and the verify command naming a tampered balance."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import DBAPIError, IntegrityError

from fundapp.audit.models import AuditEvent
from fundapp.volunteers.models import PointAccount, PointAccountKind, PointEntry, PointEntryKind, PointLine
from fundapp.volunteers.points import (
    Move,
    PointsError,
    credit_hours,
    gift_points,
    person_account,
    post_points,
    reverse_points,
    system_account,
    verify_points,
    volunteer_account,
)
from tests.volunteer_builders import make_volunteer

D = Decimal


@pytest.fixture()
def config(app):
    saved = {key: app.config[key] for key in ("VOLUNTEER_POINTS_PER_HOUR", "VOLUNTEER_POINTS_MAX_BALANCE")}
    yield app.config
    app.config.update(saved)


def test_verified_hours_credit_points_at_the_rate(session, config):
    volunteer = make_volunteer(session)
    credit_hours(session, volunteer, D("2.5"), key="shift:1")
    config["VOLUNTEER_POINTS_PER_HOUR"] = "1.5"
    entry = credit_hours(session, volunteer, D("1"), key="shift:2", memo="助老探访")
    account = volunteer_account(session, volunteer)
    assert account.balance == D("4.00")
    assert sorted(line.amount for line in entry.lines) == [D("-1.50"), D("1.50")]
    assert system_account(session, PointAccountKind.issuance).balance == D("-4.00")
    assert verify_points(session) == []


def test_posting_is_idempotent_on_its_key(session):
    volunteer = make_volunteer(session)
    first = credit_hours(session, volunteer, D("3"), key="shift:9")
    again = credit_hours(session, volunteer, D("3"), key="shift:9")
    assert again.id == first.id and volunteer_account(session, volunteer).balance == D("3.00")
    with pytest.raises(PointsError):
        credit_hours(session, volunteer, D("4"), key="shift:9")
    assert session.query(PointEntry).count() == 1


@pytest.mark.parametrize("hours", [D("0"), D("-1"), D("24.01"), D("NaN")])
def test_bad_hours_are_refused_and_write_nothing(session, hours):
    volunteer = make_volunteer(session)
    with pytest.raises(PointsError):
        credit_hours(session, volunteer, hours, key="bad")
    assert session.scalar(select(PointEntry).where(PointEntry.idempotency_key == "bad")) is None


def test_gifts_move_points_and_never_overdraw(session):
    giver = volunteer_account(session, make_volunteer(session))
    neighbour = person_account(session, "王奶奶")
    credit_hours(session, giver.volunteer, D("5"), key="h")
    gift_points(session, giver, neighbour, D("2.25"), key="g1", memo="送给邻居")
    assert (giver.balance, neighbour.balance) == (D("2.75"), D("2.25"))
    with pytest.raises(PointsError, match="2.75"):
        gift_points(session, giver, neighbour, D("3"), key="g2")
    with pytest.raises(PointsError):
        gift_points(session, giver, giver, D("1"), key="g3")
    with pytest.raises(PointsError):
        gift_points(session, giver, neighbour, D("-1"), key="g4")
    with pytest.raises(PointsError):
        gift_points(session, giver, system_account(session, PointAccountKind.redemption), D("1"), key="g5")
    assert (giver.balance, neighbour.balance) == (D("2.75"), D("2.25"))
    assert verify_points(session) == []


def test_the_maximum_balance_caps_growth_only(session, config):
    volunteer = make_volunteer(session)
    credit_hours(session, volunteer, D("8"), key="a")
    config["VOLUNTEER_POINTS_MAX_BALANCE"] = "10"
    with pytest.raises(PointsError, match="10"):
        credit_hours(session, volunteer, D("3"), key="b")
    credit_hours(session, volunteer, D("2"), key="c")  # exactly at the cap
    config["VOLUNTEER_POINTS_MAX_BALANCE"] = "5"  # lowered below what is held: spending still works
    gift_points(session, volunteer_account(session, volunteer), person_account(session, "李爷爷"), D("1"), key="d")
    assert volunteer_account(session, volunteer).balance == D("9.00")


def test_unbalanced_or_malformed_movements_are_refused(session):
    a = volunteer_account(session, make_volunteer(session))
    issuance = system_account(session, PointAccountKind.issuance)
    for moves in ([Move(issuance, D("-1")), Move(a, D("2"))], [Move(a, D("1"))],
                  [Move(issuance, D("-1.005")), Move(a, D("1.005"))], [Move(issuance, D("0")), Move(a, D("0"))],
                  [Move(issuance, -1.0), Move(a, 1.0)]):
        with pytest.raises(PointsError):
            post_points(session, kind=PointEntryKind.hours, moves=moves, key="m")
    assert session.query(PointEntry).count() == 0 and a.balance == 0


def test_reversal_restores_and_happens_once(session):
    volunteer = make_volunteer(session)
    entry = credit_hours(session, volunteer, D("2"), key="disputed")
    with pytest.raises(PointsError):
        reverse_points(session, entry, "  ")
    reversal = reverse_points(session, entry, "签到时间有误", key="rev:1")
    assert volunteer_account(session, volunteer).balance == 0 and reversal.reverses_id == entry.id
    assert reverse_points(session, entry, "签到时间有误", key="rev:1").id == reversal.id  # idempotent
    with pytest.raises(PointsError):
        reverse_points(session, entry, "again")
    with pytest.raises(PointsError):
        reverse_points(session, reversal, "undo the undo")
    credit_hours(session, volunteer, D("1.5"), key="re-entered")  # corrected hours are entered again
    assert volunteer_account(session, volunteer).balance == D("1.50")
    tags = session.scalars(select(AuditEvent.tag).where(AuditEvent.subject_type == "point_entry")).all()
    assert tags.count("volunteers:points:reversed") == 1 and tags.count("volunteers:points:posted") == 2


def test_spent_points_cannot_be_reversed_away(session):
    volunteer = make_volunteer(session)
    entry = credit_hours(session, volunteer, D("2"), key="h")
    gift_points(session, volunteer_account(session, volunteer), person_account(session, "赵阿姨"), D("2"), key="g")
    with pytest.raises(PointsError):
        reverse_points(session, entry, "disputed")
    assert verify_points(session) == []


def test_entries_and_lines_are_immutable_in_the_database(session):
    entry = credit_hours(session, make_volunteer(session), D("1"), key="fixed")
    for statement in (update(PointLine).values(amount=D("5")), update(PointEntry).values(memo="changed")):
        with pytest.raises((IntegrityError, DBAPIError)), session.begin_nested():
            session.execute(statement.where((PointLine.entry_id if "lines" in str(statement) else PointEntry.id)
                                            == entry.id))


def test_verify_names_a_tampered_balance_and_the_cli_fails(session, app):
    volunteer = make_volunteer(session)
    credit_hours(session, volunteer, D("3"), key="h")
    account = volunteer_account(session, volunteer)
    session.execute(update(PointAccount).where(PointAccount.id == account.id).values(balance=D("30.00")))
    problems = verify_points(session)
    assert problems == [f"account {account.id}: balance 30.00, lines sum to 3.00"]
    result = app.test_cli_runner().invoke(args=["volunteers", "verify-points"])
    assert result.exit_code == 1 and f"account {account.id}" in result.output
