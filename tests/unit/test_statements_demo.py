"""The statements of the demo year (`flask demo load`): they balance, reconcile and put the known events on the
right lines."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import func, select

from fundapp.demo.data import load_demo
from fundapp.ledger.models import JournalEntry
from fundapp.reports.periods import ReportPeriod
from fundapp.reports.statements import activities, balance_sheet, cash_flows


def test_demo_year_statements(session):
    load_demo(session)
    first, last = session.execute(select(func.min(JournalEntry.effective_date),
                                         func.max(JournalEntry.effective_date))).one()
    year = ReportPeriod(first, last)
    sheet, change, flows = balance_sheet(session, year), activities(session, year), cash_flows(session, year)
    assert not sheet.problems and not change.problems and not flows.problems
    assert sheet.value("assets_total", "closing") == sheet.value("liab_na_total", "closing") > 0
    opening = balance_sheet(session, ReportPeriod(first, first - dt.timedelta(days=1)))
    assert opening.value("net_assets_total", "closing") == 0  # the demo starts from empty books
    for column, key in (("u", "na_unrestricted"), ("r", "na_restricted")):
        assert sheet.value(key, "closing") == change.value("change", column)

    # Known events of the demo year (fundapp/demo/entries.py): subsidies 200,000 + 2 x 150,000, all in cash;
    # 400,000 of bonds bought; four bond interest payments of 3,500.
    assert change.value("subsidies", "t") == flows.value("op_subsidies", "current") == Decimal("500000.00")
    assert flows.value("inv_paid", "current") == Decimal("400000.00")
    assert sheet.value("bond_inv", "closing") == Decimal("400000.00")
    assert flows.value("inv_income", "current") == Decimal("14000.00")
    assert flows.value("op_grants", "current") > 0 and flows.value("op_staff", "current") > 0
    # Restricted funds' spending is booked in their class without release entries: shown released.
    for key in ("programme", "admin", "fundraising", "other_expenses"):
        assert change.value(key, "r") == 0
    assert change.value("release", "r") < 0 and change.notes
