"""Receipts for payments of a community social enterprise's gift share: issued in the donation receipts' yearly
series, only under a gift agreement, never for a reversed payment, one valid receipt per payment; a receipted
payment is not reversed; the schema (migration 5b2d7e9c1a30) keeps every receipt for exactly one gift and the
receipts guard still freezes every printed value on both databases."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlalchemy import func, select

from fundapp.audit.models import AuditEvent
from fundapp.donations.errors import DonationError
from fundapp.donations.models import Receipt, ReceiptCounter
from fundapp.donations.portal import my_receipt
from fundapp.donations.queries import receipts_by_payment, receipts_of_year
from fundapp.donations.receipts import (
    check_code_valid,
    enterprise_payments_missing_receipts,
    issue_enterprise_receipt,
    issue_missing_receipts,
    issue_receipt,
    reissue_receipt,
    void_receipt,
)
from fundapp.enterprises.checks import verify_enterprises
from fundapp.enterprises.errors import EnterpriseError
from fundapp.enterprises.models import EnterprisePayment
from fundapp.enterprises.payments import reverse_payment
from fundapp.errors import NotFound
from fundapp.extensions import db
from fundapp.ledger.invariants import verify_ledger
from fundapp.ledger.models import Fund, JournalEntry
from tests.conftest import PG_URL
from tests.factories import make_fund, make_user
from tests.unit.donations.factories import gift, make_donor
from tests.unit.enterprises.factories import START, confirm, file, make_agreement, make_enterprise, pay

D = Decimal
CODE = "91350100M000100Y43"
OTHER_CODE = "91310000MA1FL0000N"
RECEIVED = dt.date(2025, 5, 1)
ISSUED = dt.date(2025, 6, 1)


@pytest.fixture()
def fund(session):
    return make_fund(session, "COMM", fund_type="micro", name="幸福社区微基金")


def gift_payment(session, fund, *, name: str = "幸福食堂", code: str = CODE, nature: str = "gift",
                 amount: str = "5000.00", on: dt.date = RECEIVED, periodicity: str = "quarterly") -> EnterprisePayment:
    """A confirmed report of an enterprise for its first 2025 period (revenue 100,000 at 5 % = 5,000 due) and one
    payment on it (a yearly report is confirmed and paid in January 2026)."""
    enterprise = make_enterprise(session, name, credit_code=code)
    make_agreement(session, enterprise, fund, nature=nature, rate="5", periodicity=periodicity)
    yearly = periodicity == "yearly"
    revision = confirm(session, file(session, enterprise, START, "100000.00"),
                       on=dt.date(2026, 1, 10) if yearly else dt.date(2025, 4, 20))
    return pay(session, revision.report, amount, on=dt.date(2026, 1, 15) if yearly else on)


def written(session) -> tuple:
    """Everything issuing a receipt may write."""
    return (session.scalar(select(func.count()).select_from(Receipt)),
            tuple(session.execute(select(ReceiptCounter.year, ReceiptCounter.last_number)
                                  .order_by(ReceiptCounter.year)).all()),
            session.scalar(select(func.count()).select_from(AuditEvent)),
            session.scalar(select(func.count()).select_from(JournalEntry)))


# --- issuing ------------------------------------------------------------------------------------------------------


def test_a_gift_payment_gets_the_next_number_of_the_donation_receipts_series(session, fund):
    donor = make_donor(session, "王芳")
    first = issue_receipt(session, gift(session, fund, "10.00", donor=donor, on=RECEIVED), None, issued_on=ISSUED)
    payment = gift_payment(session, fund)
    entries = session.scalar(select(func.count()).select_from(JournalEntry))
    actor = make_user(session, "finance")

    receipt = issue_enterprise_receipt(session, payment, actor, issued_on=ISSUED)
    # The payment owns its entry: a receipt posts nothing (the money is not booked twice).
    assert session.scalar(select(func.count()).select_from(JournalEntry)) == entries
    last = issue_receipt(session, gift(session, fund, "20.00", donor=donor, on=RECEIVED), None, issued_on=ISSUED)

    assert [(r.year, r.number) for r in (first, receipt, last)] == [(2025, 1), (2025, 2), (2025, 3)]
    assert (receipt.enterprise_payment_id, receipt.donation_id) == (payment.id, None)
    assert (receipt.payer_name, receipt.payer_id_code, receipt.amount) == ("幸福食堂", CODE, D("5000.00"))
    assert (receipt.donation_date, receipt.issued_on, receipt.method) == (RECEIVED, ISSUED, "bank_transfer")
    assert receipt.item == "幸福社区微基金：社区社会企业反哺捐赠（2025年第1季度）"
    assert receipt.in_kind_details == "" and receipt.issued_by_id == actor.id and check_code_valid(receipt)
    assert verify_ledger(session) == [] and verify_enterprises(session) == []
    event = session.scalar(select(AuditEvent).where(AuditEvent.tag == "donations:receipt:issued",
                                                    AuditEvent.subject_id == str(receipt.id)))
    assert event.actor_id == actor.id
    assert event.after["enterprise_payment"] == payment.id and event.after["number"] == "2025-000002"
    assert "donation" not in event.after
    assert [r.label for r in receipts_of_year(session, 2025)] == ["2025-000001", "2025-000002", "2025-000003"]


@pytest.mark.parametrize("periodicity, words", [("monthly", "2025年1月"), ("yearly", "2025年度")])
def test_the_item_names_the_fund_and_the_period_paid_for(session, fund, periodicity, words):
    receipt = issue_enterprise_receipt(session, gift_payment(session, fund, periodicity=periodicity), None)
    assert receipt.item == f"幸福社区微基金：社区社会企业反哺捐赠（{words}）"


@pytest.mark.parametrize("nature", ["shareholding", "services"])
def test_no_receipt_when_the_money_is_not_a_gift(session, fund, nature):
    payment = gift_payment(session, fund, nature=nature)
    before = written(session)
    with pytest.raises(DonationError, match="not a gift"):
        issue_enterprise_receipt(session, payment, None)
    assert written(session) == before
    assert enterprise_payments_missing_receipts(session, 2025) == []


def test_no_receipt_for_a_reversed_payment(session, fund):
    payment = gift_payment(session, fund)
    reverse_payment(session, payment, "退票", None)
    before = written(session)
    with pytest.raises(DonationError, match="reversed payment"):
        issue_enterprise_receipt(session, payment, None)
    assert written(session) == before
    assert enterprise_payments_missing_receipts(session, 2025) == []


def test_one_valid_receipt_per_payment(session, fund):
    payment = gift_payment(session, fund)
    receipt = issue_enterprise_receipt(session, payment, None, issued_on=ISSUED)
    before = written(session)
    with pytest.raises(DonationError, match=f"already has receipt {receipt.label}"):
        issue_enterprise_receipt(session, payment, None, issued_on=ISSUED)
    assert written(session) == before


def test_no_receipt_dated_before_the_payment_or_without_a_credit_code(session, fund):
    payment = gift_payment(session, fund)
    before = written(session)
    with pytest.raises(DonationError, match="before the gift"):
        issue_enterprise_receipt(session, payment, None, issued_on=RECEIVED - dt.timedelta(days=1))
    assert written(session) == before
    nameless = gift_payment(session, fund, name="无码企业", code="")
    before = written(session)
    with pytest.raises(DonationError, match="unified social credit code of 无码企业"):
        issue_enterprise_receipt(session, nameless, None)
    assert written(session) == before


def test_void_then_reissue_takes_the_next_number_for_the_same_payment(session, fund):
    payment = gift_payment(session, fund)
    old = issue_enterprise_receipt(session, payment, None)  # today, as the reissue is
    new = reissue_receipt(session, old, "企业名称有误", None)
    assert old.is_void and old.void_reason == "企业名称有误" and old.number == 1
    assert (new.enterprise_payment_id, new.donation_id, new.number, new.is_void) == (payment.id, None, 2, False)
    assert [r.id for r in receipts_by_payment(session, [payment.id])[payment.id]] == [old.id, new.id]
    void_receipt(session, new, "重复", None)
    again = issue_enterprise_receipt(session, payment, None)  # every receipt void: a new one may be issued
    assert again.number > new.number or again.year > new.year


# --- reversing a receipted payment ---------------------------------------------------------------------------------


def test_a_payment_with_a_valid_receipt_is_not_reversed_until_the_receipt_is_void(session, fund):
    payment = gift_payment(session, fund)
    receipt = issue_enterprise_receipt(session, payment, None, issued_on=ISSUED)
    report = payment.report
    entries = session.scalar(select(func.count()).select_from(JournalEntry))
    with pytest.raises(EnterpriseError, match=f"receipt {receipt.label}: void the receipt first"):
        reverse_payment(session, payment, "退票", None)
    assert (payment.status, payment.reversal_entry_id, report.paid_amount) == ("recorded", None, D("5000.00"))
    assert session.scalar(select(func.count()).select_from(JournalEntry)) == entries

    void_receipt(session, receipt, "款项退回", None)
    reverse_payment(session, payment, "退票", None)
    assert payment.is_reversed and report.paid_amount == D("0.00")
    with pytest.raises(DonationError, match="reversed payment"):
        issue_enterprise_receipt(session, payment, None)


# --- the year's receipts -------------------------------------------------------------------------------------------


def test_the_year_end_batch_issues_donations_and_enterprise_gifts_in_the_order_received(session, fund):
    donor = make_donor(session)
    early = gift(session, fund, "1.00", donor=donor, on=dt.date(2025, 4, 2))
    payment = gift_payment(session, fund, on=dt.date(2025, 4, 10))
    late = gift(session, fund, "2.00", donor=donor, on=dt.date(2025, 4, 20))
    gift_payment(session, fund, name="邻里洗衣", code=OTHER_CODE, nature="shareholding", on=dt.date(2025, 4, 11))
    assert enterprise_payments_missing_receipts(session, 2025) == [payment]
    assert enterprise_payments_missing_receipts(session, 2024) == []

    issued = issue_missing_receipts(session, 2025, None, issued_on=ISSUED)
    assert [(r.donation_id, r.enterprise_payment_id) for r in issued] == [(early.id, None), (None, payment.id),
                                                                          (late.id, None)]
    assert [r.number for r in issued] == [1, 2, 3]
    assert enterprise_payments_missing_receipts(session, 2025) == []
    assert issue_missing_receipts(session, 2025, None) == []


def test_the_donor_portal_never_finds_an_enterprise_receipt(session, fund):
    receipt = issue_enterprise_receipt(session, gift_payment(session, fund), None)
    with pytest.raises(NotFound):
        my_receipt(session, make_donor(session), receipt.id)


def test_the_pdf_names_the_enterprise_and_the_amount(session, fund, tmp_path):
    from fundapp.donations.pdf import receipt_pdf
    from tests.unit.donations.test_pdf import _tools, pdf_text

    _tools()
    receipt = issue_enterprise_receipt(session, gift_payment(session, fund, amount="1234.50"), None)
    text = pdf_text(receipt_pdf(receipt), tmp_path)
    assert "公益事业捐赠票据" in text and "幸福食堂" in text and CODE in text
    assert "1,234.50" in text and "壹仟贰佰叁拾肆元伍角" in text
    assert "社区社会企业反哺捐赠" in text and receipt.label in text and "银行转账" in text


# --- the database's half ------------------------------------------------------------------------------------------


def _refused(session, sql: str, **params) -> None:
    with pytest.raises(sa.exc.DatabaseError):
        with session.begin_nested():
            session.execute(sa.text(sql), params)


COPY = ("INSERT INTO receipts (year, number, donation_id, enterprise_payment_id, issued_on, issued_at, issuer_name, "
        "foundation_name, foundation_reg_no, payer_name, payer_id_code, amount, donation_date, method, item, "
        "in_kind_details, check_code, void_at, void_reason) "
        "SELECT year, number + :step, {donation}, {payment}, issued_on, issued_at, issuer_name, foundation_name, "
        "foundation_reg_no, payer_name, payer_id_code, amount, donation_date, method, item, in_kind_details, "
        "check_code, {void_at}, {void_reason} FROM receipts WHERE id = :id")


def _copy(donation: str = "NULL", payment: str = "enterprise_payment_id", void: bool = False) -> str:
    return COPY.format(donation=donation, payment=payment, void_at="CURRENT_TIMESTAMP" if void else "NULL",
                       void_reason="'作废'" if void else "NULL")


def test_database_keeps_every_receipt_for_exactly_one_gift(session, fund):
    receipt = issue_enterprise_receipt(session, gift_payment(session, fund), None)
    donation = gift(session, fund, "10.00", donor=make_donor(session))
    session.expunge_all()
    with pytest.raises(sa.exc.IntegrityError):  # both a donation and a payment
        with session.begin_nested():
            session.execute(sa.text(_copy(donation=":donation")), {"id": receipt.id, "step": 100,
                                                                    "donation": donation.id})
    _refused(session, _copy(payment="NULL"), id=receipt.id, step=101)  # neither
    with pytest.raises(sa.exc.IntegrityError):  # a second valid receipt for the payment
        with session.begin_nested():
            session.execute(sa.text(_copy()), {"id": receipt.id, "step": 102})
    with session.begin_nested():  # a void one beside the valid one is fine
        session.execute(sa.text(_copy(void=True)), {"id": receipt.id, "step": 103})


def test_database_guard_still_freezes_every_printed_value_of_both_kinds(session, fund):
    enterprise_receipt = issue_enterprise_receipt(session, gift_payment(session, fund), None)
    other_payment = gift_payment(session, fund, name="邻里洗衣", code=OTHER_CODE)
    donation = gift(session, fund, "50.00", donor=make_donor(session), issue=True)
    ids = (enterprise_receipt.id, donation.active_receipt.id)
    other_id, donation_id = other_payment.id, donation.id
    session.expunge_all()
    for receipt_id in ids:
        _refused(session, "UPDATE receipts SET amount = amount + 1 WHERE id = :id", id=receipt_id)
        _refused(session, "UPDATE receipts SET payer_id_code = 'x' WHERE id = :id", id=receipt_id)
        _refused(session, "DELETE FROM receipts WHERE id = :id", id=receipt_id)
    # The new column is frozen too: a receipt never moves to another payment, nor from a payment to a donation.
    _refused(session, "UPDATE receipts SET enterprise_payment_id = :other WHERE id = :id", id=ids[0], other=other_id)
    _refused(session, "UPDATE receipts SET enterprise_payment_id = NULL, donation_id = :d WHERE id = :id", id=ids[0],
             d=donation_id)
    with session.begin_nested():  # voiding, once, is the one change allowed
        session.execute(sa.text("UPDATE receipts SET void_at = CURRENT_TIMESTAMP, void_reason = 'x' WHERE id = :id"),
                        {"id": ids[0]})
    _refused(session, "UPDATE receipts SET void_reason = 'changed' WHERE id = :id", id=ids[0])
    _refused(session, "UPDATE receipts SET amount = amount + 1 WHERE id = :id", id=ids[0])


# --- the migration with data in it ----------------------------------------------------------------------------------


@pytest.fixture(params=["sqlite", "postgresql"])
def migrated_app(request, fresh_database_url):
    """An app on a new database, migrated to the head, with real commits."""
    from tests.conftest import make_migrated_app

    if request.param == "postgresql" and not PG_URL:
        pytest.skip("TEST_DATABASE_URL is not set: PostgreSQL runs skipped")
    url = fresh_database_url(request.param, "receipts")
    app = make_migrated_app(url)
    yield app
    with app.app_context():
        db.engine.dispose()
    if request.param == "postgresql":
        admin = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{sa.make_url(url).database}" WITH (FORCE)'))
        admin.dispose()


def _flask_db(app, *args: str):
    return app.test_cli_runner().invoke(args=["db", *args])


def _scalar(app, sql: str, **params):
    with app.app_context(), db.engine.connect() as conn:
        return conn.execute(sa.text(sql), params).scalar()


def _refused_outside(app, sql: str, **params) -> None:
    with app.app_context(), db.engine.connect() as conn:
        with pytest.raises(sa.exc.DatabaseError), conn.begin():
            conn.execute(sa.text(sql), params)


BEFORE = "4e8a1f0c2b77"


def test_migration_keeps_receipts_and_their_guard_down_and_up(migrated_app):
    app = migrated_app
    with app.test_request_context():
        fund = make_fund(db.session, "COMM", name="幸福社区微基金")
        donation = gift(db.session, fund, "50.00", donor=make_donor(db.session), issue=True)
        receipt_id = donation.active_receipt.id
        db.session.commit()
        db.session.remove()

    result = _flask_db(app, "downgrade", BEFORE)
    assert result.exit_code == 0, result.output + repr(result.exception)
    assert _scalar(app, "SELECT count(*) FROM receipts WHERE id = :id AND donation_id IS NOT NULL", id=receipt_id) == 1
    _refused_outside(app, "UPDATE receipts SET amount = amount + 1 WHERE id = :id", id=receipt_id)

    result = _flask_db(app, "upgrade")
    assert result.exit_code == 0, result.output + repr(result.exception)
    assert _scalar(app, "SELECT count(*) FROM receipts WHERE id = :id AND enterprise_payment_id IS NULL",
                   id=receipt_id) == 1
    _refused_outside(app, "UPDATE receipts SET amount = amount + 1 WHERE id = :id", id=receipt_id)
    _refused_outside(app, "DELETE FROM receipts WHERE id = :id", id=receipt_id)

    with app.test_request_context():  # once an enterprise receipt exists, the schema cannot go back
        fund = db.session.scalar(select(Fund).where(Fund.code == "COMM"))
        issue_enterprise_receipt(db.session, gift_payment(db.session, fund), None)
        db.session.commit()
        db.session.remove()
    result = _flask_db(app, "downgrade", BEFORE)
    assert result.exit_code != 0 and "enterprise payments" in (result.output + repr(result.exception))
