"""Volunteer service as open data: /api/v1/volunteers (optional `year`).

The same figures as the public volunteer page (fundapp.disclosure.volunteers): verified hours only; volunteers
are named only if they consented, everyone else is counted. Hours and points are strings with two decimals.
"""

from __future__ import annotations

from decimal import Decimal

from flask import jsonify, request, url_for

from fundapp.api.views import BadParameter, bp, check_params, int_param
from fundapp.auth.decorators import public
from fundapp.dates import local_today
from fundapp.disclosure import volunteers as q
from fundapp.extensions import db

PARAMS = frozenset({"year"})


def number(value: Decimal) -> str:
    return f"{value:.2f}"


def totals_item(totals: q.Totals) -> dict:
    return {"hours": number(totals.hours), "volunteers": totals.volunteers, "people_served": totals.people_served,
            "activities": totals.activities}


def group_items(rows: list[q.GroupRow]) -> list[dict]:
    return [{"label": row.label, "hours": number(row.hours), "volunteers": row.volunteers,
             "people_served": row.people_served} for row in rows]


def project_items(rows: list[q.GroupRow]) -> list[dict]:
    return [{**item, "grant": url_for("api.grant", award_id=row.award_id, _external=True)
             if row.award_id is not None else None} for item, row in zip(group_items(rows), rows, strict=True)]


@bp.get("/volunteers")
@public
def volunteers():
    check_params(request.args, PARAMS)
    this_year = local_today().year
    year = int_param(request.args, "year", 0, 1900, 9999) or None
    if year is not None and year > this_year:
        raise BadParameter(f"'year' must be at most {this_year}")
    session = db.session
    period = q.Period.year(year) if year else q.ALL_TIME
    roll = q.honour_roll(session, period)
    response = jsonify({
        "year": year,
        "this_year": {"year": this_year, **totals_item(q.totals(session, q.Period.year(this_year)))},
        "all_time": totals_item(q.totals(session)),
        "projects": project_items(q.by_project(session, period)),
        "communities": group_items(q.by_community(session, period)),
        "top_activities": group_items(q.top_activities(session, period)),
        "rewards_redeemed": [{"reward": r.name, "given_by": r.given_by, "quantity": r.quantity,
                              "points": number(r.points)} for r in q.rewards_redeemed(session, period)],
        "honour_roll": {"named": [{"name": r.name, "hours": number(r.hours)} for r in roll.rows],
                        "others": roll.others, "others_hours": number(roll.others_hours)},
        "page": url_for("disclosure.volunteers", _external=True),
    })
    response.headers["Cache-Control"] = "public, max-age=60"
    return response
