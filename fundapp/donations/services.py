"""Donation writes: record a gift, reverse it, correct it (pledges and their payments: `pledges.py`).

Every gift posts ONE balanced entry through `fundapp.ledger.services.post_entry`, in the caller's
transaction (services flush, never commit):

    cash / bank transfer / online     Dr 1001 / 1002 / 1009    Cr 4101 捐赠收入
    in-kind (valued)                  Dr 1201 存货              Cr 4101
    pledge                            Dr 1122 其他应收款        Cr 4101
    pledge payment                    Dr 1001 / 1002 / 1009    Cr 1122

Both lines sit in the chosen fund and carry the gift's net-asset class, so each (fund, class) balances.

Restriction rules: a gift takes its fund's restriction unless told otherwise. A gift into a restricted
fund is always restricted (an unrestricted gift there is refused: record it in an unrestricted fund). A
restricted gift may go into an unrestricted fund (e.g. the general fund) only with a purpose saying what
it is restricted to.

Idempotency: the journal key is "donation:<key>" (pledges "pledge:<key>", payments "pledge-payment:<key>")
where <key> is the form's hidden uuid (or an importer's own stable key). Submitting the same key again
returns what was recorded the first time. Journal memos never carry donor names: the ledger is published.
An importer's key holds the bank's transaction reference, which is the payer's data: the books carry a keyed
digest of it instead (`ledger_reference`).
"""

from __future__ import annotations

import datetime as dt
import hmac
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from fundapp.audit.services import AuditTag, record_event
from fundapp.dates import local_today
from fundapp.db import utcnow
from fundapp.donations.errors import DonationError
from fundapp.donations.models import (
    DONATION_INCOME,
    METHOD_ACCOUNTS,
    Donation,
    DonationMethod,
    DonationStatus,
    Donor,
    Pledge,
    PledgeStatus,
    ValuationBasis,
)
from fundapp.donations.receipts import issue_receipt, void_receipt
from fundapp.ledger.models import Account, Fund, FundStatus, NetAssetClass
from fundapp.ledger.services import LineSpec, books_text, post_entry, reverse_entry
from fundapp.money import CENT, MAX_AMOUNT

BASIS_VALUES = {b.value for b in ValuationBasis}
MONEY_METHODS = (DonationMethod.cash.value, DonationMethod.bank_transfer.value, DonationMethod.online.value)
KEY_MAX = 100
IMPORT_KEY_PREFIX = "import:"


def ledger_reference(key: str) -> str:
    """How a gift's key appears in the published ledger (its entry's key and memo).

    A form's key is a random uuid and appears as it is. An importer's key ("import:<bank reference>") would put the
    payer's transaction reference into the public ledger, so it appears as an HMAC of the key under the app's
    secret: stable (the same row always gets the same entry key) and not reversible or guessable from outside.
    Re-imports are recognised by the donation's own key, which stays private."""
    if not key.startswith(IMPORT_KEY_PREFIX):
        return key
    secret = current_app.config["SECRET_KEY"].encode()
    return IMPORT_KEY_PREFIX + hmac.new(secret, key.encode(), "sha256").hexdigest()[:32]


def memo_reference(key: str) -> str:
    """The short reference a gift's journal memo carries (8 characters of its ledger reference)."""
    return ledger_reference(key).removeprefix(IMPORT_KEY_PREFIX)[:8]


@dataclass
class DonationInput:
    """What a gift is. `restricted=None` takes the fund's restriction; `key` defaults to a new uuid."""

    fund: Fund
    received_on: dt.date
    amount: Decimal
    method: str
    donor: Donor | None = None
    restricted: bool | None = None
    purpose: str = ""
    reference: str = ""
    item_description: str = ""
    quantity: str = ""
    unit: str = ""
    valuation_basis: str | None = None
    key: str = field(default_factory=lambda: str(uuid.uuid4()))


# --- lookups --------------------------------------------------------------------------------------


def account_by_code(session: Session, code: str) -> Account:
    """The chart account with `code`, cached on the session (importers post many gifts in one session)."""
    cache = session.info.setdefault("donations.accounts", {})
    account = cache.get(code)
    if account is None or account not in session:
        account = session.scalar(select(Account).where(Account.code == code))
        if account is None or not account.is_active:
            raise DonationError(_("Account %(code)s is missing or inactive in the chart of accounts.", code=code))
        cache[code] = account
    return account


def find_donation_by_key(session: Session, key: str) -> Donation | None:
    return session.scalar(select(Donation).where(Donation.key == key))


# --- validation -----------------------------------------------------------------------------------


def _check_amount(amount: Any) -> None:
    if not isinstance(amount, Decimal) or not amount.is_finite() or amount <= 0:
        raise DonationError(_("Enter a positive amount."))
    if amount != amount.quantize(CENT):
        raise DonationError(_("An amount has at most two decimal places."))
    if amount > MAX_AMOUNT:
        raise DonationError(_("The amount is too large."))


def _check_date(day: Any, today: dt.date | None) -> None:
    if not isinstance(day, dt.date) or isinstance(day, dt.datetime):
        raise DonationError(_("Enter a date as YYYY-MM-DD."))
    if day > (today or local_today()):
        raise DonationError(_("A gift cannot be dated in the future."))


def _check_key(key: str) -> None:
    if not key or len(key) > KEY_MAX:
        raise DonationError(_("The form has no valid submission key; reload it and try again."))


def _check_fund(fund: Fund | None) -> None:
    if fund is None or fund.status != FundStatus.active.value:
        raise DonationError(_("Choose an active fund."))


def _check_donor(donor: Donor | None) -> None:
    if donor is not None and donor.is_merged:
        raise DonationError(_("This donor was merged into donor #%(id)d; use that record.", id=donor.merged_into_id))


def _check_text(purpose: str, reference: str) -> None:
    if len(purpose) > 500:
        raise DonationError(_("The purpose is too long (at most %(n)d characters).", n=500))
    if len(reference) > 100:
        raise DonationError(_("The reference is too long (at most %(n)d characters).", n=100))


def gift_class(fund: Fund, restricted: bool | None, purpose: str) -> str:
    """The net-asset class of a gift into `fund` (see the module docstring for the rules)."""
    fund_restricted = fund.restriction == NetAssetClass.restricted.value
    if restricted is None:
        restricted = fund_restricted
    if fund_restricted and not restricted:
        raise DonationError(
            _("Fund %(fund)s is restricted, so gifts to it are restricted; record an unrestricted gift in an "
              "unrestricted fund.", fund=fund.code)
        )
    if restricted and not fund_restricted and not purpose.strip():
        raise DonationError(_("A restricted gift to an unrestricted fund needs a purpose saying what it is for."))
    return NetAssetClass.restricted.value if restricted else NetAssetClass.unrestricted.value


def _check_in_kind(data: DonationInput) -> None:
    if not data.item_description.strip():
        raise DonationError(_("Describe the goods given in kind."))
    if len(data.item_description) > 500 or len(data.unit) > 20:
        raise DonationError(_("The description of the goods is too long."))
    try:
        quantity = Decimal(data.quantity.strip().replace(",", ""))
    except ArithmeticError:
        quantity = None
    if quantity is None or not quantity.is_finite() or quantity <= 0 or len(data.quantity.strip()) > 30:
        raise DonationError(_("Enter the quantity of goods as a positive number."))
    if data.valuation_basis not in BASIS_VALUES:
        raise DonationError(_("Say how the goods were valued (invoice, customs form, agreement or fair value)."))


def check_donation(session: Session, data: DonationInput, today: dt.date | None = None) -> str:
    """Validate a gift without writing anything; returns its net-asset class or raises DonationError.

    Importers call this for every row of a preview.
    """
    _check_key(data.key)
    _check_amount(data.amount)
    _check_date(data.received_on, today)
    _check_fund(data.fund)
    _check_donor(data.donor)
    _check_text(data.purpose or "", data.reference or "")
    if data.method not in METHOD_ACCOUNTS:
        raise DonationError(_("Choose how the gift was made."))
    if data.method == DonationMethod.in_kind.value:
        _check_in_kind(data)
    return gift_class(data.fund, data.restricted, data.purpose or "")


# --- donations ------------------------------------------------------------------------------------


def _two_lines(session: Session, debit: str, credit: str, fund: Fund, amount: Decimal, klass: str) -> list[LineSpec]:
    return [
        LineSpec(account_by_code(session, debit), fund, amount, klass),
        LineSpec(account_by_code(session, credit), fund, -amount, klass),
    ]


def _same_gift(donation: Donation, data: DonationInput) -> bool:
    return (donation.amount, donation.fund_id, donation.received_on, donation.method) == (
        data.amount, data.fund.id, data.received_on, data.method)


def _already_recorded(session: Session, data: DonationInput) -> Donation | None:
    existing = find_donation_by_key(session, data.key)
    if existing is not None and not _same_gift(existing, data):
        raise DonationError(_("This form was already submitted with different content; reload it."))
    return existing


def _new_donation(data: DonationInput, klass: str, entry_id: int, actor: Any | None,
                  pledge: Pledge | None = None, corrects: Donation | None = None) -> Donation:
    in_kind = data.method == DonationMethod.in_kind.value
    return Donation(
        key=data.key, donor=data.donor, pledge=pledge, fund=data.fund, received_on=data.received_on,
        amount=data.amount, method=data.method, net_asset_class=klass, purpose=(data.purpose or "").strip(),
        reference=(data.reference or "").strip(),
        item_description=data.item_description.strip() if in_kind else "",
        quantity=data.quantity.strip() if in_kind else "", unit=data.unit.strip() if in_kind else "",
        valuation_basis=data.valuation_basis if in_kind else None,
        entry_id=entry_id, corrects_id=corrects.id if corrects is not None else None,
        created_by_id=getattr(actor, "id", None),
    )


def _audit_donation(session: Session, donation: Donation, actor: Any | None) -> None:
    record_event(session, AuditTag.donation_recorded, actor, "donation", donation.id, after={
        "key": donation.key, "donor": donation.donor_id, "fund": donation.fund.code, "amount": donation.amount,
        "method": donation.method, "class": donation.net_asset_class, "date": donation.received_on,
        "pledge": donation.pledge_id, "corrects": donation.corrects_id, "entry": donation.entry_id,
    })


def record_donation(session: Session, data: DonationInput, actor: Any | None, *, issue: bool = False,
                    corrects: Donation | None = None, today: dt.date | None = None) -> Donation:
    """Record a gift and post its entry; with `issue`, also issue its receipt. Idempotent on `data.key`."""
    klass = check_donation(session, data, today)
    existing = _already_recorded(session, data)
    if existing is not None:
        return existing
    lines = _two_lines(session, METHOD_ACCOUNTS[data.method], DONATION_INCOME, data.fund, data.amount, klass)
    entry = post_entry(
        session, effective_date=data.received_on, memo=books_text("Donation %(ref)s to fund %(fund)s",
                                                          ref=memo_reference(data.key), fund=data.fund.code),
        lines=lines, idempotency_key=f"donation:{ledger_reference(data.key)}", source_type="donation",
        source_id=ledger_reference(data.key)[:64],
        author=actor,
    )
    existing = find_donation_by_key(session, data.key)  # a concurrent double submit waited on the ledger lock
    if existing is not None:
        return existing
    donation = _new_donation(data, klass, entry.id, actor, corrects=corrects)
    session.add(donation)
    session.flush()
    _audit_donation(session, donation, actor)
    if issue:
        issue_receipt(session, donation, actor)
    return donation


def _lock(session: Session, model: type, object_id: int) -> Any:
    """Re-read a row under a row lock (PostgreSQL; SQLite serialises writers anyway)."""
    stmt = select(model).where(model.id == object_id).with_for_update(of=model)
    return session.execute(stmt.execution_options(populate_existing=True)).scalar_one()


def _check_reason(reason: str | None) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise DonationError(_("Say why it is reversed."))
    if len(reason) > 300:
        raise DonationError(_("The reason is too long (at most %(n)d characters).", n=300))
    return reason


def reverse_donation(session: Session, donation: Donation, reason: str, actor: Any | None,
                     on: dt.date | None = None) -> Donation:
    """Reverse the gift's entry, mark it reversed and void its receipt (the number is kept)."""
    reason = _check_reason(reason)
    donation = _lock(session, Donation, donation.id)
    if donation.is_reversed:
        raise DonationError(_("This donation was already reversed."))
    if on is not None and on < donation.received_on:
        raise DonationError(_("A reversal cannot be dated before the gift."))
    reversal = reverse_entry(session, donation.entry, reason=reason, actor=actor, effective_date=on)
    donation.status, donation.reversal_entry_id = DonationStatus.reversed.value, reversal.id
    donation.reversal_reason, donation.reversed_at = reason, utcnow()
    donation.reversed_by_id = getattr(actor, "id", None)
    if donation.pledge_id is not None:
        pledge = _lock(session, Pledge, donation.pledge_id)
        pledge.paid_amount -= donation.amount
        pledge.status = PledgeStatus.open.value
    session.flush()
    receipt = donation.active_receipt
    if receipt is not None:
        void_receipt(session, receipt, reason, actor)
    record_event(session, AuditTag.donation_reversed, actor, "donation", donation.id,
                 before={"status": DonationStatus.recorded.value},
                 after={"status": donation.status, "reason": reason, "reversal_entry": reversal.id})
    return donation


def correct_donation(session: Session, donation: Donation, reason: str, data: DonationInput, actor: Any | None,
                     on: dt.date | None = None, today: dt.date | None = None) -> Donation:
    """Reverse a wrong gift (voiding its receipt) and record the right one, with a new receipt if it had one."""
    if donation.pledge_id is not None:
        raise DonationError(_("Correct a pledge payment by reversing it and recording the right payment."))
    donation = _lock(session, Donation, donation.id)
    existing = _already_recorded(session, data)  # checked under the lock: a double submit waits here
    if existing is not None:
        return existing
    check_donation(session, data, today)
    had_receipt = donation.active_receipt is not None
    reverse_donation(session, donation, reason, actor, on=on)
    return record_donation(session, data, actor, issue=had_receipt and data.donor is not None,
                           corrects=donation, today=today)
