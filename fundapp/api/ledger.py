"""The ledger anyone can verify: /api/v1/ledger/head and /api/v1/ledger/entries.

Each entry is given in its public form: exactly the fields `fundapp.ledger.chain.canonical_bytes` hashes
(seq, date, memo, source, key, reverses, lines) plus prev_hash and hash, so a third party can recompute the
chain (tools/verify_ledger.py; docs/ledger-hash.md). Nothing else: no author, approver or donor.
Lines of funds that are not public keep their fund code: codes are not personal data, and without them the
hash could not be recomputed.
"""

from __future__ import annotations

import datetime as dt

from flask import jsonify, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import aliased

from fundapp.api.views import BadParameter, bp, int_param
from fundapp.auth.decorators import public
from fundapp.extensions import db
from fundapp.ledger.chain import GENESIS_HASH
from fundapp.ledger.models import Account, Fund, JournalEntry, JournalLine, LedgerHead

DEFAULT_LIMIT = 500
MAX_LIMIT = 1000
KNOWN_PARAMS = frozenset({"after", "limit"})


@bp.get("/ledger/head")
@public
def ledger_head():
    head = db.session.get(LedgerHead, 1)
    seq, head_hash = (head.seq, head.hash) if head else (0, GENESIS_HASH)
    response = jsonify({
        "seq": seq,
        "hash": head_hash,
        "entries": seq,  # the chain has no gaps: seq 1..N
        "as_of": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    })
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/ledger/entries")
@public
def ledger_entries():
    unknown = sorted(set(request.args) - KNOWN_PARAMS)
    if unknown:
        raise BadParameter(f"unknown parameter '{unknown[0]}' (use 'after' and 'limit')")
    after = int_param(request.args, "after", 0, 0)
    limit = int_param(request.args, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
    reversed_entry = aliased(JournalEntry)
    rows = db.session.execute(
        select(JournalEntry.id, JournalEntry.seq, JournalEntry.effective_date, JournalEntry.memo,
               JournalEntry.source_type, JournalEntry.idempotency_key, reversed_entry.seq,
               JournalEntry.prev_hash, JournalEntry.hash)
        .outerjoin(reversed_entry, reversed_entry.id == JournalEntry.reverses_id)
        .where(JournalEntry.seq > after)
        .order_by(JournalEntry.seq)
        .limit(limit + 1)
    ).all()
    more = len(rows) > limit
    rows = rows[:limit]
    lines: dict[int, list[dict]] = {row[0]: [] for row in rows}
    if rows:
        line_rows = db.session.execute(
            select(JournalLine.entry_id, Account.code, Fund.code, JournalLine.net_asset_class, JournalLine.amount)
            .join(Account, Account.id == JournalLine.account_id)
            .join(Fund, Fund.id == JournalLine.fund_id)
            .where(JournalLine.entry_id.in_(list(lines)))
            .order_by(JournalLine.entry_id, JournalLine.line_no)
        )
        for entry_id, account_code, fund_code, klass, amount in line_rows:
            lines[entry_id].append({"account": account_code, "fund": fund_code, "class": klass,
                                    "amount": f"{amount:.2f}"})
    entries = [
        {"seq": seq, "date": day.isoformat(), "memo": memo, "source": source, "key": key, "reverses": reverses,
         "lines": lines[entry_id], "prev_hash": prev_hash, "hash": entry_hash}
        for entry_id, seq, day, memo, source, key, reverses, prev_hash, entry_hash in rows
    ]
    next_url = (url_for("api.ledger_entries", after=entries[-1]["seq"], limit=limit, _external=True)
                if more else None)
    response = jsonify({"entries": entries, "next": next_url})
    # Entries never change once posted; a page with a next link is complete and can be cached long.
    response.headers["Cache-Control"] = "public, max-age=3600" if more else "public, max-age=60"
    return response
