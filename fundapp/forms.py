"""Form pieces shared by the domains: filter forms read from the query string, and forms carrying an
idempotency key made when they were rendered (so a double submit records once)."""

from __future__ import annotations

import re
import uuid

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField

_UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$")


def strip(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


def new_key() -> str:
    return str(uuid.uuid4())


def valid_key(key: str | None) -> bool:
    return bool(key and _UUID_RE.match(key))


def _choice_value(choice) -> object:
    return choice[0] if isinstance(choice, (tuple, list)) else getattr(choice, "value", choice)


class GetForm(FlaskForm):
    """A filter form read from the query string (no CSRF: it changes nothing)."""

    class Meta:
        csrf = False

    def validate(self, extra_validators=None) -> bool:
        # A filter left out of the query string means "all" (or the first choice, as a browser would send):
        # never the "Not a valid choice" a first, argument-less visit would otherwise show.
        for field in self:
            if isinstance(field, SelectField) and field.data is None and isinstance(field.choices, list) \
                    and field.choices:
                values = [_choice_value(choice) for choice in field.choices]
                field.data = "" if "" in values else values[0]  # what a browser submits untouched
        return super().validate(extra_validators)


class KeyedForm(FlaskForm):
    """A form with a hidden uuid made when it was rendered: submitting it twice records once."""

    key = HiddenField()

    def ensure_key(self) -> bool:
        """True if the hidden key is sound; otherwise a fresh one is set and a message added."""
        if valid_key(self.key.data):
            return True
        self.key.data = new_key()
        self.form_errors.append(_l("The form expired. Check it and submit it again."))
        return False
