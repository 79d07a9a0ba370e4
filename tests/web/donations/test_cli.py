"""`flask donations ...`: year-end receipts and the consistency check that exits non-zero on a problem."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from fundapp.donations.models import Donor
from fundapp.ledger.models import Fund
from tests.unit.donations.factories import gift, pay, pledge


def test_issue_receipts_then_verify_finds_a_tampered_pledge(app, app_ctx, setup, tmp_path):
    with app_ctx() as s:
        fund, donor = s.get(Fund, setup.gen), s.get(Donor, setup.zhang)
        for day in (3, 4):
            gift(s, fund, "10.00", donor=donor, on=dt.date(2025, 6, day))
        promised = pledge(s, fund, "100.00", donor, on=dt.date(2025, 6, 1))
        pay(s, promised, "40.00", on=dt.date(2025, 6, 5))
        s.commit()
        pledge_id = promised.id
    runner = app.test_cli_runner()
    issued = runner.invoke(args=["donations", "issue-receipts", "2025"])
    assert issued.exit_code == 0 and "issued 3 receipts" in issued.output
    assert runner.invoke(args=["donations", "issue-receipts", "2025"]).output.startswith("issued 0 receipts")
    ok = runner.invoke(args=["donations", "verify"])
    assert ok.exit_code == 0 and "donations OK" in ok.output
    with app_ctx() as s:
        s.execute(sa.text("UPDATE pledges SET paid_amount = amount WHERE id = :id"), {"id": pledge_id})
        s.commit()
    bad = runner.invoke(args=["donations", "verify"])
    assert bad.exit_code == 1 and f"pledge {pledge_id}: paid 100.00 but its payments sum to 40.00" in bad.output
    none = runner.invoke(args=["donations", "receipts-pdf", "1999", str(tmp_path / "x.pdf")])
    assert none.exit_code == 1 and "no receipts were issued in 1999" in none.output
