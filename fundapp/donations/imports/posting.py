"""Posting a checked plan: every new row becomes a donation and its journal entry, in the caller's transaction.

Each row posts the entry `record_donation` posts (Dr 1001/1002/1009, Cr 4101, in the row's fund and class, key
"donation:" + `ledger_reference(key)`, a digest: bank references stay out of the public ledger) through the ledger's bulk path `post_entry_batch`, and gets a donation row and a
"donations:donation:recorded" audit event, as a gift recorded on the form does. Rows go in chunks (one progress
step each); the caller commits once at the end, so an import is all or nothing. The chain-head lock is taken
first and the keys are looked up again under it: an import running at the same time posts each row only once.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from flask import current_app, has_request_context, request
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from fundapp.audit.models import AuditEvent
from fundapp.audit.services import AuditTag, record_event
from fundapp.db import utcnow
from fundapp.donations.donors import update_donor
from fundapp.donations.imports.checking import Plan, Row
from fundapp.donations.models import DONATION_INCOME, METHOD_ACCOUNTS, Donation, DonationStatus
from fundapp.donations.services import account_by_code, ledger_reference, memo_reference
from fundapp.ledger.batch import ANALYZE_AFTER, insert_rows, lock_chain_head, post_entry_batch
from fundapp.ledger.services import EntryDraft, LineSpec

CHUNK = 10_000


def _posted_keys(session: Session, keys: list[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(keys), 500):
        found.update(session.scalars(select(Donation.key).where(Donation.key.in_(keys[start:start + 500]))))
    return found


def _drafts(session: Session, rows: list[Row], actor: Any | None) -> list[EntryDraft]:
    memo = _("Donation %(ref)s to fund %(fund)s")  # interpolated per row below (one catalog lookup)
    accounts = {code: account_by_code(session, code) for code in {*METHOD_ACCOUNTS.values(), DONATION_INCOME}}
    income = accounts[DONATION_INCOME]
    return [EntryDraft(
        effective_date=row.received_on, memo=memo % {"ref": memo_reference(row.key), "fund": row.fund.code},
        lines=[LineSpec(accounts[METHOD_ACCOUNTS[row.method]], row.fund, row.amount, row.klass),
               LineSpec(income, row.fund, -row.amount, row.klass)],
        idempotency_key=f"donation:{ledger_reference(row.key)}", source_type="donation",
        source_id=ledger_reference(row.key)[:64], author=actor,
    ) for row in rows]


def _donation_row(row: Row, entry_id: int, actor_id: int | None, now) -> dict:
    return {
        "key": row.key, "donor_id": row.donor.id if row.donor else None, "pledge_id": None, "fund_id": row.fund.id,
        "received_on": row.received_on, "amount": row.amount, "method": row.method, "net_asset_class": row.klass,
        "purpose": row.purpose, "reference": row.reference, "item_description": "", "quantity": "", "unit": "",
        "valuation_basis": None, "status": DonationStatus.recorded.value, "entry_id": entry_id,
        "reversal_entry_id": None, "reversal_reason": None, "reversed_at": None, "reversed_by_id": None,
        "corrects_id": None, "created_by_id": actor_id, "created_at": now,
    }


def _audit_row(row: Row, donation_id: int, entry_id: int, actor_id: int | None, now, ip: str | None) -> dict:
    after = {"key": row.key, "donor": row.donor.id if row.donor else None, "fund": row.fund.code,
             "amount": str(row.amount), "method": row.method, "class": row.klass,
             "date": row.received_on.isoformat(), "pledge": None, "corrects": None, "entry": entry_id}
    return {"created_at": now, "actor_id": actor_id, "tag": AuditTag.donation_recorded.value,
            "subject_type": "donation", "subject_id": str(donation_id), "before": None, "after": after, "ip": ip}


def _post_chunk(session: Session, rows: list[Row], actor: Any | None) -> None:
    entry_ids = post_entry_batch(session, _drafts(session, rows, actor))
    actor_id, now = getattr(actor, "id", None), utcnow()
    donation_rows = [_donation_row(row, entry_id, actor_id, now) for row, entry_id in zip(rows, entry_ids, strict=True)]
    donation_ids = insert_rows(session, Donation.__table__, donation_rows, returning_ids=True)
    ip = request.remote_addr if has_request_context() else None
    insert_rows(session, AuditEvent.__table__, [
        _audit_row(row, donation_id, entry_id, actor_id, now, ip)
        for row, donation_id, entry_id in zip(rows, donation_ids, entry_ids, strict=True)])


def post_plan(session: Session, plan: Plan, actor: Any | None, *, source: str,
              progress: Callable[[str, int, int], None] | None = None) -> int:
    """Post the plan's new rows; returns how many were posted (rows another import posted meanwhile are not)."""
    lock_chain_head(session)
    posted_meanwhile = _posted_keys(session, [row.key for row in plan.new])
    rows = [row for row in plan.new if row.key not in posted_meanwhile]
    for start in range(0, len(rows), CHUNK):
        with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):  # journal memos: the books' language
            _post_chunk(session, rows[start:start + CHUNK], actor)
        if progress is not None:
            progress("importing", min(start + CHUNK, len(rows)), len(rows))
    if len(rows) >= ANALYZE_AFTER and session.get_bind().dialect.name == "postgresql":
        session.execute(text("ANALYZE donations"))  # the next import's key lookups stay on the index
    for donor in plan.anonymise:
        update_donor(session, donor, {"anonymous_in_public": True}, actor)
    record_event(session, AuditTag.import_posted, actor, "donation_import", None, after={
        "source": source, "rows": plan.total_rows, "posted": len(rows), "skipped": len(plan.skipped),
        "amount": sum((row.amount for row in rows), Decimal("0.00")), "anonymised": [d.id for d in plan.anonymise]})
    session.flush()
    return len(rows)
