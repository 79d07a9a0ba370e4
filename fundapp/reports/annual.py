"""The content of the annual work report (年度工作报告) for a year, gathered from the books and the registers.

Every figure comes from an aggregate: the statements and the ratios read the period balance rows
(fundapp.reports.statements, fundapp.compliance.ratios), the fund balances `fund_net_assets`, the monthly chart
the month balance rows (grouped by month and account), and donations, grants and enterprises' returns GROUP BY
queries. No query reads rows one by one, so the cost does not grow with the ledger (bench/annual_report.py).
Nothing here writes.

Gathering reports its progress through `progress(phase, done, total)` (the task's progress bar).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fundapp.compliance.ratios import YearRatios, evaluate, thresholds_from_config, year_figures
from fundapp.donations.models import Donation, DonationStatus
from fundapp.enterprises.models import Enterprise, EnterprisePayment
from fundapp.enterprises.models import PaymentStatus as EnterprisePaymentStatus
from fundapp.grants.models import Award, GrantReport, Programme, ReportStatus
from fundapp.ledger.models import Account, AccountType, Fund, JournalEntry, PeriodBalance
from fundapp.ledger.queries import fund_net_assets
from fundapp.ledger.yearend import activity_excluding_close, closing_amounts
from fundapp.reports.periods import year_period
from fundapp.reports.statements import Statement, activities, balance_sheet, cash_flows
from fundapp.volunteers.reports import ServiceNote, service_note

ZERO = Decimal("0.00")
Progress = Callable[[str, int, int], None]
PARTS = ("statements", "ratios", "funds", "donations", "grants", "enterprises", "charts")


@dataclass
class FundRow:
    code: str
    name: str
    fund_type: str
    restriction: str
    opening: Decimal
    closing: Decimal


@dataclass
class Tally:
    """A count and a total under a label (a donation method, a fund, an enterprise...)."""

    label: str
    count: int
    total: Decimal
    extra: str = ""


@dataclass
class AwardRow:
    number: str
    title: str
    organisation: str
    programme: str
    amount: Decimal
    paid: Decimal
    status: str
    reports_accepted: int
    awarded_on: dt.date


@dataclass
class ProgrammeRow:
    code: str
    title: str
    awards: int
    awarded: Decimal
    paid: Decimal


@dataclass
class Series:
    """One chart's data: labels and values (the same numbers are printed as a table beside the chart)."""

    title: str
    title_en: str
    labels: list[str]
    values: list[Decimal]
    second: list[Decimal] | None = None  # a second series (monthly spending beside income)


@dataclass
class AnnualReport:
    year: int
    foundation_name: str
    foundation_reg_no: str
    foundation_type: str
    statements: list[Statement]
    ratios: YearRatios
    funds: list[FundRow]
    donation_count: int
    donation_total: Decimal
    donations_by_method: list[Tally]
    donations_by_fund: list[Tally]
    awards: list[AwardRow]
    programmes: list[ProgrammeRow]
    enterprise_returns: list[Tally]
    income_by_source: Series
    spending_by_category: Series
    monthly: Series
    has_data: bool = True
    notes: list[str] = field(default_factory=list)
    volunteer_service: ServiceNote | None = None  # the note on donated volunteer services (not income)

    @property
    def fund_opening_total(self) -> Decimal:
        return sum((f.opening for f in self.funds), ZERO)

    @property
    def fund_closing_total(self) -> Decimal:
        return sum((f.closing for f in self.funds), ZERO)

    @property
    def awarded_total(self) -> Decimal:
        return sum((a.amount for a in self.awards), ZERO)

    @property
    def paid_total(self) -> Decimal:
        return sum((a.paid for a in self.awards), ZERO)

    @property
    def enterprise_total(self) -> Decimal:
        return sum((t.total for t in self.enterprise_returns), ZERO)


def _quiet(_phase: str, _done: int, _total: int) -> None:
    return None


def year_bounds(year: int) -> tuple[dt.date, dt.date]:
    return dt.date(year, 1, 1), dt.date(year, 12, 31)


def report_years(session: Session, today: dt.date) -> list[int]:
    """The years the books cover (first entry's year to this year), newest first; this year at least."""
    first, last = session.execute(select(func.min(JournalEntry.effective_date),
                                         func.max(JournalEntry.effective_date))).one()
    start = first.year if first else today.year
    end = max(today.year, last.year if last else today.year)
    return list(range(end, start - 1, -1))


# --- parts ------------------------------------------------------------------------------------------------------


def fund_rows(session: Session, year: int) -> list[FundRow]:
    start, end = year_bounds(year)
    opening = fund_net_assets(session, start - dt.timedelta(days=1))
    closing = fund_net_assets(session, end)
    funds = session.scalars(select(Fund).order_by(Fund.code))
    return [FundRow(f.code, f.name, f.fund_type, f.restriction, opening.get(f.id, ZERO) + ZERO,
                    closing.get(f.id, ZERO) + ZERO)
            for f in funds if f.id in opening or f.id in closing or f.created_at.year <= year]


def donation_tallies(session: Session, year: int) -> tuple[int, Decimal, list[Tally], list[Tally]]:
    """Recorded (not reversed) gifts received in the year: count and total, by method and by fund."""
    start, end = year_bounds(year)
    where = (Donation.received_on >= start, Donation.received_on <= end,
             Donation.status == DonationStatus.recorded.value)
    by_method = [Tally(method, count, total + ZERO) for method, count, total in session.execute(
        select(Donation.method, func.count(), func.sum(Donation.amount)).where(*where)
        .group_by(Donation.method).order_by(func.sum(Donation.amount).desc()))]
    by_fund = [Tally(f"{code} {name}", count, total + ZERO) for code, name, count, total in session.execute(
        select(Fund.code, Fund.name, func.count(), func.sum(Donation.amount))
        .join(Fund, Fund.id == Donation.fund_id).where(*where)
        .group_by(Fund.code, Fund.name).order_by(Fund.code))]
    count = sum(t.count for t in by_method)
    return count, sum((t.total for t in by_method), ZERO), by_method, by_fund


def award_rows(session: Session, year: int) -> list[AwardRow]:
    """The awards made in the year, with the number of their accepted reports (one grouped subquery)."""
    start, end = year_bounds(year)
    accepted = (select(GrantReport.award_id, func.count().label("n"))
                .where(GrantReport.status == ReportStatus.accepted.value)
                .group_by(GrantReport.award_id).subquery())
    stmt = (select(Award, Programme.code, func.coalesce(accepted.c.n, 0))
            .join(Programme, Programme.id == Award.programme_id)
            .outerjoin(accepted, accepted.c.award_id == Award.id)
            .where(Award.awarded_on >= start, Award.awarded_on <= end)
            .order_by(Award.awarded_on, Award.number))
    return [AwardRow(a.number, a.title, a.organisation.name, code, a.amount, a.paid_amount, a.status, n,
                     a.awarded_on) for a, code, n in session.execute(stmt)]


def programme_rows(session: Session, year: int) -> list[ProgrammeRow]:
    start, end = year_bounds(year)
    stmt = (select(Programme.code, Programme.title, func.count(Award.id), func.sum(Award.amount),
                   func.sum(Award.paid_amount))
            .join(Award, Award.programme_id == Programme.id)
            .where(Award.awarded_on >= start, Award.awarded_on <= end)
            .group_by(Programme.code, Programme.title).order_by(Programme.code))
    return [ProgrammeRow(code, title, n, awarded + ZERO, paid + ZERO)
            for code, title, n, awarded, paid in session.execute(stmt)]


def enterprise_returns(session: Session, year: int) -> list[Tally]:
    """Recorded payments received in the year, by enterprise and fund."""
    start, end = year_bounds(year)
    stmt = (select(Enterprise.name, Fund.code, func.count(), func.sum(EnterprisePayment.amount))
            .join(Enterprise, Enterprise.id == EnterprisePayment.enterprise_id)
            .join(Fund, Fund.id == EnterprisePayment.fund_id)
            .where(EnterprisePayment.received_on >= start, EnterprisePayment.received_on <= end,
                   EnterprisePayment.status == EnterprisePaymentStatus.recorded.value)
            .group_by(Enterprise.name, Fund.code).order_by(Enterprise.name, Fund.code))
    return [Tally(name, n, total + ZERO, code) for name, code, n, total in session.execute(stmt)]


def _by_account(session: Session, year: int, accounts: dict[int, Account]) -> tuple[Series, Series]:
    """Income by source (revenue accounts) and spending by category (expense accounts), year-end close left out."""
    start, end = year_bounds(year)
    income: dict[str, Decimal] = defaultdict(lambda: ZERO)
    spending: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for (account_id, _fund, _class), amount in activity_excluding_close(session, start, end).items():
        account = accounts[account_id]
        label = f"{account.code} {account.name}"
        if account.type == AccountType.revenue.value:
            income[label] -= amount
        elif account.type == AccountType.expense.value:
            spending[label] += amount

    def series(values: dict[str, Decimal], title: str, title_en: str) -> Series:
        items = sorted(((k, v) for k, v in values.items() if v), key=lambda kv: kv[0])
        return Series(title, title_en, [k for k, _ in items], [v + ZERO for _, v in items])

    return (series(income, "收入来源", "Income by source"),
            series(spending, "费用构成", "Spending by category"))


def monthly_series(session: Session, year: int, accounts: dict[int, Account]) -> Series:
    """Income and spending per month from the month balance rows, the year-end closing entry left out."""
    row = PeriodBalance
    kind = {a.id: a.type for a in accounts.values()}
    income = [ZERO] * 12
    spending = [ZERO] * 12
    stmt = (select(row.period, row.account_id, func.sum(row.amount))
            .where(row.grain == "m", row.period > year * 100, row.period <= year * 100 + 12)
            .group_by(row.period, row.account_id))
    moves: dict[tuple[int, int], Decimal] = defaultdict(lambda: ZERO)
    for period, account_id, amount in session.execute(stmt):
        moves[(period % 100, account_id)] += amount
    for (account_id, _fund, _class), amount in closing_amounts(session, year).items():
        moves[(12, account_id)] -= amount  # the closing entry is dated 31 December
    for (month, account_id), amount in moves.items():
        if kind.get(account_id) == AccountType.revenue.value:
            income[month - 1] -= amount
        elif kind.get(account_id) == AccountType.expense.value:
            spending[month - 1] += amount
    return Series("月度收支", "Income and spending by month", [f"{m}月" for m in range(1, 13)],
                  [v + ZERO for v in income], [v + ZERO for v in spending])


# --- the whole report -------------------------------------------------------------------------------------------


def gather(session: Session, year: int, progress: Progress | None = None) -> AnnualReport:
    report = progress or _quiet
    total = len(PARTS)
    config = current_app.config
    accounts = {a.id: a for a in session.scalars(select(Account))}
    period = year_period(year)

    report("statements", 0, total)
    statements = [balance_sheet(session, period), activities(session, period), cash_flows(session, period)]
    report("ratios", 1, total)
    th = thresholds_from_config(config)
    depth = 3 if config.get("RATIO_THREE_YEAR_AVERAGE") else 1
    figures = year_figures(session, year, accounts=accounts)
    ratios = evaluate(th, figures, [year_figures(session, year - k, accounts=accounts) for k in range(1, depth + 1)])
    report("funds", 2, total)
    funds = fund_rows(session, year)
    report("donations", 3, total)
    count, donation_total, by_method, by_fund = donation_tallies(session, year)
    report("grants", 4, total)
    awards, programmes = award_rows(session, year), programme_rows(session, year)
    report("enterprises", 5, total)
    returns = enterprise_returns(session, year)
    volunteer_service = service_note(session, year)
    report("charts", 6, total)
    income, spending = _by_account(session, year, accounts)
    monthly = monthly_series(session, year, accounts)
    report("charts", 7, total)

    has_data = bool(income.values or spending.values or count or awards or returns or volunteer_service.hours
                    or any(f.opening or f.closing for f in funds))
    return AnnualReport(
        year=year, foundation_name=config.get("FOUNDATION_NAME") or "",
        foundation_reg_no=config.get("FOUNDATION_REG_NO") or "", foundation_type=th.foundation_type,
        statements=statements, ratios=ratios, funds=funds, donation_count=count, donation_total=donation_total,
        donations_by_method=by_method, donations_by_fund=by_fund, awards=awards, programmes=programmes,
        enterprise_returns=returns, income_by_source=income, spending_by_category=spending, monthly=monthly,
        has_data=has_data, volunteer_service=volunteer_service)



# --- the PDF ----------------------------------------------------------------------------------------------------

# Printed in the report (a statutory Chinese document; English in small type beside it).
FUND_TYPE_WORDS = {"general": "非定向基金", "project": "项目基金", "named": "专项基金", "endowment": "留本基金",
                   "micro": "社区微基金", "enterprise_return": "社会企业回馈基金"}
RESTRICTION_WORDS = {"unrestricted": "非限定性", "restricted": "限定性"}
AWARD_STATUS_WORDS = {"active": "执行中", "closed": "已结项"}
FOUNDATION_TYPE_WORDS = {"public_fundraising": "具有公开募捐资格的基金会", "non_public": "不具有公开募捐资格的基金会"}
CHECK_WORDS = {"pass": "符合", "warn": "符合（接近界限）", "fail": "不符合", "exempt": "豁免", "unknown": "无法计算"}


def service_note_values(note: ServiceNote | None) -> dict | None:
    """The volunteer-service note as printed: figures, and the sentence on how donated services are treated."""
    if note is None:
        return None
    from fundapp.donations.pdf import money_text

    hours = money_text(note.hours)
    return {
        "hours": hours, "people": note.people, "activities": note.activities,
        "text": (f"{note.year}年度，{note.people}名志愿者在{note.activities}项活动中提供经核实的志愿服务共{hours}小时。"
                 "志愿者捐赠的服务在会计报表附注中披露，不确认为收入。"),
        "text_en": (f"In {note.year}, {note.people} volunteers gave {hours} verified hours of service in "
                    f"{note.activities} activities. Donated services are disclosed in the notes and not "
                    "recognised as income."),
    }


def pdf_values(report: AnnualReport) -> dict:
    """Everything printed, as plain strings and ready-made SVG (the template does no lookups or arithmetic)."""
    from fundapp.compliance.ratios import percent
    from fundapp.dates import local_today
    from fundapp.donations.pdf import METHOD_WORDS, money_text
    from fundapp.reports.charts import bar_chart, monthly_chart
    from fundapp.reports.pdf import statement_values
    from fundapp.reports.periods import zh_date

    m = money_text
    r = report.ratios
    foundation = report.foundation_name or "基金会"

    def check(name: str, c, numerator: str, denominator: str) -> dict:
        return {"name": name, "numerator_label": numerator, "denominator_label": denominator,
                "numerator": m(c.numerator), "denominator": m(c.denominator) if c.denominator is not None else "—",
                "ratio": percent(c.ratio), "threshold": percent(c.threshold),
                "bound": "≥" if c.bound == "min" else "≤", "status": CHECK_WORDS.get(c.status, c.status)}

    def chart(series: Series) -> dict:
        return {"title": series.title, "title_en": series.title_en,
                "svg": bar_chart(series.title, series.labels, series.values),
                "rows": [(label, m(v)) for label, v in zip(series.labels, series.values, strict=True)],
                "total": m(sum(series.values, ZERO))}

    mo = report.monthly
    return {
        "year": report.year, "foundation": foundation, "reg_no": report.foundation_reg_no,
        "foundation_type": FOUNDATION_TYPE_WORDS.get(report.foundation_type, report.foundation_type),
        "printed_on": zh_date(local_today()), "has_data": report.has_data,
        "statements": [statement_values(s, foundation) for s in report.statements],
        "checks": [check("公益事业支出比例", r.charitable, "公益事业支出",
                         "上年总收入" if r.band is None else "上年末净资产"),
                   check("管理费用比例", r.management_check, "管理费用", "当年总支出")],
        "income_total": m(r.figures.income.value), "spending_total": m(r.figures.spending.value),
        "funds": [{"code": f.code, "name": f.name, "type": FUND_TYPE_WORDS.get(f.fund_type, f.fund_type),
                   "restriction": RESTRICTION_WORDS.get(f.restriction, f.restriction),
                   "opening": m(f.opening), "closing": m(f.closing)} for f in report.funds],
        "fund_opening_total": m(report.fund_opening_total), "fund_closing_total": m(report.fund_closing_total),
        "donation_count": report.donation_count, "donation_total": m(report.donation_total),
        "by_method": [{"label": METHOD_WORDS.get(t.label, t.label), "count": t.count, "total": m(t.total)}
                      for t in report.donations_by_method],
        "by_fund": [{"label": t.label, "count": t.count, "total": m(t.total)} for t in report.donations_by_fund],
        "awards": [{"number": a.number, "title": a.title, "organisation": a.organisation, "programme": a.programme,
                    "amount": m(a.amount), "paid": m(a.paid), "status": AWARD_STATUS_WORDS.get(a.status, a.status),
                    "reports": a.reports_accepted, "date": a.awarded_on.isoformat()} for a in report.awards],
        "awarded_total": m(report.awarded_total), "paid_total": m(report.paid_total),
        "programmes": [{"code": p.code, "title": p.title, "awards": p.awards, "awarded": m(p.awarded),
                        "paid": m(p.paid)} for p in report.programmes],
        "returns": [{"enterprise": t.label, "fund": t.extra, "count": t.count, "total": m(t.total)}
                    for t in report.enterprise_returns],
        "returns_total": m(report.enterprise_total),
        "service_note": service_note_values(report.volunteer_service),
        "charts": [chart(report.income_by_source), chart(report.spending_by_category)],
        "monthly": {"title": mo.title, "title_en": mo.title_en,
                    "svg": monthly_chart(mo.title, mo.labels, mo.values, mo.second or [], ("收入", "支出")),
                    "rows": [(label, m(a), m(b)) for label, a, b in zip(mo.labels, mo.values, mo.second or [],
                                                                       strict=True)]},
    }


def render_pdf(report: AnnualReport) -> bytes:
    """The report as a PDF (WeasyPrint, CJK font; the URL fetcher serves only the app's static files)."""
    from flask import render_template
    from weasyprint import HTML

    from fundapp.donations.pdf import CJK_FONT, StaticOnlyFetcher

    html = render_template("pdf/annual_report.html", r=pdf_values(report), font=CJK_FONT)
    root = current_app.static_folder
    return HTML(string=html, base_url=f"file://{root}/", url_fetcher=StaticOnlyFetcher(root)).write_pdf()
