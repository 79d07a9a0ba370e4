"""Grant pages: awards after approval — the list, a grant's whole life, its tranche schedule, payments (with a
second approver above the limit) and their payment advice, the grantee's reports and their review, the close-out.

Staff and the board read every award; an applicant reads only its own organisation's (404 first, then 403).
Finance pays and approves; staff (finance, admin) set schedules, review reports and close awards; the grantee's
users file reports.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from fundapp import csvexport
from fundapp.auth.decorators import roles_required
from fundapp.donations.web import pdf_response
from fundapp.extensions import db
from fundapp.forms import new_key
from fundapp.grants.attachments import read_grant_upload
from fundapp.grants.awards import (
    CloseInput,
    TrancheSpec,
    accepted_final_report,
    accepted_spending,
    award_life,
    awards_query,
    budget_lines,
    close_award,
    next_tranche,
    set_schedule,
)
from fundapp.grants.forms_award import (
    AWARD_STATUS_LABELS,
    PAYMENT_STATUS_LABELS,
    REPORT_KIND_LABELS,
    REPORT_STATUS_LABELS,
    TRANCHE_STATUS_LABELS,
    AcceptReportForm,
    ApproveForm,
    AwardFilterForm,
    CloseForm,
    PaymentForm,
    RejectPaymentForm,
    ReportForm,
    ReturnReportForm,
    ScheduleForm,
    amount_of,
)
from fundapp.grants.models import (
    Award,
    AwardStatus,
    GrantReport,
    PaymentStatus,
    Programme,
    ReportStatus,
    Tranche,
    TranchePayment,
    TrancheStatus,
)
from fundapp.grants.payments import PaymentInput, approve_payment, find_payment_by_key, reject_payment, request_payment
from fundapp.grants.reports import ReportInput, accept_report, file_report, pending_report, return_report
from fundapp.grants.views import bp
from fundapp.grants.web import APPLICANT, PAYERS, READERS, STAFF, is_own, own_organisation_id, require_own_or, today
from fundapp.ledger.models import Fund
from fundapp.web import form_service

VIEWERS = (*READERS, APPLICANT)
LABELS = {"award_status_labels": AWARD_STATUS_LABELS, "tranche_status_labels": TRANCHE_STATUS_LABELS,
          "payment_status_labels": PAYMENT_STATUS_LABELS, "report_kind_labels": REPORT_KIND_LABELS,
          "report_status_labels": REPORT_STATUS_LABELS}


def _award(award_id: int) -> Award:
    award = db.get_or_404(Award, award_id)
    require_own_or(award.organisation_id, *READERS)
    return award


def _to_award(award: Award, message: str, category: str = "success"):
    flash(message, category)
    return redirect(url_for("grants.award_detail", award_id=award.id))


# --- the list -----------------------------------------------------------------------------------------------------


def _scope() -> tuple[bool, int | None]:
    """(sees every award, the applicant's organisation)."""
    return current_user.has_role(*READERS), own_organisation_id()


def _filters() -> tuple[AwardFilterForm, dict, bool]:
    everything, organisation_id = _scope()
    visible = select(Award.fund_id, Award.programme_id)
    if not everything:
        visible = visible.where(Award.organisation_id == (organisation_id or 0))
    pairs = db.session.execute(visible.distinct()).all()
    funds = db.session.scalars(select(Fund).where(Fund.id.in_({f for f, _p in pairs})).order_by(Fund.code))
    programmes = db.session.scalars(select(Programme).where(Programme.id.in_({p for _f, p in pairs}))
                                    .order_by(Programme.code))
    form = AwardFilterForm(formdata=request.args)
    form.fund.choices = [SelectChoice("", _("Any fund"))] + [SelectChoice(str(f.id), f"{f.code} {f.name}")
                                                              for f in funds]
    form.programme.choices = [SelectChoice("", _("Any programme"))] + [
        SelectChoice(str(p.id), f"{p.code} {p.title}") for p in programmes]
    form.validate()
    number = lambda value: int(value) if (value or "").isdigit() else None  # noqa: E731
    filters = {"text": form.q.data if form.q.data and not form.q.errors else None,
               "fund_id": number(form.fund.data), "programme_id": number(form.programme.data),
               "status": form.status.data if form.status.data in AWARD_STATUS_LABELS else None}
    filtered = any(v is not None for v in filters.values())
    filters["sort"] = form.sort.data or ""
    if not everything:
        filters["organisation_id"] = organisation_id or 0
    return form, filters, filtered


@bp.get("/awards/")
@roles_required(*VIEWERS)
def awards():
    form, filters, filtered = _filters()
    size = current_app.config["PAGE_SIZE"]
    page = db.paginate(awards_query(**filters), per_page=size, max_per_page=size, error_out=False)
    everything, organisation_id = _scope()
    export_args = {key: value for key, value in request.args.items() if value and key != "page"}
    return render_template("grants/awards.html", form=form, page=page, filtered=filtered, export_args=export_args,
                           unlinked=not everything and organisation_id is None, **LABELS)


@bp.get("/awards.csv")
@roles_required(*VIEWERS)
def awards_csv():
    _form, filters, _filtered = _filters()
    rows = list(db.session.scalars(awards_query(**filters)))  # read now: the stream outlives the session
    header = [_("Award"), _("Awarded on"), _("Organisation"), _("Project"), _("Programme"), _("Fund"), _("Amount"),
              _("Paid"), _("Outstanding"), _("Released"), _("Returned"), _("Status")]

    def lines() -> Iterator[str]:
        yield csvexport.line(header)
        for a in rows:
            yield csvexport.line([a.number, a.awarded_on.isoformat(), a.organisation.name, a.title, a.programme.title,
                                  a.fund.code, a.amount, a.paid_amount, a.outstanding, a.released_amount,
                                  a.returned_amount, str(AWARD_STATUS_LABELS.get(a.status, a.status))])

    return csvexport.response(lines(), f"awards-{today().isoformat()}.csv")


# --- one award ----------------------------------------------------------------------------------------------------


@bp.get("/awards/<int:award_id>")
@roles_required(*VIEWERS)
def award_detail(award_id: int):
    award = _award(award_id)
    life = award_life(db.session, award)
    coming = next_tranche(life.tranches)
    active = award.status == AwardStatus.active.value
    untouched = active and all(t.status == TrancheStatus.scheduled.value for t in life.tranches)
    final = accepted_final_report(db.session, award.id)
    waiting_payment = any(t.status == TrancheStatus.awaiting_approval.value for t in life.tranches)
    return render_template(
        "grants/award.html", life=life, award=award, coming=coming, final=final,
        is_reader=current_user.has_role(*READERS),
        can_schedule=current_user.has_role(*STAFF) and untouched and award.paid_amount == 0,
        can_pay=current_user.has_role(*PAYERS) and active and coming is not None
        and coming.status == TrancheStatus.scheduled.value,
        can_report=is_own(award.organisation_id) and active and award.paid_amount > 0 and final is None
        and pending_report(db.session, award.id) is None,
        can_close=current_user.has_role(*STAFF) and active and final is not None and not waiting_payment,
        **LABELS)


# --- the schedule -------------------------------------------------------------------------------------------------


def _schedule_specs(form: ScheduleForm) -> list[TrancheSpec] | None:
    valid, specs = form.validate(), []
    for row in form.rows:
        sub = row.form
        if sub.is_blank():
            continue
        amount = amount_of(sub.amount)
        if sub.due_on.data is None and not sub.due_on.errors:
            sub.due_on.errors = [*sub.due_on.errors, _("Enter the date the tranche is due.")]
        if amount is None or sub.due_on.data is None:
            valid = False
            continue
        specs.append(TrancheSpec(amount, sub.due_on.data, sub.milestone.data or "",
                                 bool(sub.requires_report.data) if len(specs) else False))
    if not valid:
        form.form_errors.append(_("Correct the marked fields; nothing was saved."))
        return None
    return specs


@bp.route("/awards/<int:award_id>/schedule", methods=["GET", "POST"])
@roles_required(*STAFF)
def award_schedule(award_id: int):
    award = db.get_or_404(Award, award_id)
    form = ScheduleForm()
    if not form.is_submitted():
        form = ScheduleForm(data={"rows": [
            {"amount": str(t.amount), "due_on": t.due_on, "milestone": t.milestone,
             "requires_report": t.requires_report} for t in award.tranches]})
        for _extra in range(2):
            form.rows.append_entry({"requires_report": True})
    else:
        specs = _schedule_specs(form)
        if specs is not None:
            with form_service(form) as done:
                set_schedule(db.session, award, specs, current_user)
            if done.ok:
                return _to_award(award, _("The payment schedule was saved."))
    locked = award.paid_amount > 0 or any(t.status != TrancheStatus.scheduled.value for t in award.tranches)
    return render_template("grants/award_schedule.html", form=form, award=award, locked=locked, **LABELS)


# --- payments -----------------------------------------------------------------------------------------------------


def _payment_tranche(form: PaymentForm, award: Award) -> Tranche | None:
    tranche_id = form.tranche.data or ""
    tranche = db.session.get(Tranche, int(tranche_id)) if tranche_id.isdigit() else None
    return tranche if tranche is not None and tranche.award_id == award.id else None


@bp.route("/awards/<int:award_id>/pay", methods=["GET", "POST"])
@roles_required(*PAYERS)
def award_pay(award_id: int):
    award = db.get_or_404(Award, award_id)
    form = PaymentForm()
    shown = next_tranche(list(award.tranches))
    if not form.is_submitted():
        form.key.data, form.paid_on.data = new_key(), today()
    elif form.ensure_key():
        already = find_payment_by_key(db.session, form.key.data)
        if already is not None:  # a second click on the same form: the payment made by the first
            flash(_("This payment was already recorded; it was not recorded again."), "info")
            return redirect(url_for("grants.payment", payment_id=already.id))
        chosen = _payment_tranche(form, award)  # the tranche on screen when the form was filled, never another
        valid = form.validate()
        amount = amount_of(form.amount)
        if chosen is None:
            form.form_errors.append(_("The tranche to pay has changed: check the figures and submit again."))
        elif not valid or amount is None:
            form.form_errors.append(_("Correct the marked fields; nothing was paid."))
        else:
            data = PaymentInput(tranche=chosen, paid_on=form.paid_on.data, bank_reference=form.bank_reference.data,
                                amount=amount, key=form.key.data)
            with form_service(form) as done:
                payment = request_payment(db.session, data, current_user)
            if done.ok:
                if payment.status == PaymentStatus.paid.value:
                    flash(_("Tranche %(seq)d was paid and posted.", seq=chosen.seq), "success")
                else:
                    flash(_("The payment waits for a second finance user's approval; nothing is posted until then."),
                          "info")
                return redirect(url_for("grants.payment", payment_id=payment.id))
    form.tranche.data = str(shown.id) if shown is not None else ""  # a retry is for the tranche shown now
    return render_template("grants/award_pay.html", form=form, award=award, tranche=shown, **LABELS)


def _render_payment(payment: TranchePayment, **forms):
    forms.setdefault("approve_form", ApproveForm(formdata=None))
    forms.setdefault("reject_form", RejectPaymentForm(formdata=None))
    is_maker = payment.requested_by_id == current_user.id
    return render_template("grants/payment.html", payment=payment, award=payment.award, tranche=payment.tranche,
                           is_maker=is_maker, can_decide=current_user.has_role(*PAYERS) and not is_maker
                           and payment.status == PaymentStatus.awaiting_approval.value, **forms, **LABELS)


@bp.get("/payments/<int:payment_id>")
@roles_required(*READERS)
def payment(payment_id: int):
    return _render_payment(db.get_or_404(TranchePayment, payment_id))


@bp.post("/payments/<int:payment_id>/approve")
@roles_required(*PAYERS)
def payment_approve(payment_id: int):
    payment = db.get_or_404(TranchePayment, payment_id)
    form = ApproveForm()
    if form.validate():
        with form_service(form) as done:
            approve_payment(db.session, payment, current_user)
        if done.ok:
            flash(_("The payment was approved and posted."), "success")
            return redirect(url_for("grants.payment", payment_id=payment_id))
    return _render_payment(db.session.get(TranchePayment, payment_id), approve_form=form)


@bp.post("/payments/<int:payment_id>/reject")
@roles_required(*PAYERS)
def payment_reject(payment_id: int):
    payment = db.get_or_404(TranchePayment, payment_id)
    form = RejectPaymentForm()
    if form.validate():
        with form_service(form) as done:
            reject_payment(db.session, payment, form.reason.data, current_user)
        if done.ok:
            flash(_("The payment was rejected; nothing was posted."), "success")
            return redirect(url_for("grants.payment", payment_id=payment_id))
    return _render_payment(db.session.get(TranchePayment, payment_id), reject_form=form)


@bp.get("/payments/<int:payment_id>/advice.pdf")
@roles_required(*VIEWERS)
def payment_advice(payment_id: int):
    payment = db.get_or_404(TranchePayment, payment_id)
    require_own_or(payment.award.organisation_id, *READERS)
    if payment.status != PaymentStatus.paid.value:
        abort(404)
    from fundapp.grants.advice import advice_pdf

    filename = f"payment-advice-{payment.award.number}-{payment.tranche.seq}.pdf"
    return pdf_response(advice_pdf(payment), filename)


# --- reports ------------------------------------------------------------------------------------------------------


def _report_input(form: ReportForm, award: Award, lines: list) -> ReportInput | None:
    valid = form.validate()
    spending = {}
    for line, entry in zip(lines, form.spending.entries, strict=False):
        amount = amount_of(entry, allow_zero=True, blank_zero=True)
        if amount is None:
            valid = False
        else:
            spending[line.id] = amount
    uploads = [u for u in (read_grant_upload(f) for f in (form.files.data or [])) if u is not None]
    if not valid:
        form.form_errors.append(_("Correct the marked fields; nothing was filed."))
        return None
    return ReportInput(award=award, kind=form.kind.data, period_start=form.period_start.data,
                       period_end=form.period_end.data, narrative=form.narrative.data or "",
                       outputs=form.outputs.data or "", beneficiaries_reached=form.beneficiaries_reached.data or 0,
                       spending=spending, attachments=uploads, is_public=bool(form.is_public.data))


@bp.route("/awards/<int:award_id>/reports/new", methods=["GET", "POST"])
@roles_required(APPLICANT)
def grant_report_new(award_id: int):
    award = db.get_or_404(Award, award_id)
    if not is_own(award.organisation_id):
        abort(403)
    lines = budget_lines(award)
    form = ReportForm()
    while len(form.spending.entries) < len(lines):
        form.spending.append_entry("")
    if not form.is_submitted():
        last = max((r.period_end for r in award.reports if r.status == ReportStatus.accepted.value and r.period_end),
                   default=None)
        form.period_start.data = last + dt.timedelta(days=1) if last else award.awarded_on
        form.period_end.data = today()
    else:
        data = _report_input(form, award, lines)
        if data is not None:
            with form_service(form) as done:
                report = file_report(db.session, data, current_user)
            if done.ok:
                flash(_("The report was filed; the foundation will review it."), "success")
                return redirect(url_for("grants.grant_report", report_id=report.id))
    return render_template("grants/report_form.html", form=form, award=award,
                           rows=list(zip(lines, form.spending.entries, strict=False)),
                           spent=accepted_spending(db.session, award.id), **LABELS)


def _render_report(report: GrantReport, **forms):
    forms.setdefault("accept_form", AcceptReportForm(formdata=None))
    forms.setdefault("return_form", ReturnReportForm(formdata=None))
    award = report.award
    own = {s.budget_line_id: s.amount for s in report.spending}
    return render_template("grants/report.html", report=report, award=award, lines=budget_lines(award), own=own,
                           spent=accepted_spending(db.session, award.id), is_reader=current_user.has_role(*READERS),
                           can_review=current_user.has_role(*STAFF) and report.status == ReportStatus.submitted.value,
                           **forms, **LABELS)


@bp.get("/reports/<int:report_id>")
@roles_required(*VIEWERS)
def grant_report(report_id: int):
    report = db.get_or_404(GrantReport, report_id)
    require_own_or(report.award.organisation_id, *READERS)
    return _render_report(report)


@bp.post("/reports/<int:report_id>/accept")
@roles_required(*STAFF)
def grant_report_accept(report_id: int):
    report = db.get_or_404(GrantReport, report_id)
    form = AcceptReportForm()
    if form.validate():
        with form_service(form) as done:
            accept_report(db.session, report, current_user, form.note.data or "")
        if done.ok:
            flash(_("The report was accepted; the grantee was told."), "success")
            return redirect(url_for("grants.grant_report", report_id=report_id))
    return _render_report(db.session.get(GrantReport, report_id), accept_form=form)


@bp.post("/reports/<int:report_id>/return")
@roles_required(*STAFF)
def grant_report_return(report_id: int):
    report = db.get_or_404(GrantReport, report_id)
    form = ReturnReportForm()
    if form.validate():
        with form_service(form) as done:
            return_report(db.session, report, form.reason.data, current_user)
        if done.ok:
            flash(_("The report was returned; the grantee was told what to change."), "success")
            return redirect(url_for("grants.grant_report", report_id=report_id))
    return _render_report(db.session.get(GrantReport, report_id), return_form=form)


# --- close-out ----------------------------------------------------------------------------------------------------


@bp.route("/awards/<int:award_id>/close", methods=["GET", "POST"])
@roles_required(*STAFF)
def award_close(award_id: int):
    award = db.get_or_404(Award, award_id)
    final = accepted_final_report(db.session, award.id)
    form = CloseForm()
    if not form.is_submitted():
        unspent = final.unspent_amount if final is not None and final.unspent_amount is not None else None
        form.closed_on.data, form.returned_on.data = today(), today()
        form.returned_amount.data = str(min(max(unspent, 0), award.paid_amount)) if unspent is not None else "0.00"
    else:
        valid = form.validate()
        returned = amount_of(form.returned_amount, allow_zero=True, blank_zero=True)
        if not valid or returned is None:
            form.form_errors.append(_("Correct the marked fields; nothing was posted."))
        else:
            data = CloseInput(award=award, closed_on=form.closed_on.data, note=form.note.data or "",
                              returned_amount=returned, returned_on=form.returned_on.data,
                              return_reference=form.return_reference.data or "")
            with form_service(form) as done:
                close_award(db.session, data, current_user)
            if done.ok:
                return _to_award(award, _("Award %(number)s was closed.", number=award.number))
    return render_template("grants/award_close.html", form=form, award=award, final=final, **LABELS)
