"""Reads for the donor portal: a donor's own gifts, receipts and pledges, where a restricted gift's fund spent
money since the gift, and the yearly giving statement (a PDF, rendered like the receipts).

Everything is looked up through the donor linked to the signed-in user; another donor's gift or receipt is
simply not found (404), so ids reveal nothing. Until grant-making is built, "where the money went" is the fund's
programme costs (5101 业务活动成本) and grants payable (2209 其他应付款) posted since the gift.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from flask import current_app, render_template
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from fundapp.dates import local_today
from fundapp.donations.models import Donation, DonationStatus, Donor, Receipt
from fundapp.donations.queries import find_donor_for_user, live_donor
from fundapp.donations.receipts import DEFAULT_FOUNDATION_NAME
from fundapp.errors import NotFound
from fundapp.ledger.models import Account, JournalEntry, JournalLine, NetAssetClass
from fundapp.money import to_capital

ZERO = Decimal("0.00")
PROGRAMME_COSTS = "5101"
GRANTS_PAYABLE = "2209"
SPENDING_LIMIT = 100


def portal_donor(session: Session, user_id: int) -> Donor | None:
    donor = find_donor_for_user(session, user_id)
    return live_donor(donor) if donor is not None else None


def my_gifts(session: Session, donor: Donor) -> list[Donation]:
    stmt = (select(Donation).where(Donation.donor_id == donor.id).options(selectinload(Donation.receipts))
            .order_by(Donation.received_on.desc(), Donation.id.desc()))
    return list(session.scalars(stmt))


def my_gift(session: Session, donor: Donor, donation_id: int) -> Donation:
    donation = session.get(Donation, donation_id)
    if donation is None or donation.donor_id != donor.id:
        raise NotFound("donation")
    return donation


def my_receipt(session: Session, donor: Donor, receipt_id: int) -> Receipt:
    receipt = session.get(Receipt, receipt_id)
    if receipt is None or receipt.donation is None or receipt.donation.donor_id != donor.id:
        raise NotFound("receipt")
    return receipt


def is_restricted(donation: Donation) -> bool:
    return donation.net_asset_class == NetAssetClass.restricted.value


@dataclass(frozen=True)
class SpendingLine:
    day: dt.date
    memo: str
    account: str
    account_name: str
    kind: str  # "spent", "returned", "awarded", "paid"
    amount: Decimal  # always positive; `kind` says which way


def _kind(code: str, amount: Decimal) -> str:
    if code == PROGRAMME_COSTS:
        return "spent" if amount > 0 else "returned"
    return "paid" if amount > 0 else "awarded"


def _spending_filter(fund_id: int, since: dt.date):
    return (JournalLine.fund_id == fund_id, JournalLine.effective_date >= since,
            Account.code.in_((PROGRAMME_COSTS, GRANTS_PAYABLE)))


def fund_spending_since(session: Session, fund_id: int, since: dt.date,
                        limit: int = SPENDING_LIMIT) -> list[SpendingLine]:
    """The fund's programme-cost and grants-payable lines dated on or after `since`, oldest first."""
    stmt = (select(JournalLine.effective_date, JournalEntry.memo, Account.code, Account.name, JournalLine.amount)
            .join(JournalEntry, JournalLine.entry_id == JournalEntry.id)
            .join(Account, JournalLine.account_id == Account.id)
            .where(*_spending_filter(fund_id, since))
            .order_by(JournalLine.effective_date, JournalEntry.seq, JournalLine.line_no).limit(limit))
    return [SpendingLine(day, memo, code, name, _kind(code, amount), abs(amount))
            for day, memo, code, name, amount in session.execute(stmt)]


def fund_spent_since(session: Session, fund_id: int, since: dt.date) -> Decimal:
    """Net programme costs of the fund since `since` (all lines, not only those listed)."""
    stmt = (select(func.coalesce(func.sum(JournalLine.amount), 0))
            .join(Account, JournalLine.account_id == Account.id)
            .where(*_spending_filter(fund_id, since), Account.code == PROGRAMME_COSTS))
    return Decimal(session.scalar(stmt) or 0).quantize(Decimal("0.01"))


# --- the yearly giving statement ----------------------------------------------------------------------------


def statement_gifts(session: Session, donor: Donor, year: int) -> list[Donation]:
    """The donor's recorded (not reversed) gifts received in `year`, oldest first."""
    stmt = (select(Donation)
            .where(Donation.donor_id == donor.id, Donation.status == DonationStatus.recorded.value,
                   Donation.received_on.between(dt.date(year, 1, 1), dt.date(year, 12, 31)))
            .options(selectinload(Donation.receipts)).order_by(Donation.received_on, Donation.id))
    return list(session.scalars(stmt))


def giving_years(gifts: list[Donation]) -> list[int]:
    return sorted({g.received_on.year for g in gifts if g.status == DonationStatus.recorded.value}, reverse=True)


def _chinese_date(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def statement_values(donor: Donor, year: int, gifts: list[Donation]) -> dict:
    """Everything printed on the statement, as plain strings."""
    from fundapp.donations.pdf import METHOD_WORDS, money_text  # WeasyPrint loads only when a PDF is asked for

    config = current_app.config
    total = sum((gift.amount for gift in gifts), ZERO)
    rows = []
    for gift in gifts:
        receipt = gift.active_receipt
        item = gift.fund.name + (f"：{gift.purpose}" if gift.purpose else "")
        rows.append({"date": gift.received_on.isoformat(), "item": item, "method": METHOD_WORDS.get(gift.method, ""),
                     "restricted": "限定" if is_restricted(gift) else "非限定", "amount": money_text(gift.amount),
                     "receipt": receipt.label if receipt else "—"})
    return {
        "foundation_name": config.get("FOUNDATION_NAME") or DEFAULT_FOUNDATION_NAME,
        "foundation_reg_no": config.get("FOUNDATION_REG_NO") or "", "year": str(year),
        "donor_name": donor.name, "donor_id_code": donor.id_code, "rows": rows, "count": str(len(rows)),
        "total": money_text(total), "total_capital": to_capital(total), "issued_on": _chinese_date(local_today()),
    }


def statement_pdf(values: dict) -> bytes:
    from weasyprint import HTML

    from fundapp.donations.pdf import CJK_FONT, StaticOnlyFetcher

    html = render_template("pdf/statement.html", s=values, font=CJK_FONT)
    root = current_app.static_folder
    return HTML(string=html, base_url=f"file://{root}/", url_fetcher=StaticOnlyFetcher(root)).write_pdf()


def fund_grants_since(session: Session, fund_id: int, since: dt.date, limit: int = SPENDING_LIMIT) -> list:
    """Grants awarded from the fund on or after `since`, oldest first, with their organisation and reports."""
    from fundapp.grants.models import Award  # grants build on donations, not the other way round

    stmt = (select(Award).where(Award.fund_id == fund_id, Award.awarded_on >= since)
            .order_by(Award.awarded_on, Award.id).limit(limit))
    return list(session.scalars(stmt))
