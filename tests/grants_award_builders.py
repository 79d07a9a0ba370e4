"""Builders for award tests (schedules, payments, reports): each calls the services under their own rules and
flushes; none commits."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

from sqlalchemy import func, select

from fundapp.dates import local_today
from fundapp.grants.awards import TrancheSpec, award_tranches, budget_lines, set_schedule
from fundapp.grants.models import Award, ReportKind, Tranche
from fundapp.grants.payments import PaymentInput, approve_payment, request_payment
from fundapp.grants.reports import ReportInput, accept_report, file_report
from fundapp.ledger.models import Account, JournalEntry, JournalLine
from tests.factories import make_user
from tests.grants_builders import funded_fund, make_applicant, make_award


class Cast:
    """The people around one award: two finance users (maker, checker), the grantee's applicant user."""

    def __init__(self, session):
        self.maker = make_user(session, "finance")
        self.checker = make_user(session, "finance")
        self.organisation, self.grantee = make_applicant(session)


def award_for(session, cast: Cast, amount: str = "10000.00", *, restricted: bool = False,
              fund_amount: str | None = None) -> Award:
    fund = funded_fund(session, fund_amount or max(Decimal(amount) * 3, Decimal("100000")), restricted=restricted)
    return make_award(session, amount, fund=fund, organisation=cast.organisation)


def schedule(session, award: Award, *amounts: str, actor=None, reports: bool | None = None) -> list[Tranche]:
    today = local_today()
    specs = [TrancheSpec(Decimal(a), today + dt.timedelta(days=30 * n), f"Milestone {n + 1}",
                         None if reports is None or n == 0 else reports) for n, a in enumerate(amounts)]
    return set_schedule(session, award, specs, actor)


def tranche(session, award: Award, seq: int) -> Tranche:
    return next(t for t in award_tranches(session, award.id) if t.seq == seq)


def pay(session, award: Award, seq: int, actor, *, key: str | None = None, amount: str | None = None,
        on: dt.date | None = None, reference: str = "BANK-1"):
    data = PaymentInput(tranche=tranche(session, award, seq), paid_on=on or local_today(), bank_reference=reference,
                        amount=Decimal(amount) if amount is not None else None, key=key or str(uuid.uuid4()))
    return request_payment(session, data, actor)


def pay_through(session, award: Award, seq: int, cast: Cast):
    """Pay a tranche whatever its size (approved by the checker when it needs a second approver)."""
    payment = pay(session, award, seq, cast.maker)
    if payment.status == "awaiting_approval":
        approve_payment(session, payment, cast.checker)
    return payment


def report(session, award: Award, cast: Cast, *, kind: str = ReportKind.progress.value,
           spend: tuple[str, ...] = (), accept: bool = True, **values):
    lines = budget_lines(award)
    spending = {line.id: Decimal(s) for line, s in zip(lines, spend, strict=False)}
    today = local_today()
    data = ReportInput(award=award, kind=kind, period_start=values.pop("period_start", today - dt.timedelta(days=30)),
                       period_end=values.pop("period_end", today), narrative=values.pop("narrative", "We did it."),
                       outputs=values.pop("outputs", "Two workshops"),
                       beneficiaries_reached=values.pop("beneficiaries_reached", 40), spending=spending, **values)
    filed = file_report(session, data, cast.grantee)
    if accept:
        accept_report(session, filed, cast.maker)
    return filed


def balance(session, fund, code: str, *, net_asset_class: str | None = None) -> Decimal:
    """The sum of the fund's lines on account `code` (debit positive)."""
    stmt = (select(func.coalesce(func.sum(JournalLine.amount), 0)).join(Account, Account.id == JournalLine.account_id)
            .where(JournalLine.fund_id == fund.id, Account.code == code))
    if net_asset_class is not None:
        stmt = stmt.where(JournalLine.net_asset_class == net_asset_class)
    return Decimal(session.scalar(stmt)).quantize(Decimal("0.01"))


def entry_lines(entry: JournalEntry) -> list[tuple[str, str, Decimal]]:
    """(account code, class, amount) of an entry's lines, sorted."""
    return sorted((line.account.code, line.net_asset_class, line.amount) for line in entry.lines)
