"""The demo's time bank (fundapp/demo/volunteers.py, run by `flask demo load`): every kind of volunteer record, made
by the services, loaded once, with a point ledger and books that still verify.

The demo is loaded once per backend into a fresh database (the loader commits); the tests then read it.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from fundapp.auth.models import User
from fundapp.dates import local_today
from fundapp.demo.data import DEMO_PASSWORD, demo_email
from fundapp.demo.volunteers import GIFT, GIFTED, NEIGHBOUR, VOLUNTEER_USERS, load_volunteers
from fundapp.donations.models import Donation, DonationMethod
from fundapp.extensions import db
from fundapp.ledger.invariants import verify_ledger
from fundapp.ledger.models import Account, JournalEntry, JournalLine
from fundapp.volunteers.manage import claimed_value
from fundapp.volunteers.models import (
    Activity,
    ActivityStatus,
    Certificate,
    PointAccount,
    PointAccountKind,
    PointEntry,
    PointEntryKind,
    PointLine,
    RecordStatus,
    Redemption,
    Reward,
    RewardKind,
    ServiceRecord,
    Shift,
    Signup,
    SignupStatus,
    Volunteer,
)
from fundapp.volunteers.points import points_for_hours, verify_points
from tests.conftest import make_migrated_app

COUNTED = (User, Volunteer, Activity, Shift, Signup, ServiceRecord, PointAccount, PointEntry, PointLine, Reward,
           Redemption, Certificate, Donation, JournalEntry)


def count(s, model) -> int:
    return s.scalar(select(func.count()).select_from(model))


def _load(backend, fresh_database_url, tmp_path, label: str):
    app = make_migrated_app(fresh_database_url(backend, label), GRANT_UPLOAD_DIR=str(tmp_path / "grants"))
    result = app.test_cli_runner().invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    return app, result.output


@pytest.fixture(scope="module")
def demo(backend, fresh_database_url, tmp_path_factory):
    app, output = _load(backend, fresh_database_url, tmp_path_factory.mktemp("vdemo"), "vdemo")
    app.config["DEMO_OUTPUT"] = output
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_the_demo_load_adds_the_time_bank_once_and_both_ledgers_verify(demo):
    assert "time bank: 12 volunteers, 5 activities" in demo.config["DEMO_OUTPUT"]
    with demo.app_context():
        before = {model.__name__: count(db.session, model) for model in COUNTED}
        db.session.remove()
    runner = demo.test_cli_runner()
    again = runner.invoke(args=["demo", "load"])
    assert again.exit_code == 0 and "already loaded" in again.output, again.output
    with demo.app_context():
        assert {model.__name__: count(db.session, model) for model in COUNTED} == before
        # the loader itself is guarded too (an install whose demo predates the time bank runs only this part)
        assert load_volunteers(db.session, local_today(), DEMO_PASSWORD) == "time bank: already loaded"
        db.session.rollback()
        db.session.remove()
    ledger = runner.invoke(args=["ledger", "verify"])
    assert ledger.exit_code == 0 and ledger.output.startswith("ok:"), ledger.output
    points = runner.invoke(args=["volunteers", "verify-points"])
    assert points.exit_code == 0 and "point ledger OK" in points.output, points.output


def test_volunteers_users_and_activities(demo):
    with demo.app_context():
        s = db.session
        volunteers = s.scalars(select(Volunteer).order_by(Volunteer.id)).all()
        assert len(volunteers) == 12
        assert Counter(v.community for v in volunteers) == {"阳光社区": 4, "和平社区": 4, "康乐社区": 4}
        assert 0 < sum(v.consent_public for v in volunteers) < 12  # some may be named publicly, some not
        users = {key: s.scalar(select(User).where(User.email == demo_email(key))) for key, _r, _n in VOLUNTEER_USERS}
        assert users["organiser"].roles == {"organiser"}
        linked = {v.user_id: v for v in volunteers if v.user_id is not None}
        assert set(linked) == {users["volunteer"].id, users["volunteer2"].id}
        assert users["volunteer"].roles == users["volunteer2"].roles == {"volunteer"}
        # each demo user signs in with the demo password
        from fundapp.auth.services import authenticate

        assert all(authenticate(s, demo_email(key), DEMO_PASSWORD) is not None for key, _r, _n in VOLUNTEER_USERS)

        activities = s.scalars(select(Activity).order_by(Activity.id)).all()
        assert len(activities) == 5
        organised = [a for a in activities if a.organiser_id == users["organiser"].id]
        assert len(organised) == 3 and all(a.organiser_id is None for a in activities if a not in organised)
        funded = [a for a in activities if a.award_id is not None]
        assert len(funded) == 2 and all(a in organised for a in funded)
        assert all(a.people_served > 0 for a in activities)
        assert [a.status for a in activities].count(ActivityStatus.closed.value) == 1

        starts = s.scalars(select(Shift.starts_at)).all()
        months = {(d.year, d.month) for d in starts}
        assert len(starts) >= 30 and len(months) >= 11  # a shift a month over the demo year
        today = local_today()
        assert sum(d.date() > today for d in starts) == 2  # two shifts still to come


def test_sign_ups_hours_and_verification(demo):
    with demo.app_context():
        s = db.session
        signups = Counter(s.scalars(select(Signup.status)))
        assert signups[SignupStatus.cancelled.value] > 0 and signups[SignupStatus.signed_up.value] == 4
        assert signups[SignupStatus.done.value] > 50
        checked_out = s.scalar(select(func.count()).select_from(Signup).where(Signup.checked_out_at.is_not(None)))
        entered = s.scalar(select(func.count()).select_from(Signup).where(
            Signup.status == SignupStatus.done.value, Signup.checked_in_at.is_(None)))
        assert checked_out > 20 and entered > 20  # checked in and out, and hours entered by the organiser

        records = Counter(s.scalars(select(ServiceRecord.status)))
        assert records[RecordStatus.rejected.value] == 1 and records[RecordStatus.reversed.value] == 1
        assert 0 < records[RecordStatus.pending.value] < records[RecordStatus.verified.value]
        assert records[RecordStatus.verified.value] > 0.8 * sum(records.values())  # most are verified
        reversed_ = s.scalar(select(ServiceRecord).where(ServiceRecord.status == RecordStatus.reversed.value))
        replacement = s.scalar(select(ServiceRecord).where(ServiceRecord.replaces_id == reversed_.id))
        assert replacement.status == RecordStatus.verified.value and replacement.hours < reversed_.hours
        assert s.scalar(select(func.count()).select_from(PointEntry).where(
            PointEntry.reverses_id == reversed_.point_entry_id)) == 1

        # every volunteer holds exactly what their verified hours earned, less what they spent or gave away
        for volunteer in s.scalars(select(Volunteer)):
            account = s.scalar(select(PointAccount).where(PointAccount.volunteer_id == volunteer.id))
            hours = s.scalars(select(ServiceRecord.hours).join(Signup, Signup.id == ServiceRecord.signup_id).where(
                Signup.volunteer_id == volunteer.id, ServiceRecord.status == RecordStatus.verified.value)).all()
            earned = sum((points_for_hours(h) for h in hours), Decimal("0.00"))
            out = s.scalar(select(func.coalesce(func.sum(PointLine.amount), 0)).where(
                PointLine.account_id == account.id, PointLine.amount < 0)) if account else 0
            reversed_in = s.scalar(select(func.coalesce(func.sum(PointLine.amount), 0))
                                   .join(PointEntry, PointEntry.id == PointLine.entry_id)
                                   .where(PointLine.account_id == account.id, PointLine.amount < 0,
                                          PointEntry.kind == PointEntryKind.reversal.value)) if account else 0
            spent = Decimal(out) - Decimal(reversed_in)
            assert (account.balance if account else Decimal("0.00")) == earned + spent, volunteer.name


def test_rewards_exchange_gift_and_certificate(demo):
    with demo.app_context():
        s = db.session
        assert verify_points(s) == []
        assert verify_ledger(s) == []
        gift = s.scalar(select(Donation).where(Donation.item_description == GIFT[1]))
        assert gift.method == DonationMethod.in_kind.value and gift.valuation_basis and gift.amount == Decimal(GIFT[0])
        rewards = s.scalars(select(Reward).order_by(Reward.id)).all()
        goods = [r for r in rewards if r.unit_value is not None]
        assert len(goods) == 2 and all(r.donation_id == gift.id and r.fund_id == gift.fund_id for r in goods)
        assert any(r.kind == RewardKind.service.value and r.unit_value is None for r in rewards)
        # the 1201 value given to rewards (still in stock plus redeemed) never exceeds the gift's value
        redemptions = s.scalars(select(Redemption)).all()
        in_stock = sum((r.stock * r.unit_value for r in goods), Decimal("0.00"))
        redeemed = sum((x.quantity * x.reward.unit_value for x in redemptions if x.reward.unit_value is not None),
                       Decimal("0.00"))
        assert 0 < in_stock + redeemed == claimed_value(s, gift.id) <= gift.amount

        # goods redeemed post Dr 5101 / Cr 1201 for their book value; services post nothing
        assert len(redemptions) >= 4
        for redemption in redemptions:
            if redemption.reward.unit_value is None:
                assert redemption.journal_entry_id is None
                continue
            lines = s.execute(select(Account.code, JournalLine.amount, JournalLine.fund_id)
                              .join(Account, Account.id == JournalLine.account_id)
                              .where(JournalLine.entry_id == redemption.journal_entry_id)).all()
            value = redemption.quantity * redemption.reward.unit_value
            assert sorted(lines) == sorted([("5101", value, gift.fund_id), ("1201", -value, gift.fund_id)])
        assert {x.reward.kind for x in redemptions} == {RewardKind.goods.value, RewardKind.service.value}

        neighbour = s.scalar(select(PointAccount).where(PointAccount.kind == PointAccountKind.person.value))
        assert neighbour.holder_name == NEIGHBOUR
        gifts = s.scalars(select(PointEntry).where(PointEntry.kind == PointEntryKind.gift.value)).all()
        assert len(gifts) == 1 and any(line.account_id == neighbour.id and line.amount == GIFTED
                                       for line in gifts[0].lines)
        assert any(x.account_id == neighbour.id for x in redemptions)  # the neighbour spent them
        assert neighbour.balance < GIFTED

        certificate = s.scalar(select(Certificate))
        assert count(s, Certificate) == 1 and certificate.hours > 0 and certificate.activities >= 2
        assert certificate.period_end == local_today() and certificate.volunteer.user_id is not None


def test_the_time_bank_is_the_same_every_time(demo, backend, fresh_database_url, tmp_path):
    """No randomness: a second demo on another database holds the same volunteers, shifts, hours and points."""

    def fingerprint(app) -> list:
        with app.app_context():
            s = db.session
            rows = [
                s.execute(select(Volunteer.name, Volunteer.community, Volunteer.consent_public).order_by(Volunteer.id))
                .all(),
                [(a, b.astimezone(dt.UTC) if b.tzinfo else b) for a, b in s.execute(
                    select(Activity.title, Shift.starts_at).join(Shift.activity).order_by(Shift.id))],
                s.execute(select(ServiceRecord.hours, ServiceRecord.status).order_by(ServiceRecord.id)).all(),
                s.execute(select(PointAccount.kind, PointAccount.balance).order_by(PointAccount.id)).all(),
                s.execute(select(Reward.name, Reward.stock).order_by(Reward.id)).all(),
            ]
            s.remove()
            return rows

    other, _output = _load(backend, fresh_database_url, tmp_path, "vdemo2")
    try:
        assert fingerprint(other) == fingerprint(demo)
    finally:
        with other.app_context():
            db.engine.dispose()


def test_a_demo_loaded_before_the_time_bank_gets_only_the_time_bank(app, session, monkeypatch, tmp_path):
    from fundapp.demo.data import load_demo
    from fundapp.demo.grants import load_grants
    from fundapp.grants.models import Application

    monkeypatch.setitem(app.config, "GRANT_UPLOAD_DIR", str(tmp_path / "grants"))
    today = local_today()
    load_demo(session, today=today)
    load_grants(session, today=today, password=DEMO_PASSWORD)
    session.commit()
    entries, applications = count(session, JournalEntry), count(session, Application)
    assert count(session, Volunteer) == 0

    result = app.test_cli_runner().invoke(args=["demo", "load"])
    assert result.exit_code == 0 and "time bank: 12 volunteers" in result.output, result.output
    assert "grants:" not in result.output
    assert count(session, Volunteer) == 12 and count(session, Application) == applications
    # the in-kind gift and the two redemptions of goods: the only new entries in the books
    assert count(session, JournalEntry) == entries + 3
    assert verify_ledger(session) == [] and verify_points(session) == []
