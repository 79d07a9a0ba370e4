"""An uploaded file into a header and rows of raw cells: CSV (UTF-8 with or without BOM, or GB18030) or .xlsx.

Row numbers are those a spreadsheet shows: the header is row 1. Blank rows are skipped. The header must name
the columns in English or Chinese (any order, any case); a column it does not know, a column named twice or a
required column missing refuses the whole file, since guessing would import the wrong thing.
"""

from __future__ import annotations

import codecs
import csv
import io
import unicodedata
import warnings
import zipfile
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _

from fundapp.donations.errors import DonationError

# field -> accepted headers (compared after NFKC, trimming and lower-casing)
COLUMNS: dict[str, tuple[str, ...]] = {
    "date": ("date", "日期"),
    "donor": ("donor", "捐赠人"),
    "amount": ("amount", "金额"),
    "fund": ("fund", "基金编号"),
    "method": ("method", "方式"),
    "restricted": ("restricted", "是否限定"),
    "purpose": ("purpose", "用途"),
    "reference": ("reference", "流水号"),
    "anonymous": ("anonymous", "匿名"),
}
REQUIRED = ("date", "donor", "amount", "fund", "method", "reference")
HEADERS = {name: field_name for field_name, names in COLUMNS.items() for name in names}
XLSX_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0"


class ImportFileError(DonationError):
    """The file as a whole cannot be read; nothing in it was checked."""


@dataclass
class Sheet:
    kind: str  # "csv" or "xlsx"
    encoding: str  # of a CSV file; "" for xlsx
    columns: dict[str, int]  # field -> cell index
    rows: list[tuple[int, list[Any]]] = field(default_factory=list)  # (row number, cells), blank rows left out

    def cell(self, cells: list[Any], name: str) -> Any:
        index = self.columns.get(name)
        return cells[index] if index is not None and index < len(cells) else None


def decode(data: bytes) -> tuple[str, str]:
    """The text of a CSV file and its encoding: UTF-8 (a BOM is dropped), else GB18030; anything else refused."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or b"\x00" in data[:4096]:
        raise ImportFileError(_("This file is UTF-16 text; save it as CSV (UTF-8) or as an Excel workbook (.xlsx)."))
    if data.startswith(codecs.BOM_UTF8):
        try:
            return data[len(codecs.BOM_UTF8):].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError:
            raise ImportFileError(_("The file starts with a UTF-8 mark but is not UTF-8 text; save it again as CSV "
                                    "(UTF-8).")) from None
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030"), "gb18030"
    except UnicodeDecodeError:
        raise ImportFileError(_("The file is neither UTF-8 nor GB18030 text; save it as CSV (UTF-8) or as an Excel "
                                "workbook (.xlsx).")) from None


def _header_key(value: Any) -> str:
    return unicodedata.normalize("NFKC", "" if value is None else str(value)).strip().lower()


def map_columns(header: list[Any]) -> dict[str, int]:
    """field -> index from the header row, or ImportFileError naming what is wrong."""
    columns: dict[str, int] = {}
    unknown, twice = [], []
    for index, value in enumerate(header):
        key = _header_key(value)
        if not key:
            continue
        name = HEADERS.get(key)
        if name is None:
            unknown.append(str(value).strip())
        elif name in columns:
            twice.append(str(value).strip())
        else:
            columns[name] = index
    if len(header) == 1 and any(sep in _header_key(header[0]) for sep in (";", "|")):
        raise ImportFileError(_("Separate the columns with commas (CSV) or use an Excel workbook (.xlsx)."))
    if unknown:
        raise ImportFileError(_("Unknown columns: %(names)s. The columns are: %(columns)s.", names=", ".join(unknown),
                                columns=", ".join(COLUMNS)))
    if twice:
        raise ImportFileError(_("Columns named twice: %(names)s.", names=", ".join(twice)))
    missing = [name for name in REQUIRED if name not in columns]
    if missing:
        raise ImportFileError(_("Missing columns: %(names)s. Row 1 must be the header: %(columns)s.",
                                names=", ".join(missing), columns=", ".join(COLUMNS)))
    return columns


def _blank(cells: list[Any]) -> bool:
    return all(cell is None or (isinstance(cell, str) and not cell.strip()) for cell in cells)


def _collect(rows, kind: str, encoding: str, max_rows: int) -> Sheet:
    header = None
    sheet = None
    for number, cells in enumerate(rows, start=1):
        cells = list(cells)
        if header is None:
            if _blank(cells):
                continue
            header = cells
            sheet = Sheet(kind, encoding, map_columns(header))
            continue
        if _blank(cells):
            continue
        if len(sheet.rows) >= max_rows:
            raise ImportFileError(_("The file has more than %(n)d rows; split it into smaller files.", n=max_rows))
        sheet.rows.append((number, cells))
    if sheet is None:
        raise ImportFileError(_("The file is empty."))
    if not sheet.rows:
        raise ImportFileError(_("The file has a header but no rows."))
    return sheet


def read_csv(data: bytes, max_rows: int) -> Sheet:
    text, encoding = decode(data)
    first_line = text.split("\n", 1)[0]
    delimiter = "\t" if "\t" in first_line and "," not in first_line else ","
    try:
        return _collect(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True), "csv", encoding,
                        max_rows)
    except csv.Error as error:
        raise ImportFileError(_("The CSV file is malformed: %(error)s", error=str(error))) from None


def read_xlsx(data: bytes, max_rows: int) -> Sheet:
    import openpyxl  # loaded only when a workbook is imported

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl warns about styles and extensions it does not read
            book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
            try:
                sheets = book.worksheets
                for other in sheets[1:]:
                    if any(not _blank(list(cells)) for cells in other.iter_rows(max_row=50, values_only=True)):
                        raise ImportFileError(_("The workbook has several sheets with data; keep the donations in "
                                                "one sheet and nothing in the others."))
                return _collect(sheets[0].iter_rows(values_only=True), "xlsx", "", max_rows)
            finally:
                book.close()
    except (zipfile.BadZipFile, KeyError, OSError, ValueError):
        raise ImportFileError(_("This is not an Excel workbook that can be read (.xlsx); save it again or as CSV "
                                "(UTF-8).")) from None


def open_sheet(data: bytes, max_rows: int) -> Sheet:
    """Read an uploaded file (the kind is told by its content, not its name)."""
    if not data:
        raise ImportFileError(_("The file is empty."))
    if data.startswith(OLE_MAGIC):
        raise ImportFileError(_("This is an old Excel file (.xls); save it as .xlsx or as CSV (UTF-8)."))
    if data.startswith(XLSX_MAGIC):
        return read_xlsx(data, max_rows)
    return read_csv(data, max_rows)
