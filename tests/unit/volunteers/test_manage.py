"""fundapp/volunteers/manage.py: volunteers and activities saved with an audit event holding the fields before
and after, the user-link rules, the shift rules, and organisers who must hold the organiser role."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from fundapp.audit.models import AuditEvent
from fundapp.auth.models import User
from fundapp.volunteers.manage import (
    ActivityInput,
    ManageError,
    VolunteerInput,
    add_shift,
    create_activity,
    create_volunteer,
    link_user,
    set_activity_status,
    set_consent,
    shift_taken,
    update_activity,
    update_volunteer,
    volunteer_for_user,
)
from fundapp.volunteers.models import ActivityStatus, Shift, Volunteer
from fundapp.volunteers.service import cancel, sign_up
from tests.factories import make_user
from tests.volunteer_builders import make_volunteer

NINE = dt.datetime(2026, 3, 14, 9, 0, tzinfo=dt.UTC)


def _events(session, tag: str, subject_id: int) -> list[AuditEvent]:
    return list(session.scalars(select(AuditEvent).where(AuditEvent.tag == tag, AuditEvent.subject_id == str(
        subject_id)).order_by(AuditEvent.id)))


def _count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def test_create_and_update_volunteer_audit_before_and_after(session):
    actor = make_user(session, "admin")
    volunteer = create_volunteer(session, VolunteerInput(name=" 王小明 ", phone="138", community="和平社区"), actor)
    assert (volunteer.name, volunteer.consent_public) == ("王小明", False)
    [created] = _events(session, "volunteers:volunteer:created", volunteer.id)
    assert created.actor_id == actor.id and created.before is None
    assert created.after == {"name": "王小明", "phone": "138", "email": "", "community": "和平社区", "skills": "",
                             "consent_public": False}
    update_volunteer(session, volunteer, VolunteerInput(name="王小明", phone="139", community="和平社区"), actor)
    [updated] = _events(session, "volunteers:volunteer:updated", volunteer.id)
    assert (updated.before["phone"], updated.after["phone"]) == ("138", "139")
    update_volunteer(session, volunteer, VolunteerInput(name="王小明", phone="139", community="和平社区"), actor)
    assert len(_events(session, "volunteers:volunteer:updated", volunteer.id)) == 1  # nothing changed: no event
    set_consent(session, volunteer, True, actor)
    assert volunteer.consent_public and volunteer.phone == "139"
    consent = _events(session, "volunteers:volunteer:updated", volunteer.id)[-1]
    assert (consent.before["consent_public"], consent.after["consent_public"]) == (False, True)


@pytest.mark.parametrize("data, message", [
    (VolunteerInput(name="  "), "Name is required."),
    (VolunteerInput(name="x" * 101), "at most 100 characters"),
    (VolunteerInput(name="x", phone="1" * 51), "at most 50 characters"),
    (VolunteerInput(name="x\x00"), "at most 100 characters"),
])
def test_bad_volunteer_input_writes_nothing(session, data, message):
    volunteer = make_volunteer(session, "原名")
    before = (_count(session, Volunteer), _count(session, AuditEvent))
    with pytest.raises(ManageError, match=message):
        create_volunteer(session, data)
    with pytest.raises(ManageError, match=message):
        update_volunteer(session, volunteer, data)
    assert volunteer.name == "原名" and (_count(session, Volunteer), _count(session, AuditEvent)) == before


def test_link_user_gives_the_volunteer_role_once(session):
    user = make_user(session, "finance")
    first, second = make_volunteer(session), make_volunteer(session)
    link_user(session, first, user)
    assert first.user_id == user.id and user.has_role("volunteer") and user.has_role("finance")
    assert volunteer_for_user(session, user) is first
    [event] = _events(session, "volunteers:volunteer:updated", first.id)
    assert (event.before, event.after) == ({"user_id": None}, {"user_id": user.id})
    assert link_user(session, first, user) is first  # again: nothing new
    assert len(_events(session, "volunteers:volunteer:updated", first.id)) == 1
    with pytest.raises(ManageError, match="already belongs to another volunteer"):
        link_user(session, second, user)
    with pytest.raises(ManageError, match="already has a user account"):
        link_user(session, first, make_user(session, "finance"))
    assert second.user_id is None


def test_volunteer_for_user_without_a_signed_in_user(session):
    assert volunteer_for_user(session, None) is None
    assert volunteer_for_user(session, make_user(session, "volunteer")) is None


def test_create_and_update_activity_audit_and_organiser_role(session):
    organiser, clerk = make_user(session, "organiser"), make_user(session, "finance")
    activity = create_activity(session, ActivityInput(title="探访", community="和平社区", organiser_id=organiser.id,
                                                      people_served=12), clerk)
    assert (activity.status, activity.organiser_id, activity.people_served) == ("open", organiser.id, 12)
    [created] = _events(session, "volunteers:activity:created", activity.id)
    assert created.after == {"title": "探访", "description": "", "community": "和平社区", "award_id": None,
                             "organiser_id": organiser.id, "people_served": 12}
    with pytest.raises(ManageError, match="organiser role"):
        create_activity(session, ActivityInput(title="x", organiser_id=clerk.id))
    with pytest.raises(ManageError, match="organiser role"):
        update_activity(session, activity, ActivityInput(title="探访", organiser_id=clerk.id))
    with pytest.raises(ManageError, match="organiser role"):
        create_activity(session, ActivityInput(title="x", organiser_id=999_999))
    assert session.get(User, clerk.id) is not None and activity.organiser_id == organiser.id
    update_activity(session, activity, ActivityInput(title="探访", community="和平社区", organiser_id=None,
                                                     people_served=20))
    [updated] = _events(session, "volunteers:activity:updated", activity.id)
    assert updated.before["organiser_id"] == organiser.id and updated.after["organiser_id"] is None
    assert (updated.before["people_served"], updated.after["people_served"]) == (12, 20)


@pytest.mark.parametrize("data, message", [
    (ActivityInput(title=""), "Title is required."),
    (ActivityInput(title="x", people_served=-1), "People served"),
    (ActivityInput(title="x", people_served=True), "People served"),
    (ActivityInput(title="x", award_id=999_999), "No such grant."),
])
def test_bad_activity_input(session, data, message):
    with pytest.raises(ManageError, match=message):
        create_activity(session, data)


def test_close_and_reopen_audit(session):
    activity = create_activity(session, ActivityInput(title="探访"))
    set_activity_status(session, activity, ActivityStatus.closed)
    set_activity_status(session, activity, ActivityStatus.closed)  # already closed: no event
    set_activity_status(session, activity, ActivityStatus.open)
    events = _events(session, "volunteers:activity:updated", activity.id)
    assert [(e.before, e.after) for e in events] == [({"status": "open"}, {"status": "closed"}),
                                                    ({"status": "closed"}, {"status": "open"})]


def test_add_shift_and_taken(session):
    activity = create_activity(session, ActivityInput(title="探访"))
    local = NINE.astimezone(ZoneInfo("Asia/Shanghai"))
    shift = add_shift(session, activity, local, local + dt.timedelta(hours=3), 2)
    assert shift.capacity == 2 and shift.activity_id == activity.id
    [event] = _events(session, "volunteers:shift:added", shift.id)
    assert event.after["capacity"] == 2 and event.after["activity"] == activity.id
    assert shift_taken(session, shift) == 0
    first = sign_up(session, make_volunteer(session), shift)
    sign_up(session, make_volunteer(session), shift)
    assert shift_taken(session, shift) == 2
    cancel(session, first)
    assert shift_taken(session, shift) == 1


@pytest.mark.parametrize("start, end, capacity, message", [
    (NINE, NINE, 5, "end after it starts"),
    (NINE, NINE - dt.timedelta(hours=1), 5, "end after it starts"),
    (NINE, NINE + dt.timedelta(hours=24, minutes=1), 5, "at most 24 hours"),
    (NINE, NINE + dt.timedelta(hours=2), 0, "Capacity"),
    (NINE, NINE + dt.timedelta(hours=2), 501, "Capacity"),
    (NINE, NINE + dt.timedelta(hours=2), True, "Capacity"),
    (NINE.replace(tzinfo=None), NINE.replace(tzinfo=None) + dt.timedelta(hours=2), 5, "start and end"),
    (None, NINE, 5, "start and end"),
])
def test_add_shift_rules(session, start, end, capacity, message):
    activity = create_activity(session, ActivityInput(title="探访"))
    before = _count(session, Shift)
    with pytest.raises(ManageError, match=message):
        add_shift(session, activity, start, end, capacity)
    assert _count(session, Shift) == before


def test_no_shift_on_a_closed_activity(session):
    activity = create_activity(session, ActivityInput(title="探访"))
    set_activity_status(session, activity, ActivityStatus.closed)
    before = _count(session, Shift)
    with pytest.raises(ManageError, match="closed"):
        add_shift(session, activity, NINE, NINE + dt.timedelta(hours=2), 5)
    assert _count(session, Shift) == before
