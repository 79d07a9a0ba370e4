"""Annual report pages: role boundaries, generating (inline in tests: HUEY_IMMEDIATE), the status JSON, the
download, a year without data, and years outside the books."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from decimal import Decimal

import pytest

from fundapp.dates import local_today
from fundapp.reports import annual_tasks
from fundapp.reports.annual import gather, pdf_values, render_pdf
from fundapp.volunteers.service import enter_hours, sign_up, verify
from tests.unit.test_annual_report import build_fixture
from tests.volunteer_builders import make_activity, make_volunteer


@pytest.fixture()
def reports_dir(app, tmp_path):
    app.config["ANNUAL_REPORT_DIR"] = str(tmp_path / "reports")
    yield tmp_path / "reports"
    app.config.pop("ANNUAL_REPORT_DIR")


def _urls(year: int) -> list[str]:
    return ["/reports/annual", f"/reports/annual/{year}", f"/reports/annual/{year}/status.json",
            f"/reports/annual/{year}.pdf"]


@pytest.mark.parametrize("role", ["applicant", "donor", "reviewer", "enterprise"])
def test_other_roles_are_refused(client, login, role, reports_dir):
    login(role)
    year = local_today().year
    for url in _urls(year):
        assert client.get(url).status_code == 403, url
    assert client.post(f"/reports/annual/{year}/generate").status_code == 403
    assert not reports_dir.exists() or not list(reports_dir.glob("*.pdf"))


def test_anonymous_goes_to_login(client, reports_dir):
    year = local_today().year
    for url in _urls(year):
        response = client.get(url)
        assert response.status_code == 302 and "/auth/login" in response.headers["Location"], url
    response = client.post(f"/reports/annual/{year}/generate")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


@pytest.mark.parametrize("role", ["finance", "admin", "board"])
def test_readers_see_the_years(client, login, role, reports_dir):
    login(role)
    page = client.get("/reports/annual").get_data(as_text=True)
    assert str(local_today().year) in page and "Not generated" in page and "Generate" in page


def test_generate_status_and_download(client, login, app, app_ctx, reports_dir, tmp_path):
    login("finance")
    with app_ctx() as s:
        fx = build_fixture(s)
        s.commit()
    year = fx["year"]
    status = client.get(f"/reports/annual/{year}/status.json").get_json()
    assert status["status"] == "none" and status["ready"] is False and status["finished"] is True
    assert client.get(f"/reports/annual/{year}.pdf").status_code == 404

    response = client.post(f"/reports/annual/{year}/generate")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/reports/annual/{year}")
    status = client.get(f"/reports/annual/{year}/status.json").get_json()
    assert (status["status"], status["ready"], status["finished"], status["percent"]) == ("ready", True, True, 100)
    assert client.get(f"/reports/annual/{year}/status.json").headers["Cache-Control"] == "no-store"
    page = client.get(f"/reports/annual/{year}").get_data(as_text=True)
    assert "Download PDF" in page and "annual-progress" not in page  # finished: no progress bar

    pdf = client.get(f"/reports/annual/{year}.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert "no-store" in pdf.headers["Cache-Control"]
    with app.app_context():
        first = annual_tasks.read_state(year)["file"]
    assert first.startswith(f"annual-{year}-") and len(first) > 30  # a random name

    if shutil.which("pdftotext"):
        path = tmp_path / "a.pdf"
        path.write_bytes(pdf.data)
        text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True).stdout
        assert "16,845.67" in text and "13,345.67" in text and "50.00%" in text

    client.post(f"/reports/annual/{year}/generate")  # again: replaces the file
    with app.app_context():
        second = annual_tasks.read_state(year)["file"]
    assert second != first and sorted(p.name for p in reports_dir.glob("*.pdf")) == [second]


def test_progress_bar_while_busy(client, login, app, reports_dir, monkeypatch):
    """A queued report (the worker has not started it) shows the progress bar and polls status.json."""
    login("board")
    year = local_today().year
    monkeypatch.setattr(annual_tasks, "generate_annual_report", lambda _year: None)  # a worker that never comes
    with app.app_context():
        annual_tasks.request_generation(year)
    page = client.get(f"/reports/annual/{year}").get_data(as_text=True)
    assert 'id="annual-progress"' in page and "js/progress.js" in page and "<noscript>" in page
    status = client.get(f"/reports/annual/{year}/status.json").get_json()
    assert (status["status"], status["phase"], status["finished"]) == ("queued", "waiting", False)
    with app.app_context():
        annual_tasks.set_progress(annual_tasks.progress_key(year), "donations", 3, 9)
    status = client.get(f"/reports/annual/{year}/status.json").get_json()
    assert (status["phase"], status["done"], status["total"], status["percent"]) == ("donations", 3, 9, 33)
    with app.app_context():
        annual_tasks.clear_progress(annual_tasks.progress_key(year))


def test_year_without_data_gives_an_empty_report(client, login, reports_dir):
    login("admin")
    client.post("/reports/annual/2005/generate")
    assert client.get("/reports/annual/2005/status.json").get_json()["status"] == "ready"
    response = client.get("/reports/annual/2005.pdf")
    assert response.status_code == 200 and response.data.startswith(b"%PDF")


@pytest.mark.parametrize("year", [1999, local_today().year + 1])
def test_years_outside_the_range_are_not_found(client, login, reports_dir, year):
    login("finance")
    assert client.get(f"/reports/annual/{year}").status_code == 404
    assert client.post(f"/reports/annual/{year}/generate").status_code == 404
    assert not reports_dir.exists() or not list(reports_dir.iterdir())


def test_generate_needs_the_csrf_token(client, login, app, reports_dir):
    login("finance")
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        response = client.post(f"/reports/annual/{local_today().year}/generate")
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert response.status_code in (302, 400)
    assert not reports_dir.exists() or not list(reports_dir.glob("*.pdf"))


def test_volunteer_service_note_in_the_report_and_the_pdf(session, tmp_path):
    """Verified hours of the year only (pending hours and other years count for nothing), headcount and activities,
    and the sentence that donated services are disclosed in the notes, not recognised as income."""
    year = local_today().year
    this_year = make_activity(session, title="助老", start=dt.datetime(year, 1, 3, 9, tzinfo=dt.UTC))
    other = make_activity(session, title="环保", start=dt.datetime(year, 1, 4, 9, tzinfo=dt.UTC))
    last_year = make_activity(session, title="旧年", start=dt.datetime(year - 1, 5, 1, 9, tzinfo=dt.UTC))
    a, b = make_volunteer(session), make_volunteer(session)
    for volunteer, activity, hours, verified in ((a, this_year, "2.5", True), (b, this_year, "1", True),
                                                 (a, other, "7", False), (b, last_year, "4", True)):
        record = enter_hours(session, sign_up(session, volunteer, activity.shifts[0]), Decimal(hours))
        if verified:
            verify(session, record)
    report = gather(session, year)
    note = report.volunteer_service
    assert (note.year, note.hours, note.people, note.activities) == (year, Decimal("3.50"), 2, 1)
    assert gather(session, year - 1).volunteer_service.hours == Decimal("4.00")
    printed = pdf_values(report)["service_note"]
    assert (printed["hours"], printed["people"], printed["activities"]) == ("3.50", 2, 1)
    assert "不确认为收入" in printed["text"] and "not recognised as income" in printed["text_en"]

    pdf = render_pdf(report)
    assert pdf.startswith(b"%PDF")
    if shutil.which("pdftotext"):
        path = tmp_path / "note.pdf"
        path.write_bytes(pdf)
        text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True).stdout.replace("\n", "")
        assert "志愿服务" in text and "3.50" in text and "不确认为收入" in text
