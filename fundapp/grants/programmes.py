"""Programmes and calls for proposals: the fund they draw on, the budget, the rubric, the calendar.

    draft ──open──▶ open ──close──▶ closed ──archive──▶ archived
                      ▲               │
                      └───reopen──────┘

- The budget cannot exceed what the fund can commit: `spendable(fund, today, less_commitments=True)` without this
  programme's own commitment (for an endowment that is its income only, never the principal). A programme with
  awards needs room only for the part not yet awarded (awards have already left the fund's net assets).
  Checked when a programme is created, when its budget grows or its fund changes, and when it opens. The fund row
  is locked first, so two programmes cannot both take the last yuan.
- The rubric: at least one criterion; weights (percent) add up to exactly 100; each criterion scores 0..max_score.
- Once any application has been submitted to it, the rubric and the fund are frozen.
- Archiving releases what is left of the budget; it is refused while applications still wait for a decision.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fundapp.audit.services import AuditTag, record_event, snapshot
from fundapp.grants.errors import FundShortfall, GrantError
from fundapp.grants.funding import awarded_in, lock_fund, spendable
from fundapp.grants.models import (
    Application,
    ApplicationStatus,
    Programme,
    ProgrammeKind,
    ProgrammeStatus,
    RubricCriterion,
)
from fundapp.ledger.models import Fund, FundStatus
from fundapp.money import CENT, MAX_AMOUNT, fmt

PROGRAMME_FIELDS = ("code", "title", "kind", "fund_id", "budget", "description", "eligibility", "opens_on",
                    "closes_on", "max_request")
CODE_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,29}")
KINDS = {k.value for k in ProgrammeKind}
S = ProgrammeStatus
STATUS_MOVES: dict[str, frozenset[str]] = {
    S.draft: frozenset({S.open}),
    S.open: frozenset({S.closed}),
    S.closed: frozenset({S.open, S.archived}),
    S.archived: frozenset(),
}
WAITING = (ApplicationStatus.submitted.value, ApplicationStatus.in_review.value,
           ApplicationStatus.revision_requested.value, ApplicationStatus.recommended.value,
           ApplicationStatus.on_agenda.value)
HUNDRED = Decimal("100")


@dataclass(frozen=True)
class CriterionInput:
    name: str
    weight: Decimal
    max_score: int = 10
    description: str = ""


def _status_label(status: str) -> str:
    return {S.draft: _("Draft"), S.open: _("Open"), S.closed: _("Closed"), S.archived: _("Archived")}.get(
        status, status)


def has_submissions(session: Session, programme_id: int) -> bool:
    """True once any application to the programme has been submitted (even if later withdrawn)."""
    return session.scalar(select(func.count()).select_from(Application).where(
        Application.programme_id == programme_id, Application.submitted_at.is_not(None))) > 0


def _check_money(value: Any, message: str) -> Decimal:
    if not isinstance(value, Decimal) or not value.is_finite() or value <= 0:
        raise GrantError(message)
    if value != value.quantize(CENT):
        raise GrantError(_("An amount has at most two decimal places."))
    if value > MAX_AMOUNT:
        raise GrantError(_("The amount is too large."))
    return value


def _clean(values: dict[str, Any]) -> dict[str, Any]:
    out = {key: values[key] for key in PROGRAMME_FIELDS if key in values}
    for key in ("code", "title", "description", "eligibility", "kind"):
        if key in out:
            out[key] = (out[key] or "").strip()
    for key in ("description", "eligibility"):
        if key in out and len(out[key]) > 20000:
            raise GrantError(_("The description or eligibility text is too long (at most %(n)d characters).",
                               n=20000))
    return out


def _validate(session: Session, values: dict[str, Any], programme: Programme | None) -> Fund:
    if not CODE_RE.fullmatch(values.get("code") or ""):
        raise GrantError(_("A programme code has 1 to 30 letters, digits, '-' or '_', starting with a letter or "
                           "digit."))
    clash = session.scalar(select(Programme).where(func.lower(Programme.code) == values["code"].lower()))
    if clash is not None and clash is not programme:
        raise GrantError(_("Programme %(code)s already exists.", code=clash.code))
    if not values.get("title"):
        raise GrantError(_("A programme needs a title."))
    if len(values["title"]) > 200:
        raise GrantError(_("The title is too long (at most %(n)d characters).", n=200))
    if values.get("kind") not in KINDS:
        raise GrantError(_("Choose the kind of programme."))
    fund = session.get(Fund, values.get("fund_id")) if values.get("fund_id") else None
    if fund is None:
        raise GrantError(_("Choose the fund the programme draws on."))
    if fund.status != FundStatus.active.value:
        raise GrantError(_("Fund %(fund)s is closed.", fund=fund.name))
    budget = _check_money(values.get("budget"), _("Enter a positive budget."))
    opens_on, closes_on = values.get("opens_on"), values.get("closes_on")
    if not isinstance(opens_on, dt.date) or not isinstance(closes_on, dt.date):
        raise GrantError(_("Enter the dates the call opens and closes."))
    if closes_on < opens_on:
        raise GrantError(_("The call cannot close (%(closes)s) before it opens (%(opens)s).",
                           closes=closes_on.isoformat(), opens=opens_on.isoformat()))
    max_request = values.get("max_request")
    if max_request is not None:
        _check_money(max_request, _("The largest request must be a positive amount (or left blank)."))
        if max_request > budget:
            raise GrantError(_("The largest request (%(max)s) cannot exceed the budget (%(budget)s).",
                               max=fmt(max_request), budget=fmt(budget)))
    return fund


def _validate_criteria(criteria: list[CriterionInput]) -> list[CriterionInput]:
    criteria = [CriterionInput((c.name or "").strip(), c.weight, c.max_score, (c.description or "").strip())
                for c in criteria]
    if not criteria:
        raise GrantError(_("The rubric needs at least one criterion."))
    names = set()
    for c in criteria:
        if not c.name:
            raise GrantError(_("Every criterion needs a name."))
        if len(c.name) > 200 or len(c.description) > 1000:
            raise GrantError(_("Criterion %(name)s: the name or description is too long.", name=c.name[:50]))
        if c.name.lower() in names:
            raise GrantError(_("Criterion %(name)s appears twice.", name=c.name))
        names.add(c.name.lower())
        if not isinstance(c.weight, Decimal) or not c.weight.is_finite() or not (0 < c.weight <= HUNDRED) \
                or c.weight != c.weight.quantize(CENT):
            raise GrantError(_("Criterion %(name)s: the weight is a percentage above 0 and at most 100, with at "
                               "most two decimals.", name=c.name))
        if not isinstance(c.max_score, int) or not (1 <= c.max_score <= 100):
            raise GrantError(_("Criterion %(name)s: the top score is a whole number from 1 to 100.", name=c.name))
    total = sum((c.weight for c in criteria), Decimal("0"))
    if total != HUNDRED:
        raise GrantError(_("The criteria's weights add up to %(total)s%%; they must add up to exactly 100%%.",
                           total=f"{total.normalize():f}"))
    return criteria


def check_budget(session: Session, fund_id: int, budget: Decimal, programme: Programme | None,
                 on: dt.date) -> None:
    """Refuse unless the fund (locked here) can commit `budget` for this programme on `on`."""
    fund = lock_fund(session, fund_id)
    awarded = awarded_in(session, programme.id) if programme is not None and programme.id else Decimal("0.00")
    if budget < awarded:
        raise GrantError(_("The budget cannot be less than the %(awarded)s already awarded from it.",
                           awarded=fmt(awarded)))
    available = spendable(session, fund, on, less_commitments=True,
                          exclude_programme_id=programme.id if programme is not None else None)
    needed = budget - awarded
    if needed > available:
        if awarded:
            raise FundShortfall(_("Fund %(fund)s can commit %(available)s now (its spendable money less other "
                                  "programmes' budgets); this budget needs %(needed)s more than the %(awarded)s "
                                  "already awarded. Lower the budget to at most %(most)s.",
                                  fund=fund.name, available=fmt(available), needed=fmt(needed),
                                  awarded=fmt(awarded), most=fmt(available + awarded)))
        raise FundShortfall(_("Fund %(fund)s can commit %(available)s now (its spendable money less other "
                              "programmes' budgets); a budget of %(budget)s is too large.",
                              fund=fund.name, available=fmt(available), budget=fmt(budget)))


def _criteria_state(programme: Programme) -> list[dict[str, Any]]:
    return [{"name": c.name, "weight": str(c.weight), "max_score": c.max_score, "description": c.description}
            for c in programme.criteria]


def _state(programme: Programme) -> dict[str, Any]:
    return snapshot(programme, (*PROGRAMME_FIELDS, "status")) | {"criteria": _criteria_state(programme)}


def _set_criteria(session: Session, programme: Programme, criteria: list[CriterionInput]) -> None:
    for old in list(programme.criteria):
        session.delete(old)
    session.flush()
    session.expire(programme, ["criteria"])
    for position, c in enumerate(criteria, start=1):
        session.add(RubricCriterion(programme_id=programme.id, position=position, name=c.name,
                                    description=c.description, weight=c.weight, max_score=c.max_score))
    session.flush()
    session.expire(programme, ["criteria"])


def create_programme(session: Session, values: dict[str, Any], criteria: list[CriterionInput], actor: Any | None,
                     *, on: dt.date) -> Programme:
    """A new programme in draft, with its rubric."""
    values = _clean(values)
    values.setdefault("kind", ProgrammeKind.call.value)
    fund = _validate(session, values, None)
    criteria = _validate_criteria(criteria)
    check_budget(session, fund.id, values["budget"], None, on)
    programme = Programme(**{key: values.get(key) for key in PROGRAMME_FIELDS}, status=S.draft.value,
                          created_by_id=getattr(actor, "id", None))
    programme.description = programme.description or ""
    programme.eligibility = programme.eligibility or ""
    programme.fund = fund
    session.add(programme)
    session.flush()
    _set_criteria(session, programme, criteria)
    record_event(session, AuditTag.programme_created, actor, "programme", programme.id, after=_state(programme))
    return programme


def update_programme(session: Session, programme: Programme, values: dict[str, Any], criteria: list[CriterionInput],
                     actor: Any | None, *, on: dt.date) -> Programme:
    """Save a programme's facts and rubric. The rubric and fund are frozen once an application was submitted."""
    if programme.status == S.archived.value:
        raise GrantError(_("An archived programme cannot change."))
    values = _clean(values)
    merged = {key: getattr(programme, key) for key in PROGRAMME_FIELDS} | values
    fund = _validate(session, merged, programme)
    criteria = _validate_criteria(criteria)
    before = _state(programme)
    rubric_changed = [(c.name, c.weight, c.max_score, c.description) for c in criteria] != [
        (c.name, c.weight, c.max_score, c.description) for c in programme.criteria]
    fund_changed = fund.id != programme.fund_id
    if (rubric_changed or fund_changed) and has_submissions(session, programme.id):
        raise GrantError(_("Applications have been submitted to this programme: its rubric and fund can no longer "
                           "change."))
    if fund_changed and awarded_in(session, programme.id) > 0:
        raise GrantError(_("Grants were awarded from this programme: its fund can no longer change."))
    if fund_changed or merged["budget"] > programme.budget:
        check_budget(session, fund.id, merged["budget"], programme, on)
    awarded = awarded_in(session, programme.id)
    if merged["budget"] < awarded:
        raise GrantError(_("The budget cannot be less than the %(awarded)s already awarded from it.",
                           awarded=fmt(awarded)))
    for key in PROGRAMME_FIELDS:
        setattr(programme, key, merged[key])
    session.flush()
    if fund_changed:
        session.expire(programme, ["fund"])
    if rubric_changed:
        _set_criteria(session, programme, criteria)
    after = _state(programme)
    changed = {key for key in after if before.get(key) != after[key]}
    if changed:
        record_event(session, AuditTag.programme_updated, actor, "programme", programme.id,
                     before={k: before[k] for k in sorted(changed)}, after={k: after[k] for k in sorted(changed)})
    return programme


def set_programme_status(session: Session, programme: Programme, new: str, actor: Any | None, *,
                         on: dt.date) -> Programme:
    """Open, close, reopen or archive a programme."""
    old = programme.status
    if new not in STATUS_MOVES.get(old, frozenset()):
        raise GrantError(_("A programme that is “%(old)s” cannot become “%(new)s”.", old=_status_label(old),
                           new=_status_label(new)))
    if new == S.open.value:
        if programme.closes_on < on:
            raise GrantError(_("The call closed on %(date)s; move its closing date before opening it.",
                               date=programme.closes_on.isoformat()))
        check_budget(session, programme.fund_id, programme.budget, programme, on)
    if new == S.archived.value:
        waiting = session.scalar(select(func.count()).select_from(Application).where(
            Application.programme_id == programme.id, Application.status.in_(WAITING)))
        if waiting:
            raise GrantError(_("%(n)d applications still wait for a decision; decide or close them before archiving.",
                               n=waiting))
    programme.status = new
    session.flush()
    record_event(session, AuditTag.programme_status_changed, actor, "programme", programme.id,
                 before={"status": old}, after={"status": new})
    return programme


def accepting_applications(programme: Programme, on: dt.date) -> bool:
    """True while the call is open and `on` lies between its opening and closing dates."""
    return programme.status == S.open.value and programme.opens_on <= on <= programme.closes_on
