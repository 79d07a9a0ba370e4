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



@bp.get("/")
@public
@cached_page
def home():
    period = period_arg(request.args.get("period"))
    data = home_data(db.session, local_today(), period)
    sections = [(url_for(endpoint), title, text) for endpoint, title, text in SECTIONS if has_endpoint(endpoint)]
    return render_template("disclosure/home.html", data=data, info=foundation_info(), sections=sections,
                           spec=data.sankey.spec(), licence=DATA_LICENCE,
                           licence_url=DATA_LICENCE_URL, other_label=other_funds_label())
