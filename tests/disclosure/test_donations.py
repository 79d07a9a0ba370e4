"""The public donations list, its CSV and /api/v1/donations: content, anonymity (names never shown nor searchable),
no contact detail or bank reference, hidden funds absent, corrections shown, totals equal to the ledger, a fixed
number of queries, bad parameters (200 on the page, 400 JSON on the API), the CSV's byte-order mark."""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from fundapp.donations.donors import merge_donors
from fundapp.donations.services import DonationInput, correct_donation
from fundapp.ledger.models import Account, Fund, JournalEntry, JournalLine
from tests.factories import make_fund
from tests.unit.donations.factories import gift, in_kind, make_donor

ANON = "隐名张三SECRET"
PRIVATE = {
    "phone": "13912345678", "email": "anon.secret@example.org", "id_code": "11010519491231002X",
    "address": "秘密路1号SECRET", "named phone": "13987654321", "named email": "named.secret@example.org",
    "named address": "幸福路9号SECRET", "notes": "SECRETNOTE", "reference": "SECRETBANKREF",
    "hidden fund": "隐藏基金SECRET", "hidden purpose": "HIDDENPURPOSESECRET", "old name": "旧名赵六",
}
DAY = dt.date(2026, 3, 15)
LAST_YEAR = dt.date(2025, 6, 1)


def format_money(value: Decimal) -> str:
    """As the `money` filter shows it in English."""
    return f"{value:,.2f}"


@dataclass(frozen=True)
class Data:
    wrong: int  # the reversed gift
    right: int  # the gift correcting it


@pytest.fixture()
def data(app_ctx) -> Data:
    with app_ctx() as s:
        gen = make_fund(s, "GEN", name="综合基金")
        hidden = make_fund(s, "HID", name=PRIVATE["hidden fund"], is_public=False)
        anon = make_donor(s, ANON, anonymous_in_public=True, phone=PRIVATE["phone"], email=PRIVATE["email"],
                          id_code=PRIVATE["id_code"], address=PRIVATE["address"])
        named = make_donor(s, "公开李四", phone=PRIVATE["named phone"], email=PRIVATE["named email"],
                           address=PRIVATE["named address"], notes=PRIVATE["notes"])
        survivor, duplicate = make_donor(s, "王五"), make_donor(s, PRIVATE["old name"])
        gift(s, gen, "100.00", donor=anon, purpose="社区助老", reference=PRIVATE["reference"])
        gift(s, gen, "200.00", donor=named, method="cash", on=LAST_YEAR, purpose="图书角")
        gift(s, gen, "30.00", method="online")  # no donor at all
        in_kind(s, gen, "300.00", donor=named, valuation_basis="customs")
        gift(s, gen, "40.00", donor=duplicate, reference=PRIVATE["reference"])
        gift(s, hidden, "7.00", donor=named, purpose=PRIVATE["hidden purpose"])
        merge_donors(s, survivor, duplicate, None)
        wrong = gift(s, gen, "50.00", donor=named)
        right = correct_donation(s, wrong, "金额录错", DonationInput(
            fund=gen, received_on=DAY, amount=Decimal("55.00"), method="bank_transfer", donor=named), None,
            on=dt.date(2026, 3, 20))
        s.commit()
        return Data(wrong.id, right.id)


def ledger_income(app_ctx, year: int | None = None) -> Decimal:
    """Donation income (4101, credit positive) in public funds, from the journal lines."""
    with app_ctx() as s:
        stmt = (select(func.coalesce(func.sum(JournalLine.amount), 0))
                .join(Account, Account.id == JournalLine.account_id).join(Fund, Fund.id == JournalLine.fund_id)
                .join(JournalEntry, JournalEntry.id == JournalLine.entry_id)
                .where(Account.code == "4101", Fund.is_public.is_(True)))
        if year:
            stmt = stmt.where(JournalEntry.effective_date.between(dt.date(year, 1, 1), dt.date(year, 12, 31)))
        return -Decimal(s.scalar(stmt)).quantize(Decimal("0.01"))


def read_csv(response) -> list[list[str]]:
    raw = response.get_data()
    assert raw.startswith(b"\xef\xbb\xbf"), "the CSV must start with a UTF-8 byte-order mark"
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))


def bodies(client, query: str = "") -> dict[str, str]:
    out = {}
    for language in ("en", "zh-CN"):
        headers = {"Accept-Language": language}
        for url in (f"/public/donations{query}", f"/public/donations.csv{query}", f"/api/v1/donations{query}"):
            response = client.get(url, headers=headers)
            assert response.status_code == 200, url
            out[f"{language} {url}"] = response.get_data(as_text=True)
    return out


def test_page_lists_public_gifts_with_names_methods_and_totals(client, data, app_ctx):
    html = client.get("/public/donations").get_data(as_text=True)
    assert "公开李四" in html and "王五" in html and "综合基金" in html
    assert html.count('data-label="Donor">Anonymous<') == 2  # the anonymous donor and the gift without a donor
    assert "图书角" in html and "社区助老" in html
    assert "大米" in html and "Customs form" in html  # in kind: the item and its valuation basis
    assert format_money(ledger_income(app_ctx)) in html  # 100+200+30+300+40+55 (the reversed 50 nets out)
    assert ledger_income(app_ctx) == Decimal("725.00")


def test_totals_of_a_filtered_set_equal_the_ledger(client, data, app_ctx):
    html = client.get("/public/donations?year=2025").get_data(as_text=True)
    assert format_money(ledger_income(app_ctx, 2025)) in html and "200.00" in html
    assert "社区助老" not in html
    api = client.get("/api/v1/donations?year=2026&per_page=200").get_json()
    recorded = sum(Decimal(item["amount"]) for item in api["items"] if item["status"] == "recorded")
    assert recorded == ledger_income(app_ctx, 2026) == Decimal("525.00")
    rows = read_csv(client.get("/public/donations.csv?year=2026"))
    assert len(rows) - 1 == api["total"] == 6


def test_an_anonymous_donor_is_never_named_nor_found(client, data):
    for where, body in bodies(client).items():
        assert ANON not in body, where
    html = client.get(f"/public/donations?q={ANON}").get_data(as_text=True)
    assert "No gifts match these filters." in html
    assert len(read_csv(client.get(f"/public/donations.csv?q={ANON[:4]}"))) == 1  # the header only
    assert client.get(f"/api/v1/donations?q={ANON[:4]}").get_json()["total"] == 0
    anonymous = [i for i in client.get("/api/v1/donations").get_json()["items"] if i["anonymous"]]
    assert {i["amount"] for i in anonymous} == {"100.00", "30.00"}
    assert all(i["donor"] == "Anonymous" for i in anonymous)


def test_search_matches_named_donors_purposes_and_funds(client, data):
    assert client.get("/api/v1/donations?q=李四").get_json()["total"] == 4  # incl. the reversed gift
    assert client.get("/api/v1/donations?q=助老").get_json()["total"] == 1
    assert client.get("/api/v1/donations?q=综合").get_json()["total"] == 7
    # a merged donor's gifts carry the name of the donor it was merged into, never its old name
    assert client.get("/api/v1/donations?q=旧名").get_json()["total"] == 0
    assert [i["amount"] for i in client.get("/api/v1/donations?q=王五").get_json()["items"]] == ["40.00"]


def test_no_contact_detail_reference_note_or_hidden_fund_appears(client, data):
    for query in ("", "?q=李四", "?fund=GEN&sort=amount"):
        for where, body in bodies(client, query).items():
            for what, secret in PRIVATE.items():
                assert secret not in body, f"{what} leaks on {where}"


def test_gifts_to_hidden_funds_are_absent(client, data):
    items = client.get("/api/v1/donations?per_page=200").get_json()["items"]
    assert {i["fund"] for i in items} == {"GEN"} and "7.00" not in {i["amount"] for i in items}
    assert client.get("/api/v1/donations?fund=HID").status_code == 400
    html = client.get("/public/donations?fund=HID").get_data(as_text=True)  # not a choice: no filter
    assert PRIVATE["hidden fund"] not in html and "图书角" in html


def test_a_reversed_gift_is_shown_as_a_correction(client, data):
    items = {i["id"]: i for i in client.get("/api/v1/donations").get_json()["items"]}
    wrong, right = items[data.wrong], items[data.right]
    assert wrong["status"] == "reversed" and wrong["correction"] == {"reason": "金额录错", "date": "2026-03-20"}
    assert wrong["corrected_by"] == data.right and right["corrects"] == data.wrong and right["correction"] is None
    html = client.get("/public/donations").get_data(as_text=True)
    assert "金额录错" in html and "Corrected" in html and "2026-03-20" in html
    assert f"/public/donations?gift={data.wrong}" in html
    pair = client.get(f"/public/donations?gift={data.wrong}").get_data(as_text=True)
    assert "55.00" in pair and "50.00" in pair and "图书角" not in pair
    rows = read_csv(client.get("/public/donations.csv"))
    reversed_rows = [row for row in rows if "金额录错" in row]
    assert len(reversed_rows) == 1 and "2026-03-20" in reversed_rows[0]


def test_sorting_and_method_filter(client, data):
    amounts = [i["amount"] for i in client.get("/api/v1/donations?sort=-amount").get_json()["items"]]
    assert amounts == sorted(amounts, key=Decimal, reverse=True) and amounts[0] == "300.00"
    dates = [i["date"] for i in client.get("/api/v1/donations?sort=date").get_json()["items"]]
    assert dates == sorted(dates) and dates[0] == "2025-06-01"
    in_kind_items = client.get("/api/v1/donations?method=in_kind").get_json()["items"]
    assert [i["in_kind"]["valuation_basis"] for i in in_kind_items] == ["customs"]
    assert "大米" in client.get("/public/donations?method=in_kind").get_data(as_text=True)


def test_api_pages_and_links(client, data):
    first = client.get("/api/v1/donations?per_page=3&fund=GEN").get_json()
    assert first["total"] == 7 and first["pages"] == 3 and len(first["items"]) == 3
    assert "fund=GEN" in first["next"] and first["prev"] is None


@pytest.mark.parametrize("query", ["page=abc", "page=0", "page=99999", "year=abc", "year=1800", "fund=NOPE",
                                   "method=gold", "sort=drop", "q=" + "x" * 300, "gift=abc", "per_page=-1"])
def test_bad_parameters_never_fail_the_page(client, data, query):
    assert client.get(f"/public/donations?{query}").status_code == 200
    response = client.get(f"/public/donations.csv?{query}")
    assert response.status_code == 200 and len(read_csv(response)) >= 1


@pytest.mark.parametrize("query", ["page=abc", "page=0", "per_page=1000", "year=abc", "year=1800", "fund=NOPE",
                                   "method=gold", "sort=drop", "q=" + "x" * 300, "gift=1", "foo=1"])
def test_bad_parameters_are_a_json_400_on_the_api(client, data, query):
    response = client.get(f"/api/v1/donations?{query}")
    assert response.status_code == 400
    assert response.get_json()["error"] == "bad_request" and response.get_json()["message"]


def test_queries_do_not_grow_with_the_rows(client, app_ctx, data, count_queries):
    def cost() -> list[int]:
        out = []
        for url in ("/public/donations", "/public/donations?q=李四&sort=amount", "/public/donations.csv",
                    "/api/v1/donations", "/api/v1/donations?q=公开"):
            with count_queries() as counter:
                response = client.get(url)
                response.get_data()
                assert response.status_code == 200, url
            out.append(counter[0])
        return out

    small = cost()
    with app_ctx() as s:
        gen = s.scalar(select(Fund).where(Fund.code == "GEN"))
        donors = [make_donor(s, f"公开捐赠人{n}") for n in range(4)]
        for n in range(12):
            gift(s, gen, f"{n + 1}.00", donor=donors[n % 4], purpose="公开")
        s.commit()
    assert cost() == small
