"""Forms of the points pages: catalogue, redemption and gift (keyed, with a confirm step), reversal, expiry, and
the list filters (read from the query string)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, HiddenField, IntegerField, SelectField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from fundapp.forms import GetForm, KeyedForm, strip
from fundapp.volunteers.forms import DATE_MESSAGE, TICK
from fundapp.volunteers.models import RewardKind

KIND_LABELS = {RewardKind.goods.value: _l("Goods"), RewardKind.service.value: _l("Service")}
ACCOUNT_KIND_LABELS = {"volunteer": _l("Volunteer"), "person": _l("Person"), "issuance": _l("Issuance (system)"),
                       "redemption": _l("Redemption (system)"), "expiry": _l("Expiry (system)")}
ENTRY_KIND_LABELS = {"hours": _l("Hours"), "gift": _l("Gift"), "redemption": _l("Redemption"),
                     "expiry": _l("Expiry"), "reversal": _l("Reversal")}


class RewardFilterForm(GetForm):
    q = StringField(_l("Name or given by"), filters=[strip], validators=[Length(max=200)])
    status = SelectField(_l("Offered"), choices=[SelectChoice("active", _l("Offered now")),
                                                 SelectChoice("inactive", _l("No longer offered")),
                                                 SelectChoice("all", _l("All"))])


class RewardForm(FlaskForm):
    name = StringField(_l("Name"), filters=[strip], validators=[DataRequired(), Length(max=200)])
    kind = SelectField(_l("Kind"), choices=[SelectChoice(k, v) for k, v in KIND_LABELS.items()])
    points = StringField(_l("Points per item"), filters=[strip], validators=[DataRequired()],
                         render_kw={"inputmode": "decimal", "autocomplete": "off"})
    stock = IntegerField(_l("Stock"), validators=[InputRequired(), NumberRange(min=0)],
                         description=_l("A recount or a restock: the number of items on hand now."))
    donor_label = StringField(_l("Given by"), filters=[strip], validators=[Length(max=200)],
                              description=_l("As shown publicly."))
    donation_id = HiddenField()
    unit_value = StringField(_l("Unit value (¥)"), filters=[strip], validators=[Optional()],
                             render_kw={"inputmode": "decimal", "autocomplete": "off"},
                             description=_l("Book value of one item in 1201 Inventory; only for goods from an "
                                            "in-kind donation."))
    is_active = BooleanField(_l("Offered in the catalogue"), default=True)
    submit = SubmitField(_l("Save"))


class HolderSearchForm(GetForm):
    q = StringField(_l("Search holders by name"), filters=[strip], validators=[Length(max=100)])


class RedeemForm(KeyedForm):
    account = SelectField(_l("Holder"), validate_choice=False)
    reward = SelectField(_l("Reward"), validate_choice=False)
    quantity = IntegerField(_l("Quantity"), default=1, validators=[InputRequired(), NumberRange(min=1, max=100)])
    confirmed = HiddenField()
    submit = SubmitField(_l("Continue"))


class GiftForm(KeyedForm):
    giver = SelectField(_l("From"), validate_choice=False)
    receiver = SelectField(_l("To"), validate_choice=False)
    new_person = StringField(_l("Or to a new person (name)"), filters=[strip], validators=[Length(max=100)],
                             description=_l("Someone who is not a volunteer, e.g. an elderly neighbour."))
    points = StringField(_l("Points"), filters=[strip], validators=[DataRequired()],
                         render_kw={"inputmode": "decimal", "autocomplete": "off"})
    memo = StringField(_l("Note"), filters=[strip], validators=[Length(max=300)])
    confirmed = HiddenField()
    submit = SubmitField(_l("Continue"))


class AccountFilterForm(GetForm):
    q = StringField(_l("Name"), filters=[strip], validators=[Length(max=100)])
    kind = SelectField(_l("Kind"), choices=[SelectChoice("", _l("All"))] + [
        SelectChoice(k, v) for k, v in ACCOUNT_KIND_LABELS.items()])


class RedemptionFilterForm(GetForm):
    reward = SelectField(_l("Reward"), validate_choice=False)
    start = DateField(_l("From"), validators=[Optional()], invalid_value_message=DATE_MESSAGE)
    end = DateField(_l("To"), validators=[Optional()], invalid_value_message=DATE_MESSAGE)


class ReverseForm(KeyedForm):
    reason = StringField(_l("Reason"), filters=[strip], validators=[DataRequired(), Length(max=300)])
    confirm = BooleanField(_l("I understand the points move back and this cannot be undone."),
                           validators=[DataRequired(message=TICK)])
    submit = SubmitField(_l("Reverse"))


class ExpiryForm(FlaskForm):
    confirm = BooleanField(_l("Let these points lapse now."),
                           validators=[DataRequired(message=TICK)])
    submit = SubmitField(_l("Run expiry"))
