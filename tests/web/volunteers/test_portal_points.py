"""The volunteer's points in their portal: the statement with its running balance, giving points (to a new person
account or a volunteer found by phone) and the catalogue. Double submits with the same key count once; asking for
more points than held changes nothing."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from fundapp.volunteers import manage, points
from fundapp.volunteers.models import PointAccount, PointEntry, Redemption, Reward, Volunteer
from tests.web.volunteers.test_portal import BASE, audit_count, csv_rows, text, world  # noqa: F401

KEY = "0f8fad5b-d9cb-469f-a165-70867728950e"
KEY2 = "7c9e6679-7425-40de-944b-e07fc1f90ae7"
THEIR_KEY = "16fd2706-8baf-433b-82eb-8c7fada847da"


def balance(app_ctx, volunteer_id: int) -> Decimal:
    with app_ctx() as s:
        return s.scalar(select(PointAccount.balance).where(PointAccount.volunteer_id == volunteer_id))


def counts(app_ctx) -> tuple[int, int, int]:
    with app_ctx() as s:
        return tuple(s.scalar(select(func.count()).select_from(model))
                     for model in (PointEntry, PointAccount, Redemption))


@pytest.fixture()
def rewards(app_ctx, world):  # noqa: F811
    with app_ctx() as s:
        rice = manage.create_reward(s, manage.RewardInput(name="大米一袋", points=Decimal("2.00"), stock=5,
                                                          donor_label="爱心粮店"))
        haircut = manage.create_reward(s, manage.RewardInput(name="理发一次", kind="service", points=Decimal("10"),
                                                             stock=3))
        gone = manage.create_reward(s, manage.RewardInput(name="已兑完的油", points=Decimal("1"), stock=0))
        hidden = manage.create_reward(s, manage.RewardInput(name="下架商品", points=Decimal("1"), stock=4,
                                                            is_active=False))
        other = s.get(Volunteer, world.other)
        theirs = points.volunteer_account(s, other)
        from fundapp.volunteers.exchange import redeem

        redeem(s, theirs, rice, 1, key=THEIR_KEY)
        s.commit()
        return {"rice": rice.id, "haircut": haircut.id, "gone": gone.id, "hidden": hidden.id}


# --- statement ------------------------------------------------------------------------------------------------


def test_statement_shows_my_lines_with_running_balance(client, world, app_ctx):  # noqa: F811
    with app_ctx() as s:
        me = points.volunteer_account(s, s.get(Volunteer, world.me))
        points.gift_points(s, me, points.person_account(s, "张奶奶"), Decimal("1.25"), key="g1", memo="买菜")
        s.commit()
    page = text(client.get(f"{BASE}/points"))
    assert "社区助老探访" in page and "买菜" in page and "Gift" in page and "Service hours" in page
    assert "-1.25" in page and "1.75" in page and "7.25" not in page
    rows = csv_rows(client.get(f"{BASE}/points.csv"))
    assert rows[0] == ["Date", "Kind", "Note", "Points", "Balance"]
    assert [row[3:] for row in rows[1:]] == [["3.00", "3.00"], ["-1.25", "1.75"]]


def test_the_running_balance_carries_across_pages(client, world, app_ctx, app, monkeypatch):  # noqa: F811
    monkeypatch.setitem(app.config, "PAGE_SIZE", 2)
    with app_ctx() as s:
        me = points.volunteer_account(s, s.get(Volunteer, world.me))
        for n in range(3):
            points.gift_points(s, me, points.person_account(s, f"邻居{n}"), Decimal("0.25"), key=f"page-{n}")
        s.commit()
    first, second = text(client.get(f"{BASE}/points")), text(client.get(f"{BASE}/points?page=2"))
    cell = 'class="num">{}</td>'.format
    assert cell("2.25") in first and cell("2.50") in first and cell("2.75") not in first
    assert cell("2.75") in second and cell("3.00") in second and cell("2.25") not in second


def test_a_volunteer_without_points_sees_an_empty_statement(client, login, app_ctx):
    from fundapp.auth.models import User
    from tests.volunteer_builders import make_volunteer

    user_id = login("volunteer")
    with app_ctx() as s:
        manage.link_user(s, make_volunteer(s, "新来的"), s.get(User, user_id))
        s.commit()
    assert "No points yet" in text(client.get(f"{BASE}/points"))
    assert csv_rows(client.get(f"{BASE}/points.csv")) == [["Date", "Kind", "Note", "Points", "Balance"]]
    assert "You have not exchanged points yet" in text(client.get(f"{BASE}/catalogue"))


# --- giving points --------------------------------------------------------------------------------------------


def gift(client, **values):
    data = {"recipient": "person", "person_name": "张奶奶", "phone": "", "points": "1.50", "memo": "谢谢",
            "key": KEY} | values
    return client.post(f"{BASE}/give", data=data)


def test_giving_to_a_person_asks_for_confirmation_then_gives_once(client, world, app_ctx):  # noqa: F811
    form = text(client.get(f"{BASE}/give"))
    assert 'name="key"' in form
    before = counts(app_ctx)
    review = gift(client)
    assert review.status_code == 200 and "Check and confirm" in text(review) and "张奶奶" in text(review)
    assert counts(app_ctx) == before
    done = gift(client, confirm="y")
    assert done.status_code == 302
    again = gift(client, confirm="y")
    assert again.status_code == 302
    assert balance(app_ctx, world.me) == Decimal("1.50")
    with app_ctx() as s:
        grandma = s.scalars(select(PointAccount).where(PointAccount.holder_name == "张奶奶")).all()
        assert len(grandma) == 1 and grandma[0].balance == Decimal("1.50")
    assert counts(app_ctx)[0] == before[0] + 1
    assert "already given" in text(client.get(f"{BASE}/points"))


def test_giving_to_a_volunteer_by_phone(client, world, app_ctx):  # noqa: F811
    review = gift(client, recipient="volunteer", phone="13900000002", points="2")
    # 王大明 did not consent to appear publicly: the giver, who knows only a phone number, sees 王**
    assert "王**" in text(review) and "王大明" not in text(review) and "Check and confirm" in text(review)
    gift(client, recipient="volunteer", phone="13900000002", points="2", confirm="y")
    assert balance(app_ctx, world.me) == Decimal("1.00")
    assert balance(app_ctx, world.other) == Decimal("9.25")


@pytest.mark.parametrize("values, message", [
    ({"points": "3.01", "confirm": "y"}, "You hold 3.00 points."),
    ({"points": "0", "confirm": "y"}, "Give more than 0 points."),
    ({"points": "1.234", "confirm": "y"}, "at most two decimal places"),
    ({"recipient": "volunteer", "phone": "13900000001", "confirm": "y"}, "No single registered volunteer"),
    ({"recipient": "volunteer", "phone": "10000000000", "confirm": "y"}, "No single registered volunteer"),
    ({"person_name": "", "confirm": "y"}, "Give the name of the person"),
    ({"key": "not-a-uuid", "confirm": "y"}, "The form expired"),
])
def test_a_refused_gift_changes_nothing(client, world, app_ctx, values, message):  # noqa: F811
    before, events = counts(app_ctx), audit_count(app_ctx)
    response = gift(client, **values)
    assert response.status_code == 200 and message in text(response)
    assert counts(app_ctx) == before and audit_count(app_ctx) == events
    assert balance(app_ctx, world.me) == Decimal("3.00")


def test_another_volunteers_gift_key_is_not_reported_as_mine(client, world, app_ctx):  # noqa: F811
    with app_ctx() as s:
        theirs = points.volunteer_account(s, s.get(Volunteer, world.other))
        points.gift_points(s, theirs, points.person_account(s, "赵爷爷"), Decimal("1"), key=f"portal-gift:{KEY}")
        s.commit()
    response = gift(client, confirm="y")
    assert response.status_code == 200 and "The form expired" in text(response)
    assert balance(app_ctx, world.me) == Decimal("3.00")
    with app_ctx() as s:
        assert s.scalar(select(Redemption.account_id).where(Redemption.key == THEIR_KEY)) != s.scalar(
            select(PointAccount.id).where(PointAccount.volunteer_id == world.me))


# --- the catalogue ------------------------------------------------------------------------------------------------


def test_the_catalogue_offers_active_rewards_in_stock_and_my_redemptions_only(client, world, rewards):  # noqa: F811
    page = text(client.get(f"{BASE}/catalogue"))
    assert "大米一袋" in page and "理发一次" in page and "爱心粮店" in page
    assert "已兑完的油" not in page and "下架商品" not in page
    assert f"/catalogue/{rewards['rice']}/redeem" in page
    assert f"/catalogue/{rewards['haircut']}/redeem" not in page  # 10 points: more than I hold
    assert "You have not exchanged points yet" in page  # the other volunteer's exchange is not listed
    assert client.get(f"{BASE}/catalogue/{rewards['hidden']}/redeem").status_code == 404
    assert client.get(f"{BASE}/catalogue/999999/redeem").status_code == 404


def test_redeem_shows_the_balance_before_and_after_then_redeems_once(client, world, rewards, app_ctx):  # noqa: F811
    page = text(client.get(f"{BASE}/catalogue/{rewards['rice']}/redeem"))
    assert "My points before" in page and "3.00" in page and "1.00" in page and 'name="key"' in page
    url = f"{BASE}/catalogue/{rewards['rice']}/redeem"
    before = counts(app_ctx)
    unconfirmed = client.post(url, data={"quantity": "1", "key": KEY})
    assert unconfirmed.status_code == 200 and "Tick the box" in text(unconfirmed)
    assert counts(app_ctx) == before
    assert client.post(url, data={"quantity": "1", "key": KEY, "confirm": "y"}).status_code == 302
    again = client.post(url, data={"quantity": "1", "key": KEY, "confirm": "y"})
    assert again.status_code == 302
    assert balance(app_ctx, world.me) == Decimal("1.00")
    with app_ctx() as s:
        assert s.get(Reward, rewards["rice"]).stock == 3  # 5, less the other's and mine
        mine = s.scalars(select(Redemption).join(PointAccount, PointAccount.id == Redemption.account_id)
                         .where(PointAccount.volunteer_id == world.me)).all()
        assert len(mine) == 1
    catalogue = text(client.get(f"{BASE}/catalogue"))
    assert "already made" in catalogue and "You have not exchanged points yet" not in catalogue


def test_redeeming_more_points_than_held_changes_nothing(client, world, rewards, app_ctx):  # noqa: F811
    url = f"{BASE}/catalogue/{rewards['haircut']}/redeem"
    assert "You hold 3.00 points; 10.00 are needed." in text(client.get(url))
    before, events = counts(app_ctx), audit_count(app_ctx)
    response = client.post(url, data={"quantity": "1", "key": KEY, "confirm": "y"})
    assert response.status_code == 200 and "points; 10.00 are needed." in text(response)
    assert counts(app_ctx) == before and audit_count(app_ctx) == events
    with app_ctx() as s:
        assert s.get(Reward, rewards["haircut"]).stock == 3
    too_many = client.post(f"{BASE}/catalogue/{rewards['rice']}/redeem",
                           data={"quantity": "2", "key": KEY2, "confirm": "y"})
    assert "needed" in text(too_many) and balance(app_ctx, world.me) == Decimal("3.00")


def test_a_redemption_key_of_someone_else_is_refused(client, world, rewards, app_ctx):  # noqa: F811
    response = client.post(f"{BASE}/catalogue/{rewards['rice']}/redeem",
                           data={"quantity": "1", "key": THEIR_KEY, "confirm": "y"})
    assert response.status_code == 200 and "The form expired" in text(response)
    assert balance(app_ctx, world.me) == Decimal("3.00")
    with app_ctx() as s:
        assert s.scalar(select(Redemption.account_id).where(Redemption.key == THEIR_KEY)) != s.scalar(
            select(PointAccount.id).where(PointAccount.volunteer_id == world.me))
