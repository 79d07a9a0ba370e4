"""Forms of the board pages: agendas, items, votes, recusals, closing, and staff decisions under the limit."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    HiddenField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, DataRequired, InputRequired, Length, Optional

from fundapp.donations.forms import DATE_MESSAGE
from fundapp.forms import strip
from fundapp.grants.forms import money
from fundapp.grants.models import DecisionOutcome, VoteChoice

DEADLINE_MESSAGE = _l("Enter the deadline as a date and time.")


def amount_of(field) -> Decimal | None:
    """The field's amount, or None after putting a message on the field."""
    return money(field)


class AgendaForm(FlaskForm):
    title = StringField(_l("Title"), filters=[strip],
                        validators=[DataRequired(message=_l("Give the agenda a title.")), Length(max=200)])
    meeting_on = DateField(_l("Meeting date"), validators=[InputRequired(message=DATE_MESSAGE)],
                           invalid_value_message=DATE_MESSAGE)
    vote_deadline = DateTimeLocalField(_l("Vote deadline (optional)"), format="%Y-%m-%dT%H:%M",
                                       validators=[Optional()], invalid_value_message=DEADLINE_MESSAGE,
                                       description=_l("Local time. Voting stops then; staff close the agenda."))
    submit = SubmitField(_l("Create agenda"))

    def deadline(self) -> dt.datetime | None:
        """The deadline as an aware time in the foundation's time zone."""
        value = self.vote_deadline.data
        if value is None:
            return None
        return value.replace(tzinfo=ZoneInfo(current_app.config.get("BABEL_DEFAULT_TIMEZONE", "Asia/Shanghai")))


class ItemForm(FlaskForm):
    application = SelectField(_l("Recommended application"), validate_choice=False,
                              validators=[DataRequired(message=_l("Choose an application."))])
    amount = StringField(_l("Amount put to the board (¥)"), filters=[strip],
                         render_kw={"inputmode": "decimal", "autocomplete": "off"},
                         description=_l("At most the amount the application asks for."))
    recommendation = TextAreaField(_l("Recommendation to the board"), filters=[strip],
                                   validators=[Length(max=2000)])
    submit = SubmitField(_l("Add to the agenda"))


class VoteForm(FlaskForm):
    """Step one sends the choice and comment; the confirmation page sends them again with `confirmed`."""

    choice = StringField(validators=[AnyOf([c.value for c in VoteChoice],
                                           message=_l("Choose approve, reject or abstain."))])
    comment = TextAreaField(_l("Comment (optional)"), filters=[strip], validators=[Length(max=1000)])
    confirmed = HiddenField()


class RecuseForm(FlaskForm):
    reason = TextAreaField(_l("What is the conflict of interest?"), filters=[strip],
                           validators=[DataRequired(message=_l("Say what the conflict of interest is.")),
                                       Length(max=500)])
    confirm = BooleanField(_l("I understand that I will not vote on this item, and that this cannot be undone."),
                           validators=[DataRequired(message=_l("Tick the box to confirm."))])
    submit = SubmitField(_l("Declare the conflict"))


class ConfirmForm(FlaskForm):
    """A confirmation checkbox before an irreversible action (closing an agenda, deciding an item)."""

    confirm = BooleanField(_l("I have checked the count; the decision cannot be changed afterwards."),
                           validators=[DataRequired(message=_l("Tick the box to confirm."))])
    submit = SubmitField(_l("Decide"))


class ActionForm(FlaskForm):
    """A one-button form: only its CSRF token."""


class StaffDecisionForm(FlaskForm):
    outcome = SelectField(_l("Decision"), choices=[
        SelectChoice(DecisionOutcome.approved.value, _l("Approve the grant")),
        SelectChoice(DecisionOutcome.rejected.value, _l("Do not approve"))])
    amount = StringField(_l("Amount awarded (¥)"), filters=[strip],
                         render_kw={"inputmode": "decimal", "autocomplete": "off"},
                         description=_l("For an approval: at most the amount asked for and the staff limit."))
    note = TextAreaField(_l("Note (sent to the applicant with a rejection)"), filters=[strip],
                         validators=[Length(max=1000)])
    confirmed = HiddenField()
    submit = SubmitField(_l("Continue"))
