"""The public social-enterprise pages, CSV and API: what each returned to which fund (equal to the posted payments
and the receivable in the ledger), agreements in public form, amendments and reversed payments as corrections,
no contacts, credit code or revenue figures, hidden funds only as "Other funds", a fixed number of queries, bad
parameters (200 on pages, 400 JSON on the API), the CSV's byte-order mark."""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from fundapp.enterprises.models import Enterprise, EnterprisePayment, PaymentStatus
from fundapp.enterprises.payments import reverse_payment
from fundapp.ledger.models import Account, Fund, JournalLine
from tests.factories import make_fund
from tests.unit.enterprises.factories import amend, confirm, file, make_agreement, make_enterprise, pay

Q1, Q2 = dt.date(2025, 1, 1), dt.date(2025, 4, 1)
PRIVATE = {
    "phone": "13900001111", "email": "canteen.secret@example.org", "credit code": "91350100M000100Y43",
    "address": "食堂路1号SECRET", "notes": "SECRETNOTE", "contact": "联系人SECRET", "hidden fund": "隐藏基金SECRET",
    "revenue": "150,000.00", "raw revenue": "150000", "amended revenue": "160000", "pending revenue": "777777",
    "bank reference": "SECRETBANKREF",
}


@dataclass(frozen=True)
class Data:
    canteen: int
    laundry: int
    unlisted: int


@pytest.fixture()
def data(app_ctx) -> Data:
    with app_ctx() as s:
        comm = make_fund(s, "COMM", fund_type="micro", name="幸福社区微基金")
        hidden = make_fund(s, "HID", name=PRIVATE["hidden fund"], is_public=False)
        canteen = make_enterprise(s, "幸福食堂", community="幸福社区", sector="餐饮", phone=PRIVATE["phone"],
                                  email=PRIVATE["email"], credit_code=PRIVATE["credit code"],
                                  address=PRIVATE["address"], notes=PRIVATE["notes"],
                                  contact_person=PRIVATE["contact"])
        laundry, unlisted = make_enterprise(s, "邻里洗衣"), make_enterprise(s, "未签约企业")
        make_agreement(s, canteen, comm, rate="5", more_tiers=[("100000", "8")])
        make_agreement(s, laundry, hidden, nature="shareholding", basis="net_profit", rate="20")
        report = confirm(s, file(s, canteen, Q1, "150000.00")).report  # 5 % of 100,000 + 8 % of 50,000 = 9,000
        pay(s, report, "1000.00", reference=PRIVATE["bank reference"])
        wrong = pay(s, report, "500.00", on=dt.date(2025, 5, 2))
        reverse_payment(s, wrong, "重复录入", None, on=dt.date(2025, 5, 3))
        confirm(s, amend(s, report, "160000.00", reason="补开发票"), on=dt.date(2025, 5, 10))  # 9,800
        file(s, canteen, Q2, "777777.00")  # filed, never confirmed: not public
        washed = confirm(s, file(s, laundry, Q1, "1000.00", "500.00")).report  # 20 % of 500 = 100
        pay(s, washed, "60.00", on=dt.date(2026, 1, 5))
        s.commit()
        return Data(canteen.id, laundry.id, unlisted.id)


def read_csv(response) -> list[list[str]]:
    raw = response.get_data()
    assert raw.startswith(b"\xef\xbb\xbf"), "the CSV must start with a UTF-8 byte-order mark"
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))


def urls(data: Data) -> list[str]:
    return ["/public/enterprises", f"/public/enterprises/{data.canteen}", f"/public/enterprises/{data.laundry}",
            "/public/enterprises.csv", "/api/v1/enterprises", f"/api/v1/enterprises/{data.canteen}",
            f"/api/v1/enterprises/{data.laundry}", "/public/enterprises?year=2025", "/api/v1/enterprises?year=2026"]


def test_the_list_shows_returns_by_fund_and_what_is_owed(client, data):
    html = client.get("/public/enterprises").get_data(as_text=True)
    assert "幸福食堂" in html and "邻里洗衣" in html and "餐饮" in html and "幸福社区" in html
    assert "未签约企业" not in html  # no agreement: no public relationship yet
    assert "幸福社区微基金" in html and "Other funds" in html
    assert "9,800.00" in html and "8,800.00" in html  # share due and still owed after the amendment
    items = {i["id"]: i for i in client.get("/api/v1/enterprises").get_json()["items"]}
    assert items[data.canteen]["returns"] == [{"fund": "COMM", "fund_name": "幸福社区微基金", "amount": "1000.00"}]
    assert items[data.laundry]["returns"] == [{"fund": None, "fund_name": "Other funds", "amount": "60.00"}]
    assert (items[data.canteen]["share_due"], items[data.canteen]["outstanding"]) == ("9800.00", "8800.00")


def test_returns_equal_the_posted_payments_and_the_ledger(client, app_ctx, data):
    with app_ctx() as s:
        posted = dict(s.execute(select(EnterprisePayment.enterprise_id, func.sum(EnterprisePayment.amount))
                                .where(EnterprisePayment.status == PaymentStatus.recorded.value)
                                .group_by(EnterprisePayment.enterprise_id)).all())
        receivable = s.scalar(select(func.sum(JournalLine.amount)).join(Account).join(Fund)
                              .where(Account.code == "1121", Fund.code == "COMM"))
    for enterprise_id in (data.canteen, data.laundry):
        detail = client.get(f"/api/v1/enterprises/{enterprise_id}").get_json()
        assert sum(Decimal(r["amount"]) for r in detail["returns"]) == posted[enterprise_id]
        assert Decimal(detail["received"]) == posted[enterprise_id]
    canteen = client.get(f"/api/v1/enterprises/{data.canteen}").get_json()
    assert Decimal(canteen["outstanding"]) == receivable == Decimal("8800.00")  # the only receivable in COMM


def test_the_year_filter_counts_payments_received_and_shares_of_periods_ending_that_year(client, data):
    items = {i["id"]: i for i in client.get("/api/v1/enterprises?year=2026").get_json()["items"]}
    assert items[data.canteen]["received"] == "0.00" and items[data.canteen]["share_due"] == "0.00"
    assert items[data.laundry]["received"] == "60.00" and items[data.laundry]["share_due"] == "0.00"
    items = {i["id"]: i for i in client.get("/api/v1/enterprises?year=2025").get_json()["items"]}
    assert items[data.laundry]["received"] == "0.00" and items[data.laundry]["share_due"] == "100.00"
    html = client.get("/public/enterprises?year=2025").get_data(as_text=True)
    assert "Received in 2025" in html and "1,000.00" in html
    rows = read_csv(client.get("/public/enterprises.csv?year=2026"))
    assert [row[1] for row in rows[1:]] == ["幸福食堂", "邻里洗衣"] and rows[2][8] == "60.00"


def test_an_enterprise_page_shows_agreements_shares_corrections_and_payments(client, data):
    html = client.get(f"/public/enterprises/{data.canteen}").get_data(as_text=True)
    assert "Gross revenue" in html and "5%" in html and "8% above 100,000.00" in html and "Quarterly" in html
    assert "2025-Q1" in html and "9,800.00" in html and "8,800.00" in html
    assert "9,000.00 → 9,800.00" in html and "补开发票" in html and "2025-05-10" in html
    assert "重复录入" in html and "2025-05-03" in html and "Corrected" in html
    assert "2025-Q2" not in html  # filed but not confirmed
    detail = client.get(f"/api/v1/enterprises/{data.canteen}").get_json()
    assert detail["reports"][0]["corrections"] == [{"old_share": "9000.00", "new_share": "9800.00",
                                                    "reason": "补开发票", "date": "2025-05-10"}]
    assert [(p["amount"], p["status"], p["correction"]) for p in detail["payments"]] == [
        ("500.00", "reversed", {"reason": "重复录入", "date": "2025-05-03"}), ("1000.00", "recorded", None)]
    assert detail["agreements"][0]["rates"] == [{"from": "0.00", "percent": "5"},
                                                {"from": "100000.00", "percent": "8"}]


def test_nothing_private_appears(client, data):
    for url in urls(data):
        for language in ("en", "zh-CN"):
            response = client.get(url, headers={"Accept-Language": language})
            assert response.status_code == 200, url
            body = response.get_data(as_text=True)
            for what, secret in PRIVATE.items():
                assert secret not in body, f"{what} leaks on {url}"
    laundry = client.get(f"/public/enterprises/{data.laundry}").get_data(as_text=True)
    assert "Other funds" in laundry


def test_an_enterprise_without_agreement_or_unknown_is_not_found(client, data):
    for enterprise_id in (data.unlisted, 999999):
        assert client.get(f"/public/enterprises/{enterprise_id}").status_code == 404
        response = client.get(f"/api/v1/enterprises/{enterprise_id}")
        assert response.status_code == 404 and response.get_json()["error"] == "not_found"


@pytest.mark.parametrize("query", ["page=abc", "page=0", "page=9999", "year=abc", "year=1800", "q=" + "x" * 300])
def test_bad_parameters_never_fail_the_pages(client, data, query):
    assert client.get(f"/public/enterprises?{query}").status_code == 200
    assert client.get(f"/public/enterprises/{data.canteen}?{query}").status_code == 200
    assert len(read_csv(client.get(f"/public/enterprises.csv?{query}"))) >= 1


@pytest.mark.parametrize("query", ["page=abc", "page=0", "per_page=1000", "year=abc", "year=1800", "foo=1",
                                   "q=" + "x" * 300])
def test_bad_parameters_are_a_json_400_on_the_api(client, data, query):
    for url in ("/api/v1/enterprises", f"/api/v1/enterprises/{data.canteen}"):
        response = client.get(f"{url}?{query}")
        assert response.status_code == 400, url
        assert response.get_json()["error"] == "bad_request"


def test_queries_do_not_grow_with_the_rows(client, app_ctx, data, count_queries):
    def cost() -> list[int]:
        out = []
        for url in urls(data):
            with count_queries() as counter:
                response = client.get(url)
                response.get_data()
                assert response.status_code == 200, url
            out.append(counter[0])
        return out

    small = cost()
    with app_ctx() as s:
        comm = s.scalar(select(Fund).where(Fund.code == "COMM"))
        for _ in range(3):
            enterprise = make_enterprise(s)
            make_agreement(s, enterprise, comm, rate="10")
            for start in (Q1, Q2):
                report = confirm(s, file(s, enterprise, start, "1000.00"), on=dt.date(2025, 7, 1)).report
                pay(s, report, "10.00", on=dt.date(2025, 7, 2))
        canteen = s.get(Enterprise, data.canteen)
        for start in (dt.date(2025, 7, 1), dt.date(2025, 10, 1)):
            report = confirm(s, file(s, canteen, start, "2000.00"), on=dt.date(2026, 1, 20)).report
            pay(s, report, "5.00", on=dt.date(2026, 1, 21))
        s.commit()
    assert cost() == small
