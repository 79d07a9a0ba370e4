"""The /points overview, point accounts (list, CSV, statement with running balance), entry detail, reversals with
a confirm step, the verify check and the expiry page."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import uuid
from decimal import Decimal

import pytest
from sqlalchemy import func, select, update

from fundapp.volunteers.exchange import redeem
from fundapp.volunteers.models import PointAccount, PointEntry, Reward
from fundapp.volunteers.points import credit_hours, gift_points
from tests.volunteer_builders import make_volunteer
from tests.web.volunteers.test_points_counter import build_counter, hidden_key

D = Decimal


@pytest.fixture()
def counter(app_ctx):
    return build_counter(app_ctx)


def _csv(response) -> list[list[str]]:
    assert response.status_code == 200 and response.mimetype == "text/csv"
    return list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))


def _gift(app_ctx, counter, points: str = "4") -> int:
    with app_ctx() as s:
        entry = gift_points(s, s.get(PointAccount, counter.li), s.get(PointAccount, counter.wang), D(points),
                            key="ledger-gift")
        s.commit()
        return entry.id


def test_overview_totals_come_from_the_system_accounts(client, login, app_ctx, counter):
    with app_ctx() as s:
        redeem(s, s.get(PointAccount, counter.li), s.get(Reward, counter.haircut), 2, key="overview")  # 4 points
        s.commit()
    login("finance")
    page = client.get("/points/").get_data(as_text=True)
    assert '<span class="value" id="total-issued">10.00</span>' in page
    assert '<span class="value" id="total-held">6.00</span>' in page
    assert '<span class="value" id="total-redeemed">4.00</span>' in page
    assert '<span class="value" id="total-expired">0.00</span>' in page
    assert "理发一次 x2" in page  # a recent movement


def test_every_page_renders_for_admin(client, login, app_ctx, counter):
    entry_id = _gift(app_ctx, counter)
    login("admin")
    for path in ("/points/", "/points/rewards", "/points/rewards?status=all&q=米", "/points/rewards/from-donation",
                 "/points/rewards/new", f"/points/rewards/{counter.rice}/edit", "/points/redeem", "/points/gift",
                 "/points/redemptions", "/points/redemptions?start=2026-01-01&end=2026-12-31",
                 "/points/accounts", "/points/accounts?kind=volunteer&q=李", f"/points/accounts/{counter.li}",
                 f"/points/entries/{entry_id}", f"/points/entries/{entry_id}/reverse", "/points/check",
                 "/points/expiry"):
        assert client.get(path).status_code == 200, path
    assert client.get("/points/accounts/999999").status_code == 404
    assert client.get("/points/entries/999999").status_code == 404


def test_empty_states(client, login):
    login("finance")
    assert "No rewards on offer yet" in client.get("/points/rewards").get_data(as_text=True)
    assert "No rewards redeemed yet." in client.get("/points/redemptions").get_data(as_text=True)
    assert "No point accounts yet" in client.get("/points/accounts").get_data(as_text=True)
    assert "No points have moved yet." in client.get("/points/").get_data(as_text=True)


def test_accounts_list_search_and_csv(client, login, counter):
    login("finance")
    page = client.get("/points/accounts?q=李").get_data(as_text=True)
    assert "李阿姨" in page and "王师傅" not in page
    rows = _csv(client.get("/points/accounts.csv?kind=volunteer"))
    assert rows[0] == ["Account", "Holder", "Kind", "Balance"]
    assert sorted((r[1], r[3]) for r in rows[1:]) == [("李阿姨", "10.00"), ("王师傅", "0.00")]


def test_statement_shows_a_running_balance(client, login, app_ctx, counter):
    entry_id = _gift(app_ctx, counter, "4")
    with app_ctx() as s:
        li = s.get(PointAccount, counter.li).volunteer
        credit_hours(s, li, D("1.5"), key="statement-more")
        s.commit()
    login("finance")
    page = client.get(f"/points/accounts/{counter.li}").get_data(as_text=True)
    # Newest first: +1.50 -> 7.50, -4.00 -> 6.00, +10.00 -> 10.00.
    assert page.index("7.50") < page.index("-4.00") < page.index("6.00") < page.index("+10.00")
    assert f"/points/entries/{entry_id}" in page


def test_statement_pages_keep_the_running_balance(client, login, app_ctx, counter, app):
    with app_ctx() as s:
        li = s.get(PointAccount, counter.li).volunteer
        for n in range(3):  # +1, +2, +3 after the first +10
            credit_hours(s, li, D(n + 1), key=f"statement-page-{n}")
        s.commit()
    login("finance")
    saved = app.config["PAGE_SIZE"]
    app.config["PAGE_SIZE"] = 2
    try:
        first = client.get(f"/points/accounts/{counter.li}").get_data(as_text=True)
        second = client.get(f"/points/accounts/{counter.li}?page=2").get_data(as_text=True)
    finally:
        app.config["PAGE_SIZE"] = saved
    balances = re.compile(r'data-label="Balance" class="num">([0-9.]+)<')
    assert balances.findall(first) == ["16.00", "13.00"] and "Page 1 of 2" in first
    assert balances.findall(second) == ["11.00", "10.00"]


def test_reversal_needs_a_reason_and_the_box_then_reverses_once(client, login, app_ctx, counter):
    entry_id = _gift(app_ctx, counter, "4")
    user_id = login("finance")
    key = hidden_key(client.get(f"/points/entries/{entry_id}/reverse").get_data(as_text=True))
    unticked = client.post(f"/points/entries/{entry_id}/reverse", data={"key": key, "reason": "误操作"})
    assert unticked.status_code == 200 and "Tick the box to confirm." in unticked.get_data(as_text=True)
    no_reason = client.post(f"/points/entries/{entry_id}/reverse", data={"key": key, "confirm": "y"})
    assert no_reason.status_code == 200
    with app_ctx() as s:
        assert s.scalar(select(func.count()).select_from(PointEntry).where(PointEntry.kind == "reversal")) == 0
    data = {"key": key, "reason": "误操作", "confirm": "y"}
    done = client.post(f"/points/entries/{entry_id}/reverse", data=data)
    assert done.status_code == 302
    again = client.post(f"/points/entries/{entry_id}/reverse", data=data)
    assert again.status_code == 302 and again.headers["Location"] == done.headers["Location"]
    with app_ctx() as s:
        [reversal] = s.scalars(select(PointEntry).where(PointEntry.kind == "reversal")).all()
        assert (reversal.reverses_id, reversal.memo, reversal.created_by_id) == (entry_id, "误操作", user_id)
        assert (s.get(PointAccount, counter.li).balance, s.get(PointAccount, counter.wang).balance) == (
            D("10.00"), D("0.00"))
    original = client.get(f"/points/entries/{entry_id}").get_data(as_text=True)
    assert "Reversed: 误操作" in original and "Reverse this movement" not in original
    # A second reversal with a fresh form is refused, and a reversal is not reversed.
    shown = client.get(f"/points/entries/{entry_id}/reverse").get_data(as_text=True)
    assert "This movement was already reversed." in shown and 'name="reason"' not in shown
    fresh = str(uuid.uuid4())
    refused = client.post(f"/points/entries/{entry_id}/reverse", data={"key": fresh, "reason": "再来",
                                                                       "confirm": "y"})
    assert "already reversed" in refused.get_data(as_text=True)
    page = client.get(f"/points/entries/{reversal.id}/reverse").get_data(as_text=True)
    assert "A reversal is not reversed" in page
    with app_ctx() as s:
        assert s.scalar(select(func.count()).select_from(PointEntry).where(PointEntry.kind == "reversal")) == 1


def test_a_reversal_of_points_already_spent_is_refused(client, login, app_ctx, counter):
    entry_id = _gift(app_ctx, counter, "4")
    with app_ctx() as s:
        redeem(s, s.get(PointAccount, counter.wang), s.get(Reward, counter.haircut), 2, key="spent")  # all 4
        s.commit()
    login("admin")
    key = hidden_key(client.get(f"/points/entries/{entry_id}/reverse").get_data(as_text=True))
    response = client.post(f"/points/entries/{entry_id}/reverse", data={"key": key, "reason": "x", "confirm": "y"})
    assert response.status_code == 200 and "王师傅 holds 0.00 points; 4.00 are needed." in response.get_data(
        as_text=True)
    with app_ctx() as s:
        assert s.scalar(select(func.count()).select_from(PointEntry).where(PointEntry.kind == "reversal")) == 0


def test_redemptions_and_credited_hours_are_not_reversed_here(client, login, app_ctx, counter):
    from fundapp.volunteers import service
    from tests.volunteer_builders import make_activity

    with app_ctx() as s:
        redemption = redeem(s, s.get(PointAccount, counter.li), s.get(Reward, counter.haircut), 1, key="no-undo")
        volunteer = s.get(PointAccount, counter.li).volunteer
        activity = make_activity(s)
        record = service.enter_hours(s, service.sign_up(s, volunteer, activity.shifts[0]), D("2"))
        service.verify(s, record)
        s.commit()
        redeemed, credited, record_id = redemption.point_entry_id, record.point_entry_id, record.id
    login("finance")
    before = _reversals(app_ctx)
    for entry_id, message in ((redeemed, "A redemption is not reversed here"),
                              (credited, "correct the hours instead")):
        detail = client.get(f"/points/entries/{entry_id}").get_data(as_text=True)
        assert "Reverse this movement" not in detail
        response = client.post(f"/points/entries/{entry_id}/reverse",
                               data={"key": str(uuid.uuid4()), "reason": "x", "confirm": "y"})
        assert response.status_code == 200 and message in response.get_data(as_text=True)
    assert f"/volunteers/records/{record_id}/correct" in client.get(f"/points/entries/{credited}").get_data(
        as_text=True)
    assert _reversals(app_ctx) == before


def _reversals(app_ctx) -> int:
    with app_ctx() as s:
        return s.scalar(select(func.count()).select_from(PointEntry).where(PointEntry.kind == "reversal"))


def test_check_page_reports_consistency_and_problems(client, login, app_ctx, counter):
    login("finance")
    assert 'id="consistent"' in client.get("/points/check").get_data(as_text=True)
    with app_ctx() as s:
        s.execute(update(PointAccount).where(PointAccount.id == counter.wang).values(balance=D("5.00")))
        s.commit()
    page = client.get("/points/check").get_data(as_text=True)
    assert 'id="consistent"' not in page and f"account {counter.wang}: balance 5.00, lines sum to 0.00" in page


@pytest.fixture()
def expiry_months(app):
    saved = app.config["VOLUNTEER_POINTS_EXPIRY_MONTHS"]
    yield app.config
    app.config["VOLUNTEER_POINTS_EXPIRY_MONTHS"] = saved


def test_expiry_is_explained_when_off(client, login, app_ctx, counter, expiry_months):
    expiry_months["VOLUNTEER_POINTS_EXPIRY_MONTHS"] = ""
    login("admin")
    assert 'id="expiry-off"' in client.get("/points/expiry").get_data(as_text=True)
    client.post("/points/expiry", data={"confirm": "y"})
    with app_ctx() as s:
        assert s.scalar(select(func.count()).select_from(PointEntry).where(PointEntry.kind == "expiry")) == 0


def test_expiry_previews_then_lapses_with_confirmation(client, login, app_ctx, counter, expiry_months):
    expiry_months["VOLUNTEER_POINTS_EXPIRY_MONTHS"] = "12"
    with app_ctx() as s:
        old = make_volunteer(s, "钱老师")
        credit_hours(s, old, D("3"), key="expiry-old", day=dt.date(2020, 1, 1))
        credit_hours(s, old, D("2"), key="expiry-new")  # today: stays
        s.commit()
    login("admin")
    page = client.get("/points/expiry").get_data(as_text=True)
    assert "钱老师" in page and "3.00" in page and "李阿姨" not in page  # 李阿姨's points are recent enough
    unticked = client.post("/points/expiry", data={})
    assert "Tick the box to confirm." in unticked.get_data(as_text=True)
    with app_ctx() as s:
        assert s.scalar(select(func.count()).select_from(PointEntry).where(PointEntry.kind == "expiry")) == 0
    assert client.post("/points/expiry", data={"confirm": "y"}).status_code == 302
    with app_ctx() as s:
        account = s.scalar(select(PointAccount).where(PointAccount.volunteer.has(name="钱老师")))
        assert account.balance == D("2.00")
    assert "Nothing would lapse today." in client.get("/points/expiry").get_data(as_text=True)


def test_expiry_is_for_admin_only(client, login, expiry_months):
    expiry_months["VOLUNTEER_POINTS_EXPIRY_MONTHS"] = "12"
    login("finance")
    assert client.get("/points/expiry").status_code == 403
    assert client.post("/points/expiry", data={"confirm": "y"}).status_code == 403
