"""The public home page (/public/): who the foundation is, what it raised, granted and holds, where the money went
(the Sankey of fundapp.disclosure.home), the latest grants and reports, and the way into every other section."""

from __future__ import annotations

from flask import current_app, render_template, request, url_for
from flask_babel import lazy_gettext as _l

from fundapp.auth.decorators import public
from fundapp.dates import local_today
from fundapp.disclosure.cache import cached_page
from fundapp.disclosure.home import DATA_LICENCE, DATA_LICENCE_URL, home_data, period_arg
from fundapp.disclosure.scope import other_funds_label
from fundapp.disclosure.views import bp
from fundapp.extensions import db
from fundapp.notify.views import has_endpoint

FOUNDATION_TYPES = {
    "public_fundraising": _l("Foundation with public-fundraising status"),
    "non_public": _l("Foundation without public-fundraising status"),
}
# The other sections of the site: endpoint, title, what it holds (linked only once the page exists).
SECTIONS = (
    ("disclosure.funds", _l("Funds"), _l("Every public fund, its purpose and balance.")),
    ("disclosure.donations", _l("Donations"), _l("Gifts received, donors named only if they agreed.")),
    ("disclosure.grants", _l("Grants and projects"), _l("Grants made, to whom, and the projects' reports.")),
    ("disclosure.enterprises", _l("Social enterprises"), _l("What community social enterprises returned.")),
    ("disclosure.financial", _l("Financial information"), _l("Statements, ratios and annual reports.")),
    ("disclosure.duties", _l("Disclosure duties"), _l("What the law requires us to publish, and when we did.")),
    ("disclosure.corrections", _l("Corrections"), _l("Every correction, with its explanation.")),
    ("disclosure.verify", _l("Verify the ledger"), _l("Check that no entry was changed after it was posted.")),
    ("disclosure.open_data", _l("Open data"), _l("The same data as CSV and through the JSON API.")),
)


def foundation_info() -> dict:
    config = current_app.config
    kind = config.get("FOUNDATION_TYPE") or ""
    return {"name": config.get("FOUNDATION_NAME") or "", "reg_no": config.get("FOUNDATION_REG_NO") or "",
            "type": FOUNDATION_TYPES.get(kind, kind), "site_url": config.get("SITE_URL") or ""}


def grant_url(award_id: int, number: str) -> str | None:
    """The public page of an award, if that page exists (built from whichever argument its rule takes)."""
    if not has_endpoint("disclosure.grant"):
        return None
    rule = next(iter(current_app.url_map.iter_rules("disclosure.grant")))
    values = {"award_id": award_id, "number": number, "award_number": number, "grant_id": award_id, "id": award_id}
    if not rule.arguments <= set(values):
        return None
    return url_for("disclosure.grant", **{name: values[name] for name in rule.arguments})


@bp.get("/")
@public
@cached_page
def home():
    period = period_arg(request.args.get("period"))
    data = home_data(db.session, local_today(), period)
    sections = [(url_for(endpoint), title, text) for endpoint, title, text in SECTIONS if has_endpoint(endpoint)]
    grant_links = {award.id: grant_url(award.id, award.number) for award in data.awards}
    grant_links.update({report.award_id: grant_url(report.award_id, report.award_number) for report in data.reports})
    return render_template("disclosure/home.html", data=data, info=foundation_info(), sections=sections,
                           grant_links=grant_links, spec=data.sankey.spec(), licence=DATA_LICENCE,
                           licence_url=DATA_LICENCE_URL, other_label=other_funds_label())
