"""/api/v1/openapi.json: a valid OpenAPI 3.1 document that describes exactly the routes under /api/v1, and whose
response schemas accept what the routes really answer (with data in every list)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate

from config import TestingConfig
from fundapp import create_app
from fundapp.dates import local_today
from tests.factories import make_fund, post
from tests.grants_award_builders import Cast, award_for, pay_through, report, schedule
from tests.unit.donations.factories import gift, in_kind, make_donor
from tests.unit.enterprises.factories import confirm, file, make_agreement, make_enterprise, pay

PREFIX = "/api/v1"


def api_paths(app) -> set[str]:
    """The /api/v1 rules as OpenAPI paths (`<int:award_id>` -> `{award_id}`)."""
    return {re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule[len(PREFIX):])
            for rule in app.url_map.iter_rules() if rule.rule.startswith(PREFIX + "/")}


@pytest.fixture()
def spec(client) -> dict:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.get_json()


def test_the_document_is_valid_openapi_3_1(spec):
    validate(spec)
    assert spec["openapi"].startswith("3.1")


def test_every_route_is_documented_and_every_documented_path_exists(spec):
    routes = api_paths(create_app(TestingConfig))
    assert routes, "no /api/v1 routes found"
    assert routes - set(spec["paths"]) == set(), "routes missing from the OpenAPI document"
    assert set(spec["paths"]) - routes == set(), "documented paths without a route"


def test_documented_query_parameters_are_accepted_and_others_refused(client, spec):
    for path, item in spec["paths"].items():
        if "{" in path:
            continue
        names = [p["name"] for p in item["get"]["parameters"] if "$ref" not in p] + [
            p["$ref"].rsplit("/", 1)[1] for p in item["get"]["parameters"] if "$ref" in p]
        if "per_page" in names:
            assert client.get(f"{PREFIX}{path}?per_page=2&page=1").status_code == 200, path
        refused = client.get(f"{PREFIX}{path}?no_such_filter=1")
        if "400" not in item["get"]["responses"]:
            assert refused.status_code == 200, path  # documented as ignoring parameters
        else:
            assert refused.status_code == 400, path
            errors = Draft202012Validator({"$ref": "#/components/schemas/Error", **spec})
            errors.validate(refused.get_json())


def build(session) -> None:
    """One of everything a list shows: a fund with gifts, a grant paid with a report, an enterprise share, a
    corrected gift (a reversal) and entries."""
    fund = make_fund(session, name="Open Fund")
    post(session, fund, "800.00")
    gift(session, fund, "500.00", donor=make_donor(session), purpose="Books")
    in_kind(session, fund, "300.00")
    cast = Cast(session)
    award = award_for(session, cast, "3000.00")
    schedule(session, award, "3000.00", actor=cast.maker)
    pay_through(session, award, 1, cast)
    report(session, award, cast, spend=("100.00",))
    enterprise = make_enterprise(session)
    make_agreement(session, enterprise, fund, nature="shareholding")
    revision = confirm(session, file(session, enterprise, dt.date(2025, 1, 1), "10000.00"))
    pay(session, revision.report, "100.00")
    from fundapp.ledger.services import reverse_entry

    wrong = post(session, fund, "12.00", date=local_today())
    reverse_entry(session, wrong, reason="Posted twice", actor=None)


LISTS = {
    "/funds": "FundPage", "/donations": "DonationPage", "/grants": "GrantPage", "/enterprises": "EnterprisePage",
    "/corrections": "CorrectionPage", "/statements": "StatementYears", "/ledger/head": "LedgerHead",
    "/ledger/entries": "LedgerEntries", "/grants/360giving.json": "Giving360Package",
}


def test_real_responses_validate_against_their_schemas(client, app_ctx, spec):
    with app_ctx() as s:
        build(s)
        s.commit()
    for path, schema in LISTS.items():
        documented = spec["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
        assert documented == {"$ref": f"#/components/schemas/{schema}"}
        body = client.get(PREFIX + path).get_json()
        Draft202012Validator({"$ref": documented["$ref"], **spec}).validate(body)
        if "items" in body and path != "/statements":
            assert body["items"], f"{path} returned no items: the test would prove nothing"
    details = {"/funds/{code}": ("FundDetail", "/funds", "code"),
               "/grants/{award_id}": ("GrantDetail", "/grants", "id"),
               "/enterprises/{enterprise_id}": ("EnterpriseDetail", "/enterprises", "id")}
    for path, (schema, listing, key) in details.items():
        first = client.get(PREFIX + listing).get_json()["items"][0]
        url = PREFIX + re.sub(r"\{[^}]+\}", str(first[key]), path)
        response = client.get(url)
        assert response.status_code == 200, url
        Draft202012Validator({"$ref": f"#/components/schemas/{schema}", **spec}).validate(response.get_json())
    year = client.get(PREFIX + "/statements").get_json()["items"][0]["year"]
    Draft202012Validator({"$ref": "#/components/schemas/Statements", **spec}).validate(
        client.get(f"{PREFIX}/statements/{year}").get_json())


def test_a_wrong_field_fails_validation(spec):
    """The schemas are closed: a response with an undocumented field or a float amount does not validate."""
    validator = Draft202012Validator({"$ref": "#/components/schemas/Correction", **spec})
    good = {"kind": next(iter(spec["components"]["schemas"]["Correction"]["properties"]["kind"]["enum"])), "id": 1,
            "date": "2026-01-02", "reason": "r", "subject": "s", "amount": "1.00", "old_amount": None, "fund": None,
            "donor": None, "entry_seq": 3, "reverses_seq": 2}
    validator.validate(good)
    assert not validator.is_valid({**good, "extra": 1})
    assert not validator.is_valid({**good, "amount": 1.0})


def test_open_data_page_lists_every_public_endpoint_and_csv(client, app):
    response = client.get("/public/data")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    for path in api_paths(app):
        assert f"{PREFIX}{path}" in html, path
    csvs = [re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule) for rule in app.url_map.iter_rules()
            if rule.rule.startswith("/public/") and rule.rule.endswith(".csv")]
    assert csvs and all(path in html for path in csvs)
    assert 'href="/api/v1/openapi.json"' in html and "CC BY 4.0" in html
    assert 'href="/api/v1/ledger/head"' in html


def test_documented_not_found_bodies_validate(client, spec):
    for path, item in spec["paths"].items():
        missing = item["get"]["responses"].get("404")
        if missing is None:
            continue
        response = client.get(PREFIX + re.sub(r"\{[^}]+\}", "987654", path))
        assert response.status_code == 404, path
        if missing.get("$ref") == "#/components/responses/NotFound":
            Draft202012Validator({"$ref": "#/components/schemas/Error", **spec}).validate(response.get_json())
