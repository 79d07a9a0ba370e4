"""The figures behind the public fund pages (fundapp.disclosure.funds): monthly income and spending leave out the
year-end closing entry, balances and the "other funds" line add up to the books, and months land where they
belong."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from fundapp.dates import local_today
from fundapp.disclosure.funds import list_public_funds, month_labels, monthly_flows, year_flows
from fundapp.ledger.queries import fund_net_assets
from fundapp.ledger.yearend import close_year
from tests.factories import make_fund, post


def test_monthly_flows_leave_out_the_year_end_close(session):
    today = local_today()
    last_year = today.year - 1
    fund = make_fund(session, "PUB")
    post(session, fund, "900.00", date=dt.date(last_year, 12, 10))
    post(session, fund, "250.00", debit="5101", credit="1002", date=dt.date(last_year, 12, 11))
    post(session, fund, "40.00", debit="5201", credit="1002", date=dt.date(last_year, 11, 3))
    close_year(session, last_year, None)
    months = {m.month: m for m in monthly_flows(session, fund.id, today)}
    december = months[f"{last_year}-12"]
    assert (december.income, december.spending) == (Decimal("900.00"), Decimal("250.00"))
    assert (months[f"{last_year}-11"].income, months[f"{last_year}-11"].spending) == (Decimal("0.00"),
                                                                                      Decimal("40.00"))
    assert year_flows(session, today).get(fund.id, (Decimal("0"), Decimal("0"))) == (0, 0)
    assert fund_net_assets(session, today)[fund.id] == Decimal("610.00")


def test_month_labels_cover_24_months_ending_this_month():
    labels = month_labels(dt.date(2026, 2, 14))
    assert len(labels) == 24
    assert [(y, m + 1) for y, m in labels[:2]] == [(2024, 3), (2024, 4)]
    assert [(y, m + 1) for y, m in labels[-2:]] == [(2026, 1), (2026, 2)]


def test_other_funds_and_listed_funds_add_up_to_the_books(session):
    today = local_today()
    shown = make_fund(session, "SHOWN")
    hidden = make_fund(session, "HIDE1", is_public=False)
    hidden2 = make_fund(session, "HIDE2", is_public=False)
    post(session, shown, "100.00", date=today)
    post(session, hidden, "20.00", date=today)
    post(session, hidden2, "3.00", date=today)
    data = list_public_funds(session, today)
    assert [row.code for row in data.rows] == ["SHOWN"]
    assert data.other_funds == Decimal("23.00")
    assert data.total_balance + data.other_funds == data.books_total == sum(fund_net_assets(session, today).values())
    filtered = list_public_funds(session, today, text="HIDE")
    assert filtered.rows == [] and filtered.filtered
