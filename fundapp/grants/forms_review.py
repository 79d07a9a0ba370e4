"""Forms of the review pages: assigning reviewers, the conflict declaration, the score sheet, the ranking's
actions and the reviewer's list filter."""

from __future__ import annotations

import re
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, SelectMultipleField, StringField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from fundapp.forms import GetForm, strip
from fundapp.grants.models import AssignmentStatus, RubricCriterion

SCORE_RE = re.compile(r"^\d{1,3}(\.\d)?$")

ASSIGNMENT_LABELS = {
    "declare": _l("Conflict declaration needed"),
    "scoring": _l("In progress"),
    AssignmentStatus.submitted.value: _l("Submitted"),
    AssignmentStatus.conflicted.value: _l("Conflict declared"),
}


class AssignForm(FlaskForm):
    reviewers = SelectMultipleField(_l("Reviewers"), coerce=int, validate_choice=False,
                                    validators=[InputRequired(message=_l("Choose at least one reviewer."))])
    submit = SubmitField(_l("Assign"))


class BulkAssignForm(AssignForm):
    applications = SelectMultipleField(_l("Applications"), coerce=int, validate_choice=False,
                                       validators=[InputRequired(message=_l("Choose at least one application."))])
    submit = SubmitField(_l("Assign the chosen reviewers"))


class RecommendForm(FlaskForm):
    applications = SelectMultipleField(_l("Applications"), coerce=int, validate_choice=False,
                                       validators=[InputRequired(message=_l("Choose at least one application."))])
    note = StringField(_l("Note to the applicants (optional)"), filters=[strip], validators=[Length(max=500)])
    confirm = BooleanField(_l("I have checked the ranking and recommend the chosen applications."),
                           validators=[DataRequired(message=_l("Tick the box to confirm."))])
    submit = SubmitField(_l("Mark as recommended"))


class ConflictForm(FlaskForm):
    note = TextAreaField(_l("What is the conflict of interest?"), filters=[strip],
                         validators=[DataRequired(message=_l("Say what the conflict of interest is.")),
                                     Length(max=500)],
                         description=_l("For example: you work for, advise or are related to someone in the "
                                        "applying organisation."))
    submit = SubmitField(_l("Declare a conflict and leave this application"))


class NoConflictForm(FlaskForm):
    confirm = BooleanField(_l("I have no conflict of interest with this application or the organisation behind it."),
                           validators=[DataRequired(message=_l("Tick the box to confirm."))])
    submit = SubmitField(_l("Confirm and start scoring"))


class ScoreSheetBase(FlaskForm):
    comment = TextAreaField(_l("Overall comment"), filters=[strip], validators=[Length(max=10000)])
    final = BooleanField(_l("I understand that a submitted review is final and cannot be changed."))
    save = SubmitField(_l("Save draft"))
    send = SubmitField(_l("Submit the review"))

    criteria: list[RubricCriterion] = []

    def score_field(self, criterion: RubricCriterion):
        return self[f"score_{criterion.id}"]

    def comment_field(self, criterion: RubricCriterion):
        return self[f"comment_{criterion.id}"]

    def parsed_scores(self) -> list[tuple[int, Decimal | None, str]] | None:
        """(criterion id, score or None, comment) per criterion, or None after marking fields in error."""
        rows, ok = [], True
        for criterion in self.criteria:
            field = self.score_field(criterion)
            raw = (field.data or "").strip()
            score = None
            if raw:
                if SCORE_RE.match(raw) and Decimal(raw) <= criterion.max_score:
                    score = Decimal(raw)
                else:
                    field.errors = [*field.errors, _l("Enter a score from 0 to %(max)d, with at most one decimal.",
                                                      max=criterion.max_score)]
                    ok = False
            rows.append((criterion.id, score, self.comment_field(criterion).data or ""))
        return rows if ok else None


def score_sheet(criteria: list[RubricCriterion], **data) -> ScoreSheetBase:
    """A score sheet with a score and a comment field per criterion of the rubric (bound to the request's form
    when one was posted, else filled from `data`)."""
    fields = {"criteria": list(criteria)}
    for criterion in criteria:
        fields[f"score_{criterion.id}"] = StringField(
            _l("Score (0–%(max)d)", max=criterion.max_score), filters=[strip], validators=[Optional()],
            render_kw={"inputmode": "decimal", "autocomplete": "off", "maxlength": 5})
        fields[f"comment_{criterion.id}"] = TextAreaField(_l("Comment"), filters=[strip],
                                                          validators=[Length(max=2000)], render_kw={"rows": 3})
    form_class = type("ScoreSheet", (ScoreSheetBase,), fields)
    return form_class(data=data)


class ReviewFilterForm(GetForm):
    state = SelectField(_l("Status"), choices=[SelectChoice("", _l("All"))]
                        + [SelectChoice(key, label) for key, label in ASSIGNMENT_LABELS.items()], default="")
