"""Forms of the enterprise pages. Amounts and percentages are parsed here with one clear message per field; the
business rules (periods, agreements, shares) stay in the services."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    DateField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from fundapp.donations.forms import AMOUNT_MESSAGES, DATE_MESSAGE
from fundapp.enterprises.models import Basis, EnterpriseStatus, Nature, Periodicity
from fundapp.enterprises.share import Tier
from fundapp.forms import GetForm, KeyedForm, strip
from fundapp.money import AmountError, parse_amount

STATUS_LABELS = {EnterpriseStatus.active.value: _l("Active"), EnterpriseStatus.suspended.value: _l("Suspended"),
                 EnterpriseStatus.closed.value: _l("Closed")}
BASIS_LABELS = {Basis.gross_revenue.value: _l("Gross revenue"), Basis.net_profit.value: _l("Net profit")}
NATURE_LABELS = {
    Nature.gift.value: _l("Gift (4101 donation income, receipted)"),
    Nature.shareholding.value: _l("Return on the community's shareholding (4601 investment income)"),
    Nature.services.value: _l("Payment for services (4301 service income)"),
}
PERIODICITY_LABELS = {Periodicity.monthly.value: _l("Monthly"), Periodicity.quarterly.value: _l("Quarterly"),
                      Periodicity.yearly.value: _l("Yearly")}
RATE_MESSAGE = _l("Enter a percentage such as 5 or 2.5.")
TIERS_MESSAGE = _l("Write one tier per line: the amount it starts from, a colon, its percentage (e.g. 100000: 8).")


def money_field(field, *, allow_zero: bool = True, allow_negative: bool = False, blank: Decimal | None = None
                ) -> Decimal | None:
    """The field's amount, or None after putting a message on the field. `blank` is used for empty input."""
    if blank is not None and not (field.data or "").strip():
        return blank
    try:
        return parse_amount(field.data, allow_zero=allow_zero, allow_negative=allow_negative)
    except AmountError as error:
        field.errors.append(AMOUNT_MESSAGES.get(error.code, AMOUNT_MESSAGES["not_a_number"]))
        return None


def parse_percent(text: str | None) -> Decimal | None:
    raw = (text or "").strip().rstrip("%").strip()
    if not re.fullmatch(r"\d{1,3}(\.\d{1,4})?", raw):
        return None
    value = Decimal(raw)
    return value if value <= 100 else None


def parse_tiers(rate_text: str | None, extra_text: str | None) -> tuple[list[Tier] | None, str | None]:
    """The tiers from the first-tier percentage and the extra lines, or (None, message)."""
    first = parse_percent(rate_text)
    if first is None:
        return None, str(RATE_MESSAGE)
    tiers = [Tier(Decimal("0.00"), first)]
    for line in (extra_text or "").splitlines():
        if not line.strip():
            continue
        parts = re.split(r"[:：]", line, maxsplit=1)
        if len(parts) != 2:
            return None, str(TIERS_MESSAGE)
        try:
            lower = parse_amount(parts[0], allow_zero=True)
        except (AmountError, InvalidOperation):
            return None, str(TIERS_MESSAGE)
        rate = parse_percent(parts[1])
        if rate is None:
            return None, str(TIERS_MESSAGE)
        tiers.append(Tier(lower, rate))
    return tiers, None


class EnterpriseFilterForm(GetForm):
    q = StringField(_l("Name, community or sector"), filters=[strip], validators=[Length(max=200)])
    status = SelectField(_l("Status"), choices=[SelectChoice("", _l("All"))] + [
        SelectChoice(k, v) for k, v in STATUS_LABELS.items()])


class EnterpriseForm(FlaskForm):
    name = StringField(_l("Name"), filters=[strip],
                       validators=[DataRequired(message=_l("An enterprise needs a name.")), Length(max=200)])
    credit_code = StringField(_l("Unified social credit code"), filters=[strip], validators=[Length(max=50)])
    sector = StringField(_l("Sector"), filters=[strip], validators=[Length(max=100)])
    community = StringField(_l("Community served"), filters=[strip], validators=[Length(max=200)])
    contact_person = StringField(_l("Contact person"), filters=[strip], validators=[Length(max=100)])
    phone = StringField(_l("Phone"), filters=[strip], validators=[Length(max=50)])
    email = StringField(_l("Email"), filters=[strip], validators=[Length(max=254)])
    address = StringField(_l("Address"), filters=[strip], validators=[Length(max=500)])
    status = SelectField(_l("Status"), choices=[SelectChoice(k, v) for k, v in STATUS_LABELS.items()])
    notes = TextAreaField(_l("Notes"), filters=[strip], validators=[Length(max=5000)])
    portal_emails = TextAreaField(_l("Enterprise portal users (emails, one per line)"), filters=[strip],
                                  validators=[Length(max=5000)],
                                  description=_l("Users with the enterprise role who file reports for this enterprise "
                                                 "and see only it."))
    related_parties = SelectMultipleField(_l("Related party of board members"), coerce=int, validate_choice=False)
    related_party_note = StringField(_l("Related-party relationship"), filters=[strip], validators=[Length(max=500)],
                                     description=_l("How the board members are related to the enterprise."))
    submit = SubmitField(_l("Save"))

    def values(self) -> dict:
        names = ("name", "credit_code", "sector", "community", "contact_person", "phone", "email", "address",
                 "status", "notes", "related_party_note")
        return {name: getattr(self, name).data or "" for name in names}

    def emails(self) -> list[str]:
        return [line.strip() for line in (self.portal_emails.data or "").splitlines() if line.strip()]


class AgreementForm(FlaskForm):
    reference = StringField(_l("Contract number"), filters=[strip], validators=[Length(max=100)])
    signed_on = DateField(_l("Signed on"), validators=[Optional()], invalid_value_message=DATE_MESSAGE)
    effective_from = DateField(_l("In force from"), validators=[InputRequired(message=DATE_MESSAGE)],
                               invalid_value_message=DATE_MESSAGE,
                               description=_l("The first day of a reporting period."))
    ends_on = DateField(_l("Ends on"), validators=[Optional()], invalid_value_message=DATE_MESSAGE,
                        description=_l("Blank: open-ended. Otherwise the last day of a reporting period."))
    nature = SelectField(_l("What the money is"), choices=[SelectChoice(k, v) for k, v in NATURE_LABELS.items()])
    basis = SelectField(_l("Share of"), choices=[SelectChoice(k, v) for k, v in BASIS_LABELS.items()])
    rate = StringField(_l("Percentage (%)"), filters=[strip], render_kw={"inputmode": "decimal"},
                       description=_l("Of the whole base, or of the first tier if there are more."))
    extra_tiers = TextAreaField(_l("Higher tiers (optional)"), filters=[strip], validators=[Length(max=2000)],
                                description=_l("Marginal tiers, one per line: the amount a tier starts from, a colon, "
                                               "its percentage; e.g. 100000: 8 takes 8 percent of the part above 100,000."))
    minimum = StringField(_l("Minimum per period (¥)"), filters=[strip], render_kw={"inputmode": "decimal"},
                          description=_l("Blank or 0: no minimum."))
    fund = SelectField(_l("Target fund"), validate_choice=False)
    periodicity = SelectField(_l("Reporting period"),
                              choices=[SelectChoice(k, v) for k, v in PERIODICITY_LABELS.items()])
    due_days = IntegerField(_l("Due (days after the period ends)"), default=15,
                            validators=[InputRequired(message=_l("Enter a number of days.")),
                                        NumberRange(min=0, max=366, message=_l("Enter 0 to 366 days."))])
    note = TextAreaField(_l("Note"), filters=[strip], validators=[Length(max=5000)])
    submit = SubmitField(_l("Save this version"))


class _FiguresForm(KeyedForm):
    revenue = StringField(_l("Revenue (¥)"), filters=[strip], render_kw={"inputmode": "decimal", "autocomplete": "off"})
    costs = StringField(_l("Costs (¥)"), filters=[strip], render_kw={"inputmode": "decimal", "autocomplete": "off"})
    profit = StringField(_l("Net profit (¥)"), filters=[strip], render_kw={"autocomplete": "off"},
                         description=_l("Blank: revenue minus costs. A loss is entered with a minus sign."))
    attachment = FileField(_l("Attachment (statement, invoice scans)"),
                           description=_l("PDF, JPEG, PNG or XLSX."))


class ReportForm(_FiguresForm):
    period = SelectField(_l("Period"), validate_choice=False)
    note = TextAreaField(_l("Note"), filters=[strip], validators=[Length(max=500)])
    submit = SubmitField(_l("File the report"))


class AmendForm(_FiguresForm):
    reason = TextAreaField(_l("Why the report is amended"), filters=[strip],
                           validators=[DataRequired(message=_l("Say why the report is amended.")), Length(max=500)])
    submit = SubmitField(_l("File the amendment"))


class ConfirmForm(FlaskForm):
    effective_date = DateField(_l("Book the share on"), validators=[InputRequired(message=DATE_MESSAGE)],
                               invalid_value_message=DATE_MESSAGE)
    submit = SubmitField(_l("Confirm and book the share"))


class RejectForm(FlaskForm):
    reason = TextAreaField(_l("Why it is rejected"), filters=[strip],
                           validators=[DataRequired(message=_l("Say why the report is rejected.")), Length(max=300)])
    submit = SubmitField(_l("Reject"))


class PaymentForm(KeyedForm):
    received_on = DateField(_l("Date received"), validators=[InputRequired(message=DATE_MESSAGE)],
                            invalid_value_message=DATE_MESSAGE)
    amount = StringField(_l("Amount (¥)"), filters=[strip], render_kw={"inputmode": "decimal", "autocomplete": "off"})
    reference = StringField(_l("Reference (bank or payment transaction id)"), filters=[strip],
                            validators=[Length(max=100)])
    submit = SubmitField(_l("Record payment"))


class ReverseForm(FlaskForm):
    reason = TextAreaField(_l("Reason"), filters=[strip],
                           validators=[DataRequired(message=_l("Say why it is reversed.")), Length(max=300)])
    effective_date = DateField(_l("Date of the reversal"), validators=[InputRequired(message=DATE_MESSAGE)],
                               invalid_value_message=DATE_MESSAGE)
    submit = SubmitField(_l("Reverse"))


class AttachmentForm(FlaskForm):
    attachment = FileField(_l("Attachment (statement, invoice scans)"), description=_l("PDF, JPEG, PNG or XLSX."))
    submit = SubmitField(_l("Attach"))


class DashboardForm(GetForm):
    grain = SelectField(_l("Per"), choices=[SelectChoice("quarter", _l("Quarter")), SelectChoice("month", _l("Month")),
                                            SelectChoice("year", _l("Year"))])
    year = SelectField(_l("Year"), validate_choice=False)
