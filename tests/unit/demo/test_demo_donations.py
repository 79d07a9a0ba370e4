"""The demo's giving (fundapp/demo/donations.py) and social enterprises (fundapp/demo/enterprises.py), loaded by
`flask demo load` into a fresh database: every kind of record the public site shows is there, made by the real
services, and the books, the receipts and the pledges verify. Loading again adds nothing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from fundapp.dates import local_today
from fundapp.demo.donations import (
    CORRECTION_REASON,
    DONORS,
    VOID_REASON,
    company_credit_code,
    month_day,
    resident_id,
)
from fundapp.demo.enterprises import AMENDMENT_REASON, SETTLED_DAYS, quarters_before
from fundapp.donations.checks import verify_donations
from fundapp.donations.donors import credit_code_valid, resident_id_valid
from fundapp.donations.models import Donation, DonationMethod, Donor, Pledge, PledgeStatus, Receipt
from fundapp.enterprises.models import (
    Agreement,
    Enterprise,
    EnterpriseMember,
    EnterprisePayment,
    ReportRevision,
    RevenueReport,
)
from fundapp.enterprises.periods import period_end
from fundapp.extensions import db
from fundapp.ledger.invariants import verify_ledger
from fundapp.ledger.models import Fund, JournalEntry
from tests.conftest import make_migrated_app

COUNTED = (Donor, Donation, Pledge, Receipt, Enterprise, Agreement, RevenueReport, ReportRevision, EnterprisePayment,
           JournalEntry)


def test_generated_codes_pass_their_checks_and_differ():
    ids = {resident_id(f"1970{m:02d}15", f"{n:03d}") for m in range(1, 13) for n in range(50)}
    assert len(ids) == 600 and all(resident_id_valid(code) and code.startswith("330106") for code in ids)
    codes = {company_credit_code(f"MA2{n:05d}") for n in range(300)}
    assert len(codes) == 300 and all(credit_code_valid(code) and code.startswith("91330106") for code in codes)
    assert len({d.id_code for d in DONORS}) == len(DONORS)


@pytest.mark.parametrize("today", [dt.date(2026, 1, 1), dt.date(2025, 8, 14), dt.date(2026, 11, 26)])
def test_demo_quarters_have_ended_long_enough_before_today(today):
    starts = quarters_before(today, 4)
    assert len(starts) == 4 and starts == sorted(starts)
    assert all(start.month in (1, 4, 7, 10) and start.day == 1 for start in starts)
    assert period_end(starts[-1], "quarterly") + dt.timedelta(days=SETTLED_DAYS) <= today
    assert period_end(starts[-1], "quarterly") + dt.timedelta(days=SETTLED_DAYS + 92) > today  # the latest such
    assert month_day(today, 12, 31) == dt.date(today.year - 1, today.month, 28)


@pytest.fixture()
def demo_app(backend, fresh_database_url, tmp_path):
    app = make_migrated_app(fresh_database_url(backend, "demogifts"), GRANT_UPLOAD_DIR=str(tmp_path / "grants"))
    result = app.test_cli_runner().invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    assert "donations:" in result.output and "enterprises:" in result.output
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def check_gifts(s, today: dt.date) -> None:
    donations = list(s.scalars(select(Donation)))
    assert 38 <= len(donations) <= 45
    assert {d.method for d in donations} == {m.value for m in DonationMethod}
    in_kind = [d for d in donations if d.method == DonationMethod.in_kind.value]
    assert in_kind and all(d.valuation_basis and d.item_description and d.quantity for d in in_kind)
    dates = [d.received_on for d in donations]
    assert max(dates) <= today and (max(dates) - min(dates)).days >= 300
    funds = {d.fund.code for d in donations}
    hidden = {f.code for f in s.scalars(select(Fund).where(Fund.is_public.is_(False)))}
    assert len(funds - hidden) >= 5 and funds & hidden
    assert any(d.donor is None for d in donations)  # a gift nobody put a name to

    donors = list(s.scalars(select(Donor)))
    assert len(donors) == 12 and {d.kind for d in donors} == {"person", "organisation"}
    anonymous = [d for d in donors if d.anonymous_in_public]
    assert len(anonymous) == 3 and all(d.phone and d.email and d.address and d.id_code for d in anonymous)
    assert all(any(g.donor_id == d.id for g in donations) for d in anonymous)
    assert sum(d.user_id is not None for d in donors) == 1  # the demo donor's portal


def check_corrections(s) -> None:
    reversed_ = s.scalars(select(Donation).where(Donation.status == "reversed")).one()
    assert reversed_.reversal_reason == CORRECTION_REASON and reversed_.reversal_entry_id is not None
    corrected = s.scalars(select(Donation).where(Donation.corrects_id == reversed_.id)).one()
    assert corrected.status == "recorded" and corrected.amount * 10 == reversed_.amount
    assert corrected.active_receipt is not None

    receipts = list(s.scalars(select(Receipt)))
    void = [r for r in receipts if r.void_at is not None]
    assert len(void) == 1 and void[0].void_reason == VOID_REASON
    assert void[0].donation.active_receipt is not None  # issued again
    assert len(receipts) >= 30 and any(r.enterprise_payment_id is not None for r in receipts)

    pledge = s.scalars(select(Pledge)).one()
    assert pledge.status == PledgeStatus.open.value and Decimal("0") < pledge.paid_amount < pledge.amount


def check_enterprises(s, today: dt.date) -> None:
    enterprises = list(s.scalars(select(Enterprise)))
    assert len(enterprises) == 2 and all(e.credit_code for e in enterprises)
    assert count(s, EnterpriseMember) == 1  # the demo's enterprise user sees its canteen
    natures = {a.nature for a in s.scalars(select(Agreement))}
    assert natures == {"shareholding", "gift"}
    assert {a.fund.code for a in s.scalars(select(Agreement))} == {"SE"}
    reports = list(s.scalars(select(RevenueReport)))
    assert len(reports) == 7 and all(r.status == "confirmed" for r in reports)
    assert all(r.period_end < today for r in reports)
    amended = [r for r in reports if len(r.revisions) > 1]
    assert len(amended) == 1 and amended[0].current_revision.note == AMENDMENT_REASON
    assert count(s, EnterprisePayment) >= 8
    in_arrears = [r for r in reports if r.outstanding > 0]
    assert len(in_arrears) == 1 and in_arrears[0].due_on < today and in_arrears[0].paid_amount > 0


def test_demo_giving_and_enterprises(demo_app):
    today = local_today()
    with demo_app.app_context():
        s = db.session
        check_gifts(s, today)
        check_corrections(s)
        check_enterprises(s, today)
        assert verify_ledger(s) == []
        assert verify_donations(s) == []
        before = {model.__name__: count(s, model) for model in COUNTED}
        s.remove()

    again = demo_app.test_cli_runner().invoke(args=["demo", "load"])
    assert again.exit_code == 0 and "already loaded" in again.output
    with demo_app.app_context():
        assert {model.__name__: count(db.session, model) for model in COUNTED} == before
