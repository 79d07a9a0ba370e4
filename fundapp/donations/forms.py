"""Forms of the donation pages. Amounts are parsed here (fundapp.money.parse_amount) with one clear message per
field; the business rules (restriction, pledges, receipts) stay in the services."""

from __future__ import annotations

from decimal import Decimal

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, DateField, HiddenField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from fundapp.donations.models import DonationMethod, DonorKind, ValuationBasis
from fundapp.forms import GetForm, KeyedForm, strip
from fundapp.money import AmountError, parse_amount

DATE_MESSAGE = _l("Enter a date as YYYY-MM-DD.")
AMOUNT_MESSAGES = {
    "empty": _l("Enter an amount."),
    "not_a_number": _l("Enter a number such as 1234.56."),
    "too_many_decimals": _l("An amount has at most two decimal places."),
    "too_large": _l("The amount is too large."),
    "zero": _l("The amount cannot be zero."),
    "negative": _l("Enter a positive amount."),
}

KIND_LABELS = {DonorKind.person.value: _l("Person"), DonorKind.organisation.value: _l("Organisation")}
METHOD_LABELS = {
    DonationMethod.cash.value: _l("Cash"),
    DonationMethod.bank_transfer.value: _l("Bank transfer"),
    DonationMethod.online.value: _l("Online payment"),
    DonationMethod.in_kind.value: _l("In kind"),
}
BASIS_LABELS = {
    ValuationBasis.invoice.value: _l("Invoice"),
    ValuationBasis.customs.value: _l("Customs form"),
    ValuationBasis.agreement.value: _l("Donation agreement"),
    ValuationBasis.fair_value.value: _l("Fair value"),
}
RESTRICTION_CHOICES = [
    SelectChoice("", _l("As the fund")),
    SelectChoice("restricted", _l("Restricted")),
    SelectChoice("unrestricted", _l("Unrestricted")),
]


def parse_amount_field(field) -> Decimal | None:
    """The field's amount, or None after putting a message on the field."""
    try:
        return parse_amount(field.data)
    except AmountError as error:
        field.errors.append(AMOUNT_MESSAGES.get(error.code, AMOUNT_MESSAGES["not_a_number"]))
        return None


def restricted_value(choice: str | None) -> bool | None:
    return {"restricted": True, "unrestricted": False}.get(choice or "")


class DonorFilterForm(GetForm):
    q = StringField(_l("Name, code, phone or email"), filters=[strip], validators=[Length(max=200)])
    kind = SelectField(_l("Type"), choices=[SelectChoice("", _l("All"))] + [SelectChoice(k, v) for k, v in
                                                                             KIND_LABELS.items()])
    sort = SelectField(_l("Sort by"), choices=[
        SelectChoice("name", _l("Name")), SelectChoice("-total", _l("Largest giving first")),
        SelectChoice("-last", _l("Latest gift first")), SelectChoice("-created", _l("Newest record first"))])
    merged = BooleanField(_l("Include merged records"))


class DonationFilterForm(GetForm):
    q = StringField(_l("Donor, reference or purpose"), filters=[strip], validators=[Length(max=200)])
    year = SelectField(_l("Year"), validate_choice=False)
    fund = SelectField(_l("Fund"), validate_choice=False)
    method = SelectField(_l("Method"), default="",
                         choices=[SelectChoice("", _l("All"))] + [SelectChoice(k, v) for k, v in METHOD_LABELS.items()])
    status = SelectField(_l("Status"), default="", choices=[
        SelectChoice("", _l("All")), SelectChoice("recorded", _l("Recorded")), SelectChoice("reversed", _l("Reversed"))])


class DonorForm(FlaskForm):
    kind = SelectField(_l("Type"), choices=[SelectChoice(k, v) for k, v in KIND_LABELS.items()])
    name = StringField(_l("Name"), filters=[strip],
                       validators=[DataRequired(message=_l("A donor needs a name.")), Length(max=200)])
    id_code = StringField(_l("ID number or unified social credit code"), filters=[strip],
                          validators=[Length(max=50)])
    contact_person = StringField(_l("Contact person"), filters=[strip], validators=[Length(max=100)])
    phone = StringField(_l("Phone"), filters=[strip], validators=[Length(max=50)])
    email = StringField(_l("Email"), filters=[strip], validators=[Length(max=254)])
    address = StringField(_l("Address"), filters=[strip], validators=[Length(max=500)])
    anonymous_in_public = BooleanField(_l("Anonymous in public (disclosure pages show no name)"))
    notes = TextAreaField(_l("Notes"), filters=[strip], validators=[Length(max=5000)])
    portal_email = StringField(_l("Donor portal user (email)"), filters=[strip], validators=[Length(max=254)],
                               description=_l("A user with the donor role who may see this donor's gifts."))
    submit = SubmitField(_l("Save"))

    def values(self) -> dict:
        names = ("kind", "name", "id_code", "contact_person", "phone", "email", "address", "notes")
        return {name: getattr(self, name).data or "" for name in names} | {
            "anonymous_in_public": bool(self.anonymous_in_public.data)}


class MergeForm(FlaskForm):
    duplicate = StringField(_l("Number of the duplicate donor"), filters=[strip],
                            validators=[DataRequired(message=_l("Enter the number of the duplicate donor."))])
    confirm = HiddenField()
    submit = SubmitField(_l("Merge"))

    def duplicate_id(self) -> int | None:
        text = (self.duplicate.data or "").lstrip("#")
        return int(text) if text.isdigit() else None


class DonationForm(KeyedForm):
    donor = StringField(_l("Donor"), filters=[strip], validators=[Length(max=200)],
                        description=_l("Number, ID or credit code, or exact name. Blank: an anonymous gift (no "
                                       "receipt)."))
    received_on = DateField(_l("Date received"), validators=[InputRequired(message=DATE_MESSAGE)],
                            invalid_value_message=DATE_MESSAGE)
    amount = StringField(_l("Amount (¥)"), filters=[strip], render_kw={"inputmode": "decimal", "autocomplete": "off"},
                         description=_l("For goods in kind: their valuation."))
    method = SelectField(_l("Method"), choices=[SelectChoice(k, v) for k, v in METHOD_LABELS.items()])
    fund = SelectField(_l("Fund"), validate_choice=False)
    restriction = SelectField(_l("Restriction"), choices=RESTRICTION_CHOICES)
    purpose = StringField(_l("Purpose"), filters=[strip], validators=[Length(max=500)])
    reference = StringField(_l("Reference (bank or payment transaction id)"), filters=[strip],
                            validators=[Length(max=100)])
    item_description = StringField(_l("Goods given in kind"), filters=[strip], validators=[Length(max=500)])
    quantity = StringField(_l("Quantity"), filters=[strip], validators=[Length(max=30)])
    unit = StringField(_l("Unit"), filters=[strip], validators=[Length(max=20)])
    valuation_basis = SelectField(_l("Valuation basis"), choices=[SelectChoice("", _l("Not in kind"))] + [
        SelectChoice(k, v) for k, v in BASIS_LABELS.items()])
    issue_receipt = BooleanField(_l("Issue the official receipt now"), default=True)
    submit = SubmitField(_l("Record donation"))


class CorrectionForm(DonationForm):
    reason = TextAreaField(_l("Reason for the correction"), filters=[strip],
                           validators=[DataRequired(message=_l("Say why it is reversed.")), Length(max=300)])
    submit = SubmitField(_l("Reverse and record the correction"))


class PledgeForm(KeyedForm):
    donor = StringField(_l("Donor"), filters=[strip],
                        validators=[DataRequired(message=_l("A pledge needs a donor.")), Length(max=200)],
                        description=_l("Number, ID or credit code, or exact name."))
    pledged_on = DateField(_l("Date pledged"), validators=[InputRequired(message=DATE_MESSAGE)],
                           invalid_value_message=DATE_MESSAGE)
    due_on = DateField(_l("Due by"), validators=[Optional()], invalid_value_message=DATE_MESSAGE)
    amount = StringField(_l("Amount (¥)"), filters=[strip], render_kw={"inputmode": "decimal", "autocomplete": "off"})
    fund = SelectField(_l("Fund"), validate_choice=False)
    restriction = SelectField(_l("Restriction"), choices=RESTRICTION_CHOICES)
    purpose = StringField(_l("Purpose"), filters=[strip], validators=[Length(max=500)])
    submit = SubmitField(_l("Record pledge"))


class PaymentForm(KeyedForm):
    received_on = DateField(_l("Date received"), validators=[InputRequired(message=DATE_MESSAGE)],
                            invalid_value_message=DATE_MESSAGE)
    amount = StringField(_l("Amount (¥)"), filters=[strip], render_kw={"inputmode": "decimal", "autocomplete": "off"})
    method = SelectField(_l("Method"), choices=[SelectChoice(k, v) for k, v in METHOD_LABELS.items()
                                                if k != DonationMethod.in_kind.value])
    reference = StringField(_l("Reference (bank or payment transaction id)"), filters=[strip],
                            validators=[Length(max=100)])
    issue_receipt = BooleanField(_l("Issue the official receipt now"), default=True)
    submit = SubmitField(_l("Record payment"))


class ReasonForm(FlaskForm):
    reason = TextAreaField(_l("Reason"), filters=[strip],
                           validators=[DataRequired(message=_l("Say why it is reversed.")), Length(max=300)])
    effective_date = DateField(_l("Date of the reversal"), validators=[InputRequired(message=DATE_MESSAGE)],
                               invalid_value_message=DATE_MESSAGE)
    submit = SubmitField(_l("Reverse"))


class VoidForm(FlaskForm):
    reason = TextAreaField(_l("Reason"), filters=[strip],
                           validators=[DataRequired(message=_l("Say why the receipt is void.")), Length(max=300)])
    reissue = BooleanField(_l("Issue a new receipt for the same donation"), default=True)
    submit = SubmitField(_l("Void receipt"))


class YearForm(FlaskForm):
    year = SelectField(_l("Year"), validate_choice=False)
    submit = SubmitField(_l("Issue the missing receipts"))


class ActionForm(FlaskForm):
    """A one-button form: only its CSRF token."""


class ImportForm(FlaskForm):
    file = FileField(_l("CSV or Excel file"), validators=[FileRequired(message=_l("Choose a file to import."))],
                     render_kw={"accept": ".csv,.txt,.xlsx"})
    submit = SubmitField(_l("Upload and check"))
