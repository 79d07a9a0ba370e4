"""The annual report (fundapp.reports.annual): seconds to gather its content and to render its PDF, separately.

    .venv/bin/python bench/annual_report.py --url postgresql+psycopg://postgres@127.0.0.1:5432/fundapp_bench_x
    .venv/bin/python bench/annual_report.py --backend postgresql --lines 1000000 [--keep]

`--url` reuses a ledger kept by `bench/ledger_db.py --keep` (or any fundapp database); otherwise a ledger of
`--lines` lines is generated first (fundapp.ledger.bulk, what `flask demo generate --lines N` runs; database
fundapp_bench_annual_<lines>, dropped at the end unless `--keep`). The year is the last full calendar year of the
data. Each part runs `--runs` times after one warm-up run, in a fresh session per run; the median and the
maximum are printed, with the number of SQL statements the gathering runs (constant: every read is an aggregate).
The whole task (`fundapp.reports.annual_tasks.generate`: gather + render + store) must stay under 10 s at 1M lines.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def measure(url: str, runs: int) -> dict:
    import sqlalchemy as sa
    from common import app_for
    from sqlalchemy import func, select

    from fundapp.extensions import db
    from fundapp.ledger.models import JournalEntry, JournalLine
    from fundapp.reports.annual import gather, render_pdf
    from fundapp.reports.annual_tasks import generate

    app = app_for(url)
    app.config["ANNUAL_REPORT_DIR"] = tempfile.mkdtemp(prefix="fundapp-annual-bench-")
    out: dict = {}
    with app.app_context(), app.test_request_context():
        session = db.session
        last = session.scalar(select(func.max(JournalEntry.effective_date)))
        year = last.year if (last.month, last.day) == (12, 31) else last.year - 1
        out["lines"] = session.scalar(select(func.count()).select_from(JournalLine))
        out["year_lines"] = session.scalar(select(func.count()).select_from(JournalLine).where(
            JournalLine.effective_date >= dt.date(year, 1, 1), JournalLine.effective_date <= dt.date(year, 12, 31)))
        out["year"] = year
        session.close()
        statements = [0]
        sa.event.listen(db.engine, "before_cursor_execute", lambda *_a: statements.__setitem__(0, statements[0] + 1))
        gathers, renders = [], []
        for run in range(runs + 1):
            statements[0] = 0
            started = time.perf_counter()
            report = gather(session, year)
            gathered = time.perf_counter()
            pdf = render_pdf(report)
            rendered = time.perf_counter()
            session.close()
            if run:
                gathers.append(gathered - started)
                renders.append(rendered - gathered)
            out["statements"], out["pdf_bytes"] = statements[0], len(pdf)
        started = time.perf_counter()
        generate(year)
        out["task"] = time.perf_counter() - started
    out["gather"] = (statistics.median(gathers), max(gathers))
    out["render"] = (statistics.median(renders), max(renders))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="an existing database (skips the generation)")
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="postgresql")
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help="keep the generated database")
    args = parser.parse_args()
    ledgers = None
    url = args.url
    if url is None:
        from ledger_db import Ledgers

        ledgers = Ledgers(prefix="annual", keep=args.keep)
        url = ledgers.get(args.backend, args.lines).url
    try:
        data = measure(url, args.runs)
    finally:
        if ledgers is not None:
            ledgers.close()
    print(f"annual report for {data['year']} on {url.split('/')[-1]} ({data['lines']:,} journal lines, "
          f"{data['year_lines']:,} in the year)")
    print(f"  gather content : median {data['gather'][0]:.3f} s, max {data['gather'][1]:.3f} s "
          f"({data['statements']} SQL statements)")
    print(f"  render PDF     : median {data['render'][0]:.3f} s, max {data['render'][1]:.3f} s "
          f"({data['pdf_bytes'] / 1024:.0f} KB)")
    print(f"  whole task     : {data['task']:.3f} s (gather + render + store), {args.runs} runs after 1 warm-up")


if __name__ == "__main__":
    main()
