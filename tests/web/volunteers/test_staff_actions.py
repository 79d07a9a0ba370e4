"""Staff volunteer actions: volunteers and activities saved through the services, shifts, the roster, verification
and correction; bad input shows a message and changes nothing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import select

from fundapp.auth.models import User
from fundapp.volunteers.models import (
    Activity,
    PointAccount,
    ServiceRecord,
    Shift,
    Signup,
    Volunteer,
)
from fundapp.volunteers.service import enter_hours, verify
from tests.factories import make_user
from tests.volunteer_builders import make_activity, make_volunteer
from tests.web.volunteers import START, counts, world

VOLUNTEER = {"name": "赵六", "phone": "13900000003", "email": "", "community": "和平社区", "skills": "驾驶"}


def _balance(app_ctx, volunteer_id: int) -> Decimal:
    with app_ctx() as s:
        account = s.scalar(select(PointAccount).where(PointAccount.volunteer_id == volunteer_id))
        return account.balance if account else Decimal("0.00")


def test_create_edit_and_link_a_volunteer(client, login, app_ctx):
    login("admin")
    assert client.post("/volunteers/new", data=VOLUNTEER | {"consent_public": "y"}).status_code == 302
    with app_ctx() as s:
        volunteer = s.scalar(select(Volunteer).where(Volunteer.name == "赵六"))
        assert volunteer.consent_public and volunteer.skills == "驾驶"
        user = make_user(s, "finance", email="zhao@example.org")
        s.commit()
        volunteer_id, user_id = volunteer.id, user.id
    assert client.post(f"/volunteers/{volunteer_id}/edit", data=VOLUNTEER | {"name": "赵六六"}).status_code == 302
    unknown = client.post(f"/volunteers/{volunteer_id}/link", data={"email": "nobody@example.org"},
                          follow_redirects=True)
    assert "There is no user account with this email." in unknown.get_data(as_text=True)
    linked = client.post(f"/volunteers/{volunteer_id}/link", data={"email": "ZHAO@example.org"}, follow_redirects=True)
    assert "zhao@example.org" in linked.get_data(as_text=True)
    with app_ctx() as s:
        volunteer = s.get(Volunteer, volunteer_id)
        assert (volunteer.name, volunteer.consent_public, volunteer.user_id) == ("赵六六", False, user_id)
        assert s.get(User, user_id).has_role("volunteer")


def test_bad_volunteer_input_writes_nothing(client, login, app_ctx):
    login("admin")
    before = counts(app_ctx)
    page = client.post("/volunteers/new", data=VOLUNTEER | {"name": "  "}).get_data(as_text=True)
    assert "Correct the marked fields" in page
    assert client.post("/volunteers/new", data=VOLUNTEER | {"phone": "1" * 51}).status_code == 200
    assert counts(app_ctx) == before


def test_organiser_creates_an_activity_they_organise(client, login, app_ctx):
    user_id = login("organiser")
    with app_ctx() as s:
        other = make_user(s, "organiser")
        s.commit()
        other_id = other.id
    response = client.post("/volunteers/activities/new", data={
        "title": "社区义诊", "community": "和平社区", "award": "", "organiser": str(other_id), "people_served": "30"})
    assert response.status_code == 302
    with app_ctx() as s:
        activity = s.scalar(select(Activity).where(Activity.title == "社区义诊"))
        assert (activity.organiser_id, activity.people_served, activity.status) == (user_id, 30, "open")
    before = counts(app_ctx)
    negative = client.post("/volunteers/activities/new", data={"title": "x", "people_served": "-1"})
    assert negative.status_code == 200 and "Enter a whole number, 0 or more." in negative.get_data(as_text=True)
    assert counts(app_ctx) == before


def test_admin_assigns_only_organisers(client, login, app_ctx):
    login("admin")
    with app_ctx() as s:
        organiser, clerk = make_user(s, "organiser"), make_user(s, "finance")
        s.commit()
        organiser_id, clerk_id = organiser.id, clerk.id
    before = counts(app_ctx)
    page = client.post("/volunteers/activities/new", data={"title": "探访", "organiser": str(clerk_id),
                                                           "people_served": "0"}).get_data(as_text=True)
    assert "The organiser must be a user with the organiser role." in page
    assert counts(app_ctx) == before
    assert client.post("/volunteers/activities/new", data={"title": "探访", "organiser": str(organiser_id),
                                                           "people_served": "0"}).status_code == 302
    with app_ctx() as s:
        assert s.scalar(select(Activity.organiser_id).where(Activity.title == "探访")) == organiser_id


def test_close_needs_confirmation_and_stops_sign_ups(client, login, app_ctx):
    w = world(app_ctx, login("organiser"))
    url = f"/volunteers/activities/{w.mine}/status"
    unconfirmed = client.post(url, data={"status": "closed"}, follow_redirects=True)
    assert "Tick the box to confirm." in unconfirmed.get_data(as_text=True)
    with app_ctx() as s:
        assert s.get(Activity, w.mine).status == "open"
    assert client.post(url, data={"status": "closed", "confirm": "y"}).status_code == 302
    with app_ctx() as s:
        assert s.get(Activity, w.mine).status == "closed"
    before = counts(app_ctx)
    refused = client.post(f"/volunteers/shifts/{w.my_shift}/signup", data={"volunteer": str(w.their_volunteer)},
                          follow_redirects=True)
    assert "This activity is closed." in refused.get_data(as_text=True)
    assert counts(app_ctx) == before
    client.post(url, data={"status": "open", "confirm": "y"})
    with app_ctx() as s:
        assert s.get(Activity, w.mine).status == "open"


def test_add_shift_in_local_time_and_refuse_end_before_start(client, login, app_ctx):
    w = world(app_ctx, login("organiser"))
    url = f"/volunteers/activities/{w.mine}/shifts"
    before = counts(app_ctx)
    for data, message in [({"day": "2026-04-01", "start": "11:00", "end": "09:00", "capacity": "5"},
                           "A shift must end after it starts."),
                          ({"day": "2026-04-01", "start": "09:00", "end": "11:00", "capacity": "0"},
                           "Between 1 and 500 places."),
                          ({"day": "2026-13-01", "start": "09:00", "end": "11:00", "capacity": "5"},
                           "Enter a date as YYYY-MM-DD.")]:
        page = client.post(url, data=data, follow_redirects=True).get_data(as_text=True)
        assert message in page, data
    assert counts(app_ctx) == before
    client.post(url, data={"day": "2026-04-01", "start": "09:00", "end": "11:30", "capacity": "5"})
    with app_ctx() as s:
        shift = s.scalar(select(Shift).where(Shift.activity_id == w.mine).order_by(Shift.id.desc()))
        starts = shift.starts_at.replace(tzinfo=shift.starts_at.tzinfo or dt.UTC)
        assert starts == dt.datetime(2026, 4, 1, 1, 0, tzinfo=dt.UTC) and shift.capacity == 5


def test_roster_sign_up_overlap_cancel_check_in_and_out(client, login, app_ctx):
    organiser_id = login("organiser")
    w = world(app_ctx, organiser_id)
    with app_ctx() as s:
        clash = make_activity(s, title="同时段活动", organiser_id=organiser_id, start=START)
        free = make_volunteer(s, "空闲")
        s.commit()
        clash_shift, free_id = clash.shifts[0].id, free.id
    before = counts(app_ctx)
    overlap = client.post(f"/volunteers/shifts/{clash_shift}/signup", data={"volunteer": str(w.my_volunteer)},
                          follow_redirects=True)
    assert "overlapping shift" in overlap.get_data(as_text=True)
    early = client.post(f"/volunteers/signups/{w.my_signup}/check-out", follow_redirects=True)
    assert "Check in before checking out." in early.get_data(as_text=True)
    assert counts(app_ctx) == before
    assert client.post(f"/volunteers/shifts/{clash_shift}/signup",
                       data={"volunteer": str(free_id)}).status_code == 302
    with app_ctx() as s:
        signup = s.scalar(select(Signup).where(Signup.shift_id == clash_shift))
        signup_id = signup.id
    client.post(f"/volunteers/signups/{signup_id}/cancel")
    client.post(f"/volunteers/signups/{w.my_signup}/check-in")
    with app_ctx() as s:
        assert s.get(Signup, signup_id).status == "cancelled"
        signup = s.get(Signup, w.my_signup)
        assert signup.status == "checked_in"
        signup.checked_in_at = dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)  # as if checked in two hours ago
        s.commit()
    client.post(f"/volunteers/signups/{w.my_signup}/check-out")
    with app_ctx() as s:
        record = s.scalar(select(ServiceRecord).where(ServiceRecord.signup_id == w.my_signup))
        assert record.status == "pending" and Decimal("1.99") <= record.hours <= Decimal("2.01")


def test_bad_hours_write_nothing(client, login, app_ctx):
    w = world(app_ctx, login("organiser"))
    before = counts(app_ctx)
    url = f"/volunteers/signups/{w.my_signup}/hours"
    for hours, message in [("-2", "Hours must be more than 0"), ("0", "Hours must be more than 0"),
                           ("25", "Hours must be more than 0"), ("abc", "Enter hours as a number"),
                           ("1.234", "at most two decimal places")]:
        page = client.post(url, data={"hours": hours}, follow_redirects=True).get_data(as_text=True)
        assert message in page, hours
    assert counts(app_ctx) == before
    client.post(url, data={"hours": "2.5"})
    with app_ctx() as s:
        assert s.scalar(select(ServiceRecord.hours).where(ServiceRecord.signup_id == w.my_signup)) == Decimal("2.50")


def test_verification_credits_points_and_reject_needs_a_reason(client, login, app_ctx):
    w = world(app_ctx, login("organiser"))
    client.post(f"/volunteers/signups/{w.my_signup}/hours", data={"hours": "2.5"})
    with app_ctx() as s:
        record_id = s.scalar(select(ServiceRecord.id).where(ServiceRecord.signup_id == w.my_signup))
        their = enter_hours(s, s.get(Signup, w.their_signup), Decimal("3"))
        s.commit()
        their_id = their.id
    queue = client.get("/volunteers/verification").get_data(as_text=True)
    assert "王小明" in queue and "李四" not in queue
    before = counts(app_ctx)
    unconfirmed = client.post(f"/volunteers/records/{record_id}/verify", follow_redirects=True)
    assert "Tick the box to confirm." in unconfirmed.get_data(as_text=True)
    assert client.post(f"/volunteers/records/{their_id}/verify", data={"confirm": "y"}).status_code == 404
    assert client.post(f"/volunteers/records/{their_id}/reject",
                       data={"confirm": "y", "reason": "x"}).status_code == 404
    assert counts(app_ctx) == before
    client.post(f"/volunteers/records/{record_id}/verify", data={"confirm": "y"})
    assert _balance(app_ctx, w.my_volunteer) == Decimal("2.50")
    again = client.post(f"/volunteers/records/{record_id}/verify", data={"confirm": "y"}, follow_redirects=True)
    assert "Only pending hours can be verified." in again.get_data(as_text=True)
    assert _balance(app_ctx, w.my_volunteer) == Decimal("2.50")
    listing = client.get("/volunteers/").get_data(as_text=True)
    assert "2.50" in listing


def test_reject_with_reason(client, login, app_ctx):
    w = world(app_ctx, login("admin"))
    client.post(f"/volunteers/signups/{w.my_signup}/hours", data={"hours": "2"})
    with app_ctx() as s:
        record_id = s.scalar(select(ServiceRecord.id).where(ServiceRecord.signup_id == w.my_signup))
    before = counts(app_ctx)
    client.post(f"/volunteers/records/{record_id}/reject", data={"confirm": "y", "reason": ""})
    client.post(f"/volunteers/records/{record_id}/reject", data={"reason": "没有到场"})
    assert counts(app_ctx) == before
    client.post(f"/volunteers/records/{record_id}/reject", data={"confirm": "y", "reason": "没有到场"})
    with app_ctx() as s:
        record = s.get(ServiceRecord, record_id)
        assert (record.status, record.reason) == ("rejected", "没有到场")
    assert _balance(app_ctx, w.my_volunteer) == Decimal("0.00")


def test_correction_reverses_and_re_enters(client, login, app_ctx):
    w = world(app_ctx, login("organiser"))
    with app_ctx() as s:
        record = verify(s, enter_hours(s, s.get(Signup, w.my_signup), Decimal("4")))
        s.commit()
        record_id = record.id
    assert _balance(app_ctx, w.my_volunteer) == Decimal("4.00")
    url = f"/volunteers/records/{record_id}/correct"
    assert "Confirm the correction" in client.get(url).get_data(as_text=True)
    before = counts(app_ctx)
    for data in [{"reason": "多记了", "hours": "2"}, {"confirm": "y", "reason": "", "hours": "2"},
                 {"confirm": "y", "reason": "多记了", "hours": "-1"}]:
        assert client.post(url, data=data).status_code == 200, data
    assert counts(app_ctx) == before and _balance(app_ctx, w.my_volunteer) == Decimal("4.00")
    assert client.post(url, data={"confirm": "y", "reason": "多记了", "hours": "2"}).status_code == 302
    assert _balance(app_ctx, w.my_volunteer) == Decimal("0.00")
    with app_ctx() as s:
        old = s.get(ServiceRecord, record_id)
        new = s.scalar(select(ServiceRecord).where(ServiceRecord.replaces_id == record_id))
        assert (old.status, old.reason) == ("reversed", "多记了")
        assert (new.status, new.hours) == ("pending", Decimal("2.00"))
        new_id = new.id
    client.post(f"/volunteers/records/{new_id}/verify", data={"confirm": "y"})
    assert _balance(app_ctx, w.my_volunteer) == Decimal("2.00")


def test_hours_report_groups_and_csv(client, login, app_ctx):
    login("admin")
    w = world(app_ctx, None)
    with app_ctx() as s:
        verify(s, enter_hours(s, s.get(Signup, w.my_signup), Decimal("2.5")))
        verify(s, enter_hours(s, s.get(Signup, w.their_signup), Decimal("1")))
        s.commit()
    page = client.get("/volunteers/hours?group=community&start=2026-01-01&end=2026-12-31").get_data(as_text=True)
    assert "和平社区" in page and "滨江社区" in page and "3.50" in page
    assert "No verified hours" in client.get("/volunteers/hours?start=2025-01-01&end=2025-12-31").get_data(
        as_text=True)
    exported = client.get("/volunteers/hours.csv?group=activity&start=2026-01-01&end=2026-12-31")
    lines = exported.get_data(as_text=True).lstrip("\ufeff").splitlines()
    assert lines == ["Activity,Verified hours,Volunteers,Records", "敬老院探访,2.50,1,1", "河道清洁,1.00,1,1"]


def test_activity_of_a_grant_and_hours_by_project(client, login, app_ctx):
    from tests.grants_builders import make_award

    login("admin")
    w = world(app_ctx, None)
    with app_ctx() as s:
        award = make_award(s)
        s.commit()
        award_id, number = award.id, award.number
    form = client.get(f"/volunteers/activities/{w.mine}/edit").get_data(as_text=True)
    assert number in form
    assert client.post(f"/volunteers/activities/{w.mine}/edit", data={
        "title": "敬老院探访", "community": "和平社区", "award": str(award_id), "organiser": "",
        "people_served": "8"}).status_code == 302
    with app_ctx() as s:
        assert s.get(Activity, w.mine).award_id == award_id
        verify(s, enter_hours(s, s.get(Signup, w.my_signup), Decimal("2")))
        verify(s, enter_hours(s, s.get(Signup, w.their_signup), Decimal("1")))
        s.commit()
    page = client.get("/volunteers/hours?group=project&start=2026-01-01&end=2026-12-31").get_data(as_text=True)
    assert number in page and "Not part of a funded project" in page
    assert number in client.get(f"/volunteers/activities/{w.mine}").get_data(as_text=True)
