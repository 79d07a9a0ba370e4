"""Official receipts (公益事业捐赠票据): numbering, issue, void.

Rules:
- A receipt is issued for a donation that was received: money, goods in kind, or a payment on a pledge.
  A pledge itself gets none (nothing was given yet); each payment on it gets its own receipt.
- An anonymous gift (no donor) gets none: a receipt names its payer.
- Numbers run 1, 2, 3 ... per calendar year of the issue date, without gaps. The next number comes
  from a per-year counter row incremented with `UPDATE ... RETURNING` in the issuing transaction: on
  PostgreSQL the row lock makes concurrent issuers wait for each other, and a rolled-back issue rolls
  its number back too; SQLite serialises writers. The database refuses any other change to a counter.
- A receipt stores the values it was printed with; only its void fields can be filled in, once. A void
  receipt keeps its number and shows 作废 with the reason. At most one valid receipt per donation.
- The check code is the first 8 hex digits of an HMAC-SHA256, keyed with SECRET_KEY, of the printed fields.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from fundapp.audit.services import AuditTag, record_event
from fundapp.dates import local_today
from fundapp.db import utcnow
from fundapp.donations.errors import DonationError
from fundapp.donations.models import Donation, DonationStatus, Receipt, ReceiptCounter, ValuationBasis

DEFAULT_FOUNDATION_NAME = "社区基金会"
# Printed on the receipt (a Chinese statutory document, not user interface text).
BASIS_WORDS = {
    ValuationBasis.invoice.value: "发票",
    ValuationBasis.customs.value: "报关单",
    ValuationBasis.agreement.value: "捐赠协议",
    ValuationBasis.fair_value.value: "公允价值",
}


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
    issued_on = issued_on or local_today()
    if issued_on < donation.received_on:
        raise DonationError(_("A receipt cannot be dated before the gift."))
    config = current_app.config
    receipt = Receipt(
        year=issued_on.year, number=next_receipt_number(session, issued_on.year), donation_id=donation.id,
        issued_on=issued_on, issued_by_id=getattr(actor, "id", None),
        issuer_name=(getattr(actor, "display_name", "") or "")[:100],
        foundation_name=config.get("FOUNDATION_NAME") or DEFAULT_FOUNDATION_NAME,
        foundation_reg_no=config.get("FOUNDATION_REG_NO") or "",
        payer_name=donation.donor.name, payer_id_code=donation.donor.id_code, amount=donation.amount,
        donation_date=donation.received_on, method=donation.method, item=printed_item(donation),
        in_kind_details=printed_in_kind(donation),
    )
    receipt.check_code = check_code(receipt_check_fields(receipt))
    session.add(receipt)
    session.flush()
    record_event(session, AuditTag.receipt_issued, actor, "receipt", receipt.id, after={
        "number": receipt.label, "donation": donation.id, "payer": receipt.payer_name, "amount": receipt.amount,
        "check_code": receipt.check_code})
    return receipt


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
    """Void a receipt (e.g. the payer's name was wrong) and issue a new one for the same donation."""
    void_receipt(session, receipt, reason, actor)
    return issue_receipt(session, receipt.donation, actor)


def donations_missing_receipts(session: Session, year: int) -> list[Donation]:
    """Recorded, named gifts received in `year` that have no valid receipt, oldest first."""
    has_valid = select(Receipt.id).where(Receipt.donation_id == Donation.id, Receipt.void_at.is_(None)).exists()
    stmt = (
        select(Donation)
        .where(Donation.received_on.between(dt.date(year, 1, 1), dt.date(year, 12, 31)),
               Donation.status == DonationStatus.recorded.value, Donation.donor_id.is_not(None), ~has_valid)
        .order_by(Donation.received_on, Donation.id)
    )
    return list(session.scalars(stmt))


def issue_missing_receipts(session: Session, year: int, actor: Any | None,
                           issued_on: dt.date | None = None) -> list[Receipt]:
    """Issue a receipt for every gift of `year` that lacks one (the year-end batch)."""
    missing = donations_missing_receipts(session, year)
    return [issue_receipt(session, donation, actor, issued_on) for donation in missing]
