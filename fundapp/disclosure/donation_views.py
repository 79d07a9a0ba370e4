"""Public donations: /public/donations (searchable, paged, with totals) and /public/donations.csv (same rows).

A bad filter is no filter: the page never answers 400 or 500 to a query string. What a row may show is decided
in `fundapp.disclosure.donations` (public funds only; anonymous donors never named).
"""

from __future__ import annotations

from flask import current_app, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length

from fundapp import csvexport
from fundapp.auth.decorators import public
from fundapp.disclosure import donations as gifts
from fundapp.disclosure.cache import cached_page
from fundapp.disclosure.scope import anonymous_label
from fundapp.disclosure.views import bp, page_number
from fundapp.donations.forms import BASIS_LABELS, METHOD_LABELS
from fundapp.extensions import db
from fundapp.forms import GetForm, strip

SORT_LABELS = {"-date": _l("Newest first"), "date": _l("Oldest first"), "-amount": _l("Largest first"),
               "amount": _l("Smallest first")}


class PublicDonationFilterForm(GetForm):
    q = StringField(_l("Donor, purpose or fund"), filters=[strip], validators=[Length(max=gifts.TEXT_MAX)])
    fund = SelectField(_l("Fund"), validate_choice=False)
    year = SelectField(_l("Year"), validate_choice=False)
    method = SelectField(_l("Method"), validate_choice=False, choices=[SelectChoice("", _l("All"))] + [
        SelectChoice(k, v) for k, v in METHOD_LABELS.items()])
    sort = SelectField(_l("Sort by"), validate_choice=False,
                       choices=[SelectChoice(k, v) for k, v in SORT_LABELS.items()])


def _gift_param() -> int | None:
    raw = request.args.get("gift", "")
    return int(raw) if raw.isascii() and raw.isdigit() and 0 < len(raw) <= 12 else None


def _filters() -> tuple[PublicDonationFilterForm, gifts.Filters]:
    """The form as submitted and the filters it means; a value that is not one of the choices is ignored."""
    form = PublicDonationFilterForm(formdata=request.args)
    funds = gifts.public_fund_options(db.session)
    years = gifts.years(db.session)
    form.fund.choices = [SelectChoice("", _("All public funds"))] + [SelectChoice(c, n) for c, n in funds]
    form.year.choices = [SelectChoice("", _("All years"))] + [SelectChoice(str(y), str(y)) for y in years]
    form.validate()
    text = form.q.data if form.q.data and not form.q.errors else None
    fund = form.fund.data if form.fund.data in {code for code, _name in funds} else None
    year = int(form.year.data) if form.year.data in {str(y) for y in years} else None
    method = form.method.data if form.method.data in gifts.METHODS else None
    sort = form.sort.data if form.sort.data in gifts.SORTS else "-date"
    return form, gifts.Filters(text=text, fund_code=fund, year=year, method=method, sort=sort, gift=_gift_param())


@bp.get("/donations")
@public
@cached_page
def donations():
    form, filters = _filters()
    size = current_app.config["PAGE_SIZE"]
    page, totals = gifts.page(db.session, filters, page_number(), size)
    return render_template("disclosure/donations.html", form=form, page=page, totals=totals, filters=filters,
                           method_labels=METHOD_LABELS, basis_labels=BASIS_LABELS, anonymous=anonymous_label(),
                           in_kind_text=gifts.in_kind_text, export_args=_export_args(filters))


def _export_args(filters: gifts.Filters) -> dict[str, str]:
    """The filters in effect, as query parameters for the CSV and JSON links (nothing the API would refuse)."""
    values = {"q": filters.text, "fund": filters.fund_code, "year": filters.year, "method": filters.method,
              "sort": filters.sort if filters.sort != "-date" else None}
    out = {key: str(value) for key, value in values.items() if value}
    if filters.gift:
        out["gift"] = str(filters.gift)
    return out


def _status_text(row) -> str:
    return _("Corrected") if row.status == "reversed" else _("Recorded")


def _csv_lines(filters: gifts.Filters):
    yield csvexport.line([_("Gift"), _("Date"), _("Donor"), _("Amount"), _("Fund code"), _("Fund"), _("Method"),
                          _("Item given"), _("Valuation basis"), _("Purpose"), _("Status"), _("Correction reason"),
                          _("Correction date"), _("Corrects gift")])
    anonymous = anonymous_label()
    for row in gifts.all_rows(db.session, filters):
        in_kind = row.method == "in_kind"
        yield csvexport.line([
            row.id, row.received_on.isoformat(), row.donor_name or anonymous, row.amount, row.fund_code,
            row.fund_name, METHOD_LABELS.get(row.method, row.method), gifts.in_kind_text(row) if in_kind else "",
            BASIS_LABELS.get(row.valuation_basis, "") if in_kind else "", row.purpose, _status_text(row),
            row.reversal_reason or "", row.reversed_on.isoformat() if row.reversed_on else "",
            row.corrects_id or ""])


@bp.get("/donations.csv")
@public
def donations_csv():
    _form, filters = _filters()
    return csvexport.response(_csv_lines(filters), "donations.csv")
