"""Grants in the 360Giving Data Standard: /api/v1/grants/360giving.json and /api/v1/grants/360giving.csv.

One grant per award, every grant made, as /public/grants lists them: 360Giving names the programme, never the
fund, so a grant from a fund that is not public shows nothing of that fund. The package
follows fundapp/api/schemas/360giving/360-giving-package-schema.json (validated in tests/unit/test_giving360.py).

- Grant ids are "<GIVING360_PREFIX>-<award number>". The default prefix "360G-fundapp" is a placeholder: a real
  foundation registers its own prefix with 360Giving and sets GIVING360_PREFIX.
- Organisation ids are "CN-USCC-<统一社会信用代码>" (a documented local choice for the Unified Social Credit
  Code; check org-id.guide for the scheme code it lists for China before publishing to 360Giving). The funder
  uses FOUNDATION_REG_NO the same way, or the grant prefix when that is not configured.
- Amounts are money: `dumps` writes each Decimal's exact digits as a JSON number ("12345.67"), never via float.
- Only public facts: award title, the submitted application's summary, dates, organisation name and code,
  programme. No contact names, phones, emails, addresses or bank details.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from decimal import Decimal

from flask import Response, current_app
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from fundapp import csvexport
from fundapp.api.views import bp
from fundapp.auth.decorators import public
from fundapp.extensions import db
from fundapp.grants.models import Application, Award

ORG_ID_SCHEME = "CN-USCC"
CURRENCY = "CNY"
CSV_COLUMNS = ("Identifier", "Title", "Description", "Currency", "Amount Awarded", "Award Date",
               "Planned Dates:Start Date", "Planned Dates:End Date",
               "Recipient Org:Identifier", "Recipient Org:Name", "Funding Org:Identifier", "Funding Org:Name",
               "Grant Programme:Code", "Grant Programme:Title", "Last Modified")


def dumps(value: object) -> str:
    """JSON text in which a Decimal is a number with exactly its own digits (json's encoder would need float)."""
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError("not a finite amount")
        return format(value, "f")
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(str(k), ensure_ascii=False)}: {dumps(v)}"
                               for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(dumps(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False)


def org_id(reg_no: str) -> str:
    return f"{ORG_ID_SCHEME}-{reg_no.strip()}"


def funder() -> dict:
    config = current_app.config
    reg_no = (config.get("FOUNDATION_REG_NO") or "").strip()
    return {"id": org_id(reg_no) if reg_no else config["GIVING360_PREFIX"],
            "name": config.get("FOUNDATION_NAME") or config["GIVING360_PREFIX"]}


def _iso(moment: dt.datetime) -> str:
    if moment.tzinfo is None:  # SQLite hands back naive UTC
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.isoformat(timespec="seconds")


def public_awards(session) -> list[Award]:
    return list(session.scalars(
        select(Award)
        .options(selectinload(Award.application).selectinload(Application.versions),
                 selectinload(Award.decision), selectinload(Award.programme))
        .order_by(Award.id)))


def grant(award: Award, funding: dict) -> dict:
    application = award.application
    version = application.latest_submitted or application.current
    modified = max(award.created_at, application.updated_at, award.decision.decided_at)
    item: dict = {
        "id": f"{current_app.config['GIVING360_PREFIX']}-{award.number}",
        "title": award.title,
        "description": version.summary or award.title,
        "currency": CURRENCY,
        "amountAwarded": award.amount.quantize(Decimal("0.01")),
        "awardDate": award.decision.decided_on.isoformat(),
    }
    if version.starts_on or version.ends_on:
        dates = {}
        if version.starts_on:
            dates["startDate"] = version.starts_on.isoformat()
        if version.ends_on:
            dates["endDate"] = version.ends_on.isoformat()
        item["plannedDates"] = [dates]
    item["recipientOrganization"] = [{"id": org_id(award.organisation.reg_no), "name": award.organisation.name}]
    item["fundingOrganization"] = [funding]
    item["grantProgramme"] = [{"code": award.programme.code, "title": award.programme.title}]
    item["dateModified"] = _iso(modified)
    return item


def package(session) -> dict:
    """{"grants": [...]}. With no public awards the list is empty (the schema wants at least one grant)."""
    funding = funder()
    return {"grants": [grant(award, funding) for award in public_awards(session)]}


def csv_row(item: dict) -> list[object]:
    dates = (item.get("plannedDates") or [{}])[0]
    recipient, funding = item["recipientOrganization"][0], item["fundingOrganization"][0]
    programme = item["grantProgramme"][0]
    return [item["id"], item["title"], item["description"], item["currency"], item["amountAwarded"],
            item["awardDate"], dates.get("startDate"), dates.get("endDate"), recipient["id"], recipient["name"],
            funding["id"], funding["name"], programme["code"], programme["title"], item["dateModified"]]


@bp.get("/grants/360giving.json")
@public
def grants_360giving_json():
    response = Response(dumps(package(db.session)), content_type="application/json; charset=utf-8")
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@bp.get("/grants/360giving.csv")
@public
def grants_360giving_csv():
    items = package(db.session)["grants"]

    def lines() -> Iterator[str]:
        yield csvexport.line(CSV_COLUMNS)
        for item in items:
            yield csvexport.line(csv_row(item))

    response = csvexport.response(lines(), "360giving.csv")
    response.headers["Cache-Control"] = "public, max-age=300"
    return response
