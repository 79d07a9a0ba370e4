"""The hash chain: canonical bytes of an entry and the hash that links it to the one before.

    hash = sha256( prev_hash (64 lowercase hex chars, ASCII) || canonical_bytes(entry) )

canonical_bytes is UTF-8 JSON with sorted keys, no spaces, non-ASCII kept as is:

    {"date":"2026-01-31","key":"donation:7","lines":[{"account":"1002","amount":"100.00",
     "class":"unrestricted","fund":"GEN"}, ...],"memo":"...","reverses":null,"seq":1,"source":"manual"}

Lines are in line order; amounts have exactly two decimals with a leading "-" for credits; accounts
and funds by code (codes are frozen once used); "reverses" is the seq of the reversed entry or null.
The first entry's prev_hash is GENESIS_HASH. docs/ledger-hash.md has a stand-alone verifier.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from decimal import Decimal

GENESIS_HASH = "0" * 64


@dataclass(frozen=True)
class CanonicalLine:
    account: str
    fund: str
    net_asset_class: str
    amount: Decimal


def canonical_bytes(
    *,
    seq: int,
    effective_date: str,
    memo: str,
    source: str,
    key: str,
    reverses: int | None,
    lines: list[CanonicalLine],
) -> bytes:
    payload = {
        "seq": seq,
        "date": effective_date,
        "memo": memo,
        "source": source,
        "key": key,
        "reverses": reverses,
        "lines": [
            {
                "account": line.account,
                "fund": line.fund,
                "class": line.net_asset_class,
                "amount": f"{line.amount:.2f}",
            }
            for line in lines
        ],
    }
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def chain_hash(prev_hash: str, body: bytes) -> str:
    return hashlib.sha256(prev_hash.encode("ascii") + body).hexdigest()
