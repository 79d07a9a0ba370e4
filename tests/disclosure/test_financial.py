"""The public financial pages and the statements API: the figures equal fundapp.reports.statements' (and the
balance sheet's net assets equal every fund's net assets), the ratios, the annual report PDF (404 until one is
generated), unknown years and bad parameters, and query counts that do not grow with the ledger."""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal

import pytest

from fundapp.ledger.models import Fund
from fundapp.ledger.queries import fund_net_assets
from fundapp.reports.periods import year_period
from fundapp.reports.statements import activities, balance_sheet, cash_flows
from fundapp.setup import format_money
from tests.factories import post
from tests.statements_builders import fixture_books

YEAR = 2025
PDF = b"%PDF-1.4 fake annual report\n%%EOF\n"


@pytest.fixture(autouse=True)
def report_dir(app, tmp_path, monkeypatch):
    """An empty ANNUAL_REPORT_DIR: no PDF generated unless a test writes one."""
    monkeypatch.setitem(app.config, "ANNUAL_REPORT_DIR", str(tmp_path))
    return tmp_path


def books(app_ctx) -> dict:
    """The statement tests' hand-worked ledger; returns each statement's figures as the API writes them."""
    with app_ctx() as s:
        fixture_books(s)
        s.commit()
        period = year_period(YEAR)
        built = [balance_sheet(s, period), activities(s, period), cash_flows(s, period)]
        expected = {st.kind: {row.line.key: {k: f"{v:.2f}" for k, v in row.values.items()}
                              for row in st.rows if not row.line.is_heading} for st in built}
        net_assets = sum(fund_net_assets(s, dt.date(YEAR, 12, 31)).values(), Decimal("0.00"))
        return {"expected": expected, "net_assets": net_assets}


def test_api_statements_equal_the_reports(client, app_ctx):
    data = books(app_ctx)
    body = client.get(f"/api/v1/statements/{YEAR}").get_json()
    got = {st["kind"]: {row["key"]: row["values"] for row in st["rows"]} for st in body["statements"]}
    assert got == data["expected"]
    assert [st["title"] for st in body["statements"]] == ["资产负债表", "业务活动表", "现金流量表"]
    closing_net_assets = Decimal(got["balance-sheet"]["net_assets_total"]["closing"])
    assert closing_net_assets == data["net_assets"] != 0
    assert body["ratios"]["year"] == YEAR and body["ratios"]["management_costs"]["status"] in {
        "pass", "warn", "fail", "exempt", "unknown"}


def test_year_page_shows_the_three_statements(client, app_ctx):
    data = books(app_ctx)
    response = client.get(f"/public/financial/{YEAR}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    for title in ("资产负债表", "业务活动表", "现金流量表"):
        assert title in page
    for kind, rows in data["expected"].items():
        for key in ("cash", "net_assets_total", "revenue_total", "net_change"):
            for value in rows.get(key, {}).values():
                assert format_money(Decimal(value)) in page, (kind, key, value)
    assert format_money(data["net_assets"]) in page
    assert "Charitable spending" in page and "Management costs" in page
    assert "not yet published" in page


def test_index_lists_years_ratios_and_links(client, app_ctx):
    books(app_ctx)
    page = client.get("/public/financial").get_data(as_text=True)
    assert f"/public/financial/{YEAR}" in page and "/public/financial/2024" in page
    assert "Charitable spending ratio" in page and "Management cost ratio" in page
    assert "annual-report.pdf" not in page and "Not yet published" in page
    years = client.get("/api/v1/statements").get_json()["items"]
    by_year = {item["year"]: item for item in years}
    assert {2024, YEAR} <= set(by_year)
    assert by_year[YEAR]["statements"].endswith(f"/api/v1/statements/{YEAR}")
    assert by_year[YEAR]["annual_report"] is None


def test_unknown_year_is_404(client, app_ctx):
    books(app_ctx)
    assert client.get("/public/financial/1999").status_code == 404
    assert client.get("/public/financial/1999/annual-report.pdf").status_code == 404
    response = client.get("/api/v1/statements/1999")
    assert response.status_code == 404 and response.get_json()["error"] == "not_found"


def test_annual_report_404_until_generated_then_served(client, app_ctx, report_dir):
    books(app_ctx)
    tmp_path = report_dir
    assert client.get(f"/public/financial/{YEAR}/annual-report.pdf").status_code == 404
    name = f"annual-{YEAR}-AbCdEf.pdf"  # the layout of fundapp.reports.annual_tasks
    (tmp_path / name).write_bytes(PDF)
    (tmp_path / f"annual-{YEAR}.json").write_text(json.dumps(
        {"year": YEAR, "status": "ready", "file": name, "generated_at": "2026-02-01T08:00:00+00:00"}))
    with client.get(f"/public/financial/{YEAR}/annual-report.pdf") as response:
        assert response.status_code == 200 and response.data == PDF
        assert response.mimetype == "application/pdf"
        assert f"annual-report-{YEAR}.pdf" in response.headers["Content-Disposition"]
    assert f"/public/financial/{YEAR}/annual-report.pdf" in client.get("/public/financial").get_data(as_text=True)
    items = {i["year"]: i for i in client.get("/api/v1/statements").get_json()["items"]}
    assert items[YEAR]["annual_report"].endswith(f"/public/financial/{YEAR}/annual-report.pdf")
    duties = client.get("/public/disclosure").get_data(as_text=True)
    assert "2026-02-01" in duties


def test_annual_report_state_pointing_outside_is_ignored(client, app_ctx, report_dir):
    books(app_ctx)
    (report_dir / f"annual-{YEAR}.json").write_text(json.dumps({"file": "../secret.pdf"}))
    assert client.get(f"/public/financial/{YEAR}/annual-report.pdf").status_code == 404


def test_bad_parameters(client, app_ctx):
    books(app_ctx)
    for url in ("/api/v1/statements?year=2025", f"/api/v1/statements/{YEAR}?fund=GEN"):
        response = client.get(url)
        assert response.status_code == 400, url
        assert response.get_json()["error"] == "bad_request"
    assert client.get(f"/public/financial/{YEAR}?fund=x&page=zz").status_code == 200
    assert client.get("/public/financial/abc").status_code == 404


def test_query_counts_do_not_grow_with_the_ledger(client, app_ctx, count_queries):
    with app_ctx() as s:
        fixture = fixture_books(s)
        s.commit()
    urls = ("/public/financial", f"/public/financial/{YEAR}", f"/api/v1/statements/{YEAR}", "/api/v1/statements")
    few = {}
    for url in urls:
        with count_queries() as counter:
            assert client.get(url).status_code == 200
        few[url] = counter[0]
    with app_ctx() as s:
        gen = s.get(Fund, fixture.gen.id)
        for day in range(1, 29):
            post(s, gen, "10.00", date=dt.date(YEAR, 2, day))
            post(s, gen, "3.00", debit="5201", credit="1002", date=dt.date(YEAR, 3, day))
        s.commit()
    for url in urls:
        with count_queries() as counter:
            assert client.get(url).status_code == 200
        assert counter[0] == few[url], url


def test_duties_page_lists_each_duty_with_a_working_link(client, app_ctx):
    books(app_ctx)
    page = client.get("/public/disclosure").get_data(as_text=True)
    for words in ("named funds", "related parties", "31 May", "six months", "explanation"):
        assert words in page, words
    links = re.findall(r'class="duty-link" href="([^"]+)"', page)
    assert "/public/financial" in links and "/public/corrections" in links and "/public/verify" in links
    for link in links:
        assert client.get(link).status_code == 200, link
    assert "Not yet published" in page  # no annual report generated, no grant report accepted


def test_duties_dates_follow_the_data(client, app_ctx):
    from fundapp.ledger.services import reverse_entry
    from tests.factories import make_fund

    with app_ctx() as s:
        gen = make_fund(s, "GEN")
        entry = post(s, gen, "5.00", date=dt.date(2024, 6, 1))
        reverse_entry(s, entry, reason="typo", actor=None, effective_date=dt.date(2024, 6, 3))
        s.commit()
    page = client.get("/public/disclosure").get_data(as_text=True)
    row = page.split('id="duty-corrections"')[1].split("</tr>")[0]
    assert "2024-06-03" in row
