"""The public fund pages: /public/funds (list, filters, sort, totals tied to the books, CSV) and
/public/funds/<code> (figures, monthly chart table, donations with donors as shown publicly, grants).
Hidden funds never appear by name; their money is the "other funds" line."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

from sqlalchemy import select

from fundapp.dates import local_today
from fundapp.disclosure.scope import anonymous_label
from fundapp.donations.services import reverse_donation
from fundapp.ledger.models import Fund
from fundapp.ledger.queries import fund_net_assets
from tests.factories import make_fund, post
from tests.grants_builders import make_award, make_organisation
from tests.unit.donations.factories import gift, make_donor

HIDDEN_NAME = "Secret Reserve XYZ"
NAMED_DONOR = "Wang Xiaoming"


def books(app_ctx) -> dict:
    """GEN (public, gifts from a named, an anonymous-by-choice and an unknown donor, one reversed gift, an expense
    and a grant), ELD (public, restricted project fund, closed), HID (hidden)."""
    today = local_today()
    with app_ctx() as s:
        gen = make_fund(s, "GEN", name="Neighbourhood Fund", purpose="Care for elderly neighbours")
        eld = make_fund(s, "ELD", name="Elder Meals", restricted=True, fund_type="project")
        hid = make_fund(s, "HID", name=HIDDEN_NAME, is_public=False)
        gift(s, gen, "10000.00", donor=make_donor(s, NAMED_DONOR), on=today)
        gift(s, gen, "500.00", donor=make_donor(s, "Quiet Giver", anonymous_in_public=True), on=today)
        gift(s, gen, "200.00", on=today)
        wrong = gift(s, gen, "30.00", donor=make_donor(s, "Typo Donor"), on=today)
        reverse_donation(s, wrong, "wrong amount", None, on=today)
        post(s, gen, "300.00", debit="5101", credit="1002", date=today)
        gift(s, eld, "800.00", on=today)
        eld.status = "closed"
        post(s, hid, "7777.77", date=today)
        award = make_award(s, "2000.00", fund=gen, organisation=make_organisation(s, name="Sunrise Social Work"))
        s.commit()
        return {"gen": gen.id, "eld": eld.id, "hid": hid.id, "award_title": award.title, "award_id": award.id,
                "balances": fund_net_assets(s, today)}


def money(value: Decimal) -> str:
    return f"{value:,.2f}"


def test_list_shows_public_funds_with_figures_from_the_ledger(client, app_ctx):
    data = books(app_ctx)
    balances = data["balances"]
    page = client.get("/public/funds").get_data(as_text=True)
    assert "Neighbourhood Fund" in page and "Elder Meals" in page
    assert "General fund" in page and "Project fund" in page and "Restricted" in page
    assert "Care for elderly neighbours" in page
    assert "Closed" in page  # ELD is marked
    assert HIDDEN_NAME not in page and "HID" not in page
    gen = balances[data["gen"]]
    assert gen == Decimal("10700.00") - Decimal("300.00") - Decimal("2000.00")  # gifts - expense - grant payable
    assert money(gen) in page
    # "other funds" is the hidden fund's money; with it the total is every fund's net assets
    assert "Other funds" in page and money(Decimal("7777.77")) in page
    assert money(sum(balances.values(), Decimal("0"))) in page
    assert "/api/v1/funds" in page and "/public/funds.csv" in page


def test_list_totals_equal_the_books(client, app_ctx):
    data = books(app_ctx)
    items = client.get("/api/v1/funds").get_json()["items"]
    by_code = {item["code"]: item for item in items}
    assert set(by_code) == {"GEN", "ELD"}
    assert Decimal(by_code["GEN"]["balance"]) == data["balances"][data["gen"]]
    assert Decimal(by_code["ELD"]["balance"]) == data["balances"][data["eld"]]
    rows = list(csv.reader(io.StringIO(client.get("/public/funds.csv").get_data(as_text=True).lstrip("\ufeff"))))
    other, total = rows[-2], rows[-1]
    assert other[1] == "Other funds" and Decimal(other[6]) == data["balances"][data["hid"]]
    listed = sum((Decimal(item["balance"]) for item in items), Decimal("0"))
    assert listed + Decimal(other[6]) == Decimal(total[6]) == sum(data["balances"].values(), Decimal("0"))


def test_income_and_spending_of_the_year(client, app_ctx):
    books(app_ctx)
    item = client.get("/api/v1/funds/GEN").get_json()
    # gifts 10000 + 500 + 200 (the 30 was reversed); spending: the 300 expense and the 2000 grant
    assert item["income_this_year"] == "10700.00"
    assert item["spending_this_year"] == "2300.00"
    month = local_today().strftime("%Y-%m")
    assert len(item["monthly"]) == 24 and item["monthly"][-1]["month"] == month
    assert item["monthly"][-1] == {"month": month, "income": "10700.00", "spending": "2300.00"}
    assert all(m["income"] == "0.00" for m in item["monthly"][:-1])
    page = client.get("/public/funds/GEN").get_data(as_text=True)
    assert money(Decimal("10700.00")) in page and money(Decimal("2300.00")) in page


def test_fund_page_shows_donations_and_grants(app, client, app_ctx):
    data = books(app_ctx)
    response = client.get("/public/funds/GEN")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Care for elderly neighbours" in page
    assert NAMED_DONOR in page
    assert "Quiet Giver" not in page and page.count("Anonymous") >= 2  # asked for anonymity; no donor at all
    assert "Typo Donor" in page and "Reversed (corrected)" in page
    assert "Sunrise Social Work" in page and data["award_title"] in page
    assert 'data-chart="fund-monthly-spec"' in page and "<table" in page
    assert HIDDEN_NAME not in page
    # links to pages written elsewhere, when they exist
    assert ("/public/donations?fund=GEN" in page) == ("disclosure.donations" in app.view_functions)
    assert (f'/public/grants/{data["award_id"]}"' in page) == ("disclosure.grant" in app.view_functions)


def test_fund_page_in_chinese_shows_anonymous_in_chinese(app, client, app_ctx):
    """The label is scope.anonymous_label() in the visitor's language: 匿名 once the catalog is compiled
    (`make translations`; a plain pytest run without the .mo gets the English word)."""
    books(app_ctx)
    page = client.get("/public/funds/GEN", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    with app.test_request_context(headers={"Accept-Language": "zh-CN"}):
        label = anonymous_label()
    assert '<html lang="zh-CN">' in page
    assert page.count(label) >= 2 and "Quiet Giver" not in page


def test_hidden_and_unknown_funds_are_not_found(client, app_ctx):
    books(app_ctx)
    assert client.get("/public/funds/HID").status_code == 404
    assert client.get("/public/funds/NOPE").status_code == 404
    csv_text = client.get("/public/funds.csv").get_data(as_text=True)
    assert HIDDEN_NAME not in csv_text and "HID" not in csv_text
    for url in ("/api/v1/funds/HID", "/api/v1/funds/NOPE"):
        response = client.get(url)
        assert response.status_code == 404 and response.get_json()["error"] == "not_found"
    listed = client.get("/api/v1/funds?q=HID").get_json()
    assert listed["items"] == [] and listed["total"] == 0


def test_search_filter_and_sort(client, app_ctx):
    books(app_ctx)
    with app_ctx() as s:
        make_fund(s, "MIC", name="Riverside Micro-fund", fund_type="micro")
        s.commit()
    page = client.get("/public/funds?q=river").get_data(as_text=True)
    assert "Riverside Micro-fund" in page and "Neighbourhood Fund" not in page
    assert "Total of the listed funds" in page and "Other funds" not in page
    page = client.get("/public/funds?type=project").get_data(as_text=True)
    assert "Elder Meals" in page and "Neighbourhood Fund" not in page
    page = client.get("/public/funds?sort=balance").get_data(as_text=True)
    assert page.index("Neighbourhood Fund") < page.index("Elder Meals") < page.index("Riverside Micro-fund")
    page = client.get("/public/funds?sort=name").get_data(as_text=True)
    assert page.index("Elder Meals") < page.index("Neighbourhood Fund") < page.index("Riverside Micro-fund")
    assert "No funds match these filters." in client.get("/public/funds?q=zzzz").get_data(as_text=True)
    api = client.get("/api/v1/funds?type=micro").get_json()
    assert [item["code"] for item in api["items"]] == ["MIC"]


def test_csv_has_a_bom_and_the_page_rows(client, app_ctx):
    books(app_ctx)
    response = client.get("/public/funds.csv?sort=balance")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    body = response.get_data(as_text=True)
    assert body.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))
    codes = [row[0] for row in rows[1:] if row[0]]
    assert codes == ["GEN", "ELD"]
    page = client.get("/public/funds?sort=balance").get_data(as_text=True)
    assert all(f'/public/funds/{code}"' in page for code in codes)
    assert page.index("/public/funds/GEN\"") < page.index("/public/funds/ELD\"")
    filtered = list(csv.reader(io.StringIO(client.get("/public/funds.csv?type=project").get_data(as_text=True))))
    assert [row[0] for row in filtered[1:] if row[0]] == ["ELD"]


def test_bad_parameters_never_break_the_pages(client, app_ctx):
    books(app_ctx)
    for url in ("/public/funds?page=abc&per_page=0&type=bogus&sort=zzz&junk=1", "/public/funds?q=" + "x" * 300,
                "/public/funds?page=999", "/public/funds.csv?type=bogus&page=abc", "/public/funds/GEN?page=abc"):
        response = client.get(url)
        assert response.status_code == 200, url
    assert "Neighbourhood Fund" in client.get("/public/funds?type=bogus").get_data(as_text=True)


def test_api_refuses_bad_parameters_with_json(client, app_ctx):
    books(app_ctx)
    for url in ("/api/v1/funds?page=abc", "/api/v1/funds?per_page=0", "/api/v1/funds?per_page=1000",
                "/api/v1/funds?colour=red", "/api/v1/funds?type=bogus", "/api/v1/funds?q=" + "x" * 300,
                "/api/v1/funds/GEN?page=2"):
        response = client.get(url)
        assert response.status_code == 400, url
        assert response.get_json()["error"] == "bad_request"


def test_api_pages_and_fields(client, app_ctx):
    books(app_ctx)
    first = client.get("/api/v1/funds?per_page=1").get_json()
    assert first["total"] == 2 and first["pages"] == 2 and len(first["items"]) == 1 and first["next"]
    second = client.get(first["next"]).get_json()
    assert [first["items"][0]["code"], second["items"][0]["code"]] == ["ELD", "GEN"]
    item = second["items"][0]
    assert set(item) == {"code", "name", "type", "restriction", "purpose", "status", "balance", "income_this_year",
                         "spending_this_year", "url"}
    assert item["url"].endswith("/public/funds/GEN") and item["type"] == "general"


def test_pages_run_a_fixed_number_of_queries(client, app_ctx, count_queries):
    """No N+1: the list page, the CSV and the API cost the same with 2 or 8 funds and more entries."""
    books(app_ctx)

    def add(n: int) -> None:
        with app_ctx() as s:
            for _ in range(n):
                fund = make_fund(s)
                post(s, fund, "1.00")
                post(s, fund, "2.00", debit="5101", credit="1002")
            s.commit()

    def cost(url: str) -> int:
        with count_queries() as counter:
            assert client.get(url).status_code == 200
        return counter[0]

    urls = ("/public/funds", "/public/funds.csv", "/api/v1/funds", "/public/funds/GEN")
    small = [cost(url) for url in urls]
    add(6)
    with app_ctx() as s:
        gen = s.scalar(select(Fund).where(Fund.code == "GEN"))
        for _ in range(5):
            gift(s, gen, "5.00", on=local_today())
        s.commit()
    assert [cost(url) for url in urls] == small
