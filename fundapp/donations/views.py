"""Donation pages: the list, recording a gift, its page, reversal and correction.

Views are thin: parse the form, call one service, commit or roll back, flash, redirect. Finance records
and corrects; admin reads. Pledges, donors and receipts have their own modules on the same blueprint.
"""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from fundapp.auth.decorators import roles_required
from fundapp.donations import queries
from fundapp.donations.forms import (
    BASIS_LABELS,
    METHOD_LABELS,
    CorrectionForm,
    DonationFilterForm,
    DonationForm,
    ReasonForm,
    parse_amount_field,
    restricted_value,
)
from fundapp.donations.models import Donation
from fundapp.donations.services import (
    DonationInput,
    correct_donation,
    find_donation_by_key,
    record_donation,
    reverse_donation,
)
from fundapp.donations.web import MANAGERS, READERS, fund_by_id, fund_choices, funds, resolve_donor, today
from fundapp.errors import DomainError
from fundapp.extensions import db
from fundapp.forms import new_key
from fundapp.ledger.models import Fund
from fundapp.web import form_service

bp = Blueprint("donations", __name__, url_prefix="/donations")


# --- the list -------------------------------------------------------------------------------------------------


def _filters() -> tuple[DonationFilterForm, dict]:
    form = DonationFilterForm(formdata=request.args)
    all_funds = funds(active_only=False)
    form.fund.choices = fund_choices(all_funds, _("All funds"))
    form.year.choices = [SelectChoice("", _("All years"))] + [
        SelectChoice(str(y), str(y)) for y in queries.donation_years(db.session)]
    form.validate()
    fund = fund_by_id(all_funds, form.fund.data)
    year = form.year.data if (form.year.data or "").isdigit() else None
    filters = {"fund_id": fund.id if fund else None, "year": int(year) if year else None,
               "method": form.method.data or None, "status": form.status.data or None,
               "text": form.q.data if form.q.data and not form.q.errors else None}
    return form, filters


@bp.get("/")
@roles_required(*READERS)
def index():
    form, filters = _filters()
    size = current_app.config["PAGE_SIZE"]
    page = db.paginate(queries.donations_query(**filters), per_page=size, max_per_page=size, error_out=False)
    return render_template("donations/index.html", form=form, page=page, filtered=any(filters.values()),
                           method_labels=METHOD_LABELS)


# --- recording ------------------------------------------------------------------------------------------------


def _prepare(form: DonationForm, active: list[Fund]) -> None:
    form.fund.choices = fund_choices(active, _("Choose a fund"))


def _donation_input(form: DonationForm, active: list[Fund]) -> DonationInput | None:
    """The form's gift, or None after putting a message on each bad field."""
    valid = form.validate()
    donor, problem = resolve_donor(form.donor.data)
    if problem:
        form.donor.errors.append(problem)
    fund = fund_by_id(active, form.fund.data)
    if fund is None:
        form.fund.errors.append(_("Choose a fund."))
    amount = parse_amount_field(form.amount)
    if not valid or problem or fund is None or amount is None:
        form.form_errors.append(_("Correct the marked fields; nothing was recorded."))
        return None
    return DonationInput(
        fund=fund, received_on=form.received_on.data, amount=amount, method=form.method.data, donor=donor,
        restricted=restricted_value(form.restriction.data), purpose=form.purpose.data or "",
        reference=form.reference.data or "", item_description=form.item_description.data or "",
        quantity=form.quantity.data or "", unit=form.unit.data or "",
        valuation_basis=form.valuation_basis.data or None, key=form.key.data,
    )


def _record(form: DonationForm, data: DonationInput):
    already = find_donation_by_key(db.session, data.key)
    issue = bool(form.issue_receipt.data) and data.donor is not None
    try:
        donation = record_donation(db.session, data, current_user, issue=issue)
    except DomainError as error:
        db.session.rollback()
        form.form_errors.append(error.message)
        return None
    db.session.commit()
    if already is not None:
        flash(_("This donation was already recorded; it was not recorded again."), "info")
    else:
        flash(_("Donation recorded."), "success")
    return redirect(url_for("donations.detail", donation_id=donation.id))


@bp.route("/new", methods=["GET", "POST"])
@roles_required(*MANAGERS)
def new():
    active = funds()
    form = DonationForm()
    _prepare(form, active)
    if not form.is_submitted():
        form.key.data = new_key()
        form.received_on.data = today()
        form.donor.data = request.args.get("donor", "")
    elif form.ensure_key():
        data = _donation_input(form, active)
        if data is not None:
            done = _record(form, data)
            if done is not None:
                return done
    return render_template("donations/new.html", form=form, basis_labels=BASIS_LABELS)


# --- one donation ---------------------------------------------------------------------------------------------


@bp.get("/<int:donation_id>")
@roles_required(*READERS)
def detail(donation_id: int):
    donation = db.get_or_404(Donation, donation_id)
    corrected_by = db.session.scalar(db.select(Donation).where(Donation.corrects_id == donation.id))
    return render_template("donations/detail.html", donation=donation, corrected_by=corrected_by,
                           method_labels=METHOD_LABELS, basis_labels=BASIS_LABELS,
                           can_manage=current_user.has_role(*MANAGERS))


@bp.route("/<int:donation_id>/reverse", methods=["GET", "POST"])
@roles_required(*MANAGERS)
def reverse(donation_id: int):
    donation = db.get_or_404(Donation, donation_id)
    form = ReasonForm()
    if not form.is_submitted():
        form.effective_date.data = today()
    elif not donation.is_reversed and form.validate():
        with form_service(form) as done:
            reverse_donation(db.session, donation, form.reason.data, current_user, on=form.effective_date.data)
        if done.ok:
            flash(_("The donation was reversed and its receipt voided."), "success")
            return redirect(url_for("donations.detail", donation_id=donation.id))
    return render_template("donations/reverse.html", donation=donation, form=form, method_labels=METHOD_LABELS)


def _prefill(form: CorrectionForm, donation: Donation) -> None:
    form.key.data = new_key()
    form.donor.data = str(donation.donor_id or "")
    form.received_on.data = donation.received_on
    form.amount.data = str(donation.amount)
    form.method.data = donation.method
    form.fund.data = str(donation.fund_id)
    form.restriction.data = donation.net_asset_class
    for name in ("purpose", "reference", "item_description", "quantity", "unit"):
        getattr(form, name).data = getattr(donation, name)
    form.valuation_basis.data = donation.valuation_basis or ""
    form.issue_receipt.data = donation.active_receipt is not None


@bp.route("/<int:donation_id>/correct", methods=["GET", "POST"])
@roles_required(*MANAGERS)
def correct(donation_id: int):
    donation = db.get_or_404(Donation, donation_id)
    active = funds()
    form = CorrectionForm()
    _prepare(form, active)
    blocked = donation.is_reversed or donation.pledge_id is not None
    if not form.is_submitted():
        _prefill(form, donation)
    elif not blocked and form.ensure_key():
        data = _donation_input(form, active)
        if data is not None:
            with form_service(form) as done:
                right = correct_donation(db.session, donation, form.reason.data, data, current_user)
            if done.ok:
                flash(_("The wrong donation was reversed and the correction recorded."), "success")
                return redirect(url_for("donations.detail", donation_id=right.id))
    return render_template("donations/correct.html", form=form, donation=donation, blocked=blocked,
                           basis_labels=BASIS_LABELS, method_labels=METHOD_LABELS)


# The other pages register their routes on `bp`.
from fundapp.donations import donor_views, pledge_views, portal_views, receipt_views  # noqa: E402,F401
from fundapp.donations.imports import views as import_views  # noqa: E402,F401
