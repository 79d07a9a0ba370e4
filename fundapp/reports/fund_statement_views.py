"""Fund statement pages: /reports/funds/<id>/statement (a period picker and the statement) and its PDF.

Finance, admin and the board read them. A period that cannot be read shows the form's errors (the PDF sends the
visitor back to the page). Donors get their copy, with no donor names, from the portal (`portal.fund_statement`),
rendered by `statement_pdf` here.
"""

from __future__ import annotations

import datetime as dt
import re

from flask import Response, current_app, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from wtforms import DateField

from fundapp.auth.decorators import roles_required
from fundapp.dates import local_today
from fundapp.extensions import db
from fundapp.forms import GetForm
from fundapp.ledger.models import Fund
from fundapp.reports.fund_statement import FundStatement, fund_statement
from fundapp.reports.periods import FIRST_YEAR, LAST_YEAR, MAX_DAYS, zh_date
from fundapp.reports.views import READERS, bp, foundation_name

DATE_MESSAGE = _l("Enter a date as YYYY-MM-DD.")


class FundStatementForm(GetForm):
    start = DateField(_l("From"), invalid_value_message=DATE_MESSAGE)
    end = DateField(_l("To"), invalid_value_message=DATE_MESSAGE)

    def period(self) -> tuple[dt.date, dt.date] | None:
        """After validate(): (start, end), or None with the reason on the form."""
        start, end = self.start.data, self.end.data
        if start is None or end is None:
            for item in (self.start, self.end):
                if item.data is None and not item.errors:
                    item.errors.append(_l("Enter the first and the last day of the period."))
            return None
        for item in (self.start, self.end):
            if not FIRST_YEAR <= item.data.year <= LAST_YEAR:
                item.errors.append(_l("Enter a year between %(min)s and %(max)s.", min=FIRST_YEAR, max=LAST_YEAR))
                return None
        if end < start:
            self.end.errors.append(_l("The last day comes before the first day."))
            return None
        if (end - start).days > MAX_DAYS:
            self.end.errors.append(_l("Choose a period of at most ten years."))
            return None
        return start, end


def _form() -> tuple[FundStatementForm, tuple[dt.date, dt.date] | None]:
    today = local_today()
    form = FundStatementForm(formdata=request.args, start=dt.date(today.year, 1, 1), end=today)
    valid = form.validate()
    return form, form.period() if valid else None


def _args() -> dict[str, str]:
    return {key: request.args[key] for key in ("start", "end") if request.args.get(key)}


def statement_values(statement: FundStatement, foundation: str, public: bool) -> dict:
    """Everything printed on the PDF, as plain strings (the template does no lookups and no arithmetic)."""
    from fundapp.donations.pdf import money_text

    s = statement
    return {
        "foundation": foundation,
        "fund": f"{s.fund.code} {s.fund.name}",
        "period": f"{zh_date(s.start)}至{zh_date(s.end)}",
        "period_en": f"{s.start.isoformat()} – {s.end.isoformat()}",
        "opening_date": zh_date(s.opening_date),
        "closing_date": zh_date(s.end),
        "opening": money_text(s.opening),
        "gifts": money_text(s.gifts),
        "other_income": [{"name": line.name, "name_en": line.name_en, "amount": money_text(line.amount)}
                         for line in s.other_income],
        "total_income": money_text(s.total_income),
        "grants_awarded": money_text(s.grants_awarded),
        "other_programme": money_text(s.other_programme),
        "costs": [{"name": line.name, "name_en": line.name_en, "amount": money_text(line.amount)}
                  for line in s.costs],
        "total_spending": money_text(s.total_spending),
        "other_changes": money_text(s.other_changes) if s.other_changes else "",
        "closing": money_text(s.closing),
        "gift_count": s.gift_count,
        "donor_count": s.donor_count,
        "anonymous_gifts": s.anonymous_gifts,
        "grants": [{"number": g.number, "organisation": g.organisation, "title": g.title,
                    "awarded_on": g.awarded_on.isoformat(), "amount": money_text(g.amount), "paid": money_text(g.paid)}
                   for g in s.grants],
        "donors": [] if public else [{"name": d.name, "gifts": d.gifts, "amount": money_text(d.amount)}
                                     for d in s.donors],
        "public": public,
        "printed_on": zh_date(local_today()),
    }


def statement_pdf(statement: FundStatement, public: bool = False) -> bytes:
    from weasyprint import HTML  # WeasyPrint loads only when a PDF is asked for

    from fundapp.donations.pdf import CJK_FONT, StaticOnlyFetcher

    html = render_template("pdf/fund_statement.html", s=statement_values(statement, foundation_name(), public),
                           font=CJK_FONT)
    root = current_app.static_folder
    return HTML(string=html, base_url=f"file://{root}/", url_fetcher=StaticOnlyFetcher(root)).write_pdf()


def filename(statement: FundStatement) -> str:
    code = re.sub(r"[^A-Za-z0-9_-]", "", statement.fund.code)
    return f"fund-statement-{code}-{statement.start}_{statement.end}.pdf"


@bp.get("/funds/<int:fund_id>/statement")
@roles_required(*READERS)
def fund_statement_page(fund_id: int):
    fund = db.get_or_404(Fund, fund_id)
    form, period = _form()
    statement = fund_statement(db.session, fund, *period) if period else None
    return render_template("reports/fund_statement.html", fund=fund, form=form, statement=statement,
                           args=_args(), foundation=foundation_name())


@bp.get("/funds/<int:fund_id>/statement.pdf")
@roles_required(*READERS)
def fund_statement_pdf(fund_id: int):
    fund = db.get_or_404(Fund, fund_id)
    form, period = _form()
    if period is None:
        return redirect(url_for(".fund_statement_page", fund_id=fund.id, **_args()))
    statement = fund_statement(db.session, fund, *period)
    return Response(statement_pdf(statement), content_type="application/pdf", headers={
        "Content-Disposition": f'inline; filename="{filename(statement)}"', "Cache-Control": "private, no-store"})
