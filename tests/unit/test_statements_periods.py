"""Reporting periods: ranges, labels and the comparison a year earlier (pure date arithmetic)."""

from __future__ import annotations

import datetime as dt

import pytest

from fundapp.reports.periods import (
    ReportPeriod,
    month_period,
    quarter_period,
    year_earlier,
    year_period,
    year_to_date,
)

d = dt.date


@pytest.mark.parametrize("day,expected", [
    (d(2025, 3, 15), d(2024, 3, 15)),
    (d(2025, 2, 28), d(2024, 2, 29)),  # a month's last day stays its last day
    (d(2024, 2, 29), d(2023, 2, 28)),
    (d(2025, 12, 31), d(2024, 12, 31)),
    (d(2024, 2, 28), d(2023, 2, 28)),
])
def test_a_year_earlier(day, expected):
    assert year_earlier(day) == expected


def test_periods_and_their_labels():
    assert month_period(2024, 2) == ReportPeriod(d(2024, 2, 1), d(2024, 2, 29), "month")
    assert (month_period(2024, 2).label_zh, month_period(2024, 2).label) == ("2024年2月", "2024-02")
    q4 = quarter_period(2025, 4)
    assert (q4.start, q4.end, q4.label_zh, q4.label) == (d(2025, 10, 1), d(2025, 12, 31), "2025年第四季度", "2025-Q4")
    year = year_period(2025)
    assert (year.start, year.end, year.label_zh, year.label) == (d(2025, 1, 1), d(2025, 12, 31), "2025年度", "2025")
    ytd = year_to_date(d(2025, 7, 15))
    assert (ytd.start, ytd.end, ytd.label_zh) == (d(2025, 1, 1), d(2025, 7, 15), "2025年1月1日至2025年7月15日")
    custom = ReportPeriod(d(2025, 2, 3), d(2025, 4, 5))
    assert custom.label == "2025-02-03 – 2025-04-05"


def test_comparison_periods():
    assert month_period(2024, 2).year_earlier() == month_period(2023, 2)
    assert month_period(2025, 2).year_earlier() == month_period(2024, 2)
    assert quarter_period(2025, 1).year_earlier() == quarter_period(2024, 1)
    assert year_period(2025).year_earlier() == year_period(2024)
    ytd = year_to_date(d(2025, 7, 15)).year_earlier()
    assert (ytd.start, ytd.end, ytd.kind) == (d(2024, 1, 1), d(2024, 7, 15), "custom")
    assert quarter_period(2025, 3).prior_year_end == d(2024, 12, 31)
