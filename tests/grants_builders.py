"""Builders for grant test data (rows written directly, as a finished earlier stage would leave them).
Each takes a session and flushes; none commits. Services under test are called by the tests themselves."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

from fundapp.dates import local_today
from fundapp.db import utcnow
from fundapp.grants.decisions import Count, record_decision
from fundapp.grants.models import (
    Application,
    ApplicationStatus,
    ApplicationVersion,
    Award,
    BudgetLine,
    DecisionKind,
    DecisionOutcome,
    Organisation,
    OrganisationMember,
    Programme,
    ProgrammeStatus,
    RubricCriterion,
)
from fundapp.ledger.models import Fund
from tests.factories import make_fund, make_user, post

_counter = itertools.count(1)


def funded_fund(session, amount: str | Decimal = "100000.00", *, restricted: bool = False,
                fund_type: str = "general", **values) -> Fund:
    """A fund holding `amount` in the bank (a gift Dr 1002 / Cr 4101)."""
    fund = make_fund(session, restricted=restricted, fund_type=fund_type, **values)
    if Decimal(amount) > 0:
        post(session, fund, amount, date=local_today() - dt.timedelta(days=30))
    return fund


def make_organisation(session, *users, name: str | None = None) -> Organisation:
    n = next(_counter)
    org = Organisation(name=name or f"Org {n}", reg_no=f"52110000MJ{n:08d}", contact_name="Contact",
                       contact_email=f"org{n}@example.org", bank_name="Bank", bank_account_name=name or f"Org {n}",
                       bank_account_no=f"6222{n:012d}")
    session.add(org)
    session.flush()
    for user in users:
        session.add(OrganisationMember(organisation_id=org.id, user_id=user.id))
    session.flush()
    return org


def make_applicant(session) -> tuple[Organisation, object]:
    """An organisation and one applicant user linked to it."""
    user = make_user(session, "applicant")
    return make_organisation(session, user), user


def make_programme(session, fund: Fund | None = None, *, budget: str | Decimal = "50000.00",
                   status: str = ProgrammeStatus.open.value, criteria: tuple[tuple[str, str], ...] = (
                       ("Need", "40"), ("Feasibility", "35"), ("Value", "25"))) -> Programme:
    n = next(_counter)
    fund = fund or funded_fund(session)
    today = local_today()
    programme = Programme(code=f"P{n:04d}", title=f"Programme {n}", fund_id=fund.id, budget=Decimal(budget),
                          opens_on=today - dt.timedelta(days=10), closes_on=today + dt.timedelta(days=20),
                          status=status, eligibility="Registered social organisations")
    session.add(programme)
    session.flush()
    for position, (name, weight) in enumerate(criteria, start=1):
        session.add(RubricCriterion(programme_id=programme.id, position=position, name=name,
                                    weight=Decimal(weight), max_score=10))
    session.flush()
    return programme


def make_application(session, programme: Programme, organisation: Organisation | None = None, *,
                     amount: str | Decimal = "10000.00", status: str = ApplicationStatus.submitted.value,
                     title: str | None = None, reference: str | None = None) -> Application:
    """An application whose version 1 holds two budget lines adding up to `amount`; frozen unless a draft."""
    n = next(_counter)
    organisation = organisation or make_organisation(session)
    amount = Decimal(amount)
    application = Application(reference=reference or f"A{local_today().year}-{n:05d}", programme_id=programme.id,
                              organisation_id=organisation.id, status=status)
    session.add(application)
    session.flush()
    version = ApplicationVersion(application_id=application.id, version=1, title=title or f"Project {n}",
                                 community="Community", summary="Summary", objectives="Objectives",
                                 beneficiaries="Elderly residents", beneficiaries_count=120,
                                 requested_amount=amount)
    session.add(version)
    session.flush()
    half = (amount / 2).quantize(Decimal("0.01"))
    session.add_all([BudgetLine(version_id=version.id, position=1, category="activity", item="Activities",
                                amount=half),
                     BudgetLine(version_id=version.id, position=2, category="materials", item="Materials",
                                amount=amount - half)])
    session.flush()
    if status != ApplicationStatus.draft.value:
        version.submitted_at = utcnow()
        application.submitted_at = version.submitted_at
        session.flush()
    session.refresh(application)
    return application


def make_award(session, amount: str | Decimal = "10000.00", *, fund: Fund | None = None, actor=None,
               organisation: Organisation | None = None) -> Award:
    """An approved application (staff decision, limits lifted) and its award with the payable posted."""
    from flask import current_app

    programme = make_programme(session, fund, budget=max(Decimal(amount) * 2, Decimal("50000.00")))
    application = make_application(session, programme, organisation, amount=amount,
                                   status=ApplicationStatus.recommended.value)
    limit = current_app.config.get("GRANT_STAFF_APPROVAL_LIMIT")
    current_app.config["GRANT_STAFF_APPROVAL_LIMIT"] = "999999999"
    try:
        record_decision(session, application, kind=DecisionKind.staff.value, outcome=DecisionOutcome.approved.value,
                        amount=Decimal(amount), actor=actor, count=Count())
    finally:
        current_app.config["GRANT_STAFF_APPROVAL_LIMIT"] = limit
    session.refresh(application)
    return session.query(Award).filter_by(application_id=application.id).one()
