"""Finance keeps the enterprise records and agreements through the pages; the arrears page and the dashboard show
what is owed, what is missing and what came back; `flask enterprises verify` finds a tampered report."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy import select

from fundapp.enterprises.models import Agreement, Enterprise
from tests.factories import make_user
from tests.unit.enterprises.factories import confirm, file, pay
from tests.web.enterprises.conftest import Q1, counts

D = Decimal


def test_finance_adds_an_enterprise_with_its_portal_user_and_related_party(client, login, app_ctx):
    with app_ctx() as s:
        make_user(s, "enterprise", email="canteen@example.org")
        director = make_user(s, "board", email="director@example.org")
        s.commit()
        director_id = director.id
    login("finance")
    data = {"name": "幸福食堂", "credit_code": "91350100M000100Y43", "sector": "餐饮", "community": "幸福社区",
            "status": "active", "portal_emails": "canteen@example.org", "related_parties": [str(director_id)],
            "related_party_note": "理事的配偶任法人"}
    response = client.post("/enterprises/new", data=data)
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Related party" in page and "canteen@example.org" in page and "理事的配偶任法人" in page
    listing = client.get("/enterprises/").get_data(as_text=True)
    assert "幸福食堂" in listing and "Related party" in listing
    before = counts(app_ctx)
    refused = client.post("/enterprises/new", data=data | {"name": "另一家", "credit_code": ""})
    assert "canteen@example.org is already linked to another enterprise." in refused.get_data(as_text=True)
    assert counts(app_ctx) == before


def test_finance_records_a_tiered_agreement_and_a_second_version(client, login, app_ctx, setup):
    with app_ctx() as s:
        enterprise = Enterprise(name="邻里超市")
        s.add(enterprise)
        s.commit()
        enterprise_id = enterprise.id
    login("finance")
    form = {"reference": "反哺协议-2025-01", "effective_from": "2025-01-01", "ends_on": "", "nature": "services",
            "basis": "gross_revenue", "rate": "3", "extra_tiers": "200,000: 4.5\n1000000：6", "minimum": "800",
            "fund": str(setup.fund), "periodicity": "quarterly", "due_days": "20", "note": ""}
    bad = client.post(f"/enterprises/{enterprise_id}/agreements/new", data=form | {"extra_tiers": "lots"})
    assert bad.status_code == 200 and "Write one tier per line" in bad.get_data(as_text=True)
    response = client.post(f"/enterprises/{enterprise_id}/agreements/new", data=form)
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "from ¥200,000.00: 4.5%" in page and "Payment for services (4301 service income)" in page
    assert "no donation receipt" in page
    again = client.get(f"/enterprises/{enterprise_id}/agreements/new").get_data(as_text=True)
    assert "200000.00: 4.5" in again and 'value="反哺协议-2025-01"' in again  # starts from version 1
    misaligned = client.post(f"/enterprises/{enterprise_id}/agreements/new", data=form | {"effective_from":
                                                                                             "2025-05-01"})
    assert "first day of a reporting period" in misaligned.get_data(as_text=True)
    assert client.post(f"/enterprises/{enterprise_id}/agreements/new",
                       data=form | {"effective_from": "2025-07-01", "rate": "4"}).status_code == 302
    with app_ctx() as s:
        versions = s.scalars(select(Agreement).where(Agreement.enterprise_id == enterprise_id)
                             .order_by(Agreement.version)).all()
        assert [(v.version, v.tiers[0].rate, [t.lower_bound for t in v.tiers]) for v in versions] == [
            (1, D("3.0000"), [D("0.00"), D("200000.00"), D("1000000.00")]),
            (2, D("4.0000"), [D("0.00"), D("200000.00"), D("1000000.00")])]


def test_arrears_page_shows_ageing_and_missing_reports(client, login, app_ctx, setup):
    with app_ctx() as s:
        report = confirm(s, file(s, s.get(Enterprise, setup.canteen), Q1, "20000.00")).report
        pay(s, report, "250.00")
        s.commit()
    login("board")
    page = client.get("/enterprises/arrears").get_data(as_text=True)
    assert "Over 90 days" in page and "750.00" in page  # Q1 2025 was due 2025-04-15
    assert "邻里洗衣" in page and "2025-Q1" in page  # the laundry never reported
    assert "幸福食堂" in page


def test_dashboard_draws_what_came_back_with_a_table(client, login, app_ctx, setup):
    with app_ctx() as s:
        canteen, laundry = s.get(Enterprise, setup.canteen), s.get(Enterprise, setup.laundry)
        first = confirm(s, file(s, canteen, Q1, "20000.00")).report
        pay(s, first, "600.00", on=dt.date(2025, 4, 25))
        second = confirm(s, file(s, laundry, Q1, "50000.00", "40000.00")).report
        pay(s, second, "2000.00", on=dt.date(2025, 8, 3))
        s.commit()
    login("finance")
    page = client.get("/enterprises/dashboard?grain=quarter&year=2025").get_data(as_text=True)
    assert page.count("<rect ") >= 2 and "<svg" in page and "<script" not in page.split("</head>")[1]
    assert "幸福食堂 · 2025-Q2: ¥600.00" in page and "邻里洗衣 · 2025-Q3: ¥2,000.00" in page
    assert "2,600.00" in page  # the table's total
    assert "COMM 幸福社区微基金" in page and "3,000.00" in page  # shares confirmed into the fund
    monthly = client.get("/enterprises/dashboard?grain=month&year=2025").get_data(as_text=True)
    assert "2025-04" in monthly and "2025-12" in monthly
    empty = client.get("/enterprises/dashboard?grain=quarter&year=1999").get_data(as_text=True)
    assert "1999-Q1" not in empty and "-Q1" in empty  # an unknown year falls back to this year


def test_verify_finds_a_tampered_report(app, app_ctx, setup):
    with app_ctx() as s:
        report = confirm(s, file(s, s.get(Enterprise, setup.canteen), Q1, "20000.00")).report
        pay(s, report, "100.00")
        s.commit()
        report_id = report.id
    runner = app.test_cli_runner()
    ok = runner.invoke(args=["enterprises", "verify"])
    assert ok.exit_code == 0 and "enterprises OK" in ok.output
    with app_ctx() as s:
        s.execute(sa.text("UPDATE enterprise_reports SET paid_amount = 300 WHERE id = :id"), {"id": report_id})
        s.commit()
    bad = runner.invoke(args=["enterprises", "verify"])
    assert bad.exit_code == 1 and f"report {report_id}: paid" in bad.output
