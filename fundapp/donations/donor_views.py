"""Donor pages: list with search, sort and CSV export; a donor's page; create, edit and merge."""

from __future__ import annotations

from collections.abc import Iterator

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from fundapp import csvexport
from fundapp.auth.decorators import roles_required
from fundapp.donations import queries
from fundapp.donations.donors import merge_donors, save_donor
from fundapp.donations.forms import KIND_LABELS, METHOD_LABELS, DonorFilterForm, DonorForm, MergeForm
from fundapp.donations.models import Donation, Donor, Receipt
from fundapp.donations.views import bp
from fundapp.donations.web import MANAGERS, READERS
from fundapp.errors import DomainError
from fundapp.extensions import db
from fundapp.web import form_service

CSV_BATCH = 1000


def _filters() -> tuple[DonorFilterForm, dict]:
    form = DonorFilterForm(formdata=request.args)
    form.validate()
    filters = {"text": form.q.data if form.q.data and not form.q.errors else None, "kind": form.kind.data or None,
               "sort": form.sort.data or "name", "include_merged": bool(form.merged.data)}
    return form, filters


@bp.get("/donors")
@roles_required(*READERS)
def donors():
    form, filters = _filters()
    size = current_app.config["PAGE_SIZE"]
    page = db.paginate(queries.donors_query(**filters), per_page=size, max_per_page=size, error_out=False)
    totals = queries.donor_totals(db.session, [donor.id for donor in page.items])
    export_args = {key: value for key, value in request.args.items() if key != "page" and value}
    filtered = bool(filters["text"] or filters["kind"] or filters["include_merged"])
    return render_template("donations/donors.html", form=form, page=page, totals=totals, filtered=filtered,
                           export_args=export_args, kind_labels=KIND_LABELS)


@bp.get("/donors.csv")
@roles_required(*READERS)
def donors_csv():
    _form, filters = _filters()
    stmt = queries.donors_query(**filters).execution_options(yield_per=CSV_BATCH)
    header = [_("Number"), _("Type"), _("Name"), _("ID or credit code"), _("Contact person"), _("Phone"), _("Email"),
              _("Address"), _("Anonymous in public"), _("Total given"), _("Gifts"), _("Latest gift"),
              _("Merged into")]

    def lines() -> Iterator[str]:
        yield csvexport.line(header)
        for chunk in db.session.scalars(stmt).partitions():
            totals = queries.donor_totals(db.session, [donor.id for donor in chunk])
            for donor in chunk:
                given = totals.get(donor.id, queries.GiftTotals())
                yield csvexport.line([donor.id, KIND_LABELS.get(donor.kind, donor.kind), donor.name, donor.id_code,
                                donor.contact_person, donor.phone, donor.email, donor.address,
                                _("yes") if donor.anonymous_in_public else _("no"), given.total, given.gifts,
                                given.last.isoformat() if given.last else "", donor.merged_into_id or ""])

    return csvexport.response(lines(), "donors.csv")


@bp.get("/donors/<int:donor_id>")
@roles_required(*READERS)
def donor(donor_id: int):
    donor = db.get_or_404(Donor, donor_id)
    donations = list(db.session.scalars(
        select(Donation).where(Donation.donor_id == donor.id).options(selectinload(Donation.receipts))
        .order_by(Donation.received_on.desc(), Donation.id)))
    receipts = list(db.session.scalars(
        select(Receipt).join(Donation, Receipt.donation_id == Donation.id).where(Donation.donor_id == donor.id)
        .order_by(Receipt.year.desc(), Receipt.number.desc())))
    merged = list(db.session.scalars(select(Donor).where(Donor.merged_into_id == donor.id).order_by(Donor.id)))
    totals = queries.donor_totals(db.session, [donor.id]).get(donor.id, queries.GiftTotals())
    return render_template("donations/donor.html", donor=donor, donations=donations, receipts=receipts,
                           pledges=queries.donor_pledges(db.session, donor.id), merged=merged, totals=totals,
                           kind_labels=KIND_LABELS, method_labels=METHOD_LABELS,
                           can_manage=current_user.has_role(*MANAGERS))


def _save(form: DonorForm, donor: Donor | None):
    try:
        donor = save_donor(db.session, donor, form.values(), form.portal_email.data or "", current_user)
    except DomainError as error:
        db.session.rollback()
        form.form_errors.append(error.message)
        return None
    db.session.commit()
    flash(_("Donor %(name)s saved.", name=donor.name), "success")
    return redirect(url_for("donations.donor", donor_id=donor.id))


@bp.route("/donors/new", methods=["GET", "POST"])
@roles_required(*MANAGERS)
def donor_new():
    form = DonorForm()
    if form.validate_on_submit():
        saved = _save(form, None)
        if saved is not None:
            return saved
    elif form.is_submitted():
        form.form_errors.append(_("Correct the marked fields; nothing was saved."))
    return render_template("donations/donor_form.html", form=form, donor=None)


@bp.route("/donors/<int:donor_id>/edit", methods=["GET", "POST"])
@roles_required(*MANAGERS)
def donor_edit(donor_id: int):
    donor = db.get_or_404(Donor, donor_id)
    form = DonorForm(obj=donor)
    if not form.is_submitted():
        form.portal_email.data = donor.user.email if donor.user else ""
    elif donor.is_merged:
        form.form_errors.append(_("This donor was merged into donor #%(id)d; use that record.",
                                  id=donor.merged_into_id))
    elif form.validate():
        saved = _save(form, donor)
        if saved is not None:
            return saved
    else:
        form.form_errors.append(_("Correct the marked fields; nothing was saved."))
    return render_template("donations/donor_form.html", form=form, donor=donor)


@bp.route("/donors/<int:donor_id>/merge", methods=["GET", "POST"])
@roles_required(*MANAGERS)
def donor_merge(donor_id: int):
    """Step 1 names the duplicate; step 2 shows both records and asks to confirm; then the merge happens."""
    survivor = db.get_or_404(Donor, donor_id)
    form = MergeForm()
    duplicate = None
    if form.validate_on_submit():
        duplicate = db.session.get(Donor, form.duplicate_id() or 0)
        if duplicate is None:
            form.duplicate.errors.append(_("There is no donor number %(n)s.", n=form.duplicate.data))
        elif form.confirm.data == "yes":
            with form_service(form) as done:
                merge_donors(db.session, survivor, duplicate, current_user)
            if done.ok:
                flash(_("Donor #%(dup)d was merged into this donor; its record is kept.", dup=duplicate.id),
                      "success")
                return redirect(url_for("donations.donor", donor_id=survivor.id))
    counts = {}
    for donor in (survivor, duplicate):
        if donor is not None:
            counts[donor.id] = queries.donor_totals(db.session, [donor.id]).get(donor.id, queries.GiftTotals())
    return render_template("donations/merge.html", form=form, survivor=survivor, duplicate=duplicate,
                           counts=counts, kind_labels=KIND_LABELS)
