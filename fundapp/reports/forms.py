"""The period and fund picker of the statement pages (a GET form: it changes nothing)."""

from __future__ import annotations

import datetime as dt

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import DateField, IntegerField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import NumberRange, Optional

from fundapp.forms import GetForm
from fundapp.reports.periods import (
    FIRST_YEAR,
    LAST_YEAR,
    MAX_DAYS,
    ReportPeriod,
    month_period,
    quarter_period,
    year_period,
    year_to_date,
)

DATE_MESSAGE = _l("Enter a date as YYYY-MM-DD.")
YEAR_MESSAGE = _l("Enter a year between %(min)s and %(max)s.")  # NumberRange fills in the bounds


class StatementForm(GetForm):
    period = SelectField(
        _l("Period"),
        choices=[
            SelectChoice("ytd", _l("This year to date")),
            SelectChoice("month", _l("Month")),
            SelectChoice("quarter", _l("Quarter")),
            SelectChoice("year", _l("Year")),
            SelectChoice("custom", _l("From … to …")),
        ],
        default="ytd",
    )
    year = IntegerField(_l("Year"), validators=[Optional(), NumberRange(FIRST_YEAR, LAST_YEAR, message=YEAR_MESSAGE)],
                        render_kw={"inputmode": "numeric", "autocomplete": "off"})
    month = SelectField(_l("Month"), choices=[SelectChoice(str(m), f"{m:02d}") for m in range(1, 13)])
    quarter = SelectField(_l("Quarter"), choices=[SelectChoice(str(q), f"Q{q}") for q in range(1, 5)])
    date_from = DateField(_l("From"), validators=[Optional()], invalid_value_message=DATE_MESSAGE)
    date_to = DateField(_l("To"), validators=[Optional()], invalid_value_message=DATE_MESSAGE)
    fund = SelectField(_l("Fund"), validate_choice=False)

    @classmethod
    def for_today(cls, formdata, today: dt.date) -> StatementForm:
        """The form read from `formdata`, with this year, month and quarter where nothing was chosen."""
        return cls(formdata=formdata, year=today.year, month=str(today.month),
                   quarter=str((today.month - 1) // 3 + 1))

    def report_period(self, today: dt.date) -> ReportPeriod | None:
        """After validate(): the period asked for, or None with the reason on the form."""
        kind, year = self.period.data, self.year.data or today.year
        if kind == "ytd":
            return year_to_date(today)
        if kind == "year":
            return year_period(year)
        if kind == "month":
            return month_period(year, int(self.month.data))
        if kind == "quarter":
            return quarter_period(year, int(self.quarter.data))
        return self._custom()

    def _custom(self) -> ReportPeriod | None:
        start, end = self.date_from.data, self.date_to.data
        if start is None or end is None:
            for field in (self.date_from, self.date_to):
                if field.data is None:
                    field.errors.append(_l("Enter the first and the last day of the period."))
            return None
        for field in (self.date_from, self.date_to):
            if not FIRST_YEAR <= field.data.year <= LAST_YEAR:
                field.errors.append(_("Enter a year between %(min)s and %(max)s.", min=FIRST_YEAR, max=LAST_YEAR))
                return None
        if end < start:
            self.date_to.errors.append(_l("The last day comes before the first day."))
            return None
        if (end - start).days > MAX_DAYS:
            self.date_to.errors.append(_l("Choose a period of at most ten years."))
            return None
        return ReportPeriod(start, end, "custom")
