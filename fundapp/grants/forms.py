"""Forms of the organisation, programme and application pages, and the labels they show. Amounts are parsed here
(one clear message per field); the rules (budgets, rubric totals, submission checks) stay in the services."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields import FieldList
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from fundapp.donations.forms import AMOUNT_MESSAGES, DATE_MESSAGE
from fundapp.forms import GetForm, strip
from fundapp.grants.applications import LineInput
from fundapp.grants.models import ApplicationStatus, ProgrammeKind, ProgrammeStatus
from fundapp.grants.programmes import CriterionInput
from fundapp.money import ZERO, AmountError, parse_amount

KIND_LABELS = {
    ProgrammeKind.call.value: _l("Call for proposals"),
    ProgrammeKind.venture.value: _l("Venture philanthropy competition (公益创投)"),
    ProgrammeKind.purchase.value: _l("Government-purchased services (政府购买服务)"),
    ProgrammeKind.directed.value: _l("Directed programme"),
}
PROGRAMME_STATUS_LABELS = {
    ProgrammeStatus.draft.value: _l("Draft"),
    ProgrammeStatus.open.value: _l("Open"),
    ProgrammeStatus.closed.value: _l("Closed"),
    ProgrammeStatus.archived.value: _l("Archived"),
}
APPLICATION_STATUS_LABELS = {
    ApplicationStatus.draft.value: _l("Draft"),
    ApplicationStatus.submitted.value: _l("Submitted"),
    ApplicationStatus.in_review.value: _l("In review"),
    ApplicationStatus.revision_requested.value: _l("Revision requested"),
    ApplicationStatus.recommended.value: _l("Recommended"),
    ApplicationStatus.on_agenda.value: _l("On the board's agenda"),
    ApplicationStatus.approved.value: _l("Approved"),
    ApplicationStatus.rejected.value: _l("Not approved"),
    ApplicationStatus.withdrawn.value: _l("Withdrawn"),
}
BUDGET_CATEGORIES = (_l("Personnel"), _l("Activities"), _l("Materials"), _l("Venue"), _l("Travel"),
                     _l("Administration"), _l("Other"))
CRITERION_ROWS = 6  # blank rows offered for the rubric
LINE_ROWS = 5  # blank rows offered for the budget (plus "add a row")
PROGRAMME_SORTS = {"opens": _l("Opening date, newest first"), "closes": _l("Closing soonest"), "code": _l("Code"),
                   "title": _l("Title")}
APPLICATION_SORTS = {"newest": _l("Newest first"), "oldest": _l("Oldest first"), "reference": _l("Reference"),
                     "amount": _l("Amount requested, largest first"), "organisation": _l("Organisation")}
ORGANISATION_SORTS = {"name": _l("Name"), "newest": _l("Newest first")}


def _choices(labels: dict, blank=None) -> list[SelectChoice]:
    head = [SelectChoice("", blank)] if blank is not None else []
    return head + [SelectChoice(value, label) for value, label in labels.items()]


def money(field, *, required: bool = True, allow_zero: bool = False, blank_zero: bool = False) -> Decimal | None:
    """The field's amount, or None (blank and optional, or after putting a message on the field). `blank_zero`: an
    empty field is 0. The one amount parser of the grant forms (forms_award and forms_board use it too)."""
    if not (field.data or "").strip():
        if blank_zero:
            return ZERO
        if required:
            field.errors = [*field.errors, AMOUNT_MESSAGES["empty"]]  # a tuple until the form was validated
        return None
    try:
        return parse_amount(field.data, allow_zero=allow_zero)
    except AmountError as error:
        field.errors = [*field.errors, AMOUNT_MESSAGES.get(error.code, AMOUNT_MESSAGES["not_a_number"])]
        return None


class ActionForm(FlaskForm):
    """A button that changes something: the CSRF token only."""


# --- organisations ------------------------------------------------------------------------------------------------


class OrganisationForm(FlaskForm):
    name = StringField(_l("Organisation name"), filters=[strip],
                       validators=[DataRequired(message=_l("Enter the organisation's name.")), Length(max=200)])
    reg_no = StringField(_l("Unified social credit code (统一社会信用代码)"), filters=[strip],
                         validators=[DataRequired(message=_l("Enter the unified social credit code.")),
                                     Length(max=30)],
                         description=_l("18 characters, as on the registration certificate."))
    org_type = StringField(_l("Type of organisation"), filters=[strip], validators=[Length(max=50)],
                           description=_l("For example 社会团体, 民办非企业单位, 基金会 or 社区社会组织."))
    community = StringField(_l("Community (社区) served"), filters=[strip], validators=[Length(max=200)])
    contact_name = StringField(_l("Contact person"), filters=[strip],
                               validators=[DataRequired(message=_l("Enter a contact person.")), Length(max=100)])
    contact_phone = StringField(_l("Contact phone"), filters=[strip],
                                validators=[DataRequired(message=_l("Enter a contact phone number.")),
                                            Length(max=50)], render_kw={"inputmode": "tel"})
    contact_email = StringField(_l("Contact email"), filters=[strip],
                                validators=[Length(max=254)], render_kw={"inputmode": "email"})
    address = StringField(_l("Address"), filters=[strip], validators=[Length(max=300)])
    bank_name = StringField(_l("Bank (branch)"), filters=[strip],
                            validators=[DataRequired(message=_l("Enter the bank where grants are paid.")),
                                        Length(max=200)])
    bank_account_name = StringField(_l("Account name"), filters=[strip],
                                    validators=[DataRequired(message=_l("Enter the name on the bank account.")),
                                                Length(max=200)],
                                    description=_l("Grants are paid only to an account in the organisation's name."))
    bank_account_no = StringField(_l("Account number"), filters=[strip],
                                  validators=[DataRequired(message=_l("Enter the bank account number.")),
                                              Length(max=50)], render_kw={"inputmode": "numeric"})
    submit = SubmitField(_l("Save"))

    FIELDS = ("name", "reg_no", "org_type", "community", "contact_name", "contact_phone", "contact_email", "address",
              "bank_name", "bank_account_name", "bank_account_no")

    def values(self) -> dict:
        return {key: getattr(self, key).data or "" for key in self.FIELDS}


class OrganisationFilterForm(GetForm):
    q = StringField(_l("Name, credit code, community or contact"), filters=[strip], validators=[Length(max=100)])
    sort = SelectField(_l("Sort"), choices=_choices(ORGANISATION_SORTS), validate_choice=False)


class LinkMemberForm(FlaskForm):
    email = StringField(_l("Email of an applicant user"), filters=[strip],
                        validators=[DataRequired(message=_l("Enter the email of an applicant user.")),
                                    Length(max=254)])
    submit = SubmitField(_l("Link user"))


# --- programmes ---------------------------------------------------------------------------------------------------


class CriterionForm(Form):
    name = StringField(_l("Criterion"), filters=[strip], validators=[Length(max=200)])
    description = StringField(_l("What reviewers look for"), filters=[strip], validators=[Length(max=1000)])
    weight = StringField(_l("Weight (%)"), filters=[strip], render_kw={"inputmode": "decimal"})
    max_score = IntegerField(_l("Top score"), default=10, validators=[Optional(), NumberRange(min=1, max=100)])

    def is_blank(self) -> bool:
        return not (self.name.data or self.description.data or self.weight.data)


class ProgrammeForm(FlaskForm):
    code = StringField(_l("Code"), filters=[strip],
                       validators=[DataRequired(message=_l("Enter a programme code.")), Length(max=30)],
                       description=_l("Letters, digits, '-' or '_', e.g. CV2026."))
    title = StringField(_l("Title"), filters=[strip],
                        validators=[DataRequired(message=_l("A programme needs a title.")), Length(max=200)])
    kind = SelectField(_l("Kind"), choices=_choices(KIND_LABELS))
    fund_id = SelectField(_l("Fund it draws on"), coerce=int, validate_choice=True)
    budget = StringField(_l("Budget (¥)"), filters=[strip], render_kw={"inputmode": "decimal"})
    max_request = StringField(_l("Largest grant per application (¥, optional)"), filters=[strip],
                              render_kw={"inputmode": "decimal"})
    opens_on = DateField(_l("Opens on"), validators=[DataRequired(message=DATE_MESSAGE)],
                         invalid_value_message=DATE_MESSAGE)
    closes_on = DateField(_l("Closes on"), validators=[DataRequired(message=DATE_MESSAGE)],
                          invalid_value_message=DATE_MESSAGE)
    description = TextAreaField(_l("Description"), filters=[strip], validators=[Length(max=20000)])
    eligibility = TextAreaField(_l("Who may apply"), filters=[strip], validators=[Length(max=20000)])
    criteria = FieldList(FormField(CriterionForm), min_entries=CRITERION_ROWS)
    submit = SubmitField(_l("Save"))

    def parsed(self) -> tuple[dict, list[CriterionInput]] | None:
        """The values and rubric for the service, or None after putting messages on the fields."""
        budget = money(self.budget)
        max_request = money(self.max_request, required=False)
        criteria, ok = [], budget is not None and not self.max_request.errors
        for entry in self.criteria:
            row = entry.form
            if row.is_blank():
                continue
            weight = parse_weight(row.weight.data)
            if weight is None:
                row.weight.errors.append(_l("Enter a weight such as 25 or 12.5."))
                ok = False
                continue
            criteria.append(CriterionInput(row.name.data or "", weight, row.max_score.data or 10,
                                           row.description.data or ""))
        if not ok:
            return None
        values = {"code": self.code.data, "title": self.title.data, "kind": self.kind.data,
                  "fund_id": self.fund_id.data, "budget": budget, "max_request": max_request,
                  "opens_on": self.opens_on.data, "closes_on": self.closes_on.data,
                  "description": self.description.data or "", "eligibility": self.eligibility.data or ""}
        return values, criteria


def parse_weight(text: str | None) -> Decimal | None:
    raw = (text or "").strip().rstrip("%").strip()
    try:
        value = Decimal(raw)
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


class ProgrammeFilterForm(GetForm):
    q = StringField(_l("Code or title"), filters=[strip], validators=[Length(max=100)])
    status = SelectField(_l("Status"), choices=_choices(PROGRAMME_STATUS_LABELS, _l("All")), validate_choice=False)
    kind = SelectField(_l("Kind"), choices=_choices(KIND_LABELS, _l("All kinds")), validate_choice=False)
    sort = SelectField(_l("Sort"), choices=_choices(PROGRAMME_SORTS), validate_choice=False)


class ProgrammeStatusForm(FlaskForm):
    status = HiddenField()
    confirm = BooleanField(_l("Yes, archive it: what is left of its budget is released and it takes no more "
                              "applications."))


# --- applications -------------------------------------------------------------------------------------------------


class BudgetLineForm(Form):
    category = StringField(_l("Category"), filters=[strip], validators=[Length(max=50)])
    item = StringField(_l("Item"), filters=[strip], validators=[Length(max=200)])
    amount = StringField(_l("Amount (¥)"), filters=[strip], render_kw={"inputmode": "decimal"})

    def is_blank(self) -> bool:
        return not (self.category.data or self.item.data or self.amount.data)


class ApplicationForm(FlaskForm):
    title = StringField(_l("Project title"), filters=[strip], validators=[Length(max=200)])
    community = StringField(_l("Community (社区)"), filters=[strip], validators=[Length(max=200)])
    summary = TextAreaField(_l("Summary"), filters=[strip], validators=[Length(max=5000)])
    objectives = TextAreaField(_l("Objectives"), filters=[strip], validators=[Length(max=5000)])
    beneficiaries = TextAreaField(_l("Who benefits"), filters=[strip], validators=[Length(max=5000)])
    beneficiaries_count = IntegerField(_l("Number of beneficiaries"),
                                       validators=[Optional(), NumberRange(min=0, max=10_000_000)])
    starts_on = DateField(_l("Project starts on"), validators=[Optional()], invalid_value_message=DATE_MESSAGE)
    ends_on = DateField(_l("Project ends on"), validators=[Optional()], invalid_value_message=DATE_MESSAGE)
    requested_amount = StringField(_l("Amount requested (¥)"), filters=[strip], render_kw={"inputmode": "decimal"},
                                   description=_l("The budget lines must add up to exactly this amount."))
    lines = FieldList(FormField(BudgetLineForm), min_entries=LINE_ROWS)
    save = SubmitField(_l("Save draft"))
    add_line = SubmitField(_l("Save and add a budget row"))

    VERSION_FIELDS = ("title", "community", "summary", "objectives", "beneficiaries", "beneficiaries_count",
                      "starts_on", "ends_on")

    def fill(self, version) -> None:
        """Show a stored version (GET)."""
        for key in self.VERSION_FIELDS:
            getattr(self, key).data = getattr(version, key)
        self.requested_amount.data = f"{version.requested_amount:.2f}" if version.requested_amount else ""
        while len(self.lines):
            self.lines.pop_entry()
        for line in version.budget_lines:
            self.lines.append_entry({"category": line.category, "item": line.item, "amount": f"{line.amount:.2f}"})
        for _blank in range(max(LINE_ROWS - len(version.budget_lines), 2)):
            self.lines.append_entry()

    def parsed(self) -> tuple[dict, list[LineInput]] | None:
        requested = money(self.requested_amount, required=False, allow_zero=True)
        ok = not self.requested_amount.errors
        lines = []
        for entry in self.lines:
            row = entry.form
            if row.is_blank():
                continue
            amount = money(row.amount)
            if amount is None:
                ok = False
                continue
            lines.append(LineInput(row.item.data or "", amount, row.category.data or ""))
        if not ok:
            return None
        values = {key: getattr(self, key).data for key in self.VERSION_FIELDS} | {"requested_amount": requested}
        return values, lines


class AttachmentForm(FlaskForm):
    file = FileField(_l("File"), description=_l("PDF, JPEG, PNG or XLSX."))
    submit = SubmitField(_l("Attach"))


class SubmitApplicationForm(FlaskForm):
    confirm = BooleanField(_l("I confirm that this application is true and complete. Once submitted, this version "
                              "cannot be changed."),
                           validators=[DataRequired(message=_l("Tick the box to confirm."))])
    submit = SubmitField(_l("Submit application"))


class WithdrawForm(FlaskForm):
    reason = TextAreaField(_l("Reason (optional)"), filters=[strip], validators=[Length(max=1000)])
    confirm = BooleanField(_l("Yes, withdraw this application. This cannot be undone."),
                           validators=[DataRequired(message=_l("Tick the box to confirm."))])
    submit = SubmitField(_l("Withdraw application"))


class RevisionRequestForm(FlaskForm):
    note = TextAreaField(_l("What should the applicant revise?"), filters=[strip],
                         validators=[DataRequired(message=_l("Say what the applicant should revise.")),
                                     Length(max=1000)])
    submit = SubmitField(_l("Request a revision"))


class RecommendForm(FlaskForm):
    note = TextAreaField(_l("Note (optional)"), filters=[strip], validators=[Length(max=1000)])
    submit = SubmitField(_l("Mark as recommended"))


class ScreenOutForm(FlaskForm):
    reason = TextAreaField(_l("Reason (the applicant sees it)"), filters=[strip],
                           validators=[DataRequired(message=_l("Give the reason the application is turned down.")),
                                       Length(max=1000)])
    confirm = BooleanField(_l("Yes, turn this application down. This cannot be undone."),
                           validators=[DataRequired(message=_l("Tick the box to confirm."))])
    submit = SubmitField(_l("Turn down at screening"))


class ApplicationFilterForm(GetForm):
    q = StringField(_l("Reference, title or organisation"), filters=[strip], validators=[Length(max=100)])
    programme = SelectField(_l("Programme"), validate_choice=False)
    status = SelectField(_l("Status"), choices=_choices(APPLICATION_STATUS_LABELS, _l("All")),
                         validate_choice=False)
    sort = SelectField(_l("Sort"), choices=_choices(APPLICATION_SORTS), validate_choice=False)
