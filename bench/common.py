"""Shared pieces of the benchmarks: child processes with their peak memory, statistics, the results file.

Every measurement runs in a child process of its own (`run_child`), so the peak RSS reported is that process's
alone (os.wait4 gives the child's rusage). Figures are printed as Markdown tables and appended to
bench/results/<date>.md (`Report`).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import platform
import re
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
RESULTS = BENCH / "results"
PG_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
JSON_MARK = "BENCH-JSON "  # a child prints its figures on one line starting with this
if str(ROOT) not in sys.path:
    sys.path.insert(1, str(ROOT))  # fundapp and config, when a script runs as bench/<script>.py


@dataclass
class Child:
    seconds: float
    peak_rss_mb: float
    output: str
    data: dict | None = None
    returncode: int = 0


def child_env(**extra: str) -> dict[str, str]:
    return {**os.environ, "FLASK_APP": "fundapp", "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8", "PYTHONHASHSEED": "0",
            **extra}


def run_child(args: list[str], *, env: dict[str, str] | None = None, check: bool = True, echo: bool = False,
              stdout_to: Path | None = None) -> Child:
    """Run `args`; wall time, the child's own peak RSS (wait4) and its output (stdout and stderr together).

    With `stdout_to`, standard output goes to that file and only standard error is kept.
    """
    started = time.perf_counter()
    sink = open(stdout_to, "w") if stdout_to else subprocess.PIPE  # noqa: SIM115 - closed below
    child = subprocess.Popen(args, cwd=ROOT, env=env or child_env(), stdout=sink,
                             stderr=subprocess.PIPE if stdout_to else subprocess.STDOUT, text=True)
    stream = child.stderr if stdout_to else child.stdout
    lines = []
    for line in stream:
        lines.append(line)
        if echo and not line.startswith(JSON_MARK):
            print("    " + line.rstrip(), flush=True)
    _pid, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - started
    if stdout_to:
        sink.close()
    output = "".join(lines)
    if check and child.returncode != 0:
        sys.exit(f"{' '.join(map(str, args))} failed ({child.returncode}):\n{output[-4000:]}")
    data = None
    for line in output.splitlines():
        if line.startswith(JSON_MARK):
            data = json.loads(line[len(JSON_MARK):])
    return Child(seconds, usage.ru_maxrss / 1024, output, data, child.returncode)


def run_bench_child(script: str, args: list[str], **options) -> Child:
    """Run `bench/<script> --child ...` with this interpreter."""
    return run_child([sys.executable, str(BENCH / script), "--child", *map(str, args)], **options)


def emit(data: dict) -> None:
    """In a child: hand the figures to the parent."""
    print(JSON_MARK + json.dumps(data, default=str), flush=True)


def app_for(url: str):
    """The app on database `url` (English, production-like engine options), for a child process."""
    from fundapp import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": url, "BABEL_DEFAULT_LOCALE": "en"})


# --- statistics -------------------------------------------------------------------------------------------


def percentile(samples: list[float], fraction: float) -> float:
    """Nearest-rank percentile: the smallest sample with at least `fraction` of the samples at or below it."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def summary_ms(seconds: list[float]) -> dict[str, float]:
    ms = [s * 1000 for s in seconds]
    return {"median": statistics.median(ms), "p99": percentile(ms, 0.99), "min": min(ms), "max": max(ms),
            "runs": len(ms)}


def fmt_ms(value: float) -> str:
    return f"{value:.2f}" if value < 10 else f"{value:.1f}" if value < 1000 else f"{value:,.0f}"


def fmt_int(value: float) -> str:
    return f"{value:,.0f}"


def fmt_lines(lines: int) -> str:
    for size, suffix in ((1_000_000, "M"), (1_000, "k")):
        if lines >= size and lines % size == 0:
            return f"{lines // size}{suffix}"
    return f"{lines:,}"


# --- the machine ------------------------------------------------------------------------------------------


def _cpu_model() -> str:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.processor() or "?"
    match = re.search(r"^model name\s*:\s*(.+)$", text, re.MULTILINE)
    return match.group(1).strip() if match else "?"


def _memory_gib() -> str:
    try:
        text = Path("/proc/meminfo").read_text()
    except OSError:
        return "?"
    match = re.search(r"^MemTotal:\s*(\d+) kB", text, re.MULTILINE)
    return f"{int(match.group(1)) / 2**20:.1f} GiB" if match else "?"


def _postgres_version(server: str) -> str:
    try:
        import sqlalchemy as sa

        engine = sa.create_engine(server)
        with engine.connect() as conn:
            version = conn.execute(sa.text("SHOW server_version")).scalar_one()
            autovacuum = conn.execute(sa.text("SHOW autovacuum")).scalar_one()
        engine.dispose()
        return f"PostgreSQL {version} (autovacuum {autovacuum})"
    except Exception as error:  # noqa: BLE001 - the machine line must not stop a run
        return f"PostgreSQL unavailable ({type(error).__name__})"


def machine(server: str = PG_SERVER) -> str:
    import sqlite3

    return (f"{os.cpu_count()} CPUs ({_cpu_model()}), {_memory_gib()} RAM, {platform.system()} "
            f"{platform.release()}, Python {platform.python_version()}, {_postgres_version(server)}, "
            f"SQLite {sqlite3.sqlite_version}")


def load() -> str:
    """The load averages: the machine may be shared, and a busy one gives slower figures."""
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} / {five:.2f} / {fifteen:.2f} (1 / 5 / 15 min)"


# --- the results file -------------------------------------------------------------------------------------


@dataclass
class Report:
    """Tables printed to the terminal and appended to bench/results/<date>.md."""

    path: Path = field(default_factory=lambda: RESULTS / f"{dt.date.today().isoformat()}.md")
    write: bool = True
    started: bool = False

    def _append(self, text: str) -> None:
        print(text, flush=True)
        if self.write:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as out:
                out.write(text + "\n")

    def heading(self, title: str, command: str) -> None:
        stamp = dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
        self._append(f"\n## {title} — {stamp}\n\n`{command}`  \n{machine()}  \n{load()}\n")

    def table(self, title: str, headers: list[str], rows: list[list[str]], notes: list[str] = ()) -> None:
        text = [f"### {title}", "", "| " + " | ".join(headers) + " |",
                "|" + "|".join("---" if i == 0 else "---:" for i in range(len(headers))) + "|"]
        text += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
        text += [""] + [f"- {note}" for note in notes] + ([""] if notes else [])
        self._append("\n".join(text))


def command_line() -> str:
    return " ".join(["bench/" + Path(sys.argv[0]).name, *sys.argv[1:]])
