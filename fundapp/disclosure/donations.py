"""Reads behind the public donations list, its CSV and /api/v1/donations (no writes).

Only gifts to public funds are listed. A gift's donor is named only when the gift has a donor who did not ask
for anonymity (the donor a merged record was merged into decides); otherwise the name never leaves the database:
the query selects NULL, so neither the page, the CSV nor the API can show it, and the text search cannot match
it. No contact detail, ID number, bank reference, note or staff member is ever selected.

Reversed gifts stay in the list, marked as corrected with the reason and the reversal's date; a correcting gift
names the gift it corrects (when that gift is to a public fund too). Totals count recorded gifts only (a reversed
gift and its reversal net to nothing in the books).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import Select, and_, case, func, literal, or_, select
from sqlalchemy.orm import Session, aliased

from fundapp.disclosure.paging import Page
from fundapp.disclosure.scope import public_fund_ids_query
from fundapp.donations.models import Donation, DonationMethod, DonationStatus, Donor
from fundapp.ledger.models import Fund, JournalEntry

ZERO = Decimal("0.00")
SORTS = ("-date", "date", "-amount", "amount")
METHODS = tuple(m.value for m in DonationMethod)
TEXT_MAX = 200


@dataclass(frozen=True)
class Filters:
    text: str | None = None
    fund_code: str | None = None
    year: int | None = None
    method: str | None = None
    sort: str = "-date"
    gift: int | None = None  # one gift and the gift correcting it (links between a correction and its original)

    @property
    def active(self) -> bool:
        return any((self.text, self.fund_code, self.year, self.method, self.gift))


@dataclass(frozen=True)
class Totals:
    gifts: int = 0  # rows listed, corrected ones included
    amount: Decimal = ZERO  # recorded gifts only
    corrected: int = 0




def _donor_columns():
    """(donor, survivor, public name or NULL) of a gift: a merged donor is followed to the donor it was merged into."""
    donor, survivor = aliased(Donor), aliased(Donor)
    anonymous = or_(donor.id.is_(None), donor.anonymous_in_public.is_(True),
                    survivor.anonymous_in_public.is_(True))
    name = case((anonymous, literal(None)), else_=func.coalesce(survivor.name, donor.name))
    return donor, survivor, name.label("donor_name")


def _base(filters: Filters) -> tuple[Select, object]:
    """The filtered gifts, joined to what a row shows; returns (statement without columns, public name column)."""
    donor, survivor, name = _donor_columns()
    stmt = (select(Donation.id)
            .join(Fund, Fund.id == Donation.fund_id)
            .outerjoin(donor, donor.id == Donation.donor_id)
            .outerjoin(survivor, survivor.id == donor.merged_into_id)
            .where(Donation.fund_id.in_(public_fund_ids_query())))
    if filters.fund_code:
        stmt = stmt.where(Fund.code == filters.fund_code)
    if filters.year:
        stmt = stmt.where(Donation.received_on.between(dt.date(filters.year, 1, 1), dt.date(filters.year, 12, 31)))
    if filters.method:
        stmt = stmt.where(Donation.method == filters.method)
    if filters.gift:
        stmt = stmt.where(or_(Donation.id == filters.gift, Donation.corrects_id == filters.gift))
    if filters.text:
        needle = filters.text
        stmt = stmt.where(or_(name.contains(needle, autoescape=True),
                              Donation.purpose.contains(needle, autoescape=True),
                              Fund.name.contains(needle, autoescape=True)))
    return stmt, name


def rows_query(filters: Filters) -> Select:
    """The public columns of the filtered gifts, in the chosen order."""
    stmt, name = _base(filters)
    reversal = aliased(JournalEntry)
    original, corrector = aliased(Donation), aliased(Donation)
    stmt = (stmt.add_columns(
        Donation.received_on, Donation.amount, Donation.method, Donation.purpose, Donation.status,
        Donation.item_description, Donation.quantity, Donation.unit, Donation.valuation_basis,
        Donation.reversal_reason, reversal.effective_date.label("reversed_on"), original.id.label("corrects_id"),
        original.received_on.label("corrects_on"), corrector.id.label("corrected_by_id"),
        Fund.code.label("fund_code"), Fund.name.label("fund_name"), name)
        .outerjoin(reversal, reversal.id == Donation.reversal_entry_id)
        .outerjoin(original, and_(original.id == Donation.corrects_id, original.fund_id.in_(public_fund_ids_query())))
        .outerjoin(corrector, and_(corrector.corrects_id == Donation.id,
                                   corrector.fund_id.in_(public_fund_ids_query()))))
    sort = filters.sort if filters.sort in SORTS else "-date"
    column = Donation.amount if sort.endswith("amount") else Donation.received_on
    order = column.desc() if sort.startswith("-") else column.asc()
    tie = Donation.id.desc() if sort.startswith("-") else Donation.id.asc()
    return stmt.order_by(order, tie)


def totals(session: Session, filters: Filters) -> Totals:
    """Count, recorded amount and corrected count of the filtered gifts, in one query."""
    stmt, _name = _base(filters)
    recorded = Donation.status == DonationStatus.recorded.value
    row = session.execute(stmt.with_only_columns(
        func.count(Donation.id), func.sum(case((recorded, Donation.amount), else_=literal(0))),
        func.sum(case((recorded, 0), else_=1)))).one()
    return Totals(row[0] or 0, Decimal(row[1] or 0).quantize(Decimal("0.01")), int(row[2] or 0))


def page(session: Session, filters: Filters, number: int, per_page: int) -> tuple[Page, Totals]:
    """One page of rows (a page past the end shows the last one) and the totals of the whole filtered set."""
    summary = totals(session, filters)
    pages = max(1, -(-summary.gifts // per_page))
    number = min(max(number, 1), pages)
    rows = session.execute(rows_query(filters).limit(per_page).offset((number - 1) * per_page)).all()
    return Page(rows, number, per_page, summary.gifts), summary


def all_rows(session: Session, filters: Filters) -> Iterator:
    """Every filtered row, fetched in batches (for the CSV)."""
    yield from session.execute(rows_query(filters).execution_options(yield_per=500))


def public_fund_options(session: Session) -> list[tuple[str, str]]:
    """(code, name) of the public funds, for the fund filter."""
    return list(session.execute(select(Fund.code, Fund.name).where(Fund.id.in_(public_fund_ids_query()))
                                .order_by(Fund.code)).all())


def years(session: Session) -> list[int]:
    """The years with gifts to public funds, newest first (from the first and last gift dates: one query)."""
    first, last = session.execute(select(func.min(Donation.received_on), func.max(Donation.received_on))
                                  .where(Donation.fund_id.in_(public_fund_ids_query()))).one()
    if first is None:
        return []
    return list(range(last.year, first.year - 1, -1))


def in_kind_text(row) -> str:
    """The item of an in-kind gift as given: description, quantity and unit."""
    amount = " ".join(part for part in (row.quantity, row.unit) if part)
    return f"{row.item_description} ({amount})" if amount else row.item_description


def is_public_fund_code(session: Session, code: str) -> bool:
    return session.scalar(select(Fund.id).where(Fund.code == code, Fund.id.in_(public_fund_ids_query()))) is not None

