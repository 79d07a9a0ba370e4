"""The pure parts of bench/public_pages.py: reading wrk's figures (its Lua hook and its own text), the verdict
against the issue's target, server options, the CPU projection and the bare Flask baseline page."""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("bench_public_pages", ROOT / "bench" / "public_pages.py")
bench = importlib.util.module_from_spec(spec)
sys.modules[spec.name] = bench  # dataclasses look their module up
saved_path = list(sys.path)
spec.loader.exec_module(bench)
sys.path[:] = saved_path  # the script puts bench/ first (for its `common`); bench/tools.py must not shadow tools/

# Real output of `wrk -t1 -c2 -d1s --latency -s <WRK_SCRIPT>` (wrk 4.1.0).
WRK_OUTPUT = """Running 1s test @ http://127.0.0.1:8765/
  1 threads and 2 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    22.41ms   21.22ms  99.75ms   82.24%
    Req/Sec   111.60     86.81   262.00     70.00%
  Latency Distribution
     50%   11.30ms
     75%   34.81ms
     90%   53.04ms
     99%   99.49ms
  116 requests in 1.07s, 490.32KB read
Requests/sec:    108.25
Transfer/sec:    457.56KB
WRK-JSON {"requests": 116, "duration_us": 1071607, "bytes": 502088, "connect": 0, "read": 0, "write": 0, \
"status": 0, "timeout": 0, "p50": 11303, "p90": 53040, "p99": 99492, "max": 99754, "mean": 22408.1}
"""

# Real output of a run whose every answer was a 404, without the Lua hook.
WRK_404_TEXT = """Running 1s test @ http://127.0.0.1:8765/nope
  1 threads and 2 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    12.76ms   23.06ms 153.71ms   90.65%
    Req/Sec   440.67    273.28   818.00     44.44%
  Latency Distribution
     50%    2.74ms
     75%   15.02ms
     90%   33.82ms
     99%  127.39ms
  413 requests in 1.08s, 209.91KB read
  Non-2xx or 3xx responses: 413
Requests/sec:    380.91
Transfer/sec:    193.60KB
"""


def test_parse_wrk_reads_the_hook_line_exactly():
    result = bench.parse_wrk(WRK_OUTPUT)
    assert result.requests == 116
    assert result.seconds == pytest.approx(1.071607)
    assert result.rps == pytest.approx(116 / 1.071607)
    assert (result.p50_ms, result.p90_ms, result.p99_ms, result.max_ms) == (11.303, 53.04, 99.492, 99.754)
    assert result.errors == 0
    assert result.bytes == 502088


def test_parse_wrk_counts_socket_errors_and_bad_statuses():
    line = ('WRK-JSON {"requests": 10, "duration_us": 1000000, "bytes": 1, "connect": 1, "read": 2, "write": 3, '
            '"status": 4, "timeout": 5, "p50": 1, "p90": 1, "p99": 1, "max": 1, "mean": 1.0}')
    result = bench.parse_wrk(line)
    assert result.errors == 15
    assert result.error_detail == "connect 1, read 2, write 3, status 4, timeout 5"
    assert result.timeouts == 5


def test_parse_wrk_without_the_hook_line_is_an_error():
    with pytest.raises(ValueError, match="WRK-JSON"):
        bench.parse_wrk(WRK_404_TEXT)


def test_parse_wrk_text_reads_wrks_own_summary():
    result = bench.parse_wrk_text(WRK_OUTPUT)
    assert result.requests == 116
    assert result.seconds == pytest.approx(1.07)
    assert (result.p50_ms, result.p90_ms, result.p99_ms) == (11.3, 53.04, 99.49)
    assert result.max_ms == pytest.approx(99.75)
    assert result.errors == 0


def test_parse_wrk_text_counts_non_2xx_answers_and_units():
    result = bench.parse_wrk_text(WRK_404_TEXT)
    assert result.errors == 413
    assert result.p50_ms == pytest.approx(2.74)
    slow = WRK_404_TEXT.replace("99%  127.39ms", "99%    1.20s").replace("50%    2.74ms", "50%  850.00us")
    assert bench.parse_wrk_text(slow).p99_ms == pytest.approx(1200)
    assert bench.parse_wrk_text(slow).p50_ms == pytest.approx(0.85)


def test_verdict_against_the_target():
    fast = bench.WrkResult(requests=9000, seconds=15.0, p50_ms=10, p90_ms=20, p99_ms=49.9, max_ms=60, errors=0)
    assert bench.verdict(fast, 600, 50) == "met"
    slow = bench.WrkResult(requests=8000, seconds=15.0, p50_ms=10, p90_ms=20, p99_ms=50.0, max_ms=60, errors=0)
    assert bench.verdict(slow, 600, 50) == "missed: 533 < 600 req/s, p99 50.0 ≥ 50 ms"


def test_server_option():
    assert bench.Server.parse("sync:2") == bench.Server(2, "sync", 1)
    assert bench.Server.parse("gthread:2:4").label == "gthread -w 2 --threads 4"
    for bad in ("eventlet:2", "sync", "gthread:2:4:1"):
        with pytest.raises(argparse.ArgumentTypeError):
            bench.Server.parse(bad)


def test_projected_rps_is_cpus_over_cpu_time_per_request():
    assert bench.projected_rps(2.0, cpus=2) == pytest.approx(1000)
    assert bench.projected_rps(0.0, cpus=2) == 0


def test_pages_for_keeps_only_public_funds(capsys):
    pages = bench.pages_for(["BULK-001", "GEN"], ["BULK-001", "AID"])
    assert pages == [("home", "/public/"), ("fund BULK-001", "/public/funds/BULK-001"),
                     ("ledger head API", "/api/v1/ledger/head")]
    assert "AID is not a public fund" in capsys.readouterr().out


def test_baseline_page_renders_fifty_rows():
    response = bench.baseline_app().test_client().get("/")
    assert response.status_code == 200
    assert response.data.count(b"<tr>") == 50
