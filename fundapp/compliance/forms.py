"""Forms of the compliance pages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, TextAreaField
from wtforms.validators import DataRequired, Length

from fundapp.compliance.calendar import NOTE_MAX


class MarkDoneForm(FlaskForm):
    done_on = DateField(_l("Done on"), validators=[DataRequired()])
    note = TextAreaField(_l("Where and how it was disclosed"), validators=[DataRequired(), Length(max=NOTE_MAX)])
    confirm = BooleanField(_l("I confirm this duty was fulfilled; this cannot be undone."),
                           validators=[DataRequired()])
