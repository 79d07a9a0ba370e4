"""The 360Giving export: valid against the standard's schemas (copied into the repo, resolved offline), one grant
per grant made (as on /public/grants; a fund that is not public is never named), exact amount digits in the JSON
text, the flat CSV, and no contact data."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import pytest
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from fundapp.api import giving360
from tests.grants_builders import funded_fund, make_award, make_organisation

SCHEMAS = Path(__file__).resolve().parents[2] / "fundapp" / "api" / "schemas" / "360giving"
GRANT_1_4_2 = "https://raw.githubusercontent.com/ThreeSixtyGiving/standard/1.4.2/schema/360-giving-schema.json"
PHONE = "13800138000"
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")

# The schema's dates are `oneOf` a "date-time" format or a YYYY-MM-DD pattern: without asserting the format a plain
# date would match both branches and fail. jsonschema checks date-time only with an optional package, so this
# checker asserts RFC 3339 date-times itself (as the standard's own validator does).
FORMATS = FormatChecker(formats=())


@FORMATS.checks("date-time", raises=ValueError)
def _is_date_time(value: object) -> bool:
    if not isinstance(value, str) or not RFC3339.match(value):
        return False
    dt.datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
    return True


def validator() -> Draft202012Validator:
    package = json.loads((SCHEMAS / "360-giving-package-schema.json").read_text(encoding="utf-8"))
    grant = json.loads((SCHEMAS / "360-giving-schema.json").read_text(encoding="utf-8"))
    # The files say "$schema": "http://json-schema.org/draft/2020-12/schema" (http, which `referencing` does not
    # recognise), so the dialect is named here.
    resource = DRAFT202012.create_resource(grant)
    # The package schema refers to the grant schema of 1.4.2 by URL; serve the local copy for it (no network).
    registry = Registry().with_resources([(grant["$id"], resource), (GRANT_1_4_2, resource)])
    return Draft202012Validator(package, registry=registry, format_checker=FORMATS)


def awards(app_ctx) -> dict:
    with app_ctx() as s:
        org = make_organisation(s, name="Sunrise Elder Care")
        org.contact_phone = PHONE
        org.address = "Secret Street 9"
        shown = make_award(s, "12345.67", organisation=org)
        hidden_fund = funded_fund(s)
        hidden_fund.is_public = False
        hidden = make_award(s, "777.01", fund=hidden_fund)
        s.commit()
        return {"shown": shown.number, "hidden": hidden.number, "reg_no": org.reg_no,
                "hidden_fund": [hidden_fund.code, hidden_fund.name],
                "programme": (shown.programme.code, shown.programme.title), "title": shown.title,
                "private": [org.contact_email, org.contact_name, PHONE, org.address, org.bank_account_no,
                            hidden.organisation.contact_email, hidden.organisation.bank_account_no]}


def test_json_is_valid_360giving_with_exact_amounts_and_every_grant_made(client, app_ctx):
    made = awards(app_ctx)
    response = client.get("/api/v1/grants/360giving.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    text = response.get_data(as_text=True)
    assert '"amountAwarded": 12345.67' in text
    data = json.loads(text, parse_float=Decimal)
    errors = [error.message for error in validator().iter_errors(data)]
    assert errors == []
    # every grant made is listed, as on /public/grants; a fund that is not public is never named
    grant, other = data["grants"]
    assert other["id"] == f"360G-fundapp-{made['hidden']}" and other["amountAwarded"] == Decimal("777.01")
    for secret in made["hidden_fund"]:
        assert secret not in text
    assert grant["id"] == f"360G-fundapp-{made['shown']}"
    assert grant["amountAwarded"] == Decimal("12345.67")
    assert grant["currency"] == "CNY"
    assert grant["title"] == made["title"] and grant["description"] == "Summary"
    assert grant["recipientOrganization"] == [{"id": f"CN-USCC-{made['reg_no']}", "name": "Sunrise Elder Care"}]
    assert grant["grantProgramme"] == [{"code": made["programme"][0], "title": made["programme"][1]}]
    dt.date.fromisoformat(grant["awardDate"])
    assert dt.datetime.fromisoformat(grant["dateModified"]).tzinfo is not None
    for private in made["private"]:
        assert private and private not in text
    assert "@" not in text


def test_invalid_output_would_fail_the_schema():
    """The validator really checks: a grant without a recipient, or with a text amount, is refused."""
    grant = {"id": "360G-x-1", "title": "t", "description": "d", "currency": "CNY", "amountAwarded": "10.00",
             "awardDate": "2026-01-01", "fundingOrganization": [{"id": "X", "name": "F"}]}
    assert list(validator().iter_errors({"grants": [grant]}))
    fixed = grant | {"amountAwarded": Decimal("10.00"), "recipientOrganization": [{"id": "Y", "name": "R"}]}
    assert list(validator().iter_errors({"grants": [fixed]})) == []
    assert list(validator().iter_errors({"grants": [fixed | {"dateModified": "2026-01-01"}]}))
    assert list(validator().iter_errors({"grants": [fixed | {"dateModified": "2026-13-01T00:00:00Z"}]}))


def test_planned_dates_and_prefix_and_funder_from_config(app):
    version = SimpleNamespace(summary="", starts_on=dt.date(2026, 3, 1), ends_on=dt.date(2027, 2, 28))
    moment = dt.datetime(2026, 2, 1, 8, 0)
    award = SimpleNamespace(
        number="G2026-0009", title="Reading corner", amount=Decimal("1000000.5"), created_at=moment,
        application=SimpleNamespace(latest_submitted=version, current=version, updated_at=moment),
        decision=SimpleNamespace(decided_on=dt.date(2026, 2, 1), decided_at=moment),
        organisation=SimpleNamespace(reg_no="52110000MJ00000001", name="Org"),
        programme=SimpleNamespace(code="P1", title="Libraries"))
    with app.test_request_context():
        saved = {k: app.config.get(k) for k in ("GIVING360_PREFIX", "FOUNDATION_REG_NO", "FOUNDATION_NAME")}
        app.config.update(GIVING360_PREFIX="360G-example", FOUNDATION_REG_NO="53110000500000000X",
                          FOUNDATION_NAME="某某社区基金会")
        try:
            item = giving360.grant(award, giving360.funder())
        finally:
            app.config.update(saved)
    assert item["id"] == "360G-example-G2026-0009"
    assert item["description"] == "Reading corner"  # an empty summary falls back to the title
    assert item["plannedDates"] == [{"startDate": "2026-03-01", "endDate": "2027-02-28"}]
    assert item["fundingOrganization"] == [{"id": "CN-USCC-53110000500000000X", "name": "某某社区基金会"}]
    text = giving360.dumps({"grants": [item]})
    assert '"amountAwarded": 1000000.50' in text and "某某社区基金会" in text
    assert list(validator().iter_errors(json.loads(text, parse_float=Decimal))) == []


@pytest.mark.parametrize("value", [Decimal("NaN"), Decimal("Infinity")])
def test_dumps_refuses_non_finite_amounts(value):
    with pytest.raises(ValueError):
        giving360.dumps({"amount": value})


def test_csv_has_360giving_columns_and_the_public_row(client, app_ctx):
    made = awards(app_ctx)
    response = client.get("/api/v1/grants/360giving.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    text = response.get_data(as_text=True).lstrip("\ufeff")
    rows = list(csv.reader(io.StringIO(text)))
    header = rows[0]
    for column in ("Identifier", "Title", "Description", "Currency", "Amount Awarded", "Award Date",
                   "Recipient Org:Identifier", "Recipient Org:Name", "Funding Org:Identifier", "Funding Org:Name",
                   "Grant Programme:Code", "Grant Programme:Title"):
        assert column in header
    assert len(rows) == 3
    row = dict(zip(header, rows[1], strict=True))
    assert row["Identifier"] == f"360G-fundapp-{made['shown']}"
    assert row["Amount Awarded"] == "12345.67"
    assert row["Currency"] == "CNY"
    assert row["Recipient Org:Identifier"] == f"CN-USCC-{made['reg_no']}"
    assert row["Recipient Org:Name"] == "Sunrise Elder Care"
    assert row["Grant Programme:Code"] == made["programme"][0]
    for private in made["private"]:
        assert private not in text
    assert rows[2][0] == f"360G-fundapp-{made['hidden']}" and "@" not in text
    for secret in made["hidden_fund"]:
        assert secret not in text


def test_empty_export_is_well_formed(client):
    assert client.get("/api/v1/grants/360giving.json").get_json() == {"grants": []}
    rows = list(csv.reader(io.StringIO(client.get("/api/v1/grants/360giving.csv").get_data(as_text=True))))
    assert len(rows) == 1
