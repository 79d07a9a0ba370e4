"""Agreement versions: numbered, immutable, aligned to reporting periods, never reaching back into reported
periods; tiers and minimums validated; the version in force decides each period."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from fundapp.enterprises.agreements import version_on
from fundapp.enterprises.errors import EnterpriseError
from fundapp.enterprises.models import Agreement
from tests.factories import make_fund
from tests.unit.enterprises.factories import START, TODAY, confirm, file, make_agreement, make_enterprise

D = Decimal


@pytest.fixture()
def fund(session):
    return make_fund(session, "COMM")


def test_versions_are_numbered_and_each_period_uses_the_version_in_force(session, fund):
    enterprise = make_enterprise(session)
    first = make_agreement(session, enterprise, fund, rate="5")
    second = make_agreement(session, enterprise, fund, start=dt.date(2025, 7, 1), rate="8", periodicity="monthly")
    assert (first.version, second.version) == (1, 2)
    assert version_on(session, enterprise.id, dt.date(2025, 6, 30)) is first
    assert version_on(session, enterprise.id, dt.date(2025, 7, 1)) is second
    q2 = file(session, enterprise, dt.date(2025, 4, 1), "1000.00")
    july = file(session, enterprise, dt.date(2025, 7, 1), "1000.00")
    assert (q2.share, q2.report.agreement_id) == (D("50.00"), first.id)
    assert (july.share, july.report.agreement_id, july.report.period_end) == (D("80.00"), second.id,
                                                                              dt.date(2025, 7, 31))
    with pytest.raises(EnterpriseError, match="does not start a reporting period"):
        file(session, enterprise, dt.date(2025, 8, 15), "1.00")


@pytest.mark.parametrize("values, message", [
    ({"start": dt.date(2025, 2, 1)}, "first day of a reporting period"),
    ({"ends_on": dt.date(2025, 5, 31)}, "last day of a reporting period"),
    ({"ends_on": dt.date(2024, 12, 31)}, "last day of a reporting period"),
    ({"rate": "100.5"}, "between 0 and 100"),
    ({"rate": "5.00001"}, "four decimal places"),
    ({"rate": "0"}, "percentage above 0 or a minimum"),
    ({"more_tiers": [("0", "8")]}, "starts above the one before"),
    ({"more_tiers": [("500", "8"), ("100", "9")]}, "starts above the one before"),
    ({"minimum": "-1.00"}, "minimum per period"),
    ({"minimum": "1.001"}, "two decimal places"),
    ({"due_days": 400}, "0 to 366 days"),
    ({"basis": "turnover"}, "gross revenue or net profit"),
    ({"nature": "loan"}, "a gift, a return on shareholding or payment for services"),
    ({"periodicity": "weekly"}, "reporting period"),
])
def test_bad_agreements_are_refused(session, fund, values, message):
    enterprise = make_enterprise(session)
    with pytest.raises(EnterpriseError, match=message):
        make_agreement(session, enterprise, fund, **values)
    assert session.scalar(select(func.count()).select_from(Agreement)) == 0


def test_a_zero_rate_with_a_minimum_is_a_fixed_contribution(session, fund):
    agreement = make_agreement(session, make_enterprise(session), fund, rate="0", minimum="500.00")
    assert (agreement.tiers[0].rate, agreement.minimum) == (D("0.0000"), D("500.00"))


def test_a_closed_fund_is_refused(session):
    closed = make_fund(session, "OLD", status="closed")
    with pytest.raises(EnterpriseError, match="active fund"):
        make_agreement(session, make_enterprise(session), closed)


def test_a_new_version_must_follow_the_last_one_on_a_shared_period_boundary(session, fund):
    enterprise = make_enterprise(session)
    make_agreement(session, enterprise, fund, start=dt.date(2025, 4, 1))
    with pytest.raises(EnterpriseError, match="must take effect later"):
        make_agreement(session, enterprise, fund, start=dt.date(2025, 4, 1))
    with pytest.raises(EnterpriseError, match="must take effect later"):
        make_agreement(session, enterprise, fund, start=dt.date(2025, 1, 1))
    with pytest.raises(EnterpriseError, match="must start where a period of version 1 ends"):
        make_agreement(session, enterprise, fund, start=dt.date(2025, 5, 1), periodicity="monthly")


def test_a_new_version_cannot_reach_back_into_reported_periods(session, fund):
    enterprise = make_enterprise(session)
    make_agreement(session, enterprise, fund)
    confirm(session, file(session, enterprise, dt.date(2025, 4, 1), "1.00", today=TODAY), on=dt.date(2025, 7, 1))
    with pytest.raises(EnterpriseError, match="Periods up to 2025-06-30 are already reported"):
        make_agreement(session, enterprise, fund, start=dt.date(2025, 4, 1), rate="9")
    assert make_agreement(session, enterprise, fund, start=dt.date(2025, 7, 1), rate="9").version == 2


def test_an_ended_agreement_covers_nothing_after_its_end(session, fund):
    enterprise = make_enterprise(session)
    make_agreement(session, enterprise, fund, ends_on=dt.date(2025, 6, 30))
    assert version_on(session, enterprise.id, dt.date(2025, 6, 30)) is not None
    assert version_on(session, enterprise.id, dt.date(2025, 7, 1)) is None
    assert version_on(session, enterprise.id, START - dt.timedelta(days=1)) is None
