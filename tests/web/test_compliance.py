"""Compliance pages: role boundaries of the dashboard, marking a duty done, the token-guarded iCalendar feed."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from fundapp.compliance.calendar import feed_token
from fundapp.compliance.models import DutyDone
from fundapp.dates import local_today
from tests.factories import make_fund, make_user, post


def feed_url(token: str) -> str:
    return f"/compliance/feed/{token}/calendar.ics"


def _books(app_ctx):
    with app_ctx() as s:
        fund = make_fund(s)
        post(s, fund, "1000.00", date=local_today().replace(month=1, day=1) - dt.timedelta(days=400))
        s.commit()


@pytest.mark.parametrize("role", ["finance", "admin", "board"])
def test_dashboard_readers(client, login, app_ctx, role):
    _books(app_ctx)
    login(role)
    response = client.get("/compliance/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Statutory ratios and disclosure duties" in html and "projected to the year end" in html
    assert "/compliance/feed/" in html
    assert ("Mark done" in html) == (role != "board")
    assert "/ledger/journal?account=" in html or "No base" in html


@pytest.mark.parametrize("role", ["applicant", "reviewer"])
def test_dashboard_refused_to_others(client, login, role):
    login(role)
    assert client.get("/compliance/").status_code == 403


def test_dashboard_needs_sign_in(client):
    assert client.get("/compliance/").status_code == 302


def test_average_toggle(client, login, app_ctx):
    _books(app_ctx)
    login("finance")
    assert "Bases: the average of the three prior years." in client.get("/compliance/?average=1").get_data(True)
    assert "Bases: the prior year." in client.get("/compliance/?average=0").get_data(True)


def test_mark_done_through_the_page(client, login, app_ctx):
    _books(app_ctx)
    login("finance")
    year = local_today().year - 1
    key = f"financial-report:{year}"
    assert client.get(f"/compliance/duties/{key}/done").status_code == 200
    unconfirmed = client.post(f"/compliance/duties/{key}/done", data={"done_on": local_today().isoformat(),
                                                                       "note": "published"})
    assert unconfirmed.status_code == 200
    with app_ctx() as s:
        assert s.scalar(select(DutyDone)) is None
    data = {"done_on": local_today().isoformat(), "note": "published on 慈善中国", "confirm": "y"}
    assert client.post(f"/compliance/duties/{key}/done", data=data).status_code == 302
    with app_ctx() as s:
        assert s.scalar(select(DutyDone.duty_key)) == key
    again = client.post(f"/compliance/duties/{key}/done", data=data)
    assert again.status_code == 200 and "already done" in again.get_data(as_text=True)
    with app_ctx() as s:
        assert s.query(DutyDone).count() == 1
    assert client.get("/compliance/duties/no-such:1/done").status_code == 404


def test_board_cannot_mark_done(client, login, app_ctx):
    _books(app_ctx)
    login("board")
    key = f"financial-report:{local_today().year - 1}"
    assert client.post(f"/compliance/duties/{key}/done", data={"note": "x", "confirm": "y"}).status_code == 403


def test_feed_needs_a_valid_token(client, app, app_ctx):
    _books(app_ctx)
    with app_ctx() as s:
        finance, applicant = make_user(s, "finance"), make_user(s, "applicant")
        disabled = make_user(s, "board")
        disabled.is_enabled = False
        s.commit()
        ids = finance.id, applicant.id, disabled.id
    secret = app.config["SECRET_KEY"]
    assert client.get("/compliance/feed/x/calendar.ics").status_code == 404
    assert client.get(feed_url(feed_token(ids[0], "wrong"))).status_code == 404
    assert client.get(feed_url(feed_token(ids[1], secret))).status_code == 404  # no role
    assert client.get(feed_url(feed_token(ids[2], secret))).status_code == 404  # disabled
    assert client.get(feed_url(feed_token(999999, secret))).status_code == 404
    response = client.get(feed_url(feed_token(ids[0], secret)))
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    body = response.get_data(as_text=True)
    assert body.startswith("BEGIN:VCALENDAR\r\n") and body.endswith("END:VCALENDAR\r\n")
    assert "DTSTART;VALUE=DATE:" in body and "BEGIN:VEVENT" in body


def test_dashboard_shows_only_the_signed_in_users_token(client, login, app):
    user_id = login("finance")
    html = client.get("/compliance/").get_data(as_text=True)
    assert feed_token(user_id, app.config["SECRET_KEY"]) in html
    assert feed_token(user_id + 1, app.config["SECRET_KEY"]) not in html
