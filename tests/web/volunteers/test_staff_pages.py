"""Staff volunteer pages: every page renders for admin and organiser, an organiser sees only their own activities
and volunteers (404 otherwise), finance reads but cannot change anything, CSV exports."""

from __future__ import annotations

import csv
import io

import pytest

from fundapp.volunteers.manage import set_activity_status
from fundapp.volunteers.models import Activity, ActivityStatus
from tests.web.volunteers import counts, world


def pages(w) -> list[str]:
    return ["/volunteers/", "/volunteers/new", f"/volunteers/{w.my_volunteer}", f"/volunteers/{w.my_volunteer}/edit",
            "/volunteers/activities", "/volunteers/activities/new", f"/volunteers/activities/{w.mine}",
            f"/volunteers/activities/{w.mine}/edit", f"/volunteers/shifts/{w.my_shift}",
            "/volunteers/verification", "/volunteers/verification?status=verified", "/volunteers/volunteers.csv"]


@pytest.mark.parametrize("role", ["admin", "organiser"])
def test_every_page_renders(client, login, app_ctx, role):
    user_id = login(role)
    w = world(app_ctx, user_id if role == "organiser" else None)
    for url in pages(w):
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
    page = client.get(f"/volunteers/shifts/{w.my_shift}").get_data(as_text=True)
    assert "王小明" in page and "1 / 10" in page and "09:00" in page  # local time (Asia/Shanghai)
    detail = client.get(f"/volunteers/{w.my_volunteer}").get_data(as_text=True)
    assert "敬老院探访" in detail and "/certificates" in detail


def test_admin_sees_everyone_and_the_hours_report(client, login, app_ctx):
    login("admin")
    world(app_ctx, None)
    listing = client.get("/volunteers/").get_data(as_text=True)
    assert "王小明" in listing and "李四" in listing
    assert client.get("/volunteers/hours").status_code == 200
    assert client.get("/volunteers/hours?group=community&start=2026-01-01&end=2026-12-31").status_code == 200


def test_organiser_sees_only_their_activities_and_volunteers(client, login, app_ctx):
    w = world(app_ctx, login("organiser"))
    listing = client.get("/volunteers/").get_data(as_text=True)
    assert "王小明" in listing and "李四" not in listing
    activities = client.get("/volunteers/activities").get_data(as_text=True)
    assert "敬老院探访" in activities and "河道清洁" not in activities
    exported = client.get("/volunteers/volunteers.csv").get_data(as_text=True)
    assert "王小明" in exported and "李四" not in exported
    for url in [f"/volunteers/{w.their_volunteer}", f"/volunteers/{w.their_volunteer}/edit",
                f"/volunteers/activities/{w.theirs}", f"/volunteers/activities/{w.theirs}/edit",
                f"/volunteers/shifts/{w.their_shift}"]:
        assert client.get(url).status_code == 404, url
    before = counts(app_ctx)
    for url, data in [(f"/volunteers/activities/{w.theirs}/status", {"status": "closed", "confirm": "y"}),
                      (f"/volunteers/activities/{w.theirs}/shifts",
                       {"day": "2026-04-01", "start": "09:00", "end": "11:00", "capacity": "5"}),
                      (f"/volunteers/shifts/{w.their_shift}/signup", {"volunteer": str(w.my_volunteer)}),
                      (f"/volunteers/signups/{w.their_signup}/check-in", {}),
                      (f"/volunteers/signups/{w.their_signup}/hours", {"hours": "2"}),
                      (f"/volunteers/{w.their_volunteer}/edit", {"name": "改名"})]:
        assert client.post(url, data=data).status_code == 404, url
    assert client.get("/volunteers/hours").status_code == 403
    assert counts(app_ctx) == before


def test_finance_reads_but_cannot_change(client, login, app_ctx):
    login("finance")
    w = world(app_ctx, None)
    for url in ["/volunteers/", f"/volunteers/{w.my_volunteer}", "/volunteers/activities",
                f"/volunteers/activities/{w.mine}", f"/volunteers/shifts/{w.my_shift}", "/volunteers/verification",
                "/volunteers/hours", "/volunteers/hours.csv"]:
        assert client.get(url).status_code == 200, url
    page = client.get(f"/volunteers/shifts/{w.my_shift}").get_data(as_text=True)
    assert "Check in now" not in page
    before = counts(app_ctx)
    for url, data in [("/volunteers/new", {"name": "新人"}), (f"/volunteers/{w.my_volunteer}/edit", {"name": "x"}),
                      (f"/volunteers/{w.my_volunteer}/link", {"email": "a@example.org"}),
                      ("/volunteers/activities/new", {"title": "x", "people_served": "0"}),
                      (f"/volunteers/activities/{w.mine}/status", {"status": "closed", "confirm": "y"}),
                      (f"/volunteers/activities/{w.mine}/shifts", {}),
                      (f"/volunteers/shifts/{w.my_shift}/signup", {"volunteer": str(w.their_volunteer)}),
                      (f"/volunteers/signups/{w.my_signup}/check-in", {}),
                      (f"/volunteers/signups/{w.my_signup}/hours", {"hours": "2"}),
                      ("/volunteers/records/1/verify", {"confirm": "y"}),
                      ("/volunteers/records/1/reject", {"confirm": "y", "reason": "x"}),
                      ("/volunteers/records/1/correct", {"confirm": "y", "reason": "x"})]:
        assert client.post(url, data=data).status_code == 403, url
    assert counts(app_ctx) == before


def test_volunteer_list_search_sort_and_csv(client, login, app_ctx):
    login("admin")
    world(app_ctx, None)
    found = client.get("/volunteers/?q=13800000002").get_data(as_text=True)
    assert "李四" in found and "王小明" not in found
    by_community = client.get("/volunteers/?q=和平").get_data(as_text=True)
    assert "王小明" in by_community and "李四" not in by_community
    assert "No volunteers match" in client.get("/volunteers/?q=nobody").get_data(as_text=True)
    for sort in ("name", "-hours", "-points", "-created"):
        assert client.get(f"/volunteers/?sort={sort}").status_code == 200
    response = client.get("/volunteers/volunteers.csv?q=王")
    assert response.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][:2] == ["Number", "Name"]
    assert [row[1:5] for row in rows[1:]] == [["王小明", "13800000001", "", "和平社区"]]
    assert rows[1][-2:] == ["0.00", "0.00"]


def test_activity_filters_and_csv(client, login, app_ctx):
    login("admin")
    w = world(app_ctx, None)
    with app_ctx() as s:
        theirs = s.get(Activity, w.theirs)
        organiser_id = theirs.organiser_id
        set_activity_status(s, theirs, ActivityStatus.closed)
        s.commit()
    closed = client.get("/volunteers/activities?status=closed").get_data(as_text=True)
    assert "河道清洁" in closed and "敬老院探访" not in closed
    by_community = client.get("/volunteers/activities?community=和平").get_data(as_text=True)
    assert "敬老院探访" in by_community and "河道清洁" not in by_community
    by_organiser = client.get(f"/volunteers/activities?organiser={organiser_id}").get_data(as_text=True)
    assert "河道清洁" in by_organiser and "敬老院探访" not in by_organiser
    assert "No activities match" in client.get("/volunteers/activities?q=nothing").get_data(as_text=True)
    exported = client.get("/volunteers/activities.csv?status=open").get_data(as_text=True).lstrip("\ufeff")
    rows = list(csv.reader(io.StringIO(exported)))
    assert rows[0][:3] == ["Number", "Title", "Community"]
    assert [row[1:3] + row[4:7] for row in rows[1:]] == [["敬老院探访", "和平社区", "Open", "1", "0"]]


def test_organiser_activity_csv_is_their_own(client, login, app_ctx):
    world(app_ctx, login("organiser"))
    exported = client.get("/volunteers/activities.csv").get_data(as_text=True)
    assert "敬老院探访" in exported and "河道清洁" not in exported
