"""The demo's grant-making (fundapp/demo/grants.py): every stage of a grant's life, made by the real services, in
the months the demo leaves open, with a ledger that still verifies."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from decimal import Decimal

import pytest
from sqlalchemy import select

from fundapp.auth.services import authenticate, find_user_by_email
from fundapp.dates import local_today
from fundapp.demo.data import DEMO_PASSWORD, demo_email, load_demo
from fundapp.demo.grants import GRANT_USERS, Calendar, credit_code, load_grants, organisation_code
from fundapp.donations.donors import credit_code_valid
from fundapp.grants.attachments import attachment_path
from fundapp.grants.board import board_member_ids
from fundapp.grants.decisions import staff_limit
from fundapp.grants.funding import awarded_in, spendable
from fundapp.grants.models import (
    AgendaStatus,
    Application,
    ApplicationAttachment,
    AssignmentStatus,
    Award,
    AwardStatus,
    BoardAgenda,
    GrantDecision,
    GrantReport,
    ItemStatus,
    Organisation,
    OrganisationMember,
    PaymentStatus,
    Programme,
    ReportKind,
    ReportStatus,
    ReviewAssignment,
    TranchePayment,
    TrancheStatus,
)
from fundapp.grants.payments import second_approval_above
from fundapp.ledger.invariants import verify_ledger
from fundapp.ledger.models import JournalEntry
from fundapp.ledger.services import lock_date
from tests.unit.demo.test_demo_data import lowest_cash_per_fund

STATES = {"draft", "submitted", "in_review", "revision_requested", "recommended", "on_agenda", "approved", "rejected"}


@pytest.fixture()
def load(app, session, monkeypatch, tmp_path):
    """`load(today)`: the demo books and grants as if loaded on `today`; returns the grants summary."""
    monkeypatch.setitem(app.config, "GRANT_UPLOAD_DIR", str(tmp_path / "grants"))

    def run(today: dt.date) -> str:
        load_demo(session, today=today)
        return load_grants(session, today=today, password=DEMO_PASSWORD)

    return run


def user(session, key: str):
    return find_user_by_email(session, demo_email(key))


def grant_dates(session) -> list[dt.date]:
    """Every date the grants story put on record (entries, decisions, awards, payments, reports, close-outs)."""
    s = session
    dates = list(s.scalars(select(JournalEntry.effective_date).where(JournalEntry.source_type.like("grant%"))))
    dates += s.scalars(select(GrantDecision.decided_on))
    dates += s.scalars(select(Award.awarded_on))
    dates += s.scalars(select(Award.closed_on).where(Award.closed_on.is_not(None)))
    dates += s.scalars(select(TranchePayment.paid_on))
    dates += s.scalars(select(GrantReport.period_end))
    return dates


def test_credit_codes_pass_the_check_and_differ():
    assert organisation_code("D2143569") == "D2143569X"  # the standard's worked example
    codes = {credit_code("2", f"{n:06d}") for n in range(200)}
    assert len(codes) == 200 and all(credit_code_valid(c) and c.startswith("52330106MJ") for c in codes)


@pytest.mark.parametrize("today", [dt.date(2025, 3, 1), dt.date(2024, 12, 31), dt.date(2026, 7, 15)])
def test_the_calendar_runs_from_last_month_to_today(today):
    calendar = Calendar.for_today(today)
    assert calendar.start.day == 1 and calendar.start < today.replace(day=1)
    assert (today.replace(day=1) - calendar.start).days in (28, 29, 30, 31)
    days = [calendar.day(n / 20) for n in range(21)]
    assert days == sorted(days) and days[0] == calendar.start and days[-1] == today


def test_the_demo_grants_cover_every_stage(load, session):
    today = local_today()
    summary = load(today)
    s = session
    assert "6 organisations, 2 programmes, 9 applications, 2 awards" in summary

    for key, role, _name in GRANT_USERS:
        assert user(s, key).roles == {role}
    assert authenticate(s, demo_email("finance2"), DEMO_PASSWORD) is not None
    assert len(board_member_ids(s)) == 4

    organisations = list(s.scalars(select(Organisation)))
    assert len(organisations) == 6 and all(credit_code_valid(o.reg_no) for o in organisations)
    members = dict(s.execute(select(OrganisationMember.user_id, OrganisationMember.organisation_id)).all())
    assert s.get(Organisation, members[user(s, "applicant").id]).name == "阳光为老服务中心"
    assert s.get(Organisation, members[user(s, "applicant2").id]).name == "邻里互助协会"

    programmes = {p.kind: p for p in s.scalars(select(Programme))}
    venture, purchase = programmes["venture"], programmes["purchase"]
    assert venture.status == "open" and purchase.status == "closed"
    assert [(c.name, c.weight) for c in venture.criteria] == [
        ("需求迫切性", Decimal("30")), ("方案可行性", Decimal("30")), ("社区参与", Decimal("20")),
        ("预算合理性", Decimal("20"))]
    for programme in (venture, purchase):  # each fund can still cover what is left of its budget
        left = programme.budget - awarded_in(s, programme.id)
        assert left <= spendable(s, programme.fund, today, less_commitments=True, exclude_programme_id=programme.id)

    applications = list(s.scalars(select(Application)))
    statuses = Counter(a.status for a in applications)
    assert set(statuses) == STATES and statuses["approved"] == 2 and len(applications) == 9
    in_review = next(a for a in applications if a.status == "in_review")
    done = s.scalars(select(ReviewAssignment).where(ReviewAssignment.application_id == in_review.id,
                                                    ReviewAssignment.status == AssignmentStatus.submitted.value))
    assert len(done.all()) >= 2
    waiting_review = s.scalars(select(ReviewAssignment).where(ReviewAssignment.reviewer_id == user(s, "reviewer").id,
                                                              ReviewAssignment.status == "assigned")).all()
    assert waiting_review and not waiting_review[0].no_conflict
    assert s.scalar(select(ReviewAssignment).where(ReviewAssignment.status == "conflicted")) is not None
    revised = next(a for a in applications if a.status == "revision_requested")
    assert revised.revision_note and revised.organisation_id == members[user(s, "applicant").id]

    decisions = list(s.scalars(select(GrantDecision)))
    by_board = [d for d in decisions if d.kind == "board" and d.outcome == "approved"]
    assert len(by_board) == 1 and by_board[0].amount > staff_limit()
    assert (by_board[0].votes_for, by_board[0].recused, by_board[0].eligible) == (2, 1, 3)
    assert by_board[0].item.agenda.status == AgendaStatus.closed.value
    assert any(d.kind == "board" and d.outcome == "rejected" for d in decisions)
    by_staff = next(d for d in decisions if d.kind == "staff")
    assert by_staff.outcome == "approved" and by_staff.amount <= staff_limit()

    board_award = s.scalars(select(Award).where(Award.decision_id == by_board[0].id)).one()
    assert [t.status for t in board_award.tranches] == [
        TrancheStatus.paid.value, TrancheStatus.awaiting_approval.value, TrancheStatus.scheduled.value]
    first, second = sorted(s.scalars(select(TranchePayment).where(TranchePayment.award_id == board_award.id)),
                           key=lambda p: p.id)
    assert first.status == PaymentStatus.paid.value and first.approved_by_id == user(s, "finance2").id
    assert second.status == PaymentStatus.awaiting_approval.value and second.approved_by_id is None
    assert second.requested_by_id == user(s, "finance").id and second.amount > second_approval_above()
    assert any(r.kind == ReportKind.progress.value and r.status == ReportStatus.accepted.value
               and r.tranche_id == board_award.tranches[1].id for r in board_award.reports)
    assert board_award.status == AwardStatus.active.value

    staff_award = s.scalars(select(Award).where(Award.decision_id == by_staff.id)).one()
    assert staff_award.status == AwardStatus.closed.value and staff_award.returned_amount > 0
    assert [(r.kind, r.status) for r in staff_award.reports] == [("final", "returned"), ("final", "accepted")]
    assert staff_award.reports[-1].unspent_amount == staff_award.returned_amount

    open_agenda = s.scalars(select(BoardAgenda).where(BoardAgenda.status == AgendaStatus.open.value)).one()
    item = open_agenda.items[0]
    assert item.status == ItemStatus.pending.value and 0 < len(item.votes) < 4
    assert user(s, "board").id not in {v.member_id for v in item.votes}

    files = list(s.scalars(select(ApplicationAttachment)))
    assert {f.kind for f in files} == {"pdf", "png"}
    for attachment in files:
        data = attachment_path(attachment).read_bytes()
        assert data.startswith(b"%PDF-" if attachment.kind == "pdf" else b"\x89PNG") and len(data) == attachment.size

    assert verify_ledger(s) == []
    assert min(lowest_cash_per_fund(s).values()) >= 0
    dates = grant_dates(s)
    assert dates and lock_date(s) < min(dates) and max(dates) < today


def test_a_short_month_still_holds_the_whole_story(load, session):
    """Loaded on March 1st the open window is February: 28 days for the whole story."""
    today = dt.date(2025, 3, 1)
    load(today)
    assert verify_ledger(session) == []
    dates = grant_dates(session)
    assert min(dates) >= dt.date(2025, 2, 1) and max(dates) < today
    assert lock_date(session) == dt.date(2025, 1, 31)
    assert min(lowest_cash_per_fund(session).values()) >= 0
