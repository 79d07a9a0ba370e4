"""Rows of an import file checked against the books, writing nothing: every problem of every row, and the plan.

A row's idempotency key is "import:<reference>" (the donation's key; its journal entry's key is
"donation:import:<reference>"). A row whose key was imported before with the same amount, fund, date and method
is skipped (so a second import of a file posts nothing); with other values it is a problem. A reference already
on another donation (recorded on the form, say) is a duplicate, and so is a reference used twice in the file.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from fundapp.dates import local_today
from fundapp.donations.donors import normalise_id_code
from fundapp.donations.errors import DonationError
from fundapp.donations.imports import cells
from fundapp.donations.imports.reading import Sheet
from fundapp.donations.models import Donation, DonationStatus, Donor
from fundapp.donations.services import DonationInput, check_donation
from fundapp.ledger.models import Fund, FundStatus
from fundapp.ledger.services import lock_date

Progress = Callable[[str, int, int], None]
CHUNK = 2000
SAMPLE_ROWS = 10
KEY_PREFIX = "import:"


def import_key(reference: str) -> str:
    """The donation key of an imported row (a reference too long for the key column is hashed)."""
    key = KEY_PREFIX + reference
    return key if len(key) <= 100 else f"{KEY_PREFIX}sha256:{hashlib.sha256(reference.encode()).hexdigest()[:40]}"


@dataclass(frozen=True)
class Problem:
    row: int  # 0: the file as a whole
    column: str
    message: str


@dataclass
class Row:
    number: int
    received_on: dt.date | None = None
    amount: Decimal | None = None
    donor_text: str = ""
    fund_code: str = ""
    method: str | None = None
    restricted: bool | None = None
    anonymous: bool | None = None
    purpose: str = ""
    reference: str = ""
    problems: list[Problem] = field(default_factory=list)
    fund: Fund | None = None
    donor: Donor | None = None
    klass: str = ""

    @property
    def key(self) -> str:
        return import_key(self.reference)

    def problem(self, column: str, message: str) -> None:
        self.problems.append(Problem(self.number, column, message))


@dataclass
class Plan:
    """What an import would do: the rows to post, the rows posted before, and every problem found."""

    total_rows: int
    new: list[Row]
    skipped: list[tuple[int, int]]  # (row number, donation id)
    problems: list[Problem]
    anonymise: list[Donor]  # donors the file marks anonymous in public who are not yet
    sample: list[dict]

    @property
    def total_amount(self) -> Decimal:
        return sum((row.amount for row in self.new), Decimal("0.00"))


# --- reading the cells --------------------------------------------------------------------------------------

_READERS = (
    ("received_on", "date", cells.read_date),
    ("amount", "amount", cells.read_amount),
    ("method", "method", cells.read_method),
    ("restricted", "restricted", cells.read_flag),
    ("anonymous", "anonymous", cells.read_flag),
    ("reference", "reference", cells.read_reference),
)


def parse_row(sheet: Sheet, number: int, values: list) -> Row:
    row = Row(number)
    for attribute, column, reader in _READERS:
        if column not in sheet.columns and column in ("restricted", "anonymous"):
            continue
        try:
            setattr(row, attribute, reader(sheet.cell(values, column)))
        except cells.CellError as error:
            row.problem(column, error.message)
    row.donor_text = cells.clean_text(sheet.cell(values, "donor"))
    row.fund_code = cells.clean_text(sheet.cell(values, "fund"))
    try:
        row.purpose = cells.read_text(sheet.cell(values, "purpose"), 500,
                                      _("The purpose is too long (at most %(n)d characters).", n=500))
    except cells.CellError as error:
        row.problem("purpose", error.message)
    return row


# --- funds and donors ---------------------------------------------------------------------------------------


def _chunks(values: Iterable, size: int = CHUNK) -> Iterable[list]:
    values = list(values)
    for start in range(0, len(values), size):
        yield values[start:start + size]


def _match_funds(session: Session, rows: list[Row]) -> None:
    funds = list(session.scalars(select(Fund)))
    exact = {fund.code: fund for fund in funds}
    folded = {fund.code.upper(): fund for fund in funds}
    for row in rows:
        if not row.fund_code:
            row.problem("fund", _("Enter the fund code."))
            continue
        row.fund = exact.get(row.fund_code) or folded.get(row.fund_code.upper())
        if row.fund is None:
            row.problem("fund", _("There is no fund %(code)s.", code=row.fund_code))
        elif row.fund.status != FundStatus.active.value:
            row.problem("fund", _("Fund %(code)s is closed.", code=row.fund.code))


def _donor_number(text: str) -> int | None:
    number = text.lstrip("#")
    return int(number) if number.isdigit() and len(number) <= 9 else None


def _donor_code(text: str) -> str | None:
    code = normalise_id_code(text)
    return code if re.fullmatch(r"[0-9A-Z()\-]{6,50}", code) else None


def _load_donors(session: Session, rows: list[Row]) -> tuple[dict, dict, dict]:
    texts = {row.donor_text for row in rows if row.donor_text}
    numbers = {n for n in map(_donor_number, texts) if n is not None}
    codes = {c for c in map(_donor_code, texts) if c is not None}
    by_id, by_code, by_name = {}, {}, {}
    for chunk in _chunks(numbers):
        by_id.update((d.id, d) for d in session.scalars(select(Donor).where(Donor.id.in_(chunk))))
    for chunk in _chunks(codes):
        stmt = select(Donor).where(Donor.id_code.in_(chunk), Donor.merged_into_id.is_(None))
        by_code.update((d.id_code, d) for d in session.scalars(stmt))
    for chunk in _chunks(texts):
        for donor in session.scalars(select(Donor).where(Donor.name.in_(chunk), Donor.merged_into_id.is_(None))):
            by_name.setdefault(donor.name, []).append(donor)
    return by_id, by_code, by_name


def _match_donors(session: Session, rows: list[Row]) -> None:
    by_id, by_code, by_name = _load_donors(session, rows)
    for row in rows:
        text = row.donor_text
        if not text:
            if not row.anonymous:
                row.problem("donor", _("No donor: write the donor's name, number or ID code, or mark the gift "
                                       "anonymous."))
            continue
        number = _donor_number(text)
        if number is not None:
            row.donor = by_id.get(number)
            if row.donor is None:
                row.problem("donor", _("There is no donor number %(n)s.", n=number))
            continue
        row.donor = by_code.get(_donor_code(text) or "")
        if row.donor is not None:
            continue
        matches = by_name.get(text, [])
        if len(matches) == 1:
            row.donor = matches[0]
        elif matches:
            row.problem("donor", _("Several donors are called %(name)s; enter the donor's number.", name=text))
        else:
            row.problem("donor", _("No donor matches %(text)s; add the donor first.", text=text))


# --- duplicates ---------------------------------------------------------------------------------------------


def _same_gift(found: tuple, row: Row) -> bool:
    _key, _id, amount, fund_id, received_on, method = found
    return (amount, fund_id, received_on, method) == (row.amount, row.fund.id if row.fund else None,
                                                      row.received_on, row.method)


def _match_existing(session: Session, rows: list[Row]) -> list[tuple[int, int]]:
    """Problems for references seen before; returns the rows imported before, which are left out of the plan."""
    keyed = [row for row in rows if row.reference]
    earlier, by_reference = {}, {}
    for chunk in _chunks({row.key for row in keyed}):
        stmt = select(Donation.key, Donation.id, Donation.amount, Donation.fund_id, Donation.received_on,
                      Donation.method).where(Donation.key.in_(chunk))
        earlier.update((found[0], tuple(found)) for found in session.execute(stmt))
    for chunk in _chunks({row.reference for row in keyed}):
        stmt = select(Donation.reference, Donation.id, Donation.key).where(
            Donation.reference.in_(chunk), Donation.status == DonationStatus.recorded.value)
        for reference, donation_id, key in session.execute(stmt):
            by_reference.setdefault(reference, []).append((donation_id, key))
    skipped, first_row = [], {}
    for row in keyed:
        if row.reference in first_row:
            row.problem("reference", _("Reference %(ref)s is also on row %(row)d.", ref=row.reference,
                                       row=first_row[row.reference]))
            continue
        first_row[row.reference] = row.number
        found = earlier.get(row.key)
        if found is not None:
            if _same_gift(found, row):
                skipped.append((row.number, found[1]))
            else:
                row.problem("reference", _("Reference %(ref)s was imported before as donation #%(id)d with another "
                                           "amount, fund, date or method.", ref=row.reference, id=found[1]))
            continue
        others = [donation_id for donation_id, key in by_reference.get(row.reference, []) if key != row.key]
        if others:
            row.problem("reference", _("Reference %(ref)s is already on donation #%(id)d: this gift looks recorded.",
                                       ref=row.reference, id=others[0]))
    return skipped


# --- the rules ----------------------------------------------------------------------------------------------


def _check_rules(session: Session, rows: list[Row], today: dt.date) -> None:
    closed_through = lock_date(session)
    for row in rows:
        if row.problems:
            continue
        if closed_through is not None and row.received_on <= closed_through:
            row.problem("date", _("The books are closed through %(date)s.", date=closed_through.isoformat()))
            continue
        data = DonationInput(fund=row.fund, received_on=row.received_on, amount=row.amount, method=row.method,
                             donor=row.donor, restricted=row.restricted, purpose=row.purpose,
                             reference=row.reference, key=row.key)
        try:
            row.klass = check_donation(session, data, today)
        except DonationError as error:
            row.problem("", error.message)


def _sample(rows: list[Row]) -> list[dict]:
    def flag(value: bool | None) -> str:
        return "" if value is None else ("yes" if value else "no")

    return [{"row": row.number, "date": row.received_on.isoformat() if row.received_on else "",
             "donor": row.donor.name if row.donor else row.donor_text, "amount": str(row.amount or ""),
             "fund": row.fund_code, "method": row.method or "", "restricted": flag(row.restricted),
             "anonymous": flag(row.anonymous), "purpose": row.purpose, "reference": row.reference}
            for row in rows[:SAMPLE_ROWS]]


def check_sheet(session: Session, sheet: Sheet, *, today: dt.date | None = None,
                progress: Progress | None = None) -> Plan:
    """Check every row of `sheet` (writing nothing) and return the plan with every problem found."""
    total = len(sheet.rows)
    rows = []
    for index, (number, values) in enumerate(sheet.rows, start=1):
        rows.append(parse_row(sheet, number, values))
        if progress is not None and index % 2000 == 0:
            progress("checking", index, total)
    _match_funds(session, rows)
    _match_donors(session, rows)
    skipped = _match_existing(session, rows)
    done = {number for number, _id in skipped}
    _check_rules(session, [row for row in rows if row.number not in done], today or local_today())
    if progress is not None:
        progress("checking", total, total)
    problems = [problem for row in rows for problem in row.problems]
    new = [row for row in rows if not row.problems and row.number not in done]
    anonymise = {row.donor.id: row.donor for row in new if row.anonymous and row.donor is not None
                 and not row.donor.anonymous_in_public}
    return Plan(total, new, skipped, problems, list(anonymise.values()), _sample(rows))
