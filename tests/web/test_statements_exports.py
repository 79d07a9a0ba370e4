"""Statement exports: the Excel file opened with openpyxl and the PDF's text layer carry the hand figures."""

from __future__ import annotations

import io
import shutil
import subprocess
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from fundapp.money import CENT
from tests.statements_builders import fixture_books

YEAR_2025 = {"period": "year", "year": "2025"}
INSTALL = "sudo apt-get install fonts-wqy-microhei poppler-utils"


@pytest.fixture()
def books(app_ctx):
    with app_ctx() as s:
        books = fixture_books(s)
        s.commit()
        return {"gen": books.gen.id, "prj": books.prj.id}


def workbook(client, name: str, **args):
    response = client.get(f"/reports/{name}.xlsx", query_string={**YEAR_2025, **args})
    assert response.status_code == 200
    assert response.content_type.startswith("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    assert "attachment" in response.headers["Content-Disposition"]
    return load_workbook(io.BytesIO(response.data)).active, response.headers["Content-Disposition"]


def rows_by_name(ws) -> dict[str, tuple]:
    return {row[0].value: row for row in ws.iter_rows() if isinstance(row[0].value, str)}


def amount(cell) -> Decimal:
    """openpyxl reads numbers back as int or float: back to cents for the comparison."""
    assert isinstance(cell.value, int | float), cell.value
    return Decimal(str(cell.value)).quantize(CENT)


def test_balance_sheet_workbook(client, login, books):
    login("finance")
    ws, disposition = workbook(client, "balance-sheet")
    assert 'filename="balance-sheet-2025-12-31.xlsx"' in disposition
    assert ws["A1"].value.startswith("资产负债表") and ws["A1"].font.bold
    rows = rows_by_name(ws)
    header = rows["项目"]
    assert [c.value for c in header[:3]] == ["项目", "Item", "行次"]
    assert all(c.font.bold for c in header)
    assert header[3].value.startswith("年初数") and header[4].value.startswith("期末数")
    assert ws.freeze_panes == f"D{header[0].row + 1}"
    figures = {"货币资金": ("100000.00", "178075.00"), "长期债权投资": ("0.00", "40000.00"),
               "资产总计": ("100000.00", "218075.00"), "应付款项": ("0.00", "12000.00"),
               "非限定性净资产": ("100000.00", "156075.00"), "限定性净资产": ("0.00", "50000.00"),
               "负债和净资产总计": ("100000.00", "218075.00")}
    for name, (opening, closing) in figures.items():
        row = rows[name]
        assert (amount(row[3]), amount(row[4])) == (Decimal(opening), Decimal(closing)), name
        assert row[4].number_format == "#,##0.00;[Red]-#,##0.00"
    assert rows["货币资金"][1].value == "Cash and bank" and rows["货币资金"][2].value == 1
    assert rows["资产总计"][0].font.bold


def test_activities_workbook_has_both_classes_and_the_year_before(client, login, books):
    login("board")
    ws, disposition = workbook(client, "activities")
    assert 'filename="activities-2025-01-01_2025-12-31.xlsx"' in disposition
    rows = rows_by_name(ws)
    release = rows["三、限定性净资产转为非限定性净资产"]
    assert [amount(c) for c in release[3:6]] == [Decimal("30000.00"), Decimal("-30000.00"), Decimal("0.00")]
    change = next(row for name, row in rows.items() if name.startswith("四、净资产变动额"))
    assert [amount(c) for c in change[3:9]] == [Decimal(x) for x in
                                               ("56075.00", "50000.00", "106075.00", "100000.00", "0.00", "100000.00")]
    gifts = rows["其中：捐赠收入"]
    assert [amount(c) for c in gifts[3:6]] == [Decimal("50000.00"), Decimal("80000.00"), Decimal("130000.00")]


def test_cash_flows_workbook_for_one_fund(client, login, books):
    login("admin")
    ws, disposition = workbook(client, "cash-flows", fund=books["prj"])
    assert "-PRJ.xlsx" in disposition
    rows = rows_by_name(ws)
    assert "PRJ" in ws["A2"].value
    assert amount(rows["接受捐赠收到的现金"][3]) == Decimal("80000.00")
    assert amount(rows["提供捐赠或者资助支付的现金"][3]) == Decimal("18000.00")
    assert amount(rows["五、现金及现金等价物净增加额"][3]) == Decimal("62000.00")


def pdf_text(pdf: bytes, tmp_path) -> str:
    for tool in ("pdftotext", "pdffonts"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is missing: install it with `{INSTALL}`")
    path = tmp_path / "statement.pdf"
    path.write_bytes(pdf)
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
    assert "WenQuanYi-Micro-Hei" in fonts, f"not set in the CJK font: `{INSTALL}`\n{fonts}"
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout


@pytest.mark.parametrize("name,figures", [
    ("balance-sheet", ("资产负债表", "会民非01表", "2025年12月31日", "178,075.00", "218,075.00", "156,075.00",
                       "206,075.00", "负债和净资产总计")),
    ("activities", ("业务活动表", "会民非02表", "2025年度", "非限定性", "130,000.00", "142,600.00", "36,525.00",
                    "-30,000.00", "106,075.00")),
    ("cash-flows", ("现金流量表", "会民非03表", "142,000.00", "24,525.00", "117,475.00", "-39,400.00", "78,075.00",
                    "178,075.00")),
])
def test_pdf_text_has_the_key_figures(client, login, books, tmp_path, name, figures):
    login("finance")
    response = client.get(f"/reports/{name}.pdf", query_string=YEAR_2025)
    assert response.status_code == 200 and response.content_type == "application/pdf"
    text = pdf_text(response.data, tmp_path)
    for figure in figures:
        assert figure in text, figure
