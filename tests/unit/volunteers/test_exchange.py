"""The points exchange: stock drawn down, points spent, goods carried in 1201 posted to programme costs; refusals
(more points than held, more than in stock, inactive reward, bad quantity) write nothing; two redemptions of the
last item on PostgreSQL: exactly one succeeds and stock ends at zero."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from fundapp.dates import local_today
from fundapp.extensions import db
from fundapp.ledger.invariants import verify_ledger
from fundapp.ledger.models import JournalEntry
from fundapp.ledger.queries import fund_net_assets
from fundapp.volunteers.exchange import ExchangeError, redeem
from fundapp.volunteers.models import PointAccountKind, PointEntry, Redemption, Reward, RewardKind
from fundapp.volunteers.points import PointsError, credit_hours, system_account, verify_points, volunteer_account
from tests.concurrency import fresh_app, race
from tests.factories import make_fund
from tests.unit.donations.factories import in_kind
from tests.volunteer_builders import make_volunteer

D = Decimal


def goods(session, *, stock: int = 5, points: str = "3", value: str | None = "20.00") -> Reward:
    fund = make_fund(session)
    gift = in_kind(session, fund, "100.00") if value else None  # 1201 holds the goods' value
    reward = Reward(name="大米一袋", kind=RewardKind.goods.value, points=D(points), stock=stock,
                    donation_id=gift.id if gift else None, fund_id=fund.id if value else None,
                    unit_value=D(value) if value else None)
    session.add(reward)
    session.flush()
    return reward


def holder(session, hours: str = "10"):
    volunteer = make_volunteer(session)
    credit_hours(session, volunteer, D(hours), key=f"h{volunteer.id}")
    return volunteer_account(session, volunteer)


def test_redeeming_goods_draws_stock_spends_points_and_posts_the_cost(session):
    reward, account = goods(session), holder(session)
    fund_before = fund_net_assets(session, local_today(), [reward.fund_id])[reward.fund_id]
    redemption = redeem(session, account, reward, 2, key="r1")
    assert (reward.stock, account.balance, redemption.points) == (3, D("4.00"), D("6.00"))
    assert system_account(session, PointAccountKind.redemption).balance == D("6.00")
    entry = session.get(JournalEntry, redemption.journal_entry_id)
    assert sorted((line.account.code, line.amount) for line in entry.lines) == [("1201", D("-40.00")),
                                                                                ("5101", D("40.00"))]
    # The goods became spending: the fund's net assets fall by their value.
    assert fund_net_assets(session, local_today(), [reward.fund_id])[reward.fund_id] == fund_before - D("40.00")
    assert redeem(session, account, reward, 2, key="r1").id == redemption.id  # idempotent
    assert reward.stock == 3
    assert verify_points(session) == [] and verify_ledger(session) == []


def test_a_service_reward_posts_no_money(session):
    reward, account = goods(session, value=None), holder(session)
    reward.kind = RewardKind.service.value
    redemption = redeem(session, account, reward, key="svc")
    assert redemption.journal_entry_id is None and reward.stock == 4


@pytest.mark.parametrize("case", ["points", "stock", "inactive", "quantity", "system account"])
def test_refusals_write_nothing(session, case):
    reward, account = goods(session, stock=2, points="4"), holder(session, "5")
    quantity, target = 1, account
    if case == "points":
        quantity = 2  # 8 points, 5 held
    elif case == "stock":
        quantity = 3
    elif case == "inactive":
        reward.is_active = False
    elif case == "quantity":
        quantity = 0
    else:
        target = system_account(session, PointAccountKind.issuance)
    counts = [session.scalar(select(func.count()).select_from(m)) for m in (Redemption, PointEntry, JournalEntry)]
    with pytest.raises(PointsError):
        redeem(session, target, reward, quantity, key="x")
    assert [session.scalar(select(func.count()).select_from(m))
            for m in (Redemption, PointEntry, JournalEntry)] == counts
    assert reward.stock == 2 and account.balance == D("5.00")


@pytest.fixture()
def race_app(backend, fresh_database_url):
    if backend != "postgresql":
        pytest.skip("row locks are PostgreSQL's; SQLite serialises writers")
    with fresh_app(fresh_database_url, "redeem") as app:
        yield app


def test_two_redemptions_of_the_last_item_one_wins(race_app):
    with race_app.app_context():
        s = db.session
        reward = goods(s, stock=1, points="2")
        accounts = [holder(s, "5"), holder(s, "5")]
        s.commit()
        reward_id, account_ids = reward.id, [a.id for a in accounts]

    def attempt(account_id: int, key: str):
        from fundapp.volunteers.models import PointAccount

        return redeem(db.session, db.session.get(PointAccount, account_id), db.session.get(Reward, reward_id),
                      key=key).id

    outcomes = race(race_app, [(attempt, account_ids[0], "a"), (attempt, account_ids[1], "b")],
                    expected=(ExchangeError,))
    assert sorted(type(o).__name__ for o in outcomes) == ["ExchangeError", "int"], outcomes
    with race_app.app_context():
        s = db.session
        assert s.get(Reward, reward_id).stock == 0
        assert s.scalar(select(func.count()).select_from(Redemption)) == 1
        assert verify_points(s) == [] and verify_ledger(s) == []


def test_the_same_redemption_posted_twice_at_once_happens_once(race_app):
    """A double click reaching two workers: the second waits for the first's lock, then finds its redemption."""
    with race_app.app_context():
        s = db.session
        reward = goods(s, stock=5, points="2")
        account = holder(s, "10")
        s.commit()
        reward_id, account_id = reward.id, account.id

    def attempt(key: str):
        from fundapp.volunteers.models import PointAccount

        return redeem(db.session, db.session.get(PointAccount, account_id), db.session.get(Reward, reward_id),
                      key=key).id

    outcomes = race(race_app, [(attempt, "double-click"), (attempt, "double-click")], expected=(ExchangeError,))
    assert len(outcomes) == 2 and outcomes[0] == outcomes[1] and isinstance(outcomes[0], int), outcomes
    with race_app.app_context():
        s = db.session
        assert s.get(Reward, reward_id).stock == 4
        assert s.scalar(select(func.count()).select_from(Redemption)) == 1
        assert verify_points(s) == [] and verify_ledger(s) == []
