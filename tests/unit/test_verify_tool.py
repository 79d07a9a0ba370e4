"""tools/verify_ledger.py on its own: standard library only, the canonical encoding of docs/ledger-hash.md,
every kind of break named at its first entry, saved exports, and a download (with --save) from a local server."""

from __future__ import annotations

import ast
import copy
import hashlib
import http.server
import importlib.util
import json
import subprocess
import sys
import threading
from decimal import Decimal
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from fundapp.ledger.chain import GENESIS_HASH, CanonicalLine, canonical_bytes, chain_hash

ROOT = Path(__file__).resolve().parents[2]
VERIFIER = ROOT / "tools" / "verify_ledger.py"
KNOWN_HASH = "7b85fae265e06cb78829954ce360a37062cea7c41bc268842e5a93362d4e54bd"  # tests/unit/ledger/test_chain.py

spec = importlib.util.spec_from_file_location("verify_ledger", VERIFIER)
tool = importlib.util.module_from_spec(spec)
spec.loader.exec_module(tool)


def build(count: int) -> dict:
    """A ledger of `count` entries hashed by the app's own chain code, in the API's public form."""
    entries, prev = [], GENESIS_HASH
    for seq in range(1, count + 1):
        amount = f"{seq}.{seq % 100:02d}"
        lines = [{"account": "1002", "fund": "GEN", "class": "unrestricted", "amount": amount},
                 {"account": "4101", "fund": "基金", "class": "restricted", "amount": f"-{amount}"}]
        entry = {"seq": seq, "date": f"2026-01-{seq % 28 + 1:02d}", "memo": f"捐赠 {seq}", "source": "manual",
                 "key": f"k:{seq}", "reverses": 1 if seq == 3 else None, "lines": lines}
        body = canonical_bytes(seq=seq, effective_date=entry["date"], memo=entry["memo"], source="manual",
                               key=entry["key"], reverses=entry["reverses"],
                               lines=[CanonicalLine(x["account"], x["fund"], x["class"], Decimal(x["amount"]))
                                      for x in lines])
        entry.update(prev_hash=prev, hash=chain_hash(prev, body))
        prev = entry["hash"]
        entries.append(entry)
    return {"head": {"seq": count, "hash": prev, "entries": count, "as_of": "2026-02-01T00:00:00+00:00"},
            "entries": entries}


def test_uses_the_standard_library_only():
    tree = ast.parse(VERIFIER.read_text(encoding="utf-8"))
    modules = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
               for alias in node.names}
    modules |= {node.module.split(".")[0] for node in ast.walk(tree)
                if isinstance(node, ast.ImportFrom) and node.module}
    assert modules - {"__future__"} <= set(sys.stdlib_module_names), modules


def test_canonical_encoding_matches_the_app_and_the_documented_example():
    entry = {"seq": 1, "date": "2026-01-31", "memo": "张三捐赠", "source": "manual", "key": "donation:7",
             "reverses": None, "prev_hash": GENESIS_HASH, "hash": KNOWN_HASH,
             "lines": [{"account": "1002", "fund": "GEN", "class": "unrestricted", "amount": "100.00"},
                       {"account": "4101", "fund": "GEN", "class": "unrestricted", "amount": "-100.00"}]}
    assert tool.verify({"head": {"seq": 1, "hash": KNOWN_HASH, "entries": 1}, "entries": [entry]}) == \
        f"OK: 1 entries, head {KNOWN_HASH}"
    data = build(4)
    assert tool.verify(data) == f"OK: 4 entries, head {data['head']['hash']}"
    assert tool.verify({"head": {"seq": 0, "hash": GENESIS_HASH, "entries": 0}, "entries": []}).startswith("OK: 0")


def tamper_amount(data):
    data["entries"][2]["lines"][0]["amount"] = "3.04"


def tamper_memo(data):
    data["entries"][2]["memo"] += " "


def tamper_reverses(data):
    data["entries"][2]["reverses"] = None


def tamper_fund(data):
    data["entries"][2]["lines"][1]["fund"] = "GEN"


def tamper_line_order(data):
    data["entries"][2]["lines"].reverse()


def tamper_dropped_line(data):
    data["entries"][2]["lines"].pop()


@pytest.mark.parametrize("change", [tamper_amount, tamper_memo, tamper_reverses, tamper_fund, tamper_line_order,
                                    tamper_dropped_line])
def test_altered_content_is_named_at_its_entry(change):
    data = build(5)
    change(data)
    with pytest.raises(tool.Bad, match=r"^entry seq 3: hash mismatch"):
        tool.verify(data)


def test_rehashed_entry_breaks_the_next_link():
    data = build(5)
    tamper_amount(data)
    entry = data["entries"][2]
    entry["hash"] = hashlib.sha256(entry["prev_hash"].encode() + tool.canonical_bytes(entry)).hexdigest()
    with pytest.raises(tool.Bad, match=r"^entry seq 4: prev_hash"):
        tool.verify(data)


@pytest.mark.parametrize("change, message", [
    (lambda d: d["entries"].pop(1), r"^entry seq 3: expected seq 2"),
    (lambda d: d["entries"].pop(), r"^head: the head says 5 entries"),
    (lambda d: d["head"].update(hash="f" * 64), r"^head: the head hash"),
    (lambda d: d["head"].update(entries=9), r"^head: the head says 5 entries \(9\)"),
    (lambda d: d["entries"][1].pop("key"), r"^entry seq 2: missing key"),
    (lambda d: d["entries"][1]["lines"][0].update(amount="2.0"), r"^entry seq 2: amount"),
    (lambda d: d["entries"][1]["lines"][0].update(amount=2.02), r"^entry seq 2: amount"),
    (lambda d: d["entries"][1].update(hash="X" * 64), r"^entry seq 2: hash is not"),
    (lambda d: d.pop("head"), r"no head"),
])
def test_structural_problems_are_named(change, message):
    data = build(5)
    change(data)
    with pytest.raises(tool.Bad, match=message):
        tool.verify(data)


def run(*args, cwd) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(VERIFIER), *args], capture_output=True, text=True, timeout=60, cwd=cwd)


def test_command_line_on_saved_exports(tmp_path):
    data = build(3)
    good, bad = tmp_path / "good.json", tmp_path / "bad.json"
    good.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    result = run("--file", str(good), cwd=tmp_path)
    assert (result.returncode, result.stdout.strip()) == (0, f"OK: 3 entries, head {data['head']['hash']}")
    broken = copy.deepcopy(data)
    tamper_memo(broken)
    bad.write_text(json.dumps(broken), encoding="utf-8")
    result = run("--file", str(bad), cwd=tmp_path)
    assert result.returncode == 1 and result.stdout.startswith("entry seq 3: hash mismatch")
    (tmp_path / "junk.json").write_text("{not json", encoding="utf-8")
    assert run("--file", str(tmp_path / "junk.json"), cwd=tmp_path).returncode == 1
    assert run("--file", str(tmp_path / "missing.json"), cwd=tmp_path).returncode == 1


@pytest.fixture()
def server():
    """A stand-in for the site: serves build(5) in pages of `limit` with relative next links."""
    data = build(5)

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            url = urlsplit(self.path)
            if url.path == "/api/v1/ledger/head":
                body = data["head"]
            elif url.path == "/api/v1/ledger/entries":
                query = parse_qs(url.query)
                after, limit = int(query.get("after", ["0"])[0]), int(query.get("limit", ["500"])[0])
                page = [e for e in data["entries"] if e["seq"] > after][:limit]
                more = bool(page) and page[-1]["seq"] < len(data["entries"])
                body = {"entries": page,
                        "next": f"/api/v1/ledger/entries?after={page[-1]['seq']}&limit={limit}" if more else None}
            else:
                self.send_error(404)
                return
            payload = json.dumps(body, ensure_ascii=False).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", data
    httpd.shutdown()
    httpd.server_close()


def test_download_pages_and_save(server, tmp_path):
    base, data = server
    saved = tmp_path / "export.json"
    result = run(base + "/", "--limit", "2", "--save", str(saved), cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == f"OK: 5 entries, head {data['head']['hash']}"
    assert json.loads(saved.read_text(encoding="utf-8")) == data
    assert run("--file", str(saved), cwd=tmp_path).returncode == 0


def test_unreachable_site_fails(tmp_path):
    result = run("http://127.0.0.1:9/", cwd=tmp_path)
    assert result.returncode == 1 and "cannot read the ledger" in result.stderr
