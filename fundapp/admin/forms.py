"""Forms of the admin pages. The user forms live in fundapp.auth.forms (UserForm, UserEditForm)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional

from fundapp.audit.services import AuditTag

DATE_MESSAGE = _l("Enter a date as YYYY-MM-DD.")
KNOWN_TAGS = sorted(tag.value for tag in AuditTag)


def strip(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


class AuditFilterForm(FlaskForm):
    """The audit trail's filters, read from the query string (no CSRF: it changes nothing)."""

    class Meta:
        csrf = False

    tag = StringField(_l("Event"), filters=[strip], validators=[Length(max=80)],
                      description=_l("A whole tag, or its start such as auth:login"))
    subject_type = SelectField(_l("Subject type"), choices=[SelectChoice("", _l("All"))], validate_choice=False)
    subject_id = StringField(_l("Subject"), filters=[strip], validators=[Length(max=64)])
    date_from = DateField(_l("From"), validators=[Optional()], invalid_value_message=DATE_MESSAGE)
    date_to = DateField(_l("To"), validators=[Optional()], invalid_value_message=DATE_MESSAGE)

    def filters(self) -> dict:
        """Values that passed validation; a bad one is ignored (its message shows on the field)."""

        def ok(field):
            return field.data if field.data and not field.errors else None

        subject_types = {choice.value for choice in self.subject_type.choices if choice.value}
        return {
            "tag": ok(self.tag),
            "subject_type": self.subject_type.data if self.subject_type.data in subject_types else None,
            "subject_id": ok(self.subject_id),
            "date_from": ok(self.date_from),
            "date_to": ok(self.date_to),
        }
