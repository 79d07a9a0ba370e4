"""Money helpers. Money is `Decimal`, two places, never a float."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
# Numeric(18, 2): 16 digits before the point.
MAX_AMOUNT = Decimal("9999999999999999.99")


class AmountError(ValueError):
    """Text that is not a valid amount of money; `code` names the reason."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


def D(value: str | int | Decimal) -> Decimal:
    """Exact Decimal from a string, int or Decimal. Floats are refused."""
    if isinstance(value, float):
        raise TypeError("money must not be a float")
    return Decimal(value)


def quantize(value: Decimal, rounding: str = ROUND_HALF_UP) -> Decimal:
    """Round to cents with an explicit rounding mode (use only at a boundary)."""
    return value.quantize(CENT, rounding=rounding)


def parse_amount(text: str | None, *, allow_negative: bool = False, allow_zero: bool = False) -> Decimal:
    """Parse user input into a two-place Decimal, or raise AmountError.

    Accepts thousands separators (`1,234.50`, `1，234.50`) and a leading `¥`. Refuses more than two decimals,
    exponents, NaN/Infinity and amounts beyond Numeric(18, 2). Negative zero becomes zero.
    """
    raw = (text or "").strip().replace(",", "").replace("，", "").replace("¥", "").replace("￥", "").strip()
    if not raw:
        raise AmountError("empty")
    if any(ch in raw for ch in "eEnN_ ") or raw.count(".") > 1:
        raise AmountError("not_a_number")
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise AmountError("not_a_number") from None
    if not value.is_finite():
        raise AmountError("not_a_number")
    if value.copy_abs() > MAX_AMOUNT:  # before quantize(), which fails beyond 28 digits
        raise AmountError("too_large")
    if value.as_tuple().exponent < -2 and value != value.quantize(CENT):
        raise AmountError("too_many_decimals")
    value = value.quantize(CENT) + ZERO  # + ZERO turns -0.00 into 0.00
    if value.is_zero():
        value = ZERO
        if not allow_zero:
            raise AmountError("zero")
    if value < 0 and not allow_negative:
        raise AmountError("negative")
    if abs(value) > MAX_AMOUNT:
        raise AmountError("too_large")
    return value


def fmt(value: Decimal | None) -> str:
    """`1234567.5` -> `1,234,567.50` (plain, locale-neutral; templates may use Babel instead)."""
    if value is None:
        return ""
    return f"{quantize(value):,.2f}"


_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_SMALL_UNITS = ("", "拾", "佰", "仟")
_BIG_UNITS = ("", "万", "亿", "万亿")


def _group_to_capital(group: int) -> str:
    """0..9999 -> capital numerals with inner zeros, no leading zero."""
    out, zero_pending = [], False
    for pos in range(3, -1, -1):
        digit = group // 10**pos % 10
        if digit == 0:
            zero_pending = bool(out)
            continue
        if zero_pending:
            out.append("零")
            zero_pending = False
        out.append(_DIGITS[digit] + _SMALL_UNITS[pos])
    return "".join(out)


def to_capital(amount: Decimal) -> str:
    """Chinese capital amount (大写金额) as written on receipts: 12345.67 -> 壹万贰仟叁佰肆拾伍元陆角柒分."""
    amount = quantize(amount)
    if amount < 0:
        return "负" + to_capital(-amount)
    cents = int(amount * 100)
    yuan, jiao, fen = cents // 100, cents // 10 % 10, cents % 10
    head = _yuan_to_capital(yuan)
    if jiao == 0 and fen == 0:
        return (head or "零") + "元整"
    tail = ""
    if jiao:
        tail += _DIGITS[jiao] + "角"
    elif yuan:
        tail += "零"
    if fen:
        tail += _DIGITS[fen] + "分"
    return (head + "元" if yuan else "") + tail


def _yuan_to_capital(yuan: int) -> str:
    groups = []
    while yuan:
        groups.append(yuan % 10000)
        yuan //= 10000
    out, need_zero = [], False
    for index in range(len(groups) - 1, -1, -1):
        group = groups[index]
        if group == 0:
            need_zero = bool(out)
            continue
        if out and (need_zero or group < 1000):
            out.append("零")
        need_zero = False
        out.append(_group_to_capital(group) + _BIG_UNITS[index])
    return "".join(out)
