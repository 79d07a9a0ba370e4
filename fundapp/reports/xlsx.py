"""A statement as an Excel workbook (openpyxl): statutory Chinese row names with the English beside them,
figures as numbers (Decimal) in a two-decimal format, bold headers and totals, header rows frozen."""

from __future__ import annotations

import io

from flask_babel import force_locale
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from fundapp.reports.statements import Statement

NUMBER_FORMAT = "#,##0.00;[Red]-#,##0.00"
BOLD = Font(bold=True)
TITLE = Font(bold=True, size=14)
HEADER_FILL = PatternFill("solid", fgColor="EEF6F2")
THIN = Side(style="thin", color="999999")
TOTAL_BORDER = Border(top=Side(style="thin", color="000000"))
FIRST_FIGURE_COLUMN = 4  # A 项目, B Item, C 行次


def english(text: object) -> str:
    """An English msgid as English, whatever the interface language."""
    with force_locale("en"):
        return str(text)


def _header(ws: Worksheet, statement: Statement, row: int) -> int:
    """Write the column headings from `row`; return the first row of figures."""
    groups = statement.groups
    last = FIRST_FIGURE_COLUMN + len(statement.columns) - 1
    labels = ("项目", "Item", "行次")
    if groups:
        col = FIRST_FIGURE_COLUMN
        for group in groups:
            ws.cell(row, col, f"{group.name} {english(group.name_en)} ({group.dates})")
            if group.span > 1:
                ws.merge_cells(start_row=row, start_column=col, end_row=row, end_column=col + group.span - 1)
            col += group.span
        for index, label in enumerate(labels, start=1):
            ws.cell(row, index, label)
            ws.merge_cells(start_row=row, start_column=index, end_row=row + 1, end_column=index)
        row += 1
    else:
        for index, label in enumerate(labels, start=1):
            ws.cell(row, index, label)
    for offset, column in enumerate(statement.columns):
        dates = "" if groups else f" ({column.dates})"
        ws.cell(row, FIRST_FIGURE_COLUMN + offset, f"{column.name} {english(column.name_en)}{dates}")
    first_header = row - 1 if groups else row
    for r in range(first_header, row + 1):
        for c in range(1, last + 1):
            cell = ws.cell(r, c)
            cell.font, cell.fill = BOLD, HEADER_FILL
            cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
            cell.border = Border(bottom=THIN)
    return row + 1


def _body(ws: Worksheet, statement: Statement, row: int) -> int:
    for statement_row in statement.rows:
        line = statement_row.line
        name = ws.cell(row, 1, line.name)
        name.alignment = Alignment(indent=line.indent * 2)
        ws.cell(row, 2, english(line.name_en))
        if line.no is not None:
            ws.cell(row, 3, line.no).alignment = Alignment(horizontal="center")
        for offset, column in enumerate(statement.columns):
            if column.key in statement_row.values:
                cell = ws.cell(row, FIRST_FIGURE_COLUMN + offset, statement_row.values[column.key])
                cell.number_format = NUMBER_FORMAT
        if line.style in ("heading", "subtotal", "total"):
            for c in range(1, FIRST_FIGURE_COLUMN + len(statement.columns)):
                ws.cell(row, c).font = BOLD
                if line.style == "total":
                    ws.cell(row, c).border = TOTAL_BORDER
        row += 1
    return row


def statement_xlsx(statement: Statement, foundation: str) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = statement.title
    last = FIRST_FIGURE_COLUMN + len(statement.columns) - 1
    ws.cell(1, 1, f"{statement.title} {english(statement.title_en)}").font = TITLE
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=last)
    ws.cell(1, 1).alignment = Alignment(horizontal="center")
    fund = f"（{statement.fund.code} {statement.fund.name}）" if statement.fund else ""
    ws.cell(2, 1, f"编制单位：{foundation}{fund}")
    ws.cell(2, 2, statement.period_label)
    ws.cell(2, last, f"{statement.form_code}  单位：元").alignment = Alignment(horizontal="right")
    first_figures = _header(ws, statement, 4)
    after = _body(ws, statement, first_figures)
    for offset, text in enumerate([*statement.problems, *statement.notes], start=1):
        ws.cell(after + offset, 1, text)
    ws.freeze_panes = ws.cell(first_figures, FIRST_FIGURE_COLUMN)
    for index, width in enumerate((46, 44, 6), start=1):
        ws.column_dimensions[get_column_letter(index)].width = width
    for index in range(FIRST_FIGURE_COLUMN, last + 1):
        ws.column_dimensions[get_column_letter(index)].width = 20
    ws.page_setup.orientation = "landscape" if len(statement.columns) > 2 else "portrait"
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = f"4:{first_figures - 1}"
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()
