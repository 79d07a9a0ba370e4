"""The inbox: one's own messages only, mark read on open (no open redirect), mark all read, the unread count."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import sqlalchemy as sa
from sqlalchemy import select

from fundapp.db import utcnow
from fundapp.extensions import db
from fundapp.notify.models import Notification
from tests.factories import make_user


def add(app_ctx, user_id: int, subject: str, *, link: str = "", body: str = "", minutes_ago: int = 0,
        read: bool = False) -> int:
    """A message written directly (links notify() would never be given, too)."""
    with app_ctx() as s:
        at = utcnow() - dt.timedelta(minutes=minutes_ago)
        row = Notification(user_id=user_id, kind="test", subject=subject, body=body, link=link, created_at=at,
                           read_at=at if read else None)
        s.add(row)
        s.commit()
        return row.id


def other_user(app_ctx) -> int:
    with app_ctx() as s:
        user = make_user(s, "board")
        s.commit()
        return user.id


def read_at(app_ctx, note_id: int):
    with app_ctx() as s:
        return s.scalar(select(Notification.read_at).where(Notification.id == note_id))


def nav(html: str) -> str:
    return html.split('<nav id="mainnav"', 1)[1].split("</nav>", 1)[0]


@pytest.mark.parametrize("method, path", [("GET", "/inbox/"), ("GET", "/inbox/1"), ("POST", "/inbox/read-all")])
def test_visitors_are_sent_to_sign_in(client, method, path):
    response = client.open(path, method=method)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/auth/login")


def test_the_inbox_lists_only_ones_own_messages_newest_first_unread_marked(client, login, app_ctx):
    me = login("reviewer")
    someone = other_user(app_ctx)
    add(app_ctx, me, "Older message", minutes_ago=30, read=True, body="Already seen.")
    add(app_ctx, me, "Newer message", minutes_ago=5, body="You were assigned a review.")
    add(app_ctx, someone, "Someone else's secret")

    html = client.get("/inbox/").get_data(as_text=True)

    assert "Someone else&#39;s secret" not in html and "Someone else's secret" not in html
    assert html.index("Newer message") < html.index("Older message")
    items = re.findall(r'<li class="(unread|read)">\s*<a class="subject"[^>]*>([^<]+)</a>', html)
    assert items == [("unread", "Newer message"), ("read", "Older message")]
    assert "You were assigned a review." in html
    assert "Mark all as read" in html


def test_an_empty_inbox_says_so(client, login):
    login("donor")
    html = client.get("/inbox/").get_data(as_text=True)
    assert "Your inbox is empty." in html
    assert "Mark all as read" not in html
    assert "No unread messages." in client.get("/inbox/?show=unread").get_data(as_text=True)


def test_the_unread_filter_and_pagination(client, login, app_ctx, app, monkeypatch):
    monkeypatch.setitem(app.config, "PAGE_SIZE", 2)
    me = login("board")
    for i in range(3):
        add(app_ctx, me, f"Unread {i}", minutes_ago=10 - i)
    add(app_ctx, me, "Read one", minutes_ago=60, read=True)

    first = client.get("/inbox/").get_data(as_text=True)
    assert "Page 1 of 2" in first and "Unread 2" in first and "Unread 1" in first and "Unread 0" not in first
    assert "Read one" in client.get("/inbox/?page=2").get_data(as_text=True)

    unread = client.get("/inbox/?show=unread").get_data(as_text=True)
    assert "Read one" not in unread and "Page 1 of 2" in unread
    assert 'href="/inbox/?show=unread&amp;page=2"' in unread  # the filter stays on the next page
    assert "Unread 0" in client.get("/inbox/?show=unread&page=2").get_data(as_text=True)


def test_opening_a_message_marks_it_read_and_follows_its_link(client, login, app_ctx):
    me = login("board")
    note = add(app_ctx, me, "Agenda open", link="/grants/agendas/3?tab=packet")
    response = client.get(f"/inbox/{note}")
    assert response.status_code == 302
    assert response.headers["Location"] == "/grants/agendas/3?tab=packet"
    first = read_at(app_ctx, note)
    assert first is not None
    client.get(f"/inbox/{note}")
    assert read_at(app_ctx, note) == first  # the first opening is kept


def test_a_message_without_a_link_opens_the_inbox(client, login, app_ctx):
    me = login("board")
    note = add(app_ctx, me, "Just so you know")
    response = client.get(f"/inbox/{note}")
    assert response.headers["Location"] == "/inbox/"
    assert read_at(app_ctx, note) is not None


@pytest.mark.parametrize("link", ["//evil.example/x", "https://evil.example/x", "/\\evil.example", "javascript:x",
                                  "grants/awards/1", "/\t/evil.example"])
def test_links_outside_the_app_are_never_followed(client, login, app_ctx, link):
    me = login("board")
    note = add(app_ctx, me, "Phish", link=link)
    response = client.get(f"/inbox/{note}")
    assert response.status_code == 302
    assert response.headers["Location"] == "/inbox/"


def test_another_users_message_is_not_found_and_stays_unread(client, login, app_ctx):
    login("admin")
    theirs = add(app_ctx, other_user(app_ctx), "Not yours", link="/grants/awards/1")
    assert client.get(f"/inbox/{theirs}").status_code == 404
    assert read_at(app_ctx, theirs) is None
    assert client.get("/inbox/999999").status_code == 404


def test_mark_all_read_touches_only_ones_own(client, login, app_ctx):
    me = login("finance")
    mine = [add(app_ctx, me, f"Mine {i}") for i in range(2)]
    theirs = add(app_ctx, other_user(app_ctx), "Theirs")

    response = client.post("/inbox/read-all", follow_redirects=True)

    assert response.status_code == 200
    assert "Marked 2 messages as read." in response.get_data(as_text=True)
    assert all(read_at(app_ctx, n) is not None for n in mine)
    assert read_at(app_ctx, theirs) is None
    again = client.post("/inbox/read-all", follow_redirects=True).get_data(as_text=True)
    assert "Marked" not in again


def test_mark_all_read_needs_the_csrf_token(client, login, app_ctx, app, monkeypatch):
    me = login("finance")
    note = add(app_ctx, me, "Mine")
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    assert client.post("/inbox/read-all").status_code == 400
    assert read_at(app_ctx, note) is None
    html = client.get("/inbox/").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or re.search(
        r'name="csrf_token" value="([^"]+)"', html)
    assert client.post("/inbox/read-all", data={"csrf_token": token.group(1)}).status_code == 302
    assert read_at(app_ctx, note) is not None


# --- the unread count in the navigation ---------------------------------------------------------------------------


def test_the_nav_shows_the_unread_count_on_every_page(client, login, app_ctx):
    me = login("finance")
    assert "nav-count" not in nav(client.get("/funds/").get_data(as_text=True))
    add(app_ctx, me, "One")
    add(app_ctx, me, "Two")
    add(app_ctx, me, "Seen", read=True)
    add(app_ctx, other_user(app_ctx), "Not counted")
    for path in ("/funds/", "/inbox/", "/auth/change-password"):
        page = client.get(path).get_data(as_text=True)
        html = nav(page)
        assert '<span class="nav-count">2</span>' in html, path
        assert 'aria-label="Inbox: 2 unread"' in html
        assert re.search(r'class="nav-toggle"[^>]*>Menu<span class="nav-count">2</span>', page)  # phones
    client.post("/inbox/read-all")
    assert "nav-count" not in nav(client.get("/funds/").get_data(as_text=True))


def test_a_large_count_is_capped(client, login, app_ctx):
    me = login("donor")
    with app_ctx() as s:
        s.add_all(Notification(user_id=me, kind="k", subject=f"N{i}") for i in range(120))
        s.commit()
    assert '<span class="nav-count">99+</span>' in client.get("/inbox/").get_data(as_text=True)


def test_the_count_costs_one_query_per_page(client, login, app_ctx, app):
    me = login("finance")
    add(app_ctx, me, "One")
    with app.app_context():
        engine = db.engine
    seen: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        if "notifications" in statement:
            seen.append(statement)

    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        client.get("/funds/")
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)
    assert len(seen) == 1 and "count(" in seen[0].lower()


def test_visitors_see_no_inbox_link(client):
    html = client.get("/auth/login").get_data(as_text=True)
    assert "/inbox/" not in html
