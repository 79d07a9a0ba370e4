"""Public funds as open data: /api/v1/funds (paginated, filters `q` and `type`) and /api/v1/funds/<code>.

The same figures as the public fund pages (fundapp.disclosure.funds). Only public funds; a hidden or unknown
fund is a 404 in JSON. Money is a string with two decimals.
"""

from __future__ import annotations

from decimal import Decimal

from flask import jsonify, request, url_for

from fundapp.api.views import BadParameter, bp, check_params, not_found, page_args, paged
from fundapp.auth.decorators import public
from fundapp.dates import local_today
from fundapp.disclosure.funds import (
    PublicFund,
    account_types,
    find_public_fund,
    list_public_funds,
    monthly_flows,
    public_fund_figures,
)
from fundapp.extensions import db
from fundapp.ledger.models import FundType

LIST_PARAMS = frozenset({"page", "per_page", "q", "type"})
MAX_QUERY = 100


def money(value: Decimal) -> str:
    return f"{value:.2f}"


def fund_item(row: PublicFund) -> dict:
    return {"code": row.code, "name": row.name, "type": row.fund_type, "restriction": row.restriction,
            "purpose": row.purpose, "status": row.status, "balance": money(row.balance),
            "income_this_year": money(row.income), "spending_this_year": money(row.spending),
            "url": url_for("disclosure.fund", code=row.code, _external=True)}


def list_filters(args) -> dict:
    text = (args.get("q") or "").strip()
    if len(text) > MAX_QUERY:
        raise BadParameter(f"'q' must be at most {MAX_QUERY} characters")
    fund_type = args.get("type") or None
    if fund_type is not None and fund_type not in {t.value for t in FundType}:
        raise BadParameter(f"'type' must be one of: {', '.join(t.value for t in FundType)}")
    return {"text": text or None, "fund_type": fund_type}


@bp.get("/funds")
@public
def funds():
    check_params(request.args, LIST_PARAMS)
    page, per_page = page_args(request.args)
    filters = list_filters(request.args)
    rows = list_public_funds(db.session, local_today(), **filters).rows
    items = [fund_item(row) for row in rows[(page - 1) * per_page:page * per_page]]
    values = {key: value for key, value in (("q", filters["text"]), ("type", filters["fund_type"])) if value}
    return paged(items, page=page, per_page=per_page, total=len(rows), endpoint="api.funds", **values)


@bp.get("/funds/<code>")
@public
def fund(code: str):
    check_params(request.args, frozenset())
    found = find_public_fund(db.session, code)
    if found is None:
        return not_found(f"no public fund '{code}'")
    today, kinds = local_today(), account_types(db.session)
    item = fund_item(public_fund_figures(db.session, found, today, kinds))
    item["monthly"] = [{"month": m.month, "income": money(m.income), "spending": money(m.spending)}
                       for m in monthly_flows(db.session, found.id, today, kinds=kinds)]
    response = jsonify(item)
    response.headers["Cache-Control"] = "public, max-age=60"
    return response
