"""Builders for donation tests. Each takes a session and flushes; none commits."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

from fundapp.donations.donors import create_donor
from fundapp.donations.models import Donation, Donor, Pledge
from fundapp.donations.pledges import PaymentInput, PledgeInput, record_pledge, record_pledge_payment
from fundapp.donations.services import DonationInput, record_donation
from fundapp.ledger.models import Fund, JournalEntry

_counter = itertools.count(1)
DAY = dt.date(2026, 3, 15)


def make_donor(session, name: str | None = None, **values) -> Donor:
    return create_donor(session, {"kind": "person", "name": name or f"捐赠人{next(_counter)}", **values}, None)


def gift(session, fund: Fund, amount: str, *, method: str = "bank_transfer", donor: Donor | None = None,
         on: dt.date = DAY, issue: bool = False, actor=None, **values) -> Donation:
    data = DonationInput(fund=fund, received_on=on, amount=Decimal(amount), method=method, donor=donor, **values)
    return record_donation(session, data, actor, issue=issue)


def in_kind(session, fund: Fund, amount: str, *, donor: Donor | None = None, **values) -> Donation:
    details = {"item_description": "大米", "quantity": "200", "unit": "袋", "valuation_basis": "invoice"} | values
    return gift(session, fund, amount, method="in_kind", donor=donor, **details)


def pledge(session, fund: Fund, amount: str, donor: Donor, *, on: dt.date = DAY, **values) -> Pledge:
    return record_pledge(session, PledgeInput(donor=donor, fund=fund, pledged_on=on, amount=Decimal(amount),
                                              **values), None)


def pay(session, pledged: Pledge, amount: str, *, method: str = "bank_transfer", on: dt.date = DAY,
        issue: bool = False, **values) -> Donation:
    data = PaymentInput(pledge=pledged, received_on=on, amount=Decimal(amount), method=method, **values)
    return record_pledge_payment(session, data, None, issue=issue)


def lines_of(entry: JournalEntry) -> list[tuple[str, str, str, Decimal]]:
    """(account code, fund code, class, amount) of every line, in line order."""
    return [(line.account.code, line.fund.code, line.net_asset_class, line.amount) for line in entry.lines]
