"""Reporting periods of the statements (pure date arithmetic): a month, a quarter, a year, the year to date or
any range, and the comparison period a year earlier."""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass

KINDS = ("ytd", "month", "quarter", "year", "custom")
FIRST_YEAR, LAST_YEAR = 1901, 9998  # a comparison a year earlier must still be a date
MAX_DAYS = 366 * 10  # a custom range of at most ten years
QUARTER_WORDS = "一二三四"


def month_end(year: int, month: int) -> dt.date:
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def is_month_end(day: dt.date) -> bool:
    return day == month_end(day.year, day.month)


def year_earlier(day: dt.date) -> dt.date:
    """The same day a year earlier; a month's last day stays its last day (2025-02-28 -> 2024-02-29)."""
    if is_month_end(day):
        return month_end(day.year - 1, day.month)
    return day.replace(year=day.year - 1)


def zh_date(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


@dataclass(frozen=True)
class ReportPeriod:
    """From `start` to `end` inclusive; `kind` says how it was chosen (for its label)."""

    start: dt.date
    end: dt.date
    kind: str = "custom"

    def year_earlier(self) -> ReportPeriod:
        """The same range a year earlier (the comparison column of activities and cash flows)."""
        kind = self.kind if self.kind in ("month", "quarter", "year") else "custom"
        return ReportPeriod(year_earlier(self.start), year_earlier(self.end), kind)

    @property
    def prior_year_end(self) -> dt.date:
        """The last day of the year before `end`'s year (the balance sheet's 年初数 column)."""
        return dt.date(self.end.year - 1, 12, 31)

    @property
    def label_zh(self) -> str:
        """How the statutory statements name the period: 2025年度, 2025年第三季度, 2025年7月, or the dates."""
        if self.kind == "year":
            return f"{self.start.year}年度"
        if self.kind == "quarter":
            return f"{self.start.year}年第{QUARTER_WORDS[(self.start.month - 1) // 3]}季度"
        if self.kind == "month":
            return f"{self.start.year}年{self.start.month}月"
        return f"{zh_date(self.start)}至{zh_date(self.end)}"

    @property
    def label(self) -> str:
        """A short language-neutral label: 2025, 2025-Q3, 2025-07 or 2025-01-01 – 2025-06-30."""
        if self.kind == "year":
            return f"{self.start.year}"
        if self.kind == "quarter":
            return f"{self.start.year}-Q{(self.start.month - 1) // 3 + 1}"
        if self.kind == "month":
            return f"{self.start.year}-{self.start.month:02d}"
        return f"{self.start.isoformat()} – {self.end.isoformat()}"


def month_period(year: int, month: int) -> ReportPeriod:
    return ReportPeriod(dt.date(year, month, 1), month_end(year, month), "month")


def quarter_period(year: int, quarter: int) -> ReportPeriod:
    first = (quarter - 1) * 3 + 1
    return ReportPeriod(dt.date(year, first, 1), month_end(year, first + 2), "quarter")


def year_period(year: int) -> ReportPeriod:
    return ReportPeriod(dt.date(year, 1, 1), dt.date(year, 12, 31), "year")


def year_to_date(today: dt.date) -> ReportPeriod:
    return ReportPeriod(dt.date(today.year, 1, 1), today, "ytd")
