"""The rewards catalogue through the /points pages: list with filters and CSV, adding and editing rewards (restock,
recount, withdraw), rewards made from an in-kind donation (prefilled, capped by its unclaimed value), and the
redemptions list with its filters and CSV."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from fundapp.audit.models import AuditEvent
from fundapp.donations.services import reverse_donation
from fundapp.volunteers.exchange import redeem
from fundapp.volunteers.models import PointAccount, Reward
from tests.factories import make_fund
from tests.unit.donations.factories import in_kind, make_donor
from tests.web.volunteers.test_points_counter import build_counter

D = Decimal


@pytest.fixture()
def counter(app_ctx):
    return build_counter(app_ctx)


def _csv(response) -> list[list[str]]:
    assert response.status_code == 200 and response.mimetype == "text/csv"
    return list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))


def reward_form(name: str = "面粉", points: str = "2", stock: str = "3", **values) -> dict:
    return {"name": name, "kind": "goods", "points": points, "stock": stock, "donor_label": "",
            "donation_id": "", "unit_value": "", "is_active": "y"} | values


def _rewards(app_ctx) -> int:
    with app_ctx() as s:
        return s.scalar(select(func.count()).select_from(Reward))


def test_the_list_filters_by_offer_and_text(client, login, counter):
    login("finance")
    page = client.get("/points/rewards").get_data(as_text=True)
    assert "大米一袋" in page and "理发一次" in page and "旧奖品" not in page
    assert "某某粮油" in page and "¥20.00" in page
    inactive = client.get("/points/rewards?status=inactive").get_data(as_text=True)
    assert "旧奖品" in inactive and "大米一袋" not in inactive
    found = client.get("/points/rewards?status=all&q=粮油").get_data(as_text=True)
    assert "大米一袋" in found and "理发一次" not in found
    assert "No rewards match these filters." in client.get("/points/rewards?q=没有").get_data(as_text=True)


def test_rewards_csv(client, login, counter):
    login("admin")
    rows = _csv(client.get("/points/rewards.csv?status=all"))
    assert rows[0][:4] == ["Name", "Kind", "Points", "Stock"]
    by_name = {row[0]: row for row in rows[1:]}
    assert set(by_name) == {"大米一袋", "理发一次", "家电维修", "旧奖品"}
    assert by_name["大米一袋"][1:8] == ["Goods", "3.00", "2", "某某粮油", by_name["大米一袋"][5], "20.00",
                                     str(counter.donation)]
    assert by_name["旧奖品"][8] == "no"


def test_add_a_service_reward_and_restock_it(client, login, app_ctx, counter):
    user_id = login("finance")
    response = client.post("/points/rewards/new", data=reward_form("陪诊一次", kind="service", donor_label="志愿者"))
    assert response.status_code == 302
    with app_ctx() as s:
        reward = s.scalar(select(Reward).where(Reward.name == "陪诊一次"))
        assert (reward.kind, reward.points, reward.stock, reward.unit_value) == ("service", D("2.00"), 3, None)
    edit = client.get(f"/points/rewards/{reward.id}/edit").get_data(as_text=True)
    assert 'value="陪诊一次"' in edit
    response = client.post(f"/points/rewards/{reward.id}/edit",
                           data=reward_form("陪诊一次", kind="service", stock="8", points="2.5"))
    assert response.status_code == 302
    with app_ctx() as s:
        reward = s.get(Reward, reward.id)
        assert (reward.stock, reward.points) == (8, D("2.50"))
        event = s.scalar(select(AuditEvent).where(AuditEvent.tag == "volunteers:reward:updated",
                                                  AuditEvent.subject_id == str(reward.id)))
        assert (event.before["stock"], event.after["stock"], event.actor_id) == (3, 8, user_id)
    # Withdrawing it from the catalogue: the box left unticked.
    client.post(f"/points/rewards/{reward.id}/edit", data=reward_form("陪诊一次", kind="service", is_active=""))
    with app_ctx() as s:
        assert s.get(Reward, reward.id).is_active is False


@pytest.mark.parametrize("case", ["no name", "bad points", "negative stock", "value without donation"])
def test_bad_rewards_write_nothing(client, login, app_ctx, counter, case):
    login("finance")
    data, message = {
        "no name": (reward_form(name=""), "Correct the marked fields"),
        "bad points": (reward_form(points="1.234"), "Points must be more than 0, with at most two decimals."),
        "negative stock": (reward_form(stock="-1"), "Correct the marked fields"),
        "value without donation": (reward_form(unit_value="5"), "Only goods from an in-kind donation carry"),
    }[case]
    before = _rewards(app_ctx)
    response = client.post("/points/rewards/new", data=data)
    assert response.status_code == 200 and message in response.get_data(as_text=True)
    assert _rewards(app_ctx) == before


def test_in_kind_donations_show_their_unclaimed_value(client, login, app_ctx, counter):
    with app_ctx() as s:
        fund = make_fund(s)
        anonymous = make_donor(s, "不愿具名", anonymous_in_public=True)
        in_kind(s, fund, "30.00", donor=anonymous, item_description="食用油")
        gone = in_kind(s, fund, "50.00", item_description="录错的物资")
        reverse_donation(s, gone, "录错", None)
        s.commit()
    login("finance")
    page = client.get("/points/rewards/from-donation").get_data(as_text=True)
    assert "大米" in page and "¥60.00" in page  # 100.00 less 2 x 20.00 on offer
    assert "食用油" in page and "Anonymous donor" in page and "不愿具名" not in page
    assert "录错的物资" not in page  # reversed


def test_a_reward_from_an_in_kind_donation_is_prefilled_and_capped(client, login, app_ctx, counter):
    with app_ctx() as s:
        donor = make_donor(s, "某某粮油公司")
        donation = in_kind(s, make_fund(s), "90.00", donor=donor, item_description="面粉 25kg")
        s.commit()
        donation_id, fund_id = donation.id, donation.fund_id
    login("finance")
    form = client.get(f"/points/rewards/new?donation_id={donation_id}").get_data(as_text=True)
    assert 'value="面粉 25kg"' in form and 'value="某某粮油公司"' in form and f'value="{donation_id}"' in form
    assert "¥90.00" in form
    before = _rewards(app_ctx)
    too_much = client.post("/points/rewards/new", data=reward_form(
        "面粉", stock="4", unit_value="30", donation_id=str(donation_id)))  # 120 > 90
    assert too_much.status_code == 200 and "exceeds the donation&#39;s unclaimed value" in too_much.get_data(
        as_text=True)
    assert _rewards(app_ctx) == before
    done = client.post("/points/rewards/new", data=reward_form(
        "面粉", stock="3", unit_value="30", donation_id=str(donation_id), donor_label="某某粮油公司"))
    assert done.status_code == 302
    with app_ctx() as s:
        reward = s.scalar(select(Reward).where(Reward.donation_id == donation_id))
        assert (reward.fund_id, reward.unit_value, reward.stock, reward.donor_label) == (
            fund_id, D("30.00"), 3, "某某粮油公司")
    # A restock past the donation's value is refused through the edit page too.
    refused = client.post(f"/points/rewards/{reward.id}/edit", data=reward_form(
        "面粉", stock="4", unit_value="30", donation_id=str(donation_id)))
    assert "unclaimed value" in refused.get_data(as_text=True)
    with app_ctx() as s:
        assert s.get(Reward, reward.id).stock == 3


def test_unknown_or_money_donations_are_not_offered(client, login, app_ctx, counter):
    login("finance")
    assert client.get("/points/rewards/new?donation_id=999999").status_code == 404
    assert client.get("/points/rewards/new?donation_id=x").status_code == 404
    before = _rewards(app_ctx)
    response = client.post("/points/rewards/new", data=reward_form(donation_id="999999", unit_value="1"))
    assert "Choose an in-kind donation." in response.get_data(as_text=True)
    assert _rewards(app_ctx) == before


def test_redemptions_list_filters_and_csv(client, login, app_ctx, counter):
    with app_ctx() as s:
        li = s.get(PointAccount, counter.li)
        redeem(s, li, s.get(Reward, counter.rice), 1, key="list-rice")
        redeem(s, li, s.get(Reward, counter.haircut), 2, key="list-hair")
        s.commit()
    login("finance")
    page = client.get("/points/redemptions").get_data(as_text=True)
    assert "大米一袋" in page and "理发一次" in page and "李阿姨" in page
    only_rice = client.get(f"/points/redemptions?reward={counter.rice}").get_data(as_text=True)
    assert "<td data-label=\"Reward\">大米一袋</td>" in only_rice
    assert "<td data-label=\"Reward\">理发一次</td>" not in only_rice
    none = client.get("/points/redemptions?end=2000-01-01").get_data(as_text=True)
    assert "No redemptions match these filters." in none
    rows = _csv(client.get(f"/points/redemptions.csv?reward={counter.haircut}"))
    assert rows[0] == ["Date", "Holder", "Reward", "Quantity", "Points", "Book value entry"]
    assert [(r[1], r[2], r[3], r[4]) for r in rows[1:]] == [("李阿姨", "理发一次", "2", "4.00")]
    assert len(_csv(client.get("/points/redemptions.csv?start=2000-01-01"))) == 3
