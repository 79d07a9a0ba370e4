"""An award after its approval: the tranche schedule, the award's lock, and the close-out.

    schedule    staff split the award into tranches (amounts adding up exactly to the award, due dates in order,
                milestones, which tranches wait for an accepted report) while nothing has been paid or is
                waiting for approval; the tranches are replaced in one call
    close-out   after the final report is accepted: the payable still owed is released and tranches not paid
                are cancelled; money the grantee gives back is posted back to the fund; the award is closed

    release     Dr 2209 其他应付款 / Cr 5101 业务活动成本 (非限定性), in the award's fund
                restricted fund: also Dr 3101 非限定性净资产 / Cr 3102 限定性净资产 (the restriction released at the
                award is put back for the unspent part)
                journal key "grant-close:<award id>:release", source "grant_close"
    return      Dr 1002 银行存款 / Cr 5101 业务活动成本 (非限定性), restricted fund also Dr 3101 / Cr 3102
                journal key "grant-close:<award id>:return", source "grant_close"

Every change to an award's money takes the award row FOR UPDATE first (`lock_award`), so a payment, an approval
and a close-out on one award run one after the other.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, selectinload

from fundapp.audit.services import AuditTag, record_event
from fundapp.dates import local_today
from fundapp.grants.decisions import BANK, EXPENSE, PAYABLE, RESTRICTED_NA, UNRESTRICTED_NA, account, check_amount
from fundapp.grants.errors import GrantError
from fundapp.grants.models import (
    AgendaItem,
    ApplicationVersion,
    AssignmentStatus,
    Award,
    AwardStatus,
    BudgetLine,
    GrantDecision,
    GrantReport,
    Organisation,
    PaymentStatus,
    ReportKind,
    ReportSpending,
    ReportStatus,
    ReviewAssignment,
    Tranche,
    TranchePayment,
    TrancheStatus,
)
from fundapp.grants.review import review_total, scored_reviews, weighted_score
from fundapp.grants.transitions import applicant_user_ids
from fundapp.ledger.models import JournalEntry, NetAssetClass
from fundapp.ledger.services import LineSpec, books_text, post_entry
from fundapp.money import CENT, ZERO, fmt
from fundapp.notify.services import notify

MAX_TRANCHES = 24
MILESTONE_MAX = 500
NOTE_MAX = 2000
REFERENCE_MAX = 100
UNPAID = (TrancheStatus.scheduled.value, TrancheStatus.awaiting_approval.value)


# --- reading an award under its lock ------------------------------------------------------------------------------


def lock_award(session: Session, award_id: int) -> Award:
    """The award row, locked until the transaction ends (PostgreSQL; SQLite serialises writers anyway)."""
    stmt = select(Award).where(Award.id == award_id).with_for_update(of=Award)
    return session.execute(stmt.execution_options(populate_existing=True)).scalar_one()


def award_tranches(session: Session, award_id: int) -> list[Tranche]:
    """The award's tranches in order, read afresh from the database (call after `lock_award`)."""
    stmt = select(Tranche).where(Tranche.award_id == award_id).order_by(Tranche.seq)
    return list(session.scalars(stmt.execution_options(populate_existing=True)))


def next_tranche(tranches: list[Tranche]) -> Tranche | None:
    """The first tranche not yet paid (nor cancelled): the one to pay next, and the one a new report unlocks."""
    return next((t for t in tranches if t.status in UNPAID), None)


def award_link(award: Award) -> str:
    return f"/grants/awards/{award.id}"


def tell_grantee(session: Session, award: Award, kind: str, subject: str, body: str = "", link: str = "") -> None:
    notify(session, applicant_user_ids(session, award.organisation_id), kind, subject, body, link or award_link(award))


def close_entries(session: Session, award: Award) -> list[JournalEntry]:
    return list(session.scalars(select(JournalEntry).where(
        JournalEntry.source_type == "grant_close", JournalEntry.source_id == str(award.id)).order_by(JournalEntry.seq)))


# --- the schedule -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrancheSpec:
    amount: Decimal
    due_on: dt.date
    milestone: str = ""
    requires_report: bool | None = None  # None: every tranche after the first waits for a report


def _tranche_row(tranche: Tranche) -> dict[str, Any]:
    return {"seq": tranche.seq, "amount": tranche.amount, "due_on": tranche.due_on, "milestone": tranche.milestone,
            "requires_report": tranche.requires_report}


def _check_specs(award: Award, specs: list[TrancheSpec]) -> list[TrancheSpec]:
    if not specs:
        raise GrantError(_("Enter at least one tranche."))
    if len(specs) > MAX_TRANCHES:
        raise GrantError(_("An award has at most %(n)d tranches.", n=MAX_TRANCHES))
    checked, previous = [], None
    for seq, spec in enumerate(specs, start=1):
        try:
            amount = check_amount(spec.amount)
        except GrantError as error:
            raise GrantError(_("Tranche %(seq)d: %(problem)s", seq=seq, problem=error.message)) from None
        due = spec.due_on
        if not isinstance(due, dt.date) or isinstance(due, dt.datetime):
            raise GrantError(_("Tranche %(seq)d needs a due date.", seq=seq))
        if due < award.awarded_on:
            raise GrantError(_("Tranche %(seq)d is due before the award was made (%(date)s).", seq=seq,
                               date=award.awarded_on.isoformat()))
        if previous is not None and due < previous:
            raise GrantError(_("Tranche %(seq)d is due before the tranche above it: list the tranches in the order "
                               "they are paid.", seq=seq))
        milestone = (spec.milestone or "").strip()
        if len(milestone) > MILESTONE_MAX:
            raise GrantError(_("Tranche %(seq)d: the milestone is too long (at most %(n)d characters).", seq=seq,
                               n=MILESTONE_MAX))
        needs_report = seq > 1 if spec.requires_report is None else bool(spec.requires_report)
        if seq == 1 and needs_report:
            raise GrantError(_("The first tranche cannot wait for a report: no report is due before it."))
        checked.append(TrancheSpec(amount, due, milestone, needs_report))
        previous = due
    total = sum((s.amount for s in checked), ZERO)
    if total != award.amount:
        raise GrantError(_("The tranches add up to %(total)s; they must add up to the award, %(amount)s.",
                           total=fmt(total), amount=fmt(award.amount)))
    return checked


def _check_unpaid(session: Session, award: Award, tranches: list[Tranche]) -> None:
    if award.status != AwardStatus.active.value:
        raise GrantError(_("Award %(number)s is closed.", number=award.number))
    if award.paid_amount > 0 or any(t.status != TrancheStatus.scheduled.value for t in tranches):
        raise GrantError(_("A tranche of award %(number)s was paid or is waiting for approval: the schedule can no "
                           "longer be changed.", number=award.number))
    live = session.scalar(select(TranchePayment.id).where(
        TranchePayment.award_id == award.id, TranchePayment.status != PaymentStatus.rejected.value).limit(1))
    if live is not None:
        raise GrantError(_("A tranche of award %(number)s was paid or is waiting for approval: the schedule can no "
                           "longer be changed.", number=award.number))


def set_schedule(session: Session, award: Award, specs: list[TrancheSpec], actor: Any | None) -> list[Tranche]:
    """Replace the award's tranches with `specs` (in payment order). Refused once anything was paid."""
    award = lock_award(session, award.id)
    tranches = award_tranches(session, award.id)
    _check_unpaid(session, award, tranches)
    specs = _check_specs(award, list(specs))
    before = [_tranche_row(t) for t in tranches]
    by_seq = {t.seq: t for t in tranches}
    result = []
    for seq, spec in enumerate(specs, start=1):
        tranche = by_seq.pop(seq, None)  # kept rows keep their id: a rejected payment of tranche 1 stays linked
        if tranche is None:
            tranche = Tranche(award_id=award.id, seq=seq)
            session.add(tranche)
        tranche.amount, tranche.due_on = spec.amount, spec.due_on
        tranche.milestone, tranche.requires_report = spec.milestone, spec.requires_report
        result.append(tranche)
    for surplus in by_seq.values():
        session.delete(surplus)
    session.flush()
    session.expire(award, ["tranches"])
    record_event(session, AuditTag.award_schedule_set, actor, "award", award.id, before={"tranches": before},
                 after={"tranches": [_tranche_row(t) for t in result]})
    return result


# --- close-out ----------------------------------------------------------------------------------------------------


@dataclass
class CloseInput:
    award: Award
    closed_on: dt.date
    note: str = ""
    returned_amount: Decimal = ZERO
    returned_on: dt.date | None = None
    return_reference: str = ""


def accepted_final_report(session: Session, award_id: int) -> GrantReport | None:
    return session.scalar(select(GrantReport).where(
        GrantReport.award_id == award_id, GrantReport.kind == ReportKind.final.value,
        GrantReport.status == ReportStatus.accepted.value).order_by(GrantReport.id.desc()).limit(1))


def check_day(value: Any, award: Award, today: dt.date, missing: str, future: str, early: str) -> dt.date:
    """`value` if it is a date between the award's date and today; else the matching message is raised."""
    if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
        raise GrantError(missing)
    if value > today:
        raise GrantError(future)
    if value < award.awarded_on:
        raise GrantError(early)
    return value


def _check_close(session: Session, award: Award, tranches: list[Tranche], data: CloseInput, today: dt.date) -> None:
    if award.status != AwardStatus.active.value:
        raise GrantError(_("Award %(number)s is already closed.", number=award.number))
    if accepted_final_report(session, award.id) is None:
        raise GrantError(_("Award %(number)s is closed only after its final report was accepted.",
                           number=award.number))
    if any(t.status == TrancheStatus.awaiting_approval.value for t in tranches):
        raise GrantError(_("A payment of this award is waiting for a second approver: approve or reject it first."))
    awarded = award.awarded_on.isoformat()
    check_day(data.closed_on, award, today, _("Enter the date of the close-out."),
              _("The close-out cannot be dated in the future."),
              _("The close-out cannot be dated before the award was made (%(date)s).", date=awarded))
    if len((data.note or "").strip()) > NOTE_MAX:
        raise GrantError(_("The note is too long (at most %(n)d characters).", n=NOTE_MAX))
    returned = data.returned_amount
    if not isinstance(returned, Decimal) or not returned.is_finite() or returned < 0:
        raise GrantError(_("The money returned cannot be negative."))
    if returned != returned.quantize(CENT):
        raise GrantError(_("An amount has at most two decimal places."))
    if returned > award.paid_amount:
        raise GrantError(_("The grantee cannot return %(amount)s: only %(paid)s was paid.", amount=fmt(returned),
                           paid=fmt(award.paid_amount)))
    if returned > 0:
        check_day(data.returned_on, award, today, _("Enter the date the money came back."),
                  _("Money cannot come back on a date in the future."),
                  _("Money cannot come back before the award was made (%(date)s).", date=awarded))
    if len((data.return_reference or "").strip()) > REFERENCE_MAX:
        raise GrantError(_("The reference is too long (at most %(n)d characters).", n=REFERENCE_MAX))


def _expense_lines(session: Session, fund, debit_code: str, amount: Decimal) -> list[LineSpec]:
    """Debit `debit_code`, credit 5101; in a restricted fund the released restriction is put back."""
    lines = [LineSpec(account(session, debit_code), fund, amount),
             LineSpec(account(session, EXPENSE), fund, -amount, NetAssetClass.unrestricted.value)]
    if fund.restriction == NetAssetClass.restricted.value:
        lines += [LineSpec(account(session, UNRESTRICTED_NA), fund, amount, NetAssetClass.unrestricted.value),
                  LineSpec(account(session, RESTRICTED_NA), fund, -amount, NetAssetClass.restricted.value)]
    return lines


def _post_close(session: Session, award: Award, part: str, day: dt.date, memo: str, lines: list[LineSpec],
                actor: Any | None) -> JournalEntry:
    return post_entry(session, effective_date=day, memo=memo[:500], lines=lines,
                      idempotency_key=f"grant-close:{award.id}:{part}", source_type="grant_close",
                      source_id=str(award.id), author=actor)


def close_award(session: Session, data: CloseInput, actor: Any | None, today: dt.date | None = None) -> Award:
    """Close an award: release what is still owed, post back what the grantee returned, cancel unpaid tranches."""
    award = lock_award(session, data.award.id)
    tranches = award_tranches(session, award.id)
    _check_close(session, award, tranches, data, today or local_today())
    before = {"status": award.status, "paid": award.paid_amount, "released": award.released_amount,
              "returned": award.returned_amount}
    release, returned = award.outstanding, data.returned_amount
    reference = (data.return_reference or "").strip()
    entries = []
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        if release > 0:
            memo = books_text("Grant %(number)s closed: unpaid %(amount)s released", number=award.number,
                              amount=fmt(release))
            entries.append(_post_close(session, award, "release", data.closed_on, memo,
                                       _expense_lines(session, award.fund, PAYABLE, release), actor))
        if returned > 0:
            memo = books_text("Grant %(number)s: %(amount)s returned by %(org)s (reference %(ref)s)",
                              number=award.number, amount=fmt(returned), org=award.organisation.name,
                              ref=reference or "—")
            entries.append(_post_close(session, award, "return", data.returned_on, memo,
                                       _expense_lines(session, award.fund, BANK, returned), actor))
    cancelled = [t.seq for t in tranches if t.status == TrancheStatus.scheduled.value]
    for tranche in tranches:
        if tranche.status == TrancheStatus.scheduled.value:
            tranche.status = TrancheStatus.cancelled.value
    award.released_amount += release
    award.returned_amount = returned
    award.status, award.closed_on = AwardStatus.closed.value, data.closed_on
    award.close_note = (data.note or "").strip()
    session.flush()
    record_event(session, AuditTag.award_closed, actor, "award", award.id, before=before, after={
        "status": award.status, "closed_on": award.closed_on, "released": award.released_amount,
        "returned": award.returned_amount, "returned_on": data.returned_on if returned > 0 else None,
        "reference": reference, "cancelled_tranches": cancelled, "entries": [e.id for e in entries]})
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        subject = _("Grant %(number)s was closed", number=award.number)
        body = _("Paid %(paid)s; returned %(returned)s; released %(released)s.", paid=fmt(award.paid_amount),
                 returned=fmt(award.returned_amount), released=fmt(award.released_amount))
    tell_grantee(session, award, "grant_closed", subject, body)
    return award


# --- reading: the list and the whole life of one award ------------------------------------------------------------


def awards_query(*, text: str | None = None, fund_id: int | None = None, programme_id: int | None = None,
                 status: str | None = None, organisation_id: int | None = None, sort: str = ""):
    """The awards matching the filters (`organisation_id`: only that organisation's, for an applicant)."""
    stmt = select(Award).join(Organisation, Organisation.id == Award.organisation_id)
    if text:
        stmt = stmt.where(or_(Organisation.name.icontains(text, autoescape=True),
                              Award.number.icontains(text, autoescape=True),
                              Award.title.icontains(text, autoescape=True)))
    for column, value in ((Award.fund_id, fund_id), (Award.programme_id, programme_id), (Award.status, status),
                          (Award.organisation_id, organisation_id)):
        if value is not None and value != "":
            stmt = stmt.where(column == value)
    order = {"oldest": (Award.awarded_on, Award.id), "amount": (Award.amount.desc(), Award.id.desc()),
             "number": (Award.number,)}.get(sort, (Award.awarded_on.desc(), Award.id.desc()))
    return stmt.options(selectinload(Award.programme)).order_by(*order)


@dataclass
class ReviewLine:
    reviewer: str
    status: str
    total: Decimal | None
    comment: str
    scored: list = field(default_factory=list)  # the criterion scores (review.Scored), for the exact mean


@dataclass
class AwardLife:
    award: Award
    version: ApplicationVersion | None
    reviews: list[ReviewLine]
    decision: GrantDecision
    item: AgendaItem | None
    tranches: list[Tranche]
    payments: list[TranchePayment]
    reports: list[GrantReport]
    entries: list[JournalEntry]
    lines: list[BudgetLine]
    spent: dict[int, Decimal]

    @property
    def mean_review(self) -> Decimal | None:
        return weighted_score([r.scored for r in self.reviews if r.scored])


def budget_lines(award: Award) -> list[BudgetLine]:
    """The budget of the awarded (last submitted) application version."""
    version = award.application.latest_submitted
    return list(version.budget_lines) if version is not None else []


def accepted_spending(session: Session, award_id: int) -> dict[int, Decimal]:
    """Spent per budget line, from the award's accepted reports."""
    rows = session.execute(select(ReportSpending.budget_line_id, func.sum(ReportSpending.amount))
                           .join(GrantReport, GrantReport.id == ReportSpending.report_id)
                           .where(GrantReport.award_id == award_id, GrantReport.status == ReportStatus.accepted.value)
                           .group_by(ReportSpending.budget_line_id)).all()
    return {line_id: Decimal(total or 0).quantize(CENT) for line_id, total in rows}


def review_lines(session: Session, award: Award) -> list[ReviewLine]:
    criteria = {c.id: c for c in award.programme.criteria}
    rows = []
    for assignment in session.scalars(select(ReviewAssignment).where(
            ReviewAssignment.application_id == award.application_id).options(selectinload(ReviewAssignment.scores))
            .order_by(ReviewAssignment.id)):
        scored = scored_reviews(assignment, criteria) if assignment.status == AssignmentStatus.submitted.value else []
        rows.append(ReviewLine(assignment.reviewer.display_name, assignment.status,
                               review_total(scored) if scored else None, assignment.comment, scored))
    return rows


def award_life(session: Session, award: Award) -> AwardLife:
    decision = award.decision
    payments = list(session.scalars(select(TranchePayment).where(TranchePayment.award_id == award.id)
                                    .options(selectinload(TranchePayment.entry), selectinload(TranchePayment.tranche),
                                             selectinload(TranchePayment.requested_by),
                                             selectinload(TranchePayment.approved_by))
                                    .order_by(TranchePayment.id)))
    entries = [award.payable_entry, *(p.entry for p in payments if p.entry is not None), *close_entries(session, award)]
    reports = list(session.scalars(select(GrantReport).where(GrantReport.award_id == award.id)
                                   .options(selectinload(GrantReport.tranche)).order_by(GrantReport.id)))
    return AwardLife(award=award, version=award.application.latest_submitted, reviews=review_lines(session, award),
                     decision=decision, item=decision.item, tranches=list(award.tranches), payments=payments,
                     reports=reports, entries=sorted(entries, key=lambda e: e.seq), lines=budget_lines(award),
                     spent=accepted_spending(session, award.id))
