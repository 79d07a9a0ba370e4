"""What the board sees before it votes (the packet), the public decision summary, and the minutes PDF.

The minutes of a decision print, from plain values: the agenda item, a summary of the packet (application,
organisation, amount, the reviews' mean weighted score, the fund as the decision found it — kept in the
decision's audit event), each vote with its comment and time, the recusals with their reasons, the quorum and
majority rules with the count, the result and the time. WeasyPrint renders it with the CJK font, as receipts.

The public summary (for the disclosure site) names the organisation, project, amount, fund, date, result and the
vote count — never comments or the names of members.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from fundapp.audit.models import AuditEvent
from fundapp.audit.services import AuditTag
from fundapp.dates import local_today
from fundapp.grants.funding import awarded_in, net_assets, spendable
from fundapp.grants.models import (
    AgendaItem,
    Application,
    AssignmentStatus,
    DecisionKind,
    DecisionOutcome,
    GrantDecision,
    ReviewAssignment,
    ReviewScore,
    VoteChoice,
)
from fundapp.grants.review import Scored, review_total, weighted_score
from fundapp.ledger.services import books_text
from fundapp.money import fmt


def local_time(value: dt.datetime | None) -> str:
    """A stored time (aware, or naive UTC from SQLite) in the foundation's time zone."""
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    zone = ZoneInfo(current_app.config.get("BABEL_DEFAULT_TIMEZONE", "Asia/Shanghai"))
    return value.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def choice_label(choice: str) -> str:
    return {VoteChoice.approve.value: _("For"), VoteChoice.reject.value: _("Against"),
            VoteChoice.abstain.value: _("Abstain")}.get(choice, choice)


def outcome_label(outcome: str) -> str:
    return {DecisionOutcome.approved.value: _("Approved"), DecisionOutcome.rejected.value: _("Not approved"),
            DecisionOutcome.no_quorum.value: _("No quorum: not decided")}.get(outcome, outcome)


# --- the packet ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReviewRow:
    reviewer: str
    status: str
    score: Decimal | None  # the review's weighted total out of 100, for a submitted review
    comment: str
    conflict: str
    scored: tuple[Scored, ...] = ()


def review_rows(session: Session, application: Application) -> list[ReviewRow]:
    """Each reviewer's weighted total (fundapp.grants.review, as on the ranking page), or the conflict declared."""
    assignments = session.scalars(select(ReviewAssignment).where(ReviewAssignment.application_id == application.id)
                                  .options(selectinload(ReviewAssignment.scores).joinedload(ReviewScore.criterion))
                                  .order_by(ReviewAssignment.id)).all()
    rows = []
    for a in assignments:
        submitted = a.status == AssignmentStatus.submitted.value and bool(a.scores)
        scored = tuple(Scored(s.score, s.criterion.max_score, s.criterion.weight) for s in a.scores) \
            if submitted else ()
        rows.append(ReviewRow(a.reviewer.display_name, a.status, review_total(scored) if submitted else None,
                              a.comment if submitted else "",
                              a.conflict_note if a.status == AssignmentStatus.conflicted.value else "", scored))
    return rows


def mean_score(rows: list[ReviewRow]) -> Decimal | None:
    """The reviews' mean weighted score (None without a submitted review)."""
    return weighted_score([list(r.scored) for r in rows if r.scored])


@dataclass(frozen=True)
class FundNow:
    net_assets: Decimal
    spendable: Decimal
    programme_left: Decimal


def fund_now(session: Session, application: Application, on: dt.date | None = None) -> FundNow:
    programme = application.programme
    on = on or local_today()
    return FundNow(net_assets(session, programme.fund, on), spendable(session, programme.fund, on),
                   programme.budget - awarded_in(session, programme.id))


# --- public summary ------------------------------------------------------------------------------------------------


def public_summary(application: Application, *, kind: str, outcome: str, amount: Decimal, on: dt.date | None,
                   count: Any | None) -> str:
    """One paragraph in the foundation's language for the disclosure site: no comments, no members' names."""
    version = application.latest_submitted or application.current
    values = {"date": (on or local_today()).isoformat(), "org": application.organisation.name,
              "title": version.title, "amount": fmt(amount), "fund": application.programme.fund.name}
    if kind == DecisionKind.staff.value:
        if outcome == DecisionOutcome.approved.value:
            return books_text("On %(date)s the foundation approved a grant of ¥%(amount)s from the fund "
                              "%(fund)s to %(org)s for the project “%(title)s” (a staff decision under the limit "
                              "set for the board).", **values)
        return books_text("On %(date)s the foundation did not approve the application of %(org)s for the project "
                          "“%(title)s” (¥%(amount)s from the fund %(fund)s).", **values)
    if outcome == DecisionOutcome.approved.value:
        text = books_text("On %(date)s the board approved a grant of ¥%(amount)s from the fund %(fund)s to %(org)s "
                          "for the project “%(title)s”.", **values)
    elif outcome == DecisionOutcome.rejected.value:
        text = books_text("On %(date)s the board did not approve the application of %(org)s for the project "
                          "“%(title)s” (¥%(amount)s from the fund %(fund)s).", **values)
    else:
        text = books_text("On %(date)s the board could not decide on the application of %(org)s for the project "
                          "“%(title)s” (¥%(amount)s from the fund %(fund)s): there was no quorum.", **values)
    votes = books_text("Votes: %(for)d for, %(against)d against, %(abstain)d abstaining; %(recused)d member(s) "
                       "recused.", **{"for": count.votes_for, "against": count.votes_against,
                                      "abstain": count.abstentions, "recused": count.recused})
    return f"{text} {votes}"


# --- minutes -------------------------------------------------------------------------------------------------------


def decision_figures(session: Session, decision: GrantDecision) -> dict[str, str]:
    """The fund figures the decision found, from its audit event (empty if it has none)."""
    event = session.scalar(select(AuditEvent).where(AuditEvent.tag == AuditTag.grant_decided.value,
                                                    AuditEvent.subject_type == "grant_decision",
                                                    AuditEvent.subject_id == str(decision.id)))
    after = (event.after or {}) if event is not None else {}
    return {key: fmt(Decimal(after[key])) for key in ("fund_net_assets", "fund_spendable", "programme_left")
            if after.get(key) not in (None, "")}


def rule_text(rule: str) -> str:
    return rule or "—"


def approvals_needed(majority_rule: str, cast: int) -> int | None:
    """The fewest approvals that carry `cast` votes: more than majority × cast."""
    try:
        majority = Fraction(majority_rule)
    except (ValueError, ZeroDivisionError):
        return None
    return math.floor(majority * cast) + 1


def quorum_votes(quorum_rule: str, eligible: int) -> int | None:
    try:
        return math.ceil(Fraction(quorum_rule) * eligible)
    except (ValueError, ZeroDivisionError):
        return None


def minutes_values(session: Session, decision: GrantDecision) -> dict[str, Any]:
    """Everything printed in the minutes, as plain values (call under the locale they are printed in)."""
    application = decision.application
    version = application.latest_submitted or application.current
    item: AgendaItem | None = decision.item
    reviews = review_rows(session, application)
    cast = decision.votes_for + decision.votes_against + decision.abstentions
    return {
        "foundation_name": current_app.config.get("FOUNDATION_NAME") or _("Community Foundation"),
        "board": decision.kind == DecisionKind.board.value,
        "decision_id": decision.id,
        "agenda_title": item.agenda.title if item else "",
        "meeting_on": item.agenda.meeting_on.isoformat() if item else "",
        "opened_at": local_time(item.agenda.opened_at) if item else "",
        "item_position": item.position if item else None,
        "recommendation": item.recommendation if item else "",
        "reference": application.reference,
        "project": version.title,
        "community": version.community,
        "organisation": application.organisation.name,
        "reg_no": application.organisation.reg_no,
        "programme": application.programme.title,
        "fund": f"{application.programme.fund.code} {application.programme.fund.name}",
        "requested": fmt(version.requested_amount),
        "amount": fmt(decision.amount),
        "reviews": [{"reviewer": r.reviewer, "score": fmt(r.score) if r.score is not None else "",
                     "conflict": r.conflict} for r in reviews],
        "mean_score": fmt(mean) if (mean := mean_score(reviews)) is not None else "",
        "figures": decision_figures(session, decision),
        "votes": [{"member": v.member.display_name, "choice": choice_label(v.choice), "comment": v.comment,
                   "at": local_time(v.cast_at)} for v in (item.votes if item else [])],
        "recusals": [{"member": r.member.display_name, "reason": r.reason, "at": local_time(r.declared_at)}
                     for r in (item.recusals if item else [])],
        "votes_for": decision.votes_for, "votes_against": decision.votes_against,
        "abstentions": decision.abstentions, "recused": decision.recused, "eligible": decision.eligible,
        "cast": cast,
        "quorum_rule": rule_text(decision.quorum_rule), "majority_rule": rule_text(decision.majority_rule),
        "quorum_votes": quorum_votes(decision.quorum_rule, decision.eligible),
        "approvals_needed": approvals_needed(decision.majority_rule, cast),
        "outcome": outcome_label(decision.outcome),
        "decided_at": local_time(decision.decided_at),
        "decided_on": decision.decided_on.isoformat(),
        "decided_by": decision.decided_by.display_name if decision.decided_by else "",
        "note": decision.note,
        "public_summary": decision.public_summary,
    }


def minutes_pdf(session: Session, decision: GrantDecision) -> bytes:
    """The minutes as a PDF, in the foundation's language. WeasyPrint loads only here."""
    from weasyprint import HTML

    from fundapp.donations.pdf import CJK_FONT, StaticOnlyFetcher

    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        html = render_template("pdf/minutes.html", m=minutes_values(session, decision), font=CJK_FONT)
    root = current_app.static_folder
    return HTML(string=html, base_url=f"file://{root}/", url_fetcher=StaticOnlyFetcher(root)).write_pdf()
