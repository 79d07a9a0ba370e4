"""Reading an import file: encodings, CSV or .xlsx, English or Chinese headers; the whole file refused when unclear."""

from __future__ import annotations

import codecs
import datetime as dt
import io

import openpyxl
import pytest

from fundapp.donations.imports.reading import ImportFileError, open_sheet

HEADER_EN = "date,donor,amount,fund,method,restricted,purpose,reference,anonymous"
HEADER_ZH = "日期,捐赠人,金额,基金编号,方式,是否限定,用途,流水号,匿名"
ROW = "2026年1月5日,张三丰,\"１，２３４．５０\",GEN,银行转账,否,助学,TX-1,否"


def xlsx(*rows, sheets: int = 1) -> bytes:
    book = openpyxl.Workbook()
    book.active.title = "捐赠"
    for row in rows:
        book.active.append(list(row))
    for number in range(1, sheets):
        book.create_sheet(f"other{number}").append(["notes"])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
@pytest.mark.parametrize("header", [HEADER_EN, HEADER_ZH])
def test_csv_in_every_accepted_encoding(encoding, header):
    sheet = open_sheet(f"{header}\r\n{ROW}\r\n".encode(encoding), 100)
    expected = "utf-8" if encoding == "utf-8" else encoding
    assert (sheet.kind, sheet.encoding) == ("csv", expected)
    cells = ["2026年1月5日", "张三丰", "１，２３４．５０", "GEN", "银行转账", "否", "助学", "TX-1", "否"]
    assert sheet.rows == [(2, cells)]
    assert sheet.cell(sheet.rows[0][1], "donor") == "张三丰"


def test_row_numbers_are_the_spreadsheet_rows_and_blank_rows_are_skipped():
    data = f"{HEADER_EN}\n,,,,,,,,\n2026-01-05,a,1,GEN,cash,,,T1,\n\n2026-01-06,b,2,GEN,cash,,,T2,\n".encode()
    sheet = open_sheet(data, 100)
    assert [number for number, _cells in sheet.rows] == [3, 5]


def test_columns_in_any_order_case_and_width():
    data = "ＲＥＦＥＲＥＮＣＥ,Amount, Fund ,METHOD,Date,donor\nT1,5,GEN,cash,2026-01-05,x\n".encode()
    sheet = open_sheet(data, 100)
    cells = sheet.rows[0][1]
    assert sheet.cell(cells, "reference") == "T1" and sheet.cell(cells, "amount") == "5"
    assert sheet.cell(cells, "purpose") is None


def test_tab_separated_text_is_read():
    sheet = open_sheet(b"date\tdonor\tamount\tfund\tmethod\treference\n2026-01-05\tx\t1,000.00\tGEN\tcash\tT1\n",
                       10)
    assert sheet.cell(sheet.rows[0][1], "amount") == "1,000.00"


@pytest.mark.parametrize("data, fragment", [
    (b"", "empty"),
    (b"\n\n", "empty"),
    (HEADER_EN.encode(), "no rows"),
    (b"date,donor,amount,fund,method,reference,notes\n1,2,3,4,5,6,7\n", "Unknown columns: notes"),
    (b"date,donor,amount,fund,method\n1,2,3,4,5\n", "Missing columns: reference"),
    ("date,日期,donor,amount,fund,method,reference\n1,1,2,3,4,5,6\n".encode(), "Columns named twice: 日期"),
    (b"date;donor;amount;fund;method;reference\n1;2;3;4;5;6\n", "Separate the columns with commas"),
    (("2026年1月捐赠明细\n" + HEADER_ZH + "\n").encode(), "Unknown columns"),
    (codecs.BOM_UTF16_LE + HEADER_EN.encode("utf-16-le"), "UTF-16"),
    (codecs.BOM_UTF8 + "日期".encode("gb18030") + b",x\n", "not UTF-8"),
    (b"\xff\xfe\xfd\x80\x81", "UTF-16"),
    (b"\x81\x30\x81", "neither UTF-8 nor GB18030"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "old Excel"),
    (b"PK\x03\x04not really a zip", "not an Excel workbook"),
    (b'date,donor,amount,fund,method,reference\n2026-01-05,"x,1,GEN,cash,T1\n', "malformed"),
])
def test_unreadable_or_ambiguous_files_are_refused(data, fragment):
    with pytest.raises(ImportFileError) as error:
        open_sheet(data, 100)
    assert fragment in error.value.message


def test_too_many_rows_is_refused():
    data = (HEADER_EN + "\n" + "\n".join(f"2026-01-05,x,1,GEN,cash,,,T{n}," for n in range(4))).encode()
    assert len(open_sheet(data, 4).rows) == 4
    with pytest.raises(ImportFileError, match="more than 3 rows"):
        open_sheet(data, 3)


def test_xlsx_with_typed_cells():
    data = xlsx(HEADER_ZH.split(","), [dt.datetime(2026, 1, 5), "张三丰", 1234.5, "GEN", "现金", None, None,
                                       "TX-1", None])
    sheet = open_sheet(data, 100)
    assert (sheet.kind, sheet.encoding) == ("xlsx", "")
    number, cells = sheet.rows[0]
    assert number == 2 and cells[0] == dt.datetime(2026, 1, 5) and cells[2] == 1234.5


def test_xlsx_with_data_on_a_second_sheet_is_refused():
    with pytest.raises(ImportFileError, match="several sheets"):
        open_sheet(xlsx(HEADER_EN.split(","), ["2026-01-05", "x", 1, "GEN", "cash", "", "", "T1", ""], sheets=2), 100)
