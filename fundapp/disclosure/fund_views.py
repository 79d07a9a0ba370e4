"""Public fund pages: /public/funds (the list, with its CSV) and /public/funds/<code> (one fund).

Figures come from fundapp.disclosure.funds, which the funds API uses too. A bad filter is no filter; a hidden or
unknown fund is a 404.
"""

from __future__ import annotations

from collections.abc import Iterator

from flask import abort, current_app, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length

from fundapp import csvexport
from fundapp.auth.decorators import public
from fundapp.dates import local_today
from fundapp.disclosure.cache import cached_page
from fundapp.disclosure.funds import FundList, PublicFund, find_public_fund, fund_detail, list_public_funds
from fundapp.disclosure.paging import Page
from fundapp.disclosure.scope import other_funds_label
from fundapp.disclosure.views import bp, page_number
from fundapp.donations.forms import METHOD_LABELS
from fundapp.extensions import db
from fundapp.forms import GetForm, strip
from fundapp.funds.forms import FUND_TYPE_LABELS, RESTRICTION_LABELS, STATUS_LABELS
from fundapp.notify.views import has_endpoint

PUBLIC_SORT_LABELS = {"code": _l("Code"), "name": _l("Name"), "balance": _l("Balance, largest first"),
                      "income": _l("Income this year, largest first")}


class PublicFundFilterForm(GetForm):
    q = StringField(_l("Name or code"), filters=[strip], validators=[Length(max=100)])
    type = SelectField(_l("Type"), validate_choice=False, choices=[SelectChoice("", _l("All types"))] + [
        SelectChoice(value, label) for value, label in FUND_TYPE_LABELS.items()])
    sort = SelectField(_l("Sort by"), validate_choice=False, choices=[
        SelectChoice(value, label) for value, label in PUBLIC_SORT_LABELS.items()])

    def filters(self) -> dict:
        """Only values the list understands; anything else counts as no filter."""
        self.validate()
        text = self.q.data if self.q.data and not self.q.errors else None
        return {"text": text,
                "fund_type": self.type.data if self.type.data in FUND_TYPE_LABELS else None,
                "sort": self.sort.data if self.sort.data in PUBLIC_SORT_LABELS else "code"}


ListPage = Page  # a page of this list (fundapp.disclosure.paging)


def page_of(rows: list, page: int) -> ListPage:
    per_page = current_app.config["PAGE_SIZE"]
    total = len(rows)
    page = min(page, max(1, -(-total // per_page)))
    return ListPage(rows[(page - 1) * per_page:page * per_page], page, per_page, total)


def _fund_list() -> tuple[PublicFundFilterForm, dict, FundList]:
    form = PublicFundFilterForm(formdata=request.args)
    filters = form.filters()
    return form, filters, list_public_funds(db.session, local_today(), **filters)


def _query_args(filters: dict) -> dict:
    """The filters as query-string arguments (for the CSV and JSON links)."""
    args = {"q": filters["text"], "type": filters["fund_type"]}
    return {key: value for key, value in args.items() if value}


def labels() -> dict:
    return {"type_labels": FUND_TYPE_LABELS, "restriction_labels": RESTRICTION_LABELS,
            "status_labels": STATUS_LABELS, "method_labels": METHOD_LABELS}


@bp.get("/funds")
@public
@cached_page
def funds():
    form, filters, data = _fund_list()
    args = _query_args(filters)
    sort_args = args | ({"sort": filters["sort"]} if filters["sort"] != "code" else {})
    return render_template("disclosure/funds.html", form=form, data=data, today=local_today(),
                           pagination=page_of(data.rows, page_number()), other_label=other_funds_label(),
                           csv_url=url_for("disclosure.funds_csv", **sort_args),
                           json_url=url_for("api.funds", **args) if has_endpoint("api.funds") else None,
                           **labels())


CSV_HEADER = (_l("Code"), _l("Name"), _l("Type"), _l("Restriction"), _l("Status"), _l("Purpose"),
              _l("Balance"), _l("Income this year"), _l("Spending this year"))


def csv_row(row: PublicFund) -> list[object]:
    return [row.code, row.name, str(FUND_TYPE_LABELS.get(row.fund_type, row.fund_type)),
            str(RESTRICTION_LABELS.get(row.restriction, row.restriction)),
            str(STATUS_LABELS.get(row.status, row.status)), row.purpose, row.balance, row.income, row.spending]


def csv_lines(data: FundList) -> Iterator[str]:
    """The page's rows, then (unfiltered) the other funds and the books' total; filtered, the listed total."""
    yield csvexport.line([str(title) for title in CSV_HEADER])
    for row in data.rows:
        yield csvexport.line(csv_row(row))
    if data.filtered:
        yield csvexport.line(["", _("Total of the listed funds"), "", "", "", "", data.total_balance,
                              data.total_income, data.total_spending])
    else:
        yield csvexport.line(["", other_funds_label(), "", "", "", "", data.other_funds, "", ""])
        yield csvexport.line(["", _("Total net assets"), "", "", "", "", data.books_total, "", ""])


@bp.get("/funds.csv")
@public
@cached_page
def funds_csv():
    _form, _filters, data = _fund_list()
    lines = list(csv_lines(data))  # built now: the cache stores only complete bodies
    return csvexport.response(iter(lines), f"funds-{local_today().isoformat()}.csv")



@bp.get("/funds/<code>")
@public
@cached_page
def fund(code: str):
    found = find_public_fund(db.session, code)
    if found is None:
        abort(404)
    detail = fund_detail(db.session, found, local_today())
    donations_url = (url_for("disclosure.donations", fund=found.code)
                     if has_endpoint("disclosure.donations") else None)
    spec = {"type": "bar",
            "labels": [m.month for m in detail.monthly],
            "series": [{"name": _("Income"), "values": [f"{m.income:.2f}" for m in detail.monthly]},
                       {"name": _("Spending"), "values": [f"{m.spending:.2f}" for m in detail.monthly]}]}
    return render_template("disclosure/fund.html", detail=detail, f=detail.fund, spec=spec, today=local_today(),
                           donations_url=donations_url,
                           json_url=url_for("api.fund", code=found.code) if has_endpoint("api.fund") else None,
                           **labels())
