"""Forms of the ledger pages.

Amount text is parsed here (fundapp.money.parse_amount) into Decimals, with one clear message per field;
the rules of an entry (balance, funds, periods, idempotency) stay in the posting service.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    FieldList,
    FormField,
    HiddenField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from fundapp.forms import GetForm
from fundapp.ledger.models import Account, AccountType, Fund
from fundapp.ledger.services import LineSpec
from fundapp.money import AmountError, parse_amount

MAX_LINES = 60
BLANK_LINES = 4
KEY_PREFIX = "manual:"
_KEY_RE = re.compile(r"^manual:[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$")

AMOUNT_MESSAGES = {
    "empty": _l("Enter an amount."),
    "not_a_number": _l("Enter a number such as 1234.56."),
    "too_many_decimals": _l("An amount has at most two decimal places."),
    "too_large": _l("The amount is too large."),
    "zero": _l("The amount cannot be zero."),
    "negative": _l("Enter a positive amount; put a credit in the credit column."),
}
DATE_MESSAGE = _l("Enter a date as YYYY-MM-DD.")
MEMO_MISSING = _l("Write a memo that says what the entry is for.")


def strip(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


def new_idempotency_key() -> str:
    return f"{KEY_PREFIX}{uuid.uuid4()}"


def valid_idempotency_key(key: str | None) -> bool:
    return bool(key and _KEY_RE.match(key))


def account_choices(accounts: list[Account], blank) -> list[SelectChoice]:
    return [SelectChoice("", blank)] + [SelectChoice(str(a.id), f"{a.code} {a.name}") for a in accounts]


def fund_choices(funds: list[Fund], blank) -> list[SelectChoice]:
    return [SelectChoice("", blank)] + [SelectChoice(str(f.id), f"{f.code} {f.name}") for f in funds]


class JournalFilterForm(GetForm):
    date_from = DateField(_l("From"), validators=[Optional()], invalid_value_message=DATE_MESSAGE)
    date_to = DateField(_l("To"), validators=[Optional()], invalid_value_message=DATE_MESSAGE)
    fund = SelectField(_l("Fund"), validate_choice=False)
    account = SelectField(_l("Account"), validate_choice=False)
    q = StringField(_l("Text, key or #number"), filters=[strip], validators=[Length(max=200)])


class TrialBalanceForm(GetForm):
    as_of = DateField(_l("As of"), validators=[Optional()], invalid_value_message=DATE_MESSAGE)
    fund = SelectField(_l("Fund"), validate_choice=False)


class EntryLineForm(FlaskForm):
    class Meta:
        csrf = False

    # Membership is checked by line_specs (one message per field), not by WTForms.
    account = SelectField(_l("Account"), validate_choice=False)
    fund = SelectField(_l("Fund"), validate_choice=False)
    net_asset_class = SelectField(
        _l("Net-asset class"),
        choices=[
            SelectChoice("", _l("Fund default")),
            SelectChoice("unrestricted", _l("Unrestricted")),
            SelectChoice("restricted", _l("Restricted")),
        ],
        default="",
    )
    debit = StringField(_l("Debit"), filters=[strip], render_kw={"inputmode": "decimal", "autocomplete": "off"})
    credit = StringField(_l("Credit"), filters=[strip], render_kw={"inputmode": "decimal", "autocomplete": "off"})
    memo = StringField(_l("Line memo"), filters=[strip], validators=[Length(max=500)])

    def is_blank(self) -> bool:
        return not any((self.account.data, self.fund.data, self.debit.data, self.credit.data, self.memo.data))


class EntryForm(FlaskForm):
    effective_date = DateField(
        _l("Date"), validators=[InputRequired(message=DATE_MESSAGE)], invalid_value_message=DATE_MESSAGE
    )
    memo = StringField(_l("Memo"), filters=[strip], validators=[DataRequired(message=MEMO_MISSING), Length(max=500)])
    idempotency_key = HiddenField()
    lines = FieldList(FormField(EntryLineForm), min_entries=BLANK_LINES, max_entries=MAX_LINES)
    add_line = SubmitField(_l("Add a line"))
    submit = SubmitField(_l("Post entry"))

    def set_choices(self, accounts: list[Account], funds: list[Fund]) -> None:
        """Offer the active accounts and funds on every line (call again after adding a line)."""
        for line in self.lines:
            line.account.choices = account_choices(accounts, _l("Choose an account"))
            line.fund.choices = fund_choices(funds, _l("Choose a fund"))

    def add_blank_line(self) -> bool:
        if len(self.lines) >= MAX_LINES:
            return False
        self.lines.append_entry()
        return True

    def line_specs(self, accounts: Mapping[str, Account], funds: Mapping[str, Fund]) -> list[LineSpec] | None:
        """The non-blank lines as LineSpecs, or None after putting a message on each bad field."""
        specs, ok = [], True
        for line in self.lines:
            if line.is_blank():
                continue
            spec = _line_spec(line, accounts, funds)
            if spec is None:
                ok = False
            else:
                specs.append(spec)
        return specs if ok else None


def _parse(field) -> Decimal | None:
    try:
        return parse_amount(field.data)
    except AmountError as error:
        field.errors.append(AMOUNT_MESSAGES.get(error.code, AMOUNT_MESSAGES["not_a_number"]))
        return None


def _line_amount(line: EntryLineForm) -> Decimal | None:
    """Debit as positive, credit as negative; exactly one of the two."""
    if line.debit.data and line.credit.data:
        line.debit.errors.append(_l("Enter a debit or a credit, not both."))
        return None
    if not line.debit.data and not line.credit.data:
        line.debit.errors.append(_l("Enter a debit or a credit."))
        return None
    if line.debit.data:
        return _parse(line.debit)
    amount = _parse(line.credit)
    return None if amount is None else -amount


def _line_spec(line: EntryLineForm, accounts: Mapping[str, Account], funds: Mapping[str, Fund]) -> LineSpec | None:
    account, fund = accounts.get(line.account.data or ""), funds.get(line.fund.data or "")
    if account is None:
        line.account.errors.append(_l("Choose an account."))
    if fund is None:
        line.fund.errors.append(_l("Choose a fund."))
    amount = _line_amount(line)
    if account is None or fund is None or amount is None or line.errors:
        return None
    return LineSpec(account=account, fund=fund, amount=amount,
                    net_asset_class=line.net_asset_class.data or None, memo=line.memo.data or "")


class ReverseForm(FlaskForm):
    reason = TextAreaField(
        _l("Reason"),
        filters=[strip],
        validators=[DataRequired(message=_l("Say why the entry is reversed.")), Length(max=300)],
    )
    effective_date = DateField(
        _l("Date of the reversal"), validators=[InputRequired(message=DATE_MESSAGE)], invalid_value_message=DATE_MESSAGE
    )
    submit = SubmitField(_l("Reverse entry"))


ACCOUNT_TYPE_LABELS = {
    AccountType.asset.value: _l("Asset"),
    AccountType.liability.value: _l("Liability"),
    AccountType.net_assets.value: _l("Net assets"),
    AccountType.revenue.value: _l("Revenue"),
    AccountType.expense.value: _l("Expense"),
}


class AccountForm(FlaskForm):
    code = StringField(_l("Code"), filters=[strip], validators=[DataRequired(), Length(max=20)])
    name = StringField(_l("Name"), filters=[strip], validators=[DataRequired(), Length(max=100)])
    name_en = StringField(_l("English name"), filters=[strip], validators=[Length(max=100)])
    type = SelectField(_l("Type"), choices=[SelectChoice(k, v) for k, v in ACCOUNT_TYPE_LABELS.items()])
    is_contra = BooleanField(_l("Contra account (opposite of its type's normal balance)"))
    is_active = BooleanField(_l("Active"), default=True)
    description = TextAreaField(_l("Description"), filters=[strip], validators=[Length(max=2000)])
    submit = SubmitField(_l("Save"))

    def values(self) -> dict:
        text = {name: getattr(self, name).data or "" for name in ("code", "name", "name_en", "type", "description")}
        return text | {"is_contra": bool(self.is_contra.data), "is_active": bool(self.is_active.data)}


class ClosePeriodForm(FlaskForm):
    month = SelectField(_l("Close through"), validate_choice=False)  # the period service checks the month
    submit = SubmitField(_l("Close"))

    def year_month(self) -> tuple[int, int] | None:
        match = re.fullmatch(r"(\d{4})-(\d{2})", self.month.data or "")
        return (int(match[1]), int(match[2])) if match else None


class YearCloseForm(FlaskForm):
    """Closing a year cannot be undone: the year is typed again to confirm."""

    confirm = StringField(_l("Type the year to confirm"), filters=[strip],
                          validators=[DataRequired(message=_l("Type the year to confirm.")), Length(max=10)])
    submit = SubmitField(_l("Close the year"))

    def confirms(self, year: int) -> bool:
        return (self.confirm.data or "") == str(year)


class ReleaseDateForm(GetForm):
    """The date the release-from-restriction preview is for (query string)."""

    through = DateField(_l("Release through"), validators=[Optional()], invalid_value_message=DATE_MESSAGE)


class ReleaseForm(FlaskForm):
    """Posting the release: the date again (hidden) and a checkbox confirming the preview was checked."""

    through = DateField(_l("Release through"), validators=[DataRequired(message=DATE_MESSAGE)],
                        invalid_value_message=DATE_MESSAGE)
    confirm = BooleanField(_l("I have checked the release above; post it."),
                           validators=[DataRequired(message=_l("Tick the box to confirm the release."))])
    submit = SubmitField(_l("Post the release"))
