"""Public social-enterprise pages: /public/enterprises (what each returned to which fund, what is still owed),
/public/enterprises/<id> (agreements, shares per period, corrections, payments) and /public/enterprises.csv.

What is public is decided in `fundapp.disclosure.enterprises`. A bad filter is no filter (never a 400 or 500).
"""

from __future__ import annotations

from flask import abort, current_app, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length

from fundapp import csvexport
from fundapp.auth.decorators import public
from fundapp.disclosure import enterprises as returns
from fundapp.disclosure.cache import cached_page
from fundapp.disclosure.views import bp, page_number
from fundapp.enterprises.forms import BASIS_LABELS, PERIODICITY_LABELS, STATUS_LABELS
from fundapp.extensions import db
from fundapp.forms import GetForm, strip

TEXT_MAX = 200


class PublicEnterpriseFilterForm(GetForm):
    q = StringField(_l("Name, sector or community"), filters=[strip], validators=[Length(max=TEXT_MAX)])
    year = SelectField(_l("Year"), validate_choice=False)


def _filters() -> tuple[PublicEnterpriseFilterForm, str | None, int | None]:
    form = PublicEnterpriseFilterForm(formdata=request.args)
    years = returns.years(db.session)
    form.year.choices = [SelectChoice("", _("All years"))] + [SelectChoice(str(y), str(y)) for y in years]
    form.validate()
    text = form.q.data if form.q.data and not form.q.errors else None
    year = int(form.year.data) if form.year.data in {str(y) for y in years} else None
    return form, text, year


def _listed(text: str | None):
    stmt = returns.listed_query()
    return stmt.where(returns.search_condition(text)) if text else stmt


@bp.get("/enterprises")
@public
@cached_page
def enterprises():
    form, text, year = _filters()
    size = current_app.config["PAGE_SIZE"]
    page = db.paginate(_listed(text), page=page_number(), per_page=size, max_per_page=size, error_out=False)
    if not page.items and page.page > 1:  # past the end: the last page
        page = db.paginate(_listed(text), page=page.pages, per_page=size, max_per_page=size, error_out=False)
    summaries = returns.summaries(db.session, [e.id for e in page.items], year)
    export_args = {key: str(value) for key, value in (("q", text), ("year", year)) if value}
    return render_template("disclosure/enterprises.html", form=form, page=page, summaries=summaries, year=year,
                           overall=returns.overall(db.session, year), filtered=bool(text or year),
                           export_args=export_args, status_labels=STATUS_LABELS)


@bp.get("/enterprises/<int:enterprise_id>")
@public
@cached_page
def enterprise(enterprise_id: int):
    found = returns.find_listed(db.session, enterprise_id)
    if found is None:
        abort(404)
    return render_template(
        "disclosure/enterprise.html", enterprise=found, agreements=returns.agreements(db.session, found.id),
        reports=returns.reports(db.session, found.id), payments=returns.payments(db.session, found.id),
        summary=returns.summaries(db.session, [found.id], None)[found.id], status_labels=STATUS_LABELS,
        basis_labels=BASIS_LABELS, periodicity_labels=PERIODICITY_LABELS)


def returns_text(summary: returns.Summary) -> str:
    """`fund: amount; ...` (for the CSV's one row per enterprise)."""
    return "; ".join(f"{r.name}: {r.amount}" for r in summary.returns)


def _csv_lines(text: str | None, year: int | None):
    yield csvexport.line([_("Enterprise"), _("Name"), _("Sector"), _("Community served"), _("Status"),
                          _("Share due"), _("Paid against it"), _("Still owed"), _("Received"),
                          _("Received by fund")])
    enterprises_ = list(db.session.scalars(_listed(text)))
    summaries = returns.summaries(db.session, [e.id for e in enterprises_], year)
    for item in enterprises_:
        summary = summaries[item.id]
        yield csvexport.line([item.id, item.name, item.sector, item.community,
                              STATUS_LABELS.get(item.status, item.status), summary.share_due, summary.paid_on_share,
                              summary.outstanding, summary.received, returns_text(summary)])


@bp.get("/enterprises.csv")
@public
def enterprises_csv():
    _form, text, year = _filters()
    return csvexport.response(_csv_lines(text, year), "enterprises.csv")
