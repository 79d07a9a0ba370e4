"""The donor portal (/my/): a donor's gifts, receipts (PDF), pledges, where restricted gifts went, and yearly
giving statements. Only users holding the donor role, linked to a donor record, see it, and only their own.

Finance and admin download any donor's statement from the donations blueprint (`donations.donor_statement`).
"""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request
from flask_login import current_user

from fundapp.auth.decorators import roles_required
from fundapp.donations import portal
from fundapp.donations.forms import METHOD_LABELS
from fundapp.donations.models import Donor
from fundapp.donations.queries import donor_pledges
from fundapp.donations.views import bp as donations_bp
from fundapp.donations.web import READERS, pdf_response, today
from fundapp.extensions import db
from fundapp.ledger.models import Fund

bp = Blueprint("portal", __name__, url_prefix="/my")
DONOR = "donor"


def _donor() -> Donor:
    donor = portal.portal_donor(db.session, current_user.id)
    if donor is None:
        abort(404)
    return donor


def _valid_year(year: int) -> int:
    if not 1900 <= year <= 9999:
        abort(404)
    return year


@bp.get("/")
@roles_required(DONOR)
def index():
    donor = portal.portal_donor(db.session, current_user.id)
    if donor is None:
        return render_template("donations/portal.html", donor=None)
    gifts = portal.my_gifts(db.session, donor)
    receipts = [receipt for gift in gifts for receipt in gift.receipts]
    recorded = [gift for gift in gifts if not gift.is_reversed]
    return render_template(
        "donations/portal.html", donor=donor, gifts=gifts, receipts=receipts,
        pledges=donor_pledges(db.session, donor.id), years=portal.giving_years(gifts),
        total=sum((gift.amount for gift in recorded), portal.ZERO),
        this_year=sum((g.amount for g in recorded if g.received_on.year == today().year), portal.ZERO),
        method_labels=METHOD_LABELS, is_restricted=portal.is_restricted,
    )


@bp.get("/gifts/<int:donation_id>")
@roles_required(DONOR)
def gift(donation_id: int):
    donation = portal.my_gift(db.session, _donor(), donation_id)
    spending, spent, grants = [], portal.ZERO, []
    if portal.is_restricted(donation):
        grants = portal.fund_grants_since(db.session, donation.fund_id, donation.received_on)
        spending = portal.fund_spending_since(db.session, donation.fund_id, donation.received_on)
        spent = portal.fund_spent_since(db.session, donation.fund_id, donation.received_on)
    return render_template("donations/portal_gift.html", donation=donation, spending=spending, spent=spent, grants=grants,
                           limit=portal.SPENDING_LIMIT, restricted=portal.is_restricted(donation),
                           method_labels=METHOD_LABELS)


@bp.get("/receipts/<int:receipt_id>.pdf")
@roles_required(DONOR)
def receipt_pdf(receipt_id: int):
    from fundapp.donations.pdf import receipt_pdf as render  # WeasyPrint loads only when a PDF is asked for

    receipt = portal.my_receipt(db.session, _donor(), receipt_id)
    return pdf_response(render(receipt), f"receipt-{receipt.label}.pdf")


def _statement(donor: Donor, year: int):
    gifts = portal.statement_gifts(db.session, donor, _valid_year(year))
    if not gifts:
        abort(404)
    pdf = portal.statement_pdf(portal.statement_values(donor, year, gifts))
    return pdf_response(pdf, f"giving-statement-{year}.pdf", download=True)


@bp.get("/statement/<int:year>.pdf")
@roles_required(DONOR)
def statement(year: int):
    return _statement(_donor(), year)


@bp.get("/funds/<int:fund_id>/statement.pdf")
@roles_required(DONOR)
def fund_statement(fund_id: int):
    """The donor's copy (no donor names) of the statement of a fund they gave to, for the calendar year ?year=."""
    import datetime as dt

    from fundapp.reports.fund_statement import fund_statement as build
    from fundapp.reports.fund_statement import has_given_to
    from fundapp.reports.fund_statement_views import filename, statement_pdf

    donor = _donor()
    fund = db.session.get(Fund, fund_id)
    if fund is None or not has_given_to(db.session, donor, fund):
        abort(404)
    raw = request.args.get("year", "")
    if raw and not raw.isdigit():
        abort(404)
    year = _valid_year(int(raw)) if raw else today().year
    start, end = dt.date(year, 1, 1), min(dt.date(year, 12, 31), today())
    if end < start:
        abort(404)
    statement = build(db.session, fund, start, end, public=True)
    return pdf_response(statement_pdf(statement, public=True), filename(statement), download=True)


@donations_bp.get("/donors/<int:donor_id>/statement/<int:year>.pdf")
@roles_required(*READERS)
def donor_statement(donor_id: int, year: int):
    donor = db.get_or_404(Donor, donor_id)
    return _statement(donor, year)
