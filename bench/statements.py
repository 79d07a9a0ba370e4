"""The three financial statements on a generated ledger: ms per statement, whole foundation and one fund.

    .venv/bin/python bench/statements.py --backend postgresql --sizes 100000 --runs 10 --no-write
    .venv/bin/python bench/statements.py --url postgresql+psycopg://postgres@127.0.0.1:5432/fundapp_bench_x --runs 5

Statements (fundapp.reports.statements), each with its comparison column, as a page computes them: balance sheet
(2 balance reads: the period end and the prior year end), statement of activities (4 balance reads: both ends of
the period and of the same period a year earlier, and a look for year-end closing entries) and cash flows (2
grouped queries over the lines of both ranges plus 4 cash balance reads). Periods: the last full calendar year of
the generated data and its last full month. Each statement runs `--runs` times after two warm-up runs, in a fresh
session per run, in a child process per ledger: median, p99 (of few runs: the maximum) and the child's peak RSS.
`--url` reuses a ledger kept by `bench/ledger_db.py --keep` instead of generating one.
"""

from __future__ import annotations

import argparse
import calendar
import datetime as dt
import time

from common import Report, command_line, emit, fmt_ms, run_bench_child
from ledger_db import Ledgers, report_generation

FUND_CODE = "BULK-001"
WARM_UP = 2
STATEMENTS = ("balance-sheet", "activities", "cash-flows")


def periods(first: dt.date, last: dt.date) -> dict[str, tuple[dt.date, dt.date, str]]:
    """The last full year and the last full month inside the data."""
    year = last.year if last == dt.date(last.year, 12, 31) else last.year - 1
    if year < first.year:
        year = last.year
    month_end = last if last.day == calendar.monthrange(last.year, last.month)[1] else \
        last.replace(day=1) - dt.timedelta(days=1)
    return {"year": (dt.date(year, 1, 1), dt.date(year, 12, 31), "year"),
            "month": (month_end.replace(day=1), month_end, "month")}


def measure(url: str, runs: int) -> dict:
    """(child) Time each statement for each period, for the whole foundation and for one fund."""
    from common import app_for, summary_ms
    from sqlalchemy import func, select

    from fundapp.extensions import db
    from fundapp.ledger.models import Fund, JournalEntry, JournalLine, PeriodBalance
    from fundapp.reports.periods import ReportPeriod
    from fundapp.reports.statements import KINDS

    app = app_for(url)
    figures: dict = {}
    with app.app_context(), app.test_request_context():
        session = db.session
        first = session.scalar(select(func.min(JournalEntry.effective_date)))
        last = session.scalar(select(func.max(JournalEntry.effective_date)))
        facts = {"lines": session.scalar(select(func.count()).select_from(JournalLine)),
                 "balance_rows": session.scalar(select(func.count()).select_from(PeriodBalance)),
                 "first_date": first, "last_date": last}
        fund_id = session.scalar(select(Fund.id).where(Fund.code == FUND_CODE))
        chosen = periods(first, last)
        for label, (start, end, _kind) in chosen.items():
            facts[f"{label}_lines"] = session.scalar(select(func.count()).select_from(JournalLine).where(
                JournalLine.effective_date >= start, JournalLine.effective_date <= end))
        session.close()
        for name in STATEMENTS:
            build = KINDS[name].build
            for label, (start, end, kind) in chosen.items():
                period = ReportPeriod(start, end, kind)
                for scope in ("foundation", "fund"):
                    samples = []
                    for run in range(WARM_UP + runs):
                        started = time.perf_counter()
                        fund = session.get(Fund, fund_id) if scope == "fund" else None
                        statement = build(session, period, fund)
                        elapsed = time.perf_counter() - started
                        assert not statement.problems, statement.problems
                        session.close()
                        if run >= WARM_UP:
                            samples.append(elapsed)
                    figures.setdefault(name, {}).setdefault(label, {})[scope] = {
                        "period": f"{start}..{end}", **summary_ms(samples)}
    return {"facts": facts, "figures": figures}


def bench(report: Report, ledgers: Ledgers | None, url: str | None, backends: list[str], sizes: list[int],
          runs: int) -> None:
    targets = [(None, 0, url)] if url else [(b, s, None) for b in backends for s in sizes]
    rows, facts_rows = [], []
    for backend, lines, target in targets:
        if target is None:
            ledger = ledgers.get(backend, lines)
            target, label = ledger.url, ledger.label
        else:
            label = target.split("/")[-1]
        print(f"  timing statements on {label} ({runs} runs each) ...", flush=True)
        child = run_bench_child("statements.py", ["--url", target, "--runs", runs])
        data = child.data
        for name, by_period in data["figures"].items():
            for period, by_scope in by_period.items():
                for scope, fig in by_scope.items():
                    rows.append([label, name, f"{period} ({fig['period']})", scope, fmt_ms(fig["median"]),
                                 fmt_ms(fig["p99"]), fmt_ms(fig["max"])])
        facts = data["facts"]
        facts_rows.append([label, f"{facts['lines']:,}", f"{facts['balance_rows']:,}", f"{facts['year_lines']:,}",
                           f"{facts['month_lines']:,}", f"{child.peak_rss_mb:.0f}"])
    report.table(f"Financial statements: ms per statement (with its comparison column), {runs} runs after "
                 f"{WARM_UP} warm-up runs", ["ledger", "statement", "period", "scope", "median ms", "p99 ms",
                                             "max ms"], rows,
                 [f"scope fund = {FUND_CODE}; each run uses a fresh session, as a request does.",
                  "cash flows read the lines of the period and of the same period a year earlier (one grouped "
                  "query each); the other statements read only balance rows."])
    report.table("Ledgers and the statements process", ["ledger", "journal lines", "balance rows",
                                                         "lines in the year", "lines in the month", "peak RSS MB"],
                 facts_rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--url", help="time an existing ledger (e.g. one kept by bench/ledger_db.py --keep)")
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="postgresql")
    parser.add_argument("--sizes", default="100000", help="comma-separated line counts to generate")
    parser.add_argument("--runs", type=int, default=10, help="timed runs per statement, period and scope")
    parser.add_argument("--keep", action="store_true", help="keep the generated databases")
    parser.add_argument("--no-write", action="store_true", help="print only; do not append to bench/results/")
    options = parser.parse_args()
    if options.child:
        emit(measure(options.url, options.runs))
        return
    report = Report(write=not options.no_write)
    report.heading("Financial statements", command_line())
    backends = ["sqlite", "postgresql"] if options.backend == "both" else [options.backend]
    ledgers = None if options.url else Ledgers(keep=options.keep, prefix="statements")
    try:
        bench(report, ledgers, options.url, backends, [int(size) for size in options.sizes.split(",")], options.runs)
        if ledgers is not None:
            report_generation(report, ledgers)
    finally:
        if ledgers is not None:
            ledgers.close()


if __name__ == "__main__":
    main()
