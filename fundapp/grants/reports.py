"""Grantees' progress and final reports, and staff's review of them.

A report covers a period and says what was done (narrative, outputs, people reached) and what was spent in that
period against each budget line of the awarded application version. It is tied to the next unpaid tranche: once
staff accept it, that tranche (if it waits for a report) can be paid. A returned report stays as it was, with the
reason; the grantee files a new one. One report waits for review at a time; after the final report is accepted no
more are filed, and the award can be closed.

    spending ≥ 0 per line; all accepted spending plus this report's ≤ what has been paid so far
    final report: unspent = paid so far − all spending reported (this report's included)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from fundapp.audit.services import AuditTag, record_event
from fundapp.dates import local_today
from fundapp.db import utcnow
from fundapp.grants.attachments import Upload, check_grant_upload, save_grant_attachment
from fundapp.grants.awards import (
    accepted_final_report,
    accepted_spending,
    award_tranches,
    budget_lines,
    lock_award,
    next_tranche,
    tell_grantee,
)
from fundapp.grants.errors import GrantError
from fundapp.grants.models import (
    Award,
    AwardStatus,
    GrantReport,
    OrganisationMember,
    ReportKind,
    ReportSpending,
    ReportStatus,
)
from fundapp.grants.payments import finance_user_ids
from fundapp.money import CENT, MAX_AMOUNT, ZERO, fmt
from fundapp.notify.services import notify

TEXT_MAX = 20000
NOTE_MAX = 1000
REACH_MAX = 10_000_000
MAX_FILES = 10


@dataclass
class ReportInput:
    award: Award
    kind: str
    period_start: dt.date | None
    period_end: dt.date | None
    narrative: str
    outputs: str = ""
    beneficiaries_reached: int = 0
    spending: dict[int, Decimal] = field(default_factory=dict)  # budget line id -> spent in the period
    attachments: Sequence[Upload] = ()
    is_public: bool = True


def pending_report(session: Session, award_id: int) -> GrantReport | None:
    return session.scalar(select(GrantReport).where(GrantReport.award_id == award_id,
                                                    GrantReport.status == ReportStatus.submitted.value).limit(1))


def is_member(session: Session, user: Any | None, organisation_id: int) -> bool:
    return user is not None and session.scalar(select(OrganisationMember.id).where(
        OrganisationMember.user_id == user.id, OrganisationMember.organisation_id == organisation_id)) is not None


# --- filing -------------------------------------------------------------------------------------------------------


def _check_state(session: Session, award: Award, actor: Any | None) -> None:
    if not is_member(session, actor, award.organisation_id):
        raise GrantError(_("Only the grantee's own users file its reports."))
    if award.status != AwardStatus.active.value:
        raise GrantError(_("Award %(number)s is closed: no more reports are filed.", number=award.number))
    if award.paid_amount <= 0:
        raise GrantError(_("Reports are filed once the first tranche has been paid."))
    waiting = pending_report(session, award.id)
    if waiting is not None:
        raise GrantError(_("Report #%(id)d is waiting for review; file the next one after it was accepted or "
                           "returned.", id=waiting.id))
    if accepted_final_report(session, award.id) is not None:
        raise GrantError(_("The final report was accepted: no more reports are filed."))


def _check_text(data: ReportInput, today: dt.date) -> None:
    if data.kind not in (ReportKind.progress.value, ReportKind.final.value):
        raise GrantError(_("Choose a progress report or the final report."))
    start, end = data.period_start, data.period_end
    if not isinstance(start, dt.date) or not isinstance(end, dt.date):
        raise GrantError(_("Enter the period the report covers."))
    if end < start:
        raise GrantError(_("The period ends before it starts."))
    if end > today:
        raise GrantError(_("A report covers time that has passed: the period cannot end in the future."))
    if not (data.narrative or "").strip():
        raise GrantError(_("Say what was done in the period."))
    if len(data.narrative) > TEXT_MAX or len(data.outputs or "") > TEXT_MAX:
        raise GrantError(_("The text is too long (at most %(n)d characters).", n=TEXT_MAX))
    reach = data.beneficiaries_reached
    if not isinstance(reach, int) or isinstance(reach, bool) or reach < 0 or reach > REACH_MAX:
        raise GrantError(_("Enter the number of people reached (0 or more)."))
    if len(data.attachments) > MAX_FILES:
        raise GrantError(_("Attach at most %(n)d files to a report.", n=MAX_FILES))


def _check_spending(session: Session, award: Award, data: ReportInput) -> dict[int, Decimal]:
    lines = {line.id: line for line in budget_lines(award)}
    spending = {}
    for line_id, amount in data.spending.items():
        line = lines.get(line_id)
        if line is None:
            raise GrantError(_("Spending is reported only against the lines of the awarded budget."))
        if not isinstance(amount, Decimal) or not amount.is_finite() or amount < 0:
            raise GrantError(_("%(item)s: spending cannot be negative.", item=line.item))
        if amount != amount.quantize(CENT) or amount > MAX_AMOUNT:
            raise GrantError(_("%(item)s: enter an amount with at most two decimal places.", item=line.item))
        if amount > 0:
            spending[line_id] = amount
    earlier = sum(accepted_spending(session, award.id).values(), ZERO)
    total = earlier + sum(spending.values(), ZERO)
    if total > award.paid_amount:
        raise GrantError(_("Spending reported in all (%(total)s) cannot be more than the %(paid)s paid so far.",
                           total=fmt(total), paid=fmt(award.paid_amount)))
    return spending


def file_report(session: Session, data: ReportInput, actor: Any | None, today: dt.date | None = None
                ) -> GrantReport:
    """The grantee files a report; finance is told. Refused → nothing written (files are checked first)."""
    award = lock_award(session, data.award.id)
    _check_state(session, award, actor)
    _check_text(data, today or local_today())
    spending = _check_spending(session, award, data)
    for upload in data.attachments:
        check_grant_upload(upload)
    tranche = next_tranche(award_tranches(session, award.id))
    unspent = None
    if data.kind == ReportKind.final.value:
        spent = sum(accepted_spending(session, award.id).values(), ZERO) + sum(spending.values(), ZERO)
        unspent = award.paid_amount - spent
    report = GrantReport(
        award_id=award.id, tranche_id=tranche.id if tranche is not None else None, kind=data.kind,
        period_start=data.period_start, period_end=data.period_end, narrative=data.narrative.strip(),
        outputs=(data.outputs or "").strip(), beneficiaries_reached=data.beneficiaries_reached,
        unspent_amount=unspent, is_public=bool(data.is_public), status=ReportStatus.submitted.value,
        submitted_by_id=getattr(actor, "id", None))
    session.add(report)
    session.flush()
    session.add_all(ReportSpending(report_id=report.id, budget_line_id=line_id, amount=amount)
                    for line_id, amount in spending.items())
    session.flush()
    for upload in data.attachments:
        save_grant_attachment(session, upload, report=report, actor=actor)
    record_event(session, AuditTag.grant_report_submitted, actor, "grant_report", report.id, after={
        "award": award.id, "kind": report.kind, "tranche": tranche.seq if tranche is not None else None,
        "period": [report.period_start, report.period_end], "reached": report.beneficiaries_reached,
        "spending": {str(k): v for k, v in spending.items()}, "unspent": unspent,
        "files": len(data.attachments)})
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        subject = _("Grant %(number)s: %(org)s filed a report to review", number=award.number,
                    org=award.organisation.name)
    notify(session, finance_user_ids(session), "grant_report", subject, "", report_link(report))
    return report


def report_link(report: GrantReport) -> str:
    return f"/grants/reports/{report.id}"


# --- review -------------------------------------------------------------------------------------------------------


def _waiting(session: Session, report: GrantReport) -> tuple[Award, GrantReport]:
    award = lock_award(session, report.award_id)
    report = session.execute(select(GrantReport).where(GrantReport.id == report.id)
                             .execution_options(populate_existing=True)).scalar_one()
    if report.status != ReportStatus.submitted.value:
        raise GrantError(_("This report was already reviewed."))
    if award.status != AwardStatus.active.value:
        raise GrantError(_("Award %(number)s is closed.", number=award.number))
    return award, report


def _reviewed(session: Session, award: Award, report: GrantReport, status: str, note: str, actor: Any | None,
              tag: AuditTag) -> GrantReport:
    report.status, report.review_note = status, note
    report.reviewed_by_id, report.reviewed_at = getattr(actor, "id", None), utcnow()
    session.flush()
    record_event(session, tag, actor, "grant_report", report.id, before={"status": ReportStatus.submitted.value},
                 after={"status": status, "note": note})
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        if status == ReportStatus.accepted.value:
            subject = _("Grant %(number)s: your report was accepted", number=award.number)
        else:
            subject = _("Grant %(number)s: your report was returned; file it again", number=award.number)
    tell_grantee(session, award, "grant_report", subject, note, report_link(report))
    return report


def accept_report(session: Session, report: GrantReport, actor: Any | None, note: str = "") -> GrantReport:
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        raise GrantError(_("The note is too long (at most %(n)d characters).", n=NOTE_MAX))
    award, report = _waiting(session, report)
    return _reviewed(session, award, report, ReportStatus.accepted.value, note, actor, AuditTag.grant_report_accepted)


def return_report(session: Session, report: GrantReport, reason: str, actor: Any | None) -> GrantReport:
    reason = (reason or "").strip()
    if not reason:
        raise GrantError(_("Say what the grantee should change."))
    if len(reason) > NOTE_MAX:
        raise GrantError(_("The reason is too long (at most %(n)d characters).", n=NOTE_MAX))
    award, report = _waiting(session, report)
    return _reviewed(session, award, report, ReportStatus.returned.value, reason, actor,
                     AuditTag.grant_report_returned)
