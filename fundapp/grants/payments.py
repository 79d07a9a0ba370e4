"""Disbursing an award's tranches, with a second approver above GRANT_SECOND_APPROVAL_ABOVE (maker-checker).

    request     finance asks to pay the next tranche, in full; idempotent on the form's key. Up to the limit the
                money is paid at once; above it the payment waits (nothing posted) and the other finance users
                are told; a second finance user approves it (the maker cannot: the DB CHECK four_eyes backs this)
                or rejects it with a reason (the tranche can then be requested again)
    payment     Dr 2209 其他应付款 / Cr 1002 银行存款 in the award's fund
                journal key "grant-payment:<key>", source "grant_payment"; author the maker, approver the checker

Refused: a closed award, more than the award still owes, a tranche paid or waiting for approval, a tranche
before which another is unpaid, a tranche whose report was not accepted. The award row is locked first, so two
payments of one award run one after the other and the second sees what the first did.
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
from fundapp.auth.models import User, UserRole
from fundapp.dates import local_today
from fundapp.db import utcnow
from fundapp.forms import valid_key
from fundapp.grants.awards import award_tranches, check_day, lock_award, tell_grantee
from fundapp.grants.decisions import BANK, PAYABLE, account
from fundapp.grants.errors import GrantError
from fundapp.grants.models import (
    Award,
    AwardStatus,
    GrantReport,
    PaymentStatus,
    ReportStatus,
    Tranche,
    TranchePayment,
    TrancheStatus,
)
from fundapp.ledger.services import LineSpec, books_text, post_entry
from fundapp.money import fmt
from fundapp.notify.services import notify

PAYERS = ("finance",)
REFERENCE_MAX = 100
REASON_MAX = 300


@dataclass
class PaymentInput:
    tranche: Tranche
    paid_on: dt.date
    bank_reference: str = ""
    amount: Decimal | None = None  # as typed on the form, to confirm; a tranche is always paid in full
    key: str = field(default_factory=lambda: str(uuid.uuid4()))


def second_approval_above() -> Decimal:
    return Decimal(str(current_app.config.get("GRANT_SECOND_APPROVAL_ABOVE", "50000")))


def find_payment_by_key(session: Session, key: str) -> TranchePayment | None:
    return session.scalar(select(TranchePayment).where(TranchePayment.key == key))


def payment_link(payment: TranchePayment) -> str:
    return f"/grants/payments/{payment.id}"


def finance_user_ids(session: Session, *, besides: int | None = None) -> list[int]:
    stmt = (select(User.id).join(UserRole, UserRole.user_id == User.id)
            .where(UserRole.role.in_(PAYERS), User.is_enabled.is_(True)).order_by(User.id))
    return [user_id for user_id in session.scalars(stmt) if user_id != besides]


def report_accepted_for(session: Session, tranche: Tranche) -> bool:
    return session.scalar(select(GrantReport.id).where(
        GrantReport.award_id == tranche.award_id, GrantReport.tranche_id == tranche.id,
        GrantReport.status == ReportStatus.accepted.value).limit(1)) is not None


# --- checks -------------------------------------------------------------------------------------------------------


def _check_tranche(session: Session, award: Award, tranche: Tranche, tranches: list[Tranche]) -> None:
    seq = tranche.seq
    if tranche.status == TrancheStatus.paid.value:
        raise GrantError(_("Tranche %(seq)d was already paid.", seq=seq))
    if tranche.status == TrancheStatus.awaiting_approval.value:
        raise GrantError(_("A payment of tranche %(seq)d is already waiting for a second approver.", seq=seq))
    if tranche.status == TrancheStatus.cancelled.value:
        raise GrantError(_("Tranche %(seq)d was cancelled.", seq=seq))
    earlier = next((t for t in tranches if t.seq < seq and t.status != TrancheStatus.paid.value), None)
    if earlier is not None:
        raise GrantError(_("Tranche %(earlier)d is paid before tranche %(seq)d: tranches are paid in order.",
                           earlier=earlier.seq, seq=seq))
    if tranche.requires_report and not report_accepted_for(session, tranche):
        raise GrantError(_("Tranche %(seq)d waits for the grantee's report: it is paid once that report is "
                           "accepted.", seq=seq))


def _check_request(session: Session, award: Award, tranche: Tranche, tranches: list[Tranche], data: PaymentInput,
                   today: dt.date) -> None:
    if award.status != AwardStatus.active.value:
        raise GrantError(_("Award %(number)s is closed: nothing more is paid on it.", number=award.number))
    amount = tranche.amount if data.amount is None else data.amount
    if not isinstance(amount, Decimal) or not amount.is_finite() or amount <= 0:
        raise GrantError(_("Enter a positive amount."))
    if max(amount, tranche.amount) > award.outstanding:
        raise GrantError(_("A payment of %(amount)s is more than the %(outstanding)s still owed on award "
                           "%(number)s.", amount=fmt(max(amount, tranche.amount)), outstanding=fmt(award.outstanding),
                           number=award.number))
    if amount != tranche.amount:
        raise GrantError(_("Tranche %(seq)d is paid in full: %(amount)s.", seq=tranche.seq, amount=fmt(tranche.amount)))
    _check_tranche(session, award, tranche, tranches)
    check_day(data.paid_on, award, today, _("Enter the payment date."),
              _("A payment cannot be dated in the future."),
              _("A payment cannot be dated before the award was made (%(date)s).", date=award.awarded_on.isoformat()))
    if len((data.bank_reference or "").strip()) > REFERENCE_MAX:
        raise GrantError(_("The bank reference is too long (at most %(n)d characters).", n=REFERENCE_MAX))


# --- paying -------------------------------------------------------------------------------------------------------


def _pay(session: Session, award: Award, tranche: Tranche, payment: TranchePayment, maker: Any | None,
         checker: Any | None) -> None:
    """Post the payment and mark it, its tranche and the award paid."""
    fund = award.fund
    lines = [LineSpec(account(session, PAYABLE), fund, payment.amount),
             LineSpec(account(session, BANK), fund, -payment.amount)]
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        memo = books_text("Grant %(number)s, tranche %(seq)d paid to %(org)s", number=award.number, seq=tranche.seq,
                          org=award.organisation.name)
    entry = post_entry(session, effective_date=payment.paid_on, memo=memo[:500], lines=lines,
                       idempotency_key=f"grant-payment:{payment.key}", source_type="grant_payment",
                       source_id=payment.key[:64], author=maker, approver=checker)
    payment.status, payment.entry_id = PaymentStatus.paid.value, entry.id
    tranche.status = TrancheStatus.paid.value
    award.paid_amount += payment.amount
    session.flush()
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        subject = _("Grant %(number)s: tranche %(seq)d of %(amount)s was paid", number=award.number,
                    seq=tranche.seq, amount=fmt(payment.amount))
        body = _("Paid on %(date)s to your bank account; bank reference %(ref)s.", date=payment.paid_on.isoformat(),
                 ref=payment.bank_reference or "—")
    tell_grantee(session, award, "grant_payment", subject, body)


def request_payment(session: Session, data: PaymentInput, actor: Any | None, today: dt.date | None = None
                    ) -> TranchePayment:
    """Pay `data.tranche` (at once up to the limit, else after a second approval). Idempotent on `data.key`."""
    if not valid_key(data.key):
        raise GrantError(_("The form has no valid submission key; reload it and try again."))
    award = lock_award(session, data.tranche.award_id)
    existing = find_payment_by_key(session, data.key)  # under the lock: a double submit waits here, then finds it
    if existing is not None:
        return existing
    tranches = award_tranches(session, award.id)
    tranche = next((t for t in tranches if t.id == data.tranche.id), None)
    if tranche is None:
        raise GrantError(_("The schedule of award %(number)s changed: reload the page.", number=award.number))
    _check_request(session, award, tranche, tranches, data, today or local_today())
    needs_checker = tranche.amount > second_approval_above()
    payment = TranchePayment(key=data.key, tranche_id=tranche.id, award_id=award.id, amount=tranche.amount,
                             paid_on=data.paid_on, bank_reference=(data.bank_reference or "").strip(),
                             status=PaymentStatus.awaiting_approval.value, requested_by_id=getattr(actor, "id", None))
    if needs_checker:
        session.add(payment)
        tranche.status = TrancheStatus.awaiting_approval.value
        session.flush()
        _ask_checkers(session, award, tranche, payment, actor)
    else:
        _pay(session, award, tranche, payment, actor, None)  # sets status paid before the row is inserted
        session.add(payment)
        session.flush()
    record_event(session, AuditTag.tranche_payment_requested, actor, "tranche_payment", payment.id, after={
        "award": award.id, "tranche": tranche.seq, "amount": payment.amount, "paid_on": payment.paid_on,
        "reference": payment.bank_reference, "status": payment.status, "entry": payment.entry_id,
        "key": payment.key})
    return payment


def _ask_checkers(session: Session, award: Award, tranche: Tranche, payment: TranchePayment,
                  maker: Any | None) -> None:
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        subject = _("Payment of %(amount)s on grant %(number)s needs your approval", amount=fmt(payment.amount),
                    number=award.number)
        body = _("Tranche %(seq)d to %(org)s, requested by %(maker)s. Payments above %(limit)s need a second "
                 "finance user.", seq=tranche.seq, org=award.organisation.name,
                 maker=getattr(maker, "display_name", "—"), limit=fmt(second_approval_above()))
    notify(session, finance_user_ids(session, besides=getattr(maker, "id", None)), "payment_approval", subject, body,
           payment_link(payment))


# --- the second approver ------------------------------------------------------------------------------------------


def _waiting(session: Session, payment: TranchePayment, actor: Any | None) -> tuple[Award, TranchePayment]:
    award = lock_award(session, payment.award_id)
    payment = session.execute(select(TranchePayment).where(TranchePayment.id == payment.id)
                              .execution_options(populate_existing=True)).scalar_one()
    if payment.status != PaymentStatus.awaiting_approval.value:
        raise GrantError(_("This payment is no longer waiting for approval."))
    if actor is None or not actor.has_role(*PAYERS):
        raise GrantError(_("Only a finance user approves or rejects a payment."))
    if actor.id == payment.requested_by_id:
        raise GrantError(_("You requested this payment: another finance user must approve or reject it."))
    return award, payment


def approve_payment(session: Session, payment: TranchePayment, actor: Any) -> TranchePayment:
    """The second finance user approves: the payment is posted and the tranche paid."""
    award, payment = _waiting(session, payment, actor)
    tranche = next(t for t in award_tranches(session, award.id) if t.id == payment.tranche_id)
    if award.status != AwardStatus.active.value:
        raise GrantError(_("Award %(number)s is closed: nothing more is paid on it.", number=award.number))
    if payment.amount > award.outstanding:
        raise GrantError(_("A payment of %(amount)s is more than the %(outstanding)s still owed on award "
                           "%(number)s.", amount=fmt(payment.amount), outstanding=fmt(award.outstanding),
                           number=award.number))
    payment.approved_by_id, payment.approved_at = actor.id, utcnow()
    _pay(session, award, tranche, payment, payment.requested_by, actor)
    record_event(session, AuditTag.tranche_payment_approved, actor, "tranche_payment", payment.id,
                 before={"status": PaymentStatus.awaiting_approval.value},
                 after={"status": payment.status, "entry": payment.entry_id, "amount": payment.amount})
    _tell_maker(session, award, payment)
    return payment


def reject_payment(session: Session, payment: TranchePayment, reason: str, actor: Any) -> TranchePayment:
    """The second finance user refuses: nothing is posted; the tranche can be requested again."""
    reason = (reason or "").strip()
    if not reason:
        raise GrantError(_("Say why the payment is rejected."))
    if len(reason) > REASON_MAX:
        raise GrantError(_("The reason is too long (at most %(n)d characters).", n=REASON_MAX))
    award, payment = _waiting(session, payment, actor)
    tranche = next(t for t in award_tranches(session, award.id) if t.id == payment.tranche_id)
    payment.status, payment.rejection_reason = PaymentStatus.rejected.value, reason
    payment.approved_by_id, payment.approved_at = actor.id, utcnow()  # the checker's decision, either way
    tranche.status = TrancheStatus.scheduled.value
    session.flush()
    record_event(session, AuditTag.tranche_payment_rejected, actor, "tranche_payment", payment.id,
                 before={"status": PaymentStatus.awaiting_approval.value},
                 after={"status": payment.status, "reason": reason})
    _tell_maker(session, award, payment, reason)
    return payment


def _tell_maker(session: Session, award: Award, payment: TranchePayment, reason: str = "") -> None:
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        if payment.status == PaymentStatus.paid.value:
            subject = _("Your payment of %(amount)s on grant %(number)s was approved", amount=fmt(payment.amount),
                        number=award.number)
            body = ""
        else:
            subject = _("Your payment of %(amount)s on grant %(number)s was rejected", amount=fmt(payment.amount),
                        number=award.number)
            body = reason
    notify(session, [payment.requested_by_id], "grant_payment", subject, body, payment_link(payment))
