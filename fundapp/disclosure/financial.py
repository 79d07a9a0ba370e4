"""What the public financial pages show: the years with books, their statements and statutory ratios, the annual
report PDFs, and the list of disclosure duties (慈善组织信息公开办法) with where and when each is published here.

Statements and ratios cover every fund (they equal the books); they are read from the balance rows
(fundapp.reports.statements, fundapp.compliance.ratios), never from all journal lines.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fundapp.audit.models import AuditEvent
from fundapp.audit.services import AuditTag
from fundapp.compliance import ratios
from fundapp.dates import local_today
from fundapp.disclosure.corrections import latest_correction_date
from fundapp.donations.models import Donation
from fundapp.enterprises.queries import local_date
from fundapp.grants.models import GrantReport, ReportStatus
from fundapp.ledger.chain import GENESIS_HASH
from fundapp.ledger.models import Account, JournalEntry, LedgerHead
from fundapp.reports import annual_tasks
from fundapp.reports.annual import report_years
from fundapp.reports.periods import year_period
from fundapp.reports.statements import Statement, activities, balance_sheet, cash_flows

RATIO_YEARS = 3
STATEMENT_BUILDERS = (balance_sheet, activities, cash_flows)


# --- statements and ratios ----------------------------------------------------------------------------------------


def book_years(session: Session, today: dt.date) -> list[int]:
    return report_years(session, today)


def statements(session: Session, year: int) -> list[Statement]:
    """The year's 资产负债表, 业务活动表 and 现金流量表 for the whole foundation."""
    period = year_period(year)
    return [build(session, period) for build in STATEMENT_BUILDERS]


def thresholds() -> ratios.Thresholds:
    return ratios.thresholds_from_config(current_app.config)


def _depth() -> int:
    return 3 if current_app.config.get("RATIO_THREE_YEAR_AVERAGE") else 1


def year_ratios(session: Session, years: list[int], today: dt.date) -> list[ratios.YearRatios]:
    """The ratios of each of `years` (newest first); this year's are projected from the year so far."""
    accounts = {a.id: a for a in session.scalars(select(Account))}
    cache: dict[int, ratios.YearFigures] = {}

    def full(year: int) -> ratios.YearFigures:
        if year not in cache:
            cache[year] = ratios.year_figures(session, year, accounts=accounts)
        return cache[year]

    th, depth, out = thresholds(), _depth(), []
    for year in years:
        prior = [full(year - k) for k in range(1, depth + 1)]
        if year >= today.year:
            figures = ratios.year_figures(session, year, min(today, dt.date(year, 12, 31)), accounts)
            out.append(ratios.evaluate(th, figures, prior, projected=year == today.year))
        else:
            out.append(ratios.evaluate(th, full(year), prior))
    return out


def recent_ratios(session: Session, years: list[int], today: dt.date) -> list[ratios.YearRatios]:
    return year_ratios(session, years[:RATIO_YEARS], today)


def ratio_dict(item: ratios.YearRatios) -> dict:
    """A year's ratios as plain JSON values (shares and money as strings)."""

    def check(c: ratios.Check) -> dict:
        return {"value": ratios.percent(c.ratio), "ratio": None if c.ratio is None else str(c.ratio),
                "threshold": str(c.threshold), "bound": c.bound, "status": c.status, "passes": c.passes,
                "numerator": f"{c.numerator:.2f}",
                "denominator": None if c.denominator is None else f"{c.denominator:.2f}"}

    return {"year": item.year, "projected": item.projected, "as_of": item.as_of.isoformat(),
            "charitable_spending": check(item.charitable), "management_costs": check(item.management_check)}


def annual_report_file(year: int) -> Path | None:
    return annual_tasks.pdf_path(year)


def annual_report_date(year: int) -> str:
    state = annual_tasks.read_state(year) or {}
    return (state.get("generated_at") or "")[:10]


def statement_dict(statement: Statement) -> dict:
    return {"kind": statement.kind, "title": statement.title, "title_en": str(statement.title_en),
            "form_code": statement.form_code, "period": statement.period_label,
            "columns": [{"key": c.key, "name": c.name, "name_en": str(c.name_en), "group": c.group,
                         "dates": c.dates} for c in statement.columns],
            "rows": [{"key": row.line.key, "name": row.line.name, "name_en": str(row.line.name_en),
                      "line": row.line.no, "style": row.line.style,
                      "values": {key: f"{value:.2f}" for key, value in row.values.items()}}
                     for row in statement.rows if not row.line.is_heading],
            "problems": [str(p) for p in statement.problems]}


# --- the ledger head ----------------------------------------------------------------------------------------------


def ledger_head(session: Session) -> tuple[int, str]:
    head = session.get(LedgerHead, 1)
    return (head.seq, head.hash) if head else (0, GENESIS_HASH)


# --- disclosure duties --------------------------------------------------------------------------------------------


def _audit_date(session: Session, *tags: AuditTag) -> dt.date | None:
    moment = session.scalar(select(func.max(AuditEvent.created_at)).where(AuditEvent.tag.in_([t.value for t in tags])))
    return local_date(moment) if moment else None


def _fund_change(session: Session) -> dt.date | None:
    return _audit_date(session, AuditTag.fund_created, AuditTag.fund_updated)


def _related_party_change(session: Session) -> dt.date | None:
    return _audit_date(session, AuditTag.enterprise_created, AuditTag.enterprise_updated, AuditTag.agreement_created)


def _annual_report(session: Session) -> dt.date | None:
    dates = [annual_report_date(year) for year in book_years(session, local_today())]
    dates = [d for d in dates if d]
    return dt.date.fromisoformat(max(dates)) if dates else None


def _grant_report(session: Session) -> dt.date | None:
    moment = session.scalar(select(func.max(GrantReport.reviewed_at))
                            .where(GrantReport.status == ReportStatus.accepted.value,
                                   GrantReport.is_public.is_(True)))
    return local_date(moment) if moment else None


def _donation(session: Session) -> dt.date | None:
    return session.scalar(select(func.max(Donation.received_on)))


def _latest_entry(session: Session) -> dt.date | None:
    return session.scalar(select(JournalEntry.effective_date).order_by(JournalEntry.seq.desc()).limit(1))


@dataclass(frozen=True)
class DisclosureItem:
    key: str
    title: object
    rule: object  # what the rule asks, and by when
    endpoint: str  # where it is on this site
    latest: Callable[[Session], dt.date | None]  # the date of the latest relevant change


DISCLOSURE_ITEMS: tuple[DisclosureItem, ...] = (
    DisclosureItem("basic", _l("Basic information and named funds (专项基金)"),
                   _l("Within 30 days of a change."), "disclosure.funds", _fund_change),
    DisclosureItem("related", _l("Important related parties, related-party dealings and major asset changes"),
                   _l("Within 30 days of a change or dealing."), "disclosure.enterprises", _related_party_change),
    DisclosureItem("annual", _l("Annual work report and financial report (audited where the foundation raises "
                                "funds publicly)"),
                   _l("By 31 May of the following year."), "disclosure.financial", _annual_report),
    DisclosureItem("projects", _l("Projects longer than six months: progress, and the final account with how "
                                  "leftover money was handled"),
                   _l("At least every three months while running; in full within three months of the end."),
                   "disclosure.grants", _grant_report),
    DisclosureItem("donations", _l("Donations received and their use"),
                   _l("Kept up to date from the books."), "disclosure.donations", _donation),
    DisclosureItem("corrections", _l("Corrections, each with an explanation"),
                   _l("Published when made, never silently."), "disclosure.corrections", latest_correction_date),
    DisclosureItem("ledger", _l("The ledger's head hash, so anyone can verify the books"),
                   _l("Kept up to date from the books."), "disclosure.verify", _latest_entry),
)


@dataclass
class DutyRow:
    item: DisclosureItem
    available: bool  # the page exists on this site
    latest: dt.date | None


def duty_rows(session: Session, has_endpoint: Callable[[str], bool]) -> list[DutyRow]:
    return [DutyRow(item, has_endpoint(item.endpoint), item.latest(session)) for item in DISCLOSURE_ITEMS]
