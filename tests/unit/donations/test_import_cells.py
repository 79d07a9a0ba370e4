"""Reading one cell of an import file: the messy spellings real exports use are read, anything ambiguous refused."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from fundapp.donations.imports.cells import CellError, read_amount, read_date, read_flag, read_method, read_reference


@pytest.mark.parametrize("text, amount", [
    ("1234.50", "1234.50"), ("1,234.50", "1234.50"), ("¥1234.5", "1234.50"), ("￥1,234.5", "1234.50"),
    ("１２３４.５０", "1234.50"), ("１，２３４．５０", "1234.50"), ("¥ 88", "88.00"), ("1234.5元", "1234.50"),
    ("  12,345,678.90 ", "12345678.90"), ("RMB 10", "10.00"), (1234, "1234.00"), (1234.5, "1234.50"),
    (Decimal("0.01"), "0.01"),
])
def test_amounts_in_the_usual_spellings(text, amount):
    assert read_amount(text) == Decimal(amount)


@pytest.mark.parametrize("text, fragment", [
    ("", "Enter an amount"), (None, "Enter an amount"), ("1,23", "groups of three"), ("1.234,50", "groups of three"),
    ("12,34.50", "groups of three"), ("-100", "positive"), ("¥-5", "positive"), ("(100)", "positive"),
    ("0", "cannot be zero"), ("0.00", "cannot be zero"), ("1.005", "two decimal places"), ("abc", "not an amount"),
    ("1e5", "not an amount"), ("1 234.50", "not an amount"), ("12.34.56", "not an amount"), ("$100", "not an amount"),
    (True, "number"), (1.0e20, "not an amount"), ("99999999999999999", "too large"),
])
def test_amounts_refused_with_a_reason(text, fragment):
    with pytest.raises(CellError) as error:
        read_amount(text)
    assert fragment in error.value.message


@pytest.mark.parametrize("text", ["2026-01-05", "2026/1/5", "2026年1月5日", "2026.01.05", "２０２６-０１-０５",
                                  "2026-1-5", "2026/01/05 14:33", "2026-01-05T09:00:00", " 2026年01月05日 "])
def test_dates_in_the_usual_spellings(text):
    assert read_date(text) == dt.date(2026, 1, 5)


def test_spreadsheet_dates_are_dates():
    assert read_date(dt.datetime(2026, 1, 5, 13, 30)) == dt.date(2026, 1, 5)
    assert read_date(dt.date(2026, 1, 5)) == dt.date(2026, 1, 5)


@pytest.mark.parametrize("value, fragment", [
    ("05/01/2026", "year first"), ("1/5/2026", "year first"), ("2026-01/05", "year first"), ("26-1-5", "year first"),
    ("20260105", "year first"), ("2026-02-30", "no such date"), ("2026年13月1日", "no such date"),
    (46027, "a number, not a date"), (46027.0, "a number, not a date"), ("", "Enter the date"),
    (None, "Enter the date"),
])
def test_ambiguous_or_bad_dates_are_refused(value, fragment):
    with pytest.raises(CellError) as error:
        read_date(value)
    assert fragment in error.value.message


@pytest.mark.parametrize("text, value", [
    ("是", True), ("否", False), ("yes", True), ("NO", False), ("Y", True), ("1", True), ("0", False),
    ("限定", True), ("非限定", False), ("匿名", True), ("", None), (None, None), (True, True), ("ｙｅｓ", True),
])
def test_yes_no(text, value):
    assert read_flag(text) is value


def test_yes_no_refuses_anything_else():
    with pytest.raises(CellError, match="yes or no"):
        read_flag("maybe")


@pytest.mark.parametrize("text, method", [
    ("cash", "cash"), ("现金", "cash"), ("银行转账", "bank_transfer"), ("Bank Transfer", "bank_transfer"),
    ("转账", "bank_transfer"), ("网上支付", "online"), ("微信支付", "online"), ("支付宝", "online"),
    ("online", "online"),
])
def test_methods(text, method):
    assert read_method(text) == method


@pytest.mark.parametrize("text, fragment", [("实物", "not imported"), ("in_kind", "not imported"), ("", "Say how"),
                                            ("cheque", "not a method")])
def test_methods_refused(text, fragment):
    with pytest.raises(CellError) as error:
        read_method(text)
    assert fragment in error.value.message


def test_references_are_text_and_rounded_numbers_refused():
    assert read_reference(" TX-001 ") == "TX-001"
    assert read_reference(2026010500123) == "2026010500123"
    assert read_reference(2026010500123.0) == "2026010500123"
    for rounded in ("1.23457E+15", 1.2345678901234567e17, 12.5):
        with pytest.raises(CellError, match="rounded"):
            read_reference(rounded)
    with pytest.raises(CellError, match="transaction id"):
        read_reference("")
    with pytest.raises(CellError, match="too long"):
        read_reference("x" * 101)
