"""Applications: started by an applicant organisation, edited as a draft version, submitted (the version freezes),
sent back for revision by staff (the applicant starts the next version as a copy), withdrawn before a decision.

    start ──▶ draft (version 1 editable) ──submit──▶ submitted (version 1 frozen)
                                                    │
              staff: request revision (note) ◀─────┘ ──▶ revision_requested ──start next version──▶ version 2
              (editable) ──submit──▶ submitted (version 2 frozen; version 1 stays frozen and viewable)

Status changes go through fundapp.grants.transitions.change_status (audit + notice to the applicant). The
database refuses any change to a submitted version or its budget lines (trigger), whatever the code does.

Submission checks: every required field, budget lines adding up exactly to the requested amount, the request
within the programme's largest request and its budget, sane dates, and a programme still accepting applications
(a resubmission after a revision request is accepted while the programme is open or closed, not archived).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from fundapp.audit.models import AuditEvent
from fundapp.audit.services import AuditTag, record_event
from fundapp.db import utcnow
from fundapp.grants.attachments import copy_attachments
from fundapp.grants.decisions import lock_application
from fundapp.grants.errors import GrantError
from fundapp.grants.models import (
    Application,
    ApplicationStatus,
    ApplicationVersion,
    BudgetLine,
    Organisation,
    Programme,
    ProgrammeStatus,
)
from fundapp.grants.programmes import accepting_applications
from fundapp.grants.transitions import change_status, status_label
from fundapp.money import CENT, MAX_AMOUNT, fmt

A = ApplicationStatus
VERSION_FIELDS = ("title", "community", "summary", "objectives", "beneficiaries", "beneficiaries_count",
                  "starts_on", "ends_on", "requested_amount")
TEXT_LIMITS = {"title": 200, "community": 200, "summary": 5000, "objectives": 5000, "beneficiaries": 5000}
EDITABLE = (A.draft.value, A.revision_requested.value)
DECIDED = (A.approved.value, A.rejected.value, A.withdrawn.value)
SCREENABLE = (A.submitted.value, A.in_review.value)
MAX_LINES = 100
MAX_BENEFICIARIES = 10_000_000


@dataclass(frozen=True)
class LineInput:
    item: str
    amount: Decimal
    category: str = ""


class ApplicationIncomplete(GrantError):
    """Submission refused: `problems` lists every reason, one sentence each."""

    def __init__(self, problems: list[str]):
        super().__init__(" ".join(problems), problems=problems)
        self.problems = problems


# --- starting ---------------------------------------------------------------------------------------------------


def _last_reference(session: Session, prefix: str) -> int:
    last = session.scalar(select(Application.reference).where(Application.reference.like(f"{prefix}%"))
                          .order_by(func.length(Application.reference).desc(), Application.reference.desc())
                          .limit(1))
    tail = (last or "")[len(prefix):]
    return int(tail) if tail.isdigit() else 0


def start_application(session: Session, programme: Programme, organisation: Organisation, actor: Any | None, *,
                      on: dt.date) -> Application:
    """A new application of `organisation` to `programme`, with an empty draft version 1."""
    if not accepting_applications(programme, on):
        raise GrantError(_("Programme %(code)s is not accepting applications (open from %(opens)s to %(closes)s).",
                           code=programme.code, opens=programme.opens_on.isoformat(),
                           closes=programme.closes_on.isoformat()))
    existing = session.scalar(select(Application).where(
        Application.programme_id == programme.id, Application.organisation_id == organisation.id,
        Application.status.not_in((A.withdrawn.value, A.rejected.value))))
    if existing is not None:
        raise GrantError(_("%(org)s already has application %(ref)s to this programme.", org=organisation.name,
                           ref=existing.reference))
    prefix = f"A{on.year}-"
    seq = _last_reference(session, prefix)
    for _attempt in range(10):
        seq += 1
        application = Application(reference=f"{prefix}{seq:05d}", programme_id=programme.id,
                                  organisation_id=organisation.id, status=A.draft.value,
                                  created_by_id=getattr(actor, "id", None))
        try:
            with session.begin_nested():
                session.add(application)
                session.flush()
        except IntegrityError:  # another application took the number meanwhile: take the next
            seq = max(seq, _last_reference(session, prefix))
            continue
        break
    else:
        raise GrantError(_("No application number could be given; try again."))
    session.add(ApplicationVersion(application_id=application.id, version=1, community=organisation.community))
    session.flush()
    session.refresh(application)
    record_event(session, AuditTag.application_created, actor, "application", application.id, after={
        "reference": application.reference, "programme": programme.id, "organisation": organisation.id})
    return application


# --- editing the draft ------------------------------------------------------------------------------------------


def _version_state(version: ApplicationVersion) -> dict[str, Any]:
    state = {key: getattr(version, key) for key in VERSION_FIELDS}
    state["lines"] = [[line.category, line.item, line.amount] for line in version.budget_lines]
    return state


def editable_version(session: Session, application: Application) -> ApplicationVersion:
    """The version the applicant may edit now, or GrantError saying why there is none."""
    if application.status not in EDITABLE:
        raise GrantError(_("Application %(ref)s is “%(status)s”: it cannot be edited now.",
                           ref=application.reference, status=status_label(application.status)))
    session.expire(application, ["versions"])
    version = application.current
    session.refresh(version, ["submitted_at"])
    if version.is_frozen:
        if application.status == A.revision_requested.value:
            raise GrantError(_("Version %(n)s was submitted and cannot change; start the next version to revise "
                               "it.", n=version.version))
        raise GrantError(_("Version %(n)s was submitted and cannot change.", n=version.version))
    return version


def _check_amount(value: Any, *, allow_zero: bool, message: str) -> Decimal:
    if not isinstance(value, Decimal) or not value.is_finite() or value < 0 or (value == 0 and not allow_zero):
        raise GrantError(message)
    if value != value.quantize(CENT):
        raise GrantError(_("An amount has at most two decimal places."))
    if value > MAX_AMOUNT:
        raise GrantError(_("The amount is too large."))
    return value


def _clean_values(values: dict[str, Any]) -> dict[str, Any]:
    out = {key: values.get(key) for key in VERSION_FIELDS}
    for key, limit in TEXT_LIMITS.items():
        out[key] = (out[key] or "").strip()
        if len(out[key]) > limit:
            raise GrantError(_("%(field)s is too long (at most %(n)d characters).", field=key, n=limit))
    count = out["beneficiaries_count"]
    if count is None:
        count = 0
    if not isinstance(count, int) or isinstance(count, bool) or not (0 <= count <= MAX_BENEFICIARIES):
        raise GrantError(_("The number of beneficiaries is a whole number from 0 to %(n)d.", n=MAX_BENEFICIARIES))
    out["beneficiaries_count"] = count
    amount = out["requested_amount"]
    out["requested_amount"] = Decimal("0.00") if amount is None else _check_amount(
        amount, allow_zero=True, message=_("The requested amount cannot be negative."))
    for key in ("starts_on", "ends_on"):
        if out[key] is not None and not isinstance(out[key], dt.date):
            raise GrantError(_("Enter a date as YYYY-MM-DD."))
    if out["starts_on"] and out["ends_on"] and out["ends_on"] < out["starts_on"]:
        raise GrantError(_("The project cannot end (%(end)s) before it starts (%(start)s).",
                           end=out["ends_on"].isoformat(), start=out["starts_on"].isoformat()))
    return out


def _clean_lines(lines: list[LineInput]) -> list[LineInput]:
    out = []
    for n, line in enumerate(lines, start=1):
        item, category = (line.item or "").strip(), (line.category or "").strip()
        if not item:
            raise GrantError(_("Budget line %(n)d needs a description of the item.", n=n))
        if len(item) > 200 or len(category) > 50:
            raise GrantError(_("Budget line %(n)d: the item (200 characters) or category (50) is too long.", n=n))
        amount = _check_amount(line.amount, allow_zero=False,
                               message=_("Budget line %(n)d needs a positive amount.", n=n))
        out.append(LineInput(item, amount, category))
    if len(out) > MAX_LINES:
        raise GrantError(_("A budget has at most %(n)d lines.", n=MAX_LINES))
    return out


def save_draft(session: Session, application: Application, values: dict[str, Any], lines: list[LineInput],
               actor: Any | None) -> ApplicationVersion:
    """Save the editable version's content and budget lines (incomplete content is fine until submission)."""
    application = lock_application(session, application.id)
    version = editable_version(session, application)
    values, lines = _clean_values(values), _clean_lines(lines)
    before = _version_state(version)
    for key, value in values.items():
        setattr(version, key, value)
    new_lines = [(line.category, line.item, line.amount) for line in lines]
    if new_lines != [(line.category, line.item, line.amount) for line in version.budget_lines]:
        version.budget_lines.clear()
        session.flush()  # old lines gone before the new take their positions
        version.budget_lines.extend(BudgetLine(position=n, category=category, item=item, amount=amount)
                                    for n, (category, item, amount) in enumerate(new_lines, start=1))
    application.updated_at = utcnow()
    session.flush()
    after = _version_state(version)
    changed = sorted(key for key in after if after[key] != before[key])
    if changed:
        record_event(session, AuditTag.application_saved, actor, "application", application.id,
                     before={"version": version.version} | {k: before[k] for k in changed},
                     after={"version": version.version} | {k: after[k] for k in changed})
    return version


def start_revision(session: Session, application: Application, actor: Any | None) -> ApplicationVersion:
    """After a request for revision: the next version, a copy of the last one (lines and files copied). If it was
    started already, that version."""
    application = lock_application(session, application.id)
    if application.status != A.revision_requested.value:
        raise GrantError(_("A new version can only be started when staff asked for a revision."))
    session.expire(application, ["versions"])
    last = application.current
    if not last.is_frozen:
        return last
    version = ApplicationVersion(application_id=application.id, version=last.version + 1,
                                 **{key: getattr(last, key) for key in VERSION_FIELDS})
    version.budget_lines = [BudgetLine(position=line.position, category=line.category, item=line.item,
                                       amount=line.amount) for line in last.budget_lines]
    session.add(version)
    session.flush()
    copy_attachments(session, last, version, actor)
    session.expire(application, ["versions"])
    application.updated_at = utcnow()
    record_event(session, AuditTag.application_saved, actor, "application", application.id,
                 after={"version": version.version, "copied_from": last.version})
    return version


# --- submitting -------------------------------------------------------------------------------------------------


def submission_problems(application: Application, version: ApplicationVersion, on: dt.date) -> list[str]:
    """Every reason the version cannot be submitted on `on` (empty if it can)."""
    programme = application.programme
    problems = []
    if application.status == A.revision_requested.value:
        if programme.status not in (ProgrammeStatus.open.value, ProgrammeStatus.closed.value):
            problems.append(_("Programme %(code)s no longer takes revised applications.", code=programme.code))
    elif not accepting_applications(programme, on):
        problems.append(_("Programme %(code)s is not accepting applications (open from %(opens)s to %(closes)s).",
                          code=programme.code, opens=programme.opens_on.isoformat(),
                          closes=programme.closes_on.isoformat()))
    required = (("title", _("Give the project a title.")), ("community", _("Name the community it serves.")),
                ("summary", _("Write a summary of the project.")), ("objectives", _("Describe the objectives.")),
                ("beneficiaries", _("Describe who benefits.")))
    problems += [message for key, message in required if not (getattr(version, key) or "").strip()]
    if version.beneficiaries_count <= 0:
        problems.append(_("Give the number of beneficiaries."))
    if version.starts_on is None or version.ends_on is None:
        problems.append(_("Give the project's start and end dates."))
    elif version.ends_on < version.starts_on:
        problems.append(_("The project cannot end before it starts."))
    elif version.ends_on < on:
        problems.append(_("The project's end date (%(date)s) has passed.", date=version.ends_on.isoformat()))
    requested = version.requested_amount or Decimal("0.00")
    if requested <= 0:
        problems.append(_("Enter the amount requested."))
    if not version.budget_lines:
        problems.append(_("Add the budget lines."))
    elif version.budget_total != requested:
        problems.append(_("The budget lines add up to %(total)s but the request is %(requested)s; they must be "
                          "equal.", total=fmt(version.budget_total), requested=fmt(requested)))
    if programme.max_request is not None and requested > programme.max_request:
        problems.append(_("The request (%(requested)s) is above this programme's largest grant (%(max)s).",
                          requested=fmt(requested), max=fmt(programme.max_request)))
    if requested > programme.budget:
        problems.append(_("The request (%(requested)s) is above the programme's whole budget (%(budget)s).",
                          requested=fmt(requested), budget=fmt(programme.budget)))
    return problems


def submit_application(session: Session, application: Application, actor: Any | None, *,
                       on: dt.date) -> ApplicationVersion:
    """Check the editable version, freeze it and mark the application submitted."""
    application = lock_application(session, application.id)
    if application.status not in EDITABLE:
        raise GrantError(_("Application %(ref)s is “%(status)s”: it cannot be submitted now.",
                           ref=application.reference, status=status_label(application.status)))
    version = editable_version(session, application)
    problems = submission_problems(application, version, on)
    if problems:
        raise ApplicationIncomplete(problems)
    now = utcnow()
    version.submitted_at = now
    version.submitted_by_id = getattr(actor, "id", None)
    if application.submitted_at is None:
        application.submitted_at = now
    session.flush()
    change_status(session, application, A.submitted.value, actor, tag=AuditTag.application_submitted)
    return version


# --- withdrawing ------------------------------------------------------------------------------------------------


def withdraw_application(session: Session, application: Application, actor: Any | None,
                         reason: str = "") -> Application:
    """The applicant withdraws the application; only before a decision."""
    application = lock_application(session, application.id)
    if application.status in DECIDED:
        raise GrantError(_("Application %(ref)s is “%(status)s”: it can no longer be withdrawn.",
                           ref=application.reference, status=status_label(application.status)))
    reason = (reason or "").strip()
    if len(reason) > 1000:
        raise GrantError(_("The reason is too long (at most %(n)d characters).", n=1000))
    return change_status(session, application, A.withdrawn.value, actor, reason, tag=AuditTag.application_withdrawn)


# --- staff ------------------------------------------------------------------------------------------------------


def _note(text: str, message: str) -> str:
    text = (text or "").strip()
    if not text:
        raise GrantError(message)
    if len(text) > 1000:
        raise GrantError(_("The note is too long (at most %(n)d characters).", n=1000))
    return text


def request_revision(session: Session, application: Application, note: str, actor: Any | None) -> Application:
    """Staff send a submitted application back to the applicant with a note of what to revise."""
    note = _note(note, _("Say what the applicant should revise."))
    application = lock_application(session, application.id)
    if application.status not in SCREENABLE:
        raise GrantError(_("Application %(ref)s is “%(status)s”: a revision can be asked only of a submitted "
                           "application or one in review.", ref=application.reference,
                           status=status_label(application.status)))
    application.revision_note = note
    return change_status(session, application, A.revision_requested.value, actor, note,
                         tag=AuditTag.application_revision_requested)


def recommend(session: Session, application: Application, actor: Any | None, note: str = "") -> Application:
    """Staff mark a submitted (or reviewed) application as recommended for a decision."""
    application = lock_application(session, application.id)
    if application.status not in SCREENABLE:
        raise GrantError(_("Application %(ref)s is “%(status)s”: only a submitted application or one in review "
                           "can be recommended.", ref=application.reference, status=status_label(application.status)))
    return change_status(session, application, A.recommended.value, actor, (note or "").strip()[:1000])


def reject_at_screening(session: Session, application: Application, reason: str, actor: Any | None) -> Application:
    """Staff turn down an application at screening (before any decision by the board), with the reason."""
    reason = _note(reason, _("Give the reason the application is turned down."))
    application = lock_application(session, application.id)
    if application.status not in SCREENABLE:
        raise GrantError(_("Application %(ref)s is “%(status)s”: only a submitted application or one in review "
                           "can be turned down at screening.", ref=application.reference,
                           status=status_label(application.status)))
    return change_status(session, application, A.rejected.value, actor, reason)


# --- reading ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    at: dt.datetime
    status: str | None  # the status reached, or None for a step that does not change it
    note: str
    actor: str
    tag: str
    version: int | None = None  # a new version started


def timeline(session: Session, application: Application, *, with_actors: bool = True) -> list[Step]:
    """The application's history from the audit trail: creation, saves of versions, each status change."""
    events = session.scalars(select(AuditEvent).where(
        AuditEvent.subject_type == "application", AuditEvent.subject_id == str(application.id),
        AuditEvent.tag.in_((AuditTag.application_created.value, AuditTag.application_saved.value,
                            AuditTag.application_submitted.value,
                            AuditTag.application_status_changed.value, AuditTag.application_revision_requested.value,
                            AuditTag.application_withdrawn.value)))
        .options(joinedload(AuditEvent.actor)).order_by(AuditEvent.created_at, AuditEvent.id))
    steps = []
    for event in events:
        after = event.after or {}
        if event.tag == AuditTag.application_saved.value and "copied_from" not in after:
            continue  # a save of the draft: not a step; a new version started is
        status = A.draft.value if event.tag == AuditTag.application_created.value else after.get("status")
        actor = event.actor.display_name if with_actors and event.actor is not None else ""
        steps.append(Step(at=event.created_at, status=status, note=after.get("note", ""), actor=actor,
                          tag=event.tag, version=after.get("version") if "copied_from" in after else None))
    return steps
