"""Builders for enterprise tests. Each takes a session and flushes; none commits.

Dates are fixed in 2025 (periods that have ended whenever the tests run); services get `today` explicitly where
it matters, so ageing and "not ended yet" do not depend on the clock.
"""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

from fundapp.enterprises.agreements import AgreementInput, create_agreement
from fundapp.enterprises.enterprises import save_enterprise
from fundapp.enterprises.models import Agreement, Enterprise, EnterprisePayment, ReportRevision, RevenueReport
from fundapp.enterprises.payments import PaymentInput, record_payment
from fundapp.enterprises.reports import (
    AmendmentInput,
    Figures,
    ReportInput,
    amend_report,
    confirm_revision,
    file_report,
)
from fundapp.enterprises.share import Tier
from fundapp.ledger.models import Fund, JournalEntry

_counter = itertools.count(1)
START = dt.date(2025, 1, 1)
TODAY = dt.date(2026, 6, 1)
D = Decimal


def make_enterprise(session, name: str | None = None, **values) -> Enterprise:
    members = values.pop("member_emails", ())
    related = values.pop("related_user_ids", ())
    return save_enterprise(session, None, {"name": name or f"社区企业{next(_counter)}", **values}, None,
                           member_emails=members, related_user_ids=related)


def tiers(*pairs) -> list[Tier]:
    """tiers("5") -> flat 5 %; tiers("5", ("100000", "8")) -> 5 % then 8 % above 100,000."""
    out = [Tier(D("0.00"), D(pairs[0]))]
    out += [Tier(D(lower), D(rate)) for lower, rate in pairs[1:]]
    return out


def make_agreement(session, enterprise: Enterprise, fund: Fund, *, start: dt.date = START, rate: str = "5",
                   more_tiers=(), basis: str = "gross_revenue", nature: str = "gift", periodicity: str = "quarterly",
                   due_days: int = 15, minimum: str = "0.00", ends_on: dt.date | None = None, actor=None) -> Agreement:
    data = AgreementInput(enterprise=enterprise, effective_from=start, basis=basis, nature=nature, fund=fund,
                          periodicity=periodicity, due_days=due_days, tiers=tiers(rate, *more_tiers),
                          minimum=D(minimum), ends_on=ends_on)
    return create_agreement(session, data, actor)


def file(session, enterprise: Enterprise, start: dt.date, revenue: str, costs: str = "0.00",
         profit: str | None = None, *, today: dt.date = TODAY, actor=None, **values) -> ReportRevision:
    figures = Figures(D(revenue), D(costs), None if profit is None else D(profit))
    return file_report(session, ReportInput(enterprise=enterprise, period_start=start, figures=figures, **values),
                       actor, today=today)


def amend(session, report: RevenueReport, revenue: str, costs: str = "0.00", profit: str | None = None, *,
          reason: str = "更正", actor=None, **values) -> ReportRevision:
    figures = Figures(D(revenue), D(costs), None if profit is None else D(profit))
    return amend_report(session, AmendmentInput(report=report, figures=figures, reason=reason, **values), actor,
                        today=TODAY)


def confirm(session, revision: ReportRevision, *, on: dt.date = dt.date(2025, 4, 20), actor=None) -> ReportRevision:
    return confirm_revision(session, revision, actor, on=on, today=TODAY)


def pay(session, report: RevenueReport, amount: str, *, on: dt.date = dt.date(2025, 5, 1), actor=None,
        **values) -> EnterprisePayment:
    return record_payment(session, PaymentInput(report=report, received_on=on, amount=D(amount), **values), actor,
                          today=TODAY)


def lines_of(entry: JournalEntry) -> list[tuple[str, str, str, Decimal]]:
    """(account code, fund code, class, amount) of every line, in line order."""
    return [(line.account.code, line.fund.code, line.net_asset_class, line.amount) for line in entry.lines]
