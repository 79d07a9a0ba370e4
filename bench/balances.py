"""Balances as of a date at 10k / 100k / 1M lines (and 10M on PostgreSQL with --sizes ...,10000000).

    .venv/bin/python bench/balances.py                          # both databases, 10k, 100k, 1M, 100 runs
    .venv/bin/python bench/balances.py --backend postgresql --sizes 10000000 --runs 50

Three reads, each as of three dates: the trial balance of the whole foundation (`trial_balance`), one fund's
balance (`fund_net_assets` for fund BULK-001) and that fund's statement of activities for the year to the date
(`activity_between` from January 1st, keeping the revenue and expense accounts). Dates: mid-month and month-end
near the end of the generated data, and today (the whole ledger). Each read runs `--runs` times after three
warm-up runs, in a fresh session per run (as a request would), in a child process per ledger: median and p99 ms,
and the child's peak RSS.
"""

from __future__ import annotations

import argparse
import calendar
import datetime as dt
import time

from common import Report, command_line, emit, fmt_lines, fmt_ms, run_bench_child
from ledger_db import Ledgers, report_generation

QUERIES = ("trial balance", "fund balance", "fund activities (YTD)")
FUND_CODE = "BULK-001"
WARM_UP = 3


def as_of_dates(last: dt.date, today: dt.date) -> dict[str, dt.date]:
    """Mid-month and month-end near the end of the data (month rows and day rows both read), and today."""
    year, month = (last.year, last.month - 1) if last.month > 1 else (last.year - 1, 12)
    mid = last.replace(day=15) if last.day >= 15 else dt.date(year, month, 15)
    month_end = dt.date(year, month, calendar.monthrange(year, month)[1])
    return {"mid-month": mid, "month-end": month_end, "today": today}


def _reads(session, fund, flow_accounts: set[int]):
    from fundapp.ledger.queries import activity_between, fund_net_assets, trial_balance

    def activities(as_of: dt.date):
        moves = activity_between(session, dt.date(as_of.year, 1, 1), as_of, fund_ids=[fund.id])
        return {key: value for key, value in moves.items() if key[0] in flow_accounts}

    return {
        "trial balance": lambda as_of: trial_balance(session, as_of),
        "fund balance": lambda as_of: fund_net_assets(session, as_of, fund_ids=[fund.id]),
        "fund activities (YTD)": activities,
    }


def measure(url: str, runs: int, only: list[str] | None) -> dict:
    """(child) Time each read as of each date; the figures and some facts about the ledger."""
    from common import app_for, summary_ms
    from sqlalchemy import func, select

    from fundapp.dates import local_today
    from fundapp.extensions import db
    from fundapp.ledger.models import Account, AccountType, Fund, JournalEntry, JournalLine, PeriodBalance

    app = app_for(url)
    with app.app_context():
        session = db.session
        last = session.scalar(select(func.max(JournalEntry.effective_date)))
        facts = {"lines": session.scalar(select(func.count()).select_from(JournalLine)),
                 "balance_rows": session.scalar(select(func.count()).select_from(PeriodBalance)),
                 "last_date": last}
        fund = session.scalar(select(Fund).where(Fund.code == FUND_CODE))
        flow_types = [AccountType.revenue.value, AccountType.expense.value]
        flow_accounts = set(session.scalars(select(Account.id).where(Account.type.in_(flow_types))))
        dates = as_of_dates(last, local_today())
        session.close()
        figures: dict = {}
        for name, read in _reads(session, fund, flow_accounts).items():
            if only and name not in only:
                continue
            for label, as_of in dates.items():
                samples = []
                for run in range(WARM_UP + runs):
                    started = time.perf_counter()
                    read(as_of)
                    elapsed = time.perf_counter() - started
                    session.close()  # a fresh session (and pooled connection) per run, as per request
                    if run >= WARM_UP:
                        samples.append(elapsed)
                figures.setdefault(name, {})[label] = {"as_of": as_of, **summary_ms(samples)}
        return {"facts": facts, "figures": figures}


def run_one(url: str, runs: int, only: list[str] | None = None):
    args = ["--url", url, "--runs", runs] + (["--only", ",".join(only)] if only else [])
    return run_bench_child("balances.py", args)


def bench(report: Report, ledgers: Ledgers, backends: list[str], sizes: list[int], runs: int) -> list[dict]:
    rows, memory, results = [], [], []
    for backend in backends:
        for lines in sizes:
            if lines > 1_000_000 and backend != "postgresql":
                continue
            ledger = ledgers.get(backend, lines)
            print(f"  timing reads on {ledger.label} ({runs} runs each) ...", flush=True)
            child = run_one(ledger.url, runs)
            data = child.data
            results.append({"backend": backend, "lines": lines, **data, "peak_rss_mb": child.peak_rss_mb})
            for name, by_date in data["figures"].items():
                for label, fig in by_date.items():
                    rows.append([backend, fmt_lines(lines), name, f"{label} ({fig['as_of']})", fmt_ms(fig["median"]),
                                 fmt_ms(fig["p99"]), fmt_ms(fig["max"])])
            facts = data["facts"]
            memory.append([backend, fmt_lines(lines), f"{facts['lines']:,}", f"{facts['balance_rows']:,}",
                           f"{child.peak_rss_mb:.0f}"])
    report.table(f"Balances as of a date: ms per read, {runs} runs each after {WARM_UP} warm-up runs",
                 ["backend", "lines", "read", "as of", "median ms", "p99 ms", "max ms"], rows,
                 ["trial balance = `trial_balance(session, as_of)`; fund balance = `fund_net_assets(session, as_of, "
                  f"fund_ids=[{FUND_CODE}])`; fund activities = `activity_between(session, Jan 1st, as_of, "
                  f"fund_ids=[{FUND_CODE}])` restricted to revenue and expense accounts.",
                  "Each run uses a fresh session (pooled connection, pre-ping), as a request does."])
    report.table("Memory of the process running the reads (peak RSS)",
                 ["backend", "ledger", "journal lines", "balance rows", "peak RSS MB"], memory)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--only", help=argparse.SUPPRESS)
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--sizes", default="10000,100000,1000000", help="comma-separated line counts")
    parser.add_argument("--runs", type=int, default=100, help="timed runs per read and date (at least 50)")
    parser.add_argument("--keep", action="store_true", help="keep the generated databases")
    parser.add_argument("--no-write", action="store_true", help="print only; do not append to bench/results/")
    options = parser.parse_args()
    if options.child:
        emit(measure(options.url, options.runs, options.only.split(",") if options.only else None))
        return
    report = Report(write=not options.no_write)
    report.heading("Balances as of a date", command_line())
    backends = ["sqlite", "postgresql"] if options.backend == "both" else [options.backend]
    ledgers = Ledgers(keep=options.keep, prefix="balances")
    try:
        bench(report, ledgers, backends, [int(size) for size in options.sizes.split(",")], options.runs)
        report_generation(report, ledgers)
    finally:
        ledgers.close()


if __name__ == "__main__":
    main()
