"""Staff volunteer pages. `world()` builds two organisers' activities, each with a shift and a volunteer."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select

from fundapp.audit.models import AuditEvent
from fundapp.volunteers.models import Activity, PointEntry, ServiceRecord, Shift, Signup, Volunteer
from fundapp.volunteers.service import sign_up
from tests.factories import make_user
from tests.volunteer_builders import make_activity, make_volunteer

START = dt.datetime(2026, 3, 14, 1, 0, tzinfo=dt.UTC)  # 09:00 in Shanghai


@dataclass(frozen=True)
class World:
    mine: int  # the signed-in organiser's activity
    theirs: int  # another organiser's activity
    my_shift: int
    their_shift: int
    my_volunteer: int
    their_volunteer: int
    my_signup: int
    their_signup: int


def world(app_ctx, organiser_id: int | None) -> World:
    """Activities of `organiser_id` and of another organiser, one shift each, one volunteer signed up to each."""
    with app_ctx() as s:
        other = make_user(s, "organiser")
        mine = make_activity(s, title="敬老院探访", community="和平社区", organiser_id=organiser_id, start=START)
        theirs = make_activity(s, title="河道清洁", community="滨江社区", organiser_id=other.id, start=START)
        me_v = make_volunteer(s, "王小明", phone="13800000001", community="和平社区")
        them_v = make_volunteer(s, "李四", phone="13800000002", community="滨江社区")
        my_signup = sign_up(s, me_v, mine.shifts[0])
        their_signup = sign_up(s, them_v, theirs.shifts[0])
        s.commit()
        return World(mine.id, theirs.id, mine.shifts[0].id, theirs.shifts[0].id, me_v.id, them_v.id, my_signup.id,
                     their_signup.id)


def counts(app_ctx) -> dict[str, int]:
    with app_ctx() as s:
        return {model.__name__: s.scalar(select(func.count()).select_from(model))
                for model in (Volunteer, Activity, Shift, Signup, ServiceRecord, PointEntry, AuditEvent)}
