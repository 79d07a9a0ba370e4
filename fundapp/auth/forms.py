"""Forms of sign-in, the second step, the account page and the admin user pages."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SelectMultipleField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length

from fundapp.auth.models import Role


def strip(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


class LoginForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])
    remember = BooleanField(_l("Keep me signed in"))


class CodeForm(FlaskForm):
    """The second step: a code from the authenticator app, or a recovery code."""

    code = StringField(_l("Code"), filters=[strip], validators=[DataRequired(), Length(max=20)],
                       description=_l("The 6-digit code from your authenticator app, or one of your recovery codes."))


class EnrolForm(FlaskForm):
    """Confirm a new authenticator with its current code."""

    code = StringField(_l("Code from the app"), filters=[strip], validators=[DataRequired(), Length(max=20)])


class ChangePasswordForm(FlaskForm):
    current = PasswordField(_l("Current password"), validators=[DataRequired()])
    password = PasswordField(_l("New password"), validators=[DataRequired(), Length(max=200)],
                             description=_l("At least 12 characters of at least two kinds (letters, digits, "
                                            "other signs); not a common password and not your email name."))
    confirm = PasswordField(
        _l("Repeat the new password"), validators=[DataRequired(), EqualTo("password", message=_l("The passwords differ."))]
    )


ROLE_LABELS = {
    Role.admin.value: _l("Administrator"),
    Role.finance.value: _l("Finance"),
    Role.board.value: _l("Board member"),
    Role.reviewer.value: _l("Reviewer"),
    Role.donor.value: _l("Donor"),
    Role.applicant.value: _l("Applicant"),
    Role.enterprise.value: _l("Social enterprise"),
}


class UserForm(FlaskForm):
    """Admin: create a user. Roles come from checkboxes named `roles`; the service checks email and password."""

    email = EmailField(_l("Email"), filters=[strip], validators=[DataRequired(), Length(max=254)])
    name = StringField(_l("Name"), filters=[strip], validators=[Length(max=100)])
    password = PasswordField(_l("Password"), validators=[Length(max=200)])
    roles = SelectMultipleField(_l("Roles"), choices=[SelectChoice(value, text) for value, text in ROLE_LABELS.items()])
    submit = SubmitField(_l("Save"))


class UserEditForm(UserForm):
    """Admin: edit a user. The email stays; an empty password keeps the old one."""

    email = None
    password = PasswordField(_l("New password (leave empty to keep)"), validators=[Length(max=200)])
    enabled = BooleanField(_l("Enabled"), default=True)
