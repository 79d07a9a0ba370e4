"""Receipt PDFs: the text layer carries the Chinese name and the 大写 amount in a real CJK font.

Needs Debian's poppler-utils (pdftotext, pdffonts) and fonts-wqy-microhei; .ci/run installs both. Where
they are missing these tests FAIL and say how to install them: a receipt without a CJK font is not a receipt.
"""

from __future__ import annotations

import shutil
import subprocess
from decimal import Decimal

import pytest

from fundapp.donations.pdf import CJK_FONT, StaticOnlyFetcher, receipt_pdf, receipts_pdf
from fundapp.donations.receipts import void_receipt
from fundapp.money import to_capital
from tests.factories import make_fund
from tests.unit.donations.factories import gift, in_kind, make_donor

INSTALL = "sudo apt-get install fonts-wqy-microhei poppler-utils"


def _tools() -> None:
    for tool in ("pdftotext", "pdffonts"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is missing: install it with `{INSTALL}`")


def pdf_text(pdf: bytes, tmp_path) -> str:
    """The PDF's text layer, after checking that its text is set in the CJK font (not a fallback)."""
    path = tmp_path / "receipt.pdf"
    path.write_bytes(pdf)
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
    if CJK_FONT.replace(" ", "-") not in fonts:
        pytest.fail(f"the receipt is not set in the CJK font {CJK_FONT!r} (is it installed?): `{INSTALL}`\n{fonts}")
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout


def test_receipt_text_layer_has_the_chinese_name_and_capital_amount(session, tmp_path):
    _tools()
    fund = make_fund(session, "LIB", name="社区图书馆基金")
    donor = make_donor(session, "欧阳娜娜", id_code="11010519491231002X")
    receipt = gift(session, fund, "12345.67", donor=donor, purpose="购书", issue=True).active_receipt
    text = pdf_text(receipt_pdf(receipt), tmp_path)
    assert "公益事业捐赠票据" in text and "欧阳娜娜" in text
    assert "壹万贰仟叁佰肆拾伍元陆角柒分" in text and "12,345.67" in text
    assert receipt.label in text and receipt.check_code in text and "11010519491231002X" in text
    assert "社区图书馆基金：购书" in text
    assert "作废" not in text


def test_void_receipts_in_a_batch_are_marked_void(session, tmp_path):
    _tools()
    fund, donor = make_fund(session), make_donor(session, "李小龙")
    valid = in_kind(session, fund, "800.00", donor=donor, issue=True).active_receipt
    void = gift(session, fund, "90.00", donor=donor, issue=True).active_receipt
    void_receipt(session, void, "重复开具", None)
    text = pdf_text(receipts_pdf([valid, void]), tmp_path)
    assert text.count("公益事业捐赠票据") == 2
    assert "大米 × 200袋" in text and to_capital(Decimal("800.00")) in text
    assert "作废" in text and "重复开具" in text


def test_fetcher_serves_only_static_files(app, tmp_path):
    fetcher = StaticOnlyFetcher(app.static_folder)
    css = fetcher.fetch(f"file://{app.static_folder}/css/app.css")
    assert css.read().startswith(b"/*")
    outside = tmp_path / "secret.txt"
    outside.write_text("secret")
    for url in (f"file://{outside}", f"file://{app.static_folder}/../../config.py", "http://127.0.0.1/x.png",
                "data:text/plain,hi", f"file://{app.static_folder}/css/missing.css"):
        with pytest.raises(ValueError):
            fetcher.fetch(url)
