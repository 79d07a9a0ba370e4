"""The public corrections list (/public/corrections, its CSV and /api/v1/corrections): every kind of correction
with its reason and date, newest first, filters, public scope (no donor contact data, hidden funds unnamed), and a
query count that does not grow with the number of corrections."""

from __future__ import annotations

import csv
import datetime as dt
import io

from fundapp.donations.receipts import issue_receipt, void_receipt
from fundapp.donations.services import reverse_donation
from fundapp.ledger.services import reverse_entry
from tests.factories import make_fund, post
from tests.grants_award_builders import Cast, award_for, pay_through, schedule
from tests.unit.donations.factories import gift, make_donor
from tests.unit.enterprises.factories import amend, confirm, file, make_agreement, make_enterprise

DAY = dt.date(2025, 3, 15)
PHONE, EMAIL, ID_CODE = "13912345678", "wang@example.org", "110101199001011237"
HIDDEN_DONOR = "Hidden Fund Donor"


def books(app_ctx) -> dict:
    with app_ctx() as s:
        gen = make_fund(s, "GEN", name="Neighbourhood Fund")
        hid = make_fund(s, "HID", name="Secret Reserve", is_public=False)
        named = make_donor(s, "Wang Xiaoming", phone=PHONE, email=EMAIL, id_code=ID_CODE, address="1 Secret Road")
        shy = make_donor(s, "Quiet Giver", anonymous_in_public=True, phone="13800000000")
        wrong = gift(s, gen, "30.00", donor=named, on=DAY, issue=True)
        reverse_donation(s, wrong, "typed 30 instead of 300", None, on=DAY)
        hidden = gift(s, hid, "44.00", donor=make_donor(s, HIDDEN_DONOR), on=DAY)
        reverse_donation(s, hidden, "duplicate gift", None, on=DAY)
        kept = gift(s, gen, "500.00", donor=shy, on=DAY)
        receipt = issue_receipt(s, kept, None)
        void_receipt(s, receipt, "printed the wrong item", None)
        manual = post(s, gen, "12.00", debit="5201", credit="1002", date=DAY, memo="bank fee")
        reversal = reverse_entry(s, manual, reason="fee refunded by the bank", actor=None, effective_date=DAY)
        s.commit()
        return {"gift_entry_seq": wrong.entry.seq, "receipt": receipt.label, "manual_seq": manual.seq,
                "reversal_seq": reversal.seq}


def test_page_lists_each_correction_with_reason(client, app_ctx):
    data = books(app_ctx)
    page = client.get("/public/corrections").get_data(as_text=True)
    assert "typed 30 instead of 300" in page and "Wang Xiaoming" in page and "30.00" in page
    assert data["receipt"] in page and "printed the wrong item" in page
    assert "fee refunded by the bank" in page and f"reverses #{data['manual_seq']}" in page
    assert "2025-03-15" in page
    # the voided receipt's donor asked for anonymity
    assert "Quiet Giver" not in page and "Anonymous" in page
    # a gift to a hidden fund is no public donation: its reversal is only an entry, without the donor's name
    assert HIDDEN_DONOR not in page and "Secret Reserve" not in page
    for secret in (PHONE, EMAIL, ID_CODE, "1 Secret Road", "13800000000"):
        assert secret not in page


def test_api_and_csv_have_the_same_rows(client, app_ctx):
    books(app_ctx)
    body = client.get("/api/v1/corrections").get_json()
    kinds = [item["kind"] for item in body["items"]]
    assert body["total"] == len(kinds) == 5
    assert sorted(kinds) == ["donation", "entry", "entry", "receipt", "receipt"]  # the reversed gift voided its receipt
    donation = next(item for item in body["items"] if item["kind"] == "donation")
    assert donation["amount"] == "30.00" and donation["reason"] == "typed 30 instead of 300"
    assert donation["fund"] == "GEN Neighbourhood Fund" and donation["donor"] == "Wang Xiaoming"
    rows = list(csv.reader(io.StringIO(client.get("/public/corrections.csv").get_data(as_text=True).lstrip("\ufeff"))))
    assert len(rows) == 1 + 5
    text = client.get("/public/corrections.csv").get_data(as_text=True)
    for secret in (PHONE, EMAIL, ID_CODE, HIDDEN_DONOR):
        assert secret not in text


def test_filters_by_kind_and_year(client, app_ctx):
    books(app_ctx)
    only = client.get("/api/v1/corrections?kind=receipt").get_json()
    assert [item["kind"] for item in only["items"]] == ["receipt", "receipt"]  # one voided with its gift
    assert client.get("/api/v1/corrections?year=2025&kind=entry").get_json()["total"] == 2
    # the receipt was voided today, the reversals are dated 2025-03-15
    assert client.get("/api/v1/corrections?year=2024").get_json()["total"] == 0
    page = client.get("/public/corrections?kind=donation").get_data(as_text=True)
    assert "typed 30 instead of 300" in page and "printed the wrong item" not in page
    csv_text = client.get("/public/corrections.csv?kind=receipt").get_data(as_text=True)
    assert "printed the wrong item" in csv_text and "fee refunded" not in csv_text


def test_newest_first_and_paginated(client, app_ctx):
    with app_ctx() as s:
        gen = make_fund(s, "GEN")
        for day in (1, 3, 2):
            entry = post(s, gen, "5.00", date=dt.date(2025, 1, day))
            reverse_entry(s, entry, reason=f"reason {day}", actor=None, effective_date=dt.date(2025, 1, day))
        s.commit()
    body = client.get("/api/v1/corrections?per_page=2").get_json()
    assert [item["date"] for item in body["items"]] == ["2025-01-03", "2025-01-02"]
    assert body["total"] == 3 and body["pages"] == 2 and body["next"]
    second = client.get("/api/v1/corrections?per_page=2&page=2").get_json()
    assert [item["reason"].endswith("reason 1") for item in second["items"]] == [True]


def test_enterprise_amendment_and_grant_payment_reversal(client, app_ctx):
    with app_ctx() as s:
        fund = make_fund(s, "ENT", name="Return Fund")
        enterprise = make_enterprise(s, "Green Grocer", phone=PHONE)
        make_agreement(s, enterprise, fund, rate="10")
        first = confirm(s, file(s, enterprise, dt.date(2025, 1, 1), "10000.00"))
        second = amend(s, first.report, "12000.00", reason="missed a week of sales")
        confirm(s, second)
        cast = Cast(s)
        award = award_for(s, cast, "1000.00")
        schedule(s, award, "1000.00")
        payment = pay_through(s, award, 1, cast)
        reverse_entry(s, payment.entry, reason="bounced by the bank", actor=None)
        s.commit()
        number = award.number
    body = client.get("/api/v1/corrections").get_json()
    amendment = next(item for item in body["items"] if item["kind"] == "amendment")
    assert amendment["old_amount"] == "1000.00" and amendment["amount"] == "1200.00"
    assert amendment["reason"] == "missed a week of sales" and "Green Grocer" in amendment["subject"]
    grant = next(item for item in body["items"] if item["kind"] == "grant_payment")
    assert number in grant["subject"] and "bounced by the bank" in grant["reason"]
    assert grant["amount"] == "1000.00"
    assert all(item["kind"] != "entry" for item in body["items"])  # the payment's reversal is listed once
    page = client.get("/public/corrections").get_data(as_text=True)
    assert "missed a week of sales" in page and number in page and PHONE not in page


def test_bad_parameters(client, app_ctx):
    books(app_ctx)
    for query in ("kind=nope", "year=abc", "year=99", "page=0", "per_page=1000", "colour=red"):
        response = client.get(f"/api/v1/corrections?{query}")
        assert response.status_code == 400, query
        assert response.get_json()["error"] == "bad_request"
    for query in ("kind=nope", "year=abc", "page=-1", "page=zz"):
        assert client.get(f"/public/corrections?{query}").status_code == 200, query
        assert client.get(f"/public/corrections.csv?{query}").status_code == 200, query


def test_empty_list(client, app_ctx):
    page = client.get("/public/corrections").get_data(as_text=True)
    assert "No corrections have been made." in page
    assert client.get("/api/v1/corrections").get_json()["total"] == 0


def _add_corrections(app_ctx, n: int, start: int) -> None:
    with app_ctx() as s:
        gen = make_fund(s, f"F{start}")
        donor = make_donor(s, f"Donor {start}")
        for k in range(n):
            entry = post(s, gen, "5.00", date=DAY)
            reverse_entry(s, entry, reason="again", actor=None, effective_date=DAY)
            wrong = gift(s, gen, "9.00", donor=donor, on=DAY, issue=True)
            reverse_donation(s, wrong, f"wrong {start}-{k}", None, on=DAY)
        s.commit()


def test_query_count_does_not_grow_with_rows(client, app_ctx, count_queries):
    _add_corrections(app_ctx, 1, 100)
    with count_queries() as few:
        assert client.get("/public/corrections").status_code == 200
    with count_queries() as few_api:
        assert client.get("/api/v1/corrections").status_code == 200
    _add_corrections(app_ctx, 6, 200)
    with count_queries() as many:
        assert client.get("/public/corrections").status_code == 200
    with count_queries() as many_api:
        assert client.get("/api/v1/corrections").status_code == 200
    assert client.get("/api/v1/corrections").get_json()["total"] == 7 * 3  # entry, donation, voided receipt
    assert many[0] == few[0] and many_api[0] == few_api[0]


def test_csv_reads_every_page(client, app_ctx, monkeypatch):
    from fundapp.disclosure import financial_views

    books(app_ctx)
    monkeypatch.setattr(financial_views, "CSV_PAGE", 2)
    rows = list(csv.reader(io.StringIO(client.get("/public/corrections.csv").get_data(as_text=True).lstrip("\ufeff"))))
    api = client.get("/api/v1/corrections").get_json()["items"]
    assert [row[0] for row in rows[1:]] == [item["date"] for item in api]
    assert [row[3] for row in rows[1:]] == [item["reason"] for item in api]
