#!/usr/bin/env python3
"""Verify the foundation's ledger hash chain from its public API or a saved export. Standard library only.

    python verify_ledger.py https://example.org              # download /api/v1/ledger/entries and /head, check
    python verify_ledger.py https://example.org --save x.json # ... and keep the download
    python verify_ledger.py --file x.json                     # check a saved export

An export is a JSON object {"head": {"seq", "hash", "entries", ...}, "entries": [entry, ...]} where each entry
is in the API's public form. For every entry (docs/ledger-hash.md):

    hash = sha256( prev_hash (64 lowercase hex, ASCII) || canonical JSON of seq, date, memo, source, key,
                   reverses, lines )     with sorted keys, no whitespace, non-ASCII kept, UTF-8

Prints "OK: N entries, head <hash>" and exits 0, or names the first bad entry and exits 1.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
import urllib.error
import urllib.parse
import urllib.request

GENESIS = "0" * 64
HASHED = ("seq", "date", "memo", "source", "key", "reverses", "lines")
LINE_KEYS = ("account", "amount", "class", "fund")
AMOUNT = re.compile(r"-?(0|[1-9][0-9]*)\.[0-9]{2}")
HEX64 = re.compile(r"[0-9a-f]{64}")
MAX_PAGES = 1_000_000


class Bad(Exception):
    """The first problem found."""


def canonical_bytes(entry: dict) -> bytes:
    body = {key: entry[key] for key in HASHED}
    body["lines"] = [{key: line[key] for key in LINE_KEYS} for line in entry["lines"]]
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _check_shape(entry: object, position: int) -> None:
    if not isinstance(entry, dict):
        raise Bad(f"entry #{position} is not an object")
    label = f"entry seq {entry.get('seq', '?')}"
    missing = [key for key in (*HASHED, "prev_hash", "hash") if key not in entry]
    if missing:
        raise Bad(f"{label}: missing {', '.join(missing)}")
    if not isinstance(entry["seq"], int) or isinstance(entry["seq"], bool):
        raise Bad(f"{label}: seq is not an integer")
    if not isinstance(entry["lines"], list) or not all(isinstance(line, dict) for line in entry["lines"]):
        raise Bad(f"{label}: lines is not a list of objects")
    for line in entry["lines"]:
        absent = [key for key in LINE_KEYS if key not in line]
        if absent:
            raise Bad(f"{label}: a line lacks {', '.join(absent)}")
        if not isinstance(line["amount"], str) or not AMOUNT.fullmatch(line["amount"]):
            raise Bad(f"{label}: amount {line['amount']!r} is not in the canonical form (e.g. \"-123.45\")")
    for key in ("prev_hash", "hash"):
        if not isinstance(entry[key], str) or not HEX64.fullmatch(entry[key]):
            raise Bad(f"{label}: {key} is not 64 lowercase hexadecimal characters")


def verify(export: dict) -> str:
    """Return the OK line, or raise Bad naming the first bad entry."""
    if not isinstance(export, dict) or not isinstance(export.get("entries"), list):
        raise Bad("the export has no list of entries")
    head = export.get("head")
    if not isinstance(head, dict) or "hash" not in head or "seq" not in head:
        raise Bad("the export has no head (seq and hash)")
    prev, expected_seq = GENESIS, 1
    for position, entry in enumerate(export["entries"], start=1):
        _check_shape(entry, position)
        seq = entry["seq"]
        if seq != expected_seq:
            raise Bad(f"entry seq {seq}: expected seq {expected_seq} (an entry is missing, duplicated or out of order)")
        if entry["prev_hash"] != prev:
            raise Bad(f"entry seq {seq}: prev_hash {entry['prev_hash']} does not match the previous entry's hash"
                      f" {prev}")
        computed = hashlib.sha256(prev.encode("ascii") + canonical_bytes(entry)).hexdigest()
        if computed != entry["hash"]:
            raise Bad(f"entry seq {seq}: hash mismatch: content hashes to {computed}, the ledger says {entry['hash']}"
                      " (altered after posting)")
        prev, expected_seq = entry["hash"], seq + 1
    count = expected_seq - 1
    if head["seq"] != count or head.get("entries", count) != count:
        raise Bad(f"head: the head says {head['seq']} entries ({head.get('entries')}), the export holds {count}")
    if head["hash"] != prev:
        raise Bad(f"head: the head hash {head['hash']} does not match the last entry's hash {prev}")
    return f"OK: {count} entries, head {prev}"


def _get_json(url: str, timeout: float) -> object:
    request = urllib.request.Request(url, headers={"Accept": "application/json",
                                                   "User-Agent": "verify_ledger/1"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.load(response)


def download(base_url: str, limit: int = 1000, timeout: float = 60.0) -> dict:
    """The head (read first, so entries posted meanwhile only add to the end), then every page of entries."""
    base = base_url.rstrip("/") + "/"
    head = _get_json(urllib.parse.urljoin(base, "api/v1/ledger/head"), timeout)
    if not isinstance(head, dict):
        raise Bad("the head is not a JSON object")
    entries: list = []
    url: str | None = urllib.parse.urljoin(base, f"api/v1/ledger/entries?limit={limit}")
    pages = 0
    while url:
        page = _get_json(url, timeout)
        if not isinstance(page, dict) or not isinstance(page.get("entries"), list):
            raise Bad(f"{url}: not a page of entries")
        entries.extend(page["entries"])
        pages += 1
        if pages > MAX_PAGES:
            raise Bad("too many pages")
        url = urllib.parse.urljoin(url, page["next"]) if page.get("next") else None
    # Entries posted after the head was read are beyond it: check up to the published head.
    seq = head.get("seq")
    if isinstance(seq, int):
        entries = [e for e in entries if not (isinstance(e, dict) and isinstance(e.get("seq"), int) and e["seq"] > seq)]
    return {"head": head, "entries": entries}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Verify the ledger hash chain from the public API or an export.")
    parser.add_argument("url", nargs="?", help="the site's base URL, e.g. https://example.org")
    parser.add_argument("--file", help="check a saved export instead of downloading")
    parser.add_argument("--save", help="store the download in this file")
    parser.add_argument("--limit", type=int, default=1000, help="entries per page when downloading (1..1000)")
    args = parser.parse_args(argv)
    if bool(args.url) == bool(args.file):
        parser.error("give either a base URL or --file")
    try:
        if args.file:
            with open(args.file, encoding="utf-8") as handle:
                export = json.load(handle)
        else:
            export = download(args.url, args.limit)
            if args.save:
                with open(args.save, "w", encoding="utf-8") as handle:
                    json.dump(export, handle, ensure_ascii=False)
        print(verify(export))
        return 0
    except Bad as problem:
        print(str(problem))
        return 1
    except (OSError, ValueError, urllib.error.URLError) as error:
        print(f"cannot read the ledger: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
