"""Fund pages: the list with balances, one fund's facts, balances and history, create, edit, close, reopen.

Finance and admin manage funds; the board reads. Views parse the form, call one service, commit or roll back.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from fundapp import csvexport
from fundapp.auth.decorators import roles_required
from fundapp.dates import local_today
from fundapp.errors import DomainError
from fundapp.extensions import db
from fundapp.funds import queries
from fundapp.funds.forms import FUND_TYPE_LABELS, RESTRICTION_LABELS, STATUS_LABELS, FundFilterForm, FundForm
from fundapp.funds.services import create_fund, fund_has_lines, update_fund
from fundapp.ledger.models import Fund, FundStatus
from fundapp.web import form_service

bp = Blueprint("funds", __name__, url_prefix="/funds")

READERS = ("finance", "admin", "board")
MANAGERS = ("finance", "admin")


@bp.context_processor
def labels() -> dict:
    return {"type_labels": FUND_TYPE_LABELS, "restriction_labels": RESTRICTION_LABELS, "status_labels": STATUS_LABELS}


def _today() -> dt.date:
    return local_today()


def _filtered_rows() -> tuple[FundFilterForm, dict, list]:
    form = FundFilterForm(formdata=request.args)
    form.validate()
    filters = form.filters()
    rows = queries.list_funds_with_balances(db.session, _today(), **filters)
    return form, filters, rows


# --- list -----------------------------------------------------------------------------------------------------


@bp.get("/")
@roles_required(*READERS)
def index():
    form, filters, rows = _filtered_rows()
    export_args = {key: value for key, value in request.args.items() if value}
    filtered = any(filters[key] for key in ("text", "fund_type", "status"))
    total = queries.total_of(rows)
    return render_template("funds/index.html", form=form, rows=rows, total=total, filtered=filtered,
                           export_args=export_args, as_of=_today())


@bp.get("/funds.csv")
@roles_required(*READERS)
def export_csv():
    _form, _filters, rows = _filtered_rows()
    header = [_("Code"), _("Name"), _("Type"), _("Restriction"), _("Status"), _("Public"), _("Net assets")]

    def lines() -> Iterator[str]:
        yield csvexport.line(header)
        for fund, balance in rows:
            yield csvexport.line([fund.code, fund.name, FUND_TYPE_LABELS.get(fund.fund_type, ""),
                             RESTRICTION_LABELS.get(fund.restriction, ""), STATUS_LABELS.get(fund.status, ""),
                             _("yes") if fund.is_public else _("no"), balance])

    filename = f"funds-{_today().isoformat()}.csv"
    return csvexport.response(lines(), filename)


# --- one fund -------------------------------------------------------------------------------------------------


@bp.get("/<int:fund_id>")
@roles_required(*READERS)
def detail(fund_id: int):
    fund = db.get_or_404(Fund, fund_id)
    size = current_app.config["PAGE_SIZE"]
    page = db.paginate(queries.fund_history_query(fund.id), per_page=size, max_per_page=size, error_out=False)
    return render_template(
        "funds/detail.html",
        fund=fund,
        summary=queries.fund_summary(db.session, fund, _today()),
        page=page,
        after=queries.net_assets_after_entries(db.session, fund.id, page.items),
        can_manage=current_user.has_role(*MANAGERS),
    )


def _render_form(form: FundForm, fund: Fund | None):
    locked = fund is not None and fund_has_lines(db.session, fund)
    if locked:
        form.code.render_kw = {"readonly": True}
    return render_template("funds/form.html", form=form, fund=fund, locked=locked)


@bp.route("/new", methods=["GET", "POST"])
@roles_required(*MANAGERS)
def new():
    form = FundForm()
    if form.validate_on_submit():
        with form_service(form) as done:
            fund = create_fund(db.session, form.values(), current_user)
        if done.ok:
            flash(_("Fund %(code)s was created.", code=fund.code), "success")
            return redirect(url_for("funds.detail", fund_id=fund.id))
    return _render_form(form, None)


@bp.route("/<int:fund_id>/edit", methods=["GET", "POST"])
@roles_required(*MANAGERS)
def edit(fund_id: int):
    fund = db.get_or_404(Fund, fund_id)
    form = FundForm(obj=fund)
    if form.validate_on_submit():
        with form_service(form) as done:
            update_fund(db.session, fund, form.values(), current_user)
        if done.ok:
            flash(_("Fund %(code)s was saved.", code=fund.code), "success")
            return redirect(url_for("funds.detail", fund_id=fund.id))
    return _render_form(form, fund)


def _set_status(fund_id: int, status: str):
    fund = db.get_or_404(Fund, fund_id)
    try:
        update_fund(db.session, fund, {"status": status}, current_user)
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        db.session.commit()
        if status == FundStatus.closed.value:
            flash(_("Fund %(code)s was closed.", code=fund.code), "success")
        else:
            flash(_("Fund %(code)s was reopened.", code=fund.code), "success")
    return redirect(url_for("funds.detail", fund_id=fund_id))


@bp.post("/<int:fund_id>/close")
@roles_required(*MANAGERS)
def close(fund_id: int):
    return _set_status(fund_id, FundStatus.closed.value)


@bp.post("/<int:fund_id>/reopen")
@roles_required(*MANAGERS)
def reopen(fund_id: int):
    return _set_status(fund_id, FundStatus.active.value)
