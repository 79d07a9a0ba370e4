"""All the ledger benchmarks in one run (`make bench`): posting, balances as of a date, side by side with the
plain-text accounting tools, and memory. Figures are printed and appended to bench/results/<date>.md.

    make bench                                                       # about 10 minutes on 2 cores
    .venv/bin/python bench/run_all.py --with-10m                     # also 10M lines on PostgreSQL (+10 min)
    .venv/bin/python bench/run_all.py --quick                        # 10k and 100k only, fewer runs: a smoke test
    .venv/bin/python bench/run_all.py --only posting,balances --keep

Each part also runs alone: bench/posting.py, bench/balances.py, bench/tools.py (see their --help). Ledgers are
generated once per (database, size) into scratch databases fundapp_bench_all_<lines> (PostgreSQL) and SQLite
files, shared by the parts, and dropped at the end unless --keep.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import balances
import posting
from common import PG_SERVER, Report, command_line, load
from ledger_db import Ledgers, report_generation

import tools

PARTS = ("posting", "balances", "tools")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", default=",".join(PARTS), help=f"comma-separated parts: {', '.join(PARTS)}")
    parser.add_argument("--sizes", default="10000,100000,1000000", help="ledger sizes for the balance reads")
    parser.add_argument("--with-10m", action="store_true", help="add 10M lines on PostgreSQL (about 10 minutes)")
    parser.add_argument("--runs", type=int, default=100, help="timed runs per read and date (at least 50)")
    parser.add_argument("--entries", type=int, default=1000, help="entries posted one per transaction")
    parser.add_argument("--batch-entries", type=int, default=5000, help="entries posted in batches")
    parser.add_argument("--tools-lines", type=int, default=1_000_000, help="ledger size for the side by side")
    parser.add_argument("--quick", action="store_true", help="10k/100k, 50 runs, 100k side by side: a smoke test")
    parser.add_argument("--pg-server", default=PG_SERVER, help="URL of a database on the server (for CREATE)")
    parser.add_argument("--keep", action="store_true", help="keep the generated databases")
    parser.add_argument("--no-write", action="store_true", help="print only; do not append to bench/results/")
    options = parser.parse_args()
    if options.quick:
        options.sizes, options.runs, options.tools_lines = "10000,100000", 50, 100_000
        options.entries, options.batch_entries = 200, 2000
    parts = [part.strip() for part in options.only.split(",") if part.strip()]
    unknown = set(parts) - set(PARTS)
    if unknown:
        parser.error(f"unknown part(s): {', '.join(sorted(unknown))}")
    sizes = [int(size) for size in options.sizes.split(",")]
    if options.with_10m:
        sizes.append(10_000_000)

    report = Report(write=not options.no_write)
    report.heading("Ledger benchmarks (bench/run_all.py)", command_line())
    ledgers = Ledgers(server=options.pg_server, keep=options.keep, prefix="all")
    began = time.perf_counter()
    try:
        if "posting" in parts:
            posting.bench(report, ledgers, ["sqlite", "postgresql"], options.entries, options.batch_entries)
        if "balances" in parts:
            balances.bench(report, ledgers, ["sqlite", "postgresql"], sizes, options.runs)
        if "tools" in parts:
            with tempfile.TemporaryDirectory(prefix="fundapp-bench-tools-") as scratch:
                tools.bench(report, ledgers.get("postgresql", options.tools_lines), Path(scratch))
        report_generation(report, ledgers)
    finally:
        ledgers.close()
    report.table("Run", ["what", "value"], [["wall time", f"{(time.perf_counter() - began) / 60:.1f} min"],
                                             ["at the end", load()]])


if __name__ == "__main__":
    main()
