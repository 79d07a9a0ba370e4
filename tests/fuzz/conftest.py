"""Hypothesis settings for the fuzz tests and the row counts that prove a refused request wrote nothing.

The examples are bounded (FUZZ_EXAMPLES, default 8 per test) so the whole directory stays well under a minute per
database; `HYPOTHESIS_PROFILE=ci` derandomizes them like tests/properties, `long` runs 300 per test (bug hunting).
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings
from sqlalchemy import func, select

_PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "fundapp")
_EXAMPLES = 300 if _PROFILE == "long" else int(os.environ.get("FUZZ_EXAMPLES", "8"))

FUZZ = settings(
    deadline=None,
    max_examples=_EXAMPLES,
    derandomize=_PROFILE == "ci",
    database=None if _PROFILE == "ci" else settings.default.database,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                           HealthCheck.filter_too_much, HealthCheck.data_too_large],
    print_blob=True,
)


def main_tables():
    """The tables a form, an import or an API call might write: (label, model)."""
    from fundapp.audit.models import AuditEvent
    from fundapp.donations.models import Donation, Donor, Pledge, Receipt
    from fundapp.enterprises import models as enterprise_models
    from fundapp.grants import models as grant_models
    from fundapp.ledger.models import Account, Fund, JournalEntry, JournalLine

    models = [JournalEntry, JournalLine, Donation, Donor, Pledge, Receipt, AuditEvent, Fund, Account]
    for module, names in ((grant_models, ("Application", "ApplicationVersion", "Award", "TranchePayment", "Programme",
                                          "Organisation", "BoardAgenda", "GrantReport")),
                          (enterprise_models, ("Enterprise", "Agreement", "RevenueReport", "ReportRevision",
                                               "EnterprisePayment"))):
        models.extend(getattr(module, name) for name in names if hasattr(module, name))
    return models


@pytest.fixture()
def row_counts(app_ctx):
    """`row_counts()` -> {table: rows} for the main tables."""
    models = main_tables()
    stmt = select(*(select(func.count()).select_from(model).scalar_subquery().label(model.__tablename__)
                    for model in models))

    def count() -> dict[str, int]:
        with app_ctx() as s:
            return dict(s.execute(stmt).one()._mapping)

    return count


@pytest.fixture()
def books(app_ctx) -> dict[str, object]:
    """Some data in every list: a public fund with gifts (one in kind), a grant paid with a report, an enterprise
    with an agreement, a confirmed report and a payment, a corrected entry. Returns the ids the URLs need."""
    import datetime as dt

    from fundapp.dates import local_today
    from fundapp.ledger.services import reverse_entry
    from tests.factories import make_fund, post
    from tests.grants_award_builders import Cast, award_for, pay_through, report, schedule
    from tests.unit.donations.factories import gift, in_kind, make_donor
    from tests.unit.enterprises.factories import confirm, file, make_agreement, make_enterprise, pay

    with app_ctx() as s:
        fund = make_fund(s, "FUZZ", name="Fuzz Fund")
        post(s, fund, "800.00")
        donor = make_donor(s, "Fuzz Donor")
        donation = gift(s, fund, "500.00", donor=donor, purpose="Books")
        in_kind(s, fund, "300.00")
        cast = Cast(s)
        award = award_for(s, cast, "3000.00")
        schedule(s, award, "3000.00", actor=cast.maker)
        pay_through(s, award, 1, cast)
        report(s, award, cast, spend=("100.00",))
        enterprise = make_enterprise(s)
        make_agreement(s, enterprise, fund, nature="shareholding")
        revision = confirm(s, file(s, enterprise, dt.date(2025, 1, 1), "10000.00"))
        payment = pay(s, revision.report, "100.00")
        wrong = post(s, fund, "12.00", date=local_today())
        reverse_entry(s, wrong, reason="Posted twice", actor=None)
        s.commit()
        return {"code": fund.code, "fund_id": fund.id, "award_id": award.id, "enterprise_id": enterprise.id,
                "report_id": revision.report.id, "payment_id": payment.id, "donation_id": donation.id,
                "donor_id": donor.id, "entry_id": wrong.id, "application_id": award.application_id,
                "year": local_today().year, "organisation_id": cast.organisation.id}
