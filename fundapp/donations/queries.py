"""Reads of donors, donations, pledges and receipts (no writes)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session, selectinload

from fundapp.dates import local_today
from fundapp.donations.models import Donation, DonationStatus, Donor, Pledge, PledgeStatus, Receipt
from fundapp.errors import NotFound

ZERO = Decimal("0.00")
DONOR_SORTS = ("name", "-name", "total", "-total", "last", "-last", "created", "-created")


def get_donor(session: Session, donor_id: int) -> Donor:
    donor = session.get(Donor, donor_id)
    if donor is None:
        raise NotFound("donor")
    return donor


def get_donation(session: Session, donation_id: int) -> Donation:
    donation = session.get(Donation, donation_id)
    if donation is None:
        raise NotFound("donation")
    return donation


def get_pledge(session: Session, pledge_id: int) -> Pledge:
    pledge = session.get(Pledge, pledge_id)
    if pledge is None:
        raise NotFound("pledge")
    return pledge


def get_receipt(session: Session, receipt_id: int) -> Receipt:
    receipt = session.get(Receipt, receipt_id)
    if receipt is None:
        raise NotFound("receipt")
    return receipt


def find_donor_by_code(session: Session, id_code: str) -> Donor | None:
    """The live donor with this ID or credit code (importers match donors with it)."""
    return session.scalar(select(Donor).where(Donor.id_code == id_code, Donor.merged_into_id.is_(None)))


def find_donors_by_name(session: Session, name: str) -> list[Donor]:
    return list(session.scalars(select(Donor).where(Donor.name == name, Donor.merged_into_id.is_(None))))


def find_donor_for_user(session: Session, user_id: int) -> Donor | None:
    """The donor record a portal user is linked to."""
    return session.scalar(select(Donor).where(Donor.user_id == user_id))


def live_donor(donor: Donor) -> Donor:
    """Follow merges to the record that holds the history now."""
    while donor.merged_into is not None:
        donor = donor.merged_into
    return donor


def _gift_totals():
    return (
        select(Donation.donor_id.label("donor_id"), func.sum(Donation.amount).label("total"),
               func.count(Donation.id).label("gifts"), func.max(Donation.received_on).label("last"))
        .where(Donation.status == DonationStatus.recorded.value, Donation.donor_id.is_not(None))
        .group_by(Donation.donor_id)
        .subquery()
    )


def donors_query(*, text: str | None = None, kind: str | None = None, sort: str = "name",
                 include_merged: bool = False) -> Select:
    """A SELECT of donors matching the filters, in the chosen order (for pagination and export)."""
    totals = _gift_totals()
    stmt = select(Donor).outerjoin(totals, totals.c.donor_id == Donor.id)
    if not include_merged:
        stmt = stmt.where(Donor.merged_into_id.is_(None))
    if kind:
        stmt = stmt.where(Donor.kind == kind)
    if text and text.strip():
        needle = text.strip()
        conditions = [getattr(Donor, name).contains(needle, autoescape=True)
                      for name in ("name", "id_code", "phone", "email", "contact_person")]
        if needle.lstrip("#").isdigit():
            conditions.append(Donor.id == int(needle.lstrip("#")))
        stmt = stmt.where(or_(*conditions))
    column = {"name": Donor.name, "total": func.coalesce(totals.c.total, 0), "last": totals.c.last,
              "created": Donor.id}[sort.lstrip("-") if sort in DONOR_SORTS else "name"]
    descending = sort.startswith("-") and sort in DONOR_SORTS
    order = column.desc().nulls_last() if descending else column.asc().nulls_first()
    return stmt.order_by(order, Donor.id)


@dataclass(frozen=True)
class GiftTotals:
    total: Decimal = ZERO
    gifts: int = 0
    last: dt.date | None = None


def donor_totals(session: Session, donor_ids: Iterable[int]) -> dict[int, GiftTotals]:
    """Recorded gifts per donor (sum, count, latest date) for a page of donors, in one query."""
    ids = list(donor_ids)
    if not ids:
        return {}
    totals = _gift_totals()
    rows = session.execute(select(totals).where(totals.c.donor_id.in_(ids)))
    return {row.donor_id: GiftTotals(row.total or ZERO, row.gifts, row.last) for row in rows}


def donations_query(*, donor_id: int | None = None, fund_id: int | None = None, year: int | None = None,
                    method: str | None = None, status: str | None = None, text: str | None = None) -> Select:
    stmt = select(Donation)
    if donor_id:
        stmt = stmt.where(Donation.donor_id == donor_id)
    if fund_id:
        stmt = stmt.where(Donation.fund_id == fund_id)
    if year:
        stmt = stmt.where(Donation.received_on.between(dt.date(year, 1, 1), dt.date(year, 12, 31)))
    if method:
        stmt = stmt.where(Donation.method == method)
    if status:
        stmt = stmt.where(Donation.status == status)
    if text and text.strip():
        needle = text.strip()
        stmt = stmt.outerjoin(Donor, Donation.donor_id == Donor.id).where(or_(
            Donor.name.contains(needle, autoescape=True), Donation.reference.contains(needle, autoescape=True),
            Donation.purpose.contains(needle, autoescape=True), Donation.key.startswith(needle, autoescape=True)))
    return stmt.order_by(Donation.received_on.desc(), Donation.id.desc())


def donor_pledges(session: Session, donor_id: int) -> list[Pledge]:
    return list(session.scalars(select(Pledge).where(Pledge.donor_id == donor_id).order_by(Pledge.pledged_on.desc())))


def pledge_payments(session: Session, pledge_id: int) -> list[Donation]:
    stmt = (select(Donation).where(Donation.pledge_id == pledge_id).options(selectinload(Donation.receipts))
            .order_by(Donation.received_on, Donation.id))
    return list(session.scalars(stmt))


AGEING_BUCKETS = ((0, "not_due"), (30, "0-30"), (90, "31-90"), (180, "91-180"), (None, "over_180"))


def ageing_bucket(pledge: Pledge, today: dt.date) -> str:
    """Days overdue (from the due date, or the pledge date when none was set), as a bucket name."""
    due = pledge.due_on or pledge.pledged_on
    days = (today - due).days
    if pledge.due_on is not None and days < 0:
        return "not_due"
    for limit, name in AGEING_BUCKETS[1:]:
        if limit is None or days <= limit:
            return name
    return "over_180"


@dataclass
class PledgeAgeing:
    rows: list[tuple[Pledge, str]]
    totals: dict[str, Decimal]

    @property
    def total(self) -> Decimal:
        return sum(self.totals.values(), ZERO)


def outstanding_pledges(session: Session, today: dt.date | None = None) -> PledgeAgeing:
    """Open pledges, oldest first, each with its ageing bucket, and the outstanding total per bucket."""
    today = today or local_today()
    stmt = select(Pledge).where(Pledge.status == PledgeStatus.open.value).order_by(Pledge.pledged_on, Pledge.id)
    rows = [(pledge, ageing_bucket(pledge, today)) for pledge in session.scalars(stmt)]
    totals = {name: ZERO for _limit, name in AGEING_BUCKETS}
    for pledge, bucket in rows:
        totals[bucket] += pledge.outstanding
    return PledgeAgeing(rows=rows, totals=totals)


def receipts_query(*, year: int | None = None, text: str | None = None) -> Select:
    stmt = select(Receipt)
    if year:
        stmt = stmt.where(Receipt.year == year)
    if text and text.strip():
        needle = text.strip()
        stmt = stmt.where(or_(Receipt.payer_name.contains(needle, autoescape=True),
                              Receipt.check_code == needle.upper()))
    return stmt.order_by(Receipt.year.desc(), Receipt.number.desc())


def receipts_of_year(session: Session, year: int) -> list[Receipt]:
    """Every receipt numbered in `year` (void ones too), for donations and for enterprises' gift payments."""
    stmt = (select(Receipt).where(Receipt.year == year).options(selectinload(Receipt.enterprise_payment))
            .order_by(Receipt.number))
    return list(session.scalars(stmt))


def receipts_by_payment(session: Session, payment_ids: Iterable[int]) -> dict[int, list[Receipt]]:
    """The receipts (void ones too, in issue order) of each enterprise payment, in one query."""
    ids = list(payment_ids)
    out: dict[int, list[Receipt]] = {payment_id: [] for payment_id in ids}
    if ids:
        stmt = select(Receipt).where(Receipt.enterprise_payment_id.in_(ids)).order_by(Receipt.id)
        for receipt in session.scalars(stmt):
            out[receipt.enterprise_payment_id].append(receipt)
    return out


def receipt_years(session: Session) -> list[int]:
    return list(session.scalars(select(Receipt.year).distinct().order_by(Receipt.year.desc())))


def donation_years(session: Session) -> list[int]:
    years = session.scalars(select(func.min(Donation.received_on)))
    first = next(iter(years), None)
    this_year = local_today().year
    return list(range(this_year, (first.year if first else this_year) - 1, -1))
