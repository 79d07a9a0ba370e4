"""The rewards catalogue's services: create_reward / update_reward / claimed_value — goods from an in-kind donation
take its fund and can never claim more than its unclaimed value; bad input writes nothing; every change is audited
with the fields before and after."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from fundapp.audit.models import AuditEvent
from fundapp.audit.services import AuditTag
from fundapp.volunteers.exchange import redeem
from fundapp.volunteers.manage import ManageError, RewardInput, claimed_value, create_reward, update_reward
from fundapp.volunteers.models import Reward
from fundapp.volunteers.points import credit_hours, volunteer_account
from tests.factories import make_fund
from tests.unit.donations.factories import gift, in_kind
from tests.volunteer_builders import make_volunteer

D = Decimal


def _events(session, tag: AuditTag, reward_id: int) -> list[AuditEvent]:
    return session.scalars(select(AuditEvent).where(AuditEvent.tag == tag.value,
                                                    AuditEvent.subject_id == str(reward_id))
                           .order_by(AuditEvent.id)).all()


def _donation(session, amount: str = "100.00"):
    fund = make_fund(session)
    return fund, in_kind(session, fund, amount)


def test_a_service_reward_is_created_and_audited(session):
    reward = create_reward(session, RewardInput(name=" 理发一次 ", kind="service", points="2.5", stock=10,
                                                donor_label="张师傅"))
    assert (reward.name, reward.points, reward.stock, reward.unit_value, reward.fund_id) == (
        "理发一次", D("2.50"), 10, None, None)
    [event] = _events(session, AuditTag.volunteer_reward_created, reward.id)
    assert event.before is None
    assert event.after["name"] == "理发一次" and event.after["points"] == "2.50" and event.after["stock"] == 10


def test_goods_from_an_in_kind_donation_take_its_fund_and_value(session):
    fund, donation = _donation(session)
    reward = create_reward(session, RewardInput(name="大米一袋", points="3", stock=4, donation_id=donation.id,
                                                unit_value="20"))
    assert (reward.fund_id, reward.donation_id, reward.unit_value) == (fund.id, donation.id, D("20.00"))
    assert claimed_value(session, donation.id) == D("80.00")
    assert claimed_value(session, donation.id, excluding=reward.id) == D("0.00")


def test_the_unclaimed_value_caps_stock_times_unit_value(session):
    _fund, donation = _donation(session, "100.00")
    create_reward(session, RewardInput(name="大米", points="3", stock=3, donation_id=donation.id, unit_value="20"))
    before = session.scalar(select(Reward.id).order_by(Reward.id.desc()))
    with pytest.raises(ManageError, match="unclaimed value"):
        create_reward(session, RewardInput(name="油", points="3", stock=3, donation_id=donation.id,
                                           unit_value="15"))  # 45 > 100 - 60
    assert session.scalar(select(Reward.id).order_by(Reward.id.desc())) == before
    exact = create_reward(session, RewardInput(name="油", points="3", stock=2, donation_id=donation.id,
                                               unit_value="20"))  # exactly the 40 left
    assert claimed_value(session, donation.id) == D("100.00")
    assert exact.stock == 2


def test_redeemed_goods_stay_claimed(session):
    _fund, donation = _donation(session, "100.00")
    reward = create_reward(session, RewardInput(name="大米", points="1", stock=5, donation_id=donation.id,
                                                unit_value="20"))
    volunteer = make_volunteer(session)
    credit_hours(session, volunteer, D("5"), key="h-claimed")
    redeem(session, volunteer_account(session, volunteer), reward, 2, key="claimed-r")
    assert reward.stock == 3
    # 3 in stock + 2 redeemed, all at 20: the whole donation.
    assert claimed_value(session, donation.id) == D("100.00")
    assert claimed_value(session, donation.id, excluding=reward.id) == D("40.00")
    with pytest.raises(ManageError, match="unclaimed value"):  # a restock beyond what was given
        update_reward(session, reward, RewardInput(name="大米", points="1", stock=4, donation_id=donation.id,
                                                   unit_value="20"))
    assert reward.stock == 3


def test_update_records_before_and_after(session):
    _fund, donation = _donation(session)
    reward = create_reward(session, RewardInput(name="大米", points="3", stock=2, donation_id=donation.id,
                                                unit_value="20"), None)
    update_reward(session, reward, RewardInput(name="大米 5kg", points="4", stock=5, donation_id=donation.id,
                                               unit_value="20", is_active=False))
    [event] = _events(session, AuditTag.volunteer_reward_updated, reward.id)
    assert event.before["name"] == "大米" and event.after["name"] == "大米 5kg"
    assert (event.before["stock"], event.after["stock"]) == (2, 5)
    assert (event.before["points"], event.after["points"]) == ("3.00", "4.00")
    assert (event.before["is_active"], event.after["is_active"]) == (True, False)
    # Saving without a change writes no event.
    update_reward(session, reward, RewardInput(name="大米 5kg", points="4", stock=5, donation_id=donation.id,
                                               unit_value="20", is_active=False))
    assert len(_events(session, AuditTag.volunteer_reward_updated, reward.id)) == 1


def test_a_redeemed_reward_keeps_its_donation_and_unit_value(session):
    _fund, donation = _donation(session)
    reward = create_reward(session, RewardInput(name="大米", points="1", stock=2, donation_id=donation.id,
                                                unit_value="20"))
    volunteer = make_volunteer(session)
    credit_hours(session, volunteer, D("5"), key="h-fixed")
    redeem(session, volunteer_account(session, volunteer), reward, 1, key="fixed-r")
    with pytest.raises(ManageError, match="already redeemed"):
        update_reward(session, reward, RewardInput(name="大米", points="1", stock=1, donation_id=donation.id,
                                                   unit_value="10"))
    with pytest.raises(ManageError):  # text that is no number: refused, not a crash
        update_reward(session, reward, RewardInput(name="大米", points="1", stock=1, donation_id=donation.id,
                                                   unit_value="abc"))
    assert reward.unit_value == D("20.00")
    # The same value, written differently, is no change of value: a recount goes through.
    update_reward(session, reward, RewardInput(name="大米", points="1", stock=0, donation_id=donation.id,
                                               unit_value="20.0"))
    assert (reward.stock, reward.unit_value) == (0, D("20.00"))


@pytest.mark.parametrize("case", ["name", "kind", "points", "too many points", "stock", "value without donation",
                                  "money donation", "service from donation", "reversed donation"])
def test_bad_rewards_are_refused(session, case):
    fund, donation = _donation(session)
    values = {"name": "大米", "points": "1", "stock": 1}
    if case == "name":
        values["name"] = "  "
    elif case == "kind":
        values["kind"] = "cash"
    elif case == "points":
        values["points"] = "1.005"
    elif case == "too many points":
        values["points"] = "100001"
    elif case == "stock":
        values["stock"] = -1
    elif case == "value without donation":
        values["unit_value"] = "5"
    elif case == "money donation":
        values["donation_id"] = gift(session, fund, "50.00").id
    elif case == "service from donation":
        values |= {"donation_id": donation.id, "kind": "service"}
    else:
        from fundapp.donations.services import reverse_donation

        reverse_donation(session, donation, "录错", None)
        values["donation_id"] = donation.id
    count = session.query(Reward).count()
    with pytest.raises(ManageError):
        create_reward(session, RewardInput(**values))
    assert session.query(Reward).count() == count
