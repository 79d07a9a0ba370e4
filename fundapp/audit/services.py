"""Record audit events. Services call `record_event` in the same transaction as the change."""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal
from typing import Any

from flask import has_request_context, request
from sqlalchemy.orm import Session

from fundapp.audit.models import AuditEvent


class AuditTag(str, enum.Enum):
    user_created = "auth:user:created"
    user_updated = "auth:user:updated"
    user_password_changed = "auth:user:password_changed"
    login_succeeded = "auth:login:succeeded"
    login_failed = "auth:login:failed"
    account_created = "ledger:account:created"
    account_updated = "ledger:account:updated"
    fund_created = "funds:fund:created"
    fund_updated = "funds:fund:updated"
    entry_posted = "ledger:entry:posted"
    entry_reversed = "ledger:entry:reversed"
    period_closed = "ledger:period:closed"
    donor_created = "donations:donor:created"
    donor_updated = "donations:donor:updated"
    donor_user_linked = "donations:donor:user_linked"
    donor_merged = "donations:donor:merged"
    donation_recorded = "donations:donation:recorded"
    donation_reversed = "donations:donation:reversed"
    pledge_recorded = "donations:pledge:recorded"
    pledge_reversed = "donations:pledge:reversed"
    receipt_issued = "donations:receipt:issued"
    receipt_voided = "donations:receipt:voided"
    import_uploaded = "donations:import:uploaded"
    import_posted = "donations:import:posted"
    enterprise_created = "enterprises:enterprise:created"
    enterprise_updated = "enterprises:enterprise:updated"
    agreement_created = "enterprises:agreement:created"
    report_filed = "enterprises:report:filed"
    report_amended = "enterprises:report:amended"
    report_confirmed = "enterprises:report:confirmed"
    report_rejected = "enterprises:report:rejected"
    attachment_added = "enterprises:attachment:added"
    enterprise_payment_recorded = "enterprises:payment:recorded"
    enterprise_payment_reversed = "enterprises:payment:reversed"


def jsonable(value: Any) -> Any:
    """Plain JSON values for before/after snapshots (Decimal and dates as strings)."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [jsonable(v) for v in value]
    if isinstance(value, (Decimal, dt.date, dt.datetime)):
        return str(value)
    if isinstance(value, enum.Enum):
        return value.value
    return value


def snapshot(obj: Any, fields: tuple[str, ...]) -> dict[str, Any]:
    return jsonable({name: getattr(obj, name) for name in fields})


def record_event(
    session: Session,
    tag: AuditTag,
    actor: Any | None,
    subject_type: str,
    subject_id: Any | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEvent:
    event = AuditEvent(
        tag=tag.value,
        actor_id=getattr(actor, "id", None),
        subject_type=subject_type,
        subject_id=None if subject_id is None else str(subject_id),
        before=jsonable(before) if before is not None else None,
        after=jsonable(after) if after is not None else None,
        ip=request.remote_addr if has_request_context() else None,
    )
    session.add(event)
    return event
