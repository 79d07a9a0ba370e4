"""/api/v1/enterprises (paged, each with what it returned to which fund) and /api/v1/enterprises/<id> (its
agreements, shares per period with corrections, payments). The public form is decided in
`fundapp.disclosure.enterprises`: no contacts, credit code, revenue figures or bank references."""

from __future__ import annotations

from flask import jsonify, request, url_for
from sqlalchemy import func, select

from fundapp.api.views import BadParameter, bp, check_params, int_param, not_found, page_args, paged
from fundapp.auth.decorators import public
from fundapp.disclosure import enterprises as returns
from fundapp.extensions import db

KNOWN_PARAMS = frozenset({"q", "year", "page", "per_page"})
TEXT_MAX = 200


def money(value) -> str:
    return f"{value:.2f}"


def _returns(summary: returns.Summary) -> list[dict]:
    return [{"fund": r.code, "fund_name": r.name, "amount": money(r.amount)} for r in summary.returns]


def _totals(summary: returns.Summary) -> dict:
    return {"share_due": money(summary.share_due), "paid": money(summary.paid_on_share),
            "outstanding": money(summary.outstanding), "received": money(summary.received),
            "returns": _returns(summary)}


def _item(enterprise, summary: returns.Summary) -> dict:
    return {"id": enterprise.id, "name": enterprise.name, "sector": enterprise.sector,
            "community": enterprise.community, "status": enterprise.status, **_totals(summary),
            "url": url_for("api.enterprise", enterprise_id=enterprise.id, _external=True)}


@bp.get("/enterprises")
@public
def enterprises():
    check_params(request.args, KNOWN_PARAMS)
    number, per_page = page_args(request.args)
    year = int_param(request.args, "year", 0, 1900, 9999) if request.args.get("year") is not None else None
    text = (request.args.get("q") or "").strip()
    if len(text) > TEXT_MAX:
        raise BadParameter(f"'q' is at most {TEXT_MAX} characters")
    stmt = returns.listed_query()
    if text:
        stmt = stmt.where(returns.search_condition(text))
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    rows = list(db.session.scalars(stmt.limit(per_page).offset((number - 1) * per_page)))
    summaries = returns.summaries(db.session, [e.id for e in rows], year)
    values = {key: request.args[key] for key in ("q", "year") if request.args.get(key)}
    return paged([_item(e, summaries[e.id]) for e in rows], page=number, per_page=per_page, total=total,
                 endpoint="api.enterprises", **values)


def _agreement(a: returns.PublicAgreement) -> dict:
    return {"version": a.version, "effective_from": a.effective_from.isoformat(),
            "ends_on": a.ends_on.isoformat() if a.ends_on else None, "basis": a.basis, "periodicity": a.periodicity,
            "fund": a.fund_code, "fund_name": a.fund_name,
            "rates": [{"from": money(lower), "percent": rate} for lower, rate in a.tiers]}


def _report(r: returns.PublicReport) -> dict:
    return {"period": r.label, "start": r.start.isoformat(), "end": r.end.isoformat(), "due_on": r.due_on.isoformat(),
            "share_due": money(r.share_due), "paid": money(r.paid), "outstanding": money(r.outstanding),
            "corrections": [{"old_share": money(c.old_share), "new_share": money(c.new_share), "reason": c.reason,
                             "date": c.date.isoformat()} for c in r.corrections]}


def _payment(p: returns.PublicPayment) -> dict:
    correction = {"reason": p.reversal_reason, "date": p.reversed_on.isoformat() if p.reversed_on else None}
    return {"date": p.received_on.isoformat(), "amount": money(p.amount), "period": p.period, "fund": p.fund_code,
            "fund_name": p.fund_name, "status": p.status,
            "correction": correction if p.status == "reversed" else None}


@bp.get("/enterprises/<int:enterprise_id>")
@public
def enterprise(enterprise_id: int):
    check_params(request.args, frozenset())
    found = returns.find_listed(db.session, enterprise_id)
    if found is None:
        return not_found(f"no public enterprise {enterprise_id}")
    summary = returns.summaries(db.session, [found.id], None)[found.id]
    response = jsonify({
        "id": found.id, "name": found.name, "sector": found.sector, "community": found.community,
        "status": found.status, **_totals(summary),
        "agreements": [_agreement(a) for a in returns.agreements(db.session, found.id)],
        "reports": [_report(r) for r in returns.reports(db.session, found.id)],
        "payments": [_payment(p) for p in returns.payments(db.session, found.id)],
    })
    response.headers["Cache-Control"] = "public, max-age=60"
    return response
