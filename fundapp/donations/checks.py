"""Checks that return problems (never raise): pledges against their payments, receipt numbering and check codes,
donations against their journal entries. `flask donations verify` prints them and exits non-zero."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fundapp.donations.models import Donation, DonationStatus, Pledge, PledgeStatus, Receipt, ReceiptCounter
from fundapp.donations.receipts import check_code_valid
from fundapp.ledger.models import JournalEntry

ZERO = Decimal("0.00")


def pledge_problems(session: Session) -> list[str]:
    paid = dict(session.execute(
        select(Donation.pledge_id, func.sum(Donation.amount))
        .where(Donation.pledge_id.is_not(None), Donation.status == DonationStatus.recorded.value)
        .group_by(Donation.pledge_id)).all())
    problems = []
    for pledge in session.scalars(select(Pledge).order_by(Pledge.id)):
        if pledge.paid_amount != paid.get(pledge.id, ZERO):
            problems.append(f"pledge {pledge.id}: paid {pledge.paid_amount} but its payments sum to "
                            f"{paid.get(pledge.id, ZERO)}")
        fulfilled = pledge.status == PledgeStatus.fulfilled.value
        if fulfilled != (pledge.paid_amount == pledge.amount) and pledge.status != PledgeStatus.reversed.value:
            problems.append(f"pledge {pledge.id}: status {pledge.status} with {pledge.outstanding} outstanding")
    return problems


def receipt_problems(session: Session) -> list[str]:
    problems = []
    counters = dict(session.execute(select(ReceiptCounter.year, ReceiptCounter.last_number)).all())
    numbers = session.execute(select(Receipt.year, func.count(), func.max(Receipt.number)).group_by(Receipt.year))
    for year, count, highest in numbers:
        if count != highest or counters.get(year) != highest:
            problems.append(f"receipts {year}: {count} receipts, highest number {highest}, "
                            f"counter {counters.get(year)} (numbers must run 1..N without gaps)")
    for receipt in session.scalars(select(Receipt).order_by(Receipt.year, Receipt.number)):
        if not check_code_valid(receipt):
            problems.append(f"receipt {receipt.label}: the check code does not match its printed values")
    return problems


def donation_problems(session: Session) -> list[str]:
    reversal = select(JournalEntry.id).where(JournalEntry.reverses_id == Donation.entry_id).exists()
    stmt = select(Donation.id, Donation.status, reversal.label("entry_reversed")).order_by(Donation.id)
    problems = []
    for donation_id, status, entry_reversed in session.execute(stmt):
        if entry_reversed != (status == DonationStatus.reversed.value):
            problems.append(f"donation {donation_id}: status {status} but its entry "
                            f"{'was' if entry_reversed else 'was not'} reversed")
    return problems


def verify_donations(session: Session) -> list[str]:
    return pledge_problems(session) + receipt_problems(session) + donation_problems(session)
