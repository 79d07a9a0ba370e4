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
    year_closed = "ledger:year:closed"
    restrictions_released = "ledger:restrictions:released"
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
    organisation_created = "grants:organisation:created"
    organisation_updated = "grants:organisation:updated"
    organisation_member_linked = "grants:organisation:member_linked"
    programme_created = "grants:programme:created"
    programme_updated = "grants:programme:updated"
    programme_status_changed = "grants:programme:status_changed"
    application_created = "grants:application:created"
    application_saved = "grants:application:saved"
    application_submitted = "grants:application:submitted"
    application_status_changed = "grants:application:status_changed"
    application_revision_requested = "grants:application:revision_requested"
    application_withdrawn = "grants:application:withdrawn"
    grant_attachment_added = "grants:attachment:added"
    grant_attachment_removed = "grants:attachment:removed"
    reviewer_assigned = "grants:review:assigned"
    reviewer_unassigned = "grants:review:unassigned"
    review_conflict_declared = "grants:review:conflict_declared"
    review_no_conflict = "grants:review:no_conflict"
    review_saved = "grants:review:saved"
    review_submitted = "grants:review:submitted"
    agenda_created = "grants:agenda:created"
    agenda_opened = "grants:agenda:opened"
    agenda_closed = "grants:agenda:closed"
    agenda_item_added = "grants:agenda:item_added"
    agenda_item_withdrawn = "grants:agenda:item_withdrawn"
    board_vote_cast = "grants:board:vote_cast"
    board_recusal_declared = "grants:board:recusal_declared"
    grant_decided = "grants:decision:made"
    award_created = "grants:award:created"
    award_schedule_set = "grants:award:schedule_set"
    award_closed = "grants:award:closed"
    tranche_payment_requested = "grants:payment:requested"
    tranche_payment_approved = "grants:payment:approved"
    tranche_payment_rejected = "grants:payment:rejected"
    grant_report_submitted = "grants:report:submitted"
    grant_report_accepted = "grants:report:accepted"
    grant_report_returned = "grants:report:returned"
    compliance_duty_done = "compliance:duty:done"
    login_locked = "auth:login:locked"
    two_factor_enrolled = "auth:two_factor:enrolled"
    two_factor_failed = "auth:two_factor:failed"
    recovery_code_used = "auth:two_factor:recovery_code_used"
    recovery_codes_regenerated = "auth:two_factor:recovery_codes_regenerated"
    two_factor_reset = "auth:two_factor:reset"
    points_posted = "volunteers:points:posted"
    points_reversed = "volunteers:points:reversed"
    volunteer_signed_up = "volunteers:signup:created"
    volunteer_signup_cancelled = "volunteers:signup:cancelled"
    volunteer_checked_in = "volunteers:signup:checked_in"
    volunteer_hours_recorded = "volunteers:hours:recorded"
    volunteer_hours_verified = "volunteers:hours:verified"
    volunteer_hours_rejected = "volunteers:hours:rejected"
    volunteer_hours_reversed = "volunteers:hours:reversed"
    volunteer_reward_redeemed = "volunteers:reward:redeemed"
    volunteer_certificate_issued = "volunteers:certificate:issued"
    volunteer_created = "volunteers:volunteer:created"
    volunteer_updated = "volunteers:volunteer:updated"
    volunteer_activity_created = "volunteers:activity:created"
    volunteer_activity_updated = "volunteers:activity:updated"
    volunteer_shift_added = "volunteers:shift:added"
    volunteer_reward_created = "volunteers:reward:created"
    volunteer_reward_updated = "volunteers:reward:updated"


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
