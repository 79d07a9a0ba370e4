"""Award schedules and tranche payments (maker-checker): every refusal writes nothing; payments post 2209 / 1002."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from fundapp.audit.models import AuditEvent
from fundapp.dates import local_today
from fundapp.grants.awards import CloseInput, TrancheSpec, award_tranches, close_award, set_schedule
from fundapp.grants.errors import GrantError
from fundapp.grants.models import Award, Tranche, TranchePayment
from fundapp.grants.payments import approve_payment, reject_payment
from fundapp.grants.reports import accept_report, return_report
from fundapp.ledger.models import JournalEntry
from fundapp.notify.models import Notification
from tests.factories import make_user
from tests.grants_award_builders import Cast, award_for, balance, entry_lines, pay, pay_through, report, schedule

TODAY = local_today()


@pytest.fixture()
def cast(session):
    return Cast(session)


def _count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def _entries(session) -> int:
    return _count(session, JournalEntry)


# --- schedule -----------------------------------------------------------------------------------------------------


def test_the_award_starts_with_one_tranche_for_the_whole_amount(session, cast):
    award = award_for(session, cast, "8000.00")
    [only] = award_tranches(session, award.id)
    assert (only.seq, only.amount, only.requires_report, only.status) == (1, Decimal("8000.00"), False, "scheduled")


def test_a_schedule_replaces_the_tranches_and_is_audited(session, cast):
    award = award_for(session, cast, "10000.00")
    first_id = award_tranches(session, award.id)[0].id
    schedule(session, award, "4000.00", "3500.50", "2499.50", actor=cast.maker)
    tranches = award_tranches(session, award.id)
    assert [(t.seq, t.amount, t.requires_report) for t in tranches] == [
        (1, Decimal("4000.00"), False), (2, Decimal("3500.50"), True), (3, Decimal("2499.50"), True)]
    assert tranches[0].id == first_id  # rows are updated in place
    event = session.scalars(select(AuditEvent).where(AuditEvent.tag == "grants:award:schedule_set")).one()
    assert event.before["tranches"][0]["amount"] == "10000.00"
    assert [t["amount"] for t in event.after["tranches"]] == ["4000.00", "3500.50", "2499.50"]
    schedule(session, award, "10000.00", actor=cast.maker)  # and back to one: the others are deleted
    assert [t.amount for t in award_tranches(session, award.id)] == [Decimal("10000.00")]


def test_a_tranche_may_be_paid_without_a_report_when_staff_say_so(session, cast):
    award = award_for(session, cast, "10000.00")
    schedule(session, award, "5000.00", "5000.00", actor=cast.maker, reports=False)
    assert [t.requires_report for t in award_tranches(session, award.id)] == [False, False]


@pytest.mark.parametrize("amounts, message", [
    (("4000.00", "5000.00"), "add up to 9,000.00"),
    (("4000.00", "6000.01"), "add up to 10,000.01"),
    (("10000.00", "0.00"), "Tranche 2: Enter a positive amount"),
    (("10000.005",), "at most two decimal places"),
    ((), "at least one tranche"),
])
def test_a_schedule_must_add_up_to_the_award(session, cast, amounts, message):
    award = award_for(session, cast, "10000.00")
    with pytest.raises(GrantError, match=message):
        set_schedule(session, award, [TrancheSpec(Decimal(a), TODAY) for a in amounts], cast.maker)
    assert [t.amount for t in award_tranches(session, award.id)] == [Decimal("10000.00")]


def test_a_schedule_lists_the_tranches_in_the_order_they_fall_due(session, cast):
    award = award_for(session, cast, "10000.00")
    specs = [TrancheSpec(Decimal("5000.00"), TODAY + dt.timedelta(days=60)),
             TrancheSpec(Decimal("5000.00"), TODAY + dt.timedelta(days=30))]
    with pytest.raises(GrantError, match="due before the tranche above it"):
        set_schedule(session, award, specs, cast.maker)
    with pytest.raises(GrantError, match="due before the award was made"):
        set_schedule(session, award, [TrancheSpec(Decimal("10000.00"), TODAY - dt.timedelta(days=1))], cast.maker)
    with pytest.raises(GrantError, match="first tranche cannot wait"):
        set_schedule(session, award, [TrancheSpec(Decimal("10000.00"), TODAY, "", True)], cast.maker)
    with pytest.raises(GrantError, match="milestone is too long"):
        set_schedule(session, award, [TrancheSpec(Decimal("10000.00"), TODAY, "x" * 501)], cast.maker)


def test_the_schedule_is_fixed_once_a_tranche_is_paid_or_waits_for_approval(session, cast):
    award = award_for(session, cast, "10000.00")
    schedule(session, award, "4000.00", "6000.00", actor=cast.maker)
    pay(session, award, 1, cast.maker)
    with pytest.raises(GrantError, match="can no\\s+longer be changed"):
        schedule(session, award, "5000.00", "5000.00", actor=cast.maker)
    big = award_for(session, cast, "80000.00")
    pay(session, big, 1, cast.maker)  # above the limit: waits
    with pytest.raises(GrantError, match="can no\\s+longer be changed"):
        schedule(session, big, "40000.00", "40000.00", actor=cast.maker)


def test_a_rejected_payment_does_not_fix_the_schedule(session, cast):
    award = award_for(session, cast, "80000.00")
    payment = pay(session, award, 1, cast.maker)
    reject_payment(session, payment, "Wrong account", cast.checker)
    schedule(session, award, "40000.00", "40000.00", actor=cast.maker)
    assert payment.tranche_id == award_tranches(session, award.id)[0].id


# --- payments under the limit ---------------------------------------------------------------------------------------


def test_a_payment_under_the_limit_posts_2209_against_1002_at_once(session, cast):
    award = award_for(session, cast, "10000.00")
    schedule(session, award, "4000.00", "6000.00", actor=cast.maker)
    payment = pay(session, award, 1, cast.maker, reference="TRX-42")
    assert payment.status == "paid" and payment.approved_by_id is None
    entry = session.get(JournalEntry, payment.entry_id)
    klass = award.fund.restriction
    assert entry_lines(entry) == sorted([("1002", klass, Decimal("-4000.00")), ("2209", klass, Decimal("4000.00"))])
    assert (entry.source_type, entry.idempotency_key) == ("grant_payment", f"grant-payment:{payment.key}")
    assert entry.author_id == cast.maker.id and entry.effective_date == TODAY
    assert {line.fund_id for line in entry.lines} == {award.fund_id}
    assert award.paid_amount == Decimal("4000.00") and award.outstanding == Decimal("6000.00")
    assert [t.status for t in award_tranches(session, award.id)] == ["paid", "scheduled"]
    assert balance(session, award.fund, "2209") == Decimal("-6000.00")
    told = session.scalars(select(Notification).where(Notification.user_id == cast.grantee.id,
                                                      Notification.kind == "grant_payment")).all()
    assert len(told) == 1 and "4,000.00" in told[0].subject


def test_a_restricted_fund_pays_in_its_restricted_class(session, cast):
    award = award_for(session, cast, "10000.00", restricted=True)
    payment = pay(session, award, 1, cast.maker)
    entry = session.get(JournalEntry, payment.entry_id)
    assert entry_lines(entry) == [("1002", "restricted", Decimal("-10000.00")),
                                  ("2209", "restricted", Decimal("10000.00"))]


def test_submitting_the_same_form_twice_makes_one_payment(session, cast):
    award = award_for(session, cast, "10000.00")
    schedule(session, award, "4000.00", "6000.00", actor=cast.maker)
    key = str(uuid.uuid4())
    first = pay(session, award, 1, cast.maker, key=key)
    entries = _entries(session)
    again = pay(session, award, 1, cast.maker, key=key)
    assert again.id == first.id
    assert _entries(session) == entries and _count(session, TranchePayment) == 1
    assert award.paid_amount == Decimal("4000.00")


def _refused(session, award, action, message):
    entries, payments = _entries(session), _count(session, TranchePayment)
    paid = session.scalar(select(Award.paid_amount).where(Award.id == award.id))
    with pytest.raises(GrantError, match=message):
        action()
    assert (_entries(session), _count(session, TranchePayment)) == (entries, payments)
    assert session.scalar(select(Award.paid_amount).where(Award.id == award.id)) == paid


def test_paying_beyond_the_award_is_refused(session, cast):
    award = award_for(session, cast, "10000.00")
    _refused(session, award, lambda: pay(session, award, 1, cast.maker, amount="10000.01"),
             "more than the 10,000.00 still owed")
    session.add(Tranche(award_id=award.id, seq=2, amount=Decimal("500.00"), due_on=TODAY))  # a bad row, by hand
    session.flush()
    pay(session, award, 1, cast.maker)
    _refused(session, award, lambda: pay(session, award, 2, cast.maker), "more than the 0.00 still owed")


def test_a_tranche_is_paid_in_full_only(session, cast):
    award = award_for(session, cast, "10000.00")
    _refused(session, award, lambda: pay(session, award, 1, cast.maker, amount="9000.00"),
             "paid in full: 10,000.00")


def test_a_tranche_already_paid_is_refused(session, cast):
    award = award_for(session, cast, "10000.00")
    schedule(session, award, "4000.00", "6000.00", actor=cast.maker, reports=False)
    pay(session, award, 1, cast.maker)
    _refused(session, award, lambda: pay(session, award, 1, cast.maker), "already paid")


def test_tranches_are_paid_in_order(session, cast):
    award = award_for(session, cast, "10000.00")
    schedule(session, award, "4000.00", "6000.00", actor=cast.maker, reports=False)
    _refused(session, award, lambda: pay(session, award, 2, cast.maker), "Tranche 1 is paid before tranche 2")


def test_a_tranche_whose_report_is_missing_is_refused(session, cast):
    award = award_for(session, cast, "10000.00")
    schedule(session, award, "4000.00", "6000.00", actor=cast.maker)
    pay(session, award, 1, cast.maker)
    _refused(session, award, lambda: pay(session, award, 2, cast.maker), "waits for the grantee's report")
    filed = report(session, award, cast, spend=("1000.00",), accept=False)
    _refused(session, award, lambda: pay(session, award, 2, cast.maker), "waits for the grantee's report")
    accept_report(session, filed, cast.maker)
    assert pay(session, award, 2, cast.maker).status == "paid"
    assert award.paid_amount == award.amount and award.outstanding == 0


def test_a_returned_report_does_not_release_the_tranche(session, cast):
    award = award_for(session, cast, "10000.00")
    schedule(session, award, "4000.00", "6000.00", actor=cast.maker)
    pay(session, award, 1, cast.maker)
    filed = report(session, award, cast, accept=False)
    return_report(session, filed, "Add the receipts", cast.maker)
    _refused(session, award, lambda: pay(session, award, 2, cast.maker), "waits for the grantee's report")


def test_paying_a_closed_award_is_refused(session, cast):
    award = award_for(session, cast, "10000.00")
    schedule(session, award, "4000.00", "6000.00", actor=cast.maker, reports=False)
    pay(session, award, 1, cast.maker)
    report(session, award, cast, kind="final", spend=("4000.00",))
    close_award(session, CloseInput(award=award, closed_on=TODAY), cast.maker)
    _refused(session, award, lambda: pay(session, award, 2, cast.maker), "is closed: nothing more is paid")


@pytest.mark.parametrize("paid_on, message", [
    (TODAY + dt.timedelta(days=1), "cannot be dated in the future"),
    (TODAY - dt.timedelta(days=1), "before the award was made"),
])
def test_a_payment_date_between_the_award_and_today(session, cast, paid_on, message):
    award = award_for(session, cast, "10000.00")
    _refused(session, award, lambda: pay(session, award, 1, cast.maker, on=paid_on), message)


def test_a_payment_needs_a_sound_form_key(session, cast):
    award = award_for(session, cast, "10000.00")
    _refused(session, award, lambda: pay(session, award, 1, cast.maker, key="not-a-key"), "no valid submission key")


# --- maker-checker ------------------------------------------------------------------------------------------------


def test_above_the_limit_a_payment_waits_and_posts_nothing(session, cast, app):
    other_finance = make_user(session, "finance")
    award = award_for(session, cast, "80000.00")
    entries = _entries(session)
    payment = pay(session, award, 1, cast.maker)
    assert payment.status == "awaiting_approval" and payment.entry_id is None
    assert _entries(session) == entries and award.paid_amount == 0
    assert award_tranches(session, award.id)[0].status == "awaiting_approval"
    asked = set(session.scalars(select(Notification.user_id).where(Notification.kind == "payment_approval")))
    assert {cast.checker.id, other_finance.id} <= asked and cast.maker.id not in asked
    _refused(session, award, lambda: pay(session, award, 1, cast.maker), "already waiting for a second approver")


def test_the_limit_itself_is_paid_without_a_second_approver(session, cast, app):
    award = award_for(session, cast, app.config["GRANT_SECOND_APPROVAL_ABOVE"])
    assert pay(session, award, 1, cast.maker).status == "paid"


def test_a_second_finance_user_approves_and_the_payment_posts(session, cast):
    award = award_for(session, cast, "80000.00")
    payment = pay(session, award, 1, cast.maker)
    approve_payment(session, payment, cast.checker)
    assert payment.status == "paid" and payment.approved_by_id == cast.checker.id and payment.approved_at
    entry = session.get(JournalEntry, payment.entry_id)
    assert (entry.author_id, entry.approver_id) == (cast.maker.id, cast.checker.id)
    assert sorted(line.amount for line in entry.lines) == [Decimal("-80000.00"), Decimal("80000.00")]
    assert award.paid_amount == Decimal("80000.00")
    assert award_tranches(session, award.id)[0].status == "paid"
    tags = set(session.scalars(select(AuditEvent.tag).where(AuditEvent.subject_type == "tranche_payment")))
    assert tags == {"grants:payment:requested", "grants:payment:approved"}
    with pytest.raises(GrantError, match="no longer waiting"):
        approve_payment(session, payment, cast.checker)


def test_the_maker_cannot_approve_their_own_payment(session, cast):
    award = award_for(session, cast, "80000.00")
    payment = pay(session, award, 1, cast.maker)
    _refused(session, award, lambda: approve_payment(session, payment, cast.maker),
             "You requested this payment")
    _refused(session, award, lambda: reject_payment(session, payment, "no", cast.maker),
             "You requested this payment")
    assert payment.status == "awaiting_approval"


def test_only_finance_approves(session, cast):
    award = award_for(session, cast, "80000.00")
    payment = pay(session, award, 1, cast.maker)
    for outsider in (make_user(session, "board"), make_user(session, "admin"), None):
        _refused(session, award, lambda u=outsider: approve_payment(session, payment, u), "Only a finance user")


def test_the_database_refuses_a_maker_as_checker(session, cast):
    award = award_for(session, cast, "80000.00")
    payment = pay(session, award, 1, cast.maker)
    with pytest.raises(IntegrityError, match="four_eyes"), session.begin_nested():
        payment.approved_by_id = cast.maker.id
        session.flush()


def test_a_rejection_needs_a_reason_and_frees_the_tranche(session, cast):
    award = award_for(session, cast, "80000.00")
    payment = pay(session, award, 1, cast.maker)
    _refused(session, award, lambda: reject_payment(session, payment, "  ", cast.checker), "Say why")
    reject_payment(session, payment, "The bank account changed", cast.checker)
    assert (payment.status, payment.rejection_reason, payment.entry_id) == ("rejected", "The bank account changed",
                                                                           None)
    assert award_tranches(session, award.id)[0].status == "scheduled" and award.paid_amount == 0
    told = session.scalars(select(Notification).where(Notification.user_id == cast.maker.id)).all()
    assert any("付款已被驳回" in n.subject for n in told)  # written in the books' language (zh_CN)
    again = pay_through(session, award, 1, cast)  # requested again, approved this time
    assert again.id != payment.id and again.status == "paid"
