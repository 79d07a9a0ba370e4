"""/api/v1/donations: gifts to public funds, paged, with the public page's filters (q, fund, year, method, sort).

The same rows as /public/donations (`fundapp.disclosure.donations` decides what is public). A filter the API
cannot use is a 400 with a JSON message, never an unfiltered list.
"""

from __future__ import annotations

from flask import request

from fundapp.api.views import BadParameter, bp, check_params, int_param, page_args, paged
from fundapp.auth.decorators import public
from fundapp.disclosure import donations as gifts
from fundapp.disclosure.scope import anonymous_label
from fundapp.extensions import db

KNOWN_PARAMS = frozenset({"q", "fund", "year", "method", "sort", "page", "per_page"})


def _filters(args) -> gifts.Filters:
    text = (args.get("q") or "").strip()
    if len(text) > gifts.TEXT_MAX:
        raise BadParameter(f"'q' is at most {gifts.TEXT_MAX} characters")
    fund = args.get("fund") or None
    if fund is not None and not gifts.is_public_fund_code(db.session, fund):
        raise BadParameter(f"'fund' must be the code of a public fund, not '{fund[:40]}'")
    method = args.get("method") or None
    if method is not None and method not in gifts.METHODS:
        raise BadParameter(f"'method' must be one of: {', '.join(gifts.METHODS)}")
    sort = args.get("sort") or "-date"
    if sort not in gifts.SORTS:
        raise BadParameter(f"'sort' must be one of: {', '.join(gifts.SORTS)}")
    year = int_param(args, "year", 0, 1900, 9999) if args.get("year") is not None else None
    return gifts.Filters(text=text or None, fund_code=fund, year=year, method=method, sort=sort)


def _in_kind(row) -> dict | None:
    if row.method != "in_kind":
        return None
    return {"item": row.item_description, "quantity": row.quantity, "unit": row.unit,
            "valuation_basis": row.valuation_basis}


def item(row, anonymous: str) -> dict:
    """One gift in its public form (money as a string)."""
    reversed_ = row.status == "reversed"
    correction = {"reason": row.reversal_reason, "date": row.reversed_on.isoformat() if row.reversed_on else None}
    return {
        "id": row.id, "date": row.received_on.isoformat(), "donor": row.donor_name or anonymous,
        "anonymous": row.donor_name is None, "amount": f"{row.amount:.2f}", "fund": row.fund_code,
        "fund_name": row.fund_name, "method": row.method, "in_kind": _in_kind(row), "purpose": row.purpose,
        "status": row.status, "correction": correction if reversed_ else None, "corrects": row.corrects_id,
        "corrected_by": row.corrected_by_id,
    }


@bp.get("/donations")
@public
def donations():
    check_params(request.args, KNOWN_PARAMS)
    number, per_page = page_args(request.args)
    filters = _filters(request.args)
    summary = gifts.totals(db.session, filters)
    rows = db.session.execute(gifts.rows_query(filters).limit(per_page).offset((number - 1) * per_page)).all()
    anonymous = anonymous_label()
    values = {key: request.args[key] for key in ("q", "fund", "year", "method", "sort") if request.args.get(key)}
    return paged([item(row, anonymous) for row in rows], page=number, per_page=per_page, total=summary.gifts,
                 endpoint="api.donations", **values)
