"""Official receipts (公益事业捐赠票据): numbering, issue, void, for donations and enterprises' gift payments.

Rules:
- A receipt is issued for a donation that was received: money, goods in kind, or a payment on a pledge.
  A pledge itself gets none (nothing was given yet); each payment on it gets its own receipt.
- An anonymous gift (no donor) gets none: a receipt names its payer.
- A community social enterprise's payment of its share gets one only under a gift agreement (捐赠, 4101): a
  return on a shareholding or a payment for services is not a gift. The payment owns its journal entry (there
  is no Donation row); the receipt points at the payment, names the enterprise and its unified social credit
  code, and the payment cannot be reversed while the receipt is valid (void it first).
- Numbers run 1, 2, 3 ... per calendar year of the issue date, without gaps. The next number comes
  from a per-year counter row incremented with `UPDATE ... RETURNING` in the issuing transaction: on
  PostgreSQL the row lock makes concurrent issuers wait for each other, and a rolled-back issue rolls
  its number back too; SQLite serialises writers. The database refuses any other change to a counter.
- A receipt stores the values it was printed with; only its void fields can be filled in, once. A void
  receipt keeps its number and shows 作废 with the reason. At most one valid receipt per gift.
- The check code is the first 8 hex digits of an HMAC-SHA256, keyed with SECRET_KEY, of the printed fields.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, selectinload

from fundapp.audit.services import AuditTag, record_event
from fundapp.dates import local_today
from fundapp.db import utcnow
from fundapp.donations.errors import DonationError
from fundapp.donations.models import (
    Donation,
    DonationMethod,
    DonationStatus,
    Receipt,
    ReceiptCounter,
    ValuationBasis,
)
from fundapp.enterprises.models import (
    Agreement,
    EnterprisePayment,
    Nature,
    PaymentStatus,
    Periodicity,
    RevenueReport,
)
from fundapp.enterprises.reports import lock_report

DEFAULT_FOUNDATION_NAME = "社区基金会"
# Printed on the receipt (a Chinese statutory document, not user interface text).
BASIS_WORDS = {
    ValuationBasis.invoice.value: "发票",
    ValuationBasis.customs.value: "报关单",
    ValuationBasis.agreement.value: "捐赠协议",
    ValuationBasis.fair_value.value: "公允价值",
}
ENTERPRISE_GIFT_WORDS = "社区社会企业反哺捐赠"


def next_receipt_number(session: Session, year: int) -> int:
    """Take the next number of `year` (1 for the first). Holds the counter row until the transaction ends."""
    bump = (
        update(ReceiptCounter)
        .where(ReceiptCounter.year == year)
        .values(last_number=ReceiptCounter.last_number + 1)
        .returning(ReceiptCounter.last_number)
        .execution_options(synchronize_session=False)
    )
    number = session.execute(bump).scalar_one_or_none()
    if number is None:
        insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
        session.execute(insert(ReceiptCounter).values(year=year, last_number=0).on_conflict_do_nothing())
        number = session.execute(bump).scalar_one()
    return number


def check_code(fields: list[str]) -> str:
    secret = current_app.config["SECRET_KEY"].encode()
    digest = hmac.new(secret, "\x1f".join(fields).encode(), hashlib.sha256).hexdigest()
    return digest[:8].upper()


def receipt_check_fields(receipt: Receipt) -> list[str]:
    return [receipt.foundation_reg_no, str(receipt.year), str(receipt.number), receipt.payer_name,
            receipt.payer_id_code, str(receipt.amount), receipt.issued_on.isoformat(),
            receipt.donation_date.isoformat()]


def check_code_valid(receipt: Receipt) -> bool:
    return hmac.compare_digest(receipt.check_code, check_code(receipt_check_fields(receipt)))


def printed_item(donation: Donation) -> str:
    item = donation.fund.name
    if donation.purpose:
        item = f"{item}：{donation.purpose}"
    return item[:500]


def printed_in_kind(donation: Donation) -> str:
    if not donation.is_in_kind:
        return ""
    goods = f"{donation.item_description} × {donation.quantity}{donation.unit}"
    return f"{goods}（估值依据：{BASIS_WORDS.get(donation.valuation_basis, '')}）"[:600]


def printed_period(start: dt.date, periodicity: str) -> str:
    """The period an enterprise's share was for, as printed: 2025年度, 2025年第1季度 or 2025年3月."""
    if periodicity == Periodicity.yearly.value:
        return f"{start.year}年度"
    if periodicity == Periodicity.quarterly.value:
        return f"{start.year}年第{(start.month - 1) // 3 + 1}季度"
    return f"{start.year}年{start.month}月"


def printed_enterprise_item(payment: EnterprisePayment) -> str:
    report = payment.report
    period = printed_period(report.period_start, report.agreement.periodicity)
    return f"{payment.fund.name}：{ENTERPRISE_GIFT_WORDS}（{period}）"[:500]


@dataclass(frozen=True)
class Printed:
    """What a receipt prints about one gift and its payer (the rest comes from the foundation and the issue)."""

    payer_name: str
    payer_id_code: str
    amount: Decimal
    donation_date: dt.date
    method: str
    item: str
    in_kind_details: str = ""


def _issue(session: Session, printed: Printed, actor: Any | None, issued_on: dt.date | None,
           **source: int) -> Receipt:
    """Number, print, store and audit a receipt. `source` is its one gift: donation_id= or enterprise_payment_id=.

    The one way a receipt is made: callers lock their gift and check that it may be receipted first."""
    issued_on = issued_on or local_today()
    if issued_on < printed.donation_date:
        raise DonationError(_("A receipt cannot be dated before the gift."))
    config = current_app.config
    receipt = Receipt(
        year=issued_on.year, number=next_receipt_number(session, issued_on.year), issued_on=issued_on,
        issued_by_id=getattr(actor, "id", None), issuer_name=(getattr(actor, "display_name", "") or "")[:100],
        foundation_name=config.get("FOUNDATION_NAME") or DEFAULT_FOUNDATION_NAME,
        foundation_reg_no=config.get("FOUNDATION_REG_NO") or "", **asdict(printed), **source,
    )
    receipt.check_code = check_code(receipt_check_fields(receipt))
    session.add(receipt)
    session.flush()
    record_event(session, AuditTag.receipt_issued, actor, "receipt", receipt.id, after={
        "number": receipt.label, **{name.removesuffix("_id"): value for name, value in source.items()},
        "payer": receipt.payer_name, "amount": receipt.amount, "check_code": receipt.check_code})
    return receipt


# --- donations ----------------------------------------------------------------------------------------------------


def _refuse_unless_receiptable(session: Session, donation: Donation) -> None:
    if donation.status != DonationStatus.recorded.value:
        raise DonationError(_("A reversed donation gets no receipt."))
    if donation.donor is None:
        raise DonationError(_("An anonymous gift has no payer to name on a receipt."))
    valid = session.scalar(select(Receipt).where(Receipt.donation_id == donation.id, Receipt.void_at.is_(None)))
    if valid is not None:
        raise DonationError(_("This donation already has receipt %(number)s.", number=valid.label))


def _lock_donation(session: Session, donation: Donation) -> Donation:
    stmt = select(Donation).where(Donation.id == donation.id).with_for_update(of=Donation)
    return session.execute(stmt.execution_options(populate_existing=True)).scalar_one()


def issue_receipt(session: Session, donation: Donation, actor: Any | None, issued_on: dt.date | None = None) -> Receipt:
    """Issue the next receipt of the year for `donation`."""
    donation = _lock_donation(session, donation)
    _refuse_unless_receiptable(session, donation)
    printed = Printed(payer_name=donation.donor.name, payer_id_code=donation.donor.id_code, amount=donation.amount,
                      donation_date=donation.received_on, method=donation.method, item=printed_item(donation),
                      in_kind_details=printed_in_kind(donation))
    return _issue(session, printed, actor, issued_on, donation_id=donation.id)


# --- payments of an enterprise's gift share -----------------------------------------------------------------------


def valid_enterprise_receipt(session: Session, payment_id: int) -> Receipt | None:
    """The payment's receipt that is not void, if any."""
    return session.scalar(select(Receipt).where(Receipt.enterprise_payment_id == payment_id,
                                                Receipt.void_at.is_(None)))


def _lock_enterprise_payment(session: Session, payment: EnterprisePayment) -> EnterprisePayment:
    """Lock the payment's report (as recording and reversing its payments do), then read the payment afresh."""
    lock_report(session, payment.report_id)
    stmt = select(EnterprisePayment).where(EnterprisePayment.id == payment.id)
    return session.execute(stmt.execution_options(populate_existing=True)).scalar_one()


def _refuse_unless_enterprise_receiptable(session: Session, payment: EnterprisePayment) -> None:
    if not payment.report.agreement.receipt_allowed:
        raise DonationError(_("No donation receipt: this money is not a gift."))
    if payment.is_reversed:
        raise DonationError(_("A reversed payment gets no receipt."))
    valid = valid_enterprise_receipt(session, payment.id)
    if valid is not None:
        raise DonationError(_("This payment already has receipt %(number)s.", number=valid.label))
    enterprise = payment.report.enterprise
    if not enterprise.credit_code.strip():
        raise DonationError(_("Enter the unified social credit code of %(name)s before issuing its receipt.",
                              name=enterprise.name))


def issue_enterprise_receipt(session: Session, payment: EnterprisePayment, actor: Any | None,
                             issued_on: dt.date | None = None) -> Receipt:
    """Issue the next receipt of the year for a payment of an enterprise's gift share (反哺 under a gift agreement).

    The payment owns its journal entry; the receipt only records that the money was a gift."""
    payment = _lock_enterprise_payment(session, payment)
    _refuse_unless_enterprise_receiptable(session, payment)
    enterprise = payment.report.enterprise
    printed = Printed(payer_name=enterprise.name, payer_id_code=enterprise.credit_code.strip(), amount=payment.amount,
                      donation_date=payment.received_on, method=DonationMethod.bank_transfer.value,
                      item=printed_enterprise_item(payment))
    return _issue(session, printed, actor, issued_on, enterprise_payment_id=payment.id)


# --- voiding ------------------------------------------------------------------------------------------------------


def void_receipt(session: Session, receipt: Receipt, reason: str, actor: Any | None) -> Receipt:
    """Void a receipt with a reason. It keeps its number and stays listed, marked 作废."""
    reason = (reason or "").strip()
    if not reason:
        raise DonationError(_("Say why the receipt is void."))
    if len(reason) > 300:
        raise DonationError(_("The reason is too long (at most %(n)d characters).", n=300))
    if receipt.is_void:
        raise DonationError(_("Receipt %(number)s is already void.", number=receipt.label))
    receipt.void_at, receipt.void_reason, receipt.void_by_id = utcnow(), reason, getattr(actor, "id", None)
    session.flush()
    record_event(session, AuditTag.receipt_voided, actor, "receipt", receipt.id,
                 after={"number": receipt.label, "reason": reason})
    return receipt


def reissue_receipt(session: Session, receipt: Receipt, reason: str, actor: Any | None) -> Receipt:
    """Void a receipt (e.g. the payer's name was wrong) and issue a new one for the same gift."""
    void_receipt(session, receipt, reason, actor)
    if receipt.enterprise_payment_id is not None:
        return issue_enterprise_receipt(session, receipt.enterprise_payment, actor)
    return issue_receipt(session, receipt.donation, actor)


# --- the year's missing receipts ----------------------------------------------------------------------------------


def _year(year: int):
    return dt.date(year, 1, 1), dt.date(year, 12, 31)


def donations_missing_receipts(session: Session, year: int) -> list[Donation]:
    """Recorded, named gifts received in `year` that have no valid receipt, oldest first."""
    has_valid = select(Receipt.id).where(Receipt.donation_id == Donation.id, Receipt.void_at.is_(None)).exists()
    stmt = (
        select(Donation)
        .where(Donation.received_on.between(*_year(year)),
               Donation.status == DonationStatus.recorded.value, Donation.donor_id.is_not(None), ~has_valid)
        .order_by(Donation.received_on, Donation.id)
    )
    return list(session.scalars(stmt))


def enterprise_payments_missing_receipts(session: Session, year: int) -> list[EnterprisePayment]:
    """Recorded payments received in `year` under a gift agreement that have no valid receipt, oldest first."""
    has_valid = (select(Receipt.id)
                 .where(Receipt.enterprise_payment_id == EnterprisePayment.id, Receipt.void_at.is_(None)).exists())
    stmt = (
        select(EnterprisePayment)
        .join(RevenueReport, EnterprisePayment.report_id == RevenueReport.id)
        .join(Agreement, RevenueReport.agreement_id == Agreement.id)
        .where(EnterprisePayment.received_on.between(*_year(year)),
               EnterprisePayment.status == PaymentStatus.recorded.value, Agreement.nature == Nature.gift.value,
               ~has_valid)
        .options(selectinload(EnterprisePayment.report))
        .order_by(EnterprisePayment.received_on, EnterprisePayment.id)
    )
    return list(session.scalars(stmt))


def issue_missing_receipts(session: Session, year: int, actor: Any | None,
                           issued_on: dt.date | None = None) -> list[Receipt]:
    """Issue a receipt for every gift of `year` that lacks one (the year-end batch): named donations and payments
    of enterprises' gift shares, in the order they were received."""
    gifts: list[tuple[dt.date, int, int, Donation | EnterprisePayment]] = [
        *((d.received_on, 0, d.id, d) for d in donations_missing_receipts(session, year)),
        *((p.received_on, 1, p.id, p) for p in enterprise_payments_missing_receipts(session, year)),
    ]
    gifts.sort(key=lambda row: row[:3])
    return [issue_receipt(session, gift, actor, issued_on) if isinstance(gift, Donation)
            else issue_enterprise_receipt(session, gift, actor, issued_on) for *_, gift in gifts]
