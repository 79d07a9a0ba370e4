"""Forms of the volunteer's own portal (/my/time-bank). Points are parsed here with one clear message per field;
the rules (balances, capacity, stock) stay in the services."""

from __future__ import annotations

from decimal import Decimal

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, RadioField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, InputRequired, Length, NumberRange, Optional

from fundapp.forms import GetForm, KeyedForm, strip
from fundapp.money import AmountError, parse_amount
from fundapp.volunteers.forms import TICK
from fundapp.volunteers.models import PointEntryKind, RecordStatus

POINTS_MESSAGES = {
    "empty": _l("Enter a number of points."),
    "too_many_decimals": _l("Points have at most two decimal places."),
    "zero": _l("Give more than 0 points."),
    "negative": _l("Give more than 0 points."),
}
# The volunteer's own words, not the staff pages' (forms.RECORD_STATUS_LABELS, points_forms.ENTRY_KIND_LABELS):
# "Not accepted" and "Exchange" match this portal's wording and are asserted by tests/web/volunteers/test_portal*.py.
RECORD_STATUS_LABELS = {
    RecordStatus.pending.value: _l("Waiting for verification"),
    RecordStatus.verified.value: _l("Verified"),
    RecordStatus.reversed.value: _l("Reversed"),
    RecordStatus.rejected.value: _l("Not accepted"),
}
ENTRY_KIND_LABELS = {
    PointEntryKind.hours.value: _l("Service hours"),
    PointEntryKind.gift.value: _l("Gift"),
    PointEntryKind.redemption.value: _l("Exchange"),
    PointEntryKind.expiry.value: _l("Expired"),
    PointEntryKind.reversal.value: _l("Reversal"),
}
PERSON, VOLUNTEER = "person", "volunteer"


def parse_points_field(field) -> Decimal | None:
    """The field's points, or None after putting a message on the field."""
    try:
        return parse_amount(field.data)
    except AmountError as error:
        field.errors.append(POINTS_MESSAGES.get(error.code, _l("Enter a number such as 2 or 1.5.")))
        return None


class ProfileForm(FlaskForm):
    phone = StringField(_l("Phone"), filters=[strip], validators=[Length(max=50)])
    email = StringField(_l("Email"), filters=[strip], validators=[Optional(), Email(), Length(max=254)])
    community = StringField(_l("Community"), filters=[strip], validators=[Length(max=100)])
    skills = TextAreaField(_l("Skills"), filters=[strip], validators=[Length(max=2000)],
                           description=_l("What you like to do or are good at, e.g. driving, cooking, IT help."))
    consent_public = BooleanField(_l("Show my name on the foundation's public pages"))
    submit = SubmitField(_l("Save"))


class ConfirmForm(FlaskForm):
    confirm = BooleanField(_l("Yes, I confirm."), validators=[DataRequired(message=TICK)])
    submit = SubmitField(_l("Confirm"))


class ActivityFilterForm(GetForm):
    q = StringField(_l("Activity or community"), filters=[strip], validators=[Length(max=100)])


class HoursFilterForm(GetForm):
    status = SelectField(_l("Status"), default="", choices=[SelectChoice("", _l("All"))] + [
        SelectChoice(value, label) for value, label in RECORD_STATUS_LABELS.items()])


class GiftForm(KeyedForm):
    """Step one fills the recipient and points; step two (the confirmation) posts the same fields with `confirm`."""

    recipient = RadioField(_l("Give to"), default=PERSON, choices=[
        SelectChoice(PERSON, _l("Someone who is not a registered volunteer (e.g. an elderly neighbour)")),
        SelectChoice(VOLUNTEER, _l("A registered volunteer, by their phone number"))])
    person_name = StringField(_l("Their name"), filters=[strip], validators=[Length(max=100)])
    phone = StringField(_l("The volunteer's phone number"), filters=[strip], validators=[Length(max=50)])
    points = StringField(_l("Points"), filters=[strip], validators=[InputRequired(), Length(max=30)])
    memo = StringField(_l("Note (optional)"), filters=[strip], validators=[Length(max=200)])
    confirm = BooleanField(_l("Yes, give these points. This cannot be undone."))
    submit = SubmitField(_l("Continue"))


class RedeemForm(KeyedForm):
    quantity = IntegerField(_l("Quantity"), default=1, validators=[InputRequired(), NumberRange(min=1, max=100)])
    confirm = BooleanField(_l("Yes, exchange my points. This cannot be undone."))
    submit = SubmitField(_l("Exchange"))
