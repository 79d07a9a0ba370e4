"""Money helpers: 大写 amounts as written on receipts, and parsing what people type."""

from __future__ import annotations

from decimal import Decimal

import pytest

from fundapp.money import MAX_AMOUNT, AmountError, D, fmt, parse_amount, quantize, to_capital


@pytest.mark.parametrize(
    "amount, words",
    [
        ("12345.67", "壹万贰仟叁佰肆拾伍元陆角柒分"),
        ("10.05", "壹拾元零伍分"),
        ("10.50", "壹拾元伍角"),
        ("1001", "壹仟零壹元整"),
        ("1010", "壹仟零壹拾元整"),
        ("100000000", "壹亿元整"),
        ("100000000.01", "壹亿元零壹分"),
        ("1000100", "壹佰万零壹佰元整"),
        ("1000001000", "壹拾亿零壹仟元整"),
        ("110000", "壹拾壹万元整"),
        ("1000000000000", "壹万亿元整"),
        ("0.5", "伍角"),
        ("0.05", "伍分"),
        ("0", "零元整"),
        ("-3", "负叁元整"),
        ("999999999999.99", "玖仟玖佰玖拾玖亿玖仟玖佰玖拾玖万玖仟玖佰玖拾玖元玖角玖分"),
    ],
)
def test_to_capital(amount, words):
    assert to_capital(Decimal(amount)) == words


def test_to_capital_rounds_half_up_to_cents():
    assert to_capital(Decimal("1.235")) == "壹元贰角肆分"


@pytest.mark.parametrize(
    "text, expected",
    [
        ("1234.5", "1234.50"),
        ("1,234.50", "1234.50"),
        ("1，234.50", "1234.50"),
        ("¥1,000", "1000.00"),
        ("￥ 12.3 ", "12.30"),
        ("0.01", "0.01"),
        ("1.000", "1.00"),  # trailing zeros beyond cents change nothing
        ("9999999999999999.99", "9999999999999999.99"),
    ],
)
def test_parse_amount_accepts(text, expected):
    value = parse_amount(text)
    assert value == Decimal(expected) and str(value) == expected


@pytest.mark.parametrize(
    "text, code",
    [
        ("", "empty"),
        (None, "empty"),
        ("  ¥ ", "empty"),
        ("1e3", "not_a_number"),
        ("1E3", "not_a_number"),
        ("NaN", "not_a_number"),
        ("Infinity", "not_a_number"),
        ("-inf", "not_a_number"),
        ("1.2.3", "not_a_number"),
        ("1 000", "not_a_number"),
        ("1_000", "not_a_number"),
        ("abc", "not_a_number"),
        ("1.005", "too_many_decimals"),
        ("0", "zero"),
        ("-0", "zero"),
        ("-5", "negative"),
        ("10000000000000000", "too_large"),
        ("9999999999999999.991", "too_large"),
        ("1" * 30, "too_large"),  # beyond the decimal context's 28 digits
        ("1" * 40 + ".123", "too_large"),
    ],
)
def test_parse_amount_refuses(text, code):
    with pytest.raises(AmountError) as caught:
        parse_amount(text)
    assert caught.value.code == code


def test_parse_amount_negative_and_zero_when_allowed():
    assert parse_amount("-12.5", allow_negative=True) == Decimal("-12.50")
    zero = parse_amount("-0", allow_zero=True)
    assert zero == 0 and not zero.is_signed() and str(zero) == "0.00"
    assert parse_amount("-0.00", allow_zero=True, allow_negative=True).is_signed() is False
    with pytest.raises(AmountError):
        parse_amount(f"-{MAX_AMOUNT + Decimal('0.01')}", allow_negative=True)


def test_d_refuses_floats():
    assert D("1.10") == Decimal("1.10") and D(3) == Decimal(3)
    with pytest.raises(TypeError):
        D(1.1)


def test_quantize_and_fmt():
    assert quantize(Decimal("2.345")) == Decimal("2.35")
    assert fmt(Decimal("1234567.5")) == "1,234,567.50"
    assert fmt(None) == ""
