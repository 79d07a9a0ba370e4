"""Public grants and projects: /public/grants (+ CSV) and /public/grants/<id>, and /api/v1/grants(/<id>).

One world per test, built through the grant services: a grant in a public fund paid in two tranches with public,
private, returned and final reports and a close-out with money returned; a grant in a hidden fund; a grant whose
only payment was reversed in the ledger; applications that were never approved. The tests check what is shown,
what never is (unapproved applications, review notes, private reports, contact and bank data, the hidden fund),
that the figures equal the books, that a page's query count does not grow with its rows, and bad parameters.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from fundapp.dates import local_today
from fundapp.grants.awards import CloseInput, close_award
from fundapp.grants.models import ApplicationStatus, Award, ReportKind, TranchePayment
from fundapp.grants.reports import accept_report, return_report
from fundapp.ledger.models import Account, JournalEntry, JournalLine
from fundapp.ledger.services import reverse_entry
from tests.factories import make_fund, post
from tests.grants_award_builders import Cast, award_for, pay, report, schedule
from tests.grants_builders import make_application, make_award, make_programme

HIDDEN_FUND = "HIDDENFUNDNAME隐藏"
NEVER = {"draft": "NEVERDRAFT-TITLE", "submitted": "NEVERSUBMITTED-TITLE", "rejected": "NEVERREJECTED-TITLE",
         "withdrawn": "NEVERWITHDRAWN-TITLE"}
PRIVATE = {
    "accept note": "SECRETACCEPTNOTE", "return reason": "SECRETRETURNREASON",
    "private report": "PRIVATEREPORTNARRATIVE", "returned report": "RETURNEDREPORTNARRATIVE",
    "contact name": "CONTACTPERSONXYZ", "contact phone": "13700001111", "contact email": "contact.xyz@example.org",
    "address": "SECRETADDRESS路8号", "bank account": "6222SECRETACCOUNT", "bank reference": "SECRETBANKREF",
    "registration number": "52110000SECRETREG", "hidden fund": HIDDEN_FUND,
}
REVERSAL_REASON = "Paid to the wrong account"


def _world(s) -> dict:
    """The grants described in the module docstring; returns their ids."""
    cast = Cast(s)
    org = cast.organisation
    org.name = "Sunrise Elder Care"
    org.contact_name, org.contact_phone = PRIVATE["contact name"], PRIVATE["contact phone"]
    org.contact_email, org.address = PRIVATE["contact email"], PRIVATE["address"]
    org.bank_account_no, org.reg_no = PRIVATE["bank account"], PRIVATE["registration number"]
    full = award_for(s, cast, "10000.00")
    full.title = "Elder lunch club"
    schedule(s, full, "6000.00", "4000.00")
    pay(s, full, 1, cast.maker, reference=PRIVATE["bank reference"])
    first = report(s, full, cast, spend=("1000.00", "500.00"), narrative="PUBLICNARRATIVE-ONE", accept=False)
    accept_report(s, first, cast.maker, PRIVATE["accept note"])
    pay(s, full, 2, cast.maker, reference=PRIVATE["bank reference"])
    report(s, full, cast, narrative=PRIVATE["private report"], is_public=False)
    returned = report(s, full, cast, narrative=PRIVATE["returned report"], accept=False)
    return_report(s, returned, PRIVATE["return reason"], cast.maker)
    report(s, full, cast, kind=ReportKind.final.value, spend=("3000.00", "2000.00"), narrative="PUBLICNARRATIVE-FINAL")
    today = local_today()
    close_award(s, CloseInput(award=full, closed_on=today, returned_amount=Decimal("3500.00"), returned_on=today),
                cast.maker)

    hidden_fund = make_fund(s, name=HIDDEN_FUND, is_public=False)
    post(s, hidden_fund, "50000.00", date=today - dt.timedelta(days=30))
    hidden = make_award(s, "2500.00", fund=hidden_fund)
    hidden.title = "Hidden fund project"

    reversed_award = award_for(s, cast, "3000.00")
    reversed_award.title = "Community garden"
    payment = pay(s, reversed_award, 1, cast.maker)
    reverse_entry(s, payment.entry, reason=REVERSAL_REASON, actor=cast.maker)

    programme = make_programme(s)
    for status, title in NEVER.items():
        make_application(s, programme, title=title, status=getattr(ApplicationStatus, status).value)
    s.flush()
    return {"full": full.id, "hidden": hidden.id, "reversed": reversed_award.id, "fund": full.fund.code,
            "programme": full.programme.code, "hidden_fund": hidden_fund.code}


def world(app_ctx) -> dict:
    with app_ctx() as s:
        ids = _world(s)
        s.commit()
    return ids


def text_of(response) -> str:
    return response.get_data(as_text=True)


def assert_private_absent(body: str, where: str) -> None:
    for what, secret in (PRIVATE | NEVER).items():
        assert secret not in body, f"{what} ({secret}) appears on {where}"


# --- the list -----------------------------------------------------------------------------------------------------


def test_list_shows_every_grant_with_its_figures(client, app_ctx):
    ids = world(app_ctx)
    page = client.get("/public/grants")
    assert page.status_code == 200
    body = text_of(page)
    for title in ("Elder lunch club", "Hidden fund project", "Community garden", "Sunrise Elder Care"):
        assert title in body
    assert "Other funds" in body
    assert "10,000.00" in body and "15,500.00" in body  # the grant; the total awarded (10000 + 2500 + 3000)
    assert f'href="/public/grants/{ids["full"]}"' in body
    assert "/api/v1/grants/360giving.json" in body and "/api/v1/grants/360giving.csv" in body
    assert "/public/grants.csv" in body
    assert_private_absent(body, "/public/grants")


def test_filters_select_the_matching_grants(client, app_ctx):
    ids = world(app_ctx)
    year = local_today().year
    with app_ctx() as s:
        s.get(Award, ids["hidden"]).awarded_on = dt.date(year - 3, 5, 1)
        s.commit()
    cases = {
        "q=lunch": {"Elder lunch club"},
        "q=sunrise": {"Elder lunch club", "Community garden"},  # organisation name, any case
        f"fund={ids['fund']}": {"Elder lunch club"},
        f"programme={ids['programme']}": {"Elder lunch club"},
        "status=closed": {"Elder lunch club"},
        "status=active": {"Hidden fund project", "Community garden"},
        f"year={year - 3}": {"Hidden fund project"},
        f"year={year}": {"Elder lunch club", "Community garden"},
    }
    titles = {"Elder lunch club", "Hidden fund project", "Community garden"}
    for query, wanted in cases.items():
        body = text_of(client.get(f"/public/grants?{query}"))
        assert {t for t in titles if t in body} == wanted, query
        api = client.get(f"/api/v1/grants?{query}").get_json()
        assert {item["title"] for item in api["items"]} == wanted, query
        csv_body = client.get(f"/public/grants.csv?{query}").get_data(as_text=True)
        assert {t for t in titles if t in csv_body} == wanted, query


def test_hidden_fund_cannot_be_picked_and_shows_as_other_funds(client, app_ctx):
    ids = world(app_ctx)
    body = text_of(client.get(f"/public/grants?fund={ids['hidden_fund']}"))  # not a choice: no filter
    assert "Hidden fund project" in body and "Elder lunch club" in body
    assert f'value="{ids["hidden_fund"]}"' not in body
    assert client.get(f"/api/v1/grants?fund={ids['hidden_fund']}").status_code == 400
    item = client.get(f"/api/v1/grants/{ids['hidden']}").get_json()
    assert item["fund"] is None and item["fund_name"] == "Other funds"
    detail = text_of(client.get(f"/public/grants/{ids['hidden']}"))
    assert "Other funds" in detail and ids["hidden_fund"] not in detail
    assert_private_absent(detail, "the hidden fund's grant")


def test_sorting_by_amount_and_date(client, app_ctx):
    world(app_ctx)
    largest = client.get("/api/v1/grants?sort=-amount").get_json()["items"]
    assert [i["amount"] for i in largest] == ["10000.00", "3000.00", "2500.00"]
    smallest = client.get("/api/v1/grants?sort=amount").get_json()["items"]
    assert [i["amount"] for i in smallest] == ["2500.00", "3000.00", "10000.00"]
    body = text_of(client.get("/public/grants?sort=amount"))
    assert body.index("Hidden fund project") < body.index("Community garden") < body.index("Elder lunch club")
    newest = client.get("/api/v1/grants").get_json()["items"]
    assert [i["id"] for i in newest] == sorted((i["id"] for i in newest), reverse=True)  # same day: newest id first


def test_unapproved_applications_never_appear(client, app_ctx):
    world(app_ctx)
    for title in NEVER.values():
        # the page echoes the search in its form and links: what counts is that it lists nothing
        assert "No grant matches these filters." in text_of(client.get(f"/public/grants?q={title}"))
        for url in (f"/public/grants.csv?q={title}", f"/api/v1/grants?q={title}"):
            response = client.get(url)
            assert response.status_code == 200
            assert title not in text_of(response), url
        assert client.get(f"/api/v1/grants?q={title}").get_json()["total"] == 0
    assert "No grant matches these filters." not in text_of(client.get("/public/grants?q=lunch"))
    everything = text_of(client.get("/public/grants")) + text_of(client.get("/public/grants.csv")) + \
        text_of(client.get("/api/v1/grants?per_page=200"))
    assert "Elder lunch club" in everything
    assert_private_absent(everything, "the lists")


# --- one grant ----------------------------------------------------------------------------------------------------


def test_detail_shows_payments_public_reports_and_close_out(client, app_ctx):
    ids = world(app_ctx)
    page = client.get(f"/public/grants/{ids['full']}")
    assert page.status_code == 200
    body = text_of(page)
    assert "Elder lunch club" in body and "Sunrise Elder Care" in body
    assert "6,000.00" in body and "4,000.00" in body  # the two payments
    assert "PUBLICNARRATIVE-ONE" in body and "PUBLICNARRATIVE-FINAL" in body
    assert "1,500.00" in body  # spent in the first report's period
    assert "3,500.00" in body  # not spent, and returned
    assert "The grant was closed on" in body
    assert_private_absent(body, "the grant's page")
    item = client.get(f"/api/v1/grants/{ids['full']}").get_json()
    assert item["paid"] == "10000.00" and item["amount"] == "10000.00" and item["reports_count"] == 2
    assert [r["narrative"] for r in item["reports"]] == ["PUBLICNARRATIVE-ONE", "PUBLICNARRATIVE-FINAL"]
    assert item["reports"][1]["unspent"] == "3500.00"
    assert item["close_out"]["returned"] == "3500.00" and item["close_out"]["returned_on"]
    assert [p["amount"] for p in item["payments"]] == ["6000.00", "4000.00"]
    assert_private_absent(text_of(client.get(f"/api/v1/grants/{ids['full']}")), "the grant's JSON")


def test_reversed_payment_is_a_correction_not_money_paid(client, app_ctx):
    ids = world(app_ctx)
    body = text_of(client.get(f"/public/grants/{ids['reversed']}"))
    assert "Correction" in body and REVERSAL_REASON in body
    item = client.get(f"/api/v1/grants/{ids['reversed']}").get_json()
    assert item["paid"] == "0.00"
    [payment] = item["payments"]
    assert payment["amount"] == "3000.00" and payment["reversed"]["reason"] == REVERSAL_REASON
    assert payment["reversed"]["on"] == local_today().isoformat()


def test_unknown_grant_is_404(client, app_ctx):
    world(app_ctx)
    assert client.get("/public/grants/999999").status_code == 404
    response = client.get("/api/v1/grants/999999")
    assert response.status_code == 404 and response.get_json()["error"] == "not_found"


# --- the books ----------------------------------------------------------------------------------------------------


def _ledger_paid(s) -> Decimal:
    """Grant payments in the books: 2209 debits of grant_payment entries, less the reversals of those entries."""
    payable = select(Account.id).where(Account.code == "2209").scalar_subquery()
    paid = s.scalar(select(func.coalesce(func.sum(JournalLine.amount), 0)).join(JournalEntry)
                    .where(JournalEntry.source_type == "grant_payment", JournalLine.account_id == payable))
    original = aliased(JournalEntry)
    undone = s.scalar(select(func.coalesce(func.sum(JournalLine.amount), 0)).join(JournalEntry)
                      .join(original, original.id == JournalEntry.reverses_id)
                      .where(original.source_type == "grant_payment", JournalLine.account_id == payable))
    return Decimal(paid) + Decimal(undone)


def test_figures_equal_the_books(client, app_ctx):
    world(app_ctx)
    items = client.get("/api/v1/grants?per_page=200").get_json()["items"]
    with app_ctx() as s:
        awards = {a.id: a.amount for a in s.scalars(select(Award))}
        ledger_paid = _ledger_paid(s)
        posted = {award_id: Decimal(total) for award_id, total in s.execute(
            select(TranchePayment.award_id, func.sum(TranchePayment.amount)).where(TranchePayment.status == "paid")
            .group_by(TranchePayment.award_id))}
    assert {i["id"]: Decimal(i["amount"]) for i in items} == awards
    assert sum(Decimal(i["paid"]) for i in items) == ledger_paid == Decimal("10000.00")
    assert sum(posted.values()) == ledger_paid + Decimal("3000.00")  # the reversed payment is not money paid
    body = text_of(client.get("/public/grants"))
    assert f"{ledger_paid:,.2f}" in body and f"{sum(awards.values()):,.2f}" in body


# --- CSV, parameters, queries -------------------------------------------------------------------------------------


def test_csv_has_a_bom_and_the_list_rows(client, app_ctx):
    world(app_ctx)
    response = client.get("/public/grants.csv?sort=amount")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    raw = response.get_data()
    assert raw.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert len(rows) == 4
    assert [r[2] for r in rows[1:]] == ["Hidden fund project", "Community garden", "Elder lunch club"]
    assert rows[1][5] == "" and rows[1][6] == "Other funds"
    assert [r[7] for r in rows[1:]] == ["2500.00", "3000.00", "10000.00"]
    assert [r[8] for r in rows[1:]] == ["0.00", "0.00", "10000.00"]
    assert_private_absent(raw.decode("utf-8-sig"), "the CSV")


def test_bad_parameters(client, app_ctx):
    world(app_ctx)
    for query in ("year=abc", "year=0", "status=paid", "sort=name", "fund=NOPE", "programme=NOPE", "colour=red",
                  "page=0", "per_page=1000", "q=" + "x" * 101):
        response = client.get(f"/api/v1/grants?{query}")
        assert response.status_code == 400, query
        assert response.get_json()["error"] == "bad_request", query
    assert client.get("/api/v1/grants/1?x=1").status_code in (400, 404)
    assert client.get("/public/grants?programme=%00").status_code == 400  # a NUL is refused before the database
    for query in ("year=abc", "status=paid", "sort=name", "fund=NOPE", "programme=NOPE", "page=-1", "page=abc",
                  "q=" + "x" * 500, "year=99999"):
        response = client.get(f"/public/grants?{query}")
        assert response.status_code == 200, query
        assert "Elder lunch club" in text_of(response), query  # a bad filter is no filter
        assert client.get(f"/public/grants.csv?{query}").status_code == 200, query
    assert client.get("/public/grants?page=99").status_code == 200
    assert "past the end" in text_of(client.get("/public/grants?page=99"))


def test_api_list_envelope_and_pages(client, app_ctx):
    world(app_ctx)
    first = client.get("/api/v1/grants?per_page=2&sort=amount").get_json()
    assert first["total"] == 3 and first["pages"] == 2 and len(first["items"]) == 2 and first["prev"] is None
    assert "sort=amount" in first["next"]
    second = client.get(first["next"]).get_json()
    assert [i["amount"] for i in second["items"]] == ["10000.00"]
    item = second["items"][0]
    assert set(item) >= {"id", "title", "organisation", "programme", "fund", "fund_name", "amount", "decided_on",
                         "paid", "status", "reports_count", "url"}
    assert item["url"].endswith(f"/public/grants/{item['id']}") and item["status"] == "closed"


def _more_grants(app_ctx, n: int) -> None:
    with app_ctx() as s:
        cast = Cast(s)
        for _ in range(n):
            award = award_for(s, cast, "2000.00")
            schedule(s, award, "1000.00", "1000.00")
            pay(s, award, 1, cast.maker)
            report(s, award, cast, spend=("100.00",))
            pay(s, award, 2, cast.maker)
        s.commit()


def _count(client, count_queries, url: str) -> int:
    with count_queries() as counter:
        assert client.get(url).status_code == 200
    return counter[0]


def test_list_query_count_does_not_grow_with_rows(client, app_ctx, count_queries):
    world(app_ctx)
    urls = ("/public/grants", "/api/v1/grants", "/public/grants.csv")
    before = {url: _count(client, count_queries, url) for url in urls}
    _more_grants(app_ctx, 4)
    after = {url: _count(client, count_queries, url) for url in urls}
    assert after == before


def test_detail_query_count_does_not_grow_with_payments_and_reports(client, app_ctx, count_queries):
    with app_ctx() as s:
        cast = Cast(s)
        award = award_for(s, cast, "3000.00")
        schedule(s, award, "1000.00", "1000.00", "1000.00")
        pay(s, award, 1, cast.maker)
        report(s, award, cast, spend=("100.00", "50.00"))
        award_id = award.id
        s.commit()
    urls = (f"/public/grants/{award_id}", f"/api/v1/grants/{award_id}")
    before = {url: _count(client, count_queries, url) for url in urls}
    with app_ctx() as s:
        award = s.get(Award, award_id)
        pay(s, award, 2, cast.maker)
        report(s, award, cast, spend=("200.00", "100.00"))
        pay(s, award, 3, cast.maker)
        report(s, award, cast, spend=("100.00",))
        s.commit()
    after = {url: _count(client, count_queries, url) for url in urls}
    assert after == before
    assert client.get(urls[1]).get_json()["reports_count"] == 3


def test_empty_states(client):
    body = text_of(client.get("/public/grants"))
    assert "No grants have been made yet" in body
    assert client.get("/api/v1/grants").get_json()["items"] == []
    assert "No grant matches" in text_of(client.get("/public/grants?q=nothing"))
