"""Receipt PDFs, rendered with WeasyPrint from templates/pdf/receipt.html and plain values.

Text renders with the CJK font "WenQuanYi Micro Hei" (Debian package fonts-wqy-microhei), with other
common CJK fonts as fallbacks. WeasyPrint subsets fonts much faster with HarfBuzz's subsetter (Debian
libharfbuzz-subset0); without it a receipt takes about a second instead of a few tens of milliseconds.
The URL fetcher serves only files inside the app's static folder: a receipt never reaches the network.
"""

from __future__ import annotations

import mimetypes
import os
from collections.abc import Sequence
from urllib.parse import unquote, urlsplit

from babel.numbers import format_decimal
from flask import current_app, render_template
from weasyprint import HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse

from fundapp.donations.models import DonationMethod, Receipt
from fundapp.money import to_capital

CJK_FONT = "WenQuanYi Micro Hei"
# Printed on the receipt (a Chinese statutory document, not user interface text).
METHOD_WORDS = {
    DonationMethod.cash.value: "现金",
    DonationMethod.bank_transfer.value: "银行转账",
    DonationMethod.online.value: "网上支付",
    DonationMethod.in_kind.value: "实物",
}


class StaticOnlyFetcher(URLFetcher):
    """Serve `file:` URLs inside one folder; refuse everything else (http, data, files elsewhere)."""

    def __init__(self, root: str):
        super().__init__(allowed_protocols=("file",), allow_redirects=False)
        self.root = os.path.realpath(root)

    def fetch(self, url, headers=None):
        parts = urlsplit(url)
        if parts.scheme != "file" or parts.netloc not in ("", "localhost"):
            raise ValueError(f"refused to fetch {url!r}: only the app's static files are served")
        path = os.path.realpath(unquote(parts.path))
        if os.path.commonpath([path, self.root]) != self.root or not os.path.isfile(path):
            raise ValueError(f"refused to fetch {url!r}: only the app's static files are served")
        with open(path, "rb") as handle:
            body = handle.read()
        mime = mimetypes.guess_type(path)[0] or "application/octet-stream"
        return URLFetcherResponse(url, body, {"Content-Type": mime})


def static_fetcher() -> StaticOnlyFetcher:
    return StaticOnlyFetcher(current_app.static_folder)


def money_text(amount) -> str:
    return format_decimal(amount, format="#,##0.00", locale="zh_CN")


def receipt_values(receipt: Receipt) -> dict[str, str | bool]:
    """Everything printed on a receipt, as plain strings (the template does no lookups)."""
    return {
        "foundation_name": receipt.foundation_name,
        "foundation_reg_no": receipt.foundation_reg_no,
        "number": receipt.label,
        "check_code": receipt.check_code,
        "issued_on": f"{receipt.issued_on.year}年{receipt.issued_on.month}月{receipt.issued_on.day}日",
        "donation_date": receipt.donation_date.isoformat(),
        "payer_name": receipt.payer_name,
        "payer_id_code": receipt.payer_id_code,
        "amount": money_text(receipt.amount),
        "amount_capital": to_capital(receipt.amount),
        "method": METHOD_WORDS.get(receipt.method, receipt.method),
        "item": receipt.item,
        "in_kind_details": receipt.in_kind_details,
        "issuer": receipt.issuer_name,
        "void": receipt.is_void,
        "void_reason": receipt.void_reason or "",
    }


def render_pdf(values: Sequence[dict]) -> bytes:
    """One PDF with a page per receipt."""
    html = render_template("pdf/receipt.html", receipts=values, font=CJK_FONT)
    root = current_app.static_folder
    document = HTML(string=html, base_url=f"file://{root}/", url_fetcher=StaticOnlyFetcher(root))
    return document.write_pdf()


def receipt_pdf(receipt: Receipt) -> bytes:
    return render_pdf([receipt_values(receipt)])


def receipts_pdf(receipts: Sequence[Receipt]) -> bytes:
    """A year's receipts (void ones included, marked 作废) as one PDF."""
    return render_pdf([receipt_values(receipt) for receipt in receipts])
