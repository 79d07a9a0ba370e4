"""Report pages: filing, a report with its arithmetic, amendments, confirmation or rejection by finance, payments
and their reversal, donation receipts for the payments of a gift agreement (issued by finance, downloaded by
finance and the enterprise), attachments (uploaded by finance or the enterprise, downloaded only by them)."""

from __future__ import annotations

import datetime as dt

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from fundapp.auth.decorators import roles_required
from fundapp.donations.forms import ActionForm
from fundapp.donations.models import Receipt
from fundapp.donations.queries import receipts_by_payment
from fundapp.donations.receipts import issue_enterprise_receipt
from fundapp.donations.web import pdf_response
from fundapp.enterprises import queries
from fundapp.enterprises.agreements import terms_of
from fundapp.enterprises.attachments import Upload, add_attachment, attachment_path, max_bytes
from fundapp.enterprises.forms import (
    AmendForm,
    AttachmentForm,
    ConfirmForm,
    PaymentForm,
    RejectForm,
    ReportForm,
    ReverseForm,
    money_field,
)
from fundapp.enterprises.models import Enterprise, EnterprisePayment, ReportAttachment, ReportRevision, RevenueReport
from fundapp.enterprises.payments import PaymentInput, find_payment_by_key, record_payment, reverse_payment
from fundapp.enterprises.periods import period_label
from fundapp.enterprises.reports import (
    AmendmentInput,
    Figures,
    ReportInput,
    amend_report,
    confirm_revision,
    file_report,
    reject_revision,
)
from fundapp.enterprises.share import compute_share
from fundapp.enterprises.views import LABELS, bp
from fundapp.enterprises.web import DOWNLOADERS, FILERS, MANAGERS, READERS, VIEWERS, allowed, is_reader, require, today
from fundapp.errors import DomainError
from fundapp.extensions import db
from fundapp.forms import new_key
from fundapp.uploads import download_response, read_upload
from fundapp.web import form_service


def _upload(field) -> Upload | None:
    """The uploaded file (read up to one byte over the limit, so the service can refuse it), or None."""
    return read_upload(field.data, max_bytes())


def _figures(form) -> Figures | None:
    revenue = money_field(form.revenue, allow_negative=True)  # the service says why a negative one is refused
    costs = money_field(form.costs, allow_negative=True)
    profit = money_field(form.profit, allow_negative=True) if (form.profit.data or "").strip() else None
    if revenue is None or costs is None or form.profit.errors:
        return None
    return Figures(revenue, costs, profit)


def _done(message: str, report_id: int):
    db.session.commit()
    flash(message, "success")
    return redirect(url_for("enterprises.report", report_id=report_id))


# --- filing -------------------------------------------------------------------------------------------------------


def _period_start(form: ReportForm) -> dt.date | None:
    try:
        return dt.date.fromisoformat(form.period.data or "")
    except ValueError:
        form.period.errors.append(_("Choose the period to report."))
        return None


def _report_input(form: ReportForm, enterprise: Enterprise) -> ReportInput | None:
    valid = form.validate()
    start = _period_start(form)
    figures = _figures(form)
    if not valid or start is None or figures is None:
        form.form_errors.append(_("Correct the marked fields; nothing was filed."))
        return None
    return ReportInput(enterprise=enterprise, period_start=start, figures=figures, note=form.note.data or "",
                       attachment=_upload(form.attachment), key=form.key.data)


@bp.route("/<int:enterprise_id>/reports/new", methods=["GET", "POST"])
@roles_required(*FILERS)
def report_new(enterprise_id: int):
    enterprise = db.get_or_404(Enterprise, enterprise_id)
    require(enterprise.id, *MANAGERS)
    periods = queries.enterprise_open_periods(db.session, enterprise, today())
    form = ReportForm()
    form.period.choices = [SelectChoice("", _("Choose a period"))] + [
        SelectChoice(p.start.isoformat(), queries.period_choice_label(p.agreement, p.start)) for p in periods]
    if not form.is_submitted():
        form.key.data, form.period.data = new_key(), request.args.get("period", "")
    elif form.ensure_key():
        data = _report_input(form, enterprise)
        if data is not None:
            try:
                revision = file_report(db.session, data, current_user)
            except DomainError as error:
                db.session.rollback()
                form.form_errors.append(error.message)
            else:
                return _done(_("The report was filed; finance will confirm the share."), revision.report_id)
    return render_template("enterprises/report_form.html", form=form, enterprise=enterprise, periods=periods)


# --- one report ---------------------------------------------------------------------------------------------------


def _render_report(report: RevenueReport, **forms):
    terms = terms_of(report.agreement)
    shares = {rev.id: compute_share(terms, rev.revenue, rev.profit) for rev in report.revisions}
    pending = report.pending_revision
    forms.setdefault("confirm_form", ConfirmForm(formdata=None, effective_date=today()))
    forms.setdefault("reject_form", RejectForm(formdata=None))
    forms.setdefault("attach_form", AttachmentForm(formdata=None))
    forms.setdefault("receipt_form", ActionForm(formdata=None))
    attachments = queries.report_attachments(db.session, report.id)
    payments = queries.report_payments(db.session, report.id)
    receipts = receipts_by_payment(db.session, [p.id for p in payments]) if report.agreement.receipt_allowed else {}
    return render_template(
        "enterprises/report.html", report=report, shares=shares, pending=pending,
        label=period_label(report.period_start, report.agreement.periodicity),
        payments=payments, receipts=receipts, attachments=attachments,
        can_manage=current_user.has_role(*MANAGERS), can_file=allowed(report.enterprise_id, *MANAGERS),
        can_download=allowed(report.enterprise_id, "finance"), is_reader=is_reader(), day=today(), **forms, **LABELS)


@bp.get("/reports/<int:report_id>")
@roles_required(*VIEWERS)
def report(report_id: int):
    report = db.get_or_404(RevenueReport, report_id)
    require(report.enterprise_id, *READERS)
    return _render_report(report)


@bp.route("/reports/<int:report_id>/amend", methods=["GET", "POST"])
@roles_required(*FILERS)
def report_amend(report_id: int):
    report = db.get_or_404(RevenueReport, report_id)
    require(report.enterprise_id, *MANAGERS)
    form = AmendForm()
    current = report.current_revision
    if not form.is_submitted():
        form.key.data = new_key()
        if current is not None:  # the profit only if it was entered (not revenue minus costs)
            form.revenue.data, form.costs.data = str(current.revenue), str(current.costs)
            form.profit.data = str(current.profit) if current.profit != current.revenue - current.costs else ""
    elif form.ensure_key():
        valid = form.validate()
        figures = _figures(form)
        if not valid or figures is None:
            form.form_errors.append(_("Correct the marked fields; nothing was filed."))
        else:
            data = AmendmentInput(report=report, figures=figures, reason=form.reason.data,
                                  attachment=_upload(form.attachment), key=form.key.data)
            try:
                amend_report(db.session, data, current_user)
            except DomainError as error:
                db.session.rollback()
                form.form_errors.append(error.message)
            else:
                return _done(_("The amendment was filed; finance will confirm it."), report.id)
    return render_template("enterprises/amend.html", form=form, report=report, current=current,
                           label=period_label(report.period_start, report.agreement.periodicity))


@bp.post("/revisions/<int:revision_id>/confirm")
@roles_required(*MANAGERS)
def revision_confirm(revision_id: int):
    revision = db.get_or_404(ReportRevision, revision_id)
    report_id = revision.report_id
    form = ConfirmForm()
    if form.validate():
        try:
            confirm_revision(db.session, revision, current_user, on=form.effective_date.data)
        except DomainError as error:
            db.session.rollback()
            form.form_errors.append(error.message)
        else:
            return _done(_("The report was confirmed and its share booked."), report_id)
    return _render_report(db.session.get(RevenueReport, report_id), confirm_form=form)


@bp.post("/revisions/<int:revision_id>/reject")
@roles_required(*MANAGERS)
def revision_reject(revision_id: int):
    revision = db.get_or_404(ReportRevision, revision_id)
    report_id = revision.report_id
    form = RejectForm()
    if form.validate():
        try:
            reject_revision(db.session, revision, form.reason.data, current_user)
        except DomainError as error:
            db.session.rollback()
            form.form_errors.append(error.message)
        else:
            return _done(_("The report was rejected; nothing was booked."), report_id)
    return _render_report(db.session.get(RevenueReport, report_id), reject_form=form)


# --- payments -----------------------------------------------------------------------------------------------------


@bp.route("/reports/<int:report_id>/pay", methods=["GET", "POST"])
@roles_required(*MANAGERS)
def report_pay(report_id: int):
    report = db.get_or_404(RevenueReport, report_id)
    form = PaymentForm()
    if not form.is_submitted():
        form.key.data, form.received_on.data, form.amount.data = new_key(), today(), str(report.outstanding)
    elif form.ensure_key():
        valid = form.validate()
        amount = money_field(form.amount, allow_zero=False)
        if not valid or amount is None:
            form.form_errors.append(_("Correct the marked fields; nothing was recorded."))
        else:
            already = find_payment_by_key(db.session, form.key.data)
            data = PaymentInput(report=report, received_on=form.received_on.data, amount=amount,
                                reference=form.reference.data or "", key=form.key.data)
            try:
                record_payment(db.session, data, current_user)
            except DomainError as error:
                db.session.rollback()
                form.form_errors.append(error.message)
            else:
                if already is not None:
                    db.session.commit()
                    flash(_("This payment was already recorded; it was not recorded again."), "info")
                    return redirect(url_for("enterprises.report", report_id=report.id))
                return _done(_("Payment recorded."), report.id)
    return render_template("enterprises/pay.html", form=form, report=report,
                           label=period_label(report.period_start, report.agreement.periodicity), **LABELS)


@bp.route("/payments/<int:payment_id>/reverse", methods=["GET", "POST"])
@roles_required(*MANAGERS)
def payment_reverse(payment_id: int):
    payment = db.get_or_404(EnterprisePayment, payment_id)
    form = ReverseForm()
    if not form.is_submitted():
        form.effective_date.data = today()
    elif not payment.is_reversed and form.validate():
        try:
            reverse_payment(db.session, payment, form.reason.data, current_user, on=form.effective_date.data)
        except DomainError as error:
            db.session.rollback()
            form.form_errors.append(error.message)
        else:
            return _done(_("The payment was reversed; the report owes the amount again."), payment.report_id)
    return render_template("enterprises/payment_reverse.html", form=form, payment=payment)


# --- donation receipts for payments of a gift agreement ------------------------------------------------------------


@bp.post("/payments/<int:payment_id>/receipt")
@roles_required(*MANAGERS)
def payment_receipt_issue(payment_id: int):
    payment = db.get_or_404(EnterprisePayment, payment_id)
    form = ActionForm()
    if not form.validate_on_submit():
        flash(_("The form expired. Check it and submit it again."), "error")
        return redirect(url_for("enterprises.report", report_id=payment.report_id))
    with form_service(form) as done:
        receipt = issue_enterprise_receipt(db.session, payment, current_user)
    if done.ok:
        flash(_("Receipt %(number)s issued.", number=receipt.label), "success")
    else:
        flash(form.form_errors[-1], "error")
    return redirect(url_for("enterprises.report", report_id=payment.report_id))


@bp.get("/receipts/<int:receipt_id>.pdf")
@roles_required(*DOWNLOADERS)
def receipt_pdf(receipt_id: int):
    """A receipt of an enterprise's payment, for finance and that enterprise's own users only."""
    from fundapp.donations.pdf import receipt_pdf as render  # WeasyPrint loads only when a PDF is asked for

    receipt = db.get_or_404(Receipt, receipt_id)
    if receipt.enterprise_payment_id is None:
        abort(404)  # a donor's receipt is not an enterprise's to see
    require(receipt.enterprise_payment.enterprise_id, "finance")
    return pdf_response(render(receipt), f"receipt-{receipt.label}.pdf")


# --- attachments --------------------------------------------------------------------------------------------------


@bp.post("/reports/<int:report_id>/attachments")
@roles_required(*FILERS)
def attachment_add(report_id: int):
    report = db.get_or_404(RevenueReport, report_id)
    require(report.enterprise_id, *MANAGERS)
    form = AttachmentForm()
    upload = _upload(form.attachment) if form.validate() else None
    if upload is None:
        form.attachment.errors.append(_("Choose a file to attach."))
        return _render_report(report, attach_form=form)
    try:
        add_attachment(db.session, report, upload, current_user, report.pending_revision or report.current_revision)
    except DomainError as error:
        db.session.rollback()
        form.attachment.errors.append(error.message)
        return _render_report(db.session.get(RevenueReport, report_id), attach_form=form)
    return _done(_("The file was attached."), report_id)


@bp.get("/attachments/<int:attachment_id>")
@roles_required(*DOWNLOADERS)
def attachment(attachment_id: int):
    attachment = db.get_or_404(ReportAttachment, attachment_id)
    require(attachment.report.enterprise_id, "finance")
    path = attachment_path(attachment)
    if not path.is_file():
        abort(404)
    return download_response(path, attachment.kind, attachment.original_name)
