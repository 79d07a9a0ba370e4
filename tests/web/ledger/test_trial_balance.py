"""The trial balance page and its CSV export."""

from __future__ import annotations

import datetime as dt

import pytest

from fundapp.dates import local_today
from fundapp.ledger.models import Fund
from tests.factories import post
from tests.web.ledger.conftest import read_csv


@pytest.fixture()
def balances(app_ctx, books):
    with app_ctx() as s:
        gen, prj = s.get(Fund, books.gen), s.get(Fund, books.prj)
        post(s, gen, "1000.00", date=dt.date(2024, 1, 5))
        post(s, gen, "200.00", debit="5201", credit="1002", date=dt.date(2024, 1, 20))
        post(s, prj, "500.00", date=dt.date(2024, 2, 3))
        s.commit()
    return books


def test_trial_balance_totals_and_ok_line(client, login, balances):
    login("board")
    html = client.get("/ledger/trial-balance?as_of=2024-02-29").get_data(as_text=True)
    assert "As of 2024-02-29" in html
    for text in ("1002", "银行存款", "1,300.00", "4101", "捐赠收入", "1,500.00", "5201", "管理费用", "200.00"):
        assert text in html
    assert "Debits equal credits." in html
    assert html.count("1,500.00") == 3  # donations credit, total debit, total credit
    assert f'fund={balances.prj}' in html  # the per-fund links


def test_trial_balance_as_of_and_per_fund(client, login, balances):
    login("finance")
    january = client.get("/ledger/trial-balance?as_of=2024-01-31").get_data(as_text=True)
    assert "800.00" in january and "1,500.00" not in january
    project = client.get(f"/ledger/trial-balance?as_of=2024-12-31&fund={balances.prj}").get_data(as_text=True)
    assert "PRJ 社区项目基金" in project and "500.00" in project and "管理费用" not in project
    empty = client.get("/ledger/trial-balance?as_of=2023-12-31").get_data(as_text=True)
    assert "No balances on this date." in empty
    today = client.get("/ledger/trial-balance?as_of=rubbish").get_data(as_text=True)
    assert f"As of {local_today().isoformat()}" in today and "Enter a date as YYYY-MM-DD." in today


def test_trial_balance_csv(client, login, balances):
    login("admin")
    response = client.get("/ledger/trial-balance.csv?as_of=2024-02-29")
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert "trial-balance-2024-02-29.csv" in response.headers["Content-Disposition"]
    assert read_csv(response) == [
        ["Code", "Name", "Debit", "Credit"],
        ["1002", "银行存款", "1300.00", ""],
        ["4101", "捐赠收入", "", "1500.00"],
        ["5201", "管理费用", "200.00", ""],
        ["", "Total", "1500.00", "1500.00"],
    ]
    rows = read_csv(client.get(f"/ledger/trial-balance.csv?as_of=2024-02-29&fund={balances.prj}"))
    assert rows[1:] == [["1002", "银行存款", "500.00", ""], ["4101", "捐赠收入", "", "500.00"],
                        ["", "Total", "500.00", "500.00"]]
    page = client.get(f"/ledger/trial-balance?as_of=2024-02-29&fund={balances.prj}").get_data(as_text=True)
    assert f'href="/ledger/trial-balance.csv?as_of=2024-02-29&amp;fund={balances.prj}"' in page
