"""The entry page and reversing an entry through its confirmation page."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import select

from fundapp.dates import local_today
from fundapp.ledger.models import Fund, JournalEntry
from fundapp.ledger.periods import close_period
from tests.factories import post
from tests.web.ledger.conftest import ledger_counts


@pytest.fixture()
def entry_id(app_ctx, books):
    with app_ctx() as s:
        entry = post(s, s.get(Fund, books.gen), "880.00", date=dt.date(2024, 1, 10), memo="李四捐赠",
                     key="donation:7")
        s.commit()
        return entry.id


def test_entry_page_shows_facts_lines_and_totals(client, login, app_ctx, entry_id):
    login("finance")
    html = client.get(f"/ledger/entries/{entry_id}").get_data(as_text=True)
    with app_ctx() as s:
        entry = s.get(JournalEntry, entry_id)
        assert entry.hash in html and entry.prev_hash in html
    assert "李四捐赠" in html and "donation:7" in html and "2024-01-10" in html
    assert "1002 银行存款" in html and "4101 捐赠收入" in html
    assert html.count("880.00") >= 4  # two lines and two totals
    assert f'href="/ledger/entries/{entry_id}/reverse"' in html


def test_board_sees_the_entry_without_a_reverse_button(client, login, entry_id):
    login("board")
    html = client.get(f"/ledger/entries/{entry_id}").get_data(as_text=True)
    assert "李四捐赠" in html and "/reverse" not in html


def test_unknown_entry_is_404(client, login, books):
    login("finance")
    assert client.get("/ledger/entries/999999").status_code == 404
    assert client.get("/ledger/entries/999999/reverse").status_code == 404


def test_reverse_through_the_confirmation_page(client, login, app_ctx, entry_id):
    user_id = login("finance")
    page = client.get(f"/ledger/entries/{entry_id}/reverse").get_data(as_text=True)
    assert "Confirm the reversal" in page and local_today().isoformat() in page and "李四捐赠" in page
    response = client.post(f"/ledger/entries/{entry_id}/reverse",
                           data={"reason": "记错基金", "effective_date": local_today().isoformat()})
    assert response.status_code == 302
    with app_ctx() as s:
        reversal = s.scalar(select(JournalEntry).where(JournalEntry.reverses_id == entry_id))
        assert reversal is not None and reversal.author_id == user_id
        assert reversal.effective_date == local_today() and "记错基金" in reversal.memo
        assert [line.amount for line in reversal.lines] == [Decimal("-880.00"), Decimal("880.00")]
        assert response.headers["Location"].endswith(f"/ledger/entries/{reversal.id}")
        reversal_id, reversal_seq = reversal.id, reversal.seq
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f"was reversed by entry #{reversal_seq}" in html and "This entry reverses" in html
    original = client.get(f"/ledger/entries/{entry_id}").get_data(as_text=True)
    assert "This entry was reversed by" in original and f"/ledger/entries/{entry_id}/reverse" not in original
    # Neither the original nor the reversal can be reversed (again); nothing is written.
    before = ledger_counts(app_ctx)
    data = {"reason": "again", "effective_date": "2030-01-01"}
    again = client.post(f"/ledger/entries/{entry_id}/reverse", data=data)
    assert "already reversed by entry" in again.get_data(as_text=True)
    twice = client.post(f"/ledger/entries/{reversal_id}/reverse", data=data)
    assert "A reversal cannot itself be reversed" in twice.get_data(as_text=True)
    assert ledger_counts(app_ctx) == before


@pytest.mark.parametrize(
    "data, message",
    [
        ({"reason": "", "effective_date": "2030-01-01"}, "Say why the entry is reversed."),
        ({"reason": "oops", "effective_date": "yesterday"}, "Enter a date as YYYY-MM-DD."),
        ({"reason": "oops", "effective_date": "2024-01-20"}, "The books are closed through 2024-01-31"),
    ],
)
def test_reversal_errors_write_nothing(client, login, app_ctx, entry_id, data, message):
    login("finance")
    with app_ctx() as s:
        close_period(s, 2024, 1, None)
        s.commit()
    before = ledger_counts(app_ctx)
    response = client.post(f"/ledger/entries/{entry_id}/reverse", data=data)
    assert response.status_code == 200 and message in response.get_data(as_text=True)
    assert ledger_counts(app_ctx) == before
