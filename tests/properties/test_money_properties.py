"""Properties of parse_amount and to_capital, checked against an independent reader of 大写 amounts."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fundapp.money import MAX_AMOUNT, AmountError, parse_amount, to_capital

MAX_CENTS = int(MAX_AMOUNT * 100)
CAPITAL_CHARS = set("零壹贰叁肆伍陆柒捌玖拾佰仟万亿元角分整")
DIGITS = {ch: n for n, ch in enumerate("零壹贰叁肆伍陆柒捌玖")}
SMALL_UNITS = {"拾": 10, "佰": 100, "仟": 1000}
BIG_UNITS = {"万亿": 10**12, "亿": 10**8, "万": 10**4}

many = settings(max_examples=300)


def cents_to_decimal(cents: int) -> Decimal:
    return Decimal(cents).scaleb(-2)


def read_yuan(text: str) -> int:
    """`壹万零贰拾` -> 10020: digits times small units make a section; a big unit closes a section."""
    total = section = digit = 0
    i = 0
    while i < len(text):
        big = next((unit for unit in BIG_UNITS if text.startswith(unit, i)), None)
        if big:
            total += (section + digit) * BIG_UNITS[big]
            section = digit = 0
            i += len(big)
            continue
        ch = text[i]
        if ch in DIGITS:
            digit = DIGITS[ch]
        elif ch in SMALL_UNITS:
            section += digit * SMALL_UNITS[ch]
            digit = 0
        else:
            raise ValueError(f"unexpected {ch!r} in {text!r}")
        i += 1
    return total + section + digit


def read_capital(text: str) -> Decimal:
    """An independent reader: 大写 amount -> Decimal."""
    sign = -1 if text.startswith("负") else 1
    text = text.removeprefix("负").removesuffix("整")
    yuan_text, _, small = text.rpartition("元")
    cents, digit = read_yuan(yuan_text) * 100, 0
    for ch in small:  # 陆角柒分, 零伍分, 伍角
        if ch in DIGITS:
            digit = DIGITS[ch]
        else:
            cents += digit * {"角": 10, "分": 1}[ch]
            digit = 0
    assert digit == 0, f"a digit without a unit in {text!r}"
    return sign * cents_to_decimal(cents)


amounts = st.integers(0, 99_999_999_999_999).map(cents_to_decimal)  # 0 .. 999999999999.99
valid_amounts = st.integers(-MAX_CENTS, MAX_CENTS).map(cents_to_decimal)


@many
@given(amounts)
def test_to_capital_reads_back(amount):
    words = to_capital(amount)
    assert set(words) <= CAPITAL_CHARS
    assert words.endswith("整") == (amount % 1 == 0)
    assert "零零" not in words
    assert read_capital(words) == amount


@pytest.mark.parametrize("words, amount", [("壹万贰仟叁佰肆拾伍元陆角柒分", "12345.67"), ("壹拾元零伍分", "10.05"),
                                           ("壹万亿零壹元整", "1000000000001"), ("伍角", "0.50")])
def test_the_reader_itself(words, amount):
    assert read_capital(words) == Decimal(amount)


@many
@given(valid_amounts)
def test_parse_amount_round_trips(amount):
    parsed = parse_amount(str(amount), allow_negative=True, allow_zero=True)
    assert parsed == amount
    assert parsed.as_tuple().exponent == -2


@many
@given(st.one_of(st.text(max_size=30), st.from_regex(r"\A[-+¥]?[0-9,，]{0,22}(\.[0-9]{0,4})?\Z")))
def test_parse_amount_returns_two_places_or_refuses(text):
    try:
        value = parse_amount(text, allow_negative=True, allow_zero=True)
    except AmountError:
        return
    assert value.as_tuple().exponent == -2
    assert not (value.is_zero() and value.is_signed())
    assert abs(value) <= MAX_AMOUNT


@many
@given(st.integers(-(10**30), 10**30), st.integers(-30, 30), st.sampled_from(["e", "E"]))
def test_parse_amount_refuses_exponents(mantissa, exponent, letter):
    with pytest.raises(AmountError):
        parse_amount(f"{mantissa}{letter}{exponent}", allow_negative=True, allow_zero=True)


@pytest.mark.parametrize("text", ["NaN", "nan", "-NaN", "sNaN", "Infinity", "-Infinity", "inf", "Inf", "+inf"])
def test_parse_amount_refuses_non_numbers(text):
    with pytest.raises(AmountError):
        parse_amount(text, allow_negative=True, allow_zero=True)


@many
@given(st.integers(0, 10**20), st.integers(0, 99), st.integers(1, 9))
def test_parse_amount_refuses_a_third_decimal(whole, cents, third):
    with pytest.raises(AmountError):
        parse_amount(f"{whole}.{cents:02d}{third}", allow_negative=True, allow_zero=True)
