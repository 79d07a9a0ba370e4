"""Receipt pages: the list per year, issuing (one or the year's missing ones), PDFs, voiding.

Receipts of enterprises' gift payments are listed, printed and voided here too; they are issued from the
enterprise report page (fundapp.enterprises.report_views), which is where their links lead back to."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from fundapp.auth.decorators import roles_required
from fundapp.donations import queries
from fundapp.donations.forms import METHOD_LABELS, ActionForm, VoidForm, YearForm
from fundapp.donations.models import Donation, Receipt
from fundapp.donations.receipts import (
    donations_missing_receipts,
    enterprise_payments_missing_receipts,
    issue_missing_receipts,
    issue_receipt,
    reissue_receipt,
    void_receipt,
)
from fundapp.donations.views import bp
from fundapp.donations.web import MANAGERS, READERS, pdf_response, today
from fundapp.errors import DomainError
from fundapp.extensions import db
from fundapp.web import form_service


def receipt_source_url(receipt: Receipt) -> str:
    """The page of the gift a receipt is for: its donation, or the enterprise report its payment settled."""
    if receipt.enterprise_payment_id is not None:
        return url_for("enterprises.report", report_id=receipt.enterprise_payment.report_id)
    return url_for("donations.detail", donation_id=receipt.donation_id)


def _year_arg() -> int:
    value = request.args.get("year", "")
    return int(value) if value.isdigit() and 1900 <= int(value) <= 9999 else today().year


def _year_form(year: int) -> YearForm:
    form = YearForm()
    years = sorted(set(queries.donation_years(db.session)) | {year}, reverse=True)
    form.year.choices = [SelectChoice(str(y), str(y)) for y in years]
    form.year.data = str(year)
    return form


@bp.get("/receipts")
@roles_required(*READERS)
def receipts():
    year = _year_arg()
    receipts = queries.receipts_of_year(db.session, year)
    missing = donations_missing_receipts(db.session, year)
    missing_payments = enterprise_payments_missing_receipts(db.session, year)
    years = sorted(set(queries.receipt_years(db.session)) | {year, today().year}, reverse=True)
    return render_template("donations/receipts.html", year=year, years=years, receipts=receipts,
                           missing=missing, missing_payments=missing_payments, form=_year_form(year),
                           can_manage=current_user.has_role(*MANAGERS), method_labels=METHOD_LABELS,
                           source_url=receipt_source_url)


@bp.post("/receipts/issue-year")
@roles_required(*MANAGERS)
def receipts_issue_year():
    form = YearForm()
    value = form.year.data or ""
    year = int(value) if value.isdigit() and 1900 <= int(value) <= 9999 else None
    if not form.validate_on_submit() or year is None:
        flash(_("Choose a valid year."), "error")
        return redirect(url_for("donations.receipts"))
    try:
        issued = issue_missing_receipts(db.session, year, current_user)
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(url_for("donations.receipts", year=year))
    db.session.commit()
    flash(_("%(n)d receipts issued.", n=len(issued)), "success")
    return redirect(url_for("donations.receipts", year=year))


@bp.post("/<int:donation_id>/receipt")
@roles_required(*MANAGERS)
def receipt_issue(donation_id: int):
    donation = db.get_or_404(Donation, donation_id)
    if not ActionForm().validate_on_submit():
        flash(_("The form expired. Check it and submit it again."), "error")
        return redirect(url_for("donations.detail", donation_id=donation.id))
    try:
        receipt = issue_receipt(db.session, donation, current_user)
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        db.session.commit()
        flash(_("Receipt %(number)s issued.", number=receipt.label), "success")
    return redirect(url_for("donations.detail", donation_id=donation.id))


@bp.get("/receipts/<int:receipt_id>.pdf")
@roles_required(*READERS)
def receipt_download(receipt_id: int):
    from fundapp.donations.pdf import receipt_pdf  # WeasyPrint loads only when a PDF is asked for

    receipt = db.get_or_404(Receipt, receipt_id)
    return pdf_response(receipt_pdf(receipt), f"receipt-{receipt.label}.pdf")


@bp.get("/receipts/year/<int:year>.pdf")
@roles_required(*READERS)
def receipts_year_pdf(year: int):
    from fundapp.donations.pdf import receipts_pdf

    receipts = queries.receipts_of_year(db.session, year)
    if not receipts:
        flash(_("No receipts were issued in %(year)d.", year=year), "info")
        return redirect(url_for("donations.receipts", year=year))
    return pdf_response(receipts_pdf(receipts), f"receipts-{year}.pdf", download=True)


@bp.route("/receipts/<int:receipt_id>/void", methods=["GET", "POST"])
@roles_required(*MANAGERS)
def receipt_void(receipt_id: int):
    receipt = db.get_or_404(Receipt, receipt_id)
    form = VoidForm()
    if receipt.enterprise_payment_id is not None:
        form.reissue.label.text = _("Issue a new receipt for the same payment")
    if form.validate_on_submit() and not receipt.is_void:
        with form_service(form) as done:
            if form.reissue.data:
                new = reissue_receipt(db.session, receipt, form.reason.data, current_user)
            else:
                new = void_receipt(db.session, receipt, form.reason.data, current_user)
        if done.ok:
            if new is receipt:
                flash(_("Receipt %(number)s is void.", number=receipt.label), "success")
            else:
                flash(_("Receipt %(old)s is void; receipt %(new)s was issued.", old=receipt.label, new=new.label),
                      "success")
            return redirect(receipt_source_url(receipt))
    return render_template("donations/void.html", receipt=receipt, form=form, back_url=receipt_source_url(receipt))
