"""Volunteer service by example: sign-up rules, check-in/out, organiser hours, verification crediting points once,
disputed hours reversed and re-entered, and the bad input the issue names (negative hours, overlapping shifts,
check-out before check-in)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from fundapp.audit.models import AuditEvent
from fundapp.volunteers.models import (
    ActivityStatus,
    PointEntry,
    RecordStatus,
    ServiceRecord,
    SignupStatus,
)
from fundapp.volunteers.points import verify_points, volunteer_account
from fundapp.volunteers.service import (
    ServiceError,
    cancel,
    check_in,
    check_out,
    correct,
    enter_hours,
    hours_between,
    reject,
    sign_up,
    verified_hours,
    verify,
)
from tests.volunteer_builders import make_activity, make_volunteer

D = Decimal
NINE = dt.datetime(2026, 3, 14, 9, 0, tzinfo=dt.UTC)


def writes(session) -> tuple[int, int, int]:
    return tuple(session.scalar(select(func.count()).select_from(model))
                 for model in (ServiceRecord, PointEntry, AuditEvent))


def test_check_in_and_out_record_hours_that_count_once_verified(session):
    volunteer, activity = make_volunteer(session), make_activity(session)
    signup = sign_up(session, volunteer, activity.shifts[0])
    check_in(session, signup, NINE)
    record = check_out(session, signup, NINE + dt.timedelta(hours=2, minutes=20))
    assert record.hours == D("2.33") and record.status == RecordStatus.pending.value
    assert volunteer_account(session, volunteer).balance == 0  # pending hours count for nothing
    verify(session, record)
    assert volunteer_account(session, volunteer).balance == D("2.33")
    assert verified_hours(session, volunteer) == D("2.33")
    with pytest.raises(ServiceError):
        verify(session, record)
    assert volunteer_account(session, volunteer).balance == D("2.33") and verify_points(session) == []


def test_check_out_before_check_in_is_refused(session):
    signup = sign_up(session, make_volunteer(session), make_activity(session).shifts[0])
    before = writes(session)
    with pytest.raises(ServiceError, match="Check in|签到"):
        check_out(session, signup, NINE)
    check_in(session, signup, NINE)
    before = writes(session)
    for moment in (NINE, NINE - dt.timedelta(minutes=1)):
        with pytest.raises(ServiceError):
            check_out(session, signup, moment)
    assert writes(session) == before and signup.status == SignupStatus.checked_in.value


@pytest.mark.parametrize("hours", [D("-2"), D("0"), D("24.5"), D("1.234"), D("Infinity")])
def test_bad_hours_are_refused(session, hours):
    signup = sign_up(session, make_volunteer(session), make_activity(session).shifts[0])
    before = writes(session)
    with pytest.raises(ServiceError):
        enter_hours(session, signup, hours)
    assert writes(session) == before and signup.status == SignupStatus.signed_up.value


def test_overlapping_shifts_double_sign_up_full_and_closed_are_refused(session):
    volunteer = make_volunteer(session)
    first = make_activity(session, shifts=2, capacity=1)
    overlapping = make_activity(session, title="垃圾分类宣传", start=NINE + dt.timedelta(hours=1))
    sign_up(session, volunteer, first.shifts[0])
    with pytest.raises(ServiceError):
        sign_up(session, volunteer, first.shifts[0])  # twice
    with pytest.raises(ServiceError):
        sign_up(session, volunteer, overlapping.shifts[0])  # 10:00-12:00 overlaps 09:00-11:00
    sign_up(session, volunteer, first.shifts[1])  # 11:00-13:00 touches but does not overlap
    with pytest.raises(ServiceError):
        sign_up(session, make_volunteer(session), first.shifts[0])  # full (capacity 1)
    overlapping.status = ActivityStatus.closed.value
    with pytest.raises(ServiceError):
        sign_up(session, make_volunteer(session), overlapping.shifts[0])


def test_cancelled_sign_up_frees_the_place_and_takes_no_hours(session):
    volunteer, activity = make_volunteer(session), make_activity(session, capacity=1)
    signup = sign_up(session, volunteer, activity.shifts[0])
    cancel(session, signup)
    with pytest.raises(ServiceError):
        enter_hours(session, signup, D("2"))
    other = sign_up(session, make_volunteer(session), activity.shifts[0])
    assert other.status == SignupStatus.signed_up.value


def test_disputed_hours_are_reversed_and_re_entered_never_edited(session):
    volunteer, activity = make_volunteer(session), make_activity(session)
    signup = sign_up(session, volunteer, activity.shifts[0])
    record = verify(session, enter_hours(session, signup, D("3")))
    with pytest.raises(ServiceError):
        enter_hours(session, signup, D("2"))  # a second record: correct instead
    with pytest.raises(ServiceError):
        correct(session, record, "")
    replacement = correct(session, record, "实际服务2小时", D("2"))
    assert (record.status, record.hours, record.reason) == (RecordStatus.reversed.value, D("3.00"), "实际服务2小时")
    assert replacement.replaces_id == record.id and replacement.status == RecordStatus.pending.value
    assert volunteer_account(session, volunteer).balance == 0
    verify(session, replacement)
    assert volunteer_account(session, volunteer).balance == D("2.00") and verified_hours(session, volunteer) == D("2")
    assert verify_points(session) == []


def test_pending_hours_are_rejected_with_a_reason(session):
    signup = sign_up(session, make_volunteer(session), make_activity(session).shifts[0])
    record = enter_hours(session, signup, D("1.5"))
    with pytest.raises(ServiceError):
        reject(session, record, " ")
    reject(session, record, "未到场")
    with pytest.raises(ServiceError):
        verify(session, record)
    assert record.point_entry_id is None


def test_hours_between_rounds_to_the_hundredth():
    assert hours_between(NINE, NINE + dt.timedelta(minutes=50)) == D("0.83")
    assert hours_between(NINE, NINE + dt.timedelta(hours=1, seconds=18)) == D("1.01")
    naive = dt.datetime(2026, 3, 14, 9, 0)
    assert hours_between(naive, naive + dt.timedelta(hours=2)) == D("2.00")
