"""Forms of the staff volunteer pages. Numbers, dates and times are parsed here with one clear message per field;
the rules (hours, shifts, organisers) stay in fundapp/volunteers/manage.py and service.py."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
    TimeField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from fundapp.forms import GetForm, strip
from fundapp.volunteers.models import ActivityStatus, RecordStatus, SignupStatus

DATE_MESSAGE = _l("Enter a date as YYYY-MM-DD.")
TIME_MESSAGE = _l("Enter a time as HH:MM.")
TICK = _l("Tick the box to confirm.")
ACTIVITY_STATUS_LABELS = {ActivityStatus.open.value: _l("Open"), ActivityStatus.closed.value: _l("Closed")}
SIGNUP_STATUS_LABELS = {
    SignupStatus.signed_up.value: _l("Signed up"),
    SignupStatus.checked_in.value: _l("Checked in"),
    SignupStatus.done.value: _l("Done"),
    SignupStatus.cancelled.value: _l("Cancelled"),
}
RECORD_STATUS_LABELS = {
    RecordStatus.pending.value: _l("Pending verification"),
    RecordStatus.verified.value: _l("Verified"),
    RecordStatus.reversed.value: _l("Reversed"),
    RecordStatus.rejected.value: _l("Rejected"),
}
GROUP_LABELS = {"project": _l("Funded project"), "community": _l("Community"), "activity": _l("Activity")}


def parse_hours(field) -> Decimal | None:
    """The field's hours as a Decimal (the service checks the range), or None after a message on the field."""
    try:
        hours = Decimal((field.data or "").strip())
    except InvalidOperation:
        field.errors.append(_l("Enter hours as a number such as 2.5."))
        return None
    if not hours.is_finite():
        field.errors.append(_l("Enter hours as a number such as 2.5."))
        return None
    return hours


class VolunteerFilterForm(GetForm):
    q = StringField(_l("Name, phone or community"), filters=[strip], validators=[Length(max=100)])
    sort = SelectField(_l("Sort by"), choices=[
        SelectChoice("name", _l("Name")), SelectChoice("-hours", _l("Most hours first")),
        SelectChoice("-points", _l("Most points first")), SelectChoice("-created", _l("Newest first"))])


class VolunteerForm(FlaskForm):
    name = StringField(_l("Name"), filters=[strip], validators=[DataRequired(), Length(max=100)])
    phone = StringField(_l("Phone"), filters=[strip], validators=[Length(max=50)])
    email = StringField(_l("Email"), filters=[strip], validators=[Length(max=254)])
    community = StringField(_l("Community"), filters=[strip], validators=[Length(max=100)])
    skills = TextAreaField(_l("Skills"), filters=[strip], validators=[Length(max=2000)])
    consent_public = BooleanField(_l("Agrees to appear by name on the public pages"))
    submit = SubmitField(_l("Save"))


class LinkUserForm(FlaskForm):
    email = StringField(_l("Email of an existing user account"), filters=[strip],
                        validators=[DataRequired(), Length(max=254)])
    submit = SubmitField(_l("Link the account"))


class ActivityFilterForm(GetForm):
    q = StringField(_l("Title"), filters=[strip], validators=[Length(max=200)])
    status = SelectField(_l("Status"), choices=[SelectChoice("", _l("All"))] + [
        SelectChoice(k, v) for k, v in ACTIVITY_STATUS_LABELS.items()])
    community = StringField(_l("Community"), filters=[strip], validators=[Length(max=100)])
    organiser = SelectField(_l("Organiser"), validate_choice=False)


class ActivityForm(FlaskForm):
    title = StringField(_l("Title"), filters=[strip], validators=[DataRequired(), Length(max=200)])
    description = TextAreaField(_l("Description"), filters=[strip], validators=[Length(max=5000)])
    community = StringField(_l("Community"), filters=[strip], validators=[Length(max=100)])
    award = SelectField(_l("Grant-funded project"), validate_choice=False)
    organiser = SelectField(_l("Organiser"), validate_choice=False)
    people_served = IntegerField(_l("People served"), default=0, validators=[
        InputRequired(_l("Enter a whole number, 0 or more.")),
        NumberRange(min=0, max=10_000_000, message=_l("Enter a whole number, 0 or more."))])
    submit = SubmitField(_l("Save"))


class ConfirmForm(FlaskForm):
    """An irreversible or weighty action: the box must be ticked."""

    confirm = BooleanField(_l("I confirm"), validators=[DataRequired(TICK)])
    submit = SubmitField(_l("Confirm"))


class StatusForm(ConfirmForm):
    status = HiddenField(validators=[DataRequired()])


class ShiftForm(FlaskForm):
    day = DateField(_l("Date"), validators=[InputRequired(DATE_MESSAGE)], invalid_value_message=DATE_MESSAGE)
    start = TimeField(_l("Starts at"), validators=[InputRequired(TIME_MESSAGE)], invalid_value_message=TIME_MESSAGE)
    end = TimeField(_l("Ends at"), validators=[InputRequired(TIME_MESSAGE)], invalid_value_message=TIME_MESSAGE)
    capacity = IntegerField(_l("Places"), default=10, validators=[
        InputRequired(_l("Enter a whole number.")),
        NumberRange(min=1, max=500, message=_l("Between 1 and 500 places."))])
    submit = SubmitField(_l("Add the shift"))


class SignupForm(FlaskForm):
    volunteer = SelectField(_l("Volunteer"), validate_choice=False, validators=[DataRequired()])
    submit = SubmitField(_l("Sign up"))


class HoursForm(FlaskForm):
    hours = StringField(_l("Hours"), filters=[strip], validators=[DataRequired(), Length(max=20)])
    submit = SubmitField(_l("Enter hours"))


class RejectForm(ConfirmForm):
    reason = StringField(_l("Reason"), filters=[strip], validators=[DataRequired(), Length(max=300)])
    submit = SubmitField(_l("Reject"))


class CorrectForm(ConfirmForm):
    reason = StringField(_l("Reason"), filters=[strip], validators=[DataRequired(), Length(max=300)])
    hours = StringField(_l("Correct hours (leave empty to only reverse)"), filters=[strip],
                        validators=[Optional(), Length(max=20)])
    submit = SubmitField(_l("Reverse and correct"))


class HoursReportForm(GetForm):
    group = SelectField(_l("Group by"), choices=[SelectChoice(k, v) for k, v in GROUP_LABELS.items()])
    start = DateField(_l("From"), validators=[Optional()], invalid_value_message=DATE_MESSAGE)
    end = DateField(_l("To"), validators=[Optional()], invalid_value_message=DATE_MESSAGE)
