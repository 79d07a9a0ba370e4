"""The public volunteer pages: /public/volunteers (totals, projects, communities, top activities, rewards, honour
roll, CSV, year filter, empty states), the certificate check /public/volunteers/certificates?code=... and the
open-data twin /api/v1/volunteers.

Figures are compared with a direct computation over the service records; a volunteer who did not consent is never
named (nor their phone or email shown), on the page or in any CSV."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from jsonschema import Draft202012Validator
from sqlalchemy import select

from fundapp.dates import local_today
from fundapp.disclosure import volunteers as q
from fundapp.volunteers.exchange import redeem
from fundapp.volunteers.models import Activity, RecordStatus, Reward, ServiceRecord, Shift, Signup
from fundapp.volunteers.points import volunteer_account
from fundapp.volunteers.reports import issue_certificate
from fundapp.volunteers.service import correct, enter_hours, sign_up, verify
from tests.factories import make_fund, post
from tests.grants_builders import make_award, make_organisation
from tests.volunteer_builders import make_activity, make_volunteer

D = Decimal
NAMED = "公开志愿者甲"
HIDDEN = "不公开志愿者SENTINELVOL"
HIDDEN_PHONE = "13700001111"
HIDDEN_EMAIL = "vol.sentinel@example.org"
LISTS = ("projects", "communities", "activities", "rewards", "honour")


def _serve(s, volunteer, activity, hours: str, *, verified: bool = True):
    record = enter_hours(s, sign_up(s, volunteer, activity.shifts[0]), D(hours))
    if verified:
        verify(s, record)
    return record


def _at(year: int, month: int, day: int) -> dt.datetime:
    return dt.datetime(year, month, day, 9, tzinfo=dt.UTC)


@pytest.fixture()
def service(app_ctx) -> dict:
    """This year: activity A (project award, 东社区, 30 served) and B (no project, 西社区, 12 served); last year C
    (东社区, 5 served). The named volunteer (consented) served 2.5 in A and 3 in B and redeemed 2 haircuts; the
    hidden one (no consent) 1.5 in A, 2 in C, 9 pending in B and 4 reversed in D."""
    year = local_today().year
    with app_ctx() as s:
        fund = make_fund(s, "VOLPUB", name="Volunteer Fund")
        post(s, fund, "5000.00")
        award = make_award(s, "2000.00", fund=fund, organisation=make_organisation(s, name="Helping Hands"))
        a = make_activity(s, title="助老探访", community="东社区", people_served=30, award_id=award.id,
                          start=_at(year, 1, 3))
        b = make_activity(s, title="河道清洁", community="西社区", people_served=12, start=_at(year, 1, 4))
        c = make_activity(s, title="旧年活动", community="东社区", people_served=5, start=_at(year - 1, 6, 1))
        d = make_activity(s, title="更正活动", community="北社区", people_served=7, start=_at(year, 1, 5))
        named = make_volunteer(s, NAMED, consent_public=True)
        hidden = make_volunteer(s, HIDDEN, phone=HIDDEN_PHONE, email=HIDDEN_EMAIL, consent_public=False)
        _serve(s, named, a, "2.5")
        _serve(s, named, b, "3")
        _serve(s, hidden, a, "1.5")
        _serve(s, hidden, c, "2")
        _serve(s, hidden, b, "9", verified=False)
        correct(s, _serve(s, hidden, d, "4"), "wrong day")
        haircut = Reward(name="理发服务", kind="service", points=D("2.00"), stock=10, donor_label="好邻居理发店")
        s.add(haircut)
        s.flush()
        redeem(s, volunteer_account(s, named), haircut, 2, key="test-haircut")
        named_cert = issue_certificate(s, named, dt.date(year, 1, 1), dt.date(year, 12, 31))
        hidden_cert = issue_certificate(s, hidden, dt.date(year, 1, 1), dt.date(year, 12, 31))
        s.commit()
        return {"year": year, "award": f"{award.number} {award.title}", "award_id": award.id,
                "named_code": named_cert.code, "hidden_code": hidden_cert.code}


def _direct(s, year: int | None) -> dict:
    """Totals computed row by row from the verified records (the reference for the page's GROUP BY queries)."""
    rows = s.execute(select(ServiceRecord.hours, Signup.volunteer_id, Activity.id, Activity.people_served,
                            Shift.starts_at)
                     .join(Signup, Signup.id == ServiceRecord.signup_id).join(Shift, Shift.id == Signup.shift_id)
                     .join(Activity, Activity.id == Shift.activity_id)
                     .where(ServiceRecord.status == RecordStatus.verified.value)).all()
    rows = [r for r in rows if year is None or r[4].year == year]
    served = {r[2]: r[3] for r in rows}
    return {"hours": sum((D(r[0]) for r in rows), D("0")).quantize(D("0.01")),
            "volunteers": len({r[1] for r in rows}), "people_served": sum(served.values()),
            "activities": len(served)}


def _csv(client, name: str, **args) -> list[list[str]]:
    response = client.get("/public/volunteers.csv", query_string={"list": name, **args})
    assert response.status_code == 200 and response.mimetype == "text/csv"
    return list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))


def test_totals_equal_a_direct_computation(client, service, app_ctx):
    year = service["year"]
    with app_ctx() as s:
        this_year, all_time = q.totals(s, q.Period.year(year)), q.totals(s)
        expected_year, expected_all = _direct(s, year), _direct(s, None)
    assert vars(this_year) == expected_year
    assert vars(all_time) == expected_all
    assert expected_year == {"hours": D("7.00"), "volunteers": 2, "people_served": 42, "activities": 2}
    assert expected_all == {"hours": D("9.00"), "volunteers": 2, "people_served": 47, "activities": 3}
    page = client.get("/public/volunteers").get_data(as_text=True)
    assert "7.00" in page and "9.00" in page and ">47<" in page and ">42<" in page


def test_groups_projects_communities_activities_and_rewards(client, service):
    projects = _csv(client, "projects")
    assert projects[1:] == [["Not part of a funded project", "5.00", "2", "17"],
                            [service["award"], "4.00", "2", "30"]]
    assert _csv(client, "communities")[1:] == [["东社区", "6.00", "2", "35"], ["西社区", "3.00", "1", "12"]]
    assert [row[0] for row in _csv(client, "activities")[1:]] == ["助老探访", "河道清洁", "旧年活动"]
    assert _csv(client, "rewards")[1:] == [["理发服务", "好邻居理发店", "2", "4.00"]]
    page = client.get("/public/volunteers").get_data(as_text=True)
    assert service["award"] in page and f'/public/grants/{service["award_id"]}' in page
    assert "理发服务" in page and "好邻居理发店" in page
    assert "更正活动" not in page  # its only hours were reversed


def test_the_year_filter_narrows_the_lists(client, service):
    last = service["year"] - 1
    assert [row[0] for row in _csv(client, "activities", year=last)[1:]] == ["旧年活动"]
    assert _csv(client, "rewards", year=last)[1:] == []  # redeemed this year
    page = client.get("/public/volunteers", query_string={"year": last}).get_data(as_text=True)
    assert "旧年活动" in page and "助老探访" not in page.split("Hours by project")[1]
    for junk in ("1800", "abcd", "99999", "-1", ""):
        response = client.get("/public/volunteers", query_string={"year": junk})
        assert response.status_code == 200 and "助老探访" in response.get_data(as_text=True)


def test_only_consenting_volunteers_are_named(client, service):
    bodies = [client.get("/public/volunteers").get_data(as_text=True)]
    bodies += [client.get("/public/volunteers.csv", query_string={"list": name}).get_data(as_text=True)
               for name in LISTS]
    for body in bodies:
        for secret in (HIDDEN, HIDDEN_PHONE, HIDDEN_EMAIL):
            assert secret not in body
    honour = _csv(client, "honour")
    assert honour[1:] == [[NAMED, "5.50"], ["Other volunteers, not named: 1", "3.50"]]
    assert NAMED in bodies[0] and "Other volunteers, not named: 1" in bodies[0]


def test_certificate_check_shows_the_name_only_with_consent(client, service):
    response = client.get("/public/volunteers/certificates", query_string={"code": service["named_code"].lower()})
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "no-store" in response.headers["Cache-Control"]
    assert "Valid" in body and NAMED in body and "5.50" in body and service["named_code"] in body
    body = client.get("/public/volunteers/certificates", query_string={"code": service["hidden_code"]}
                      ).get_data(as_text=True)
    assert "Valid" in body and "A volunteer (name withheld)" in body and "1.50" in body
    for secret in (HIDDEN, HIDDEN_PHONE, HIDDEN_EMAIL):
        assert secret not in body


@pytest.mark.parametrize("code", ["0000000000000000", "nope", "' OR 1=1 --", "X" * 500, "<script>", "码"])
def test_unknown_or_malformed_codes_get_a_plain_message(client, service, code):
    response = client.get("/public/volunteers/certificates", query_string={"code": code})
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "No certificate has this code." in body
    assert "Valid" not in body and NAMED not in body and "<script>" not in body


def test_check_page_without_a_code_asks_for_one(client):
    response = client.get("/public/volunteers/certificates")
    assert response.status_code == 200 and "Enter the code printed on the certificate." in response.get_data(
        as_text=True)


def test_check_is_never_served_from_the_public_cache(app, client, service):
    app.config["PUBLIC_CACHE_SIZE"] = 16
    try:
        first = client.get("/public/volunteers/certificates", query_string={"code": "unknown"})
        assert "public" not in first.headers.get("Cache-Control", "") and not first.headers.get("ETag")
        assert client.get("/public/volunteers").headers["Cache-Control"] == "public, max-age=60"
    finally:
        app.config["PUBLIC_CACHE_SIZE"] = 0


def test_empty_states(client):
    page = client.get("/public/volunteers").get_data(as_text=True)
    assert "No verified volunteer hours yet." in page and "No points have been exchanged yet." in page
    assert '/public/volunteers/certificates' in page  # the check form
    for name in LISTS:
        assert len(_csv(client, name)) >= 1  # a header at least


def test_the_public_menu_links_the_page(client):
    assert 'href="/public/volunteers"' in client.get("/public/funds").get_data(as_text=True)


def test_the_api_gives_the_page_figures_and_validates_against_its_schema(client, service):
    spec = client.get("/api/v1/openapi.json").get_json()
    body = client.get("/api/v1/volunteers").get_json()
    Draft202012Validator({"$ref": "#/components/schemas/VolunteerService", **spec}).validate(body)
    assert body["year"] is None
    assert (body["all_time"]["hours"], body["all_time"]["volunteers"], body["all_time"]["people_served"]) == (
        "9.00", 2, 47)
    assert body["this_year"] == {"year": service["year"], "hours": "7.00", "volunteers": 2, "people_served": 42,
                                 "activities": 2}
    assert [p["label"] for p in body["projects"]] == ["Not part of a funded project", service["award"]]
    assert body["projects"][1]["grant"].endswith(f"/api/v1/grants/{service['award_id']}")
    assert body["honour_roll"] == {"named": [{"name": NAMED, "hours": "5.50"}], "others": 1, "others_hours": "3.50"}
    assert body["rewards_redeemed"] == [{"reward": "理发服务", "given_by": "好邻居理发店", "quantity": 2,
                                         "points": "4.00"}]
    text = client.get("/api/v1/volunteers").get_data(as_text=True)
    for secret in (HIDDEN, HIDDEN_PHONE, HIDDEN_EMAIL):
        assert secret not in text and secret.encode("unicode_escape").decode() not in text
    last = client.get("/api/v1/volunteers", query_string={"year": service["year"] - 1}).get_json()
    assert [a["label"] for a in last["top_activities"]] == ["旧年活动"]
    for bad in ("abc", "1800", str(service["year"] + 1)):
        assert client.get("/api/v1/volunteers", query_string={"year": bad}).status_code == 400
