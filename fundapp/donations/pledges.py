"""Pledges: record a pledge as a receivable, settle it with payments, reverse it.

    pledge            Dr 1122 其他应收款        Cr 4101 捐赠收入      (journal key "pledge:<key>")
    pledge payment    Dr 1001 / 1002 / 1009    Cr 1122              (journal key "pledge-payment:<key>")

A payment is a donation row with `pledge_id` set; it never takes the pledge beyond its amount (checked under a
row lock on the pledge, and by a CHECK on `paid_amount`). A pledge gets no receipt; each payment does. A payment
is corrected by reversing it (services.reverse_donation reopens the pledge) and recording the right one.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from fundapp.audit.services import AuditTag, record_event
from fundapp.db import utcnow
from fundapp.donations.errors import DonationError
from fundapp.donations.models import (
    DONATION_INCOME,
    METHOD_ACCOUNTS,
    PLEDGES_RECEIVABLE,
    Donation,
    Donor,
    Pledge,
    PledgeStatus,
)
from fundapp.donations.receipts import issue_receipt
from fundapp.donations.services import (
    MONEY_METHODS,
    DonationInput,
    _audit_donation,
    _check_amount,
    _check_date,
    _check_donor,
    _check_fund,
    _check_key,
    _check_reason,
    _check_text,
    _lock,
    _new_donation,
    _two_lines,
    find_donation_by_key,
    gift_class,
)
from fundapp.ledger.models import Fund
from fundapp.ledger.services import books_text, post_entry, reverse_entry


@dataclass
class PledgeInput:
    donor: Donor
    fund: Fund
    pledged_on: dt.date
    amount: Decimal
    restricted: bool | None = None
    purpose: str = ""
    due_on: dt.date | None = None
    key: str = field(default_factory=lambda: str(uuid.uuid4()))


@dataclass
class PaymentInput:
    pledge: Pledge
    received_on: dt.date
    amount: Decimal
    method: str
    reference: str = ""
    key: str = field(default_factory=lambda: str(uuid.uuid4()))


def record_pledge(session: Session, data: PledgeInput, actor: Any | None, today: dt.date | None = None) -> Pledge:
    """Record a pledge as a receivable: Dr 1122 / Cr 4101 in the fund. Idempotent on `data.key`."""
    _check_key(data.key)
    _check_amount(data.amount)
    _check_date(data.pledged_on, today)
    _check_fund(data.fund)
    if data.donor is None:
        raise DonationError(_("A pledge needs a donor."))
    _check_donor(data.donor)
    _check_text(data.purpose or "", "")
    if data.due_on is not None and data.due_on < data.pledged_on:
        raise DonationError(_("The due date cannot be before the pledge date."))
    klass = gift_class(data.fund, data.restricted, data.purpose or "")
    existing = session.scalar(select(Pledge).where(Pledge.key == data.key))
    if existing is not None:
        return existing
    lines = _two_lines(session, PLEDGES_RECEIVABLE, DONATION_INCOME, data.fund, data.amount, klass)
    entry = post_entry(session, effective_date=data.pledged_on,
                       memo=books_text("Pledge %(ref)s to fund %(fund)s", ref=data.key[:8], fund=data.fund.code),
                       lines=lines, idempotency_key=f"pledge:{data.key}", source_type="pledge",
                       source_id=data.key[:64], author=actor)
    existing = session.scalar(select(Pledge).where(Pledge.key == data.key))
    if existing is not None:
        return existing
    pledge = Pledge(key=data.key, donor=data.donor, fund=data.fund, pledged_on=data.pledged_on, due_on=data.due_on,
                    amount=data.amount, net_asset_class=klass, purpose=(data.purpose or "").strip(),
                    entry_id=entry.id, created_by_id=getattr(actor, "id", None))
    session.add(pledge)
    session.flush()
    record_event(session, AuditTag.pledge_recorded, actor, "pledge", pledge.id, after={
        "key": pledge.key, "donor": pledge.donor_id, "fund": data.fund.code, "amount": pledge.amount,
        "class": klass, "date": pledge.pledged_on, "due": pledge.due_on, "entry": entry.id})
    return pledge


def _check_payment(pledge: Pledge, data: PaymentInput, today: dt.date | None) -> None:
    _check_key(data.key)
    _check_amount(data.amount)
    _check_date(data.received_on, today)
    _check_text("", data.reference or "")
    if data.method not in MONEY_METHODS:
        raise DonationError(_("A pledge is paid in cash, by bank transfer or online."))
    if pledge.status == PledgeStatus.reversed.value:
        raise DonationError(_("This pledge was reversed; it takes no payments."))
    if data.received_on < pledge.pledged_on:
        raise DonationError(_("A payment cannot be dated before its pledge."))
    if data.amount > pledge.outstanding:
        raise DonationError(_("The payment is more than the %(amount)s still outstanding on this pledge.",
                              amount=pledge.outstanding))


def record_pledge_payment(session: Session, data: PaymentInput, actor: Any | None, *, issue: bool = False,
                          today: dt.date | None = None) -> Donation:
    """Settle (part of) a pledge: Dr cash/bank/online / Cr 1122. Never beyond the outstanding amount."""
    pledge = _lock(session, Pledge, data.pledge.id)
    existing = find_donation_by_key(session, data.key)  # checked under the lock: a double submit waits here
    if existing is not None:
        return existing
    _check_payment(pledge, data, today)
    _check_fund(pledge.fund)
    gift = DonationInput(fund=pledge.fund, received_on=data.received_on, amount=data.amount, method=data.method,
                         donor=pledge.donor, purpose=pledge.purpose, reference=data.reference, key=data.key)
    lines = _two_lines(session, METHOD_ACCOUNTS[data.method], PLEDGES_RECEIVABLE, pledge.fund, data.amount,
                       pledge.net_asset_class)
    entry = post_entry(session, effective_date=data.received_on,
                       memo=books_text("Payment %(ref)s on pledge %(pledge)s", ref=data.key[:8], pledge=pledge.key[:8]),
                       lines=lines, idempotency_key=f"pledge-payment:{data.key}", source_type="pledge-payment",
                       source_id=data.key[:64], author=actor)
    donation = _new_donation(gift, pledge.net_asset_class, entry.id, actor, pledge=pledge)
    session.add(donation)
    pledge.paid_amount += data.amount
    if pledge.paid_amount == pledge.amount:
        pledge.status = PledgeStatus.fulfilled.value
    session.flush()
    _audit_donation(session, donation, actor)
    if issue:
        issue_receipt(session, donation, actor)
    return donation


def reverse_pledge(session: Session, pledge: Pledge, reason: str, actor: Any | None,
                   on: dt.date | None = None) -> Pledge:
    """Reverse a pledge recorded in error (or withdrawn). Its payments must be reversed first."""
    reason = _check_reason(reason)
    pledge = _lock(session, Pledge, pledge.id)
    if pledge.status == PledgeStatus.reversed.value:
        raise DonationError(_("This pledge was already reversed."))
    if pledge.paid_amount > 0:
        raise DonationError(_("This pledge has payments; reverse them first."))
    reversal = reverse_entry(session, pledge.entry, reason=reason, actor=actor, effective_date=on)
    pledge.status, pledge.reversal_entry_id = PledgeStatus.reversed.value, reversal.id
    pledge.reversal_reason, pledge.reversed_at = reason, utcnow()
    pledge.reversed_by_id = getattr(actor, "id", None)
    session.flush()
    record_event(session, AuditTag.pledge_reversed, actor, "pledge", pledge.id,
                 before={"status": PledgeStatus.open.value},
                 after={"status": pledge.status, "reason": reason, "reversal_entry": reversal.id})
    return pledge
