"""Organisation, programme and application pages: the applicant's whole path (register, start, edit, attach, submit,
revise, withdraw), staff lists, filters, CSV and screening actions, and the role boundaries (403 for another
organisation's application or file, for a reviewer not assigned or conflicted, for a draft programme)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from fundapp.audit.models import AuditEvent
from fundapp.auth.models import User
from fundapp.dates import local_today
from fundapp.grants.models import (
    Application,
    ApplicationAttachment,
    ApplicationVersion,
    Organisation,
    OrganisationMember,
    Programme,
    ReviewAssignment,
)
from tests.factories import make_user
from tests.grants_builders import funded_fund, make_application, make_organisation, make_programme
from tests.unit.test_grants_applications import credit_code

PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\n%%EOF\n"
TODAY = local_today()


@pytest.fixture(autouse=True)
def grant_uploads(app, tmp_path, monkeypatch):
    folder = tmp_path / "grant-files"
    monkeypatch.setitem(app.config, "GRANT_UPLOAD_DIR", str(folder))
    monkeypatch.setitem(app.config, "GRANT_UPLOAD_MAX_BYTES", 2048)
    return folder


@dataclass(frozen=True)
class World:
    programme: int
    org: int
    other_org: int
    mine: int  # a submitted application of `org`
    theirs: int  # a submitted application of `other_org`
    their_file: int
    my_file: int


def link(app_ctx, user_id: int, *, name: str = "Own org") -> int:
    with app_ctx() as s:
        org = make_organisation(s, s.get(User, user_id), name=name)
        s.commit()
        return org.id


def world(app_ctx, user_id: int | None = None) -> World:
    """An open programme; `user_id`'s organisation (if given, else a fresh one) and another, each with a submitted
    application carrying one file."""
    with app_ctx() as s:
        programme = make_programme(s, budget="50000.00")
        org = make_organisation(s, *([s.get(User, user_id)] if user_id else []), name="Own org")
        other = make_organisation(s, name="Other org")
        mine = make_application(s, programme, org, title="My project")
        theirs = make_application(s, programme, other, title="Their project")
        files = []
        for application in (theirs, mine):
            row = ApplicationAttachment(version_id=application.current.id, stored_name=f"{len(files) + 1:040x}",
                                        original_name="plan.pdf", kind="pdf", size=len(PDF), sha256="0" * 64)
            s.add(row)
            s.flush()
            files.append(row.id)
        s.commit()
        return World(programme.id, org.id, other.id, mine.id, theirs.id, files[0], files[1])


def count(app_ctx, model) -> int:
    with app_ctx() as s:
        return s.scalar(select(func.count()).select_from(model))


def text_of(response) -> str:
    return response.get_data(as_text=True)


def org_form(**overrides) -> dict:
    return {"name": "阳光社区服务中心", "reg_no": credit_code("52310000MJ2223334"), "org_type": "民办非企业单位",
            "community": "阳光社区", "contact_name": "王芳", "contact_phone": "13800000000",
            "contact_email": "wang@example.org", "address": "", "bank_name": "工商银行",
            "bank_account_name": "阳光社区服务中心", "bank_account_no": "6222020012345678"} | overrides


def draft_form(amount: str = "10000.00", lines=(("Activities", "Workshops", "9000.00"),
                                                ("Materials", "Paper", "1000.00")), **overrides) -> dict:
    data = {"title": "Elderly lunch club", "community": "阳光社区", "summary": "Lunch twice a week",
            "objectives": "Less isolation", "beneficiaries": "Residents over 70", "beneficiaries_count": "80",
            "starts_on": (TODAY + dt.timedelta(days=30)).isoformat(),
            "ends_on": (TODAY + dt.timedelta(days=200)).isoformat(), "requested_amount": amount, "save": "Save"}
    for n, (category, item, line_amount) in enumerate(lines):
        data |= {f"lines-{n}-category": category, f"lines-{n}-item": item, f"lines-{n}-amount": line_amount}
    return data | overrides


# --- organisations ------------------------------------------------------------------------------------------------


def test_an_applicant_registers_their_organisation(client, login, app_ctx):
    uid = login("applicant")
    page = text_of(client.get("/grants/"))
    assert "Register your organisation" in page
    valid = org_form()["reg_no"]
    bad = valid[:-1] + ("1" if valid[-1] == "0" else "0")
    response = client.post("/grants/organisation", data=org_form(reg_no=bad))
    assert response.status_code == 200 and "check character" in text_of(response)
    assert count(app_ctx, Organisation) == 0
    response = client.post("/grants/organisation", data=org_form())
    assert response.status_code == 302
    with app_ctx() as s:
        org = s.scalar(select(Organisation))
        assert [m.user_id for m in org.members] == [uid]
        org_id = org.id
    assert client.get("/grants/organisation").headers["Location"].endswith(f"/grants/organisations/{org_id}")
    page = text_of(client.get(f"/grants/organisations/{org_id}"))
    assert "6222020012345678" in page and "阳光社区服务中心" in page
    response = client.post(f"/grants/organisations/{org_id}/edit", data=org_form(contact_name="李强"))
    assert response.status_code == 302
    with app_ctx() as s:
        assert s.get(Organisation, org_id).contact_name == "李强"
        assert s.scalar(select(AuditEvent).where(AuditEvent.tag == "grants:organisation:updated")).after == {
            "contact_name": "李强"}


def test_an_applicant_cannot_see_or_edit_another_organisation(client, login, app_ctx):
    uid = login("applicant")
    w = world(app_ctx, uid)
    assert client.get(f"/grants/organisations/{w.other_org}").status_code == 403
    assert client.get(f"/grants/organisations/{w.other_org}/edit").status_code == 403
    assert client.post(f"/grants/organisations/{w.other_org}/edit", data=org_form()).status_code == 403
    assert client.get("/grants/organisations").status_code == 403
    assert client.get("/grants/organisations/999999").status_code == 404


def test_staff_search_organisations_and_link_users(client, login, app_ctx):
    login("finance")
    with app_ctx() as s:
        org = make_organisation(s, name="Riverside youth club")
        make_organisation(s, name="Hillside elders")
        applicant = make_user(s, "applicant", email="river@example.org")
        s.commit()
        org_id, applicant_id = org.id, applicant.id
    page = text_of(client.get("/grants/organisations?q=river"))
    assert "Riverside youth club" in page and "Hillside elders" not in page
    response = client.post(f"/grants/organisations/{org_id}/members", data={"email": "nobody@example.org"})
    assert response.status_code == 302 and count(app_ctx, OrganisationMember) == 0
    assert "no user" in text_of(client.get(response.headers["Location"]))
    client.post(f"/grants/organisations/{org_id}/members", data={"email": "river@example.org"})
    with app_ctx() as s:
        member = s.scalar(select(OrganisationMember))
        assert (member.organisation_id, member.user_id) == (org_id, applicant_id)
        member_id = member.id
    assert "river@example.org" in text_of(client.get(f"/grants/organisations/{org_id}"))
    client.post(f"/grants/organisation-members/{member_id}/remove")
    assert count(app_ctx, OrganisationMember) == 0


# --- programmes ---------------------------------------------------------------------------------------------------


def programme_form(fund_id: int, **overrides) -> dict:
    data = {"code": "CV2026", "title": "Community ventures", "kind": "venture", "fund_id": str(fund_id),
            "budget": "40000.00", "max_request": "10000", "opens_on": TODAY.isoformat(),
            "closes_on": (TODAY + dt.timedelta(days=30)).isoformat(), "description": "About", "eligibility": "All",
            "criteria-0-name": "Need", "criteria-0-weight": "60", "criteria-0-max_score": "10",
            "criteria-1-name": "Value", "criteria-1-weight": "40", "criteria-1-max_score": "5"}
    return data | overrides


def test_staff_create_a_programme_with_its_rubric_and_open_it(client, login, app_ctx):
    login("finance")
    with app_ctx() as s:
        fund = funded_fund(s, "45000.00", name="Neighbourhood fund")
        s.commit()
        fund_id = fund.id
    assert client.get("/grants/programmes/new").status_code == 200
    response = client.post("/grants/programmes/new", data=programme_form(fund_id, **{"criteria-1-weight": "30"}))
    assert response.status_code == 200 and "add up to 90%" in text_of(response)
    response = client.post("/grants/programmes/new", data=programme_form(fund_id, budget="45000.01"))
    assert "Neighbourhood fund" in text_of(response) and "45,000.00" in text_of(response)
    response = client.post("/grants/programmes/new", data=programme_form(fund_id, budget="12.345"))
    assert "two decimal places" in text_of(response)
    assert count(app_ctx, Programme) == 0
    response = client.post("/grants/programmes/new", data=programme_form(fund_id))
    assert response.status_code == 302
    with app_ctx() as s:
        programme = s.scalar(select(Programme))
        assert (programme.status, programme.budget, [c.weight for c in programme.criteria]) == (
            "draft", Decimal("40000.00"), [Decimal("60"), Decimal("40")])
        programme_id = programme.id
    page = text_of(client.get(f"/grants/programmes/{programme_id}"))
    assert "40,000.00" in page and "Open the call" in page
    client.post(f"/grants/programmes/{programme_id}/status", data={"status": "open"})
    client.post(f"/grants/programmes/{programme_id}/status", data={"status": "closed"})
    response = client.post(f"/grants/programmes/{programme_id}/status", data={"status": "archived"})
    with app_ctx() as s:
        assert s.get(Programme, programme_id).status == "closed"  # archiving needs the box ticked
    client.post(f"/grants/programmes/{programme_id}/status", data={"status": "archived", "confirm": "y"})
    with app_ctx() as s:
        assert s.get(Programme, programme_id).status == "archived"
    assert client.get(f"/grants/programmes/{programme_id}/edit").status_code == 200


def test_editing_a_programme_keeps_its_rubric_shown(client, login, app_ctx):
    login("admin")
    with app_ctx() as s:
        programme = make_programme(s, status="draft")
        s.commit()
        programme_id = programme.id
    page = text_of(client.get(f"/grants/programmes/{programme_id}/edit"))
    assert 'value="Feasibility"' in page and 'value="35"' in page


def test_applicants_see_open_calls_only_and_no_draft_programme(client, login, app_ctx):
    login("applicant")
    with app_ctx() as s:
        open_one = make_programme(s)
        draft = make_programme(s, status="draft")
        s.commit()
        open_id, open_code, draft_id, draft_code = open_one.id, open_one.code, draft.id, draft.code
    page = text_of(client.get("/grants/"))
    assert open_code in page and draft_code not in page
    assert client.get(f"/grants/programmes/{open_id}").status_code == 200
    assert client.get(f"/grants/programmes/{draft_id}").status_code == 403
    assert client.get("/grants/programmes/999999").status_code == 404
    assert client.get("/grants/programmes/new").status_code == 403


def test_staff_see_every_programme_with_filters(client, login, app_ctx):
    login("board")
    with app_ctx() as s:
        open_one = make_programme(s)
        draft = make_programme(s, status="draft")
        s.commit()
        open_code, draft_code = open_one.code, draft.code
    page = text_of(client.get("/grants/"))
    assert open_code in page and draft_code in page
    page = text_of(client.get("/grants/?status=draft"))
    assert open_code not in page and draft_code in page
    page = text_of(client.get(f"/grants/?q={open_code}"))
    assert open_code in page and draft_code not in page


# --- the applicant's path -----------------------------------------------------------------------------------------


def test_the_applicant_path_from_start_to_submission(client, login, app_ctx, grant_uploads):
    uid = login("applicant")
    org_id = link(app_ctx, uid)
    with app_ctx() as s:
        programme = make_programme(s)
        programme.max_request = Decimal("20000.00")
        s.commit()
        programme_id = programme.id
    assert "Start an application" in text_of(client.get(f"/grants/programmes/{programme_id}"))
    response = client.post(f"/grants/programmes/{programme_id}/apply")
    assert response.status_code == 302
    with app_ctx() as s:
        application = s.scalar(select(Application))
        app_id, reference = application.id, application.reference
        assert application.organisation_id == org_id and application.status == "draft"
    assert response.headers["Location"].endswith(f"/grants/applications/{app_id}/edit")
    assert client.post(f"/grants/programmes/{programme_id}/apply").status_code == 302  # refused: one live
    assert count(app_ctx, Application) == 1

    # a bad amount: nothing saved
    response = client.post(f"/grants/applications/{app_id}/edit", data=draft_form(
        lines=(("Activities", "Workshops", "9000.001"),)))
    assert response.status_code == 400 and "two decimal places" in text_of(response)
    with app_ctx() as s:
        assert s.get(Application, app_id).current.title == ""
    # an unbalanced budget saves as a draft but cannot be submitted
    response = client.post(f"/grants/applications/{app_id}/edit", data=draft_form(
        lines=(("Activities", "Workshops", "9000.00"), ("Materials", "Paper", "999.99"))))
    assert response.status_code == 302
    page = text_of(client.get(f"/grants/applications/{app_id}/submit"))
    assert "add up to 9,999.99 but the request is 10,000.00" in page
    response = client.post(f"/grants/applications/{app_id}/submit", data={"confirm": "y"})
    assert response.status_code == 400 and "add up to 9,999.99" in text_of(response)
    with app_ctx() as s:
        assert s.get(Application, app_id).status == "draft"
    # "add a row" saves and offers more rows
    response = client.post(f"/grants/applications/{app_id}/edit", data=draft_form() | {"add_line": "Add"})
    assert response.status_code == 302 and "rows=" in response.headers["Location"]
    page = text_of(client.get(response.headers["Location"]))
    assert 'name="lines-5-item"' in page
    # a file
    response = client.post(f"/grants/applications/{app_id}/attachments",
                           data={"file": (io.BytesIO(b"<html>not a pdf"), "plan.pdf")},
                           content_type="multipart/form-data")
    assert "PDF, JPEG, PNG or XLSX" in text_of(client.get(response.headers["Location"]))
    response = client.post(f"/grants/applications/{app_id}/attachments",
                           data={"file": (io.BytesIO(b"%PDF-" + b"x" * 3000), "big.pdf")},
                           content_type="multipart/form-data")
    assert "larger than" in text_of(client.get(response.headers["Location"]))
    assert count(app_ctx, ApplicationAttachment) == 0
    client.post(f"/grants/applications/{app_id}/attachments", data={"file": (io.BytesIO(PDF), "计划书.pdf")},
                content_type="multipart/form-data")
    with app_ctx() as s:
        file_id = s.scalar(select(ApplicationAttachment.id))
    download = client.get(f"/grants/attachments/{file_id}")
    assert download.status_code == 200 and download.data == PDF
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in download.headers["Cache-Control"]
    # submit: the box must be ticked
    response = client.post(f"/grants/applications/{app_id}/submit", data={})
    assert response.status_code == 400
    response = client.post(f"/grants/applications/{app_id}/submit", data={"confirm": "y"})
    assert response.status_code == 302
    with app_ctx() as s:
        application = s.get(Application, app_id)
        assert application.status == "submitted" and application.current.is_frozen
    page = text_of(client.get(f"/grants/applications/{app_id}"))
    assert "Submitted" in page and "Application started" in page and "计划书.pdf" in page
    assert reference in text_of(client.get("/grants/"))
    # frozen: no edit, no file, no second submission
    assert client.get(f"/grants/applications/{app_id}/edit").status_code == 302
    client.post(f"/grants/applications/{app_id}/edit", data=draft_form(title="Changed after submission"))
    client.post(f"/grants/applications/{app_id}/attachments", data={"file": (io.BytesIO(PDF), "late.pdf")},
                content_type="multipart/form-data")
    client.post(f"/grants/applications/{app_id}/submit", data={"confirm": "y"})
    with app_ctx() as s:
        application = s.get(Application, app_id)
        assert application.current.title == "Elderly lunch club" and len(application.current.attachments) == 1
        assert s.scalar(select(func.count()).select_from(AuditEvent)
                        .where(AuditEvent.tag == "grants:application:submitted")) == 1
    assert client.post(f"/grants/attachments/{file_id}/remove").status_code == 302
    assert count(app_ctx, ApplicationAttachment) == 1


def test_a_revision_round_trip(client, login, app_ctx):
    uid = login("applicant")
    w = world(app_ctx, uid)
    with app_ctx() as s:
        application = s.get(Application, w.mine)
        application.status = "revision_requested"
        application.revision_note = "Please split the budget by month."
        s.commit()
    page = text_of(client.get(f"/grants/applications/{w.mine}"))
    assert "Please split the budget by month." in page and "Start version 2" in page
    response = client.post(f"/grants/applications/{w.mine}/revise")
    assert response.headers["Location"].endswith(f"/grants/applications/{w.mine}/edit")
    with app_ctx() as s:
        versions = s.get(Application, w.mine).versions
        assert [(v.version, v.is_frozen) for v in versions] == [(1, True), (2, False)]
        assert [line.amount for line in versions[1].budget_lines] == [Decimal("5000.00"), Decimal("5000.00")]
        assert [a.original_name for a in versions[1].attachments] == []  # the builder's file is not on disk
    client.post(f"/grants/applications/{w.mine}/edit", data=draft_form(title="Revised project"))
    client.post(f"/grants/applications/{w.mine}/submit", data={"confirm": "y"})
    with app_ctx() as s:
        application = s.get(Application, w.mine)
        assert application.status == "submitted"
        assert [(v.title, v.is_frozen) for v in application.versions] == [("My project", True),
                                                                           ("Revised project", True)]
    page = text_of(client.get(f"/grants/applications/{w.mine}?version=1"))
    assert "My project" in page and "Version 2" in page
    page = text_of(client.get(f"/grants/applications/{w.mine}?version=2"))
    assert "Revised project" in page and 'Project title</dt><dd>Revised project <span class="badge warn">changed' in page


def test_withdrawing_needs_a_confirmation_and_only_before_a_decision(client, login, app_ctx):
    uid = login("applicant")
    w = world(app_ctx, uid)
    assert client.get(f"/grants/applications/{w.mine}/withdraw").status_code == 200
    assert client.post(f"/grants/applications/{w.mine}/withdraw", data={"reason": "x"}).status_code == 400
    with app_ctx() as s:
        assert s.get(Application, w.mine).status == "submitted"
    response = client.post(f"/grants/applications/{w.mine}/withdraw", data={"reason": "Merged", "confirm": "y"})
    assert response.status_code == 302
    response = client.post(f"/grants/applications/{w.mine}/withdraw", data={"confirm": "y"})
    assert response.status_code == 400 and "can no longer be withdrawn" in text_of(response)
    page = text_of(client.get(f"/grants/applications/{w.mine}"))
    assert "Withdrawn" in page and "Merged" in page


# --- role boundaries ----------------------------------------------------------------------------------------------


def test_an_applicant_reaches_only_their_own_organisations_applications_and_files(client, login, app_ctx):
    uid = login("applicant")
    w = world(app_ctx, uid)
    assert client.get(f"/grants/applications/{w.mine}").status_code == 200
    for url in (f"/grants/applications/{w.theirs}", f"/grants/applications/{w.theirs}/edit",
                f"/grants/applications/{w.theirs}/submit", f"/grants/applications/{w.theirs}/withdraw",
                f"/grants/attachments/{w.their_file}"):
        assert client.get(url).status_code == 403, url
    for url in (f"/grants/applications/{w.theirs}/withdraw", f"/grants/applications/{w.theirs}/revise",
                f"/grants/applications/{w.theirs}/attachments", f"/grants/attachments/{w.their_file}/remove"):
        assert client.post(url, data={"confirm": "y"}).status_code == 403, url
    assert client.get("/grants/applications").status_code == 403
    assert client.get("/grants/applications.csv").status_code == 403
    assert client.post(f"/grants/applications/{w.mine}/recommend").status_code == 403
    assert client.get("/grants/applications/999999").status_code == 404
    assert client.get("/grants/attachments/999999").status_code == 404
    page = text_of(client.get("/grants/"))
    assert "My project" in page and "Their project" not in page


def test_an_applicant_without_an_organisation_is_sent_to_register(client, login, app_ctx):
    login("applicant")
    w = world(app_ctx)
    assert client.get(f"/grants/applications/{w.mine}").status_code == 403
    response = client.post(f"/grants/programmes/{w.programme}/apply")
    assert response.headers["Location"].endswith("/grants/organisation")
    assert count(app_ctx, Application) == 2


def test_reviewers_see_only_what_they_are_assigned_and_not_conflicted(client, login, app_ctx, grant_uploads):
    uid = login("reviewer")
    w = world(app_ctx)
    grant_uploads.mkdir(parents=True, exist_ok=True)
    with app_ctx() as s:
        stored = s.get(ApplicationAttachment, w.my_file).stored_name
    (grant_uploads / stored).write_bytes(PDF)
    assert client.get(f"/grants/applications/{w.mine}").status_code == 403
    assert client.get(f"/grants/attachments/{w.my_file}").status_code == 403
    with app_ctx() as s:
        s.add(ReviewAssignment(application_id=w.mine, reviewer_id=uid, status="assigned"))
        s.add(ReviewAssignment(application_id=w.theirs, reviewer_id=uid, status="conflicted",
                               conflict_note="My sister runs it"))
        s.commit()
    page = text_of(client.get(f"/grants/applications/{w.mine}"))
    assert "My project" in page and "Screening" not in page and "Withdraw" not in page
    assert client.get(f"/grants/attachments/{w.my_file}").data == PDF
    assert client.get(f"/grants/applications/{w.theirs}").status_code == 403
    assert client.get(f"/grants/attachments/{w.their_file}").status_code == 403
    assert client.get("/grants/applications").status_code == 403


def test_staff_and_board_read_everything_but_only_staff_act(client, login, app_ctx):
    login("board")
    w = world(app_ctx)
    page = text_of(client.get(f"/grants/applications/{w.theirs}"))
    assert "Their project" in page and "Screening" not in page
    assert client.post(f"/grants/applications/{w.theirs}/recommend").status_code == 403
    assert client.get(f"/grants/attachments/{w.their_file}").status_code == 404  # allowed; the file is not on disk


def test_staff_do_not_see_the_applicants_draft_in_progress(client, login, app_ctx):
    login("finance")
    with app_ctx() as s:
        application = make_application(s, make_programme(s), status="draft", title="Secret draft")
        s.commit()
        app_id = application.id
    page = text_of(client.get(f"/grants/applications/{app_id}"))
    assert "Secret draft" not in page and "has not submitted" in page


# --- staff list, export and screening -----------------------------------------------------------------------------


def test_staff_list_filter_sort_and_export(client, login, app_ctx):
    login("finance")
    with app_ctx() as s:
        first = make_programme(s)
        second = make_programme(s)
        a = make_application(s, first, make_organisation(s, name="Alpha club"), amount="3000.00", title="Garden")
        b = make_application(s, first, make_organisation(s, name="Beta centre"), amount="9000.00",
                             title="=HYPERLINK(\"x\")")
        c = make_application(s, second, make_organisation(s, name="Gamma"), status="draft", title="Hidden")
        s.commit()
        refs = (a.reference, b.reference, c.reference)
        first_id = first.id
    page = text_of(client.get("/grants/applications"))
    assert all(ref in page for ref in refs) and "Not submitted yet" in page and "Hidden" not in page
    page = text_of(client.get(f"/grants/applications?programme={first_id}"))
    assert refs[0] in page and refs[1] in page and refs[2] not in page
    page = text_of(client.get("/grants/applications?status=draft"))
    assert refs[2] in page and refs[0] not in page
    assert refs[0] in text_of(client.get("/grants/applications?q=alpha"))
    assert refs[1] not in text_of(client.get("/grants/applications?q=alpha"))
    assert refs[0] in text_of(client.get("/grants/applications?q=garden"))
    assert refs[2] not in text_of(client.get("/grants/applications?q=hidden"))  # draft titles are not searched
    page = text_of(client.get("/grants/applications?sort=amount"))
    assert page.index(refs[1]) < page.index(refs[0])
    assert client.get("/grants/applications?page=99&sort=nonsense&status=bogus").status_code == 200
    response = client.get(f"/grants/applications.csv?programme={first_id}")
    assert response.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][0] == "Reference" and len(rows) == 3
    by_ref = {row[0]: row for row in rows[1:]}
    assert by_ref[refs[0]][2] == "Alpha club" and by_ref[refs[0]][6] == "3000.00"
    assert by_ref[refs[1]][4].startswith("'=")  # formula-safe


def test_staff_screening_actions(client, login, app_ctx):
    login("finance")
    w = world(app_ctx)
    response = client.post(f"/grants/applications/{w.mine}/request-revision", data={"note": ""})
    assert response.status_code == 400 and "Say what the applicant should revise" in text_of(response)
    response = client.post(f"/grants/applications/{w.mine}/screen-out", data={"reason": "Out of area"})
    assert response.status_code == 400  # the box was not ticked
    with app_ctx() as s:
        assert s.get(Application, w.mine).status == "submitted"
    client.post(f"/grants/applications/{w.mine}/request-revision", data={"note": "Add the venue costs."})
    client.post(f"/grants/applications/{w.theirs}/recommend", data={"note": ""})
    with app_ctx() as s:
        assert s.get(Application, w.mine).status == "revision_requested"
        assert s.get(Application, w.theirs).status == "recommended"
    response = client.post(f"/grants/applications/{w.theirs}/screen-out",
                           data={"reason": "Out of area", "confirm": "y"})
    assert response.status_code == 400 and "only a submitted application" in text_of(response)
    with app_ctx() as s:
        assert s.get(Application, w.theirs).status == "recommended"  # only submitted / in review
    page = text_of(client.get(f"/grants/applications/{w.mine}"))
    assert "Add the venue costs." in page and "Revision requested" in page


def test_the_detail_page_queries_stay_flat(client, login, app_ctx, count_queries):
    login("finance")
    w = world(app_ctx)
    with app_ctx() as s:
        for _n in range(3):
            make_application(s, s.get(Programme, w.programme))
        s.commit()
    with count_queries() as few:
        client.get("/grants/applications")
    with app_ctx() as s:
        for _n in range(10):
            make_application(s, s.get(Programme, w.programme))
        s.commit()
    with count_queries() as many:
        client.get("/grants/applications")
    assert many[0] == few[0]
    assert count(app_ctx, ApplicationVersion) == 15
