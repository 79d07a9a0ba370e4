"""The journal list (filters, pagination, reversal badges, no N+1 queries) and its streamed CSV export."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from decimal import Decimal

import pytest
from sqlalchemy import event

from fundapp.ledger.services import LineSpec, post_entry, reverse_entry
from tests.factories import account, post
from tests.web.ledger.conftest import read_csv

D = Decimal


def seqs(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'href="/ledger/entries/\d+">#(\d+)</a>', html)]


@pytest.fixture()
def journal(app_ctx, books):
    """#1 GEN cash 100 (2024-01-10), #2 PRJ cash 250 (2024-02-05), #3 GEN expense 30 (2024-03-01),
    #4 the reversal of #2 (2024-03-02), #5 an entry touching both funds (2024-03-03)."""
    with app_ctx() as s:
        from fundapp.ledger.models import Fund

        gen, prj = s.get(Fund, books.gen), s.get(Fund, books.prj)
        post(s, gen, "100.00", date=dt.date(2024, 1, 10), memo="张三捐款")
        second = post(s, prj, "250.00", date=dt.date(2024, 2, 5), memo="=HYPERLINK(\"x\") gift", key="donation:42")
        post(s, gen, "30.00", debit="5101", credit="1002", date=dt.date(2024, 3, 1), memo="Rent March")
        reverse_entry(s, second, reason="wrong fund", actor=None, effective_date=dt.date(2024, 3, 2))
        cash, income = account(s, "1002"), account(s, "4101")
        post_entry(s, effective_date=dt.date(2024, 3, 3), memo="Two funds", idempotency_key=f"t:{uuid.uuid4()}", lines=[
            LineSpec(cash, gen, D("10.00")), LineSpec(income, gen, D("-10.00")),
            LineSpec(cash, prj, D("5.00")), LineSpec(income, prj, D("-5.00")),
        ])
        s.commit()
    return books


def test_journal_lists_newest_first_with_badges(client, login, journal):
    login("finance")
    html = client.get("/ledger/journal").get_data(as_text=True)
    assert seqs(html) == [5, 4, 3, 2, 1]
    assert "reversed by #4" in html and "reversal of #2" in html
    assert "GEN, PRJ" in html and "张三捐款" in html and "250.00" in html
    assert 'href="/ledger/entries/new"' in html


@pytest.mark.parametrize(
    "query, expected",
    [
        ("date_from=2024-02-01&date_to=2024-03-01", [3, 2]),
        ("fund={prj}", [5, 4, 2]),
        ("account={programme}", [3]),
        ("q=张三", [1]),
        ("q=%232", [4, 2]),  # "#2": entry 2, and entry 4 whose memo names it
        ("q=donation:42", [2]),
        ("q=rent", [3]),
        ("date_from=not-a-date", [5, 4, 3, 2, 1]),
        ("fund={prj}&date_to=2024-02-28", [2]),
    ],
)
def test_journal_filters(client, login, journal, query, expected):
    login("board")
    response = client.get("/ledger/journal?" + query.format(prj=journal.prj, programme=journal.programme))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert seqs(html) == expected
    if "not-a-date" in query:
        assert "Enter a date as YYYY-MM-DD." in html


def test_journal_empty_states(client, login, journal):
    login("finance")
    html = client.get("/ledger/journal?q=nothing-like-this").get_data(as_text=True)
    assert "No entries match these filters." in html and "Clear filters" in html


def test_empty_journal_invites_the_first_entry(client, login, books):
    login("finance")
    html = client.get("/ledger/journal").get_data(as_text=True)
    assert "No entries yet." in html and "Post the first entry" in html


def test_journal_paginates(client, login, app, journal, monkeypatch):
    monkeypatch.setitem(app.config, "PAGE_SIZE", 2)
    login("finance")
    first = client.get("/ledger/journal").get_data(as_text=True)
    assert seqs(first) == [5, 4] and "Page 1 of 3" in first and "5 in all" in first
    assert seqs(client.get("/ledger/journal?page=3").get_data(as_text=True)) == [1]
    filtered = client.get(f"/ledger/journal?fund={journal.prj}&page=2").get_data(as_text=True)
    assert seqs(filtered) == [2] and f"fund={journal.prj}" in filtered  # the pager keeps the filters
    beyond = client.get("/ledger/journal?page=9")
    assert beyond.status_code == 200 and "There is no such page." in beyond.get_data(as_text=True)
    assert seqs(client.get("/ledger/journal?per_page=1000").get_data(as_text=True)) == [5, 4]


def _count_queries(connection, action) -> int:
    statements = []

    def count(*_args):
        statements.append(1)

    event.listen(connection, "before_cursor_execute", count)
    try:
        action()
    finally:
        event.remove(connection, "before_cursor_execute", count)
    return len(statements)


def test_journal_page_queries_do_not_grow_with_entries(client, login, app_ctx, connection, journal):
    login("finance")
    few = _count_queries(connection, lambda: client.get("/ledger/journal"))
    with app_ctx() as s:
        from fundapp.ledger.models import Fund

        fund = s.get(Fund, journal.gen)
        for n in range(12):
            entry = post(s, fund, f"{n + 1}.00", date=dt.date(2024, 4, 1))
            if n % 3 == 0:
                reverse_entry(s, entry, reason="test", actor=None, effective_date=dt.date(2024, 4, 2))
        s.commit()
    many = _count_queries(connection, lambda: client.get("/ledger/journal"))
    assert few == many


def test_journal_csv_has_one_row_per_line(client, login, journal):
    login("board")
    response = client.get("/ledger/journal.csv")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.is_streamed
    rows = read_csv(response)
    assert rows[0] == ["Entry", "Date", "Memo", "Account code", "Account name", "Fund code", "Net-asset class",
                       "Debit", "Credit", "Entry hash"]
    body = rows[1:]
    assert len(body) == 2 + 2 + 2 + 2 + 4
    assert [row[0] for row in body] == ["1", "1", "2", "2", "3", "3", "4", "4", "5", "5", "5", "5"]
    assert body[0][:9] == ["1", "2024-01-10", "张三捐款", "1002", "银行存款", "GEN", "unrestricted", "100.00", ""]
    assert body[1][3:9] == ["4101", "捐赠收入", "GEN", "unrestricted", "", "100.00"]
    assert body[2][2].startswith("'=HYPERLINK")  # not run as a formula by a spreadsheet
    assert body[2][6] == "restricted"
    assert all(len(row[9]) == 64 for row in body)


def test_journal_csv_uses_the_same_filters(client, login, journal):
    login("finance")
    rows = read_csv(client.get(f"/ledger/journal.csv?fund={journal.gen}&date_from=2024-03-01"))[1:]
    # Whole entries match the fund filter: entry 5 keeps its PRJ lines too.
    assert [(row[0], row[5]) for row in rows] == [("3", "GEN"), ("3", "GEN"), ("5", "GEN"), ("5", "GEN"),
                                                   ("5", "PRJ"), ("5", "PRJ")]
    html = client.get(f"/ledger/journal?fund={journal.gen}&date_from=2024-03-01&page=1").get_data(as_text=True)
    link = re.search(r'href="(/ledger/journal\.csv[^"]*)"', html).group(1)
    assert f"fund={journal.gen}" in link and "date_from=2024-03-01" in link and "page=" not in link


def test_journal_csv_of_nothing_has_only_the_header(client, login, books):
    login("finance")
    assert len(read_csv(client.get("/ledger/journal.csv"))) == 1
