"""Public financial pages: /public/financial (years, key figures, statutory ratios), /public/financial/<year> (the
three statements), the annual report PDF, /public/disclosure (the disclosure duties and where each is published),
/public/corrections (+ CSV) and /public/verify (the ledger head and the offline verifier).

Figures come from fundapp.disclosure.financial and fundapp.disclosure.corrections, which the API uses too. A bad
filter is no filter; an unknown year is a 404.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from flask import abort, current_app, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import SelectField
from wtforms.fields.choices import SelectChoice

from fundapp import csvexport
from fundapp.auth.decorators import public
from fundapp.compliance.ratios import YearRatios, percent
from fundapp.dates import local_today
from fundapp.disclosure import financial as published
from fundapp.disclosure.cache import cached_page
from fundapp.disclosure.corrections import KINDS, CorrectionPage, correction_years, list_corrections
from fundapp.disclosure.views import bp, page_number
from fundapp.extensions import db
from fundapp.forms import GetForm
from fundapp.notify.views import has_endpoint

VERIFIER = Path(__file__).resolve().parents[2] / "tools" / "verify_ledger.py"
HASH_DOC = Path(__file__).resolve().parents[2] / "docs" / "ledger-hash.md"
CSV_PAGE = 500


def _known_year(year: int) -> list[int]:
    years = published.book_years(db.session, local_today())
    if year not in years:
        abort(404)
    return years


def _with_activity(recent: list[YearRatios]) -> YearRatios:
    """The newest year that has income or spending (this year may not have any yet)."""
    return next((r for r in recent if r.figures.income.value or r.figures.spending.value), recent[0])


@bp.get("/financial")
@public
@cached_page
def financial():
    today = local_today()
    years = published.book_years(db.session, today)
    recent = published.recent_ratios(db.session, years, today)
    reports = {year: published.annual_report_file(year) is not None for year in years}
    return render_template("disclosure/financial.html", years=years, recent=recent, latest=_with_activity(recent),
                           reports=reports, thresholds=published.thresholds(), percent=percent)


@bp.get("/financial/<int:year>")
@public
@cached_page
def financial_year(year: int):
    years = _known_year(year)
    statements = published.statements(db.session, year)
    ratios = published.year_ratios(db.session, [year], local_today())[0]
    return render_template("disclosure/financial_year.html", year=year, years=years, statements=statements,
                           ratios=ratios, has_report=published.annual_report_file(year) is not None,
                           percent=percent)


@bp.get("/financial/<int:year>/annual-report.pdf")
@public
def annual_report(year: int):
    path = published.annual_report_file(year)
    if path is None:
        abort(404)
    return send_file(path, mimetype="application/pdf", as_attachment=True, download_name=f"annual-report-{year}.pdf",
                     max_age=300)


# --- disclosure duties --------------------------------------------------------------------------------------------


@bp.get("/disclosure")
@public
@cached_page
def duties():
    return render_template("disclosure/duties.html", rows=published.duty_rows(db.session, has_endpoint))


# --- corrections --------------------------------------------------------------------------------------------------


class CorrectionFilterForm(GetForm):
    kind = SelectField(_l("Kind"), validate_choice=False, choices=[SelectChoice("", _l("All kinds"))] + [
        SelectChoice(value, label) for value, label in KINDS.items()])
    year = SelectField(_l("Year"), validate_choice=False)

    def filters(self) -> dict:
        """Only values the list understands; anything else counts as no filter."""
        self.validate()
        year = self.year.data or ""
        return {"kind": self.kind.data if self.kind.data in KINDS else None,
                "year": int(year) if year.isascii() and year.isdigit() and 1900 <= int(year) <= 9999 else None}


def _corrections_form() -> tuple[CorrectionFilterForm, dict]:
    form = CorrectionFilterForm(formdata=request.args)
    form.year.choices = [SelectChoice("", _("All years"))] + [
        SelectChoice(str(y), str(y)) for y in correction_years(db.session)]
    return form, form.filters()


def _filter_args(filters: dict) -> dict:
    return {key: value for key, value in filters.items() if value}


@bp.get("/corrections")
@public
@cached_page
def corrections():
    form, filters = _corrections_form()
    pagination = list_corrections(db.session, **filters, page=page_number(),
                                  per_page=current_app.config["PAGE_SIZE"])
    args = _filter_args(filters)
    return render_template("disclosure/corrections.html", form=form, pagination=pagination,
                           csv_url=url_for("disclosure.corrections_csv", **args),
                           json_url=url_for("api.corrections", **args))


CSV_HEADER = (_l("Date"), _l("Kind"), _l("What was corrected"), _l("Reason"), _l("Amount"), _l("Amount before"),
              _l("Fund"), _l("Donor or payer"), _l("Correcting entry"), _l("Reversed entry"))


def csv_lines(filters: dict) -> Iterator[str]:
    """Every correction matching the filters, read a page of CSV_PAGE at a time (bounded IN lists and memory)."""
    yield csvexport.line(str(title) for title in CSV_HEADER)
    number = 1
    while True:
        page: CorrectionPage = list_corrections(db.session, **filters, page=number, per_page=CSV_PAGE)
        for row in page.items:
            yield csvexport.line([row.date.isoformat(), row.kind_label, row.subject, row.reason, row.amount,
                                  row.old_amount, row.fund, row.donor, row.entry_seq, row.reverses_seq])
        if not page.has_next:
            return
        number += 1


@bp.get("/corrections.csv")
@public
def corrections_csv():
    _form, filters = _corrections_form()
    return csvexport.response(csv_lines(filters), "corrections.csv")


# --- verify -------------------------------------------------------------------------------------------------------


@bp.get("/verify")
@public
@cached_page
def verify():
    seq, head_hash = published.ledger_head(db.session)
    return render_template("disclosure/verify.html", seq=seq, head_hash=head_hash,
                           site=request.host_url.rstrip("/"))


@bp.get("/verify_ledger.py")
@public
def verifier_script():
    return send_file(VERIFIER, mimetype="text/x-python", as_attachment=True, download_name="verify_ledger.py",
                     max_age=3600)


@bp.get("/ledger-hash.md")
@public
def hash_format():
    """docs/ledger-hash.md: how each entry's hash is made, for anyone writing their own verifier."""
    response = send_file(HASH_DOC, mimetype="text/markdown", max_age=3600)
    response.headers["Content-Type"] = "text/markdown; charset=utf-8"
    return response
