"""Certificates: who may issue for whom (admin any, organiser only volunteers of their activities, a volunteer only
themself), who may read (staff any, a volunteer only their own, else 404), the PDF's content, and the staff list."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from fundapp.volunteers.models import Certificate, Volunteer
from fundapp.volunteers.reports import issue_certificate
from fundapp.volunteers.service import enter_hours, sign_up, verify
from tests.volunteer_builders import make_activity, make_volunteer

D = Decimal
START, END = "2026-01-01", "2026-12-31"


def _serve(s, volunteer, activity, hours: str, *, verified: bool = True):
    record = enter_hours(s, sign_up(s, volunteer, activity.shifts[0]), D(hours))
    if verified:
        verify(s, record)
    return record


@pytest.fixture()
def people(app_ctx):
    """Two volunteers: 陈志愿 served 2.5 verified hours (and 4 pending) in activity A, 林志愿 3 in activity B."""

    def build(organiser_id: int | None = None, user_id: int | None = None) -> dict:
        with app_ctx() as s:
            a = make_activity(s, title="社区助老探访", organiser_id=organiser_id)
            b = make_activity(s, title="河道清洁", start=dt.datetime(2026, 4, 1, 9, tzinfo=dt.UTC))
            chen = make_volunteer(s, "陈志愿", user_id=user_id)
            lin = make_volunteer(s, "林志愿")
            _serve(s, chen, a, "2.5")
            _serve(s, chen, make_activity(s, title="未核实活动", start=dt.datetime(2026, 5, 1, 9, tzinfo=dt.UTC)),
                   "4", verified=False)
            _serve(s, lin, b, "3")
            s.commit()
            return {"chen": chen.id, "lin": lin.id}

    return build


def _issue(client, volunteer_id: int, start: str = START, end: str = END):
    return client.post("/certificates/issue", data={"volunteer_id": volunteer_id, "period_start": start,
                                                    "period_end": end})


def _count(app_ctx) -> int:
    with app_ctx() as s:
        return s.scalar(select(func.count()).select_from(Certificate))


def _certificate_id(response) -> int:
    assert response.status_code == 302, response.get_data(as_text=True)[:400]
    return int(re.search(r"/certificates/(\d+)$", response.headers["Location"]).group(1))


def test_admin_issues_for_any_volunteer_and_the_pdf_carries_the_figures(client, login, people, app_ctx, tmp_path):
    login("admin")
    ids = people()
    page = client.get("/certificates/issue").get_data(as_text=True)
    assert "陈志愿" in page and "林志愿" in page
    certificate_id = _certificate_id(_issue(client, ids["chen"]))
    with app_ctx() as s:
        certificate = s.get(Certificate, certificate_id)
        code, hours, activities = certificate.code, certificate.hours, certificate.activities
    assert (hours, activities) == (D("2.50"), 1)  # the pending 4 hours count for nothing
    assert code in client.get(f"/certificates/{certificate_id}").get_data(as_text=True)

    pdf = client.get(f"/certificates/{certificate_id}.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")
    assert "no-store" in pdf.headers["Cache-Control"]
    path = tmp_path / "c.pdf"
    path.write_bytes(pdf.data)
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    assert code in text and "陈志愿" in text and "2.50" in text and "社区助老探访" in text
    assert "未核实活动" not in text and "河道清洁" not in text
    assert f"/public/volunteers/certificates?code={code}" in text.replace("\n", "")


def test_a_period_without_verified_hours_is_a_form_error_not_a_certificate(client, login, people, app_ctx):
    login("admin")
    ids = people()
    response = _issue(client, ids["chen"], "2025-01-01", "2025-12-31")
    assert response.status_code == 200 and "has no verified hours in this period" in response.get_data(as_text=True)
    response = _issue(client, ids["chen"], "2026-12-31", "2026-01-01")
    assert response.status_code == 200 and "The period ends before it starts." in response.get_data(as_text=True)
    response = _issue(client, ids["chen"], "not a date", END)
    assert response.status_code == 200 and "Enter a date as YYYY-MM-DD." in response.get_data(as_text=True)
    assert _count(app_ctx) == 0


def test_admin_unknown_volunteer_is_not_found(client, login, people):
    login("admin")
    people()
    assert _issue(client, 987654).status_code == 404
    assert client.get("/certificates/issue?volunteer_id=987654").status_code == 404


def test_a_volunteer_issues_and_reads_only_their_own(client, login, people, app_ctx):
    user_id = login("volunteer")
    ids = people(user_id=user_id)
    page = client.get("/certificates/issue").get_data(as_text=True)
    assert "陈志愿" in page and "林志愿" not in page
    assert _issue(client, ids["lin"]).status_code == 404
    assert client.get(f"/certificates/issue?volunteer_id={ids['lin']}").status_code == 404
    own = _certificate_id(_issue(client, ids["chen"]))
    assert client.get(f"/certificates/{own}.pdf").status_code == 200
    with app_ctx() as s:
        other = issue_certificate(s, s.get(Volunteer, ids["lin"]), dt.date(2026, 1, 1), dt.date(2026, 12, 31))
        s.commit()
        other_id = other.id
    assert client.get(f"/certificates/{other_id}.pdf").status_code == 404
    assert client.get(f"/certificates/{other_id}").status_code == 404
    assert client.get("/certificates/").status_code == 403  # the staff list


def test_a_volunteer_without_a_linked_record_sees_an_explanation(client, login, people, app_ctx):
    login("volunteer")
    ids = people()
    response = client.get("/certificates/issue")
    assert response.status_code == 200 and "no volunteer you can issue a certificate for" in response.get_data(
        as_text=True)
    assert _issue(client, ids["chen"]).status_code == 404
    assert _count(app_ctx) == 0


def test_an_organiser_issues_only_for_volunteers_of_their_activities(client, login, people, app_ctx):
    organiser_id = login("organiser")
    ids = people(organiser_id=organiser_id)
    page = client.get("/certificates/issue").get_data(as_text=True)
    assert "陈志愿" in page and "林志愿" not in page
    assert client.get(f"/certificates/issue?volunteer_id={ids['lin']}").status_code == 404
    assert _issue(client, ids["lin"]).status_code == 404
    assert _count(app_ctx) == 0
    certificate_id = _certificate_id(_issue(client, ids["chen"]))
    assert client.get(f"/certificates/{certificate_id}.pdf").status_code == 200


@pytest.mark.parametrize("role", ["finance", "board", "donor", "applicant"])
def test_other_roles_cannot_issue(client, login, people, role, app_ctx):
    login(role)
    ids = people()
    assert client.get("/certificates/issue").status_code == 403
    assert _issue(client, ids["chen"]).status_code == 403
    assert _count(app_ctx) == 0


def test_finance_reads_any_certificate_and_the_list_searches(client, login, people, app_ctx):
    login("finance")
    ids = people()
    with app_ctx() as s:
        chen = issue_certificate(s, s.get(Volunteer, ids["chen"]), dt.date(2026, 1, 1), dt.date(2026, 12, 31))
        lin = issue_certificate(s, s.get(Volunteer, ids["lin"]), dt.date(2026, 1, 1), dt.date(2026, 12, 31))
        s.commit()
        chen_id, chen_code, lin_code = chen.id, chen.code, lin.code
    assert client.get(f"/certificates/{chen_id}.pdf").status_code == 200
    page = client.get("/certificates/").get_data(as_text=True)
    assert chen_code in page and lin_code in page
    page = client.get("/certificates/", query_string={"q": chen_code.lower()}).get_data(as_text=True)
    assert chen_code in page and lin_code not in page
    page = client.get("/certificates/", query_string={"q": "林"}).get_data(as_text=True)
    assert lin_code in page and chen_code not in page
    assert "No certificate matches this search." in client.get(
        "/certificates/", query_string={"q": "nobody"}).get_data(as_text=True)
    csv = client.get("/certificates/certificates.csv", query_string={"q": "陈"}).get_data(as_text=True)
    assert chen_code in csv and lin_code not in csv and "2.50" in csv


def test_anonymous_visitors_go_to_the_login_page(client, people):
    people()
    for url in ("/certificates/issue", "/certificates/1.pdf", "/certificates/", "/certificates/1"):
        response = client.get(url)
        assert response.status_code == 302 and "/auth/login" in response.headers["Location"], url


def test_unknown_certificate_is_not_found(client, login):
    login("admin")
    assert client.get("/certificates/987654.pdf").status_code == 404
    assert client.get("/certificates/987654").status_code == 404
