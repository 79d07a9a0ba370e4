"""/ledger/release: the preview, the confirmation, roles, refusals, and `flask ledger release-restrictions`."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from fundapp.dates import local_today
from fundapp.ledger.models import Fund, JournalEntry
from tests.factories import post
from tests.web.ledger.conftest import ledger_counts

THROUGH = "2024-06-30"  # in the past whatever today is


def fixture_books(app_ctx, books) -> None:
    with app_ctx() as s:
        gen, prj = s.get(Fund, books.gen), s.get(Fund, books.prj)
        post(s, gen, "1500.00", date=dt.date(2024, 3, 1))
        post(s, prj, "9000.00", date=dt.date(2024, 5, 1))
        post(s, prj, "2500.00", debit="5101", credit="1002", date=dt.date(2024, 6, 1))  # restricted class
        post(s, prj, "125.50", debit="5201", credit="1002", date=dt.date(2024, 6, 2))  # restricted class
        s.commit()


def release_entry(app_ctx, through=THROUGH):
    with app_ctx() as s:
        entry = s.scalar(select(JournalEntry).where(JournalEntry.idempotency_key == f"restriction-release:{through}"))
        return None if entry is None else (entry.id, entry.seq,
                                           [(x.account.code, x.fund.code, x.net_asset_class, str(x.amount))
                                            for x in entry.lines])


def test_board_reads_the_preview_but_cannot_post(client, login, app_ctx, books):
    fixture_books(app_ctx, books)
    login("board")
    page = client.get(f"/ledger/release?through={THROUGH}").get_data(as_text=True)
    assert "2,500.00" in page and "125.50" in page and "2,625.50" in page and "PRJ" in page
    assert "Post the release" not in page
    before = ledger_counts(app_ctx)
    refused = client.post("/ledger/release", data={"through": THROUGH, "confirm": "y"})
    assert refused.status_code == 403 and ledger_counts(app_ctx) == before


def test_finance_confirms_then_posts_and_lands_on_the_entry(client, login, app_ctx, books):
    fixture_books(app_ctx, books)
    login("finance")
    page = client.get(f"/ledger/release?through={THROUGH}").get_data(as_text=True)
    assert "Post the release" in page and f'value="{THROUGH}"' in page
    before = ledger_counts(app_ctx)
    unconfirmed = client.post("/ledger/release", data={"through": THROUGH})
    assert unconfirmed.status_code == 200
    assert "Tick the box to confirm the release." in unconfirmed.get_data(as_text=True)
    assert ledger_counts(app_ctx) == before and release_entry(app_ctx) is None
    done = client.post("/ledger/release", data={"through": THROUGH, "confirm": "y"})
    entry_id, seq, lines = release_entry(app_ctx)
    assert done.status_code == 302 and done.headers["Location"].endswith(f"/ledger/entries/{entry_id}")
    assert lines == [("5101", "PRJ", "unrestricted", "2500.00"), ("5101", "PRJ", "restricted", "-2500.00"),
                     ("5201", "PRJ", "unrestricted", "125.50"), ("5201", "PRJ", "restricted", "-125.50"),
                     ("3102", "PRJ", "restricted", "2625.50"), ("3101", "PRJ", "unrestricted", "-2625.50")]
    shown = client.get(f"/ledger/entries/{entry_id}").get_data(as_text=True)
    assert "Release from restriction" in shown and f"Restrictions are released through {THROUGH}" in shown
    # twice: refused, nothing written, the page says where the release is
    after = ledger_counts(app_ctx)
    again = client.post("/ledger/release", data={"through": THROUGH, "confirm": "y"})
    text = again.get_data(as_text=True)
    assert again.status_code == 200 and f"already released through {THROUGH} (entry #{seq})" in text
    assert ledger_counts(app_ctx) == after
    preview = client.get(f"/ledger/release?through={THROUGH}").get_data(as_text=True)
    assert "Open the release entry" in preview and "Post the release" not in preview


def test_admin_may_post(client, login, app_ctx, books):
    fixture_books(app_ctx, books)
    login("admin")
    response = client.post("/ledger/release", data={"through": THROUGH, "confirm": "y"})
    assert response.status_code == 302 and release_entry(app_ctx) is not None


def test_refusals_show_why_and_write_nothing(client, login, app_ctx, books):
    fixture_books(app_ctx, books)
    login("finance")
    before = ledger_counts(app_ctx)
    with app_ctx():
        future = (local_today() + dt.timedelta(days=40)).isoformat()
    page = client.post("/ledger/release", data={"through": future, "confirm": "y"}).get_data(as_text=True)
    assert "is in the future" in page
    nothing = client.post("/ledger/release", data={"through": "2024-02-28", "confirm": "y"})
    assert "Nothing to release through 2024-02-28" in nothing.get_data(as_text=True)
    bad = client.post("/ledger/release", data={"through": "2024-02-30", "confirm": "y"})
    assert bad.status_code == 200 and "Enter a date as YYYY-MM-DD." in bad.get_data(as_text=True)
    assert ledger_counts(app_ctx) == before
    empty = client.get("/ledger/release?through=2024-02-28").get_data(as_text=True)
    assert "Nothing to release through" in empty


def test_the_default_date_is_the_last_ended_month(client, login, app_ctx, books):
    login("finance")
    with app_ctx():
        today = local_today()
    expected = (today.replace(day=1) - dt.timedelta(days=1)).isoformat()
    page = client.get("/ledger/release").get_data(as_text=True)
    assert page.count(expected) >= 1 and "Nothing to release" in page


def test_cli_releases_and_exits_1_on_refusal(app, app_ctx, books):
    fixture_books(app_ctx, books)
    runner = app.test_cli_runner()
    bad = runner.invoke(args=["ledger", "release-restrictions", "--through", "2024-13-01"])
    assert bad.exit_code == 2
    done = runner.invoke(args=["ledger", "release-restrictions", "--through", THROUGH])
    assert done.exit_code == 0, done.output
    _entry_id, seq, _lines = release_entry(app_ctx)
    assert f"released through {THROUGH}: entry #{seq} (6 lines, total 5251.00)" in done.output
    again = runner.invoke(args=["ledger", "release-restrictions", "--through", THROUGH])
    assert again.exit_code == 1 and f"nothing released through {THROUGH}" in again.output
