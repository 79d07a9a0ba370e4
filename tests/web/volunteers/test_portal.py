"""The volunteer's own portal (/my/time-bank): role boundaries first (a volunteer sees only their own account,
another volunteer's sign-up in a URL is 404, other roles 403, an unlinked volunteer user a friendly page), then
the profile and consent, activities and sign-ups, hours and certificates. Points, gifts and the catalogue are in
test_portal_points.py."""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from fundapp.audit.models import AuditEvent
from fundapp.auth.models import User
from fundapp.db import utcnow
from fundapp.volunteers import manage, service
from fundapp.volunteers.models import Certificate, PointEntry, Shift, Signup, SignupStatus, Volunteer
from tests.volunteer_builders import make_activity, make_volunteer

BASE = "/my/time-bank"
PAGES = ("/", "/profile", "/activities", "/hours", "/hours.csv", "/points", "/points.csv", "/give", "/catalogue",
         "/certificates")
PAST = dt.datetime(2026, 3, 14, 9, 0, tzinfo=dt.UTC)


@dataclass(frozen=True)
class World:
    user: int  # the signed-in volunteer user
    me: int  # their volunteer record
    other: int  # another volunteer, with hours, points and a sign-up of their own
    other_signup: int
    my_signup: int  # an upcoming sign-up of mine
    future_shift: int  # a coming shift I am signed up for
    free_shift: int  # a coming shift with room, overlapping nothing of mine
    full_shift: int  # a coming shift with capacity 1, taken by the other volunteer


def _served(s, volunteer, shift, hours: str, verify: bool = True, reject: str = ""):
    signup = service.sign_up(s, volunteer, shift)
    record = service.enter_hours(s, signup, Decimal(hours))
    if verify:
        service.verify(s, record)
    elif reject:
        service.reject(s, record, reject)
    return record


@pytest.fixture()
def world(app_ctx, login) -> World:
    user_id = login("volunteer")
    soon = utcnow().replace(microsecond=0) + dt.timedelta(days=3)
    with app_ctx() as s:
        me = make_volunteer(s, "李小红", phone="13900000001", community="幸福社区")
        other = make_volunteer(s, "王大明", phone="13900000002", community="光明社区")
        manage.link_user(s, me, s.get(User, user_id))
        past = make_activity(s, title="社区助老探访", shifts=4, start=PAST, community="幸福社区")
        _served(s, me, past.shifts[0], "3.00")
        _served(s, me, past.shifts[1], "1.50", verify=False)
        _served(s, me, past.shifts[2], "2.00", verify=False, reject="未到场")
        _served(s, other, past.shifts[3], "7.25")
        other_past = service.sign_up(s, other, past.shifts[0])
        coming = make_activity(s, title="河道清洁", shifts=3, start=soon, community="光明社区")
        mine = service.sign_up(s, me, coming.shifts[0])
        full = make_activity(s, title="图书角整理", shifts=1, capacity=1, start=soon + dt.timedelta(days=1))
        service.sign_up(s, other, full.shifts[0])
        s.add(Certificate(code="CERT-MINE-0001", volunteer_id=me.id, period_start=dt.date(2026, 1, 1),
                          period_end=dt.date(2026, 6, 30), hours=Decimal("3.00"), activities=1))
        s.add(Certificate(code="CERT-OTHER-0002", volunteer_id=other.id, period_start=dt.date(2026, 1, 1),
                          period_end=dt.date(2026, 6, 30), hours=Decimal("7.25"), activities=1))
        s.commit()
        return World(user_id, me.id, other.id, other_past.id, mine.id, coming.shifts[0].id, coming.shifts[2].id,
                     full.shifts[0].id)


def text(response) -> str:
    return response.get_data(as_text=True)


def csv_rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))


def audit_count(app_ctx) -> int:
    with app_ctx() as s:
        return s.scalar(select(func.count()).select_from(AuditEvent))


# --- role boundaries ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["organiser", "donor", "applicant"])
def test_other_roles_are_refused(client, login, role):
    login(role)
    for path in PAGES:
        assert client.get(BASE + path).status_code == 403, path
    assert client.post(f"{BASE}/give", data={"points": "1"}).status_code == 403


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get(f"{BASE}/points")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_a_volunteer_user_without_a_volunteer_record_sees_a_friendly_page(client, login, app_ctx):
    login("volunteer")
    for path in PAGES:
        response = client.get(BASE + path)
        assert response.status_code == 200, path
        assert "not linked to a volunteer record" in text(response), path
    before = audit_count(app_ctx)
    response = client.post(f"{BASE}/give", data={"recipient": "person", "person_name": "张奶奶", "points": "1",
                                                 "confirm": "y", "key": "4b4f0d3e-7d0b-4c6f-9d5e-0a1b2c3d4e5f"})
    assert response.status_code == 200 and "not linked to a volunteer record" in text(response)
    assert audit_count(app_ctx) == before


def test_home_shows_only_my_own_figures(client, world):
    page = text(client.get(f"{BASE}/"))
    assert "李小红" in page and "王大明" not in page
    assert "3.00" in page  # points and verified hours
    assert "1.50" in page  # pending hours
    assert "7.25" not in page  # the other volunteer's hours
    assert "河道清洁" in page  # my upcoming sign-up
    assert "图书角整理" not in page  # the other's sign-up
    assert f"/sign-ups/{world.my_signup}/cancel" in page


def test_another_volunteers_sign_up_is_404_and_unchanged(client, world, app_ctx):
    assert client.get(f"{BASE}/sign-ups/{world.other_signup}/cancel").status_code == 404
    assert client.post(f"{BASE}/sign-ups/{world.other_signup}/cancel", data={"confirm": "y"}).status_code == 404
    assert client.get(f"{BASE}/sign-ups/999999/cancel").status_code == 404
    with app_ctx() as s:
        assert s.get(Signup, world.other_signup).status == SignupStatus.signed_up.value


def test_my_hours_list_and_csv_are_my_own(client, world):
    page = text(client.get(f"{BASE}/hours"))
    assert "3.00" in page and "1.50" in page and "2.00" in page and "7.25" not in page
    assert "未到场" in page and "Not accepted" in page and "Waiting for verification" in page
    verified = text(client.get(f"{BASE}/hours?status=verified"))
    assert "3.00" in verified and "1.50" not in verified
    rows = csv_rows(client.get(f"{BASE}/hours.csv"))
    assert rows[0] == ["Date", "Activity", "Hours", "Status", "Reason"]
    assert sorted(row[2] for row in rows[1:]) == ["1.50", "2.00", "3.00"]
    assert ["2026-03-14", "社区助老探访", "2.00", "Not accepted", "未到场"] in rows


def test_certificates_list_only_mine(client, world, app_ctx):
    page = text(client.get(f"{BASE}/certificates"))
    with app_ctx() as s:
        mine = s.scalar(select(Certificate).where(Certificate.code == "CERT-MINE-0001"))
        theirs = s.scalar(select(Certificate).where(Certificate.code == "CERT-OTHER-0002"))
        mine_id, theirs_id = mine.id, theirs.id
    assert "CERT-MINE-0001" in page and "CERT-OTHER-0002" not in page
    assert f"/certificates/{mine_id}.pdf" in page and f"/certificates/{theirs_id}.pdf" not in page
    assert f"/certificates/issue?volunteer_id={world.me}" in page


# --- profile and consent ------------------------------------------------------------------------------------------


def test_profile_edit_keeps_the_name_and_consent_is_audited(client, world, app_ctx):
    page = text(client.get(f"{BASE}/profile"))
    assert "13900000001" in page and "your name (not your phone, email or skills)" in page
    response = client.post(f"{BASE}/profile", data={"phone": "13700000009", "email": "lxh@example.org",
                                                     "community": "和平社区", "skills": "开车", "consent_public": "y",
                                                     "name": "篡改的名字"})
    assert response.status_code == 302
    with app_ctx() as s:
        me = s.get(Volunteer, world.me)
        assert (me.name, me.phone, me.email, me.community, me.skills, me.consent_public) == (
            "李小红", "13700000009", "lxh@example.org", "和平社区", "开车", True)
        events = s.scalars(select(AuditEvent).where(AuditEvent.subject_type == "volunteer",
                                                    AuditEvent.subject_id == str(world.me),
                                                    AuditEvent.tag == "volunteers:volunteer:updated")
                           .order_by(AuditEvent.id)).all()
        consent = [e for e in events if (e.before or {}).get("consent_public") is False
                   and (e.after or {}).get("consent_public") is True]
        assert len(consent) >= 1 and consent[-1].actor_id == world.user
    client.post(f"{BASE}/profile", data={"phone": "13700000009", "email": "lxh@example.org", "community": "和平社区",
                                         "skills": "开车"})
    with app_ctx() as s:
        assert s.get(Volunteer, world.me).consent_public is False
        last = s.scalars(select(AuditEvent).where(AuditEvent.subject_id == str(world.me),
                                                  AuditEvent.subject_type == "volunteer")
                         .order_by(AuditEvent.id.desc())).first()
        assert last.before["consent_public"] is True and last.after["consent_public"] is False


def test_a_bad_email_is_refused_and_nothing_changes(client, world, app_ctx):
    before = audit_count(app_ctx)
    response = client.post(f"{BASE}/profile", data={"phone": "1", "email": "not-an-email", "community": "",
                                                     "skills": ""})
    assert response.status_code == 200
    with app_ctx() as s:
        assert s.get(Volunteer, world.me).phone == "13900000001"
    assert audit_count(app_ctx) == before


# --- activities and sign-ups --------------------------------------------------------------------------------------


def test_activities_show_coming_shifts_with_places(client, world):
    page = text(client.get(f"{BASE}/activities"))
    assert "河道清洁" in page and "图书角整理" in page
    assert "社区助老探访" not in page  # its shifts are past
    assert "1 / 1" in page and "Full" in page
    assert f"/shifts/{world.free_shift}/sign-up" in page
    assert f"/shifts/{world.full_shift}/sign-up" not in page
    assert "图书角整理" not in text(client.get(f"{BASE}/activities?q=光明"))


def test_sign_up_needs_confirmation_then_signs_up(client, world, app_ctx):
    assert client.get(f"{BASE}/shifts/{world.free_shift}/sign-up").status_code == 200
    client.post(f"{BASE}/shifts/{world.free_shift}/sign-up", data={})
    with app_ctx() as s:
        assert s.scalar(select(Signup).where(Signup.shift_id == world.free_shift)) is None
    response = client.post(f"{BASE}/shifts/{world.free_shift}/sign-up", data={"confirm": "y"})
    assert response.status_code == 302
    with app_ctx() as s:
        signup = s.scalar(select(Signup).where(Signup.shift_id == world.free_shift))
        assert signup.volunteer_id == world.me and signup.status == SignupStatus.signed_up.value


def test_a_full_shift_is_refused_with_a_message(client, world, app_ctx):
    assert "This shift is full." in text(client.get(f"{BASE}/shifts/{world.full_shift}/sign-up"))
    response = client.post(f"{BASE}/shifts/{world.full_shift}/sign-up", data={"confirm": "y"})
    assert response.status_code == 200 and "This shift is full." in text(response)
    with app_ctx() as s:
        assert s.scalar(select(func.count()).select_from(Signup).where(Signup.shift_id == world.full_shift)) == 1


def test_an_overlapping_shift_and_a_closed_activity_are_refused(client, world, app_ctx):
    with app_ctx() as s:
        mine = s.get(Shift, world.future_shift)
        clash = make_activity(s, title="同时段活动", start=mine.starts_at.replace(tzinfo=dt.UTC))
        closed = make_activity(s, title="已结束报名", start=mine.starts_at.replace(tzinfo=dt.UTC)
                               + dt.timedelta(days=5), status="closed")
        s.commit()
        clash_id, closed_id = clash.shifts[0].id, closed.shifts[0].id
    response = client.post(f"{BASE}/shifts/{clash_id}/sign-up", data={"confirm": "y"})
    assert "overlapping shift" in text(response)
    response = client.post(f"{BASE}/shifts/{closed_id}/sign-up", data={"confirm": "y"})
    assert "This activity is closed." in text(response)
    with app_ctx() as s:
        assert s.scalar(select(func.count()).select_from(Signup).where(
            Signup.shift_id.in_((clash_id, closed_id)))) == 0


def test_a_past_shift_cannot_be_signed_up_for(client, world, app_ctx):
    with app_ctx() as s:
        shift_id = make_activity(s, title="昨日活动", start=utcnow() - dt.timedelta(days=1)).shifts[0].id
        s.commit()
    response = client.post(f"{BASE}/shifts/{shift_id}/sign-up", data={"confirm": "y"})
    assert "This shift has already started." in text(response)
    assert client.get(f"{BASE}/shifts/999999/sign-up").status_code == 404


def test_cancel_my_sign_up_with_confirmation(client, world, app_ctx):
    assert "Cancel my sign-up" in text(client.get(f"{BASE}/sign-ups/{world.my_signup}/cancel"))
    client.post(f"{BASE}/sign-ups/{world.my_signup}/cancel", data={})
    with app_ctx() as s:
        assert s.get(Signup, world.my_signup).status == SignupStatus.signed_up.value
    response = client.post(f"{BASE}/sign-ups/{world.my_signup}/cancel", data={"confirm": "y"})
    assert response.status_code == 302
    with app_ctx() as s:
        assert s.get(Signup, world.my_signup).status == SignupStatus.cancelled.value
    again = client.post(f"{BASE}/sign-ups/{world.my_signup}/cancel", data={"confirm": "y"})
    assert again.status_code == 200 and "Only a sign-up not yet started can be cancelled." in text(again)


def test_points_entries_unchanged_by_reading(client, world, app_ctx):
    with app_ctx() as s:
        before = s.scalar(select(func.count()).select_from(PointEntry))
    for path in PAGES:
        assert client.get(BASE + path).status_code == 200, path
    with app_ctx() as s:
        assert s.scalar(select(func.count()).select_from(PointEntry)) == before
