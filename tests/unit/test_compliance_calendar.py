"""The compliance calendar: duties computed from fixture data with dates, statuses, marking done, the .ics text."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import select

from fundapp.audit.models import AuditEvent
from fundapp.compliance import calendar as C
from fundapp.compliance.models import DutyDone
from fundapp.grants.models import AwardStatus, GrantReport, ReportStatus
from tests.factories import make_fund, make_user, post
from tests.grants_builders import make_award

d = dt.date


def by_key(duties):
    return {duty.key: duty for duty in duties}


def test_add_months_clamps_to_month_end():
    assert C.add_months(d(2025, 1, 31), 1) == d(2025, 2, 28)
    assert C.add_months(d(2024, 11, 30), 3) == d(2025, 2, 28)
    assert C.add_months(d(2025, 10, 10), 3) == d(2026, 1, 10)


def test_annual_reports_due_31_may(session):
    fund = make_fund(session)
    post(session, fund, "100.00", date=d(2024, 3, 1))
    duties = by_key(C.compute_duties(session, d(2025, 5, 20)))
    assert duties["annual-work-report:2024"].due == d(2025, 5, 31)
    assert duties["annual-work-report:2024"].status == C.DUE_SOON  # 11 days ahead
    assert duties["financial-report:2024"].status == C.DUE_SOON
    assert duties["annual-work-report:2025"].status == C.UPCOMING
    assert "annual-work-report:2023" not in duties  # before the first entry
    assert by_key(C.compute_duties(session, d(2025, 6, 1)))["financial-report:2024"].status == C.OVERDUE


def test_fund_changes_due_30_days_later(session):
    fund = make_fund(session, "CHG1", name="社区基金")
    event = AuditEvent(tag="funds:fund:updated", subject_type="fund", subject_id=str(fund.id),
                       after={"code": "CHG1", "name": "社区基金"},
                       created_at=dt.datetime(2025, 3, 1, 4, 0, tzinfo=dt.UTC))  # 12:00 in Shanghai, 1 March
    session.add(event)
    session.flush()
    key = f"fund-change:{event.id}"
    assert by_key(C.compute_duties(session, d(2025, 3, 5)))[key].due == d(2025, 3, 31)
    assert by_key(C.compute_duties(session, d(2025, 3, 5)))[key].status == C.UPCOMING
    assert by_key(C.compute_duties(session, d(2025, 3, 20)))[key].status == C.DUE_SOON
    assert by_key(C.compute_duties(session, d(2025, 4, 1)))[key].status == C.OVERDUE
    assert "CHG1" in by_key(C.compute_duties(session, d(2025, 4, 1)))[key].title


def test_grant_updates_every_three_months_with_report_evidence(session):
    award = make_award(session, "10000.00")
    award.awarded_on = d(2025, 1, 10)  # no planned end: counted as a long project
    session.add(GrantReport(award_id=award.id, kind="progress", status=ReportStatus.accepted.value,
                            reviewed_at=dt.datetime(2025, 3, 15, 2, 0, tzinfo=dt.UTC)))
    session.flush()
    duties = by_key(C.compute_duties(session, d(2025, 8, 1)))
    first, second, third = (duties[f"grant-update:{award.id}:{n}"] for n in (1, 2, 3))
    assert (first.due, second.due, third.due) == (d(2025, 4, 10), d(2025, 7, 10), d(2025, 10, 10))
    assert (first.status, first.done_on) == (C.DONE, d(2025, 3, 15))
    assert second.status == C.OVERDUE and third.status == C.UPCOMING
    assert f"grant-update:{award.id}:4" not in duties and f"grant-final:{award.id}" not in duties


def test_closed_grants_final_disclosure_and_short_projects(session):
    long_award, short_award = make_award(session, "10000.00"), make_award(session, "5000.00")
    long_award.awarded_on, long_award.closed_on = d(2024, 9, 1), d(2025, 6, 15)
    long_award.status = AwardStatus.closed.value
    long_award.released_amount, long_award.returned_amount = Decimal("1000.00"), Decimal("500.00")
    short_award.awarded_on, short_award.closed_on = d(2025, 1, 5), d(2025, 5, 1)
    short_award.status = AwardStatus.closed.value
    session.flush()
    duties = by_key(C.compute_duties(session, d(2025, 8, 1)))
    updates = sorted(duty.due for key, duty in duties.items() if key.startswith(f"grant-update:{long_award.id}:"))
    assert updates == [d(2024, 12, 1), d(2025, 3, 1), d(2025, 6, 1)]
    final = duties[f"grant-final:{long_award.id}"]
    assert final.due == d(2025, 9, 15) and "1,500.00" in final.title and final.status == C.UPCOMING
    short_keys = (f"grant-update:{short_award.id}:", f"grant-final:{short_award.id}")
    assert not [k for k in duties if k.startswith(short_keys)]


def test_mark_done_is_audited_and_refused_twice(session):
    fund = make_fund(session)
    post(session, fund, "100.00", date=d(2024, 3, 1))
    user = make_user(session, "finance")
    today = d(2025, 6, 10)
    row = C.mark_done(session, "annual-work-report:2024", d(2025, 5, 30), "慈善中国 2025-05-30", user, today)
    assert (row.user_id, row.done_on) == (user.id, d(2025, 5, 30))
    event = session.scalar(select(AuditEvent).where(AuditEvent.tag == "compliance:duty:done"))
    assert event.subject_id == "annual-work-report:2024" and event.actor_id == user.id
    duty = by_key(C.compute_duties(session, today))["annual-work-report:2024"]
    assert duty.status == C.DONE and "慈善中国" in duty.evidence
    with pytest.raises(C.DutyError):
        C.mark_done(session, "annual-work-report:2024", d(2025, 5, 30), "again", user, today)
    assert session.query(DutyDone).count() == 1


@pytest.mark.parametrize("key,done_on,note", [
    ("annual-work-report:1999", d(2025, 5, 30), "x"),  # no such duty
    ("financial-report:2024", d(2025, 6, 11), "x"),  # in the future
    ("financial-report:2024", d(2025, 5, 30), "   "),  # no note
    ("financial-report:2024", d(2025, 5, 30), "x" * 1001),
])
def test_mark_done_refusals_write_nothing(session, key, done_on, note):
    fund = make_fund(session)
    post(session, fund, "100.00", date=d(2024, 3, 1))
    with pytest.raises(C.DutyError):
        C.mark_done(session, key, done_on, note, None, d(2025, 6, 10))
    assert session.query(DutyDone).count() == 0
    assert session.scalar(select(AuditEvent).where(AuditEvent.tag == "compliance:duty:done")) is None


def test_tokens():
    token = C.feed_token(7, "secret")
    assert C.user_id_from_token(token, "secret") == 7
    assert C.user_id_from_token(token, "other") is None
    assert C.user_id_from_token("8" + token[1:], "secret") is None
    for bad in (None, "", "7", "x.y", "7.", token + "0"):
        assert C.user_id_from_token(bad, "secret") is None


def test_folding_at_75_octets_never_splits_a_character():
    line = "SUMMARY:" + "年度工作报告" * 20
    folded = C.fold(line)
    parts = folded.split("\r\n")
    assert all(len(p.encode()) <= 75 for p in parts) and len(parts) > 1
    assert all(p.startswith(" ") for p in parts[1:])
    assert "".join([parts[0]] + [p[1:] for p in parts[1:]]) == line
    assert C.fold("A" * 75) == "A" * 75 and C.fold("A" * 76) == "A" * 75 + "\r\n A"


def test_ics_structure(app):
    duties = [C.Duty("annual-work-report:2024", "annual", "Annual work report, 2024; 年度工作报告" * 3, d(2025, 5, 31)),
              C.Duty("grant-final:3", "grant_final", "Final", d(2025, 9, 15), status=C.DONE, evidence="done")]
    text = C.to_ics(duties, host="example.org", stamp=dt.datetime(2025, 5, 1, 8, 0, tzinfo=dt.UTC), name="Duties")
    assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", "")
    unfolded = text.replace("\r\n ", "").split("\r\n")[:-1]
    assert unfolded[0] == "BEGIN:VCALENDAR" and unfolded[-1] == "END:VCALENDAR" and "VERSION:2.0" in unfolded
    assert unfolded.count("BEGIN:VEVENT") == 2 == unfolded.count("END:VEVENT")
    assert "UID:annual-work-report:2024@example.org" in unfolded
    assert "DTSTART;VALUE=DATE:20250531" in unfolded and "DTSTAMP:20250501T080000Z" in unfolded
    assert "SUMMARY:" + "Annual work report\\, 2024\\; 年度工作报告" * 3 in unfolded
    assert all(len(line.encode()) <= 75 for line in text.split("\r\n"))
