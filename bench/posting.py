"""Posting throughput through the posting service, hash chain on: entries per second, SQLite and PostgreSQL.

    .venv/bin/python bench/posting.py                         # both databases, single entries and batches
    .venv/bin/python bench/posting.py --backend postgresql --entries 2000 --batch-entries 10000
    .venv/bin/python bench/posting.py --backend postgresql --profile single     # cProfile of the single case

Each case posts into a fresh migrated database with the chart and 20 funds (BULK-001..020), in a child process:
- single: `post_entry(...)` then `commit()`, one entry per transaction (what a form does);
- post_entries 100 / 1000: `post_entries(session, [EntryDraft, ...])` (ORM) then `commit()`, per 100 / 1000;
- post_entry_batch 100 / 1000: `fundapp.ledger.batch.post_entry_batch` (the same checks, chain and balance
  rows, written with COPY / executemany) then `commit()`.
The entries are those of the bulk generator (2-6 lines, 3.3 on average, several funds in some), built before
the clock starts; the time covers validation, the chain-head lock, hashing, inserts, balance-row upserts,
audit events and the commit (with PostgreSQL's deferred balance triggers). The drafts keep their Account and
Fund objects across transactions, so after each commit (which expires them) validation reloads those it
touches: a few primary-key SELECTs per transaction, as a request pays to load the accounts and funds it posts to.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import io
import pstats
import statistics
import time

from common import Report, command_line, emit, fmt_int, fmt_ms, percentile, run_bench_child
from ledger_db import Ledgers

FUNDS = 20


def _drafts(session, count: int, tag: str):
    """`count` EntryDrafts from the bulk generator's entries, dated over about a year up to today."""
    from fundapp.dates import local_today
    from fundapp.ledger.bulk import EntryMaker, ensure_funds, start_date
    from fundapp.ledger.chart import seed_chart
    from fundapp.ledger.models import Account, Fund
    from fundapp.ledger.services import EntryDraft, LineSpec

    seed_chart(session)
    funds = ensure_funds(session, FUNDS)
    session.commit()
    accounts = {account.code: account for account in session.query(Account)}
    by_code = {fund.code: session.get(Fund, fund.id) for fund in funds}
    start = max(start_date(session, 1), local_today() - dt.timedelta(days=365))
    maker = EntryMaker(7, funds, start, 365, count * 4)
    drafts = []
    for draft in maker.drafts():
        lines = [LineSpec(accounts[a], by_code[f], amount, klass) for a, f, klass, amount in draft.lines]
        drafts.append(EntryDraft(effective_date=draft.date, memo=draft.memo, lines=lines,
                                 idempotency_key=f"bench:{tag}:{len(drafts)}", source_type="bench"))
        if len(drafts) == count:
            break
    return drafts


def _poster(service: str):
    from fundapp.ledger.services import post_entries, post_entry

    if service == "post_entry":
        return lambda session, drafts: post_entry(session, **{name: getattr(drafts[0], name)
                                                              for name in drafts[0].__dataclass_fields__})
    if service == "post_entry_batch":
        from fundapp.ledger.batch import post_entry_batch

        return post_entry_batch
    return post_entries


def _post_all(session, drafts, batch: int, service: str) -> list[float]:
    """Post the drafts `batch` at a time through `service`, committing each time; the seconds per transaction."""
    post = _poster(service)
    latencies = []
    for start in range(0, len(drafts), batch):
        began = time.perf_counter()
        post(session, drafts[start:start + batch])
        session.commit()
        latencies.append(time.perf_counter() - began)
    return latencies


def measure(url: str, entries: int, batch: int, service: str, profile: bool) -> dict:
    """(child) Post `entries` entries, `batch` per transaction; entries/s and latency per transaction."""
    from common import app_for
    from sqlalchemy import func, select

    from fundapp.extensions import db
    from fundapp.ledger.models import JournalLine

    app = app_for(url)
    with app.app_context():
        session = db.session
        drafts = _drafts(session, entries, f"{service}:{batch}")
        lines_before = session.scalar(select(func.count()).select_from(JournalLine))
        profiler = cProfile.Profile() if profile else None
        began = time.perf_counter()
        if profiler:
            profiler.enable()
        latencies = _post_all(session, drafts, batch, service)
        if profiler:
            profiler.disable()
        seconds = time.perf_counter() - began
        lines = session.scalar(select(func.count()).select_from(JournalLine)) - lines_before
    result = {"entries": len(drafts), "lines": lines, "seconds": seconds,
              "median_ms": statistics.median(latencies) * 1000, "p99_ms": percentile(latencies, 0.99) * 1000}
    if profiler:
        text = io.StringIO()
        pstats.Stats(profiler, stream=text).sort_stats("cumulative").print_stats(40)
        result["profile"] = text.getvalue()
    return result


CASES = (  # name, entries per transaction, service
    ("single", 1, "post_entry"),
    ("post_entries 100", 100, "post_entries"),
    ("post_entries 1000", 1000, "post_entries"),
    ("post_entry_batch 100", 100, "post_entry_batch"),
    ("post_entry_batch 1000", 1000, "post_entry_batch"),
)


def bench(report: Report, ledgers: Ledgers, backends: list[str], single: int, batched: int) -> list[dict]:
    rows, results = [], []
    for backend in backends:
        for name, batch, service in CASES:
            count = single if batch == 1 else batched
            url = ledgers.scratch(backend, f"posting_{name.replace(' ', '_')}")
            print(f"  posting {count:,} entries on {backend}, {name} ...", flush=True)
            child = run_bench_child("posting.py", ["--url", url, "--entries", count, "--batch", batch,
                                                   "--service", service])
            data = child.data
            rate = data["entries"] / data["seconds"]
            results.append({"backend": backend, "case": name, **data, "rate": rate, "peak_rss_mb": child.peak_rss_mb})
            rows.append([backend, name, f"{data['entries']:,}", f"{data['lines']:,}", f"{data['seconds']:.1f}",
                         fmt_int(rate), fmt_int(data["lines"] / data["seconds"]), f"{1000 / rate:.2f}",
                         fmt_ms(data["median_ms"]), fmt_ms(data["p99_ms"]), f"{child.peak_rss_mb:.0f}"])
    report.table("Posting throughput through the posting service (hash chain on)",
                 ["backend", "per transaction", "entries", "lines", "seconds", "entries/s", "lines/s",
                  "ms/entry", "median ms/txn", "p99 ms/txn", "peak RSS MB"], rows,
                 ["single = `post_entry` + commit per entry; post_entries N = `post_entries` (ORM) of N drafts + "
                  "commit; post_entry_batch N = `fundapp.ledger.batch.post_entry_batch` (COPY) of N drafts + commit.",
                  "Fresh database per case (chart + 20 funds); entries as the bulk generator makes them "
                  "(2-6 lines); audit events written."])
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--batch", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--service", default="post_entry", help=argparse.SUPPRESS)
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--entries", type=int, default=1000, help="entries posted one per transaction")
    parser.add_argument("--batch-entries", type=int, default=5000, help="entries posted in batches")
    parser.add_argument("--profile", choices=[name.replace(" ", "-") for name, _, _ in CASES],
                        help="print a cProfile of one case (e.g. post_entries-100) instead of the table")
    parser.add_argument("--keep", action="store_true", help="keep the databases")
    parser.add_argument("--no-write", action="store_true", help="print only; do not append to bench/results/")
    options = parser.parse_args()
    if options.child:
        emit(measure(options.url, options.entries, options.batch, options.service, options.profile is not None))
        return
    backends = ["sqlite", "postgresql"] if options.backend == "both" else [options.backend]
    ledgers = Ledgers(keep=options.keep, prefix="posting")
    try:
        if options.profile:
            profile(ledgers, backends, options)
            return
        report = Report(write=not options.no_write)
        report.heading("Posting throughput", command_line())
        bench(report, ledgers, backends, options.entries, options.batch_entries)
    finally:
        ledgers.close()


def profile(ledgers: Ledgers, backends: list[str], options: argparse.Namespace) -> None:
    _name, batch, service = next(case for case in CASES if case[0].replace(" ", "-") == options.profile)
    count = options.entries if batch == 1 else options.batch_entries
    for backend in backends:
        url = ledgers.scratch(backend, f"profile_{batch}")
        child = run_bench_child("posting.py", ["--url", url, "--entries", count, "--batch", batch, "--service",
                                               service, "--profile", options.profile])
        data = child.data
        print(f"{backend}, {options.profile}: {data['entries'] / data['seconds']:,.0f} entries/s under cProfile")
        print(data["profile"])


if __name__ == "__main__":
    main()
