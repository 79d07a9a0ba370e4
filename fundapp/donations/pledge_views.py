"""Pledge pages: outstanding pledges with ageing, recording a pledge, its payments and its reversal."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from fundapp.auth.decorators import roles_required
from fundapp.donations import queries
from fundapp.donations.forms import (
    METHOD_LABELS,
    PaymentForm,
    PledgeForm,
    ReasonForm,
    parse_amount_field,
    restricted_value,
)
from fundapp.donations.models import Pledge, PledgeStatus
from fundapp.donations.pledges import PaymentInput, PledgeInput, record_pledge, record_pledge_payment, reverse_pledge
from fundapp.donations.services import find_donation_by_key
from fundapp.donations.views import bp
from fundapp.donations.web import MANAGERS, READERS, fund_by_id, fund_choices, funds, resolve_donor, today
from fundapp.extensions import db
from fundapp.forms import new_key
from fundapp.web import form_service

BUCKET_LABELS = {
    "not_due": _l("Not yet due"),
    "0-30": _l("Up to 30 days"),
    "31-90": _l("31 to 90 days"),
    "91-180": _l("91 to 180 days"),
    "over_180": _l("Over 180 days"),
}


@bp.get("/pledges")
@roles_required(*READERS)
def pledges():
    ageing = queries.outstanding_pledges(db.session, today())
    return render_template("donations/pledges.html", ageing=ageing, bucket_labels=BUCKET_LABELS)


def _pledge_input(form: PledgeForm, active) -> PledgeInput | None:
    valid = form.validate()
    donor, problem = resolve_donor(form.donor.data)
    if problem:
        form.donor.errors.append(problem)
    fund = fund_by_id(active, form.fund.data)
    if fund is None:
        form.fund.errors.append(_("Choose a fund."))
    amount = parse_amount_field(form.amount)
    if not valid or donor is None or fund is None or amount is None:
        form.form_errors.append(_("Correct the marked fields; nothing was recorded."))
        return None
    return PledgeInput(donor=donor, fund=fund, pledged_on=form.pledged_on.data, amount=amount,
                       restricted=restricted_value(form.restriction.data), purpose=form.purpose.data or "",
                       due_on=form.due_on.data, key=form.key.data)


@bp.route("/pledges/new", methods=["GET", "POST"])
@roles_required(*MANAGERS)
def pledge_new():
    active = funds()
    form = PledgeForm()
    form.fund.choices = fund_choices(active, _("Choose a fund"))
    if not form.is_submitted():
        form.key.data, form.pledged_on.data = new_key(), today()
        form.donor.data = request.args.get("donor", "")
    elif form.ensure_key():
        data = _pledge_input(form, active)
        if data is not None:
            with form_service(form) as done:
                pledge = record_pledge(db.session, data, current_user)
            if done.ok:
                flash(_("Pledge recorded."), "success")
                return redirect(url_for("donations.pledge", pledge_id=pledge.id))
    return render_template("donations/pledge_form.html", form=form)


@bp.get("/pledges/<int:pledge_id>")
@roles_required(*READERS)
def pledge(pledge_id: int):
    pledge = db.get_or_404(Pledge, pledge_id)
    payments = queries.pledge_payments(db.session, pledge.id)
    can_manage = current_user.has_role(*MANAGERS)
    return render_template("donations/pledge.html", pledge=pledge, payments=payments, can_manage=can_manage,
                           method_labels=METHOD_LABELS)


def _payment_input(form: PaymentForm, pledge: Pledge) -> PaymentInput | None:
    valid = form.validate()
    amount = parse_amount_field(form.amount)
    if not valid or amount is None:
        form.form_errors.append(_("Correct the marked fields; nothing was recorded."))
        return None
    return PaymentInput(pledge=pledge, received_on=form.received_on.data, amount=amount, method=form.method.data,
                        reference=form.reference.data or "", key=form.key.data)


@bp.route("/pledges/<int:pledge_id>/pay", methods=["GET", "POST"])
@roles_required(*MANAGERS)
def pledge_pay(pledge_id: int):
    pledge = db.get_or_404(Pledge, pledge_id)
    form = PaymentForm()
    if not form.is_submitted():
        form.key.data, form.received_on.data, form.amount.data = new_key(), today(), str(pledge.outstanding)
    elif pledge.status == PledgeStatus.open.value and form.ensure_key():
        data = _payment_input(form, pledge)
        if data is not None:
            already = find_donation_by_key(db.session, data.key)
            with form_service(form) as done:
                payment = record_pledge_payment(db.session, data, current_user, issue=bool(form.issue_receipt.data))
            if done.ok:
                flash(_("This payment was already recorded; it was not recorded again.") if already
                      else _("Payment recorded."), "info" if already else "success")
                return redirect(url_for("donations.detail", donation_id=payment.id))
    return render_template("donations/payment.html", form=form, pledge=pledge)


@bp.route("/pledges/<int:pledge_id>/reverse", methods=["GET", "POST"])
@roles_required(*MANAGERS)
def pledge_reverse(pledge_id: int):
    pledge = db.get_or_404(Pledge, pledge_id)
    form = ReasonForm()
    if not form.is_submitted():
        form.effective_date.data = today()
    elif pledge.status != PledgeStatus.reversed.value and form.validate():
        with form_service(form) as done:
            reverse_pledge(db.session, pledge, form.reason.data, current_user, on=form.effective_date.data)
        if done.ok:
            flash(_("The pledge was reversed."), "success")
            return redirect(url_for("donations.pledge", pledge_id=pledge.id))
    return render_template("donations/pledge_reverse.html", pledge=pledge, form=form)
