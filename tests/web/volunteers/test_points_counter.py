"""Redeeming at the counter and giving points through the /points pages: a confirm page with points before and
after, one redemption (or gift) per key however often it is submitted, refusals that change nothing, and roles."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from fundapp.volunteers.manage import RewardInput, create_reward
from fundapp.volunteers.models import PointAccount, PointEntry, Redemption, Reward
from fundapp.volunteers.points import credit_hours, volunteer_account
from tests.factories import make_fund
from tests.unit.donations.factories import in_kind
from tests.volunteer_builders import make_volunteer

D = Decimal


@dataclass(frozen=True)
class Counter:
    li: int  # 李阿姨's account: 10 points
    wang: int  # 王师傅's account: 0 points
    rice: int  # goods from an in-kind donation of 100.00: 3 points, 2 in stock, 20.00 each
    haircut: int  # a service: 2 points, 5 offered
    dear: int  # a service of 20 points
    retired: int  # no longer offered
    donation: int
    fund: int


def build_counter(app_ctx) -> Counter:
    with app_ctx() as s:
        fund = make_fund(s)
        donation = in_kind(s, fund, "100.00")
        li, wang = make_volunteer(s, "李阿姨"), make_volunteer(s, "王师傅")
        credit_hours(s, li, D("10"), key=f"counter-hours-{li.id}", day=dt.date(2026, 1, 5))
        rice = create_reward(s, RewardInput(name="大米一袋", points="3", stock=2, donor_label="某某粮油",
                                            donation_id=donation.id, unit_value="20"))
        haircut = create_reward(s, RewardInput(name="理发一次", kind="service", points="2", stock=5))
        dear = create_reward(s, RewardInput(name="家电维修", kind="service", points="20", stock=5))
        retired = create_reward(s, RewardInput(name="旧奖品", kind="service", points="1", stock=5, is_active=False))
        counter = Counter(volunteer_account(s, li).id, volunteer_account(s, wang).id, rice.id, haircut.id, dear.id,
                          retired.id, donation.id, fund.id)
        s.commit()
        return counter


@pytest.fixture()
def counter(app_ctx) -> Counter:
    return build_counter(app_ctx)


def hidden_key(html: str) -> str:
    match = re.search(r'name="key" type="hidden" value="([^"]+)"', html)
    assert match, "no submission key on the form"
    return match.group(1)


def state(app_ctx, counter: Counter) -> tuple:
    """Everything a redemption or gift may change."""
    with app_ctx() as s:
        return (s.scalar(select(func.count()).select_from(Redemption)),
                s.scalar(select(func.count()).select_from(PointEntry)),
                s.scalar(select(func.count()).select_from(PointAccount)),
                s.get(PointAccount, counter.li).balance, s.get(PointAccount, counter.wang).balance,
                tuple(s.get(Reward, r).stock for r in (counter.rice, counter.haircut, counter.dear, counter.retired)))


def redeem_form(key: str, account: int, reward: int, quantity: int = 1, confirmed: str = "") -> dict:
    return {"key": key, "account": str(account), "reward": str(reward), "quantity": str(quantity),
            "confirmed": confirmed}


def test_redeem_shows_a_confirm_page_then_redeems_once(client, login, app_ctx, counter):
    user_id = login("finance")
    page = client.get(f"/points/redeem?account={counter.li}").get_data(as_text=True)
    assert "李阿姨" in page and "大米一袋" in page and "旧奖品" not in page  # only offered rewards
    key = hidden_key(page)
    before = state(app_ctx, counter)
    confirm = client.post("/points/redeem", data=redeem_form(key, counter.li, counter.rice, 2))
    html = confirm.get_data(as_text=True)
    assert confirm.status_code == 200 and "Confirm the redemption" in html
    assert '<dd id="points-before">10.00</dd>' in html and '<dd id="points-after">4.00</dd>' in html
    assert key in html
    assert state(app_ctx, counter) == before  # nothing yet
    done = client.post("/points/redeem", data=redeem_form(key, counter.li, counter.rice, 2, "1"))
    assert done.status_code == 302 and done.headers["Location"].endswith(f"/points/accounts/{counter.li}")
    again = client.post("/points/redeem", data=redeem_form(key, counter.li, counter.rice, 2, "1"))
    assert again.status_code == 302
    # A double submit of the first step too (the key is known now): no second redemption.
    client.post("/points/redeem", data=redeem_form(key, counter.li, counter.rice, 2))
    with app_ctx() as s:
        [redemption] = s.scalars(select(Redemption)).all()
        assert (redemption.key, redemption.quantity, redemption.points, redemption.created_by_id) == (
            key, 2, D("6.00"), user_id)
        assert s.get(PointAccount, counter.li).balance == D("4.00")
        assert s.get(Reward, counter.rice).stock == 0
        assert redemption.journal_entry_id is not None  # the goods' 40.00 left 1201
    statement = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "already made" in statement  # the second submit's message
    assert "-6.00" in statement


@pytest.mark.parametrize("case", ["stock", "points", "inactive"])
def test_refused_redemptions_change_nothing(client, login, app_ctx, counter, case):
    login("admin")
    reward, quantity, message = {
        "stock": (counter.rice, 3, "Only 2 left of 大米一袋"),
        "points": (counter.dear, 1, "李阿姨 holds 10.00 points; 20.00 are needed"),
        "inactive": (counter.retired, 1, "This reward is no longer offered."),
    }[case]
    key = hidden_key(client.get("/points/redeem").get_data(as_text=True))
    before = state(app_ctx, counter)
    confirm = client.post("/points/redeem", data=redeem_form(key, counter.li, reward, quantity)).get_data(
        as_text=True)
    assert message in confirm and ">Redeem</button>" not in confirm  # no button to go on
    forced = client.post("/points/redeem", data=redeem_form(key, counter.li, reward, quantity, "1"))
    assert forced.status_code == 200 and message in forced.get_data(as_text=True)
    assert state(app_ctx, counter) == before


def test_redeem_form_errors_and_an_expired_key(client, login, app_ctx, counter):
    login("finance")
    before = state(app_ctx, counter)
    missing = client.post("/points/redeem", data=redeem_form(hidden_key(client.get("/points/redeem").get_data(
        as_text=True)), 0, 0)).get_data(as_text=True)
    assert "Choose a holder." in missing and "Choose a reward." in missing
    # A system account is no holder: refused like an unknown one.
    with app_ctx() as s:
        system = s.scalar(select(PointAccount.id).where(PointAccount.kind == "issuance"))
    refused = client.post("/points/redeem", data=redeem_form(hidden_key(missing), system, counter.haircut, 1, "1"))
    assert "Choose a holder." in refused.get_data(as_text=True)
    expired = client.post("/points/redeem", data=redeem_form("not-a-key", counter.li, counter.haircut, 1, "1"))
    assert "The form expired" in expired.get_data(as_text=True)
    assert state(app_ctx, counter) == before


def test_holder_search_narrows_the_choices(client, login, counter):
    login("finance")
    page = client.get("/points/redeem?q=王").get_data(as_text=True)
    assert "王师傅" in page and "李阿姨" not in page


def gift_form(key: str, giver: int, receiver: int | str = "", points: str = "3", confirmed: str = "",
              new_person: str = "", memo: str = "") -> dict:
    return {"key": key, "giver": str(giver), "receiver": str(receiver), "points": points, "confirmed": confirmed,
            "new_person": new_person, "memo": memo}


def test_gift_to_a_new_person_confirms_then_gives_once(client, login, app_ctx, counter):
    login("finance")
    key = hidden_key(client.get(f"/points/gift?giver={counter.li}").get_data(as_text=True))
    data = gift_form(key, counter.li, points="2.5", new_person="赵奶奶", memo="邻里互助")
    confirm = client.post("/points/gift", data=data).get_data(as_text=True)
    assert "Confirm the gift of points" in confirm and "赵奶奶" in confirm and "10.00 points, then 7.50" in confirm
    before = state(app_ctx, counter)
    assert state(app_ctx, counter) == before
    done = client.post("/points/gift", data=data | {"confirmed": "1"})
    assert done.status_code == 302
    again = client.post("/points/gift", data=data | {"confirmed": "1"})
    assert again.status_code == 302 and again.headers["Location"] == done.headers["Location"]
    with app_ctx() as s:
        [person] = s.scalars(select(PointAccount).where(PointAccount.kind == "person")).all()
        assert (person.holder_name, person.balance) == ("赵奶奶", D("2.50"))
        assert s.get(PointAccount, counter.li).balance == D("7.50")
        entry = s.scalar(select(PointEntry).where(PointEntry.idempotency_key == f"gift:{key}"))
        assert entry.kind == "gift" and entry.memo == "邻里互助"
    page = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "赵奶奶" in page and "+2.50" in page


def test_gift_to_another_volunteer(client, login, app_ctx, counter):
    login("admin")
    key = hidden_key(client.get("/points/gift").get_data(as_text=True))
    data = gift_form(key, counter.li, counter.wang, "4", "1")
    assert client.post("/points/gift", data=data).status_code == 302
    with app_ctx() as s:
        assert (s.get(PointAccount, counter.li).balance, s.get(PointAccount, counter.wang).balance) == (
            D("6.00"), D("4.00"))


@pytest.mark.parametrize("case", ["self", "too many", "bad points", "nobody"])
def test_refused_gifts_change_nothing(client, login, app_ctx, counter, case):
    login("finance")
    key = hidden_key(client.get("/points/gift").get_data(as_text=True))
    data, message = {
        "self": (gift_form(key, counter.li, counter.li, "1", "1"), "Points cannot be given to the same account."),
        "too many": (gift_form(key, counter.li, counter.wang, "11", "1"), "李阿姨 holds 10.00 points"),
        "bad points": (gift_form(key, counter.li, counter.wang, "-1", "1"), "Give a positive number of points"),
        "nobody": (gift_form(key, counter.li, "", "1", "1"), "give the name of a new person"),
    }[case]
    before = state(app_ctx, counter)
    response = client.post("/points/gift", data=data)
    assert response.status_code == 200 and message in response.get_data(as_text=True)
    assert state(app_ctx, counter) == before


@pytest.mark.parametrize("role", ["organiser", "volunteer", "board"])
def test_other_roles_are_refused(client, login, app_ctx, counter, role):
    login(role)
    before = state(app_ctx, counter)
    for path in ("/points/", "/points/redeem", "/points/gift", "/points/rewards", "/points/redemptions",
                 f"/points/accounts/{counter.li}", "/points/check", "/points/redemptions.csv"):
        assert client.get(path).status_code == 403, path
    assert client.post("/points/redeem", data=redeem_form("k", counter.li, counter.haircut, 1, "1")).status_code \
        == 403
    assert client.post("/points/gift", data=gift_form("k", counter.li, counter.wang, "1", "1")).status_code == 403
    assert state(app_ctx, counter) == before
