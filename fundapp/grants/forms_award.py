"""Forms of the award pages: the tranche schedule, a payment and its second approval, a grantee's report and its
review, the close-out, and the award list's filters. Amounts are parsed here; the rules stay in the services."""

from __future__ import annotations

from decimal import Decimal

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import (
    BooleanField,
    DateField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from fundapp.donations.forms import DATE_MESSAGE
from fundapp.forms import GetForm, KeyedForm, strip
from fundapp.grants.forms import money
from fundapp.grants.models import AwardStatus, PaymentStatus, ReportKind, ReportStatus, TrancheStatus

AWARD_STATUS_LABELS = {AwardStatus.active.value: _l("Active"), AwardStatus.closed.value: _l("Closed")}
TRANCHE_STATUS_LABELS = {
    TrancheStatus.scheduled.value: _l("Scheduled"),
    TrancheStatus.awaiting_approval.value: _l("Waiting for a second approver"),
    TrancheStatus.paid.value: _l("Paid"),
    TrancheStatus.cancelled.value: _l("Cancelled"),
}
PAYMENT_STATUS_LABELS = {
    PaymentStatus.awaiting_approval.value: _l("Waiting for a second approver"),
    PaymentStatus.paid.value: _l("Paid"),
    PaymentStatus.rejected.value: _l("Rejected"),
}
REPORT_KIND_LABELS = {ReportKind.progress.value: _l("Progress report"), ReportKind.final.value: _l("Final report")}
REPORT_STATUS_LABELS = {
    ReportStatus.submitted.value: _l("Waiting for review"),
    ReportStatus.accepted.value: _l("Accepted"),
    ReportStatus.returned.value: _l("Returned"),
}
SORT_CHOICES = [SelectChoice("", _l("Newest first")), SelectChoice("oldest", _l("Oldest first")),
                SelectChoice("amount", _l("Largest first")), SelectChoice("number", _l("By number"))]


def amount_of(field, *, allow_zero: bool = False, blank_zero: bool = False) -> Decimal | None:
    """The field's amount, or None after putting a message on the field (`blank_zero`: empty input is 0)."""
    return money(field, allow_zero=allow_zero, blank_zero=blank_zero)


class AwardFilterForm(GetForm):
    q = StringField(_l("Search"), filters=[strip], validators=[Optional(), Length(max=100)],
                    description=_l("Organisation, award number or project title"))
    fund = SelectField(_l("Fund"), validate_choice=False)
    programme = SelectField(_l("Programme"), validate_choice=False)
    status = SelectField(_l("Status"), choices=[SelectChoice("", _l("Any status"))] + [
        SelectChoice(k, v) for k, v in AWARD_STATUS_LABELS.items()], default="")
    sort = SelectField(_l("Order"), choices=SORT_CHOICES, default="")


class TrancheRowForm(Form):
    """One row of the schedule (a plain sub-form: the outer form carries the CSRF token)."""

    amount = StringField(_l("Amount (¥)"), filters=[strip], render_kw={"inputmode": "decimal", "autocomplete": "off"})
    due_on = DateField(_l("Due on"), validators=[Optional()], invalid_value_message=DATE_MESSAGE)
    milestone = StringField(_l("Milestone"), filters=[strip], validators=[Length(max=500)])
    requires_report = BooleanField(_l("Paid only after a report is accepted"))

    def is_blank(self) -> bool:
        return not (self.amount.data or any(self.due_on.raw_data or ()) or self.milestone.data)


class ScheduleForm(FlaskForm):
    rows = FieldList(FormField(TrancheRowForm), min_entries=1, max_entries=24)
    submit = SubmitField(_l("Save the schedule"))


class PaymentForm(KeyedForm):
    tranche = HiddenField()  # the tranche shown when the form was rendered: never silently the next one
    paid_on = DateField(_l("Payment date"), validators=[InputRequired(message=DATE_MESSAGE)],
                        invalid_value_message=DATE_MESSAGE)
    amount = StringField(_l("Amount (¥)"), filters=[strip], render_kw={"inputmode": "decimal", "autocomplete": "off"},
                         description=_l("Type the tranche's amount to confirm it; a tranche is paid in full."))
    bank_reference = StringField(_l("Bank reference"), filters=[strip], validators=[Length(max=100)],
                                 description=_l("The bank's transaction number, once the transfer is made."))
    submit = SubmitField(_l("Pay this tranche"))


class ApproveForm(FlaskForm):
    submit = SubmitField(_l("Approve and pay"))


class RejectPaymentForm(FlaskForm):
    reason = TextAreaField(_l("Why is it rejected?"), filters=[strip],
                           validators=[DataRequired(message=_l("Say why the payment is rejected.")), Length(max=300)])
    submit = SubmitField(_l("Reject the payment"))


class ReportForm(FlaskForm):
    kind = SelectField(_l("Report"), choices=[SelectChoice(k, v) for k, v in REPORT_KIND_LABELS.items()])
    period_start = DateField(_l("Period from"), validators=[InputRequired(message=DATE_MESSAGE)],
                             invalid_value_message=DATE_MESSAGE)
    period_end = DateField(_l("Period to"), validators=[InputRequired(message=DATE_MESSAGE)],
                           invalid_value_message=DATE_MESSAGE)
    narrative = TextAreaField(_l("What was done"), filters=[strip],
                              validators=[DataRequired(message=_l("Say what was done in the period.")),
                                          Length(max=20000)])
    outputs = TextAreaField(_l("Outputs"), filters=[strip], validators=[Length(max=20000)],
                            description=_l("Activities held, materials produced, services delivered."))
    beneficiaries_reached = IntegerField(_l("People reached"), default=0,
                                         validators=[InputRequired(message=_l("Enter a whole number.")),
                                                     NumberRange(min=0, max=10_000_000)])
    spending = FieldList(StringField(filters=[strip], render_kw={"inputmode": "decimal", "autocomplete": "off"}))
    files = MultipleFileField(_l("Photos and documents"),
                              description=_l("PDF, JPEG, PNG or XLSX files: receipts, photos, sign-in sheets."))
    is_public = BooleanField(_l("The report may be published on the disclosure site"), default=True)
    submit = SubmitField(_l("File the report"))


class AcceptReportForm(FlaskForm):
    note = TextAreaField(_l("Note to the grantee (optional)"), filters=[strip], validators=[Length(max=1000)])
    submit = SubmitField(_l("Accept the report"))


class ReturnReportForm(FlaskForm):
    reason = TextAreaField(_l("What should the grantee change?"), filters=[strip],
                           validators=[DataRequired(message=_l("Say what the grantee should change.")),
                                       Length(max=1000)])
    submit = SubmitField(_l("Return the report"))


class CloseForm(FlaskForm):
    closed_on = DateField(_l("Close-out date"), validators=[InputRequired(message=DATE_MESSAGE)],
                          invalid_value_message=DATE_MESSAGE)
    returned_amount = StringField(_l("Money returned by the grantee (¥)"), filters=[strip],
                                  render_kw={"inputmode": "decimal", "autocomplete": "off"},
                                  description=_l("0 if nothing came back."))
    returned_on = DateField(_l("Date the money came back"), validators=[Optional()],
                            invalid_value_message=DATE_MESSAGE)
    return_reference = StringField(_l("Bank reference of the returned money"), filters=[strip],
                                   validators=[Length(max=100)])
    note = TextAreaField(_l("Close-out note"), filters=[strip], validators=[Length(max=2000)])
    confirm = BooleanField(_l("I have checked the figures: closing posts them and cannot be undone."),
                           validators=[DataRequired(message=_l("Tick the box to confirm."))])
    submit = SubmitField(_l("Close the award"))
