"""The foundation's view of the enterprises: arrears with ageing and missing reports; the dashboard of what came
back per enterprise per period (an SVG chart and the same figures as a table) and into each community fund."""

from __future__ import annotations

from flask import render_template, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from fundapp.auth.decorators import roles_required
from fundapp.enterprises.arrears import arrears, late_filings, missing_reports, payment_years, returns
from fundapp.enterprises.chart import stacked_bars
from fundapp.enterprises.forms import DashboardForm
from fundapp.enterprises.queries import waiting_revisions
from fundapp.enterprises.views import LABELS, bp
from fundapp.enterprises.web import MANAGERS, READERS, today
from fundapp.extensions import db

BUCKET_LABELS = {
    "not_due": _l("Not yet due"),
    "0-30": _l("Up to 30 days"),
    "31-90": _l("31 to 90 days"),
    "over_90": _l("Over 90 days"),
}  # the buckets of fundapp.enterprises.arrears.BUCKETS, in order


@bp.get("/arrears")
@roles_required(*READERS)
def arrears_page():
    day = today()
    return render_template("enterprises/arrears.html", day=day, owed=arrears(db.session, day),
                           missing=missing_reports(db.session, day), waiting=waiting_revisions(db.session),
                           late=late_filings(db.session)[:50], bucket_labels=BUCKET_LABELS,
                           can_manage=current_user.has_role(*MANAGERS), **LABELS)


def _dashboard_form() -> tuple[DashboardForm, str, int]:
    day = today()
    form = DashboardForm(formdata=request.args)
    years = sorted(set(payment_years(db.session)) | {day.year}, reverse=True)
    form.year.choices = [SelectChoice(str(y), str(y)) for y in years]
    form.validate()
    grain = form.grain.data if form.grain.data in ("month", "quarter", "year") else "quarter"
    year = int(form.year.data) if (form.year.data or "").isdigit() and int(form.year.data) in years else day.year
    form.grain.data, form.year.data = grain, str(year)
    return form, grain, year


@bp.get("/dashboard")
@roles_required(*READERS)
def dashboard():
    form, grain, year = _dashboard_form()
    data = returns(db.session, grain, year, today())
    series = [(e.name, [data.amount(e.id, p) for p in data.periods]) for e in data.enterprises]
    chart = stacked_bars(data.periods, series)
    return render_template("enterprises/dashboard.html", form=form, data=data, chart=chart, grain=grain, year=year)
