"""Public volunteer pages (/public/volunteers): hours and people served per project and community, top
activities, what points were exchanged for, and the certificate check by code. Names appear only for volunteers
who consented; everyone else is counted, never named. Figures come from fundapp.disclosure.volunteers."""

from __future__ import annotations

from collections.abc import Iterator

from flask import render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from fundapp import csvexport
from fundapp.auth.decorators import public
from fundapp.dates import local_today
from fundapp.disclosure import volunteers as q
from fundapp.disclosure.cache import cached_page
from fundapp.disclosure.views import bp
from fundapp.extensions import db

LISTS = {
    "projects": _l("Hours by project"),
    "communities": _l("Hours by community"),
    "activities": _l("Top activities"),
    "rewards": _l("Rewards redeemed"),
    "honour": _l("Honour roll"),
}
GROUP_HEADER = (_l("Hours"), _l("Volunteers"), _l("People served"))


def _year(first: int | None) -> int | None:
    """`?year=` if it is a year with service (or this year); anything else is all time."""
    raw = request.args.get("year", "")
    if not (raw.isascii() and raw.isdigit() and len(raw) == 4):
        return None
    year = int(raw)
    return year if first is not None and first <= year <= local_today().year else None


def _period(year: int | None) -> q.Period:
    return q.Period.year(year) if year else q.ALL_TIME


@bp.get("/volunteers")
@public
@cached_page
def volunteers():
    session = db.session
    this_year = local_today().year
    first = q.first_year(session)
    year = _year(first)
    period = _period(year)
    years = list(range(this_year, first - 1, -1)) if first else []
    return render_template(
        "disclosure/volunteers.html", year=year, years=years, this_year=this_year,
        totals_year=q.totals(session, q.Period.year(this_year)), totals_all=q.totals(session),
        projects=q.by_project(session, period), communities=q.by_community(session, period),
        activities=q.top_activities(session, period), rewards=q.rewards_redeemed(session, period),
        roll=q.honour_roll(session, period),
        csv_urls={name: url_for("disclosure.volunteers_csv", list=name, **({"year": year} if year else {}))
                  for name in LISTS})


def csv_lines(name: str, period: q.Period) -> Iterator[str]:
    session = db.session
    if name == "rewards":
        yield csvexport.line([str(t) for t in (_l("Reward"), _l("Given by"), _l("Quantity"), _l("Points"))])
        for row in q.rewards_redeemed(session, period):
            yield csvexport.line([row.name, row.given_by, row.quantity, row.points])
        return
    if name == "honour":
        roll = q.honour_roll(session, period)
        yield csvexport.line([str(_l("Volunteer")), str(_l("Hours"))])
        for row in roll.rows:
            yield csvexport.line([row.name, row.hours])
        yield csvexport.line([_("Other volunteers, not named: %(n)d", n=roll.others), roll.others_hours])
        return
    rows = {"projects": q.by_project, "communities": q.by_community, "activities": q.top_activities}[name](
        session, period)
    first = {"projects": _l("Project"), "communities": _l("Community"), "activities": _l("Activity")}[name]
    yield csvexport.line([str(first), *(str(t) for t in GROUP_HEADER)])
    for row in rows:
        yield csvexport.line([row.label, row.hours, row.volunteers, row.people_served])


@bp.get("/volunteers.csv")
@public
@cached_page
def volunteers_csv():
    name = request.args.get("list", "projects")
    name = name if name in LISTS else "projects"
    year = _year(q.first_year(db.session))
    lines = list(csv_lines(name, _period(year)))  # built now: the cache stores only complete bodies
    suffix = str(year) if year else "all"
    return csvexport.response(iter(lines), f"volunteers-{name}-{suffix}.csv")


@bp.get("/volunteers/certificates")
@public
def certificate_check():
    """Check a certificate by its code. Not cached (a code is personal); an unknown code is a plain message."""
    code = (request.args.get("code") or "").strip()[:64]
    found = q.check_certificate(db.session, code) if code else None
    response = render_template("disclosure/volunteers_certificate.html", code=code, found=found,
                               withheld=q.withheld_label())
    return response, 200, {"Cache-Control": "no-store"}
