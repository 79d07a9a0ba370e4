"""Public pages of grants and projects: /public/grants (list, filters, totals, CSV) and /public/grants/<id>
(one grant: decision, tranches, payments and corrections, the grantee's public reports, close-out).

What is shown is decided in fundapp.disclosure.grants (and scope); a bad filter is treated as no filter.
"""

from __future__ import annotations

from collections.abc import Iterator

from flask import abort, current_app, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional

from fundapp import csvexport
from fundapp.auth.decorators import public
from fundapp.dates import local_today
from fundapp.disclosure.cache import cached_page
from fundapp.disclosure.grants import (
    DEFAULT_SORT,
    Q_MAX,
    SORTS,
    STATUSES,
    Choices,
    GrantFilters,
    filter_choices,
    grant_rows,
    grants_page,
)
from fundapp.disclosure.grants import grant_detail as load_grant_detail
from fundapp.disclosure.scope import other_funds_label
from fundapp.disclosure.views import bp, page_number
from fundapp.extensions import db
from fundapp.forms import GetForm, strip
from fundapp.grants.forms_award import AWARD_STATUS_LABELS, REPORT_KIND_LABELS, TRANCHE_STATUS_LABELS

SORT_CHOICES = [SelectChoice("-date", _l("Newest first")), SelectChoice("date", _l("Oldest first")),
                SelectChoice("-amount", _l("Largest first")), SelectChoice("amount", _l("Smallest first"))]
LABELS = {"status_labels": AWARD_STATUS_LABELS, "tranche_labels": TRANCHE_STATUS_LABELS,
          "report_labels": REPORT_KIND_LABELS}


class GrantFilterForm(GetForm):
    q = StringField(_l("Search"), filters=[strip], validators=[Optional(), Length(max=Q_MAX)],
                    description=_l("Project title or organisation"))
    programme = SelectField(_l("Programme"), validate_choice=False)
    fund = SelectField(_l("Fund"), validate_choice=False)
    year = SelectField(_l("Year"), validate_choice=False)
    status = SelectField(_l("Status"), validate_choice=False, choices=[SelectChoice("", _l("Any status"))] + [
        SelectChoice(value, AWARD_STATUS_LABELS[value]) for value in STATUSES])
    sort = SelectField(_l("Order"), choices=SORT_CHOICES, validate_choice=False)


def _form(choices: Choices) -> tuple[GrantFilterForm, GrantFilters]:
    """The filter form and the filters it yields: a value not among the choices is no filter."""
    form = GrantFilterForm(formdata=request.args)
    form.programme.choices = [SelectChoice("", _("Any programme"))] + [
        SelectChoice(code, f"{code} {title}") for code, title in choices.programmes]
    form.fund.choices = [SelectChoice("", _("Any fund"))] + [SelectChoice(code, name) for code, name in choices.funds]
    form.year.choices = [SelectChoice("", _("Any year"))] + [SelectChoice(str(y), str(y)) for y in choices.years]
    form.validate()
    allowed = lambda field, values: field.data if field.data in values else None  # noqa: E731
    year = allowed(form.year, {str(y) for y in choices.years})
    filters = GrantFilters(
        q=form.q.data if form.q.data and not form.q.errors else None,
        programme=allowed(form.programme, {code for code, _t in choices.programmes}),
        fund=allowed(form.fund, {code for code, _n in choices.funds}),
        year=int(year) if year else None,
        status=allowed(form.status, set(STATUSES)),
        sort=form.sort.data if form.sort.data in SORTS else DEFAULT_SORT)
    if form.q.errors:
        form.q.data = ""
    return form, filters


def _filter_args(filters: GrantFilters) -> dict:
    """The filters as query arguments (for the CSV link): only the ones in effect."""
    values = {"q": filters.q, "programme": filters.programme, "fund": filters.fund, "year": filters.year,
              "status": filters.status, "sort": filters.sort if filters.sort != DEFAULT_SORT else None}
    return {key: value for key, value in values.items() if value is not None}


@bp.get("/grants")
@public
@cached_page
def grants():
    form, filters = _form(filter_choices(db.session))
    page, totals = grants_page(db.session, filters, page_number(), current_app.config["PAGE_SIZE"])
    return render_template("disclosure/grants.html", form=form, filters=filters, page=page, totals=totals,
                           export_args=_filter_args(filters), other_funds_label=other_funds_label(), **LABELS)


@bp.get("/grants.csv")
@public
@cached_page
def grants_csv():
    _form_, filters = _form(filter_choices(db.session))
    rows = grant_rows(db.session, filters)  # read now: the stream outlives the session
    header = [_("Grant"), _("Decision date"), _("Project"), _("Organisation"), _("Programme"), _("Fund code"),
              _("Fund"), _("Amount awarded"), _("Paid so far"), _("Status"), _("Public progress reports")]

    def lines() -> Iterator[str]:
        yield csvexport.line(header)
        for row in rows:
            yield csvexport.line([row.number, row.decided_on.isoformat(), row.title, row.organisation, row.programme,
                                  row.fund_code or "", row.fund_name, row.amount, row.paid,
                                  str(AWARD_STATUS_LABELS.get(row.status, row.status)), row.reports_count])

    return csvexport.response(lines(), f"grants-{local_today().isoformat()}.csv")


@bp.get("/grants/<int:award_id>")
@public
@cached_page
def grant(award_id: int):
    detail = load_grant_detail(db.session, award_id)
    if detail is None:
        abort(404)
    return render_template("disclosure/grant.html", grant=detail, **LABELS)
