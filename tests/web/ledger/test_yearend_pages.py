"""/ledger/year-end: the list of years, the preview, the typed confirmation, roles, and `flask ledger close-year`."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from fundapp.ledger.models import Fund, JournalEntry
from tests.factories import post
from tests.web.ledger.conftest import ledger_counts

YEAR = 2022  # ended, whatever today is


def fixture_year(app_ctx, books) -> None:
    with app_ctx() as s:
        gen, prj = s.get(Fund, books.gen), s.get(Fund, books.prj)
        post(s, gen, "1500.00", date=dt.date(YEAR, 3, 1))
        post(s, gen, "400.25", debit="5201", credit="1002", date=dt.date(YEAR, 4, 1))
        post(s, prj, "9000.00", date=dt.date(YEAR, 5, 1))
        post(s, prj, "2500.00", debit="5101", credit="1002", date=dt.date(YEAR, 6, 1))
        s.commit()


def closing_entry(app_ctx, year=YEAR):
    with app_ctx() as s:
        entry = s.scalar(select(JournalEntry).where(JournalEntry.idempotency_key == f"year-close:{year}"))
        return None if entry is None else (entry.id, entry.seq,
                                           [(x.account.code, x.fund.code, str(x.amount)) for x in entry.lines])


def test_the_list_shows_years_and_an_empty_state(client, login, app_ctx, books):
    login("board")
    empty = client.get("/ledger/year-end")
    assert empty.status_code == 200 and "there is no year to close" in empty.get_data(as_text=True)
    fixture_year(app_ctx, books)
    page = client.get("/ledger/year-end").get_data(as_text=True)
    assert str(YEAR) in page and "To close" in page and f"/ledger/year-end/{YEAR}" in page


def test_board_reads_the_preview_but_cannot_close(client, login, app_ctx, books):
    fixture_year(app_ctx, books)
    login("board")
    page = client.get(f"/ledger/year-end/{YEAR}").get_data(as_text=True)
    assert "1,099.75" in page and "9,000.00" in page  # GEN and PRJ (restricted) surplus
    # PRJ's restricted expense is released first (dated 12-31): it is closed as unrestricted
    assert "posts their release first" in page and "2,500.00" in page
    assert "3102" in page and "3101" in page
    assert "Type the year to confirm" not in page
    before = ledger_counts(app_ctx)
    assert client.post(f"/ledger/year-end/{YEAR}/close", data={"confirm": str(YEAR)}).status_code == 403
    assert ledger_counts(app_ctx) == before


def test_finance_must_type_the_year_then_closes_it(client, login, app_ctx, books):
    fixture_year(app_ctx, books)
    login("finance")
    page = client.get(f"/ledger/year-end/{YEAR}").get_data(as_text=True)
    assert "Type the year to confirm" in page
    before = ledger_counts(app_ctx)
    wrong = client.post(f"/ledger/year-end/{YEAR}/close", data={"confirm": str(YEAR + 1)})
    assert wrong.status_code == 200 and f"Type {YEAR} to confirm." in wrong.get_data(as_text=True)
    blank = client.post(f"/ledger/year-end/{YEAR}/close", data={"confirm": ""})
    assert blank.status_code == 200 and "Type the year to confirm." in blank.get_data(as_text=True)
    assert ledger_counts(app_ctx) == before and closing_entry(app_ctx) is None
    done = client.post(f"/ledger/year-end/{YEAR}/close", data={"confirm": str(YEAR)}, follow_redirects=True)
    text = done.get_data(as_text=True)
    entry_id, seq, lines = closing_entry(app_ctx)
    assert f"{YEAR} is closed: entry #{seq}" in text and f"/ledger/entries/{entry_id}" in text
    assert lines == [("4101", "GEN", "1500.00"), ("5201", "GEN", "-400.25"), ("3101", "GEN", "-1099.75"),
                     ("5101", "PRJ", "-2500.00"), ("3101", "PRJ", "2500.00"),
                     ("4101", "PRJ", "9000.00"), ("3102", "PRJ", "-9000.00")]
    assert "Type the year to confirm" not in text
    again = client.post(f"/ledger/year-end/{YEAR}/close", data={"confirm": str(YEAR)})
    assert "already closed" in again.get_data(as_text=True)
    assert closing_entry(app_ctx)[0] == entry_id
    listing = client.get("/ledger/year-end").get_data(as_text=True)
    assert f"#{seq}" in listing and "Closed" in listing
    assert "Year-end close" in client.get(f"/ledger/entries/{entry_id}").get_data(as_text=True)


def test_admin_may_close(client, login, app_ctx, books):
    fixture_year(app_ctx, books)
    login("admin")
    response = client.post(f"/ledger/year-end/{YEAR}/close", data={"confirm": str(YEAR)})
    assert response.status_code == 302 and closing_entry(app_ctx) is not None


def test_a_refused_close_shows_why_and_writes_nothing(client, login, app_ctx, books):
    fixture_year(app_ctx, books)
    with app_ctx() as s:
        post(s, s.get(Fund, books.gen), "10.00", date=dt.date(YEAR + 1, 2, 2))
        s.commit()
    login("finance")
    page = client.get(f"/ledger/year-end/{YEAR + 1}").get_data(as_text=True)
    assert f"Close {YEAR} first" in page and "Type the year to confirm" not in page
    before = ledger_counts(app_ctx)
    refused = client.post(f"/ledger/year-end/{YEAR + 1}/close", data={"confirm": str(YEAR + 1)})
    assert refused.status_code == 200 and f"Close {YEAR} first" in refused.get_data(as_text=True)
    assert ledger_counts(app_ctx) == before


def test_unknown_years_are_404(client, login):
    login("finance")
    assert client.get("/ledger/year-end/1").status_code == 404
    assert client.post("/ledger/year-end/99999/close", data={"confirm": "99999"}).status_code == 404


def test_cli_closes_a_year_and_exits_1_on_refusal(app, app_ctx, books):
    fixture_year(app_ctx, books)
    runner = app.test_cli_runner()
    refused = runner.invoke(args=["ledger", "close-year", str(YEAR + 50)])
    # the CLI runs without a request, so its messages are in the default locale (zh_CN)
    assert refused.exit_code == 1 and f"{YEAR + 50} 年度尚未结束" in refused.output  # "has not ended yet"
    done = runner.invoke(args=["ledger", "close-year", str(YEAR)])
    entry_id, seq, _lines = closing_entry(app_ctx)
    assert done.exit_code == 0, done.output
    assert f"closed {YEAR}: entry #{seq} (7 lines, total 13000.00)" in done.output
    assert f"books closed through {YEAR}-12-31" in done.output
    again = runner.invoke(args=["ledger", "close-year", str(YEAR)])
    assert again.exit_code == 1 and f"{YEAR} 年度已结账（凭证 #{seq}）" in again.output  # "already closed (entry #n)"
