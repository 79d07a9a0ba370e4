"""Financial statements and corrections as open data: /api/v1/statements, /api/v1/statements/<year> and
/api/v1/corrections.

The statements are those of the public site's year pages (fundapp.disclosure.financial: whole foundation, from the
balance rows); every figure is a string with two decimals. Corrections come from
fundapp.disclosure.corrections, the query behind /public/corrections and its CSV.
"""

from __future__ import annotations

from flask import jsonify, request, url_for

from fundapp.api.views import BadParameter, bp, check_params, int_param, not_found, page_args, paged
from fundapp.auth.decorators import public
from fundapp.dates import local_today
from fundapp.disclosure import financial as published
from fundapp.disclosure.corrections import KINDS, list_corrections
from fundapp.extensions import db

NO_PARAMS = frozenset()
CORRECTION_PARAMS = frozenset({"kind", "year", "page", "per_page"})


def _cached(response):
    response.headers["Cache-Control"] = "public, max-age=60"
    return response


@bp.get("/statements")
@public
def statement_years():
    check_params(request.args, NO_PARAMS)
    years = published.book_years(db.session, local_today())
    items = [{"year": year, "statements": url_for("api.statements", year=year, _external=True),
              "page": url_for("disclosure.financial_year", year=year, _external=True),
              "annual_report": (url_for("disclosure.annual_report", year=year, _external=True)
                                if published.annual_report_file(year) is not None else None)}
             for year in years]
    return _cached(jsonify({"items": items}))


@bp.get("/statements/<int:year>")
@public
def statements(year: int):
    check_params(request.args, NO_PARAMS)
    today = local_today()
    if year not in published.book_years(db.session, today):
        return not_found(f"the books do not cover {year}")
    ratios = published.year_ratios(db.session, [year], today)[0]
    return _cached(jsonify({
        "year": year, "unit": "CNY",
        "statements": [published.statement_dict(s) for s in published.statements(db.session, year)],
        "ratios": published.ratio_dict(ratios)}))


@bp.get("/corrections")
@public
def corrections():
    args = request.args
    check_params(args, CORRECTION_PARAMS)
    kind = args.get("kind") or None
    if kind is not None and kind not in KINDS:
        raise BadParameter(f"'kind' must be one of {', '.join(KINDS)}")
    year = int_param(args, "year", 0, 1900, 9999) if "year" in args else None
    page, per_page = page_args(args)
    result = list_corrections(db.session, kind=kind, year=year, page=page, per_page=per_page)
    values = {key: value for key, value in (("kind", kind), ("year", year)) if value}
    return paged([row.as_dict() for row in result.items], page=page, per_page=per_page, total=result.total,
                 endpoint="api.corrections", **values)
