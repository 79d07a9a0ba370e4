"""Statement pages: one page per statement with a period and fund picker, and its Excel and PDF exports.

Finance, admin and the board read them. A page whose period cannot be read shows the form's errors (and the
exports send the visitor back to that page); nothing here writes.
"""

from __future__ import annotations

import re

from flask import Blueprint, Response, abort, current_app, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from fundapp.auth.decorators import roles_required
from fundapp.dates import local_today
from fundapp.extensions import db
from fundapp.ledger.models import Fund
from fundapp.ledger.services import books_text
from fundapp.reports.forms import StatementForm
from fundapp.reports.periods import ReportPeriod
from fundapp.reports.statements import KINDS, Kind, Statement

bp = Blueprint("reports", __name__, url_prefix="/reports")

READERS = ("finance", "admin", "board")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORM_FIELDS = ("period", "year", "month", "quarter", "date_from", "date_to", "fund")


def _kind(name: str) -> Kind:
    kind = KINDS.get(name)
    if kind is None:
        abort(404)
    return kind


def _params() -> tuple[StatementForm, ReportPeriod | None, Fund | None]:
    """The picker read from the query string; the period is None when the form has errors."""
    today = local_today()
    form = StatementForm.for_today(request.args, today)
    funds = list(db.session.scalars(select(Fund).order_by(Fund.code)))
    form.fund.choices = [SelectChoice("", _("Whole foundation"))] + [
        SelectChoice(str(f.id), f"{f.code} {f.name}") for f in funds]
    valid = form.validate()
    fund = {str(f.id): f for f in funds}.get(form.fund.data or "")
    if form.fund.data and fund is None:
        form.fund.errors.append(_("Choose a fund from the list."))
        valid = False
    return form, form.report_period(today) if valid else None, fund


def _query_args() -> dict[str, str]:
    return {key: value for key, value in request.args.items() if key in FORM_FIELDS and value}


def foundation_name() -> str:
    return current_app.config.get("FOUNDATION_NAME") or books_text("Community Foundation")


def _filename(name: str, statement: Statement, extension: str) -> str:
    period = statement.period
    dates = period.end.isoformat() if name == "balance-sheet" else f"{period.start}_{period.end}"
    fund = f"-{re.sub(r'[^A-Za-z0-9_-]', '', statement.fund.code)}" if statement.fund else ""
    return f"{name}-{dates}{fund}.{extension}"


@bp.get("/")
@roles_required(*READERS)
def index():
    return render_template("reports/index.html", kinds=KINDS)


@bp.get("/<name>")
@roles_required(*READERS)
def statement(name: str):
    kind = _kind(name)
    form, period, fund = _params()
    result = kind.build(db.session, period, fund) if period else None
    return render_template("reports/statement.html", name=name, kind=kind, form=form, statement=result,
                           args=_query_args(), foundation=foundation_name())


@bp.get("/<name>.xlsx")
@roles_required(*READERS)
def statement_xlsx(name: str):
    kind = _kind(name)
    _form, period, fund = _params()
    if period is None:
        return redirect(url_for(".statement", name=name, **_query_args()))
    from fundapp.reports.xlsx import statement_xlsx as to_xlsx

    result = kind.build(db.session, period, fund)
    return Response(to_xlsx(result, foundation_name()), content_type=XLSX_TYPE, headers={
        "Content-Disposition": f'attachment; filename="{_filename(name, result, "xlsx")}"',
        "Cache-Control": "private, no-store"})


@bp.get("/<name>.pdf")
@roles_required(*READERS)
def statement_pdf(name: str):
    kind = _kind(name)
    _form, period, fund = _params()
    if period is None:
        return redirect(url_for(".statement", name=name, **_query_args()))
    from fundapp.reports.pdf import statement_pdf as to_pdf  # WeasyPrint loads only when a PDF is asked for

    result = kind.build(db.session, period, fund)
    return Response(to_pdf(result, foundation_name()), content_type="application/pdf", headers={
        "Content-Disposition": f'inline; filename="{_filename(name, result, "pdf")}"',
        "Cache-Control": "private, no-store"})


from fundapp.reports import annual_views, fund_statement_views  # noqa: E402,F401  (routes register on bp)
