"""Statement pages: who may see them, the period and fund picker, bad input, and the figures on the page."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlsplit

import pytest

from fundapp.ledger.models import Fund
from tests.statements_builders import entry, fixture_books

NAMES = ("balance-sheet", "activities", "cash-flows")
YEAR_2025 = {"period": "year", "year": "2025"}


@pytest.fixture()
def books(app_ctx):
    with app_ctx() as s:
        books = fixture_books(s)
        s.commit()
        return {"gen": books.gen.id, "prj": books.prj.id}


@pytest.mark.parametrize("role", ["finance", "admin", "board"])
def test_readers_see_every_statement(client, login, role):
    login(role)
    assert client.get("/reports/").status_code == 200
    for name in NAMES:
        response = client.get(f"/reports/{name}")
        assert response.status_code == 200, name
        assert "<table" in response.get_data(as_text=True)


@pytest.mark.parametrize("role", ["applicant", "donor", "enterprise", "reviewer"])
def test_other_roles_are_refused(client, login, role):
    login(role)
    for path in ("/reports/", *(f"/reports/{n}{ext}" for n in NAMES for ext in ("", ".xlsx", ".pdf"))):
        assert client.get(path).status_code == 403, path


def test_anonymous_visitors_are_sent_to_sign_in(client):
    for path in ("/reports/", "/reports/balance-sheet", "/reports/activities.xlsx", "/reports/cash-flows.pdf"):
        response = client.get(path)
        assert response.status_code == 302 and urlsplit(response.headers["Location"]).path == "/auth/login", path


def test_an_unknown_statement_is_not_found(client, login):
    login("finance")
    for path in ("/reports/trial", "/reports/trial.xlsx", "/reports/trial.pdf"):
        assert client.get(path).status_code == 404


def test_balance_sheet_page_shows_the_hand_figures(client, login, books):
    login("board")
    html = client.get("/reports/balance-sheet", query_string=YEAR_2025).get_data(as_text=True)
    assert "2025年12月31日" in html and "会民非01表" in html and "2024-12-31" in html
    for figure in ("178,075.00", "40,000.00", "218,075.00", "12,000.00", "156,075.00", "50,000.00", "206,075.00"):
        assert figure in html, figure
    assert "flash-error" not in html


def test_activities_page_shows_both_classes_and_the_year_before(client, login, books):
    login("finance")
    html = client.get("/reports/activities", query_string=YEAR_2025).get_data(as_text=True)
    assert "2025年度" in html and "Net assets released from restriction" in html
    for figure in ("130,000.00", "142,600.00", "36,525.00", "-30,000.00", "56,075.00", "106,075.00", "100,000.00"):
        assert figure in html, figure


def test_cash_flows_page_for_one_fund(client, login, books):
    login("admin")
    html = client.get("/reports/cash-flows", query_string={**YEAR_2025, "fund": books["prj"]}).get_data(as_text=True)
    assert "PRJ" in html
    for figure in ("80,000.00", "18,000.00", "62,000.00"):
        assert figure in html, figure
    assert "178,075.00" not in html  # the foundation's cash, not the fund's


def test_chinese_interface_keeps_the_statutory_headings(client, login, books):
    login("finance")
    html = client.get("/reports/activities", query_string=YEAR_2025,
                      headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "非限定性" in html and "限定性" in html and "上年同期数" in html and "捐赠收入" in html


@pytest.mark.parametrize("args", [
    {"period": "custom"},
    {"period": "custom", "date_from": "2025-01-01"},
    {"period": "custom", "date_from": "2025-13-01", "date_to": "2025-12-31"},
    {"period": "custom", "date_from": "2025-06-30", "date_to": "2025-01-01"},
    {"period": "custom", "date_from": "1900-01-01", "date_to": "1900-12-31"},
    {"period": "custom", "date_from": "2000-01-01", "date_to": "2025-12-31"},
    {"period": "year", "year": "twenty"},
    {"period": "year", "year": "0"},
    {"period": "month", "month": "13"},
    {"period": "quarter", "quarter": "5"},
    {"period": "decade"},
    {"fund": "999999"},
    {"fund": "abc"},
], ids=lambda a: "-".join(f"{k}={v}" for k, v in a.items()))
def test_bad_period_input_is_a_form_error(client, login, args):
    login("finance")
    for name in NAMES:
        response = client.get(f"/reports/{name}", query_string=args)
        html = response.get_data(as_text=True)
        assert response.status_code == 200, (name, args)
        assert 'class="error"' in html and "statement-table" not in html, (name, args)
    for ext in (".xlsx", ".pdf"):
        response = client.get(f"/reports/activities{ext}", query_string=args)
        assert response.status_code == 302 and urlsplit(response.headers["Location"]).path == "/reports/activities"


@pytest.mark.parametrize("args,label", [
    ({"period": "month", "year": "2025", "month": "4"}, "2025年4月"),
    ({"period": "quarter", "year": "2025", "quarter": "3"}, "2025年第三季度"),
    ({"period": "custom", "date_from": "2025-02-01", "date_to": "2025-05-31"}, "2025年2月1日至2025年5月31日"),
    ({}, "年1月1日至"),  # this year to date
])
def test_period_choices(client, login, books, args, label):
    login("finance")
    html = client.get("/reports/cash-flows", query_string=args).get_data(as_text=True)
    assert label in html and "statement-table" in html


def test_april_activities(client, login, books):
    login("finance")
    html = client.get("/reports/activities", query_string={"period": "month", "year": "2025", "month": "4"}
                      ).get_data(as_text=True)
    assert "30,000.00" in html and "-30,000.00" in html and "142,600.00" not in html


def test_statement_pages_run_a_fixed_number_of_queries(client, login, books, app_ctx, count_queries):
    """The pages read balance rows, not lines: more entries do not mean more queries."""
    login("finance")
    counts = {}
    for name in NAMES:
        with count_queries() as counter:
            assert client.get(f"/reports/{name}", query_string=YEAR_2025).status_code == 200
        counts[name] = counter[0]
    with app_ctx() as s:
        gen = s.get(Fund, books["gen"])
        for day in range(1, 20):
            entry(s, dt.date(2025, 10, day), "更多捐赠", ("1002", gen, "10.00", "unrestricted"),
                  ("4101", gen, "-10.00", "unrestricted"))
        s.commit()
    for name in NAMES:
        with count_queries() as counter:
            assert client.get(f"/reports/{name}", query_string=YEAR_2025).status_code == 200
        assert counter[0] == counts[name], name
    # Balance sheet: 2 balance reads; activities: 4 (start and end of both ranges) and, per range, one look for
    # year-end closing entries to leave out; cash flows: 2 grouped line queries and 4 cash balance reads. The
    # rest (user, funds, accounts, the page frame) is shared.
    assert counts["balance-sheet"] <= 12, counts
    assert counts["activities"] - counts["balance-sheet"] == 4, counts
    assert counts["cash-flows"] - counts["balance-sheet"] == 4, counts


def test_an_expense_booked_as_restricted_is_explained_on_the_page(client, login, books, app_ctx):
    with app_ctx() as s:
        entry(s, dt.date(2025, 10, 8), "助老物资采购", ("5101", s.get(Fund, books["prj"]), "2000.00", None),
              ("1002", s.get(Fund, books["prj"]), "-2000.00", None))
        s.commit()
    login("finance")
    html = client.get("/reports/activities", query_string=YEAR_2025).get_data(as_text=True)
    assert "flash-warning" in html and "2,000.00" in html and "32,000.00" in html
    assert "flash-warning" not in client.get("/reports/activities", query_string={
        "period": "quarter", "year": "2025", "quarter": "1"}).get_data(as_text=True)
