"""One cell of an import file into one value, or a CellError saying what is wrong with it.

Real exports are messy, so each reader accepts the usual spellings (full-width digits, ¥, thousands separators,
2026/1/5, 2026年1月5日, 是/否) and refuses, with a message, anything it would have to guess at: 05/01/2026 (day or
month first?), 1,23 (a decimal comma?), an Excel serial number for a date, a reference Excel turned into 1.2E+15.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _

from fundapp.donations.forms import AMOUNT_MESSAGES
from fundapp.donations.models import DonationMethod
from fundapp.money import AmountError, parse_amount


class CellError(ValueError):
    """The cell cannot be read; `message` says why (translated)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def clean_text(value: Any) -> str:
    """Any cell as trimmed text in Unicode NFKC form (full-width letters and digits become ASCII)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return unicodedata.normalize("NFKC", str(value)).strip()


def is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


# --- amounts ------------------------------------------------------------------------------------------------

_AMOUNT = re.compile(r"^(?:¥|RMB|CNY)?\s*(?P<number>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)\s*(?:元)?$", re.I)


def read_amount(value: Any) -> Decimal:
    if is_blank(value):
        raise CellError(_("Enter an amount."))
    if isinstance(value, bool):
        raise CellError(_("Enter a number such as 1234.56."))
    text = repr(value) if isinstance(value, float) else clean_text(value)
    if text.lstrip("¥ ").startswith(("-", "−", "(")):
        raise CellError(_("Enter a positive amount."))
    match = _AMOUNT.match(text)
    if match is None:
        if "," in text:
            raise CellError(_("%(text)s: write thousands separators in groups of three (1,234.50) and a decimal point, "
                              "not a comma.", text=text))
        raise CellError(_("%(text)s is not an amount; write it as 1234.50, 1,234.50 or ¥1234.5.", text=text))
    try:
        return parse_amount(match.group("number"))
    except AmountError as error:
        raise CellError(str(AMOUNT_MESSAGES.get(error.code, AMOUNT_MESSAGES["not_a_number"]))) from None


# --- dates --------------------------------------------------------------------------------------------------

_DATE_PATTERNS = (
    re.compile(r"^(?P<y>\d{4})(?P<sep>[-/.])(?P<m>\d{1,2})(?P=sep)(?P<d>\d{1,2})(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?$"),
    re.compile(r"^(?P<y>\d{4})年(?P<m>\d{1,2})月(?P<d>\d{1,2})日$"),
)


def read_date(value: Any) -> dt.date:
    if is_blank(value):
        raise CellError(_("Enter the date of the gift."))
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        raise CellError(_("%(text)s is a number, not a date; format the column as dates or write 2026-01-05.",
                          text=clean_text(value)))
    text = clean_text(value)
    for pattern in _DATE_PATTERNS:
        match = pattern.match(text)
        if match:
            try:
                return dt.date(int(match.group("y")), int(match.group("m")), int(match.group("d")))
            except ValueError:
                raise CellError(_("There is no such date as %(text)s.", text=text)) from None
    raise CellError(_("%(text)s: write dates year first, as 2026-01-05, 2026/1/5 or 2026年1月5日.", text=text))


# --- yes / no -----------------------------------------------------------------------------------------------

_YES = {"yes", "y", "true", "1", "是", "限定", "限定性", "restricted", "匿名"}
_NO = {"no", "n", "false", "0", "否", "非限定", "非限定性", "unrestricted", "不匿名", "实名"}


def read_flag(value: Any) -> bool | None:
    """True, False, or None for a blank cell."""
    if is_blank(value):
        return None
    if isinstance(value, bool):
        return value
    text = clean_text(value).lower()
    if text in _YES:
        return True
    if text in _NO:
        return False
    raise CellError(_("%(text)s: write yes or no (是 or 否), or leave it blank.", text=text))


# --- methods ------------------------------------------------------------------------------------------------

_METHODS = {
    DonationMethod.cash.value: ("cash", "现金"),
    DonationMethod.bank_transfer.value: ("bank_transfer", "bank transfer", "bank", "transfer", "银行转账", "转账",
                                         "银行", "对公转账", "银行汇款", "汇款"),
    DonationMethod.online.value: ("online", "online payment", "网上支付", "网络支付", "线上", "在线支付", "微信",
                                  "微信支付", "支付宝", "wechat", "wechat pay", "alipay"),
}
METHOD_WORDS = {word: method for method, words in _METHODS.items() for word in words}
IN_KIND_WORDS = {"in_kind", "in kind", "实物", "物资"}


def read_method(value: Any) -> str:
    text = clean_text(value).lower()
    if not text:
        raise CellError(_("Say how the gift was made: cash, bank_transfer or online (现金, 银行转账, 网上支付)."))
    if text in IN_KIND_WORDS:
        raise CellError(_("Gifts in kind are not imported; record each one with its valuation on the donation form."))
    method = METHOD_WORDS.get(text)
    if method is None:
        raise CellError(_("%(text)s is not a method; use cash, bank_transfer or online (现金, 银行转账, 网上支付).",
                          text=text))
    return method


# --- text ---------------------------------------------------------------------------------------------------


def read_reference(value: Any) -> str:
    if isinstance(value, float) and (not value.is_integer() or abs(value) >= 2**53):
        raise CellError(_("%(text)s looks like a number the spreadsheet rounded; format the column as text and "
                          "export again.", text=repr(value)))
    text = clean_text(value)
    if not text:
        raise CellError(_("Each row needs the payer's or bank's transaction id: it is what makes a second import of "
                          "the same file post nothing."))
    if re.fullmatch(r"\d(\.\d+)?E\+\d+", text, re.I):
        raise CellError(_("%(text)s looks like a number the spreadsheet rounded; format the column as text and "
                          "export again.", text=text))
    if len(text) > 100:
        raise CellError(_("The reference is too long (at most %(n)d characters).", n=100))
    return text


def read_text(value: Any, limit: int, message: str) -> str:
    text = clean_text(value)
    if len(text) > limit:
        raise CellError(message)
    return text
