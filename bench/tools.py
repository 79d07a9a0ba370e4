"""Side by side on one 1M-line ledger: our trial balance vs ledger-cli, hledger and beancount on the export.

    .venv/bin/python bench/tools.py                       # builds a 1M-line PostgreSQL ledger, drops it after
    .venv/bin/python bench/tools.py --lines 100000        # smaller, quicker
    .venv/bin/python bench/tools.py --url postgresql+psycopg://postgres@127.0.0.1:5432/fundapp_bench_x

In one run, on the same data:
- export: `flask ledger export --format beancount|hledger FILE` (time and peak RSS of that process);
- ours: the trial balance as of today in a fresh process: the first query (cold: connection, statement cache),
  the median of 50 more, and the whole process (Python start, imports, app, query);
- `ledger -f FILE.journal balance --flat --end TOMORROW`, `hledger -f FILE.journal balance --flat -e TOMORROW`
  (LC_ALL=C.UTF-8) and beancount's `loader.load_file` + `realization.realize` in a child Python process:
  their time includes parsing the file, which is how they always work.
Ratios are their wall time over our median query time (and over our whole cold process, for fairness).
Peak memory is each process's own maximum RSS (os.wait4), ours included.
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import sys
import tempfile
import time
from pathlib import Path

from common import Child, Report, child_env, command_line, emit, fmt_ms, run_bench_child, run_child
from ledger_db import Ledger, Ledgers, report_generation

OUR_RUNS = 50
BEANCOUNT = """
import sys, time
started = time.perf_counter()
from beancount import loader
from beancount.core import realization
entries, errors, options = loader.load_file(sys.argv[1])
real = realization.realize(entries)
print(f"{len(entries)} directives, {len(errors)} errors, {len(list(realization.iter_children(real)))} accounts,",
      f"{time.perf_counter() - started:.1f} s in the interpreter")
sys.exit(1 if errors else 0)
"""


def ours_child(url: str, runs: int) -> dict:
    """(child) The trial balance as of today: first (cold) and then `runs` more, in this fresh process."""
    began = time.perf_counter()
    from common import app_for, summary_ms

    from fundapp.dates import local_today
    from fundapp.extensions import db
    from fundapp.ledger.queries import trial_balance

    app = app_for(url)
    with app.app_context():
        today = local_today()
        started = time.perf_counter()
        first = trial_balance(db.session, today)
        cold = time.perf_counter() - started
        db.session.close()
        samples = []
        for _ in range(runs):
            started = time.perf_counter()
            trial_balance(db.session, today)
            samples.append(time.perf_counter() - started)
            db.session.close()
    return {"cold_ms": cold * 1000, **summary_ms(samples), "accounts": len(first.rows),
            "process_s": time.perf_counter() - began}


def _tomorrow() -> str:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from fundapp.dates import local_today

    return (local_today() + dt.timedelta(days=1)).isoformat()


def export(url: str, fmt: str, path: Path) -> Child:
    return run_child([sys.executable, "-m", "flask", "ledger", "export", "--format", fmt, str(path)],
                     env=child_env(DATABASE_URL=url))


def tools(journal: Path, beancount: Path) -> list[tuple[str, list[str]]]:
    tomorrow = _tomorrow()
    found = []
    if shutil.which("ledger"):
        found.append(("ledger-cli", ["ledger", "-f", str(journal), "balance", "--flat", "--end", tomorrow]))
    if shutil.which("hledger"):
        found.append(("hledger", ["hledger", "-f", str(journal), "balance", "--flat", "-e", tomorrow]))
    found.append(("beancount", [sys.executable, "-c", BEANCOUNT, str(beancount)]))
    return found


def _version(args: list[str]) -> str:
    """'ledger-cli 3.3.0-20230208' from 'Ledger 3.3.0-20230208, the command-line ...', 'hledger 1.25' likewise."""
    done = run_child(args, check=False)
    first = done.output.splitlines()[0] if done.output else "?"
    name = "ledger-cli" if args[0] == "ledger" else args[0]
    version = first.split(",")[0].split()[-1]
    return f"{name} {version}"


def versions() -> dict[str, str]:
    import beancount

    out = {"beancount": f"beancount {beancount.__version__}"}
    if shutil.which("ledger"):
        out["ledger-cli"] = _version(["ledger", "--version"])
    if shutil.which("hledger"):
        out["hledger"] = _version(["hledger", "--version"])
    return out


def bench(report: Report, ledger: Ledger, scratch: Path) -> dict:
    journal, beancount = scratch / "ledger.journal", scratch / "ledger.beancount"
    rows: list[list[str]] = []
    exports = {}
    for fmt, path in (("beancount", beancount), ("hledger", journal)):
        print(f"  exporting {ledger.label} as {fmt} ...", flush=True)
        exports[fmt] = done = export(ledger.url, fmt, path)
        size = path.stat().st_size / 2**20
        rows.append([f"export: `flask ledger export --format {fmt}` ({size:.0f} MB)", f"{done.seconds:.1f} s", "",
                     "", f"{done.peak_rss_mb:.0f}"])
    print("  our trial balance in a fresh process ...", flush=True)
    ours = run_bench_child("tools.py", ["--url", ledger.url, "--runs", OUR_RUNS])
    figures = ours.data
    rows.append([f"ours: trial balance, median of {OUR_RUNS} (p99 {fmt_ms(figures['p99'])} ms)",
                 f"{fmt_ms(figures['median'])} ms", "1", "1", f"{ours.peak_rss_mb:.0f}"])
    rows.append(["ours: first query in a fresh process", f"{fmt_ms(figures['cold_ms'])} ms", "", "", ""])
    rows.append(["ours: whole process (start, imports, app, 51 queries)", f"{ours.seconds:.2f} s", "", "", ""])
    results = {"ours": figures | {"peak_rss_mb": ours.peak_rss_mb, "process_s": ours.seconds},
               "exports": {fmt: {"seconds": c.seconds, "peak_rss_mb": c.peak_rss_mb} for fmt, c in exports.items()}}
    names = versions()
    for name, args in tools(journal, beancount):
        print(f"  {name} ...", flush=True)
        done = run_child(args, env=child_env(), stdout_to=scratch / f"{name}.out", check=False)
        ok = done_ok(name, done, scratch)
        seconds = done.seconds
        rows.append([f"{names.get(name, name)}: balance{'' if ok else ' (FAILED)'}", f"{seconds:.1f} s",
                     f"{seconds * 1000 / figures['median']:,.0f}", f"{seconds / ours.seconds:,.1f}",
                     f"{done.peak_rss_mb:.0f}"])
        results[name] = {"seconds": seconds, "peak_rss_mb": done.peak_rss_mb, "ok": ok}
    report.table(f"Side by side on {ledger.label} lines ({ledger.backend}): balance of every account",
                 ["what", "time", "× our median query", "× our whole process", "peak RSS MB"], rows,
                 ["Their time includes reading and parsing the exported file (that is how they work); ours is the "
                  "query on the period balance rows, in a process that is already running, and also the whole "
                  "cold process.", "ledger-cli and hledger read the hledger export; beancount its own export "
                  "(loader.load_file + realization.realize, run as a child Python process)."])
    return results


def done_ok(name: str, done: Child, scratch: Path) -> bool:
    if done.output.strip():
        print("    " + done.output.strip().replace("\n", "\n    "))
    if done.returncode == 0:
        return True
    print(f"    {name} failed; its output is in {scratch}", file=sys.stderr)
    return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--runs", type=int, default=OUR_RUNS, help=argparse.SUPPRESS)
    parser.add_argument("--url", help="use this database (a generated ledger) instead of building one")
    parser.add_argument("--lines", type=int, default=1_000_000, help="ledger size to build (default 1M)")
    parser.add_argument("--keep", action="store_true", help="keep the database and the exported files")
    parser.add_argument("--no-write", action="store_true", help="print only; do not append to bench/results/")
    options = parser.parse_args()
    if options.child:
        emit(ours_child(options.url, options.runs))
        return
    report = Report(write=not options.no_write)
    report.heading("Side by side with ledger-cli, hledger and beancount", command_line())
    ledgers = Ledgers(keep=options.keep, prefix="tools")
    scratch = Path(tempfile.mkdtemp(prefix="fundapp-bench-tools-"))
    try:
        ledger = Ledger("postgresql", 0, options.url) if options.url else ledgers.get("postgresql", options.lines)
        if options.url:
            ledger.lines = count_lines(options.url)
        bench(report, ledger, scratch)
        report_generation(report, ledgers)
    finally:
        ledgers.close()
        if options.keep:
            print(f"  kept the exported files in {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)


def count_lines(url: str) -> int:
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    with engine.connect() as conn:
        count = conn.execute(sa.text("SELECT count(*) FROM journal_lines")).scalar_one()
    engine.dispose()
    return count


if __name__ == "__main__":
    main()
