"""Scratch databases holding a generated ledger, shared by the benchmarks.

    .venv/bin/python bench/ledger_db.py --backend postgresql --lines 1000000 --keep   # build one and keep it

PostgreSQL databases are fundapp_bench_<label> on --pg-server (dropped first, and at the end unless --keep);
SQLite files go to a temporary directory. The ledger is written by fundapp.ledger.bulk.generate_ledger (what
`flask demo generate` runs) in a child process, with one addition on PostgreSQL: ANALYZE each time the ledger
has doubled, and at the end.

Why ANALYZE: this server runs with autovacuum off, so tables are never analysed on their own. Without
statistics the generic plan of the deferred balance trigger's per-fund query (`... WHERE entry_id = $1 GROUP BY
fund_id HAVING sum(amount) <> 0 LIMIT 1`) walks the whole ix_journal_lines_fund_date index for every line
committed, and a 1M-line generation stalls for tens of minutes past 500k lines. A production server with
autovacuum on analyses the tables itself; the benchmark does it explicitly (see bench/README.md).
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa
from common import PG_SERVER, Child, child_env, emit, fmt_lines, run_bench_child, run_child

ANALYZED_TABLES = "journal_entries, journal_lines, period_balances"


@dataclass
class Ledger:
    backend: str
    lines: int
    url: str
    generation: Child | None = None

    @property
    def label(self) -> str:
        return f"{self.backend} {fmt_lines(self.lines)}"


def pg_url(server: str, name: str) -> str:
    return sa.make_url(server).set(database=name).render_as_string(hide_password=False)


def _admin(server: str, statement: str) -> None:
    engine = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(statement))
    engine.dispose()


def empty_pg_database(name: str, server: str = PG_SERVER) -> str:
    """PostgreSQL database `name` dropped (if it was there) and created empty; its URL."""
    _admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    _admin(server, f'CREATE DATABASE "{name}"')
    return pg_url(server, name)


def fresh_database(backend: str, label: str, *, server: str = PG_SERVER, directory: Path) -> str:
    """An empty, migrated database (PostgreSQL fundapp_bench_<label>, or a SQLite file); its URL."""
    name = f"fundapp_bench_{label}"
    if backend == "postgresql":
        url = empty_pg_database(name, server)
    else:
        path = directory / f"{name}.sqlite3"
        path.unlink(missing_ok=True)
        url = f"sqlite:///{path}"
    run_child([sys.executable, "-m", "flask", "db", "upgrade"], env=child_env(DATABASE_URL=url))
    return url


def drop_database(url: str, server: str = PG_SERVER) -> None:
    parsed = sa.make_url(url)
    if parsed.get_backend_name() == "postgresql":
        _admin(server, f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)')
    elif parsed.database:
        Path(parsed.database).unlink(missing_ok=True)


@dataclass
class Ledgers:
    """Generated ledgers by (backend, lines), built on first use and dropped by `close` unless kept."""

    server: str = PG_SERVER
    seed: int = 1
    keep: bool = False
    prefix: str = "run"
    built: dict[tuple[str, int], Ledger] = field(default_factory=dict)
    directory: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="fundapp-bench-")))

    def get(self, backend: str, lines: int) -> Ledger:
        key = (backend, lines)
        if key not in self.built:
            print(f"  building a {fmt_lines(lines)}-line ledger on {backend} ...", flush=True)
            url = fresh_database(backend, f"{self.prefix}_{lines}", server=self.server, directory=self.directory)
            generation = run_bench_child("ledger_db.py", ["--url", url, "--lines", lines, "--seed", self.seed])
            print(f"    {generation.data['lines']:,} lines in {generation.seconds:.0f} s "
                  f"(peak RSS {generation.peak_rss_mb:.0f} MB)", flush=True)
            self.built[key] = Ledger(backend, lines, url, generation)
        return self.built[key]

    def scratch(self, backend: str, label: str) -> str:
        """An empty migrated database for a benchmark that writes (dropped by `close` unless kept)."""
        url = fresh_database(backend, f"{self.prefix}_{label}", server=self.server, directory=self.directory)
        self.built[(backend, -len(self.built) - 1)] = Ledger(backend, 0, url)
        return url

    def close(self) -> None:
        if self.keep:
            for ledger in self.built.values():
                print(f"  kept {ledger.label}: {ledger.url}")
            with contextlib.suppress(OSError):
                self.directory.rmdir()  # only if empty: kept SQLite files stay
            return
        for ledger in self.built.values():
            drop_database(ledger.url, self.server)
        shutil.rmtree(self.directory, ignore_errors=True)


def report_generation(report, ledgers: Ledgers) -> None:
    """The table of the ledgers generated in this run: size, time, peak RSS of the generating process."""
    rows = []
    for ledger in ledgers.built.values():
        if ledger.generation is None:
            continue
        data, seconds = ledger.generation.data, ledger.generation.seconds
        rows.append([ledger.backend, fmt_lines(ledger.lines), f"{data['entries']:,}", f"{seconds:.0f}",
                     f"{data['lines'] / seconds:,.0f}", f"{ledger.generation.peak_rss_mb:.0f}"])
    if rows:
        report.table("Ledgers generated for the run (fundapp.ledger.bulk, plus ANALYZE on PostgreSQL)",
                     ["backend", "lines", "entries", "seconds", "lines/s", "peak RSS MB"], rows)


# --- the child: generate ----------------------------------------------------------------------------------


def generate(url: str, lines: int, seed: int) -> None:
    from common import app_for

    from fundapp.extensions import db
    from fundapp.ledger.bulk import generate_ledger

    app = app_for(url)
    postgres = url.startswith("postgresql")
    analyzed_at = [0]

    def analyze_when_doubled(done) -> None:
        if postgres and done.lines >= 2 * max(analyzed_at[0], 10_000):
            db.session.execute(sa.text(f"ANALYZE {ANALYZED_TABLES}"))
            db.session.commit()
            analyzed_at[0] = done.lines

    with app.app_context():
        started = time.perf_counter()
        result = generate_ledger(db.session, lines, seed=seed, progress=analyze_when_doubled)
        if postgres:
            db.session.execute(sa.text(f"ANALYZE {ANALYZED_TABLES}"))
            db.session.commit()
        emit({"lines": result.lines, "entries": result.entries, "seconds": time.perf_counter() - started,
              "first_date": result.first_date, "last_date": result.last_date, "head": result.head_hash})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--url", help="(child) the database to write into")
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="postgresql")
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--pg-server", default=PG_SERVER)
    parser.add_argument("--keep", action="store_true", help="keep the database (and print its URL)")
    options = parser.parse_args()
    if options.child:
        generate(options.url, options.lines, options.seed)
        return
    ledgers = Ledgers(server=options.pg_server, seed=options.seed, keep=options.keep, prefix="manual")
    try:
        ledgers.get(options.backend, options.lines)
    finally:
        ledgers.close()


if __name__ == "__main__":
    main()
