"""Expiry (oldest points first, idempotent per day), hours by project/community/activity, the annual report's
volunteer-service note, and certificates that can be checked by their code."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from fundapp.volunteers.models import PointAccountKind, PointEntryKind
from fundapp.volunteers.points import (
    add_months,
    credit_hours,
    expire_points,
    gift_points,
    person_account,
    system_account,
    verify_points,
    volunteer_account,
)
from fundapp.volunteers.reports import find_certificate, hours_by, issue_certificate, service_note
from fundapp.volunteers.service import ServiceError, enter_hours, sign_up, verify
from tests.volunteer_builders import make_activity, make_volunteer

D = Decimal
DAY = dt.date(2025, 1, 10)


@pytest.fixture()
def expiry(app):
    app.config["VOLUNTEER_POINTS_EXPIRY_MONTHS"] = "12"
    yield
    app.config["VOLUNTEER_POINTS_EXPIRY_MONTHS"] = ""


def test_unused_points_older_than_the_rule_lapse_oldest_first(session, expiry):
    volunteer = make_volunteer(session)
    account = volunteer_account(session, volunteer)
    credit_hours(session, volunteer, D("5"), key="old", day=DAY)
    credit_hours(session, volunteer, D("4"), key="new", day=DAY + dt.timedelta(days=300))
    gift_points(session, account, person_account(session, "孙奶奶"), D("2"), key="gift")  # uses the oldest
    entries = expire_points(session, today=DAY + dt.timedelta(days=370))
    assert [e.kind for e in entries] == [PointEntryKind.expiry.value]
    assert account.balance == D("4.00")  # 5 old - 2 given = 3 lapsed; the 4 newer points stay
    assert system_account(session, PointAccountKind.expiry).balance == D("3.00")
    assert expire_points(session, today=DAY + dt.timedelta(days=370)) == []  # nothing left to lapse, same day
    assert expire_points(session, today=DAY + dt.timedelta(days=371)) == []
    assert verify_points(session) == []


def test_no_rule_no_expiry(session):
    volunteer = make_volunteer(session)
    credit_hours(session, volunteer, D("5"), key="old", day=DAY)
    assert expire_points(session, today=DAY + dt.timedelta(days=3650)) == []


def test_add_months_keeps_the_day_within_the_month():
    assert add_months(dt.date(2026, 1, 31), 1) == dt.date(2026, 2, 28)
    assert add_months(dt.date(2026, 3, 15), -12) == dt.date(2025, 3, 15)
    assert add_months(dt.date(2024, 12, 31), 2) == dt.date(2025, 2, 28)


def _serve(session, volunteer, activity, hours: str, *, verified: bool = True):
    signup = sign_up(session, volunteer, activity.shifts[0])
    record = enter_hours(session, signup, D(hours))
    if verified:
        verify(session, record)
    return record


def test_hours_by_community_and_activity_count_verified_hours_and_people(session):
    east = make_activity(session, title="助老", community="东社区")
    west = make_activity(session, title="环保", community="西社区", start=dt.datetime(2026, 3, 15, 9, tzinfo=dt.UTC))
    a, b = make_volunteer(session), make_volunteer(session)
    _serve(session, a, east, "2")
    _serve(session, b, east, "1.5")
    _serve(session, a, west, "3")
    _serve(session, b, west, "9", verified=False)  # pending: counts for nothing
    rows = hours_by(session, "community", dt.date(2026, 1, 1), dt.date(2026, 12, 31))
    assert [(r.label, r.hours, r.people, r.records) for r in rows] == [("东社区", D("3.50"), 2, 2),
                                                                       ("西社区", D("3.00"), 1, 1)]
    assert [r.label for r in hours_by(session, "activity", dt.date(2026, 3, 15), dt.date(2026, 3, 15))] == ["环保"]
    assert hours_by(session, "project", dt.date(2026, 1, 1), dt.date(2026, 12, 31))[0].hours == D("6.50")
    note = service_note(session, 2026)
    assert (note.hours, note.people, note.activities) == (D("6.50"), 2, 2)
    assert service_note(session, 2025).hours == 0


def test_certificates_hold_the_verified_hours_and_are_found_by_code(session):
    volunteer = make_volunteer(session)
    _serve(session, volunteer, make_activity(session), "2.5")
    certificate = issue_certificate(session, volunteer, dt.date(2026, 1, 1), dt.date(2026, 12, 31))
    assert (certificate.hours, certificate.activities) == (D("2.50"), 1)
    assert find_certificate(session, certificate.code.lower()).id == certificate.id
    for code in ("", "nope", "' OR 1=1 --", "X" * 40):
        assert find_certificate(session, code) is None
    with pytest.raises(ServiceError):
        issue_certificate(session, volunteer, dt.date(2025, 1, 1), dt.date(2025, 12, 31))  # no hours then
    with pytest.raises(ServiceError):
        issue_certificate(session, volunteer, dt.date(2026, 12, 31), dt.date(2026, 1, 1))
