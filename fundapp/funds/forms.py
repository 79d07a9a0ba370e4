"""Forms of the fund pages, and the labels shown for a fund's type, restriction and status.

The form checks shape (required, lengths, known choices); the rules of a fund (code format, unique code,
code frozen once lines exist) stay in fundapp.funds.services.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from fundapp.ledger.models import FundStatus, FundType, NetAssetClass

FUND_TYPE_LABELS = {
    FundType.general.value: _l("General fund"),
    FundType.project.value: _l("Project fund"),
    FundType.named.value: _l("Named fund"),
    FundType.endowment.value: _l("Endowment fund"),
    FundType.micro.value: _l("Community micro-fund"),
    FundType.enterprise_return.value: _l("Enterprise return fund"),
}
RESTRICTION_LABELS = {
    NetAssetClass.unrestricted.value: _l("Unrestricted"),
    NetAssetClass.restricted.value: _l("Restricted"),
}
STATUS_LABELS = {
    FundStatus.active.value: _l("Active"),
    FundStatus.closed.value: _l("Closed"),
}
SORT_LABELS = {"code": _l("Code"), "name": _l("Name"), "balance": _l("Net assets, largest first")}


def strip(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


def _choices(labels: dict, blank=None) -> list[SelectChoice]:
    head = [SelectChoice("", blank)] if blank is not None else []
    return head + [SelectChoice(value, label) for value, label in labels.items()]


class FundForm(FlaskForm):
    code = StringField(
        _l("Code"),
        filters=[strip],
        validators=[DataRequired(message=_l("Enter a fund code.")), Length(max=20)],
        description=_l("1 to 20 letters, digits, '-' or '_'; fixed once entries are posted."),
    )
    name = StringField(
        _l("Name"), filters=[strip], validators=[DataRequired(message=_l("A fund needs a name.")), Length(max=200)]
    )
    fund_type = SelectField(_l("Type"), choices=_choices(FUND_TYPE_LABELS))
    restriction = SelectField(_l("Restriction"), choices=_choices(RESTRICTION_LABELS))
    purpose = TextAreaField(_l("Purpose"), filters=[strip], validators=[Length(max=4000)])
    is_public = BooleanField(_l("Shown on the public site"), default=True)
    submit = SubmitField(_l("Save"))

    def values(self) -> dict:
        return {
            "code": self.code.data,
            "name": self.name.data,
            "fund_type": self.fund_type.data,
            "restriction": self.restriction.data,
            "purpose": self.purpose.data or "",
            "is_public": bool(self.is_public.data),
        }


class FundFilterForm(FlaskForm):
    """The fund list's filters, read from the query string (no CSRF: it changes nothing)."""

    class Meta:
        csrf = False

    q = StringField(_l("Code or name"), filters=[strip], validators=[Length(max=100)])
    fund_type = SelectField(_l("Type"), choices=_choices(FUND_TYPE_LABELS, _l("All types")), validate_choice=False)
    status = SelectField(_l("Status"), choices=_choices(STATUS_LABELS, _l("All")), validate_choice=False)
    sort = SelectField(_l("Sort by"), choices=_choices(SORT_LABELS), validate_choice=False)

    def filters(self) -> dict:
        """Only known values; anything else in the query string is ignored."""
        return {
            "text": self.q.data if self.q.data and not self.q.errors else None,
            "fund_type": self.fund_type.data if self.fund_type.data in FUND_TYPE_LABELS else None,
            "status": self.status.data if self.status.data in STATUS_LABELS else None,
            "sort": self.sort.data if self.sort.data in SORT_LABELS else "code",
        }
