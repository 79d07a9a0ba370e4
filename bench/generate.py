"""Benchmark the bulk ledger generator: fresh database, migrate, `flask demo generate`, `flask ledger verify`.

    .venv/bin/python bench/generate.py                       # SQLite and PostgreSQL, 10k / 100k / 1M lines
    .venv/bin/python bench/generate.py --backend sqlite --sizes 10000,100000
    .venv/bin/python bench/generate.py --backend postgresql --without-triggers   # what the triggers cost

Each step runs in its own process, so the peak RSS reported is that step's alone. PostgreSQL databases are
named fundapp_bench_<lines> on --pg-server and dropped first; SQLite files go to --dir. `--keep` leaves them.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
PG_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
TRIGGER_TABLES = ("journal_entries", "journal_lines")


@dataclass
class Step:
    seconds: float
    peak_rss_mb: float
    output: str


@dataclass
class Row:
    backend: str
    lines: int
    generate: Step
    verify: Step | None
    size_mb: float

    def figure(self, label: str) -> str:
        match = re.search(rf"{label} ([\d.]+) s", self.generate.output)
        return match.group(1) if match else "?"


def run(args: list[str], url: str) -> Step:
    """Run `flask <args>` against `url`; wall time and the child's own peak RSS (via wait4)."""
    env = {**os.environ, "DATABASE_URL": url, "FLASK_APP": "fundapp"}
    started = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-m", "flask", *args], cwd=ROOT, env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output = child.stdout.read()
    _pid, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - started
    if child.returncode != 0:
        sys.exit(f"flask {' '.join(args)} failed ({child.returncode}):\n{output}")
    return Step(seconds, usage.ru_maxrss / 1024, output)


def fresh_postgres(server: str, name: str) -> str:
    engine = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return sa.make_url(server).set(database=name).render_as_string(hide_password=False)


def drop_postgres(server: str, name: str) -> None:
    engine = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


def disable_triggers(url: str) -> None:
    """Measurement only: switch off the ledger's insert and commit triggers in a scratch database."""
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        for table in TRIGGER_TABLES:
            conn.execute(sa.text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))
    engine.dispose()


def database_size_mb(url: str) -> float:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            size = conn.execute(sa.text("SELECT pg_database_size(current_database())")).scalar_one()
        else:
            size = Path(engine.url.database).stat().st_size
    engine.dispose()
    return size / 2**20


def bench_one(backend: str, lines: int, options: argparse.Namespace) -> Row:
    name = f"fundapp_bench_{lines}"
    if backend == "postgresql":
        url = fresh_postgres(options.pg_server, name)
    else:
        path = Path(options.dir) / f"{name}.sqlite3"
        path.unlink(missing_ok=True)
        url = f"sqlite:///{path}"
    run(["db", "upgrade"], url)
    if options.without_triggers and backend == "postgresql":
        disable_triggers(url)
    print(f"--- {backend}: {lines:,} lines", flush=True)
    generate = run(["demo", "generate", "--lines", str(lines), "--seed", str(options.seed)], url)
    print(generate.output.rstrip(), flush=True)
    verify = None if options.no_verify else run(["ledger", "verify"], url)
    if verify is not None:
        print(verify.output.rstrip(), flush=True)
    row = Row(backend, lines, generate, verify, database_size_mb(url))
    if not options.keep:
        if backend == "postgresql":
            drop_postgres(options.pg_server, name)
        else:
            Path(options.dir, f"{name}.sqlite3").unlink(missing_ok=True)
    return row


def print_table(rows: list[Row]) -> None:
    print()
    print(f"{'backend':<11} {'lines':>10} {'seconds':>8} {'lines/s':>9} {'peak RSS':>9} {'insert s':>9} "
          f"{'commit s':>9} {'verify s':>9} {'verify RSS':>10} {'db MB':>7}")
    commit_label = r"commit \(deferred checks\)"
    for row in rows:
        verify_s = f"{row.verify.seconds:.1f}" if row.verify else "-"
        verify_rss = f"{row.verify.peak_rss_mb:.0f} MB" if row.verify else "-"
        print(f"{row.backend:<11} {row.lines:>10,} {row.generate.seconds:>8.1f} "
              f"{row.lines / row.generate.seconds:>9,.0f} {row.generate.peak_rss_mb:>6.0f} MB "
              f"{row.figure('insert'):>9} {row.figure(commit_label):>9} {verify_s:>9} "
              f"{verify_rss:>10} {row.size_mb:>7.0f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--sizes", default="10000,100000,1000000", help="comma-separated line counts")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--pg-server", default=PG_SERVER, help="URL of a database on the server (for CREATE)")
    parser.add_argument("--dir", default=None, help="directory for SQLite files (default: a temporary one)")
    parser.add_argument("--keep", action="store_true", help="keep the databases afterwards")
    parser.add_argument("--no-verify", action="store_true", help="skip `flask ledger verify`")
    parser.add_argument("--without-triggers", action="store_true",
                        help="PostgreSQL: disable the ledger triggers in the scratch databases to measure their cost")
    options = parser.parse_args()
    scratch = None
    if options.dir is None:
        scratch = options.dir = tempfile.mkdtemp(prefix="fundapp-bench-")
    backends = ("sqlite", "postgresql") if options.backend == "both" else (options.backend,)
    sizes = [int(size) for size in options.sizes.split(",")]
    try:
        rows = [bench_one(backend, size, options) for backend in backends for size in sizes]
    finally:
        if scratch and not options.keep:
            shutil.rmtree(scratch, ignore_errors=True)
    print_table(rows)


if __name__ == "__main__":
    main()
