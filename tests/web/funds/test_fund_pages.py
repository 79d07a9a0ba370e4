"""Fund pages: list, detail with balances and history, create/edit/close through the forms."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from fundapp.audit.models import AuditEvent
from fundapp.dates import local_today
from fundapp.ledger.models import Fund
from tests.factories import make_fund, post


def fund_count(s) -> int:
    return s.scalar(select(func.count()).select_from(Fund))


def form_data(**overrides) -> dict:
    data = {"code": "EDU", "name": "Education fund", "fund_type": "named", "restriction": "restricted",
            "purpose": "Scholarships", "is_public": "y"}
    return {**data, **overrides}


def test_create_fund_through_the_form(client, login, app_ctx):
    user_id = login("finance")
    assert client.get("/funds/new").status_code == 200
    response = client.post("/funds/new", data=form_data(code=" edu "))
    assert response.status_code == 302
    with app_ctx() as s:
        fund = s.scalar(select(Fund).where(Fund.code == "EDU"))
        assert (fund.name, fund.fund_type, fund.restriction, fund.purpose, fund.is_public, fund.status) == (
            "Education fund", "named", "restricted", "Scholarships", True, "active")
        event = s.scalar(select(AuditEvent).where(AuditEvent.tag == "funds:fund:created"))
        assert event.actor_id == user_id and event.subject_id == str(fund.id)
        assert response.headers["Location"].endswith(f"/funds/{fund.id}")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Education fund" in page and "Named fund" in page and "No entries for this fund yet." in page


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"code": "GEN"}, "Fund code GEN is already used."),
        ({"name": "  "}, "A fund needs a name."),
        ({"fund_type": "pyramid"}, "Not a valid choice"),
        ({"restriction": "sometimes"}, "Not a valid choice"),
        ({"code": "with space"}, "A fund code is 1 to 20 letters"),
        ({"code": ""}, "Enter a fund code."),
    ],
)
def test_bad_input_shows_an_error_and_writes_nothing(client, login, app_ctx, overrides, message):
    with app_ctx() as s:
        make_fund(s, "GEN")
        s.commit()
        before = fund_count(s), s.scalar(select(func.count()).select_from(AuditEvent))
    login("admin")
    response = client.post("/funds/new", data=form_data(**overrides))
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    with app_ctx() as s:
        # login added one audit row (login succeeded) and one user-created row; nothing about funds
        assert fund_count(s) == before[0]
        assert s.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.tag.like("funds:%"))) == 1


def test_edit_fund_records_before_and_after(client, login, app_ctx):
    with app_ctx() as s:
        fund_id = make_fund(s, "OLD", name="Old name").id
        s.commit()
    user_id = login("finance")
    page = client.get(f"/funds/{fund_id}/edit").get_data(as_text=True)
    assert 'value="Old name"' in page and "readonly" not in page
    response = client.post(f"/funds/{fund_id}/edit", data=form_data(code="NEW", name="New name", is_public=""))
    assert response.status_code == 302
    with app_ctx() as s:
        fund = s.get(Fund, fund_id)
        assert (fund.code, fund.name, fund.is_public) == ("NEW", "New name", False)
        event = s.scalar(select(AuditEvent).where(AuditEvent.tag == "funds:fund:updated"))
        assert event.actor_id == user_id
        assert event.before["code"] == "OLD" and event.before["name"] == "Old name" and event.before["is_public"]
        assert event.after["code"] == "NEW" and event.after["name"] == "New name" and not event.after["is_public"]
    detail = client.get(f"/funds/{fund_id}").get_data(as_text=True)
    assert f"/admin/audit?subject_type=fund&amp;subject_id={fund_id}" in detail
    history = client.get(f"/admin/audit?subject_type=fund&subject_id={fund_id}").get_data(as_text=True)
    assert "Old name &rarr; New name" in history


def test_code_is_locked_once_lines_are_posted(client, login, app_ctx):
    with app_ctx() as s:
        fund = make_fund(s, "LOCK")
        post(s, fund, "10.00")
        s.commit()
        fund_id = fund.id
    login("finance")
    page = client.get(f"/funds/{fund_id}/edit").get_data(as_text=True)
    assert "readonly" in page and "its code can no longer change" in page
    response = client.post(f"/funds/{fund_id}/edit", data=form_data(code="OTHER", name="Renamed"))
    assert response.status_code == 200
    assert "This fund has posted lines: its code can no longer change." in response.get_data(as_text=True)
    with app_ctx() as s:
        fund = s.get(Fund, fund_id)
        assert (fund.code, fund.name) == ("LOCK", "Fund LOCK")
        assert s.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.tag == "funds:fund:updated")) == 0
    # the rest of the fund can still change
    # so is the restriction: it classifies the posted lines
    response = client.post(f"/funds/{fund_id}/edit", data=form_data(code="LOCK", name="Renamed"))
    assert "its restriction can no longer change" in response.get_data(as_text=True)
    # the rest of the fund can still change
    unchanged = {"code": "LOCK", "restriction": "unrestricted"}
    assert client.post(f"/funds/{fund_id}/edit", data=form_data(name="Renamed", **unchanged)).status_code == 302
    with app_ctx() as s:
        assert s.get(Fund, fund_id).name == "Renamed"


def test_a_fund_holding_money_cannot_close(client, login, app_ctx):
    with app_ctx() as s:
        fund = make_fund(s, "FULL")
        post(s, fund, "10.00")
        s.commit()
        fund_id = fund.id
    login("finance")
    response = client.post(f"/funds/{fund_id}/close", follow_redirects=True)
    assert "still holds assets" in response.get_data(as_text=True)
    with app_ctx() as s:
        assert s.get(Fund, fund_id).status == "active"
        post(s, s.get(Fund, fund_id), "10.00", debit="5101", credit="1002")  # spend it all
        s.commit()
    assert client.post(f"/funds/{fund_id}/close").status_code == 302
    with app_ctx() as s:
        assert s.get(Fund, fund_id).status == "closed"


def test_fund_page_shows_balances_income_spending_and_history(client, login, app_ctx):
    today = local_today()
    with app_ctx() as s:
        fund = make_fund(s, "KIDS", name="Children fund")
        other = make_fund(s, "ELSE")
        first = post(s, fund, "1500.00", memo="gift from a neighbour", date=today.replace(month=1, day=1))
        post(s, fund, "250.25", debit="5101", credit="1002", memo="books for the library")
        post(s, other, "999.00", memo="another fund")
        s.commit()
        fund_id, first_id = fund.id, first.id
    login("board")
    page = client.get(f"/funds/{fund_id}").get_data(as_text=True)
    assert "¥1,249.75" in page  # net assets: 1500.00 - 250.25
    assert "¥1,500.00" in page  # income this year
    assert "¥250.25" in page  # spending this year
    assert "1002" in page and "4101" in page and "5101" in page
    assert "gift from a neighbour" in page and "books for the library" in page
    assert "another fund" not in page and "999.00" not in page
    assert f'href="/ledger/entries/{first_id}"' in page
    assert "Close fund" not in page  # the board reads only


def test_history_is_paginated(client, login, app_ctx, app):
    with app_ctx() as s:
        fund = make_fund(s)
        for n in range(3):
            post(s, fund, f"{n + 1}.00", memo=f"gift {n}")
        s.commit()
        fund_id = fund.id
    login("finance")
    size = app.config["PAGE_SIZE"]
    app.config["PAGE_SIZE"] = 2
    try:
        first = client.get(f"/funds/{fund_id}").get_data(as_text=True)
        second = client.get(f"/funds/{fund_id}?page=2").get_data(as_text=True)
        beyond = client.get(f"/funds/{fund_id}?page=9")
    finally:
        app.config["PAGE_SIZE"] = size
    assert "gift 2" in first and "gift 0" not in first and "Page 1 of 3" in first
    assert "gift 1" in second and "gift 2" not in second
    assert beyond.status_code == 200 and "There is no such page." in beyond.get_data(as_text=True)


def test_running_net_assets_follow_posting_order(client, login, app_ctx):
    with app_ctx() as s:
        fund = make_fund(s)
        post(s, fund, "100.00", memo="first")
        post(s, fund, "30.00", debit="5101", credit="1002", memo="second")
        post(s, fund, "5.00", memo="third")
        s.commit()
        fund_id = fund.id
    login("finance")
    page = client.get(f"/funds/{fund_id}").get_data(as_text=True)
    rows = [row for row in page.split("<tr>") if "Net assets after" in row and "#" in row]
    assert ["75.00" in rows[0], "70.00" in rows[1], "100.00" in rows[2]] == [True, True, True]


def test_close_and_reopen_a_fund(client, login, app_ctx):
    with app_ctx() as s:
        fund_id = make_fund(s, "SHUT").id
        s.commit()
    login("finance")
    page = client.get(f"/funds/{fund_id}").get_data(as_text=True)
    assert "data-confirm=" in page and f'action="/funds/{fund_id}/close"' in page
    assert client.get(f"/funds/{fund_id}/close").status_code == 405
    response = client.post(f"/funds/{fund_id}/close", follow_redirects=True)
    assert "Fund SHUT was closed." in response.get_data(as_text=True)
    with app_ctx() as s:
        assert s.get(Fund, fund_id).status == "closed"
        event = s.scalar(select(AuditEvent).where(AuditEvent.tag == "funds:fund:updated"))
        assert (event.before["status"], event.after["status"]) == ("active", "closed")
    client.post(f"/funds/{fund_id}/reopen")
    with app_ctx() as s:
        assert s.get(Fund, fund_id).status == "active"


def test_fund_list_search_filter_sort_and_totals(client, login, app_ctx):
    with app_ctx() as s:
        a = make_fund(s, "A1", name="Zebra crossing", fund_type="micro")
        b = make_fund(s, "B2", name="Apple orchard", fund_type="endowment", restricted=True)
        make_fund(s, "C3", name="Closed one", status="closed")
        post(s, a, "10.00")
        post(s, b, "2000.00")
        s.commit()
    login("admin")
    page = client.get("/funds/").get_data(as_text=True)
    assert page.index(">A1<") < page.index(">B2<") < page.index(">C3<")
    assert "Community micro-fund" in page and "Endowment fund" in page and "2,010.00" in page
    by_name = client.get("/funds/?sort=name").get_data(as_text=True)
    assert by_name.index("Apple orchard") < by_name.index("Closed one") < by_name.index("Zebra crossing")
    by_balance = client.get("/funds/?sort=balance").get_data(as_text=True)
    assert by_balance.index(">B2<") < by_balance.index(">A1<") < by_balance.index(">C3<")
    searched = client.get("/funds/?q=orch").get_data(as_text=True)
    assert ">B2<" in searched and ">A1<" not in searched
    assert ">A1<" in client.get("/funds/?q=a1").get_data(as_text=True)
    typed = client.get("/funds/?fund_type=micro").get_data(as_text=True)
    assert ">A1<" in typed and ">B2<" not in typed
    closed = client.get("/funds/?status=closed&fund_type=bogus").get_data(as_text=True)
    assert ">C3<" in closed and ">A1<" not in closed
    none = client.get("/funds/?q=nothing-like-this").get_data(as_text=True)
    assert "No funds match these filters." in none


def test_empty_fund_list(client, login):
    login("finance")
    page = client.get("/funds/").get_data(as_text=True)
    assert "No funds yet." in page and "Create the first fund" in page


def test_fund_csv_export(client, login, app_ctx):
    with app_ctx() as s:
        fund = make_fund(s, "CSV", name="=cmd|' /C calc'!A0", fund_type="named")
        make_fund(s, "OTHER")
        post(s, fund, "1234.50")
        s.commit()
    login("board")
    response = client.get("/funds/funds.csv?q=CSV")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeffCode,Name,Type")
    assert "CSV,'=cmd|' /C calc'!A0,Named fund,Unrestricted,Active,yes,1234.50" in text
    assert "OTHER" not in text


def test_readers_cannot_manage_funds(client, login, app_ctx):
    with app_ctx() as s:
        fund_id = make_fund(s).id
        s.commit()
    login("board")
    assert client.get("/funds/new").status_code == 403
    assert client.post("/funds/new", data=form_data()).status_code == 403
    assert client.post(f"/funds/{fund_id}/close").status_code == 403
    with app_ctx() as s:
        assert s.get(Fund, fund_id).status == "active" and fund_count(s) == 1


def test_unknown_fund_is_404(client, login):
    login("finance")
    assert client.get("/funds/999999").status_code == 404
    assert client.get("/funds/999999/edit").status_code == 404




def test_fund_pages_run_a_fixed_number_of_queries(client, login, app_ctx, count_queries):
    """No N+1: the list costs the same with 2 or 8 funds, the detail page the same with 2 or 8 entries."""
    login("finance")

    def add(n: int) -> int:
        with app_ctx() as s:
            for _ in range(n):
                fund = make_fund(s)
                post(s, fund, "1.00")
                post(s, fund, "2.00")
            s.commit()
            return fund.id

    def cost(url: str) -> int:
        with count_queries() as counter:
            assert client.get(url).status_code == 200
        return counter[0]

    fund_id = add(2)
    small = cost("/funds/"), cost(f"/funds/{fund_id}")
    other = add(6)
    with app_ctx() as s:
        fund = s.get(Fund, other)
        for _ in range(6):
            post(s, fund, "3.00")
        s.commit()
    assert small[0] > 2 and small[1] > 5
    assert (cost("/funds/"), cost(f"/funds/{other}")) == small
