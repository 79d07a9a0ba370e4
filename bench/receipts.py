"""Benchmark one receipt PDF: the median render time must stay under 250 ms.

    .venv/bin/python bench/receipts.py              # 30 renders after a warm-up, prints the median
    .venv/bin/python bench/receipts.py --runs 100

Uses a fresh SQLite file (migrated, one donation and its receipt). Exits 1 when the median is over budget.
WeasyPrint needs HarfBuzz's subsetter (Debian libharfbuzz-subset0) to be fast; without it fontTools subsets
the CJK font and one receipt takes about a second. The script says which one is in use.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BUDGET_MS = 250.0


def subsetter() -> str:
    from weasyprint.pdf import fonts

    hb = getattr(fonts, "harfbuzz_subset", None)
    return "HarfBuzz" if hb else "fontTools (slow: apt-get install libharfbuzz-subset0)"


def make_receipt(app):
    from fundapp.dates import local_today
    from fundapp.donations.donors import create_donor
    from fundapp.donations.services import DonationInput, record_donation
    from fundapp.extensions import db
    from fundapp.funds.services import create_fund

    fund = create_fund(db.session, {"code": "LIB", "name": "社区图书馆专项基金", "fund_type": "named",
                                    "restriction": "restricted"}, None)
    donor = create_donor(db.session, {"kind": "organisation", "name": "上海某某科技有限公司",
                                      "id_code": "91350100M000100Y43"}, None)
    data = DonationInput(fund=fund, received_on=local_today(), amount=Decimal("123456.78"), method="bank_transfer",
                         donor=donor, purpose="社区图书室购书及阅读推广活动", reference="BANK-20260105-0001")
    donation = record_donation(db.session, data, None, issue=True)
    db.session.commit()
    return donation.active_receipt


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()

    from fundapp.donations.pdf import receipt_pdf
    from tests.conftest import make_migrated_app

    with tempfile.TemporaryDirectory() as folder:
        app = make_migrated_app(f"sqlite:///{folder}/bench.sqlite3", FOUNDATION_NAME="某某社区基金会",
                                FOUNDATION_REG_NO="53310000MJ0000000X")
        with app.test_request_context():
            receipt = make_receipt(app)
            size = len(receipt_pdf(receipt))  # warm-up: fontconfig, fonts, templates
            timings = []
            for _ in range(args.runs):
                start = time.perf_counter()
                receipt_pdf(receipt)
                timings.append((time.perf_counter() - start) * 1000)
    median = statistics.median(timings)
    print(f"font subsetter: {subsetter()}")
    print(f"receipt PDF: {size} bytes; {args.runs} renders: median {median:.1f} ms, "
          f"min {min(timings):.1f} ms, max {max(timings):.1f} ms (budget {BUDGET_MS:.0f} ms)")
    return 0 if median < BUDGET_MS else 1


if __name__ == "__main__":
    sys.exit(main())
