"""The public pages under load: requests per second and latency of the home page, a fund page and the ledger head
API, served by gunicorn from a PostgreSQL database of 10k and of 1M journal lines (issue 8).

    .venv/bin/python bench/public_pages.py                     # 10k and 1M lines, 15 s per page (1M: +2-13 min build)
    .venv/bin/python bench/public_pages.py --quick             # 2k and 20k lines, 3 s per page: a 1-minute smoke test
    .venv/bin/python bench/public_pages.py --compare-servers   # also try sync / gthread, 2 / 4 workers first
    .venv/bin/python bench/public_pages.py --url postgresql+psycopg://postgres@127.0.0.1:5432/fundapp_bench_public_1000000

For each size: a database fundapp_bench_public_<lines> (dropped first, and at the end unless --keep) gets the
bulk ledger (fundapp.ledger.bulk, what `flask demo generate --lines N` runs; funds BULK-001.., all public) and
then the demo foundation (`flask demo load`: public and hidden funds, donations, grants, a year of entries), and
ANALYZE. Then:

- uncached render: each page through the Flask test client in a child process with the page cache off
  (PUBLIC_CACHE_SIZE=0), the time of the whole request and its number of SQL statements; this is what a
  visitor waits for on the first request after the data changed, and what must not grow with the ledger;
- gunicorn (`FUNDAPP_ENV=production`, a random SECRET_KEY, access log off; by default 2 gthread workers of 4
  threads each, which keep connections alive: 1.6-4.6x the requests/s of sync workers here, see
  `--compare-servers`) on a free port; each page is warmed
  up (every worker fills its own cache), then `wrk --latency` runs against it and its requests/s and latency
  percentiles are printed (a Lua `done` hook prints them exactly; any non-2xx answer or socket error fails the
  run);
- first request after a data change, over HTTP: an audit event is inserted (which changes the cache key of every
  page), then the page is fetched once; several samples, median and maximum.

A bare Flask page rendering a 50-row template (`baseline_app`) runs under the same gunicorn and wrk settings
first: the machine's ceiling, to read the other figures against. wrk runs on the same machine and takes part of
its CPUs, as in the issue's setting. Figures are printed and appended to bench/results/<date>.md.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (  # noqa: E402
    BENCH,
    PG_SERVER,
    ROOT,
    Report,
    child_env,
    command_line,
    emit,
    fmt_lines,
    fmt_ms,
    load,
    run_bench_child,
    run_child,
)

GUNICORN = ROOT / ".venv" / "bin" / "gunicorn"
APP_SPEC = "fundapp:create_app()"
BASELINE_SPEC = "public_pages:baseline_app()"
LEDGER_HEAD = "/api/v1/ledger/head"
START_TIMEOUT = 180  # seconds for gunicorn to answer (a busy shared machine imports slowly)
WRK_MARK = "WRK-JSON "
ANALYZED = "ANALYZE"  # every table: the demo data adds donations, grants and audit events next to the ledger
DATA_CHANGE_SQL = ("INSERT INTO audit_events (created_at, tag, subject_type, subject_id) "
                   "VALUES (now(), 'bench.data_change', 'bench', NULL)")

# wrk's `done` hook: the exact figures as one JSON line (latencies in microseconds).
WRK_SCRIPT = r"""
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK-JSON {"requests": %d, "duration_us": %d, "bytes": %d, "connect": %d, "read": %d, "write": %d, ' ..
    '"status": %d, "timeout": %d, "p50": %d, "p90": %d, "p99": %d, "max": %d, "mean": %.1f}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
end
"""

BASELINE_TEMPLATE = """<!doctype html><html><head><title>{{ title }}</title></head><body><h1>{{ title }}</h1>
<table>{% for row in rows %}<tr><td>{{ row.0 }}</td><td>{{ row.1 }}</td><td>{{ row.2 }}</td></tr>{% endfor %}
</table></body></html>"""


# --- pure helpers (tested in tests/unit/test_bench_public_pages.py) ------------------------------------------


@dataclass(frozen=True)
class WrkResult:
    """One wrk run: throughput and latency percentiles (milliseconds)."""

    requests: int
    seconds: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    errors: int  # socket errors (connect, read, write, timeout) plus non-2xx/3xx answers
    bytes: int = 0
    error_detail: str = ""  # e.g. "timeout 2" when there are errors
    timeouts: int = 0  # requests wrk gave up on after 2 s (counted in errors too)

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def parse_wrk(output: str) -> WrkResult:
    """The figures of a wrk run from its output: the `WRK-JSON` line of the `done` hook (WRK_SCRIPT)."""
    for line in output.splitlines():
        if line.startswith(WRK_MARK):
            data = json.loads(line[len(WRK_MARK):])
            kinds = ("connect", "read", "write", "status", "timeout")
            errors = sum(data[key] for key in kinds)
            detail = ", ".join(f"{key} {data[key]}" for key in kinds if data[key])
            return WrkResult(requests=data["requests"], seconds=data["duration_us"] / 1e6, p50_ms=data["p50"] / 1000,
                             p90_ms=data["p90"] / 1000, p99_ms=data["p99"] / 1000, max_ms=data["max"] / 1000,
                             errors=errors, bytes=data["bytes"], error_detail=detail,
                             timeouts=data["timeout"])
    raise ValueError(f"no {WRK_MARK.strip()} line in the wrk output:\n{output[-2000:]}")


_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def parse_wrk_text(output: str) -> WrkResult:
    """The same figures from wrk's own `--latency` text, for a wrk run without the Lua hook (less precise)."""

    def duration(label: str) -> float:
        match = re.search(rf"^\s*{label}\s+([\d.]+)(us|ms|s|m)\s*$", output, re.MULTILINE)
        if match is None:
            raise ValueError(f"no {label} latency in the wrk output")
        return float(match.group(1)) * _UNITS_MS[match.group(2)]

    total = re.search(r"^\s*(\d+) requests in ([\d.]+)(us|ms|s|m)", output, re.MULTILINE)
    if total is None:
        raise ValueError("no request count in the wrk output")
    errors = 0
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    if socket_errors:
        errors += sum(int(n) for n in socket_errors.groups())
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if non_2xx:
        errors += int(non_2xx.group(1))
    maximum = re.search(r"^\s*Latency\s+\S+\s+\S+\s+([\d.]+)(us|ms|s|m)", output, re.MULTILINE)
    return WrkResult(requests=int(total.group(1)), seconds=float(total.group(2)) * _UNITS_MS[total.group(3)] / 1000,
                     p50_ms=duration("50%"), p90_ms=duration("90%"), p99_ms=duration("99%"),
                     max_ms=float(maximum.group(1)) * _UNITS_MS[maximum.group(2)] if maximum else 0.0,
                     errors=errors)


def verdict(result: WrkResult, min_rps: float, max_p99_ms: float) -> str:
    """'met' or what is missed, against the issue's target (requests/s at least, p99 under)."""
    misses = []
    if result.rps < min_rps:
        misses.append(f"{result.rps:,.0f} < {min_rps:,.0f} req/s")
    if result.p99_ms >= max_p99_ms:
        misses.append(f"p99 {fmt_ms(result.p99_ms)} ≥ {max_p99_ms:g} ms")
    return "met" if not misses else "missed: " + ", ".join(misses)


# --- the baseline: a bare Flask page (gunicorn imports this module with --pythonpath bench) -------------------


def baseline_app():
    """A bare Flask app whose only page renders a 50-row template (compiled once, as a template file is)."""
    from flask import Flask, render_template
    from jinja2 import DictLoader

    app = Flask("baseline")
    app.jinja_loader = DictLoader({"page.html": BASELINE_TEMPLATE})
    rows = [(n, f"row {n}", f"{n * 1234.5:,.2f}") for n in range(50)]

    @app.get("/")
    def page():
        return render_template("page.html", title="baseline", rows=rows)

    return app


# --- databases --------------------------------------------------------------------------------------------


def prepare(ledgers, lines: int) -> str:
    """A database with `lines` generated journal lines plus the demo foundation, analysed; its URL."""
    url = ledgers.get("postgresql", lines).url
    started = time.perf_counter()
    run_child([sys.executable, "-m", "flask", "demo", "load"], env=child_env(DATABASE_URL=url))
    sql(url, ANALYZED)
    print(f"    demo foundation loaded and analysed in {time.perf_counter() - started:.0f} s", flush=True)
    return url


def sql(url: str, statement: str):
    import sqlalchemy as sa

    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            result = conn.execute(sa.text(statement))
            return result.all() if result.returns_rows else None
    finally:
        engine.dispose()


def describe(url: str) -> dict:
    """Journal lines and entries in the database, and the public funds to put under load."""
    (lines, entries), = sql(url, "SELECT (SELECT count(*) FROM journal_lines), (SELECT count(*) FROM journal_entries)")
    public = [code for (code,) in sql(url, "SELECT code FROM funds WHERE is_public ORDER BY code")]
    return {"lines": lines, "entries": entries, "public_funds": public}


def pages_for(funds: list[str], wanted: list[str]) -> list[tuple[str, str]]:
    """(label, path) of the pages to measure: the home page, the fund page of each wanted public fund, the API."""
    pages = [("home", "/public/")]
    for code in wanted:
        if code in funds:
            pages.append((f"fund {code}", f"/public/funds/{code}"))
        else:
            print(f"    note: fund {code} is not a public fund of this database; skipped", flush=True)
    pages.append(("ledger head API", LEDGER_HEAD))
    return pages


# --- gunicorn and wrk -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Server:
    workers: int = 2
    worker_class: str = "sync"
    threads: int = 1

    @property
    def label(self) -> str:
        if self.worker_class == "gthread":
            return f"gthread -w {self.workers} --threads {self.threads}"
        return f"{self.worker_class} -w {self.workers}"

    @classmethod
    def parse(cls, text: str) -> Server:
        """'sync:2' or 'gthread:2:4' (class:workers[:threads])."""
        parts = text.split(":")
        if parts[0] not in ("sync", "gthread") or len(parts) not in (2, 3):
            raise argparse.ArgumentTypeError(f"bad server '{text}' (use sync:2 or gthread:2:4)")
        return cls(int(parts[1]), parts[0], int(parts[2]) if len(parts) == 3 else 1)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fetch(url: str, timeout: float = 30.0) -> tuple[int, float]:
    """GET `url`: (status, seconds)."""
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            response.read()
            status = response.status
    except urllib.error.HTTPError as error:
        status = error.code
    return status, time.perf_counter() - started


@dataclass(frozen=True)
class Running:
    base: str  # http://127.0.0.1:<port>
    pid: int  # the gunicorn master


@contextlib.contextmanager
def gunicorn(spec: str, server: Server, database_url: str | None) -> Iterator[Running]:
    """gunicorn serving `spec` on a free port until the block ends."""
    port = free_port()
    args = [str(GUNICORN), "--workers", str(server.workers), "--worker-class", server.worker_class,
            "--bind", f"127.0.0.1:{port}", "--log-level", "warning", "--pythonpath", str(BENCH)]
    if server.worker_class == "gthread":
        args += ["--threads", str(server.threads)]
    extra = {"FUNDAPP_ENV": "production", "SECRET_KEY": secrets.token_hex(32), "SESSION_COOKIE_SECURE": "0"}
    if database_url:
        extra["DATABASE_URL"] = database_url
    log = tempfile.NamedTemporaryFile("w+", prefix="fundapp-bench-gunicorn-", suffix=".log", delete=False)  # noqa: SIM115
    process = subprocess.Popen([*args, spec], cwd=ROOT, env=child_env(**extra), stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    probe = LEDGER_HEAD if database_url else "/"
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if process.poll() is not None:
                log.seek(0)
                sys.exit(f"gunicorn exited ({process.returncode}):\n{log.read()[-4000:]}")
            with contextlib.suppress(OSError):
                if fetch(base + probe, timeout=5)[0] == 200:
                    break
            if time.monotonic() > deadline:
                sys.exit(f"gunicorn did not answer within {START_TIMEOUT} s")
            time.sleep(0.2)
        yield Running(base, process.pid)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
        os.unlink(log.name)


def wrk(url: str, *, seconds: float, threads: int, connections: int, script: Path) -> tuple[WrkResult, float]:
    """One wrk run: its figures and the CPU seconds wrk itself used."""
    args = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds:g}s", "--latency", "-s", str(script), url]
    process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output = process.stdout.read()
    _pid, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        sys.exit(f"wrk failed ({process.returncode}):\n{output[-2000:]}")
    return parse_wrk(output), usage.ru_utime + usage.ru_stime


# --- CPU accounting: the machine may be shared, so also count what each request costs in CPU ------------------

CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds used so far by these processes (Linux /proc; 0 for a process gone)."""
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
    return total / CLOCK_TICKS


def worker_pids(master: int) -> list[int]:
    with contextlib.suppress(OSError):
        return [master, *map(int, Path(f"/proc/{master}/task/{master}/children").read_text().split())]
    return [master]


def backend_pids(database_url: str | None) -> list[int]:
    """PostgreSQL server processes connected to the benchmark database (the workers' pooled connections)."""
    if not database_url:
        return []
    rows = sql(database_url, "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                             "AND pid <> pg_backend_pid()")
    return [pid for (pid,) in rows]


def projected_rps(cpu_ms_per_request: float, cpus: int | None = None) -> float:
    """Requests/s the machine's CPUs would serve if they did nothing else: CPUs / CPU time per request."""
    cpus = cpus or os.cpu_count() or 1
    return cpus * 1000 / cpu_ms_per_request if cpu_ms_per_request > 0 else 0.0


def check_page(url: str) -> None:
    status, _seconds = fetch(url)
    if status != 200:
        sys.exit(f"{url} answered {status}; nothing to measure (is the page there yet?)")


def first_after_change(base: str, path: str, database_url: str, samples: int) -> list[float]:
    """Seconds of the first request to `path` after each of `samples` data changes (an audit event inserted)."""
    seconds = []
    for _ in range(samples):
        sql(database_url, DATA_CHANGE_SQL)
        status, elapsed = fetch(base + path)
        if status != 200:
            sys.exit(f"{base + path} answered {status} after a data change")
        seconds.append(elapsed)
    return seconds


# --- the in-process child: uncached render time and SQL statements ---------------------------------------------


def render_child(url: str, paths: list[str], runs: int) -> None:
    import sqlalchemy as sa

    from fundapp import create_app
    from fundapp.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "PUBLIC_CACHE_SIZE": 0})
    client = app.test_client()
    out = {}
    with app.app_context():
        statements = [0]
        sa.event.listen(db.engine, "before_cursor_execute", lambda *_a: statements.__setitem__(0, statements[0] + 1))
        for path in paths:
            times = []
            for run in range(runs + 1):
                statements[0] = 0
                started = time.perf_counter()
                response = client.get(path)
                elapsed = time.perf_counter() - started
                if response.status_code != 200:
                    sys.exit(f"{path} answered {response.status_code}")
                if run:  # the first run compiles templates and opens the connection
                    times.append(elapsed)
            out[path] = {"median_ms": statistics.median(times) * 1000, "max_ms": max(times) * 1000,
                         "statements": statements[0], "bytes": len(response.data)}
    emit(out)


# --- the run ----------------------------------------------------------------------------------------------


@dataclass
class Options:
    seconds: float
    warmup: float
    threads: int
    connections: int
    samples: int
    runs: int


def measure_server(spec: str, server: Server, database_url: str | None, pages: list[tuple[str, str]],
                   options: Options, script: Path) -> dict[str, dict]:
    """wrk figures per page (and the first request after a data change, with a database) under one server."""
    out: dict[str, dict] = {}
    load_options = {"threads": options.threads, "connections": options.connections, "script": script}
    with gunicorn(spec, server, database_url) as running:
        for label, path in pages:
            check_page(running.base + path)
            wrk(running.base + path, seconds=options.warmup, **load_options)
            processes = worker_pids(running.pid)
            backends = backend_pids(database_url)
            app_before, db_before = cpu_seconds(processes), cpu_seconds(backends)
            result, wrk_cpu = wrk(running.base + path, seconds=options.seconds, **load_options)
            app_cpu, db_cpu = cpu_seconds(processes) - app_before, cpu_seconds(backends) - db_before
            if result.errors > result.timeouts:  # a timeout is slowness (reported), anything else a failure
                sys.exit(f"{path}: {result.errors} errors under load ({result.error_detail}; 'status' counts "
                         f"non-2xx answers) out of {result.requests:,} requests")
            per_request = {name: seconds * 1000 / max(result.requests, 1)
                           for name, seconds in (("app", app_cpu), ("db", db_cpu), ("wrk", wrk_cpu))}
            out[label] = {"wrk": result, "cpu_ms": per_request}
            print(f"    {label:<18} {result.rps:>8,.0f} req/s  p50 {fmt_ms(result.p50_ms):>6} ms  "
                  f"p99 {fmt_ms(result.p99_ms):>6} ms  CPU/request: app {per_request['app']:.2f} ms, "
                  f"db {per_request['db']:.2f} ms, wrk {per_request['wrk']:.2f} ms, over 2 s: {result.timeouts}  "
                  f"({server.label}; {load()})",
                  flush=True)
            if database_url and path != LEDGER_HEAD:
                out[label]["first"] = first_after_change(running.base, path, database_url, options.samples)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)  # run_bench_child adds it
    parser.add_argument("--child-render", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--paths", default="", help=argparse.SUPPRESS)
    parser.add_argument("--sizes", help="journal lines of the generated ledgers (default 10000,1000000)")
    parser.add_argument("--url", action="append", default=[],
                        help="measure this database (repeatable) instead of generating; must hold the demo data")
    parser.add_argument("--funds", default="BULK-001,MF-YG",
                        help="public funds whose page is measured (BULK-001: the most lines; MF-YG: a demo fund)")
    parser.add_argument("--app", default=APP_SPEC,
                        help=f"the WSGI app gunicorn serves (default {APP_SPEC}; a variant on PYTHONPATH to try a fix)")
    parser.add_argument("--no-baseline", action="store_true", help="skip the bare Flask page")
    parser.add_argument("--server", type=Server.parse, default=Server(2, "gthread", 4),
                        help="gunicorn worker class and count: gthread:2:4 (default: keeps connections alive; "
                             "measured best, see bench/README.md), sync:2, sync:4 ...")
    parser.add_argument("--compare-servers", action="store_true",
                        help="first measure the home page under sync:2, sync:4, gthread:2:4, gthread:4:4")
    parser.add_argument("--seconds", type=float, default=15, help="seconds of each wrk run")
    parser.add_argument("--warmup", type=float, default=3, help="seconds of wrk warm-up before each run")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections")
    parser.add_argument("--samples", type=int, default=10, help="first requests after a data change, per page")
    parser.add_argument("--runs", type=int, default=20, help="uncached in-process renders per page")
    parser.add_argument("--min-rps", type=float, default=600, help="target: requests/s at least")
    parser.add_argument("--max-p99", type=float, default=50, help="target: p99 under (ms)")
    parser.add_argument("--quick", action="store_true", help="2k and 20k lines, 3-second runs: a smoke test")
    parser.add_argument("--pg-server", default=PG_SERVER)
    parser.add_argument("--keep", action="store_true", help="keep the generated databases")
    parser.add_argument("--no-write", action="store_true", help="print only; do not append to bench/results/")
    args = parser.parse_args()
    if args.child_render:
        render_child(args.url[0], args.paths.split(","), args.runs)
        return
    if args.quick:
        args.sizes, args.seconds, args.warmup, args.samples, args.runs = args.sizes or "2000,20000", 3, 1, 3, 5
    args.sizes = args.sizes or "10000,1000000"
    options = Options(args.seconds, args.warmup, args.threads, args.connections, args.samples, args.runs)
    funds = [code.strip() for code in args.funds.split(",") if code.strip()]

    from ledger_db import Ledgers

    report = Report(write=not args.no_write)
    report.heading("Public pages under load (bench/public_pages.py)", command_line())
    ledgers = Ledgers(server=args.pg_server, keep=args.keep, prefix="public")
    rows, render_rows, first_rows = [], [], []
    began = time.perf_counter()
    with tempfile.NamedTemporaryFile("w", suffix=".lua", prefix="fundapp-bench-wrk-") as script_file:
        script_file.write(WRK_SCRIPT)
        script_file.flush()
        script = Path(script_file.name)
        try:
            if not args.no_baseline:
                print(f"  baseline: a bare Flask page with a 50-row template ({args.server.label})", flush=True)
                baseline = measure_server(BASELINE_SPEC, args.server, None, [("bare Flask, 50 rows", "/")],
                                          options, script)
                for label, figures in baseline.items():
                    rows.append(_row("-", label, args.server, figures, None))
            urls = args.url or [prepare(ledgers, int(size)) for size in args.sizes.split(",")]
            for url in urls:
                info = describe(url)
                size = fmt_lines(info["lines"]) if info["lines"] % 1000 == 0 else f"{info['lines']:,}"
                print(f"  {url.rsplit('/', 1)[-1]}: {info['lines']:,} journal lines, {info['entries']:,} entries",
                      flush=True)
                pages = pages_for(info["public_funds"], funds)
                render = run_bench_child("public_pages.py", ["--child-render", "--url", url, "--runs", args.runs,
                                                             "--paths", ",".join(path for _l, path in pages)],
                                         env=child_env(FUNDAPP_ENV="production", SECRET_KEY=secrets.token_hex(16)))
                for label, path in pages:
                    figures = render.data[path]
                    render_rows.append([f"{info['lines']:,}", label, fmt_ms(figures["median_ms"]),
                                        fmt_ms(figures["max_ms"]), figures["statements"],
                                        f"{figures['bytes'] / 1024:.1f}"])
                servers = [args.server]
                if args.compare_servers:
                    servers = [Server(2, "sync"), Server(4, "sync"), Server(2, "gthread", 4), Server(4, "gthread", 4)]
                for server in servers:
                    measured_pages = pages if server == args.server else pages[:1]
                    results = measure_server(args.app, server, url, measured_pages, options, script)
                    for label, figures in results.items():
                        rows.append(_row(f"{info['lines']:,}", label, server, figures, (args.min_rps, args.max_p99)))
                        if "first" in figures and server == args.server:
                            first = [s * 1000 for s in figures["first"]]
                            first_rows.append([f"{info['lines']:,}", label, fmt_ms(statistics.median(first)),
                                               fmt_ms(max(first)), len(first)])
                print(f"  ({size} done; {load()})", flush=True)
        finally:
            ledgers.close()
    report.table(f"Under load: wrk -t{args.threads} -c{args.connections} -d{args.seconds:g}s --latency, "
                 f"after a {args.warmup:g}-second warm-up",
                 ["journal lines", "page", "gunicorn", "requests/s", "p50 ms", "p90 ms", "p99 ms", "max ms",
                  f"target ≥ {args.min_rps:g}/s, p99 < {args.max_p99:g} ms", "CPU ms/request: app + db + wrk",
                  f"req/s on {os.cpu_count()} idle CPUs"], rows,
                 [f"gunicorn serving {args.app} with FUNDAPP_ENV=production; wrk on the same machine; anonymous "
                  "visitors (cached pages)",
                  "CPU ms/request: CPU time of the gunicorn processes, of the PostgreSQL backends they hold and of "
                  "wrk during the run, divided by the requests served (/proc and wait4)",
                  f"req/s on {os.cpu_count()} idle CPUs: {os.cpu_count()} CPU-seconds per second divided by the CPU "
                  "time per request, an estimate of what the same server would serve on the same CPUs with "
                  "nothing else running (the machine is shared: see the load averages)"])
    report.table("Uncached render (page cache off, Flask test client, in process; after one warm-up request)",
                 ["journal lines", "page", "median ms", "max ms", "SQL statements", "KB"], render_rows,
                 [f"{args.runs} runs per page"])
    report.table("First request after a data change, over HTTP (an audit event inserted before each)",
                 ["journal lines", "page", "median ms", "max ms", "samples"], first_rows)
    report.table("Run", ["what", "value"], [["wall time", f"{(time.perf_counter() - began) / 60:.1f} min"],
                                             ["at the end", load()]])


def _row(lines: str, label: str, server: Server, figures: dict, target: tuple[float, float] | None) -> list:
    result, cpu = figures["wrk"], figures["cpu_ms"]
    total = sum(cpu.values())
    return [lines, label, server.label, f"{result.rps:,.0f}", fmt_ms(result.p50_ms), fmt_ms(result.p90_ms),
            fmt_ms(result.p99_ms), fmt_ms(result.max_ms), verdict(result, *target) if target else "",
            f"{cpu['app']:.2f} + {cpu['db']:.2f} + {cpu['wrk']:.2f}", f"{projected_rps(total):,.0f}"]


if __name__ == "__main__":
    main()
