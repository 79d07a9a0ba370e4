"""The ledger export as a download for finance staff: /ledger/export.beancount and /ledger/export.hledger."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from beancount import loader

from fundapp.ledger.export import ExportError, export_ledger
from fundapp.ledger.models import Fund
from tests.factories import post


@pytest.fixture()
def books_with_entries(app_ctx, books):
    with app_ctx() as s:
        gen, prj = s.get(Fund, books.gen), s.get(Fund, books.prj)
        post(s, gen, "100.00", date=dt.date(2024, 1, 10), memo="张三捐款")
        post(s, prj, "250.50", date=dt.date(2024, 2, 5), memo='Gift "with quotes"')
        post(s, gen, "30.00", debit="5101", credit="1002", date=dt.date(2024, 3, 1), memo="Rent March")
        s.commit()
    return books


def expected_export(app_ctx, fmt: str) -> str:
    out = io.StringIO()
    with app_ctx() as s:
        assert export_ledger(s, fmt, out) == 3
    return out.getvalue()


@pytest.mark.parametrize("fmt, suffix", [("beancount", "beancount"), ("hledger", "journal")])
def test_finance_downloads_the_whole_ledger(client, login, app_ctx, books_with_entries, fmt, suffix):
    login("finance")
    response = client.get(f"/ledger/export.{fmt}")
    assert response.status_code == 200
    assert response.is_streamed
    assert response.content_type == "text/plain; charset=utf-8"
    disposition = response.headers["Content-Disposition"]
    assert re.fullmatch(rf'attachment; filename="ledger-\d{{4}}-\d{{2}}-\d{{2}}\.{suffix}"', disposition)
    body = response.get_data(as_text=True)
    assert body == expected_export(app_ctx, fmt)
    assert "张三捐款" in body and "250.50" in body and "Rent March" in body


def test_downloaded_beancount_file_is_accepted_by_beancount(client, login, books_with_entries):
    login("finance")
    body = client.get("/ledger/export.beancount").get_data(as_text=True)
    entries, errors, _options = loader.load_string(body)
    assert errors == []
    assert sum(1 for entry in entries if type(entry).__name__ == "Transaction") == 3


def test_empty_ledger_downloads_a_header_only(client, login, books):
    login("finance")
    response = client.get("/ledger/export.hledger")
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert "no entries" in body
    assert not re.search(r"^\d{4}-\d{2}-\d{2} ", body, re.MULTILINE)  # no transaction


@pytest.mark.parametrize("role", ["board", "admin", "donor"])
def test_other_roles_are_refused(client, login, books_with_entries, role):
    login(role)
    assert client.get("/ledger/export.beancount").status_code == 403
    assert client.get("/ledger/export.hledger").status_code == 403


def test_anonymous_visitors_are_sent_to_sign_in(client, books_with_entries):
    response = client.get("/ledger/export.beancount")
    assert response.status_code == 302
    assert "/auth/login" in response.headers["Location"]


@pytest.mark.parametrize("fmt", ["csv", "ledger", "BEANCOUNT", "x"])
def test_unknown_format_is_not_found(client, login, books_with_entries, fmt):
    login("finance")
    assert client.get(f"/ledger/export.{fmt}").status_code == 404


def test_export_error_goes_back_to_the_journal_with_the_message(client, login, books_with_entries, monkeypatch):
    def refuse(_session, _fmt):
        raise ExportError("Codes A, A cannot be given distinct account names.")
        yield  # a generator, as the real export is: the error comes with the first chunk

    monkeypatch.setattr("fundapp.ledger.views.iter_export", refuse)
    login("finance")
    response = client.get("/ledger/export.beancount", follow_redirects=True)
    assert response.status_code == 200
    assert response.request.path == "/ledger/journal"
    assert "cannot be given distinct account names" in response.get_data(as_text=True)


def test_journal_links_to_the_downloads_for_finance(client, login, books_with_entries):
    login("finance")
    html = client.get("/ledger/journal").get_data(as_text=True)
    assert 'href="/ledger/export.beancount"' in html and 'href="/ledger/export.hledger"' in html


def test_journal_offers_no_download_to_board(client, login, books_with_entries):
    login("board")
    html = client.get("/ledger/journal").get_data(as_text=True)
    assert 'href="/ledger/journal.csv"' in html
    assert "/ledger/export." not in html
