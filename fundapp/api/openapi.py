"""/api/v1/openapi.json: the OpenAPI 3.1 document of the whole public API, written here as Python data.

Every route under /api/v1 is described: its path, its query parameters (an unknown one is a 400), its responses
and their schemas (JSON Schema 2020-12, as OpenAPI 3.1 uses). Item schemas are closed (`additionalProperties:
false`) and list every field as required, so tests/disclosure/test_openapi.py notices when a route returns a field
the document does not describe, and a new route under /api/v1 without an entry here fails that test too.
Allowed values of filters (fund types, methods, sorts, statuses, kinds) are read from the modules that check them.
"""

from __future__ import annotations

from flask import jsonify, request

from fundapp.api.views import DEFAULT_PER_PAGE, MAX_PER_PAGE, bp
from fundapp.auth.decorators import public
from fundapp.disclosure import donations as gifts
from fundapp.disclosure import grants as grant_list
from fundapp.disclosure.corrections import KINDS as CORRECTION_KINDS
from fundapp.disclosure.home import DATA_LICENCE, DATA_LICENCE_URL
from fundapp.ledger.models import FundType

VERSION = "1.0.0"
REF = "#/components/schemas/"

# --- schema helpers -------------------------------------------------------------------------------------------------

MONEY = {"type": "string", "pattern": r"^-?[0-9]+\.[0-9]{2}$", "description": "An exact amount in yuan, two decimals.",
         "examples": ["1234.50"]}
DATE = {"type": "string", "format": "date"}
URI = {"type": "string", "format": "uri"}
TEXT = {"type": "string"}
INT = {"type": "integer"}
BOOL = {"type": "boolean"}


def ref(name: str) -> dict:
    return {"$ref": REF + name}


def nullable(schema: dict) -> dict:
    return {"anyOf": [schema, {"type": "null"}]}


def array(items: dict) -> dict:
    return {"type": "array", "items": items}


def obj(properties: dict, description: str = "") -> dict:
    """A closed object whose every property is required (a value may still be null where its schema says so)."""
    schema = {"type": "object", "properties": properties, "required": list(properties),
              "additionalProperties": False}
    if description:
        schema["description"] = description
    return schema


def enum(values, description: str = "") -> dict:
    schema = {"type": "string", "enum": list(values)}
    if description:
        schema["description"] = description
    return schema


# --- components -----------------------------------------------------------------------------------------------------

FUND = obj({
    "code": TEXT, "name": TEXT, "type": enum(t.value for t in FundType), "restriction": TEXT, "purpose": TEXT,
    "status": TEXT, "balance": MONEY, "income_this_year": MONEY, "spending_this_year": MONEY, "url": URI,
}, "A public fund: balance = its net assets today; income and spending of this year so far.")
FUND_DETAIL = {**FUND, "properties": {**FUND["properties"], "monthly": array(obj(
    {"month": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}$"}, "income": MONEY, "spending": MONEY}))},
    "required": [*FUND["required"], "monthly"]}

CORRECTION_NOTE = nullable(obj({"reason": TEXT, "date": nullable(DATE)}))
DONATION = obj({
    "id": INT, "date": DATE, "donor": TEXT, "anonymous": BOOL, "amount": MONEY, "fund": TEXT, "fund_name": TEXT,
    "method": enum(gifts.METHODS),
    "in_kind": nullable(obj({"item": nullable(TEXT), "quantity": {"type": ["string", "number", "null"]},
                             "unit": nullable(TEXT), "valuation_basis": nullable(TEXT)})),
    "purpose": nullable(TEXT), "status": TEXT, "correction": CORRECTION_NOTE, "corrects": nullable(INT),
    "corrected_by": nullable(INT),
}, "A gift to a public fund. `donor` is the public name (anonymous when the donor asked).")

GRANT = obj({
    "id": INT, "number": TEXT, "title": TEXT, "organisation": TEXT, "programme": TEXT, "programme_code": TEXT,
    "fund": nullable(TEXT), "fund_name": TEXT, "amount": MONEY, "decided_on": nullable(DATE), "paid": MONEY,
    "status": enum(grant_list.STATUSES), "reports_count": INT, "url": URI,
}, "A grant (award). `fund` is null for a fund that is not public (then `fund_name` is \"Other funds\").")
REPORT = obj({
    "kind": TEXT, "period_start": nullable(DATE), "period_end": nullable(DATE), "accepted_on": nullable(DATE),
    "narrative": TEXT, "outputs": TEXT, "beneficiaries_reached": INT,
    "spending": array(obj({"category": TEXT, "item": TEXT, "amount": nullable(MONEY)})),
    "spent": nullable(MONEY), "unspent": nullable(MONEY),
})
GRANT_DETAIL = {**GRANT, "properties": {
    **GRANT["properties"],
    "public_summary": nullable(TEXT),
    "project": obj({"summary": nullable(TEXT), "community": nullable(TEXT), "starts_on": nullable(DATE),
                    "ends_on": nullable(DATE), "beneficiaries_planned": nullable(INT)}),
    "outstanding": nullable(MONEY),
    "tranches": array(obj({"seq": INT, "due_on": nullable(DATE), "milestone": nullable(TEXT), "amount": MONEY,
                           "status": TEXT})),
    "payments": array(obj({"tranche": nullable(INT), "paid_on": nullable(DATE), "amount": MONEY,
                           "reversed": nullable(obj({"on": nullable(DATE), "reason": nullable(TEXT)}))})),
    "reports": array(ref("GrantReport")),
    "close_out": nullable(obj({"closed_on": nullable(DATE), "released": nullable(MONEY),
                               "returned": nullable(MONEY), "returned_on": nullable(DATE)})),
}}
GRANT_DETAIL["required"] = list(GRANT_DETAIL["properties"])

RETURNS = {"share_due": MONEY, "paid": MONEY, "outstanding": MONEY, "received": MONEY,
           "returns": array(obj({"fund": nullable(TEXT), "fund_name": TEXT, "amount": MONEY}))}
ENTERPRISE = obj({"id": INT, "name": TEXT, "sector": TEXT, "community": TEXT, "status": TEXT, **RETURNS, "url": URI},
                 "A community social enterprise and what it returned (in `year` when that filter is given).")
ENTERPRISE_DETAIL = obj({
    "id": INT, "name": TEXT, "sector": TEXT, "community": TEXT, "status": TEXT, **RETURNS,
    "agreements": array(obj({"version": INT, "effective_from": DATE, "ends_on": nullable(DATE), "basis": TEXT,
                             "periodicity": TEXT, "fund": nullable(TEXT), "fund_name": TEXT,
                             "rates": array(obj({"from": MONEY, "percent": {"type": ["string", "number"]}}))})),
    "reports": array(obj({"period": TEXT, "start": DATE, "end": DATE, "due_on": DATE, "share_due": MONEY,
                          "paid": MONEY, "outstanding": MONEY,
                          "corrections": array(obj({"old_share": MONEY, "new_share": MONEY, "reason": TEXT,
                                                    "date": DATE}))})),
    "payments": array(obj({"date": DATE, "amount": MONEY, "period": nullable(TEXT), "fund": nullable(TEXT),
                           "fund_name": TEXT, "status": TEXT, "correction": CORRECTION_NOTE})),
})

CHECK = obj({"value": TEXT, "ratio": nullable(TEXT), "threshold": TEXT, "bound": TEXT, "status": TEXT,
             "passes": BOOL, "numerator": MONEY, "denominator": nullable(MONEY)})
STATEMENT = obj({
    "kind": TEXT, "title": TEXT, "title_en": TEXT, "form_code": TEXT, "period": TEXT,
    "columns": array(obj({"key": TEXT, "name": TEXT, "name_en": TEXT, "group": TEXT, "dates": TEXT})),
    "rows": array(obj({"key": TEXT, "name": TEXT, "name_en": TEXT, "line": nullable(INT), "style": TEXT,
                       "values": {"type": "object", "additionalProperties": MONEY}})),
    "problems": array(TEXT),
}, "One statement (资产负债表, 业务活动表 or 现金流量表) of the whole foundation; values keyed by column key.")
STATEMENTS = obj({"year": INT, "unit": enum(["CNY"]), "statements": array(ref("Statement")),
                  "ratios": obj({"year": INT, "projected": BOOL, "as_of": DATE, "charitable_spending": ref("Check"),
                                 "management_costs": ref("Check")})})
STATEMENT_YEARS = obj({"items": array(obj({"year": INT, "statements": URI, "page": URI,
                                            "annual_report": nullable(URI)}))})
CORRECTION = obj({
    "kind": enum(CORRECTION_KINDS), "id": INT, "date": DATE, "reason": TEXT, "subject": TEXT,
    "amount": nullable(MONEY), "old_amount": nullable(MONEY), "fund": nullable(TEXT), "donor": nullable(TEXT),
    "entry_seq": nullable(INT), "reverses_seq": nullable(INT),
}, "A published correction, with its explanation.")

HASH = {"type": "string", "pattern": "^[0-9a-f]{64}$"}
LEDGER_HEAD = obj({"seq": INT, "hash": HASH, "entries": INT, "as_of": {"type": "string", "format": "date-time"}},
                  "The head of the hash chain: recompute it from /ledger/entries to verify the books.")
LEDGER_ENTRY = obj({
    "seq": INT, "date": DATE, "memo": TEXT, "source": TEXT, "key": TEXT, "reverses": nullable(INT),
    "lines": array(obj({"account": TEXT, "fund": TEXT, "class": TEXT, "amount": MONEY})),
    "prev_hash": HASH, "hash": HASH,
}, "An entry in exactly the form its hash covers (docs/ledger-hash.md).")
LEDGER_ENTRIES = obj({"entries": array(ref("LedgerEntry")), "next": nullable(URI)})
GIVING360 = {"type": "object", "required": ["grants"], "properties": {"grants": array({"type": "object"})},
             "description": "A 360Giving Data Standard package (amounts are JSON numbers there, per the standard)."}
HOURS = {"type": "string", "pattern": r"^[0-9]+\.[0-9]{2}$", "description": "Hours (or points), two decimals.",
         "examples": ["2.50"]}
VOLUNTEER_TOTALS = {"hours": HOURS, "volunteers": INT, "people_served": INT, "activities": INT}
VOLUNTEER_GROUP = obj({"label": TEXT, "hours": HOURS, "volunteers": INT, "people_served": INT})
VOLUNTEER_SERVICE = obj({
    "year": nullable(INT), "this_year": obj({"year": INT, **VOLUNTEER_TOTALS}), "all_time": obj(VOLUNTEER_TOTALS),
    "projects": array(obj({**VOLUNTEER_GROUP["properties"], "grant": nullable(URI)})),
    "communities": array(VOLUNTEER_GROUP), "top_activities": array(VOLUNTEER_GROUP),
    "rewards_redeemed": array(obj({"reward": TEXT, "given_by": TEXT, "quantity": INT, "points": HOURS})),
    "honour_roll": obj({"named": array(obj({"name": TEXT, "hours": HOURS})), "others": INT, "others_hours": HOURS}),
    "page": URI,
}, "Verified volunteer hours (in `year`, or all time when it is null) by project, community and activity; rewards "
   "exchanged for points; volunteers named only with their consent, the others counted.")
ERROR = obj({"error": TEXT, "message": TEXT}, "A refused request: `error` is a code (bad_request, not_found).")


def paged_schema(item: str) -> dict:
    return obj({"items": array(ref(item)), "page": {"type": "integer", "minimum": 1},
                "per_page": {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE},
                "total": {"type": "integer", "minimum": 0}, "pages": {"type": "integer", "minimum": 1},
                "next": nullable(URI), "prev": nullable(URI)},
               f"One page of {item} items, with the total and links to the neighbouring pages.")


SCHEMAS = {
    "Error": ERROR, "Fund": FUND, "FundDetail": FUND_DETAIL, "FundPage": paged_schema("Fund"),
    "Donation": DONATION, "DonationPage": paged_schema("Donation"),
    "Grant": GRANT, "GrantReport": REPORT, "GrantDetail": GRANT_DETAIL, "GrantPage": paged_schema("Grant"),
    "Enterprise": ENTERPRISE, "EnterpriseDetail": ENTERPRISE_DETAIL, "EnterprisePage": paged_schema("Enterprise"),
    "StatementYears": STATEMENT_YEARS, "Statement": STATEMENT, "Check": CHECK, "Statements": STATEMENTS,
    "Correction": CORRECTION, "CorrectionPage": paged_schema("Correction"),
    "LedgerHead": LEDGER_HEAD, "LedgerEntry": LEDGER_ENTRY, "LedgerEntries": LEDGER_ENTRIES,
    "Giving360Package": GIVING360, "VolunteerService": VOLUNTEER_SERVICE,
}


def query(name: str, schema: dict, description: str) -> dict:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}


def path_param(name: str, schema: dict, description: str) -> dict:
    return {"name": name, "in": "path", "required": True, "schema": schema, "description": description}


PARAMETERS = {
    "page": query("page", {"type": "integer", "minimum": 1, "maximum": 1_000_000, "default": 1}, "Page number."),
    "per_page": query("per_page", {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE,
                                   "default": DEFAULT_PER_PAGE}, "Items per page."),
}
PAGING = [{"$ref": "#/components/parameters/page"}, {"$ref": "#/components/parameters/per_page"}]


def year_param(low: int = 1900, high: int = 9999, description: str = "Only this calendar year.") -> dict:
    return query("year", {"type": "integer", "minimum": low, "maximum": high}, description)



def json_response(schema: str, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": ref(schema)}}}


BAD_REQUEST = {"$ref": "#/components/responses/BadRequest"}
NOT_FOUND = {"$ref": "#/components/responses/NotFound"}
RESPONSES = {
    "BadRequest": json_response("Error", "A parameter is unknown or has a value the API cannot use."),
    "NotFound": json_response("Error", "No such public object."),
}


def get(operation_id: str, summary: str, tag: str, ok: dict, parameters: list | None = None, *,
        not_found: bool = False, checked: bool = True, description: str = "") -> dict:
    """A GET operation. `checked`: the route refuses unknown parameters (400); `not_found`: it may answer 404."""
    responses = {"200": ok, "400": BAD_REQUEST} if checked else {"200": ok}
    if not_found:
        responses["404"] = NOT_FOUND
    operation = {"operationId": operation_id, "summary": summary, "tags": [tag], "parameters": parameters or [],
                 "responses": responses}
    if description:
        operation["description"] = description
    return {"get": operation}


PATHS = {
    "/funds": get("listFunds", "Public funds", "funds", json_response("FundPage", "A page of public funds."), [
        query("q", {"type": "string", "maxLength": 100}, "Search in the fund's code and name."),
        query("type", enum(t.value for t in FundType), "Only funds of this type."), *PAGING]),
    "/funds/{code}": get("getFund", "One public fund, with its monthly income and spending", "funds",
                         json_response("FundDetail", "The fund."),
                         [path_param("code", TEXT, "The fund's code.")], not_found=True),
    "/donations": get("listDonations", "Gifts to public funds", "donations",
                      json_response("DonationPage", "A page of gifts."), [
                          query("q", {"type": "string", "maxLength": gifts.TEXT_MAX},
                                "Search the donor's public name, the purpose and the fund's name."),
                          query("fund", TEXT, "A public fund's code."), year_param(),
                          query("method", enum(gifts.METHODS), "How the gift was made."),
                          query("sort", {**enum(gifts.SORTS), "default": "-date"},
                                "Order: date or amount, `-` for descending."), *PAGING]),
    "/grants": get("listGrants", "Grants made", "grants", json_response("GrantPage", "A page of grants."), [
        query("q", {"type": "string", "maxLength": grant_list.Q_MAX},
              "Search the grant's title and the organisation's name."),
        query("programme", TEXT, "A programme's code."), query("fund", TEXT, "A public fund's code."),
        year_param(1, 9998, "Only grants decided in this calendar year."),
        query("status", enum(grant_list.STATUSES), "Award status."),
        query("sort", {**enum(grant_list.SORTS), "default": grant_list.DEFAULT_SORT},
              "Order: date or amount, `-` for descending."), *PAGING]),
    "/grants/{award_id}": get("getGrant", "One grant with its tranches, payments and public reports", "grants",
                              json_response("GrantDetail", "The grant."),
                              [path_param("award_id", INT, "The award's id (`id` in the list).")], not_found=True),
    "/grants/360giving.json": get(
        "grants360GivingJson", "Grants in the 360Giving Data Standard (JSON)", "grants",
        json_response("Giving360Package", "A 360Giving package of the grants from public funds."), checked=False,
        description="See https://standard.threesixtygiving.org/ for the full schema."),
    "/grants/360giving.csv": get(
        "grants360GivingCsv", "Grants in the 360Giving Data Standard (CSV)", "grants",
        {"description": "One row per grant, 360Giving column titles.",
         "content": {"text/csv": {"schema": {"type": "string"}}}}, checked=False),
    "/enterprises": get("listEnterprises", "Community social enterprises and their returns", "enterprises",
                        json_response("EnterprisePage", "A page of enterprises."), [
                            query("q", {"type": "string", "maxLength": 200}, "Search name, sector and community."),
                            year_param(description="Returns of this calendar year only."), *PAGING]),
    "/enterprises/{enterprise_id}": get(
        "getEnterprise", "One enterprise: agreements, shares per period with corrections, payments", "enterprises",
        json_response("EnterpriseDetail", "The enterprise."),
        [path_param("enterprise_id", INT, "The enterprise's id.")], not_found=True),
    "/statements": get("listStatementYears", "The years with financial statements", "financial",
                       json_response("StatementYears", "Every year the books cover.")),
    "/statements/{year}": get("getStatements", "A year's statements and statutory ratios", "financial",
                              json_response("Statements", "The statements of the whole foundation."),
                              [path_param("year", INT, "Calendar year.")], not_found=True),
    "/corrections": get("listCorrections", "Published corrections", "financial",
                        json_response("CorrectionPage", "A page of corrections."), [
                            query("kind", enum(CORRECTION_KINDS), "Only corrections of this kind."),
                            year_param(), *PAGING]),
    "/ledger/head": get("getLedgerHead", "The head of the ledger's hash chain", "ledger",
                        json_response("LedgerHead", "The latest entry's number and hash."), checked=False),
    "/ledger/entries": get("listLedgerEntries", "Posted entries in chain order, to recompute the hashes", "ledger",
                           json_response("LedgerEntries", "Entries after `after`, at most `limit`."), [
                               query("after", {"type": "integer", "minimum": 0, "default": 0},
                                     "Entries with a greater sequence number."),
                               query("limit", {"type": "integer", "minimum": 1, "maximum": 1000, "default": 500},
                                     "At most this many entries.")]),
    "/volunteers": get("getVolunteerService", "Volunteer service: hours, projects, rewards, honour roll", "volunteers",
                       json_response("VolunteerService", "The figures of the public volunteer page."),
                       [year_param(description="Only this calendar year (up to this year); all time without it.")]),
    "/openapi.json": get("getOpenApi", "The OpenAPI 3.1 document of this API", "meta",
                         {"description": "This document.",
                          "content": {"application/json": {"schema": {"type": "object"}}}}, checked=False),
}


def document() -> dict:
    return {
        "openapi": "3.1.0",
        "jsonSchemaDialect": "https://spec.openapis.org/oas/3.1/dialect/base",
        "info": {
            "title": "Community foundation open data API", "version": VERSION,
            "description": ("Read-only, public JSON about the foundation's funds, gifts, grants, social enterprises, "
                            "statements and corrections, and its verifiable ledger. No login; no personal data. "
                            "Money is a string with two decimals. An unknown parameter or a value the API cannot "
                            "use is answered with 400 and an Error body."),
            "license": {"name": DATA_LICENCE, "url": DATA_LICENCE_URL},
        },
        "servers": [{"url": request.url_root.rstrip("/") + "/api/v1"}],
        "paths": PATHS,
        "components": {"schemas": SCHEMAS, "parameters": PARAMETERS, "responses": RESPONSES},
    }


@bp.get("/openapi.json")
@public
def openapi():
    response = jsonify(document())
    response.headers["Cache-Control"] = "public, max-age=300"
    return response
