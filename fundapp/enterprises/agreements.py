"""Agreement versions: write a new version, find the version in force, turn a version into share terms.

Rules for a version (each refused with a message, nothing written):
- it takes effect on the first day of a reporting period, under its own periodicity and under the previous
  version's (so no period straddles two versions), and after the previous version took effect;
- it cannot take effect on or before the end of a period already reported: reports keep the version they were
  filed under, so a change applies to the periods not yet reported;
- an end date, if any, is the last day of a reporting period;
- tiers: the first from 0, lower bounds rising, percentages 0 to 100 with at most four decimals.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fundapp.audit.services import AuditTag, record_event
from fundapp.dates import local_today
from fundapp.enterprises.errors import EnterpriseError
from fundapp.enterprises.models import (
    Agreement,
    AgreementTier,
    Basis,
    Enterprise,
    Nature,
    Periodicity,
    RevenueReport,
)
from fundapp.enterprises.periods import is_period_end, is_period_start, period_label, period_start
from fundapp.enterprises.share import Terms, Tier, terms_problem
from fundapp.ledger.models import Fund, FundStatus
from fundapp.money import CENT, MAX_AMOUNT

PERCENT_STEP = Decimal("0.0001")


@dataclass
class AgreementInput:
    enterprise: Enterprise
    effective_from: dt.date
    basis: str
    nature: str
    fund: Fund | None
    periodicity: str
    due_days: int
    tiers: list[Tier]
    minimum: Decimal = Decimal("0.00")
    ends_on: dt.date | None = None
    reference: str = ""
    signed_on: dt.date | None = None
    note: str = ""


def terms_of(agreement: Agreement) -> Terms:
    tiers = tuple(Tier(t.lower_bound, t.rate) for t in agreement.tiers)
    return Terms(agreement.basis, tiers, agreement.minimum)


def lock_enterprise(session: Session, enterprise_id: int) -> Enterprise:
    """Re-read the enterprise under a row lock (PostgreSQL): filings and new versions of one enterprise queue."""
    stmt = select(Enterprise).where(Enterprise.id == enterprise_id).with_for_update(of=Enterprise)
    return session.execute(stmt.execution_options(populate_existing=True)).scalar_one()


def latest_version(session: Session, enterprise_id: int) -> Agreement | None:
    return session.scalar(select(Agreement).where(Agreement.enterprise_id == enterprise_id)
                          .order_by(Agreement.version.desc()).limit(1))


def version_on(session: Session, enterprise_id: int, day: dt.date) -> Agreement | None:
    """The version in force on `day`, or None (before the first version, or after the agreement ended)."""
    agreement = session.scalar(select(Agreement).where(Agreement.enterprise_id == enterprise_id,
                                                       Agreement.effective_from <= day)
                               .order_by(Agreement.effective_from.desc()).limit(1))
    if agreement is None or (agreement.ends_on is not None and day > agreement.ends_on):
        return None
    return agreement


def _check_choices(data: AgreementInput) -> None:
    if data.basis not in {b.value for b in Basis}:
        raise EnterpriseError(_("Choose gross revenue or net profit as the basis."))
    if data.nature not in {n.value for n in Nature}:
        raise EnterpriseError(_("Say what the money is: a gift, a return on shareholding or payment for services."))
    if data.periodicity not in {p.value for p in Periodicity}:
        raise EnterpriseError(_("Choose a reporting period."))
    if data.fund is None or data.fund.status != FundStatus.active.value:
        raise EnterpriseError(_("Choose an active fund."))
    if not isinstance(data.due_days, int) or not 0 <= data.due_days <= 366:
        raise EnterpriseError(_("The due date is 0 to 366 days after the period ends."))
    if len(data.reference or "") > 100 or len(data.note or "") > 5000:
        raise EnterpriseError(_("The reference or note is too long."))


def _check_terms(data: AgreementInput) -> None:
    minimum = data.minimum
    if not isinstance(minimum, Decimal) or not minimum.is_finite() or minimum < 0 or minimum > MAX_AMOUNT:
        raise EnterpriseError(_("The minimum per period is zero or a positive amount."))
    if minimum != minimum.quantize(CENT):
        raise EnterpriseError(_("An amount has at most two decimal places."))
    for tier in data.tiers:
        if tier.rate.is_finite() and tier.rate != tier.rate.quantize(PERCENT_STEP):
            raise EnterpriseError(_("A percentage has at most four decimal places."))
        if tier.lower.is_finite() and (tier.lower != tier.lower.quantize(CENT) or tier.lower > MAX_AMOUNT):
            raise EnterpriseError(_("A tier's lower bound is an amount with at most two decimal places."))
    messages = {
        "first_tier": _("The first tier starts at 0."),
        "tier_values": _("A percentage is between 0 and 100, and a tier's lower bound is not negative."),
        "tier_order": _("Each tier starts above the one before it."),
        "minimum": _("The minimum per period is zero or a positive amount."),
        "basis": _("Choose gross revenue or net profit as the basis."),
    }
    problem = terms_problem(Terms(data.basis, tuple(data.tiers), minimum))
    if problem:
        raise EnterpriseError(messages[problem])
    if all(t.rate == 0 for t in data.tiers) and minimum == 0:
        raise EnterpriseError(_("An agreement needs a percentage above 0 or a minimum per period."))


def _check_dates(session: Session, data: AgreementInput, previous: Agreement | None) -> None:
    start, periodicity = data.effective_from, data.periodicity
    if not is_period_start(start, periodicity):
        raise EnterpriseError(_("A version takes effect on the first day of a reporting period (that period starts "
                                "on %(date)s).", date=period_start(start, periodicity).isoformat()))
    if data.signed_on is not None and data.signed_on > local_today():
        raise EnterpriseError(_("The signing date cannot be in the future."))
    if data.ends_on is not None and (data.ends_on < start or not is_period_end(data.ends_on, periodicity)):
        raise EnterpriseError(_("The agreement ends on the last day of a reporting period, after it takes effect."))
    if previous is not None:
        if start <= previous.effective_from:
            raise EnterpriseError(_("Version %(n)d takes effect on %(date)s; a new version must take effect later.",
                                    n=previous.version, date=previous.effective_from.isoformat()))
        if not is_period_start(start, previous.periodicity):
            raise EnterpriseError(_("A new version must start where a period of version %(n)d ends.",
                                    n=previous.version))
    reported = session.scalar(select(func.max(RevenueReport.period_end))
                              .where(RevenueReport.enterprise_id == data.enterprise.id))
    if reported is not None and start <= reported:
        raise EnterpriseError(_("Periods up to %(date)s are already reported; a new version can only take effect "
                                "after that.", date=reported.isoformat()))


def create_agreement(session: Session, data: AgreementInput, actor: Any | None) -> Agreement:
    """Write the next version of the enterprise's agreement."""
    _check_choices(data)
    _check_terms(data)
    enterprise = lock_enterprise(session, data.enterprise.id)
    previous = latest_version(session, enterprise.id)
    _check_dates(session, data, previous)
    agreement = Agreement(
        enterprise=enterprise, version=(previous.version + 1) if previous else 1,
        reference=(data.reference or "").strip(), signed_on=data.signed_on, effective_from=data.effective_from,
        ends_on=data.ends_on, basis=data.basis, nature=data.nature, fund_id=data.fund.id,
        periodicity=data.periodicity, due_days=data.due_days, minimum=data.minimum, note=(data.note or "").strip(),
        created_by_id=getattr(actor, "id", None),
        tiers=[AgreementTier(position=n, lower_bound=t.lower, rate=t.rate) for n, t in enumerate(data.tiers, 1)],
    )
    session.add(agreement)
    session.flush()
    record_event(session, AuditTag.agreement_created, actor, "enterprise_agreement", agreement.id, after={
        "enterprise": enterprise.id, "version": agreement.version, "from": agreement.effective_from,
        "ends": agreement.ends_on, "basis": agreement.basis, "nature": agreement.nature, "fund": data.fund.code,
        "periodicity": agreement.periodicity, "due_days": agreement.due_days, "minimum": agreement.minimum,
        "tiers": [[t.lower, t.rate] for t in data.tiers]})
    return agreement


def describe_period(agreement: Agreement, start: dt.date) -> str:
    return period_label(start, agreement.periodicity)
