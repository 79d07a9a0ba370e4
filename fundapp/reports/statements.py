"""The three statements, computed from the ledger for a period, for the whole foundation or one fund.

- 资产负债表: balances as of the period's end, and as of the prior year's end (年初数). Net assets = the
  3101/3102 balances + the revenue − the expenses not yet closed into them by a year-end close, by class
  (3101 is unrestricted and 3102 restricted whatever their lines say; revenue and expenses by their lines'
  class). Assets = liabilities + net assets then holds for any balanced ledger.
- 业务活动表: movements of the period by class (非限定性 / 限定性 / 合计), and of the same range a year earlier,
  leaving out the year-end closing entries (fundapp.ledger.yearend.activity_excluding_close), so a closed year
  still shows its revenue and expenses. 限定性净资产转为非限定性净资产 is the movement of 3101/3102 in the period
  (a release debits 3102 and credits 3101), so 净资产变动额 = the change of net assets on the balance sheet,
  class by class.
- 现金流量表 (direct method): cash movements by what their entries' other lines were for (reports.queries),
  and the opening and closing cash; 净增加额 = closing cash − opening cash.

Balances and movements are read from the period balance rows (fundapp.ledger.queries; the closing entries of
closed years, a few lines each, are read to be left out): a statement costs a handful of queries whatever the
size of the ledger; only the cash flow statement reads the lines of its period, in one grouped query. Figures
are Decimal throughout.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from fundapp.ledger.models import Account, AccountType, Fund, NetAssetClass
from fundapp.ledger.queries import balances_as_of
from fundapp.ledger.yearend import activity_excluding_close
from fundapp.money import fmt
from fundapp.reports.layout import (
    ACTIVITIES,
    BALANCE_SHEET,
    CASH_CODES,
    CASH_FLOW_ACCOUNTS,
    CASH_FLOW_DEFAULTS,
    CASH_FLOWS,
    Line,
)
from fundapp.reports.periods import ReportPeriod, zh_date
from fundapp.reports.queries import counter_flows

ZERO = Decimal("0.00")
U, R = NetAssetClass.unrestricted.value, NetAssetClass.restricted.value
FIXED_CLASS = {"3101": U, "3102": R}  # net-asset accounts whose class is the account's, not the line's
POSITION_TYPES = (AccountType.asset.value, AccountType.liability.value)
Figures = dict[str, Decimal]


@dataclass(frozen=True)
class Column:
    key: str
    name: str  # statutory Chinese
    name_en: object
    group: str = ""  # statutory Chinese heading over several columns
    group_en: object = ""
    dates: str = ""  # the date or range the column is for (language-neutral)


@dataclass
class Row:
    line: Line
    values: dict[str, Decimal]


@dataclass
class Statement:
    kind: str
    title: str
    title_en: object
    form_code: str
    period: ReportPeriod
    comparison: ReportPeriod
    fund: Fund | None
    columns: list[Column]
    rows: list[Row]
    period_label: str  # statutory Chinese: 2025年度, 2025年12月31日 ...
    problems: list[str] = field(default_factory=list)  # the statement does not add up (never expected)
    notes: list[str] = field(default_factory=list)  # how the books were read where they are unusual

    def value(self, key: str, column: str) -> Decimal:
        return next(row.values[column] for row in self.rows if row.line.key == key)

    @property
    def groups(self) -> list[ColumnGroup]:
        """The headings over several columns (activities: this period, a year earlier); empty if none."""
        out: list[ColumnGroup] = []
        for column in self.columns:
            if out and out[-1].name == column.group:
                out[-1].span += 1
            else:
                out.append(ColumnGroup(column.group, column.group_en, column.dates))
        return out if any(group.name for group in out) else []


@dataclass
class ColumnGroup:
    name: str
    name_en: object
    dates: str
    span: int = 1


# --- shared -----------------------------------------------------------------------------------------------------


def load_accounts(session: Session) -> dict[int, Account]:
    return {a.id: a for a in session.scalars(select(Account))}


def class_of(account: Account, klass: str) -> str:
    return FIXED_CLASS.get(account.code, klass)


def evaluate(lines: tuple[Line, ...], by_code: Mapping[str, Decimal], types: Mapping[str, str],
             given: Mapping[str, Decimal] | None = None) -> Figures:
    """Every line's figure from the balances (or movements) per account code; `given` fixes some lines."""
    named = {code for line in lines for code in line.codes}
    values: Figures = {}
    for line in lines:
        if line.is_heading:
            continue
        if given and line.key in given:
            values[line.key] = given[line.key] + ZERO
        elif line.total_of:
            parts = (-values[k[1:]] if k.startswith("-") else values[k] for k in line.total_of)
            values[line.key] = sum(parts, ZERO) + ZERO  # + ZERO: never -0.00
        else:
            amount = sum((by_code.get(code, ZERO) for code in line.codes), ZERO)
            if line.catch_all:
                amount += sum((v for c, v in by_code.items() if c not in named and types.get(c) == line.catch_all),
                              ZERO)
            values[line.key] = line.sign * amount + ZERO  # + ZERO: never -0.00
    return values


def _rows(lines: tuple[Line, ...], columns: Mapping[str, Figures]) -> list[Row]:
    return [Row(line, {} if line.is_heading else {key: figures[line.key] for key, figures in columns.items()})
            for line in lines]


def _fund_ids(fund: Fund | None) -> list[int] | None:
    return [fund.id] if fund is not None else None


# --- 资产负债表 -------------------------------------------------------------------------------------------------


def balance_sheet_figures(session: Session, as_of: dt.date, fund: Fund | None,
                          accounts: Mapping[int, Account]) -> Figures:
    by_code: dict[str, Decimal] = defaultdict(lambda: ZERO)
    net_assets = {U: ZERO, R: ZERO}
    for (account_id, _fund, klass), amount in balances_as_of(session, as_of, fund_ids=_fund_ids(fund)).items():
        account = accounts[account_id]
        if account.type in POSITION_TYPES:
            by_code[account.code] += amount
        else:  # net assets, and revenue and expenses not yet closed into them
            net_assets[class_of(account, klass)] -= amount
    types = {a.code: a.type for a in accounts.values()}
    return evaluate(BALANCE_SHEET, by_code, types, {"na_unrestricted": net_assets[U], "na_restricted": net_assets[R]})


def balance_sheet(session: Session, period: ReportPeriod, fund: Fund | None = None) -> Statement:
    accounts = load_accounts(session)
    opening, closing = period.prior_year_end, period.end
    figures = {"opening": balance_sheet_figures(session, opening, fund, accounts),
               "closing": balance_sheet_figures(session, closing, fund, accounts)}
    columns = [Column("opening", "年初数", _l("Start of year"), dates=opening.isoformat()),
               Column("closing", "期末数", _l("End of period"), dates=closing.isoformat())]
    statement = Statement("balance-sheet", "资产负债表", _l("Balance sheet"), "会民非01表", period,
                          ReportPeriod(opening, opening), fund, columns, _rows(BALANCE_SHEET, figures),
                          zh_date(closing))
    for key, day in (("opening", opening), ("closing", closing)):
        assets, other = figures[key]["assets_total"], figures[key]["liab_na_total"]
        if assets != other:
            statement.problems.append(_(
                "On %(date)s total assets (%(assets)s) differ from total liabilities and net assets (%(other)s).",
                date=day.isoformat(), assets=fmt(assets), other=fmt(other)))
    return statement


# --- 业务活动表 -------------------------------------------------------------------------------------------------


def activity_figures(session: Session, start: dt.date, end: dt.date, fund: Fund | None,
                     accounts: Mapping[int, Account]) -> tuple[dict[str, Figures], Decimal]:
    """Figures per class ({"u": ..., "r": ..., "t": ...}) and the expenses booked as restricted.

    Expenses are unrestricted: one booked against restricted net assets is shown as an unrestricted expense with
    the release that should have gone with it (as if Dr 3102 / Cr 3101 had been posted), so the restricted column
    carries no expenses and the net assets still reconcile with the balance sheet, class by class.
    """
    by_class: dict[str, dict[str, Decimal]] = {U: defaultdict(lambda: ZERO), R: defaultdict(lambda: ZERO)}
    restricted_expenses = ZERO
    moves = activity_excluding_close(session, start, end, fund_ids=_fund_ids(fund))
    for (account_id, _fund, klass), amount in moves.items():
        account = accounts[account_id]
        if account.type in POSITION_TYPES:
            continue
        klass = class_of(account, klass)
        if account.type == AccountType.expense.value and klass == R:
            restricted_expenses += amount
            klass = U
        by_class[klass][account.code] += amount
    by_class[R]["3102"] += restricted_expenses  # the implied release
    by_class[U]["3101"] -= restricted_expenses
    types = {a.code: a.type for a in accounts.values()}
    unrestricted, restricted = evaluate(ACTIVITIES, by_class[U], types), evaluate(ACTIVITIES, by_class[R], types)
    both = {key: unrestricted[key] + restricted[key] for key in unrestricted}
    return {"u": unrestricted, "r": restricted, "t": both}, restricted_expenses


def _class_columns(prefix: str, group: str, group_en, period: ReportPeriod) -> list[Column]:
    return [Column(prefix + "u", "非限定性", _l("Unrestricted"), group, group_en, period.label),
            Column(prefix + "r", "限定性", _l("Restricted"), group, group_en, period.label),
            Column(prefix + "t", "合计", _l("Total"), group, group_en, period.label)]


def activities(session: Session, period: ReportPeriod, fund: Fund | None = None) -> Statement:
    accounts = load_accounts(session)
    prior = period.year_earlier()
    current, implied = activity_figures(session, period.start, period.end, fund, accounts)
    earlier, implied_before = activity_figures(session, prior.start, prior.end, fund, accounts)
    figures = {**current, **{"p" + key: values for key, values in earlier.items()}}
    columns = [*_class_columns("", "本期数", _l("This period"), period),
               *_class_columns("p", "上年同期数", _l("A year earlier"), prior)]
    statement = Statement("activities", "业务活动表", _l("Statement of activities"), "会民非02表", period, prior,
                          fund, columns, _rows(ACTIVITIES, figures), period.label_zh)
    for amount, span in ((implied, period), (implied_before, prior)):
        if amount < 0:  # a release entry in the period for restricted expenses booked before it
            statement.notes.append(_(
                "In %(period)s, a release entry moved %(amount)s of expenses booked against restricted net assets "
                "before the period to unrestricted net assets: the statement shows those expenses in the period they "
                "were booked, so the row 限定性净资产转为非限定性净资产 leaves that release out.",
                period=span.label, amount=fmt(-amount)))
        elif amount:
            statement.notes.append(_(
                "In %(period)s, expenses of %(amount)s were booked against restricted net assets without a release "
                "entry: they are shown as unrestricted expenses, and the release is included in the row "
                "限定性净资产转为非限定性净资产.", period=span.label, amount=fmt(amount)))
    return statement


# --- 现金流量表 -------------------------------------------------------------------------------------------------


def cash_flow_figures(session: Session, start: dt.date, end: dt.date, fund: Fund | None,
                      accounts: Mapping[int, Account]) -> tuple[Figures, Decimal]:
    """The lines' figures, and the cash the books hold at `end` (to check 期末现金 against)."""
    by_code = {a.code: a for a in accounts.values()}
    cash_ids = [by_code[code].id for code in CASH_CODES if code in by_code]
    lines: dict[str, Decimal] = defaultdict(lambda: ZERO)
    directions = {line.key: line.sign for line in CASH_FLOWS}
    for flow in counter_flows(session, start, end, cash_ids, fund_ids=_fund_ids(fund)):
        account = accounts[flow.account_id]
        receipts_line, payments_line = CASH_FLOW_ACCOUNTS.get(account.code) or CASH_FLOW_DEFAULTS[account.type]
        if receipts_line == payments_line:  # netted on one line, shown positive in that line's direction
            lines[receipts_line] += directions[receipts_line] * (flow.receipts - flow.payments)
        else:
            lines[receipts_line] += flow.receipts
            lines[payments_line] += flow.payments
    opening = _cash(session, start - dt.timedelta(days=1), fund, cash_ids)
    figures = evaluate(CASH_FLOWS, {}, {}, {**lines, "cash_opening": opening})
    return figures, _cash(session, end, fund, cash_ids)


def _cash(session: Session, as_of: dt.date, fund: Fund | None, cash_ids: list[int]) -> Decimal:
    balances = balances_as_of(session, as_of, fund_ids=_fund_ids(fund), account_ids=cash_ids)
    return sum(balances.values(), ZERO)


def cash_flows(session: Session, period: ReportPeriod, fund: Fund | None = None) -> Statement:
    accounts = load_accounts(session)
    prior = period.year_earlier()
    current, current_cash = cash_flow_figures(session, period.start, period.end, fund, accounts)
    earlier, earlier_cash = cash_flow_figures(session, prior.start, prior.end, fund, accounts)
    figures = {"current": current, "prior": earlier}
    columns = [Column("current", "本期数", _l("This period"), dates=period.label),
               Column("prior", "上年同期数", _l("A year earlier"), dates=prior.label)]
    statement = Statement("cash-flows", "现金流量表", _l("Statement of cash flows"), "会民非03表", period, prior, fund,
                          columns, _rows(CASH_FLOWS, figures), period.label_zh)
    for values, actual, span in ((current, current_cash, period), (earlier, earlier_cash, prior)):
        computed = values["cash_closing"]
        if computed != actual:
            statement.problems.append(_(
                "For %(period)s the cash flows lead to closing cash of %(computed)s, but the books hold %(actual)s.",
                period=span.label, computed=fmt(computed), actual=fmt(actual)))
    return statement


@dataclass(frozen=True)
class Kind:
    title: str
    title_en: object
    build: Callable[[Session, ReportPeriod, Fund | None], Statement]
    description: object


KINDS: dict[str, Kind] = {
    "balance-sheet": Kind("资产负债表", _l("Balance sheet"), balance_sheet,
                          _l("Assets, liabilities and net assets at the end of the period, beside the start of the "
                             "year.")),
    "activities": Kind("业务活动表", _l("Statement of activities"), activities,
                       _l("Revenue, expenses and releases from restriction in the period, by restricted and "
                          "unrestricted net assets, beside the same period a year earlier.")),
    "cash-flows": Kind("现金流量表", _l("Statement of cash flows"), cash_flows,
                       _l("Cash received and paid in the period, by operating, investing and financing "
                          "activities, beside the same period a year earlier.")),
}
