"""Recording a decision on an application, and turning an approval into an award with its payable.

`record_decision` is the one way a decision is made, by the board (from an agenda item's count) or by staff
(under GRANT_STAFF_APPROVAL_LIMIT). For an approval it locks the fund, checks the fund can cover the amount at
this moment and that the programme's budget has room, then writes the decision, the award, its first tranche
and the payable entry in the caller's transaction. Refused → nothing is written.

    award       Dr 5101 业务活动成本 (非限定性) / Cr 2209 其他应付款, in the programme's fund
                restricted fund: also Dr 3102 限定性净资产 / Cr 3101 非限定性净资产 (the restriction is
                released as the money is committed to its purpose)
                journal key "grant-award:<application id>", source "grant_award"
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from fundapp.audit.services import AuditTag, record_event
from fundapp.dates import local_today
from fundapp.grants.errors import FundShortfall, GrantError
from fundapp.grants.funding import awarded_in, lock_fund, net_assets, spendable
from fundapp.grants.models import (
    Application,
    ApplicationStatus,
    Award,
    DecisionKind,
    DecisionOutcome,
    GrantDecision,
    Tranche,
)
from fundapp.grants.transitions import change_status
from fundapp.ledger.models import Account, NetAssetClass
from fundapp.ledger.services import LineSpec, books_text, post_entry
from fundapp.money import CENT, MAX_AMOUNT, fmt

EXPENSE, PAYABLE, RESTRICTED_NA, UNRESTRICTED_NA, BANK = "5101", "2209", "3102", "3101", "1002"
DECIDABLE = (ApplicationStatus.submitted.value, ApplicationStatus.in_review.value,
             ApplicationStatus.recommended.value, ApplicationStatus.on_agenda.value)


@dataclass
class Count:
    """A board vote's count and the rules it was taken under (all zero for a staff decision)."""

    votes_for: int = 0
    votes_against: int = 0
    abstentions: int = 0
    recused: int = 0
    eligible: int = 0
    quorum_rule: str = ""
    majority_rule: str = ""


def account(session: Session, code: str) -> Account:
    found = session.scalar(select(Account).where(Account.code == code))
    if found is None or not found.is_active:
        raise GrantError(_("Account %(code)s is missing or inactive in the chart of accounts.", code=code))
    return found


def lock_application(session: Session, application_id: int) -> Application:
    stmt = select(Application).where(Application.id == application_id).with_for_update(of=Application)
    return session.execute(stmt.execution_options(populate_existing=True)).scalar_one()


def staff_limit() -> Decimal:
    return Decimal(str(current_app.config.get("GRANT_STAFF_APPROVAL_LIMIT", "20000")))


def check_amount(amount: Any) -> Decimal:
    if not isinstance(amount, Decimal) or not amount.is_finite() or amount <= 0:
        raise GrantError(_("Enter a positive amount."))
    if amount != amount.quantize(CENT):
        raise GrantError(_("An amount has at most two decimal places."))
    if amount > MAX_AMOUNT:
        raise GrantError(_("The amount is too large."))
    return amount


def award_lines(session: Session, fund, amount: Decimal) -> list[LineSpec]:
    lines = [LineSpec(account(session, EXPENSE), fund, amount, NetAssetClass.unrestricted.value),
             LineSpec(account(session, PAYABLE), fund, -amount)]
    if fund.restriction == NetAssetClass.restricted.value:
        lines += [LineSpec(account(session, RESTRICTED_NA), fund, amount, NetAssetClass.restricted.value),
                  LineSpec(account(session, UNRESTRICTED_NA), fund, -amount, NetAssetClass.unrestricted.value)]
    return lines


def check_coverable(session: Session, application: Application, amount: Decimal, on: dt.date) -> None:
    """Refuse unless the fund (locked here) and the programme's budget can take `amount` now."""
    programme = application.programme
    fund = lock_fund(session, programme.fund_id)
    room = programme.budget - awarded_in(session, programme.id)
    if amount > room:
        raise FundShortfall(_("The programme's budget has %(room)s left, less than %(amount)s.",
                              room=fmt(max(room, Decimal("0"))), amount=fmt(amount)))
    available = spendable(session, fund, on)
    if amount > available:
        raise FundShortfall(_("Fund %(fund)s can spend %(available)s now, less than %(amount)s: approval refused.",
                              fund=fund.name, available=fmt(available), amount=fmt(amount)))


def fund_figures(session: Session, application: Application, on: dt.date) -> dict[str, Decimal]:
    """The fund and the programme as the decision found them (before its own award); kept in its audit event
    for the minutes."""
    programme = application.programme
    return {"fund_net_assets": net_assets(session, programme.fund, on),
            "fund_spendable": spendable(session, programme.fund, on),
            "programme_left": programme.budget - awarded_in(session, programme.id)}


def record_decision(session: Session, application: Application, *, kind: str, outcome: str, amount: Decimal,
                    actor: Any | None, count: Count | None = None, item_id: int | None = None, note: str = "",
                    public_summary: str = "", on: dt.date | None = None) -> GrantDecision:
    """Decide `application`; for an approval also create the award and post its payable."""
    on = on or local_today()
    application = lock_application(session, application.id)
    if application.status not in DECIDABLE:
        raise GrantError(_("Application %(ref)s is not waiting for a decision.", ref=application.reference))
    if kind not in (DecisionKind.board.value, DecisionKind.staff.value):
        raise GrantError(_("Unknown kind of decision."))
    if outcome not in tuple(o.value for o in DecisionOutcome):
        raise GrantError(_("Unknown decision outcome."))
    if kind == DecisionKind.board.value and item_id is None:
        raise GrantError(_("A board decision belongs to an agenda item."))
    amount = check_amount(amount) if outcome == DecisionOutcome.approved.value else (amount or Decimal("0.00"))
    if kind == DecisionKind.staff.value and outcome == DecisionOutcome.approved.value and amount > staff_limit():
        raise GrantError(_("Grants above %(limit)s need the board's decision.", limit=fmt(staff_limit())))
    if outcome == DecisionOutcome.approved.value:
        check_coverable(session, application, amount, on)
    figures = fund_figures(session, application, on)
    count = count or Count()
    decision = GrantDecision(
        application_id=application.id, item_id=item_id, kind=kind, outcome=outcome, amount=amount,
        votes_for=count.votes_for, votes_against=count.votes_against, abstentions=count.abstentions,
        recused=count.recused, eligible=count.eligible, quorum_rule=count.quorum_rule,
        majority_rule=count.majority_rule, note=note, public_summary=public_summary, decided_on=on,
        decided_by_id=getattr(actor, "id", None))
    session.add(decision)
    session.flush()
    record_event(session, AuditTag.grant_decided, actor, "grant_decision", decision.id, after={
        "application": application.id, "kind": kind, "outcome": outcome, "amount": amount,
        "for": count.votes_for, "against": count.votes_against, "abstain": count.abstentions,
        "recused": count.recused, "eligible": count.eligible, "item": item_id, **figures})
    if outcome == DecisionOutcome.approved.value:
        change_status(session, application, ApplicationStatus.approved.value, actor)
        create_award(session, application, decision, actor)
    elif outcome == DecisionOutcome.rejected.value:
        change_status(session, application, ApplicationStatus.rejected.value, actor, note)
    return decision


def create_award(session: Session, application: Application, decision: GrantDecision, actor: Any | None) -> Award:
    """The award of an approved decision: payable posted, one tranche for the whole amount (staff may split it)."""
    programme = application.programme
    fund = programme.fund
    version = application.latest_submitted or application.current
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        memo = books_text("Grant award %(number)s to %(org)s: %(title)s", number=_award_number(application, decision),
                          org=application.organisation.name, title=version.title)
    entry = post_entry(session, effective_date=decision.decided_on, memo=memo[:500],
                       lines=award_lines(session, fund, decision.amount),
                       idempotency_key=f"grant-award:{application.id}", source_type="grant_award",
                       source_id=str(application.id), author=actor)
    award = Award(number=_award_number(application, decision), application_id=application.id,
                  decision_id=decision.id, organisation_id=application.organisation_id, programme_id=programme.id,
                  fund_id=fund.id, title=version.title or application.reference, amount=decision.amount,
                  awarded_on=decision.decided_on, payable_entry_id=entry.id)
    session.add(award)
    session.flush()
    session.add(Tranche(award_id=award.id, seq=1, amount=award.amount, due_on=award.awarded_on,
                        milestone="", requires_report=False))
    session.flush()
    record_event(session, AuditTag.award_created, actor, "award", award.id, after={
        "number": award.number, "application": application.id, "fund": fund.id, "amount": award.amount,
        "entry": entry.id})
    return award


def _award_number(application: Application, decision: GrantDecision) -> str:
    return f"G{decision.decided_on.year}-{application.id:05d}"
