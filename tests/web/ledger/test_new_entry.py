"""Posting through the new-entry form: a balanced entry is written; any bad input writes nothing."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from fundapp.dates import local_today
from fundapp.ledger.models import JournalEntry
from fundapp.ledger.periods import close_period
from tests.web.ledger.conftest import entry_form, hidden_key, ledger_counts

TODAY = local_today().isoformat()


def test_form_starts_with_four_blank_lines_and_a_key(client, login, books):
    login("finance")
    html = client.get("/ledger/entries/new").get_data(as_text=True)
    assert 'name="lines-3-debit"' in html and 'name="lines-4-debit"' not in html
    assert hidden_key(html).startswith("manual:")
    assert "Fund default" in html and "GEN 综合基金" in html
    assert "js/journal.js" in html


def test_post_balanced_entry(client, login, app_ctx, books):
    user_id = login("finance")
    data = entry_form(
        [(books.cash, books.gen, "1,234.50", "", "", "转账"), (books.donations, books.gen, "", "1234.5")],
        date=TODAY, memo="张三捐赠",
    )
    response = client.post("/ledger/entries/new", data=data)
    assert response.status_code == 302
    with app_ctx() as s:
        entry = s.scalar(select(JournalEntry).where(JournalEntry.idempotency_key == data["idempotency_key"]))
        assert entry is not None and entry.memo == "张三捐赠" and entry.author_id == user_id
        assert entry.effective_date == local_today()
        assert [(x.account_id, x.fund_id, x.amount, x.net_asset_class, x.memo) for x in entry.lines] == [
            (books.cash, books.gen, Decimal("1234.50"), "unrestricted", "转账"),
            (books.donations, books.gen, Decimal("-1234.50"), "unrestricted", ""),
        ]
        assert response.headers["Location"].endswith(f"/ledger/entries/{entry.id}")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f"Entry #{entry.seq} posted." in page and "1,234.50" in page and "银行存款" in page


def test_blank_lines_are_ignored_and_class_override_is_kept(client, login, app_ctx, books):
    login("finance")
    data = entry_form(
        [(None, None, "", ""), (books.cash, books.prj, "50", "", "unrestricted"), (None, None, "", ""),
         (books.donations, books.prj, "", "50.00", "unrestricted")],
        date=TODAY,
    )
    assert client.post("/ledger/entries/new", data=data).status_code == 302
    with app_ctx() as s:
        entry = s.scalar(select(JournalEntry).where(JournalEntry.idempotency_key == data["idempotency_key"]))
        assert [x.net_asset_class for x in entry.lines] == ["unrestricted", "unrestricted"]
        assert [x.line_no for x in entry.lines] == [1, 2]


def test_lines_added_by_javascript_are_read(client, login, app_ctx, books):
    """journal.js numbers a new row after the highest index; gaps in the numbering are fine."""
    login("finance")
    data = entry_form([(books.cash, books.gen, "70", "")], date=TODAY)
    data |= {"lines-7-account": str(books.donations), "lines-7-fund": str(books.gen), "lines-7-credit": "70",
             "lines-7-debit": "", "lines-7-net_asset_class": "", "lines-7-memo": ""}
    assert client.post("/ledger/entries/new", data=data).status_code == 302
    with app_ctx() as s:
        entry = s.scalar(select(JournalEntry).where(JournalEntry.idempotency_key == data["idempotency_key"]))
        assert [x.amount for x in entry.lines] == [Decimal("70.00"), Decimal("-70.00")]


def _bad(books, debit="100.00", credit="100.00"):
    return [(books.cash, books.gen, debit, ""), (books.donations, books.gen, "", credit)]


@pytest.mark.parametrize(
    "lines, fields, message",
    [
        (lambda b: _bad(b, debit="abc"), {}, "Enter a number such as 1234.56."),
        (lambda b: _bad(b, debit="1e20", credit="1e20"), {}, "Enter a number such as 1234.56."),
        (lambda b: _bad(b, debit="10000000000000000", credit="10000000000000000"), {}, "The amount is too large."),
        (lambda b: _bad(b, debit="-0", credit="0"), {}, "The amount cannot be zero."),
        (lambda b: _bad(b, debit="-100", credit="-100"), {}, "Enter a positive amount"),
        (lambda b: _bad(b, debit="10.001", credit="10.001"), {}, "An amount has at most two decimal places."),
        (lambda b: [(b.cash, b.gen, "100", "")], {}, "An entry needs at least two lines."),
        (lambda b: _bad(b, credit="99.99"), {}, "Debits (100.00) and credits (99.99) must be equal."),
        (lambda b: [(b.cash, b.gen, "100", "100"), (b.donations, b.gen, "", "100")], {},
         "Enter a debit or a credit, not both."),
        (lambda b: [(b.cash, b.gen, "", ""), (b.donations, b.gen, "", "100")], {}, "Enter a debit or a credit."),
        (lambda b: [(None, b.gen, "100", ""), (b.donations, None, "", "100")], {}, "Choose an account."),
        (lambda b: [(b.cash, b.gen, "100", ""), (b.donations, b.prj, "", "100")], {},
         "Fund GEN does not balance within the entry"),
        (lambda b: _bad(b), {"memo": ""}, "Write a memo that says what the entry is for."),
        (lambda b: _bad(b), {"effective_date": "31/01/2030"}, "Enter a date as YYYY-MM-DD."),
        (lambda b: _bad(b), {"idempotency_key": "manual:not-a-uuid"}, "The form expired."),
        (lambda b: [(999999, b.gen, "100", ""), (b.donations, b.gen, "", "100")], {}, "Choose an account."),
    ],
    ids=["not-a-number", "1e20", "too-large", "minus-zero", "negative", "three-decimals", "one-line",
         "unbalanced", "debit-and-credit", "neither", "no-account", "fund-unbalanced", "no-memo", "bad-date",
         "bad-key", "unknown-account"],
)
def test_bad_input_shows_an_error_and_writes_nothing(client, login, app_ctx, books, lines, fields, message):
    login("finance")
    before = ledger_counts(app_ctx)
    data = entry_form(lines(books), date=TODAY) | fields
    response = client.post("/ledger/entries/new", data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert message in html
    assert 'id="entry-form"' in html  # the form is shown again, with what was typed
    assert ledger_counts(app_ctx) == before


def test_date_in_a_closed_period_is_refused(client, login, app_ctx, books):
    login("finance")
    with app_ctx() as s:
        close_period(s, 2024, 1, None)
        s.commit()
    before = ledger_counts(app_ctx)
    response = client.post("/ledger/entries/new", data=entry_form(_bad(books), date="2024-01-31"))
    assert "The books are closed through 2024-01-31" in response.get_data(as_text=True)
    assert ledger_counts(app_ctx) == before
    # The typed values survive for a correction.
    assert 'value="100.00"' in response.get_data(as_text=True)


def test_double_submit_posts_once(client, login, app_ctx, books):
    login("finance")
    key = hidden_key(client.get("/ledger/entries/new").get_data(as_text=True))
    data = entry_form(_bad(books), date=TODAY, key=key)
    first = client.post("/ledger/entries/new", data=data)
    after_first = ledger_counts(app_ctx)
    second = client.post("/ledger/entries/new", data=data)
    assert first.status_code == second.status_code == 302
    assert first.headers["Location"] == second.headers["Location"]
    assert ledger_counts(app_ctx) == after_first
    with app_ctx() as s:
        assert len(s.scalars(select(JournalEntry).where(JournalEntry.idempotency_key == key)).all()) == 1
    page = client.get(second.headers["Location"]).get_data(as_text=True)
    assert "already posted" in page


def test_same_key_with_other_content_is_refused_and_gets_a_new_key(client, login, app_ctx, books):
    login("finance")
    data = entry_form(_bad(books), date=TODAY)
    client.post("/ledger/entries/new", data=data)
    before = ledger_counts(app_ctx)
    changed = data | {"lines-0-debit": "200", "lines-1-credit": "200"}
    html = client.post("/ledger/entries/new", data=changed).get_data(as_text=True)
    assert "already submitted with different content" in html
    assert hidden_key(html) != data["idempotency_key"]
    assert ledger_counts(app_ctx) == before


def test_add_line_button_works_without_javascript(client, login, app_ctx, books):
    login("finance")
    before = ledger_counts(app_ctx)
    data = entry_form(_bad(books), date=TODAY) | {"add_line": "Add a line"}
    html = client.post("/ledger/entries/new", data=data).get_data(as_text=True)
    assert 'name="lines-4-debit"' in html and 'name="lines-5-debit"' not in html
    assert f'name="idempotency_key" type="hidden" value="{data["idempotency_key"]}"' in html or data[
        "idempotency_key"] in html
    assert 'value="100.00"' in html
    assert ledger_counts(app_ctx) == before
