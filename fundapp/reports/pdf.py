"""A statement as a PDF (WeasyPrint, CJK font), rendered from plain values by templates/pdf/statement_<kind>.html.

Same pattern as the receipts (fundapp.donations.pdf): the URL fetcher serves only the app's static files.
"""

from __future__ import annotations

from decimal import Decimal

from flask import current_app, render_template
from weasyprint import HTML

from fundapp.dates import local_today
from fundapp.donations.pdf import CJK_FONT, StaticOnlyFetcher, money_text
from fundapp.reports.periods import zh_date
from fundapp.reports.statements import Statement
from fundapp.reports.xlsx import english


def _figure(value: Decimal | None, style: str) -> str:
    if value is None:
        return ""
    if value == 0 and style == "item":
        return "-"
    return money_text(value)


def statement_values(statement: Statement, foundation: str) -> dict:
    """Everything printed, as plain strings (the template does no lookups and no arithmetic)."""
    fund = statement.fund
    return {
        "title": statement.title,
        "title_en": english(statement.title_en),
        "form_code": statement.form_code,
        "foundation": foundation,
        "fund": f"{fund.code} {fund.name}" if fund else "",
        "period": statement.period_label,
        "printed_on": zh_date(local_today()),
        "groups": [{"name": g.name, "name_en": english(g.name_en), "dates": g.dates, "span": g.span}
                   for g in statement.groups],
        "columns": [{"name": c.name, "name_en": english(c.name_en), "dates": c.dates} for c in statement.columns],
        "rows": [
            {"name": row.line.name, "name_en": english(row.line.name_en), "no": row.line.no or "",
             "style": row.line.style, "indent": row.line.indent,
             "figures": [_figure(row.values.get(c.key), row.line.style) for c in statement.columns]}
            for row in statement.rows
        ],
        "problems": list(statement.problems),
        "notes": list(statement.notes),
    }


def statement_pdf(statement: Statement, foundation: str) -> bytes:
    template = f"pdf/statement_{statement.kind.replace('-', '_')}.html"
    html = render_template(template, s=statement_values(statement, foundation), font=CJK_FONT)
    root = current_app.static_folder
    return HTML(string=html, base_url=f"file://{root}/", url_fetcher=StaticOnlyFetcher(root)).write_pdf()
