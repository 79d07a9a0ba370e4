"""Import pages: upload, the preview listing every problem by row, the confirmed import, the JSON status the
progress bar polls (tasks run in Huey's immediate mode in tests), limits and access."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from fundapp.donations.imports import posting
from fundapp.donations.models import Donation, ImportBatch
from fundapp.donations.tasks import check_import, progress_key
from fundapp.tasks import huey, set_progress
from tests.web.donations.conftest import counts

HEADER = "日期,捐赠人,金额,基金编号,方式,是否限定,用途,流水号,匿名"
GOOD = "\n".join([HEADER, "2026-01-05,张三丰,\"1,000.00\",GEN,银行转账,,,W-1,", "2026/1/6,张三丰,¥50,PRJ,现金,,,W-2,"])
BAD = "\n".join([HEADER, "2026-01-05,张三丰,100,GEN,cash,,,B-1,", "2026-01-05,张三丰,1.234,GEN,cash,,,B-2,",
                 "2026-01-05,nobody,100,NOPE,cash,,,B-3,"])


@pytest.fixture(autouse=True)
def upload_folder(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "IMPORT_FOLDER", str(tmp_path / "imports"))
    return tmp_path / "imports"


def upload(client, text: str, name: str = "gifts.csv", encoding: str = "utf-8-sig"):
    return client.post("/donations/import", data={"file": (io.BytesIO(text.encode(encoding)), name)},
                       content_type="multipart/form-data")


def batch_id(response) -> int:
    assert response.status_code == 302, response.get_data(as_text=True)[:800]
    return int(response.headers["Location"].rstrip("/").rsplit("/", 1)[-1])


def test_tasks_run_in_immediate_mode():
    assert huey.immediate


def test_preview_lists_every_problem_by_row_and_nothing_can_be_imported(client, login, setup, app_ctx, upload_folder):
    login("finance")
    before = counts(app_ctx)
    number = batch_id(upload(client, BAD))
    page = client.get(f"/donations/imports/{number}").get_data(as_text=True)
    assert "Has problems" in page and "Problems (3)" in page
    for row, text in ((3, "two decimal places"), (4, "No donor matches nobody"), (4, "There is no fund NOPE.")):
        assert f'data-label="Row">{row}</td>' in page and text in page
    assert "Import 1 donations" not in page and f"/donations/imports/{number}/import" not in page
    refused = client.post(f"/donations/imports/{number}/import")
    assert refused.status_code == 302
    assert "not ready to import" in client.get(refused.headers["Location"]).get_data(as_text=True)
    after = counts(app_ctx)
    assert after[:5] == before[:5]  # journal entries, donations, pledges, receipts, donors: untouched
    status = client.get(f"/donations/imports/{number}/status.json").get_json()
    assert status["status"] == "invalid" and status["problems"] == 3
    assert status["finished"] is True and status["rows"] == 3 and status["new_rows"] == 1


def test_check_then_import_then_the_same_file_again(client, login, setup, app_ctx, upload_folder):
    login("finance")
    number = batch_id(upload(client, GOOD, name="../../etc/passwd.csv"))
    stored = list(upload_folder.iterdir())
    assert len(stored) == 1 and "passwd" not in stored[0].name and stored[0].name.endswith(".upload")
    page = client.get(f"/donations/imports/{number}").get_data(as_text=True)
    assert "Ready to import" in page and "Import 2 donations" in page and "¥1,050.00" in page
    assert "No problems found." in page and "passwd.csv" in page and "../" not in page.split("<h1>")[1][:80]
    status = client.get(f"/donations/imports/{number}/status.json").get_json()
    assert (status["status"], status["finished"], status["percent"], status["new_rows"]) == ("checked", True, 100, 2)

    response = client.post(f"/donations/imports/{number}/import")
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "2 donations were posted." in page
    with app_ctx() as s:
        keys = set(s.scalars(select(Donation.key)))
        assert keys == {"import:W-1", "import:W-2"}
        assert s.get(ImportBatch, number).posted_rows == 2
    assert list(upload_folder.iterdir()) == []  # the kept file is gone once imported
    assert client.get(f"/donations/imports/{number}/status.json").get_json()["status"] == "imported"
    again = client.post(f"/donations/imports/{number}/import")  # a second click posts nothing
    assert "not ready to import" in client.get(again.headers["Location"]).get_data(as_text=True)

    second = batch_id(upload(client, GOOD))
    page = client.get(f"/donations/imports/{second}").get_data(as_text=True)
    assert "Every row of this file was imported before; importing it again would post nothing." in page
    status = client.get(f"/donations/imports/{second}/status.json").get_json()
    assert (status["new_rows"], status["skipped_rows"]) == (0, 2)
    client.post(f"/donations/imports/{second}/import")
    page = client.get(f"/donations/imports/{second}").get_data(as_text=True)
    assert "Nothing was posted: every row of this file had been imported before." in page
    with app_ctx() as s:
        assert s.scalar(select(func.count()).select_from(Donation)) == 2
    listing = client.get("/donations/import").get_data(as_text=True)
    assert listing.count("passwd.csv") == 1 and listing.count("gifts.csv") == 1 and "Imported</span>" in listing


def test_gb18030_and_xlsx_uploads(client, login, setup):
    import openpyxl

    login("finance")
    number = batch_id(upload(client, GOOD, encoding="gb18030"))
    assert "Import 2 donations" in client.get(f"/donations/imports/{number}").get_data(as_text=True)
    book = openpyxl.Workbook()
    for row in (HEADER.split(","), ["2026-01-05", "张三丰", 12.5, "GEN", "现金", None, None, "X-1", None]):
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    response = client.post("/donations/import", data={"file": (io.BytesIO(buffer.getvalue()), "gifts.xlsx")},
                           content_type="multipart/form-data")
    assert "Import 1 donations" in client.get(f"/donations/imports/{batch_id(response)}").get_data(as_text=True)


def test_a_running_job_shows_its_progress(app, client, login, setup, app_ctx):
    login("finance")
    with app_ctx() as s:
        from fundapp.donations.imports.batches import create_batch

        batch = create_batch(s, GOOD.encode(), "big.csv", None, "en")
        s.commit()
        number = batch.id
    page = client.get(f"/donations/imports/{number}").get_data(as_text=True)
    assert "js/progress.js" in page and '<meta http-equiv="refresh" content="3">' in page and "<progress" in page
    assert "Waiting for the task worker to start" in page
    status = client.get(f"/donations/imports/{number}/status.json").get_json()
    assert (status["phase"], status["finished"], status["percent"]) == ("waiting", False, 0)
    set_progress(progress_key(number), "checking", 50, 200)
    status = client.get(f"/donations/imports/{number}/status.json")
    assert status.headers["Cache-Control"] == "no-store"
    body = status.get_json()
    assert (body["phase"], body["done"], body["total"], body["percent"], body["finished"]) == ("checking", 50, 200,
                                                                                              25, False)
    with app.app_context():
        check_import(number)  # what the worker does; in immediate mode it runs here
    body = client.get(f"/donations/imports/{number}/status.json").get_json()
    assert (body["status"], body["finished"], body["percent"], body["rows"]) == ("checked", True, 100, 2)
    assert "js/progress.js" not in client.get(f"/donations/imports/{number}").get_data(as_text=True)


def test_an_import_that_fails_writes_nothing_and_may_be_tried_again(client, login, setup, app_ctx, monkeypatch):
    login("finance")
    number = batch_id(upload(client, GOOD))
    before = counts(app_ctx)

    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")

    original = posting.post_entry_batch
    monkeypatch.setattr(posting, "post_entry_batch", broken)
    client.post(f"/donations/imports/{number}/import")
    page = client.get(f"/donations/imports/{number}").get_data(as_text=True)
    assert "Something went wrong; nothing was imported." in page and "Try the import again" in page
    assert counts(app_ctx)[:2] == before[:2]
    monkeypatch.setattr(posting, "post_entry_batch", original)
    client.post(f"/donations/imports/{number}/import")
    assert "2 donations were posted." in client.get(f"/donations/imports/{number}").get_data(as_text=True)


def test_size_limit_and_unreadable_files(app, client, login, setup, monkeypatch, app_ctx):
    login("finance")
    monkeypatch.setitem(app.config, "IMPORT_MAX_BYTES", 64)
    response = upload(client, GOOD * 2)
    assert response.status_code in (200, 400) and "larger than 0 MB" in response.get_data(as_text=True)
    monkeypatch.setitem(app.config, "IMPORT_MAX_BYTES", 1024 * 1024)
    number = batch_id(upload(client, "just some notes\nnothing else\n"))
    page = client.get(f"/donations/imports/{number}").get_data(as_text=True)
    assert "Unknown columns: just some notes" in page and "Has problems" in page
    empty = client.post("/donations/import", data={}, content_type="multipart/form-data")
    assert empty.status_code == 200 and "Choose a file to import." in empty.get_data(as_text=True)


@pytest.mark.parametrize("role", ["admin", "donor", "board"])
def test_only_finance_uploads_and_imports(client, login, role, setup):
    login(role)
    assert client.get("/donations/import").status_code == 403
    assert upload(client, GOOD).status_code == 403
    assert client.post("/donations/imports/1/import").status_code == 403
    assert client.get("/donations/imports/999999").status_code == (404 if role == "admin" else 403)
