"""Payments of enterprise shares: record (partial allowed, never beyond what is outstanding) and reverse.

    payment     Dr 1002 银行存款 / Cr 1121 应收账款 in the agreement's fund and class
                journal key "enterprise-payment:<key>" (the form's hidden uuid), source "enterprise_payment"
    reversal    the mirror entry (fundapp.ledger.services.reverse_entry); the report owes the amount again

The report row is locked while a payment is checked and recorded, so two payments cannot both take the last yuan.
Receipts: only a gift agreement's payments may get a donation receipt (fundapp.donations.receipts.
issue_enterprise_receipt, which takes the same report lock). A payment with a valid receipt is not reversed: the
receipt is voided first, so the books never show a receipted gift that was not received.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from fundapp.audit.services import AuditTag, record_event
from fundapp.dates import local_today
from fundapp.db import utcnow
from fundapp.donations.receipts import valid_enterprise_receipt
from fundapp.enterprises.errors import EnterpriseError
from fundapp.enterprises.models import (
    BANK,
    RECEIVABLE,
    EnterprisePayment,
    PaymentStatus,
    ReportStatus,
    RevenueReport,
)
from fundapp.enterprises.periods import period_label
from fundapp.enterprises.reports import account_by_code, check_key, lock_report
from fundapp.ledger.services import LineSpec, books_text, post_entry, reverse_entry
from fundapp.money import CENT, MAX_AMOUNT, fmt


@dataclass
class PaymentInput:
    report: RevenueReport
    received_on: dt.date
    amount: Decimal
    reference: str = ""
    key: str = field(default_factory=lambda: str(uuid.uuid4()))


def find_payment_by_key(session: Session, key: str) -> EnterprisePayment | None:
    return session.scalar(select(EnterprisePayment).where(EnterprisePayment.key == key))


def _check(report: RevenueReport, data: PaymentInput, today: dt.date) -> None:
    amount = data.amount
    if not isinstance(amount, Decimal) or not amount.is_finite() or amount <= 0:
        raise EnterpriseError(_("Enter a positive amount."))
    if amount != amount.quantize(CENT):
        raise EnterpriseError(_("An amount has at most two decimal places."))
    if amount > MAX_AMOUNT:
        raise EnterpriseError(_("The amount is too large."))
    if not isinstance(data.received_on, dt.date) or data.received_on > today:
        raise EnterpriseError(_("A payment cannot be dated in the future."))
    if data.received_on < report.period_start:
        raise EnterpriseError(_("A payment cannot be dated before the period it pays for."))
    if len(data.reference or "") > 100:
        raise EnterpriseError(_("The reference is too long (at most %(n)d characters).", n=100))
    if report.status != ReportStatus.confirmed.value:
        raise EnterpriseError(_("Only the share of a confirmed report can be paid."))
    if amount > report.outstanding:
        raise EnterpriseError(_("The payment is more than the %(amount)s still outstanding on this report.",
                                amount=fmt(report.outstanding)))


def record_payment(session: Session, data: PaymentInput, actor: Any | None, today: dt.date | None = None
                   ) -> EnterprisePayment:
    """Settle (part of) a report's share. Idempotent on `data.key`."""
    check_key(data.key)
    report = lock_report(session, data.report.id)
    existing = find_payment_by_key(session, data.key)  # under the lock: a double submit waits here
    if existing is not None:
        return existing
    _check(report, data, today or local_today())
    agreement = report.agreement
    lines = [LineSpec(account_by_code(session, BANK), agreement.fund, data.amount),
             LineSpec(account_by_code(session, RECEIVABLE), agreement.fund, -data.amount)]
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        memo = books_text("Enterprise #%(id)d payment for %(period)s (report %(report)d)", id=report.enterprise_id,
                 period=period_label(report.period_start, agreement.periodicity), report=report.id)
    entry = post_entry(session, effective_date=data.received_on, memo=memo, lines=lines,
                       idempotency_key=f"enterprise-payment:{data.key}", source_type="enterprise_payment",
                       source_id=data.key[:64], author=actor)
    payment = EnterprisePayment(key=data.key, report_id=report.id, enterprise_id=report.enterprise_id,
                                fund_id=agreement.fund_id, received_on=data.received_on, amount=data.amount,
                                reference=(data.reference or "").strip(), entry_id=entry.id,
                                created_by_id=getattr(actor, "id", None))
    session.add(payment)
    report.paid_amount += data.amount
    session.flush()
    record_event(session, AuditTag.enterprise_payment_recorded, actor, "enterprise_payment", payment.id, after={
        "report": report.id, "enterprise": report.enterprise_id, "amount": payment.amount,
        "date": payment.received_on, "entry": entry.id, "key": payment.key})
    return payment


def reverse_payment(session: Session, payment: EnterprisePayment, reason: str, actor: Any | None,
                    on: dt.date | None = None) -> EnterprisePayment:
    """Reverse a payment recorded in error; the report owes the amount again."""
    reason = (reason or "").strip()
    if not reason:
        raise EnterpriseError(_("Say why it is reversed."))
    if len(reason) > 300:
        raise EnterpriseError(_("The reason is too long (at most %(n)d characters).", n=300))
    report = lock_report(session, payment.report_id)
    session.refresh(payment)
    if payment.is_reversed:
        raise EnterpriseError(_("This payment was already reversed."))
    receipt = valid_enterprise_receipt(session, payment.id)
    if receipt is not None:
        raise EnterpriseError(_("This payment has donation receipt %(number)s: void the receipt first, then reverse "
                                "the payment.", number=receipt.label))
    if on is not None and on < payment.received_on:
        raise EnterpriseError(_("A reversal cannot be dated before the payment."))
    reversal = reverse_entry(session, payment.entry, reason=reason, actor=actor, effective_date=on)
    payment.status, payment.reversal_entry_id = PaymentStatus.reversed.value, reversal.id
    payment.reversal_reason, payment.reversed_at = reason, utcnow()
    payment.reversed_by_id = getattr(actor, "id", None)
    report.paid_amount -= payment.amount
    session.flush()
    record_event(session, AuditTag.enterprise_payment_reversed, actor, "enterprise_payment", payment.id,
                 before={"status": PaymentStatus.recorded.value},
                 after={"status": payment.status, "reason": reason, "reversal_entry": reversal.id})
    return payment
