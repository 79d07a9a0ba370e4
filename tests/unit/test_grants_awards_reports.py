"""Grantees' reports (filing, validation, review) and the close-out (release, return, restricted funds)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from fundapp.audit.models import AuditEvent
from fundapp.dates import local_today
from fundapp.grants.awards import (
    CloseInput,
    accepted_spending,
    award_tranches,
    budget_lines,
    close_award,
    close_entries,
)
from fundapp.grants.errors import GrantError
from fundapp.grants.models import ApplicationAttachment, GrantReport, ReportSpending
from fundapp.grants.reports import ReportInput, accept_report, file_report, return_report
from fundapp.ledger.models import JournalEntry
from fundapp.notify.models import Notification
from fundapp.uploads import Upload
from tests.grants_award_builders import Cast, award_for, balance, entry_lines, pay, report, schedule
from tests.grants_builders import make_applicant

TODAY = local_today()
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture()
def cast(session):
    return Cast(session)


@pytest.fixture()
def uploads(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "GRANT_UPLOAD_DIR", str(tmp_path / "grants"))
    return tmp_path / "grants"


@pytest.fixture()
def award(session, cast):
    """10,000 in two tranches of 4,000 and 6,000 (the second waits for a report); the first is paid."""
    award = award_for(session, cast, "10000.00")
    schedule(session, award, "4000.00", "6000.00", actor=cast.maker)
    pay(session, award, 1, cast.maker)
    return award


def _reports(session) -> int:
    return session.scalar(select(func.count()).select_from(GrantReport))


def _data(award, **values) -> ReportInput:
    base = {"award": award, "kind": "progress", "period_start": TODAY - dt.timedelta(days=30), "period_end": TODAY,
            "narrative": "Workshops held", "beneficiaries_reached": 12, "spending": {}}
    return ReportInput(**(base | values))


# --- filing -------------------------------------------------------------------------------------------------------


def test_a_report_is_tied_to_the_next_unpaid_tranche_and_finance_is_told(session, cast, award):
    lines = budget_lines(award)
    filed = file_report(session, _data(award, spending={lines[0].id: Decimal("1500.00"),
                                                        lines[1].id: Decimal("0.00")}), cast.grantee)
    assert filed.status == "submitted" and filed.tranche_id == award_tranches(session, award.id)[1].id
    assert filed.unspent_amount is None
    assert [(s.budget_line_id, s.amount) for s in filed.spending] == [(lines[0].id, Decimal("1500.00"))]
    told = set(session.scalars(select(Notification.user_id).where(Notification.kind == "grant_report")))
    assert {cast.maker.id, cast.checker.id} <= told
    assert session.scalars(select(AuditEvent).where(AuditEvent.tag == "grants:report:submitted")).one()
    assert accepted_spending(session, award.id) == {}  # counts once accepted


def test_a_report_carries_its_files(session, cast, award, uploads):
    filed = file_report(session, _data(award, attachments=[Upload("site.png", PNG)]), cast.grantee)
    assert len(list(uploads.iterdir())) == 1
    [attachment] = session.scalars(select(ApplicationAttachment).where(ApplicationAttachment.report_id == filed.id))
    assert (attachment.kind, attachment.original_name) == ("png", "site.png")


def test_a_bad_file_refuses_the_whole_report(session, cast, award, uploads):
    with pytest.raises(GrantError):
        file_report(session, _data(award, attachments=[Upload("evil.png", b"MZ not a picture")]), cast.grantee)
    assert _reports(session) == 0


@pytest.mark.parametrize("values, message", [
    ({"kind": "annual"}, "progress report or the final report"),
    ({"period_start": None}, "Enter the period"),
    ({"period_start": TODAY, "period_end": TODAY - dt.timedelta(days=1)}, "ends before it starts"),
    ({"period_end": TODAY + dt.timedelta(days=1)}, "cannot end in the future"),
    ({"narrative": "   "}, "Say what was done"),
    ({"beneficiaries_reached": -1}, "number of people reached"),
])
def test_report_fields_are_checked(session, cast, award, values, message):
    with pytest.raises(GrantError, match=message):
        file_report(session, _data(award, **values), cast.grantee)
    assert _reports(session) == 0


def test_spending_is_checked_against_the_budget_and_the_money_paid(session, cast, award):
    lines = budget_lines(award)
    with pytest.raises(GrantError, match="cannot be negative"):
        file_report(session, _data(award, spending={lines[0].id: Decimal("-1.00")}), cast.grantee)
    with pytest.raises(GrantError, match="lines of the awarded budget"):
        file_report(session, _data(award, spending={999999: Decimal("1.00")}), cast.grantee)
    with pytest.raises(GrantError, match=r"\(4,000.01\) cannot be more than the 4,000.00 paid"):
        file_report(session, _data(award, spending={lines[0].id: Decimal("2000.00"),
                                                     lines[1].id: Decimal("2000.01")}), cast.grantee)
    assert _reports(session) == 0
    report(session, award, cast, spend=("3000.00",))  # accepted: 1,000 left to report against what was paid
    with pytest.raises(GrantError, match=r"\(4,500.00\) cannot be more than the 4,000.00 paid"):
        file_report(session, _data(award, spending={lines[1].id: Decimal("1500.00")}), cast.grantee)


def test_only_the_grantees_users_file_its_reports(session, cast, award):
    _other_org, stranger = make_applicant(session)
    for outsider in (stranger, cast.maker, None):
        with pytest.raises(GrantError, match="grantee's own users"):
            file_report(session, _data(award), outsider)
    assert _reports(session) == 0


def test_no_report_before_the_first_payment(session, cast):
    award = award_for(session, cast, "10000.00")
    with pytest.raises(GrantError, match="first tranche has been paid"):
        file_report(session, _data(award), cast.grantee)


def test_one_report_waits_for_review_at_a_time(session, cast, award):
    first = report(session, award, cast, accept=False)
    with pytest.raises(GrantError, match=f"Report #{first.id} is waiting for review"):
        file_report(session, _data(award), cast.grantee)


def test_accepting_a_report_tells_the_grantee_and_counts_its_spending(session, cast, award):
    filed = report(session, award, cast, spend=("1200.00", "300.00"), accept=False)
    accept_report(session, filed, cast.maker, "Thank you")
    assert (filed.status, filed.reviewed_by_id, filed.review_note) == ("accepted", cast.maker.id, "Thank you")
    lines = budget_lines(award)
    assert accepted_spending(session, award.id) == {lines[0].id: Decimal("1200.00"), lines[1].id: Decimal("300.00")}
    subjects = list(session.scalars(select(Notification.subject).where(Notification.user_id == cast.grantee.id,
                                                                       Notification.kind == "grant_report")))
    assert any("您的报告已审核通过" in s for s in subjects)  # "your report was accepted", in the books' language
    with pytest.raises(GrantError, match="already reviewed"):
        return_report(session, filed, "late change of mind", cast.maker)


def test_a_returned_report_needs_a_reason_and_is_filed_again_as_a_new_report(session, cast, award):
    filed = report(session, award, cast, spend=("1000.00",), accept=False)
    with pytest.raises(GrantError, match="Say what the grantee should change"):
        return_report(session, filed, " ", cast.maker)
    return_report(session, filed, "Attach the receipts", cast.maker)
    assert (filed.status, filed.review_note) == ("returned", "Attach the receipts")
    assert accepted_spending(session, award.id) == {}
    again = report(session, award, cast, spend=("1000.00",), accept=False)
    assert again.id != filed.id and filed.status == "returned"
    subjects = list(session.scalars(select(Notification.subject).where(Notification.user_id == cast.grantee.id)))
    assert any("您的报告已被退回" in s for s in subjects)  # "your report was returned", in the books' language


def test_a_final_report_states_the_unspent_money(session, cast, award):
    report(session, award, cast, spend=("1000.00",))
    final = report(session, award, cast, kind="final", spend=("1500.00", "500.00"), accept=False)
    assert final.unspent_amount == Decimal("1000.00")  # 4,000 paid − 3,000 spent
    accept_report(session, final, cast.maker)
    with pytest.raises(GrantError, match="final report was accepted"):
        file_report(session, _data(award), cast.grantee)


# --- close-out ----------------------------------------------------------------------------------------------------


def test_closing_needs_an_accepted_final_report(session, cast, award):
    with pytest.raises(GrantError, match="only after its final report was accepted"):
        close_award(session, CloseInput(award=award, closed_on=TODAY), cast.maker)
    report(session, award, cast, kind="final", accept=False)
    with pytest.raises(GrantError, match="only after its final report was accepted"):
        close_award(session, CloseInput(award=award, closed_on=TODAY), cast.maker)
    assert award.status == "active"


def test_close_out_releases_the_unpaid_payable_and_cancels_the_tranches(session, cast, award):
    report(session, award, cast, kind="final", spend=("4000.00",))
    entries = session.scalar(select(func.count()).select_from(JournalEntry))
    close_award(session, CloseInput(award=award, closed_on=TODAY, note="Project finished early"), cast.maker)
    assert (award.status, award.closed_on, award.close_note) == ("closed", TODAY, "Project finished early")
    assert (award.paid_amount, award.released_amount, award.returned_amount) == (
        Decimal("4000.00"), Decimal("6000.00"), Decimal("0.00"))
    assert award.outstanding == 0
    assert [t.status for t in award_tranches(session, award.id)] == ["paid", "cancelled"]
    [release] = close_entries(session, award)
    assert session.scalar(select(func.count()).select_from(JournalEntry)) == entries + 1
    assert (release.source_type, release.idempotency_key) == ("grant_close", f"grant-close:{award.id}:release")
    klass = award.fund.restriction
    assert entry_lines(release) == sorted([("2209", klass, Decimal("6000.00")),
                                           ("5101", "unrestricted", Decimal("-6000.00"))])
    assert balance(session, award.fund, "2209") == 0
    assert balance(session, award.fund, "5101") == Decimal("4000.00")
    event = session.scalars(select(AuditEvent).where(AuditEvent.tag == "grants:award:closed")).one()
    assert event.before["status"] == "active" and event.after["released"] == "6000.00"
    assert event.after["cancelled_tranches"] == [2]


def test_money_the_grantee_returns_is_posted_back_to_the_fund(session, cast, award):
    report(session, award, cast, kind="final", spend=("3000.00",))
    bank_before = balance(session, award.fund, "1002")
    close_award(session, CloseInput(award=award, closed_on=TODAY, returned_amount=Decimal("1000.00"),
                                    returned_on=TODAY, return_reference="RET-7"), cast.maker)
    release, returned = close_entries(session, award)
    assert returned.idempotency_key == f"grant-close:{award.id}:return" and "RET-7" in returned.memo
    klass = award.fund.restriction
    assert entry_lines(returned) == sorted([("1002", klass, Decimal("1000.00")),
                                            ("5101", "unrestricted", Decimal("-1000.00"))])
    assert award.returned_amount == Decimal("1000.00")
    assert balance(session, award.fund, "1002") - bank_before == Decimal("1000.00")
    assert balance(session, award.fund, "5101") == Decimal("3000.00")  # what the grant really cost


def test_a_fully_paid_award_closes_without_a_release(session, cast):
    award = award_for(session, cast, "10000.00")
    pay(session, award, 1, cast.maker)
    report(session, award, cast, kind="final", spend=("5000.00", "5000.00"))
    close_award(session, CloseInput(award=award, closed_on=TODAY), cast.maker)
    assert close_entries(session, award) == [] and award.released_amount == 0 and award.status == "closed"


def test_close_out_in_a_restricted_fund_puts_the_restriction_back(session, cast):
    award = award_for(session, cast, "10000.00", restricted=True)
    schedule(session, award, "4000.00", "6000.00", actor=cast.maker, reports=False)
    pay(session, award, 1, cast.maker)
    report(session, award, cast, kind="final", spend=("2500.00",))
    close_award(session, CloseInput(award=award, closed_on=TODAY, returned_amount=Decimal("1500.00"),
                                    returned_on=TODAY), cast.maker)
    release, returned = close_entries(session, award)
    assert entry_lines(release) == sorted([
        ("2209", "restricted", Decimal("6000.00")), ("5101", "unrestricted", Decimal("-6000.00")),
        ("3101", "unrestricted", Decimal("6000.00")), ("3102", "restricted", Decimal("-6000.00"))])
    assert entry_lines(returned) == sorted([
        ("1002", "restricted", Decimal("1500.00")), ("5101", "unrestricted", Decimal("-1500.00")),
        ("3101", "unrestricted", Decimal("1500.00")), ("3102", "restricted", Decimal("-1500.00"))])
    # net effect of the grant on the fund: 2,500 spent, released from restriction; the rest restricted again
    assert balance(session, award.fund, "3102") == Decimal("2500.00")
    assert balance(session, award.fund, "3101") == Decimal("-2500.00")
    assert balance(session, award.fund, "5101") == Decimal("2500.00")
    assert balance(session, award.fund, "2209") == 0


@pytest.mark.parametrize("values, message", [
    ({"returned_amount": Decimal("4000.01"), "returned_on": TODAY}, "only 4,000.00 was paid"),
    ({"returned_amount": Decimal("-1.00")}, "cannot be negative"),
    ({"returned_amount": Decimal("1.001"), "returned_on": TODAY}, "two decimal places"),
    ({"returned_amount": Decimal("100.00")}, "Enter the date the money came back"),
    ({"returned_amount": Decimal("100.00"), "returned_on": TODAY + dt.timedelta(days=1)}, "in the future"),
    ({"closed_on": TODAY + dt.timedelta(days=1)}, "close-out cannot be dated in the future"),
    ({"closed_on": TODAY - dt.timedelta(days=1)}, "before the award was made"),
    ({"return_reference": "x" * 101}, "reference is too long"),
])
def test_close_out_input_is_checked_and_nothing_is_written(session, cast, award, values, message):
    report(session, award, cast, kind="final", spend=("4000.00",))
    entries = session.scalar(select(func.count()).select_from(JournalEntry))
    with pytest.raises(GrantError, match=message):
        close_award(session, CloseInput(**({"award": award, "closed_on": TODAY} | values)), cast.maker)
    assert session.scalar(select(func.count()).select_from(JournalEntry)) == entries
    assert award.status == "active" and award.released_amount == 0


def test_close_out_waits_for_a_payment_awaiting_approval(session, cast):
    award = award_for(session, cast, "100000.00", fund_amount="300000.00")
    schedule(session, award, "20000.00", "80000.00", actor=cast.maker, reports=False)
    pay(session, award, 1, cast.maker)
    report(session, award, cast, kind="final", spend=("1000.00",))
    pay(session, award, 2, cast.maker)  # above the limit: waits
    with pytest.raises(GrantError, match="waiting for a second approver"):
        close_award(session, CloseInput(award=award, closed_on=TODAY), cast.maker)


def test_an_award_is_closed_once(session, cast, award):
    report(session, award, cast, kind="final", spend=("4000.00",))
    close_award(session, CloseInput(award=award, closed_on=TODAY), cast.maker)
    with pytest.raises(GrantError, match="already closed"):
        close_award(session, CloseInput(award=award, closed_on=TODAY), cast.maker)
    with pytest.raises(GrantError, match="closed: no more reports"):
        file_report(session, _data(award), cast.grantee)


def test_the_grantee_is_told_when_the_award_closes(session, cast, award):
    report(session, award, cast, kind="final", spend=("4000.00",))
    close_award(session, CloseInput(award=award, closed_on=TODAY), cast.maker)
    assert session.scalars(select(Notification).where(Notification.user_id == cast.grantee.id,
                                                      Notification.kind == "grant_closed")).one()


def test_a_report_stores_one_spending_row_per_line_spent_on(session, cast, award):
    filed = report(session, award, cast, spend=("0.00", "10.00"), accept=False)
    rows = session.scalars(select(ReportSpending).where(ReportSpending.report_id == filed.id)).all()
    assert [(r.budget_line_id, r.amount) for r in rows] == [(budget_lines(award)[1].id, Decimal("10.00"))]
