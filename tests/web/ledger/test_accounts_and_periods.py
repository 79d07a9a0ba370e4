"""The chart of accounts pages and closing periods."""

from __future__ import annotations

from sqlalchemy import select

from fundapp.dates import local_today
from fundapp.ledger.models import Account, Fund, Period
from tests.factories import post
from tests.web.ledger.conftest import ledger_counts


def test_accounts_list_shows_the_chart_and_balances(client, login, app_ctx, books):
    with app_ctx() as s:
        post(s, s.get(Fund, books.gen), "321.00")
        s.commit()
    login("board")
    html = client.get("/ledger/accounts").get_data(as_text=True)
    for text in ("1002", "银行存款", "Bank deposits", "累计折旧", "Accumulated depreciation", "Revenue"):
        assert text in html
    assert html.count("321.00") == 2  # the bank balance and the donation income, each on its normal side
    assert "/ledger/accounts/new" not in html  # board reads only


def test_create_and_edit_an_account(client, login, app_ctx, books):
    login("admin")
    response = client.post("/ledger/accounts/new", data={
        "code": "1003", "name": "微信支付", "name_en": "WeChat Pay", "type": "asset", "is_active": "y"})
    assert response.status_code == 302
    with app_ctx() as s:
        account = s.scalar(select(Account).where(Account.code == "1003"))
        assert (account.name, account.type, account.is_active, account.is_contra) == ("微信支付", "asset", True, False)
        account_id = account.id
    assert "Account 1003 saved." in client.get("/ledger/accounts").get_data(as_text=True)
    edit = client.get(f"/ledger/accounts/{account_id}/edit").get_data(as_text=True)
    assert 'value="微信支付"' in edit
    client.post(f"/ledger/accounts/{account_id}/edit", data={"code": "1004", "name": "支付宝", "type": "asset"})
    with app_ctx() as s:
        account = s.get(Account, account_id)
        assert (account.code, account.name, account.is_active) == ("1004", "支付宝", False)


def test_account_errors_are_shown_and_nothing_changes(client, login, app_ctx, books):
    with app_ctx() as s:
        post(s, s.get(Fund, books.gen), "5.00")
        s.commit()
    login("finance")
    before = ledger_counts(app_ctx)
    duplicate = client.post("/ledger/accounts/new", data={"code": "1002", "name": "重复", "type": "asset"})
    assert "Account code 1002 is already used." in duplicate.get_data(as_text=True)
    locked = client.post(f"/ledger/accounts/{books.cash}/edit",
                         data={"code": "1002", "name": "银行存款", "type": "expense", "is_active": "y"})
    html = locked.get_data(as_text=True)
    assert locked.status_code == 200 and "its code and type can no longer change" in html
    assert ledger_counts(app_ctx) == before
    with app_ctx() as s:
        assert s.get(Account, books.cash).type == "asset"
    assert "its code and type can no longer change" in client.get(f"/ledger/accounts/{books.cash}/edit").get_data(
        as_text=True)  # said up front too


def test_close_a_month(client, login, app_ctx, books):
    user_id = login("finance")
    page = client.get("/ledger/periods").get_data(as_text=True)
    assert "not yet" in page and "No month is closed yet." in page and "data-confirm=" in page
    response = client.post("/ledger/periods/close", data={"month": "2024-01"})
    assert response.status_code == 302
    with app_ctx() as s:
        period = s.scalar(select(Period))
        assert (period.label, period.closed_by_id) == ("2024-01", user_id)
    html = client.get("/ledger/periods").get_data(as_text=True)
    assert "The books are closed through 2024-01." in html and "2024-01-31" in html
    assert '<option selected value="2024-02">' in html or 'selected value="2024-02"' in html  # the next month
    # Closing through a later month closes every month in between, in order.
    client.post("/ledger/periods/close", data={"month": "2024-04"})
    with app_ctx() as s:
        assert [p.label for p in s.scalars(select(Period).order_by(Period.end_date))] == [
            "2024-01", "2024-02", "2024-03", "2024-04"]


def test_closing_errors_are_shown_and_write_nothing(client, login, app_ctx, books):
    login("finance")
    client.post("/ledger/periods/close", data={"month": "2024-03"})
    before = ledger_counts(app_ctx)
    this_month = local_today().strftime("%Y-%m")
    for month, message in (("2024-02", "2024-02 is already closed."), (this_month, "has not ended yet"),
                           ("March", "Choose a valid month.")):
        html = client.post("/ledger/periods/close", data={"month": month}).get_data(as_text=True)
        assert message in html, month
    assert ledger_counts(app_ctx) == before


def test_board_sees_periods_without_the_close_form(client, login, books):
    login("board")
    html = client.get("/ledger/periods").get_data(as_text=True)
    assert "Closed months" in html and "/ledger/periods/close" not in html
