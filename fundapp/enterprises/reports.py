"""Revenue reports: file, amend, confirm, reject.

    filing / amendment      a pending revision: figures and the share computed by the report's agreement
                            version (an amendment keeps the version the report was first filed under)
    confirmation            posts the difference between the revision's share and the share confirmed before:
                              more   Dr 1121 应收账款 / Cr income       less   Dr income / Cr 1121
                            income by the agreement's nature: gift 4101 捐赠收入, shareholding 4601 投资收益,
                            services 4301 提供服务收入; both lines in the agreement's fund and class.
                            Journal key "enterprise-share:<report id>:<revision>", source "enterprise_share".
    rejection               nothing is posted; a rejected first filing frees the period to be filed again.

A revision is never edited: a confirmed report changes only by an amendment, which posts the difference.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fundapp.audit.services import AuditTag, record_event
from fundapp.dates import local_today
from fundapp.db import utcnow
from fundapp.enterprises.agreements import latest_version, lock_enterprise, terms_of, version_on
from fundapp.enterprises.attachments import Upload, add_attachment, check_upload
from fundapp.enterprises.errors import EnterpriseError
from fundapp.enterprises.models import (
    RECEIVABLE,
    Agreement,
    Enterprise,
    ReportRevision,
    ReportStatus,
    RevenueReport,
    RevisionStatus,
)
from fundapp.enterprises.periods import is_period_start, period_end, period_label
from fundapp.enterprises.share import compute_share
from fundapp.ledger.models import Account
from fundapp.ledger.services import LineSpec, books_text, post_entry
from fundapp.money import CENT, MAX_AMOUNT, fmt

KEY_MAX = 100


@dataclass(frozen=True)
class Figures:
    revenue: Decimal
    costs: Decimal
    profit: Decimal | None = None  # None: revenue minus costs


@dataclass
class ReportInput:
    enterprise: Enterprise
    period_start: dt.date
    figures: Figures
    note: str = ""
    attachment: Upload | None = None
    key: str = field(default_factory=lambda: str(uuid.uuid4()))


@dataclass
class AmendmentInput:
    report: RevenueReport
    figures: Figures
    reason: str
    attachment: Upload | None = None
    key: str = field(default_factory=lambda: str(uuid.uuid4()))


# --- lookups ------------------------------------------------------------------------------------------------------


def account_by_code(session: Session, code: str) -> Account:
    account = session.scalar(select(Account).where(Account.code == code))
    if account is None or not account.is_active:
        raise EnterpriseError(_("Account %(code)s is missing or inactive in the chart of accounts.", code=code))
    return account


def find_revision_by_key(session: Session, key: str) -> ReportRevision | None:
    return session.scalar(select(ReportRevision).where(ReportRevision.key == key))


def find_report(session: Session, enterprise_id: int, start: dt.date) -> RevenueReport | None:
    return session.scalar(select(RevenueReport).where(RevenueReport.enterprise_id == enterprise_id,
                                                      RevenueReport.period_start == start))


def lock_report(session: Session, report_id: int) -> RevenueReport:
    stmt = select(RevenueReport).where(RevenueReport.id == report_id).with_for_update(of=RevenueReport)
    return session.execute(stmt.execution_options(populate_existing=True)).scalar_one()


# --- validation ---------------------------------------------------------------------------------------------------


def check_key(key: str) -> None:
    if not key or len(key) > KEY_MAX:
        raise EnterpriseError(_("The form has no valid submission key; reload it and try again."))


def _check_money(value: Any, negative_message: str, allow_negative: bool = False) -> Decimal:
    if not isinstance(value, Decimal) or not value.is_finite():
        raise EnterpriseError(_("Enter a number such as 1234.56."))
    if value < 0 and not allow_negative:
        raise EnterpriseError(negative_message)
    if value != value.quantize(CENT):
        raise EnterpriseError(_("An amount has at most two decimal places."))
    if abs(value) > MAX_AMOUNT:
        raise EnterpriseError(_("The amount is too large."))
    return value + Decimal("0.00")


def check_figures(figures: Figures) -> Figures:
    """The figures with the profit filled in, or EnterpriseError naming what is wrong."""
    revenue = _check_money(figures.revenue, _("Revenue cannot be negative."))
    costs = _check_money(figures.costs, _("Costs cannot be negative."))
    profit = revenue - costs if figures.profit is None else _check_money(figures.profit, "", allow_negative=True)
    if abs(profit) > MAX_AMOUNT:
        raise EnterpriseError(_("The amount is too large."))
    return Figures(revenue, costs, profit)


def _outside(session: Session, enterprise: Enterprise, start: dt.date) -> EnterpriseError:
    latest = latest_version(session, enterprise.id)
    if latest is None:
        return EnterpriseError(_("%(name)s has no agreement yet: finance records it first.", name=enterprise.name))
    first = session.scalar(select(func.min(Agreement.effective_from)).where(Agreement.enterprise_id == enterprise.id))
    if latest.ends_on is None:
        return EnterpriseError(_("The period starting %(date)s is outside the agreement, in force from %(start)s.",
                                 date=start.isoformat(), start=first.isoformat()))
    return EnterpriseError(_("The period starting %(date)s is outside the agreement, in force from %(start)s to "
                             "%(end)s.", date=start.isoformat(), start=first.isoformat(),
                             end=latest.ends_on.isoformat()))


def resolve_period(session: Session, enterprise: Enterprise, start: dt.date, today: dt.date) -> tuple[Agreement,
                                                                                                       dt.date]:
    """The agreement version for the period starting `start` and the period's last day, or EnterpriseError."""
    if not isinstance(start, dt.date):
        raise EnterpriseError(_("Choose the period to report."))
    agreement = version_on(session, enterprise.id, start)
    if agreement is None:
        raise _outside(session, enterprise, start)
    if not is_period_start(start, agreement.periodicity):
        raise EnterpriseError(_("%(date)s does not start a reporting period; choose one from the list.",
                                date=start.isoformat()))
    end = period_end(start, agreement.periodicity)
    if version_on(session, enterprise.id, end) is not agreement:
        raise _outside(session, enterprise, start)
    label = period_label(start, agreement.periodicity)
    if end >= today:
        raise EnterpriseError(_("Period %(period)s has not ended yet; it can be reported from %(date)s.",
                                period=label, date=(end + dt.timedelta(days=1)).isoformat()))
    return agreement, end


def _check_text(note: str, limit: int = 500) -> str:
    note = (note or "").strip()
    if len(note) > limit:
        raise EnterpriseError(_("The note is too long (at most %(n)d characters).", n=limit))
    return note


# --- filing and amending ------------------------------------------------------------------------------------------


def _new_revision(session: Session, report: RevenueReport, figures: Figures, key: str, note: str,
                  actor: Any | None, today: dt.date) -> ReportRevision:
    share = compute_share(terms_of(report.agreement), figures.revenue, figures.profit)
    number = max((r.revision for r in report.revisions), default=0) + 1
    revision = ReportRevision(
        key=key, report=report, revision=number, revenue=figures.revenue, costs=figures.costs,
        profit=figures.profit, base=share.base, share=share.amount, note=note, filed_by_id=getattr(actor, "id", None),
        filed_on=today,
    )
    session.add(revision)
    session.flush()
    return revision


def _audit_filing(session: Session, tag: AuditTag, revision: ReportRevision, actor: Any | None) -> None:
    report = revision.report
    record_event(session, tag, actor, "enterprise_report", report.id, after={
        "enterprise": report.enterprise_id, "period": report.period_start, "agreement": report.agreement_id,
        "revision": revision.revision, "revenue": revision.revenue, "costs": revision.costs, "profit": revision.profit,
        "base": revision.base, "share": revision.share, "note": revision.note})


def file_report(session: Session, data: ReportInput, actor: Any | None, today: dt.date | None = None
                ) -> ReportRevision:
    """File a period's revenue report (idempotent on `data.key`). The share waits for finance's confirmation."""
    check_key(data.key)
    enterprise = lock_enterprise(session, data.enterprise.id)
    existing = find_revision_by_key(session, data.key)
    if existing is not None:
        return existing
    figures = check_figures(data.figures)
    note = _check_text(data.note)
    today = today or local_today()
    agreement, end = resolve_period(session, enterprise, data.period_start, today)
    report = find_report(session, enterprise.id, data.period_start)
    if report is not None and report.status != ReportStatus.rejected.value:
        label = period_label(data.period_start, agreement.periodicity)
        if report.status == ReportStatus.confirmed.value:
            raise EnterpriseError(_("Period %(period)s is already reported and confirmed; file an amendment instead.",
                                    period=label))
        raise EnterpriseError(_("Period %(period)s is already reported and waits for confirmation.", period=label))
    if data.attachment is not None:
        check_upload(data.attachment)  # refused before anything is written
    if report is None:
        report = RevenueReport(enterprise_id=enterprise.id, agreement_id=agreement.id, period_start=data.period_start,
                               period_end=end, due_on=end + dt.timedelta(days=agreement.due_days))
        session.add(report)
        session.flush()
    report.status = ReportStatus.filed.value
    revision = _new_revision(session, report, figures, data.key, note, actor, today)
    if data.attachment is not None:
        add_attachment(session, report, data.attachment, actor, revision)
    _audit_filing(session, AuditTag.report_filed, revision, actor)
    return revision


def amend_report(session: Session, data: AmendmentInput, actor: Any | None, today: dt.date | None = None
                 ) -> ReportRevision:
    """File new figures for a confirmed report; on confirmation only the difference in the share is posted."""
    check_key(data.key)
    lock_enterprise(session, data.report.enterprise_id)
    existing = find_revision_by_key(session, data.key)
    if existing is not None:
        return existing
    report = lock_report(session, data.report.id)
    if report.status != ReportStatus.confirmed.value:
        raise EnterpriseError(_("Only a confirmed report can be amended."))
    if report.pending_revision is not None:
        raise EnterpriseError(_("An amendment of this report already waits for confirmation."))
    reason = _check_text(data.reason)
    if not reason:
        raise EnterpriseError(_("Say why the report is amended."))
    figures = check_figures(data.figures)
    current = report.current_revision
    if (current.revenue, current.costs, current.profit) == (figures.revenue, figures.costs, figures.profit):
        raise EnterpriseError(_("The amendment has the same figures as the confirmed report."))
    if data.attachment is not None:
        check_upload(data.attachment)
    revision = _new_revision(session, report, figures, data.key, reason, actor, today or local_today())
    if data.attachment is not None:
        add_attachment(session, report, data.attachment, actor, revision)
    _audit_filing(session, AuditTag.report_amended, revision, actor)
    return revision


# --- deciding -----------------------------------------------------------------------------------------------------


def _pending(session: Session, revision: ReportRevision) -> RevenueReport:
    report = lock_report(session, revision.report_id)
    session.refresh(revision)
    if revision.status == RevisionStatus.confirmed.value:
        raise EnterpriseError(_("This report was already confirmed."))
    if revision.status == RevisionStatus.rejected.value:
        raise EnterpriseError(_("This report was rejected."))
    return report


def _post_difference(session: Session, report: RevenueReport, revision: ReportRevision, difference: Decimal,
                     on: dt.date, actor: Any | None):
    agreement = report.agreement
    receivable = account_by_code(session, RECEIVABLE)
    income = account_by_code(session, agreement.income_account_code)
    lines = [LineSpec(receivable, agreement.fund, difference), LineSpec(income, agreement.fund, -difference)]
    label = period_label(report.period_start, agreement.periodicity)
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):  # the books speak the foundation's language
        memo = books_text("Enterprise #%(id)d share for %(period)s (report %(report)d, revision %(revision)d)",
                 id=report.enterprise_id, period=label, report=report.id, revision=revision.revision)
    return post_entry(session, effective_date=on, memo=memo, lines=lines,
                      idempotency_key=f"enterprise-share:{report.id}:{revision.revision}",
                      source_type="enterprise_share", source_id=str(revision.id), author=actor)


def confirm_revision(session: Session, revision: ReportRevision, actor: Any | None, on: dt.date | None = None,
                     today: dt.date | None = None) -> ReportRevision:
    """Confirm a filing or amendment: the share becomes (or its change adjusts) the receivable."""
    report = _pending(session, revision)
    today = today or local_today()
    on = on or today
    if on > today:
        raise EnterpriseError(_("The share cannot be booked on a future date."))
    if on < report.period_end:
        raise EnterpriseError(_("The share cannot be booked before the period ends (%(date)s).",
                                date=report.period_end.isoformat()))
    if revision.share < report.paid_amount:
        raise EnterpriseError(_("The amended share (%(share)s) is less than the %(paid)s already paid; reverse a "
                                "payment first.", share=fmt(revision.share), paid=fmt(report.paid_amount)))
    difference = revision.share - report.share_due
    entry = _post_difference(session, report, revision, difference, on, actor) if difference else None
    revision.status, revision.difference = RevisionStatus.confirmed.value, difference
    revision.entry_id = entry.id if entry is not None else None
    revision.decided_by_id, revision.decided_at = getattr(actor, "id", None), utcnow()
    report.share_due, report.status = revision.share, ReportStatus.confirmed.value
    session.flush()
    record_event(session, AuditTag.report_confirmed, actor, "enterprise_report", report.id, after={
        "revision": revision.revision, "share": revision.share, "difference": difference, "date": on,
        "entry": revision.entry_id})
    return revision


def reject_revision(session: Session, revision: ReportRevision, reason: str, actor: Any | None) -> ReportRevision:
    """Send a filing or amendment back with a reason; nothing is posted."""
    reason = (reason or "").strip()
    if not reason:
        raise EnterpriseError(_("Say why the report is rejected."))
    if len(reason) > 300:
        raise EnterpriseError(_("The reason is too long (at most %(n)d characters).", n=300))
    report = _pending(session, revision)
    revision.status, revision.decision_note = RevisionStatus.rejected.value, reason
    revision.decided_by_id, revision.decided_at = getattr(actor, "id", None), utcnow()
    if report.current_revision is None:
        report.status = ReportStatus.rejected.value
    session.flush()
    record_event(session, AuditTag.report_rejected, actor, "enterprise_report", report.id,
                 after={"revision": revision.revision, "reason": reason})
    return revision
