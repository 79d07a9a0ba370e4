"""Grants made, as open data: /api/v1/grants (paginated, the public list's filters) and /api/v1/grants/<id> (one
grant with its tranches, payments, reversals and public progress reports).

The same selection and figures as the public pages (fundapp.disclosure.grants): money is a string ("1234.50"),
a grant from a fund that is not public has `fund: null` and `fund_name: "Other funds"`. A filter the API cannot
use is a 400, never a silently unfiltered list.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from flask import jsonify, request, url_for

from fundapp.api.views import BadParameter, bp, check_params, int_param, not_found, page_args, paged
from fundapp.auth.decorators import public
from fundapp.disclosure.grants import (
    DEFAULT_SORT,
    Q_MAX,
    SORTS,
    STATUSES,
    GrantDetail,
    GrantFilters,
    GrantRow,
    ReportView,
    find_programme_code,
    find_public_fund_code,
    grant_detail,
    grants_page,
)
from fundapp.extensions import db

LIST_PARAMS = frozenset({"q", "programme", "fund", "year", "status", "sort", "page", "per_page"})
MAX_YEAR = 9998


def money(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


def day(value: dt.date | None) -> str | None:
    return None if value is None else value.isoformat()


def _choice(args, name: str, allowed, default: str | None = None) -> str | None:
    raw = args.get(name)
    if raw is None or raw == "":
        return default
    if raw not in allowed:
        raise BadParameter(f"'{name}' must be one of: {', '.join(allowed)}")
    return raw


def _code(args, name: str, find) -> str | None:
    raw = (args.get(name) or "").strip()
    if not raw:
        return None
    code = find(db.session, raw) if len(raw) <= 30 else None
    if code is None:
        raise BadParameter(f"unknown {name} '{raw[:30]}'")
    return code


def filters_from(args) -> GrantFilters:
    q = (args.get("q") or "").strip()
    if len(q) > Q_MAX:
        raise BadParameter(f"'q' is at most {Q_MAX} characters")
    year = int_param(args, "year", 0, 1, MAX_YEAR) if args.get("year") else None
    return GrantFilters(q=q or None, programme=_code(args, "programme", find_programme_code),
                        fund=_code(args, "fund", find_public_fund_code), year=year,
                        status=_choice(args, "status", STATUSES),
                        sort=_choice(args, "sort", tuple(SORTS), DEFAULT_SORT))


def grant_item(row: GrantRow) -> dict:
    return {"id": row.id, "number": row.number, "title": row.title, "organisation": row.organisation,
            "programme": row.programme, "programme_code": row.programme_code, "fund": row.fund_code,
            "fund_name": row.fund_name, "amount": money(row.amount), "decided_on": day(row.decided_on),
            "paid": money(row.paid), "status": row.status, "reports_count": row.reports_count,
            "url": url_for("disclosure.grant", award_id=row.id, _external=True)}


def report_item(report: ReportView) -> dict:
    return {"kind": report.kind, "period_start": day(report.period_start), "period_end": day(report.period_end),
            "accepted_on": day(report.accepted_on), "narrative": report.narrative, "outputs": report.outputs,
            "beneficiaries_reached": report.beneficiaries_reached,
            "spending": [{"category": s.category, "item": s.item, "amount": money(s.amount)} for s in report.spending],
            "spent": money(report.spent), "unspent": money(report.unspent_amount)}


def detail_item(detail: GrantDetail) -> dict:
    close = detail.close_out
    return grant_item(detail.row) | {
        "public_summary": detail.public_summary,
        "project": {"summary": detail.project_summary, "community": detail.community,
                    "starts_on": day(detail.starts_on), "ends_on": day(detail.ends_on),
                    "beneficiaries_planned": detail.beneficiaries_count},
        "outstanding": money(detail.outstanding),
        "tranches": [{"seq": t.seq, "due_on": day(t.due_on), "milestone": t.milestone, "amount": money(t.amount),
                      "status": t.status} for t in detail.tranches],
        "payments": [{"tranche": p.tranche_seq, "paid_on": day(p.paid_on), "amount": money(p.amount),
                      "reversed": None if p.counts else {"on": day(p.reversed_on), "reason": p.reversal_reason}}
                     for p in detail.payments],
        "reports": [report_item(r) for r in detail.reports],
        "close_out": None if close is None else {
            "closed_on": day(close.closed_on), "released": money(close.released), "returned": money(close.returned),
            "returned_on": day(close.returned_on)},
    }


@bp.get("/grants")
@public
def grants():
    check_params(request.args, LIST_PARAMS)
    page, per_page = page_args(request.args)
    filters = filters_from(request.args)
    result, _totals = grants_page(db.session, filters, page, per_page)
    values = {key: value for key, value in request.args.items() if key not in ("page", "per_page") and value}
    return paged([grant_item(row) for row in result.items], page=page, per_page=per_page, total=result.total,
                 endpoint="api.grants", **values)


@bp.get("/grants/<int:award_id>")
@public
def grant(award_id: int):
    check_params(request.args, frozenset())
    detail = grant_detail(db.session, award_id)
    if detail is None:
        return not_found(f"no grant {award_id}")
    response = jsonify(detail_item(detail))
    response.headers["Cache-Control"] = "public, max-age=60"
    return response
