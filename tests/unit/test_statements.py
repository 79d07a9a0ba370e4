"""The three statements against figures worked out by hand for the fixture ledger (tests/statements_builders.py)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from fundapp.ledger.chart import create_account
from fundapp.ledger.queries import balances_as_of
from fundapp.money import fmt
from fundapp.reports.periods import ReportPeriod, month_period, quarter_period, year_period
from fundapp.reports.statements import activities, balance_sheet, cash_flows
from tests.factories import account
from tests.statements_builders import (
    ACTIVITIES_2025,
    BALANCE_SHEET_2025,
    CASH_FLOWS_2025,
    U,
    entry,
    fixture_books,
)

Y2025 = year_period(2025)


def table(statement, keys) -> dict[str, tuple[str, ...]]:
    columns = [c.key for c in statement.columns]
    return {key: tuple(fmt(statement.value(key, column)) for column in columns) for key in keys}


def assert_table(statement, expected: dict) -> None:
    assert table(statement, expected) == expected
    assert not statement.problems


def test_balance_sheet_of_the_fixture_year(session):
    fixture_books(session)
    sheet = balance_sheet(session, Y2025)
    assert [c.name for c in sheet.columns] == ["年初数", "期末数"]
    assert sheet.period_label == "2025年12月31日" and sheet.form_code == "会民非01表"
    assert_table(sheet, BALANCE_SHEET_2025)


def test_statement_of_activities_of_the_fixture_year(session):
    fixture_books(session)
    statement = activities(session, Y2025)
    assert [c.name for c in statement.columns] == ["非限定性", "限定性", "合计"] * 2
    assert statement.period_label == "2025年度"
    assert_table(statement, ACTIVITIES_2025)


def test_cash_flows_of_the_fixture_year(session):
    fixture_books(session)
    statement = cash_flows(session, Y2025)
    assert_table(statement, CASH_FLOWS_2025)
    untouched = ("op_dues", "op_sales", "op_subsidies", "op_other_in", "op_purchases", "op_other_out",
                 "inv_recovered", "inv_disposals", "inv_fixed", "fin_borrowed", "fin_repaid", "fx")
    assert all(statement.value(key, "current") == 0 for key in untouched)


def test_every_figure_is_a_decimal_and_no_zero_is_negative(session):
    fixture_books(session)
    for build in (balance_sheet, activities, cash_flows):
        for row in build(session, Y2025).rows:
            for value in row.values.values():
                assert isinstance(value, Decimal)
                assert not (value == 0 and value.is_signed()), row.line.key


def test_second_quarter(session):
    """Q2 2025: the grant and its release, the tranche, staff pay and the bank fee; nothing came in."""
    fixture_books(session)
    q2 = quarter_period(2025, 2)
    assert (q2.start, q2.end, q2.label_zh) == (dt.date(2025, 4, 1), dt.date(2025, 6, 30), "2025年第二季度")
    assert_table(activities(session, q2), {
        "revenue_total": ("0.00", "0.00", "0.00", "0.00", "0.00", "0.00"),
        "programme": ("30,000.00", "0.00", "30,000.00", "0.00", "0.00", "0.00"),
        "admin": ("6,525.00", "0.00", "6,525.00", "0.00", "0.00", "0.00"),
        "release": ("30,000.00", "-30,000.00", "0.00", "0.00", "0.00", "0.00"),
        "change": ("-6,525.00", "-30,000.00", "-36,525.00", "0.00", "0.00", "0.00"),
    })
    assert_table(cash_flows(session, q2), {
        "op_grants": ("18,000.00", "0.00"), "op_staff": ("6,525.00", "0.00"), "op_net": ("-24,525.00", "0.00"),
        "net_change": ("-24,525.00", "0.00"), "cash_opening": ("242,000.00", "0.00"),
        "cash_closing": ("217,475.00", "0.00"),
    })
    # As of 2025-06-30: cash 217,475 + nothing else; payable 12,000; net assets 205,475.
    assert_table(balance_sheet(session, q2), {
        "cash": ("100,000.00", "217,475.00"), "assets_total": ("100,000.00", "217,475.00"),
        "payables": ("0.00", "12,000.00"), "na_unrestricted": ("100,000.00", "155,475.00"),
        "na_restricted": ("0.00", "50,000.00"), "liab_na_total": ("100,000.00", "217,475.00"),
    })


def test_per_fund_statements(session):
    books = fixture_books(session)
    prj_sheet = balance_sheet(session, Y2025, books.prj)
    assert_table(prj_sheet, {
        "cash": ("0.00", "62,000.00"), "assets_total": ("0.00", "62,000.00"), "payables": ("0.00", "12,000.00"),
        "na_unrestricted": ("0.00", "0.00"), "na_restricted": ("0.00", "50,000.00"),
        "liab_na_total": ("0.00", "62,000.00"),
    })
    assert_table(activities(session, Y2025, books.prj), {
        "gifts": ("0.00", "80,000.00", "80,000.00", "0.00", "0.00", "0.00"),
        "programme": ("30,000.00", "0.00", "30,000.00", "0.00", "0.00", "0.00"),
        "admin": ("0.00", "0.00", "0.00", "0.00", "0.00", "0.00"),
        "release": ("30,000.00", "-30,000.00", "0.00", "0.00", "0.00", "0.00"),
        "change": ("0.00", "50,000.00", "50,000.00", "0.00", "0.00", "0.00"),
    })
    assert_table(cash_flows(session, Y2025, books.prj), {
        "op_gifts": ("80,000.00", "0.00"), "op_grants": ("18,000.00", "0.00"), "op_staff": ("0.00", "0.00"),
        "inv_net": ("0.00", "0.00"), "net_change": ("62,000.00", "0.00"), "cash_closing": ("62,000.00", "0.00"),
    })
    assert_table(balance_sheet(session, Y2025, books.gen), {
        "cash": ("100,000.00", "116,075.00"), "bond_inv": ("0.00", "40,000.00"),
        "assets_total": ("100,000.00", "156,075.00"), "payables": ("0.00", "0.00"),
        "na_unrestricted": ("100,000.00", "156,075.00"), "na_restricted": ("0.00", "0.00"),
    })
    assert_table(cash_flows(session, Y2025, books.gen), {
        "op_gifts": ("50,000.00", "100,000.00"), "op_services": ("12,000.00", "0.00"),
        "op_grants": ("0.00", "0.00"), "op_staff": ("6,525.00", "0.00"), "inv_net": ("-39,400.00", "0.00"),
        "net_change": ("16,075.00", "100,000.00"),
    })


def test_funds_add_up_to_the_foundation(session):
    books = fixture_books(session)
    for build in (balance_sheet, activities, cash_flows):
        whole = build(session, Y2025)
        parts = [build(session, Y2025, fund) for fund in (books.gen, books.prj)]
        for index, row in enumerate(whole.rows):
            for column, value in row.values.items():
                assert value == sum(part.rows[index].values[column] for part in parts), (build.__name__, row.line.key)


@pytest.mark.parametrize("period", [Y2025, quarter_period(2025, 2), month_period(2025, 4), month_period(2024, 12),
                                    ReportPeriod(dt.date(2024, 12, 1), dt.date(2025, 5, 10))],
                         ids=["year", "quarter", "month", "prior-month", "custom"])
def test_net_assets_change_equals_the_activities_change(session, period):
    fixture_books(session)
    before = ReportPeriod(period.start, period.start - dt.timedelta(days=1))
    opening, closing = balance_sheet(session, before), balance_sheet(session, period)
    change = activities(session, period)
    for column, key in (("u", "na_unrestricted"), ("r", "na_restricted"), ("t", "net_assets_total")):
        assert closing.value(key, "closing") - opening.value(key, "closing") == change.value("change", column)


def test_cash_change_equals_closing_minus_opening_cash(session):
    fixture_books(session)
    cash_ids = [account(session, code).id for code in ("1001", "1002", "1009")]
    for period in (Y2025, month_period(2025, 8), quarter_period(2025, 3)):
        statement = cash_flows(session, period)
        opening = sum(balances_as_of(session, period.start - dt.timedelta(days=1), account_ids=cash_ids).values())
        closing = sum(balances_as_of(session, period.end, account_ids=cash_ids).values())
        assert statement.value("net_change", "current") == closing - opening
        assert statement.value("cash_closing", "current") == closing
    august = cash_flows(session, month_period(2025, 8))  # only the withdrawal from the platform: no flow at all
    balances = ("cash_opening", "cash_closing")
    flows = [v for row in august.rows for v in row.values.values() if row.line.key not in balances]
    assert flows and all(v == 0 for v in flows)
    assert august.value("cash_opening", "current") == august.value("cash_closing", "current") == Decimal("177475.00")


def test_a_refunded_gift_lowers_the_gift_receipts(session):
    books = fixture_books(session)
    entry(session, dt.date(2025, 11, 2), "退还误汇捐赠", ("4101", books.gen, "1000.00", U),
          ("1002", books.gen, "-1000.00", U))
    statement = cash_flows(session, Y2025)
    assert statement.value("op_gifts", "current") == Decimal("129000.00")
    assert statement.value("op_other_out", "current") == 0
    assert statement.value("net_change", "current") == Decimal("77075.00")


def test_accounts_added_to_the_chart_land_on_the_catch_all_lines(session):
    books = fixture_books(session)
    for code, name, type_ in (("1999", "其他资产", "asset"), ("2999", "其他负债", "liability"),
                              ("4999", "杂项收入", "revenue"), ("5999", "杂项费用", "expense")):
        create_account(session, {"code": code, "name": name, "type": type_}, None)
    day = dt.date(2025, 12, 1)
    entry(session, day, "押金", ("1999", books.gen, "300.00", U), ("1002", books.gen, "-300.00", U))
    entry(session, day, "代收款", ("1002", books.gen, "200.00", U), ("2999", books.gen, "-200.00", U))
    entry(session, day, "杂项收入", ("1002", books.gen, "70.00", U), ("4999", books.gen, "-70.00", U))
    entry(session, day, "杂项费用", ("5999", books.gen, "20.00", U), ("1002", books.gen, "-20.00", U))
    sheet = balance_sheet(session, Y2025)
    assert sheet.value("other_current", "closing") == Decimal("300.00")
    assert sheet.value("other_current_liab", "closing") == Decimal("200.00")
    assert sheet.value("assets_total", "closing") == sheet.value("liab_na_total", "closing") == Decimal("218325.00")
    statement = activities(session, Y2025)
    assert statement.value("other_revenue", "u") == Decimal("70.00")
    assert statement.value("other_expenses", "u") == Decimal("20.00")
    flows = cash_flows(session, Y2025)
    assert flows.value("op_other_in", "current") == Decimal("270.00")  # the deposit held and the other income
    assert flows.value("op_other_out", "current") == Decimal("320.00")  # the deposit paid and the other expense
    assert not sheet.problems and not flows.problems


def test_an_empty_ledger_gives_zero_statements(session):
    for build in (balance_sheet, activities, cash_flows):
        statement = build(session, Y2025)
        assert not statement.problems
        assert all(value == 0 for row in statement.rows for value in row.values.values())


def test_expenses_booked_as_restricted_are_shown_released(session):
    """A restricted fund's expense booked in the restricted class, with no release entry: the statement shows an
    unrestricted expense and the release it implies; the restricted column carries no expense."""
    books = fixture_books(session)
    entry(session, dt.date(2025, 10, 8), "助老物资采购", ("5101", books.prj, "2000.00", None),
          ("1002", books.prj, "-2000.00", None))
    statement = activities(session, Y2025)
    assert_table(statement, {
        "programme": ("32,000.00", "0.00", "32,000.00", "0.00", "0.00", "0.00"),
        "release": ("32,000.00", "-32,000.00", "0.00", "0.00", "0.00", "0.00"),
        "change": ("56,075.00", "48,000.00", "104,075.00", "100,000.00", "0.00", "100,000.00"),
    })
    assert len(statement.notes) == 1 and "2,000.00" in statement.notes[0]
    sheet = balance_sheet(session, Y2025)
    assert sheet.value("na_restricted", "closing") == Decimal("48000.00")
    assert sheet.value("na_unrestricted", "closing") == Decimal("156075.00")
    assert not activities(session, quarter_period(2025, 1)).notes


def test_a_statement_that_does_not_add_up_says_so(session, monkeypatch):
    """The checks on the statements can fail: feed them books that lose a balance or a cash movement."""
    import fundapp.reports.statements as statements

    fixture_books(session)
    payable = account(session, "2209").id
    real_balances = statements.balances_as_of

    def without_a_payable(session_, as_of, **kwargs):
        return {k: v for k, v in real_balances(session_, as_of, **kwargs).items() if k[0] != payable}

    monkeypatch.setattr(statements, "balances_as_of", without_a_payable)
    sheet = balance_sheet(session, Y2025)
    assert len(sheet.problems) == 1 and "218,075.00" in sheet.problems[0] and "206,075.00" in sheet.problems[0]
    monkeypatch.setattr(statements, "balances_as_of", real_balances)
    monkeypatch.setattr(statements, "counter_flows", lambda *args, **kwargs: [])
    flows = cash_flows(session, Y2025)
    assert len(flows.problems) == 2 and "178,075.00" in flows.problems[0]  # this year's and the year before's


def test_statements_of_closed_years_are_unchanged(session):
    """After the year-end close of 2024 and 2025 (revenue and expenses closed into 3101/3102 on 12-31), the
    statements still show each year's revenue and expenses, and the same balance sheet."""
    from fundapp.ledger.yearend import close_year

    books = fixture_books(session)
    close_year(session, 2024, None, today=dt.date(2026, 1, 15))
    close_year(session, 2025, None, today=dt.date(2026, 1, 15))
    assert_table(balance_sheet(session, Y2025), BALANCE_SHEET_2025)
    assert_table(activities(session, Y2025), ACTIVITIES_2025)
    assert_table(cash_flows(session, Y2025), CASH_FLOWS_2025)
    assert_table(activities(session, Y2025, books.prj), {
        "gifts": ("0.00", "80,000.00", "80,000.00", "0.00", "0.00", "0.00"),
        "release": ("30,000.00", "-30,000.00", "0.00", "0.00", "0.00", "0.00"),
        "change": ("0.00", "50,000.00", "50,000.00", "0.00", "0.00", "0.00"),
    })
    # Two years at once: both closes are left out.
    both = activities(session, ReportPeriod(dt.date(2024, 1, 1), dt.date(2025, 12, 31)))
    assert both.value("gifts", "t") == Decimal("230000.00") and both.value("change", "t") == Decimal("206075.00")
