"""Random balanced ledgers: the statements must balance, reconcile with each other and with the cash balances.

Entries use any account of the chart, any class (or the fund's), two or three funds of either restriction and
dates over two years; each example runs in a SAVEPOINT that is rolled back. For a random period (the whole
foundation and one fund) and for the two years (the foundation and every fund):
- assets = liabilities + net assets, at the start of the year and at the end of the period;
- the change in net assets between the balance sheets before and at the end of the period = the 净资产变动额
  of the statement of activities, for 非限定性, 限定性 and 合计;
- the cash flow statement's net increase = closing cash − opening cash, and its lines add up;
- the funds' statements add up to the foundation's.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from fundapp.ledger.chart import DEFAULT_CHART
from fundapp.ledger.queries import balances_as_of
from fundapp.ledger.services import LineSpec, post_entry
from fundapp.reports.periods import ReportPeriod
from fundapp.reports.statements import activities, balance_sheet, cash_flows
from tests.factories import account, make_fund

CODES = [row[0] for row in DEFAULT_CHART]
CASH = ("1001", "1002", "1009")
FIRST_DAY, LAST_DAY = dt.date(2024, 1, 1), dt.date(2025, 12, 31)
dates = st.dates(FIRST_DAY, LAST_DAY)
amounts = st.integers(1, 10**10).map(lambda cents: Decimal(cents).scaleb(-2))
codes = st.one_of(st.sampled_from(CASH), st.sampled_from(CODES))  # cash often, so flows have something to do


@st.composite
def fund_lines(draw, fund: int) -> list[tuple[str, int, str | None, Decimal]]:
    """Two to four lines in one fund summing to zero."""
    debits = draw(st.lists(amounts, min_size=1, max_size=2))
    total = sum(debits)
    credits = [total] if draw(st.booleans()) or total < Decimal("0.02") else [total - Decimal("0.01"), Decimal("0.01")]
    klass = st.sampled_from([None, "unrestricted", "restricted"])
    return [(draw(codes), fund, draw(klass), amount) for amount in debits] + \
           [(draw(codes), fund, draw(klass), -amount) for amount in credits]


@st.composite
def entries(draw) -> tuple[dt.date, list]:
    funds = draw(st.lists(st.integers(0, 2), min_size=1, max_size=2, unique=True))
    lines = [line for fund in funds for line in draw(fund_lines(fund))]
    return draw(dates), draw(st.permutations(lines))


@st.composite
def periods(draw) -> ReportPeriod:
    start, end = sorted((draw(dates), draw(dates)))
    return ReportPeriod(start, end)


def post_all(session, funds, script) -> None:
    for index, (day, lines) in enumerate(script):
        specs = [LineSpec(account(session, code), funds[fund], amount, klass) for code, fund, klass, amount in lines]
        post_entry(session, effective_date=day, memo=f"random {index}", lines=specs,
                   idempotency_key=f"stmt-prop:{index}")


def check_statements(session, period: ReportPeriod, fund, cash_ids: list[int]) -> dict:
    sheet = balance_sheet(session, period, fund)
    for column in ("opening", "closing"):
        assert sheet.value("assets_total", column) == sheet.value("liab_na_total", column)
    assert not sheet.problems
    before = balance_sheet(session, ReportPeriod(period.start, period.start - dt.timedelta(days=1)), fund)
    change = activities(session, period, fund)
    for column, key in (("u", "na_unrestricted"), ("r", "na_restricted"), ("t", "net_assets_total")):
        assert sheet.value(key, "closing") - before.value(key, "closing") == change.value("change", column), column
    flows = cash_flows(session, period, fund)
    fund_ids = [fund.id] if fund else None
    opening = sum(balances_as_of(session, period.start - dt.timedelta(days=1), fund_ids=fund_ids,
                                 account_ids=cash_ids).values(), Decimal(0))
    closing = sum(balances_as_of(session, period.end, fund_ids=fund_ids, account_ids=cash_ids).values(), Decimal(0))
    assert flows.value("net_change", "current") == closing - opening
    assert flows.value("cash_closing", "current") == closing
    inflows = sum(flows.value(k, "current") for k in ("op_in", "inv_in", "fin_in"))
    outflows = sum(flows.value(k, "current") for k in ("op_out", "inv_out", "fin_out"))
    assert inflows - outflows == closing - opening
    assert not flows.problems
    return {"sheet": sheet, "change": change, "flows": flows}


def assert_funds_add_up(whole: dict, parts: list[dict]) -> None:
    for name, statement in whole.items():
        for index, row in enumerate(statement.rows):
            for column, value in row.values.items():
                assert value == sum(part[name].rows[index].values[column] for part in parts), (name, row.line.key)


@given(script=st.lists(entries(), min_size=1, max_size=8), probe=periods(), pick=st.integers(0, 2))
def test_random_ledgers_give_statements_that_reconcile(session, script, probe, pick):
    savepoint = session.begin_nested()
    try:
        funds = [make_fund(session), make_fund(session, restricted=True), make_fund(session, restricted=True)]
        post_all(session, funds, script)
        cash_ids = [account(session, code).id for code in CASH]
        check_statements(session, probe, None, cash_ids)
        check_statements(session, probe, funds[pick], cash_ids)
        everything = ReportPeriod(FIRST_DAY, LAST_DAY)
        whole = check_statements(session, everything, None, cash_ids)
        assert_funds_add_up(whole, [check_statements(session, everything, fund, cash_ids) for fund in funds])
    finally:
        savepoint.rollback()
