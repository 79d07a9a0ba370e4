"""The board deciding online: agendas, items, votes, recusals, the count and the decision.

    agenda   draft ──open (members told)──▶ open ──close (every pending item decided)──▶ closed
    item     pending ──▶ decided (closed by staff, with the agenda, or once every member voted or recused)
             pending ──▶ withdrawn (by staff before the decision; the application is recommended again)

The count is a pure function on plain integers (`outcome`), under two rules from the configuration, fractions
such as BOARD_QUORUM = "2/3" and BOARD_MAJORITY = "1/2":

    eligible  = board members (enabled users with role board) when the item is decided, plus anyone who voted
                and has since left the board, minus those who declared a conflict (recused)
    quorum    met when votes cast (approve + reject + abstain) ≥ ⌈quorum × eligible⌉ and at least one was cast
    approved  when approvals > majority × votes cast; otherwise rejected; without quorum: no_quorum, and the
              application goes back to "recommended" so staff can put it on a later agenda

Decisions go through `decisions.record_decision`; when the fund cannot cover the amount at that moment it raises
FundShortfall and nothing is written: the item stays pending (staff may withdraw it).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from fundapp.audit.services import AuditTag, record_event
from fundapp.auth.models import User, UserRole
from fundapp.dates import local_today
from fundapp.db import utcnow
from fundapp.grants.decisions import Count, check_amount, lock_application, record_decision, staff_limit
from fundapp.grants.errors import FundShortfall, GrantError
from fundapp.grants.minutes import local_time, public_summary
from fundapp.grants.models import (
    AgendaItem,
    AgendaStatus,
    Application,
    ApplicationStatus,
    BoardAgenda,
    BoardRecusal,
    BoardVote,
    DecisionKind,
    DecisionOutcome,
    GrantDecision,
    ItemStatus,
    VoteChoice,
)
from fundapp.grants.transitions import change_status
from fundapp.money import fmt
from fundapp.notify.services import notify

BOARD_ROLE = "board"


# --- the count: pure -------------------------------------------------------------------------------------------


def parse_rule(text: Any, *, name: str = "rule") -> Fraction:
    """A share such as "2/3", "1/2" or "0.5" as an exact Fraction in 0..1 (ValueError otherwise)."""
    try:
        value = Fraction(str(text).strip())
    except (ValueError, ZeroDivisionError) as error:
        raise ValueError(f"{name} {text!r} is not a fraction such as 2/3") from error
    if not 0 <= value <= 1:
        raise ValueError(f"{name} {text!r} is not between 0 and 1")
    return value


@dataclass(frozen=True)
class Tally:
    approve: int = 0
    reject: int = 0
    abstain: int = 0
    recused: int = 0
    eligible: int = 0

    @property
    def cast(self) -> int:
        return self.approve + self.reject + self.abstain


def quorum_needed(eligible: int, quorum: Fraction) -> int:
    """Votes needed for a quorum: ⌈quorum × eligible⌉, exact."""
    return math.ceil(quorum * eligible)


def outcome(tally: Tally, quorum: Fraction, majority: Fraction) -> str:
    """approved / rejected / no_quorum for a count under the rules."""
    if tally.cast == 0 or tally.cast < quorum_needed(tally.eligible, quorum):
        return DecisionOutcome.no_quorum.value
    if Fraction(tally.approve) > majority * tally.cast:
        return DecisionOutcome.approved.value
    return DecisionOutcome.rejected.value


@dataclass(frozen=True)
class Rules:
    quorum: Fraction
    majority: Fraction
    quorum_text: str
    majority_text: str


def rules() -> Rules:
    quorum_text = str(current_app.config.get("BOARD_QUORUM", "2/3")).strip()
    majority_text = str(current_app.config.get("BOARD_MAJORITY", "1/2")).strip()
    quorum, majority = parse_rule(quorum_text, name="BOARD_QUORUM"), parse_rule(majority_text, name="BOARD_MAJORITY")
    if quorum == 0 or majority == 1:
        raise ValueError("BOARD_QUORUM must be above 0 and BOARD_MAJORITY below 1")
    return Rules(quorum, majority, quorum_text, majority_text)


# --- reads ---------------------------------------------------------------------------------------------------------


def board_member_ids(session: Session) -> set[int]:
    """Enabled users with role board, now."""
    return set(session.scalars(select(User.id).join(UserRole, UserRole.user_id == User.id)
                               .where(UserRole.role == BOARD_ROLE, User.is_enabled.is_(True))))


def is_board_member(user: Any) -> bool:
    return bool(user is not None and getattr(user, "is_enabled", False) and user.has_role(BOARD_ROLE))


def voter_ids(session: Session, item_id: int) -> dict[int, str]:
    """Member id -> choice of the votes cast on an item."""
    stmt = select(BoardVote.member_id, BoardVote.choice).where(BoardVote.item_id == item_id)
    return dict(session.execute(stmt).all())


def recused_ids(session: Session, item_id: int) -> set[int]:
    return set(session.scalars(select(BoardRecusal.member_id).where(BoardRecusal.item_id == item_id)))


def make_tally(votes: dict[int, str], recused: set[int], members: set[int]) -> Tally:
    """The count from member id -> choice, the recused member ids and the board members now."""
    choices = list(votes.values())
    return Tally(approve=choices.count(VoteChoice.approve.value), reject=choices.count(VoteChoice.reject.value),
                 abstain=choices.count(VoteChoice.abstain.value), recused=len(recused),
                 eligible=len((members | set(votes)) - recused))


def tally_item(session: Session, item_id: int, members: set[int] | None = None) -> Tally:
    members = board_member_ids(session) if members is None else members
    return make_tally(voter_ids(session, item_id), recused_ids(session, item_id), members)


@dataclass
class AgendaCounts:
    """For an agenda page: each item's tally and one member's own votes and recusals (two queries in all)."""

    tallies: dict[int, Tally]
    my_votes: dict[int, str]
    my_recusals: set[int]


def agenda_counts(session: Session, item_ids: list[int], members: set[int], member_id: int | None) -> AgendaCounts:
    votes: dict[int, dict[int, str]] = {i: {} for i in item_ids}
    recused: dict[int, set[int]] = {i: set() for i in item_ids}
    if item_ids:
        for item_id, voter, choice in session.execute(select(BoardVote.item_id, BoardVote.member_id, BoardVote.choice)
                                                      .where(BoardVote.item_id.in_(item_ids))):
            votes[item_id][voter] = choice
        for item_id, member in session.execute(select(BoardRecusal.item_id, BoardRecusal.member_id)
                                               .where(BoardRecusal.item_id.in_(item_ids))):
            recused[item_id].add(member)
    return AgendaCounts({i: make_tally(votes[i], recused[i], members) for i in item_ids},
                        {i: v[member_id] for i, v in votes.items() if member_id in v},
                        {i for i, r in recused.items() if member_id in r})


def awaiting_counts(session: Session, member_id: int) -> dict[int, int]:
    """Open agenda id -> pending items on which this member has neither voted nor declared a conflict."""
    voted = select(BoardVote.item_id).where(BoardVote.member_id == member_id)
    recused = select(BoardRecusal.item_id).where(BoardRecusal.member_id == member_id)
    stmt = (select(AgendaItem.agenda_id, func.count(AgendaItem.id)).join(BoardAgenda)
            .where(BoardAgenda.status == AgendaStatus.open.value, AgendaItem.status == ItemStatus.pending.value,
                   AgendaItem.id.not_in(voted), AgendaItem.id.not_in(recused))
            .group_by(AgendaItem.agenda_id))
    return dict(session.execute(stmt).all())


@dataclass(frozen=True)
class MemberState:
    vote: BoardVote | None
    recusal: BoardRecusal | None


def member_state(session: Session, item_id: int, member_id: int) -> MemberState:
    """A member's own vote or declared conflict on an item."""
    return MemberState(
        session.scalar(select(BoardVote).where(BoardVote.item_id == item_id, BoardVote.member_id == member_id)),
        session.scalar(select(BoardRecusal).where(BoardRecusal.item_id == item_id,
                                                  BoardRecusal.member_id == member_id)))


def as_utc(value: dt.datetime | None) -> dt.datetime | None:
    """SQLite hands back naive UTC datetimes; PostgreSQL aware ones."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=dt.UTC)


def deadline_passed(agenda: BoardAgenda, now: dt.datetime | None = None) -> bool:
    deadline = as_utc(agenda.vote_deadline)
    return deadline is not None and (now or utcnow()) > deadline


# --- locks ---------------------------------------------------------------------------------------------------------


def lock_agenda(session: Session, agenda_id: int) -> BoardAgenda:
    stmt = select(BoardAgenda).where(BoardAgenda.id == agenda_id).with_for_update(of=BoardAgenda)
    return session.execute(stmt.execution_options(populate_existing=True)).scalar_one()


def pending_items(session: Session, agenda_id: int) -> list[AgendaItem]:
    """The agenda's items waiting for a decision, read afresh (call with the agenda locked)."""
    stmt = (select(AgendaItem).where(AgendaItem.agenda_id == agenda_id, AgendaItem.status == ItemStatus.pending.value)
            .order_by(AgendaItem.position))
    return list(session.scalars(stmt.execution_options(populate_existing=True)))


def lock_item(session: Session, item_id: int) -> AgendaItem:
    """The item and its agenda, locked and read afresh (a close that just committed is seen). Everything here
    locks in one order, agenda → item → application → fund, so a vote and a close never deadlock."""
    agenda_id = session.scalar(select(AgendaItem.agenda_id).where(AgendaItem.id == item_id))
    lock_agenda(session, agenda_id)
    stmt = select(AgendaItem).where(AgendaItem.id == item_id).with_for_update(of=AgendaItem)
    return session.execute(stmt.execution_options(populate_existing=True)).scalar_one()


# --- agendas and items ---------------------------------------------------------------------------------------------


def create_agenda(session: Session, title: str, meeting_on: dt.date, vote_deadline: dt.datetime | None,
                  actor: Any | None) -> BoardAgenda:
    title = (title or "").strip()
    if not title:
        raise GrantError(_("Give the agenda a title."))
    if len(title) > 200:
        raise GrantError(_("The title is too long (at most %(n)d characters).", n=200))
    if not isinstance(meeting_on, dt.date):
        raise GrantError(_("Enter the meeting date."))
    if vote_deadline is not None:
        vote_deadline = as_utc(vote_deadline).astimezone(dt.UTC)  # stored in UTC (SQLite drops the offset)
        if vote_deadline <= utcnow():
            raise GrantError(_("The vote deadline must be in the future."))
    agenda = BoardAgenda(title=title, meeting_on=meeting_on, vote_deadline=vote_deadline,
                         created_by_id=getattr(actor, "id", None))
    session.add(agenda)
    session.flush()
    record_event(session, AuditTag.agenda_created, actor, "board_agenda", agenda.id, after={
        "title": title, "meeting_on": meeting_on, "vote_deadline": vote_deadline})
    return agenda


def add_item(session: Session, agenda: BoardAgenda, application: Application, amount: Decimal,
             recommendation: str, actor: Any | None) -> AgendaItem:
    """Put a recommended application on a draft agenda with the amount recommended (at most the amount asked)."""
    agenda = lock_agenda(session, agenda.id)
    if agenda.status != AgendaStatus.draft.value:
        raise GrantError(_("Items are added while the agenda is a draft, before it opens."))
    application = lock_application(session, application.id)
    if application.status != ApplicationStatus.recommended.value:
        raise GrantError(_("Only a recommended application can be put on an agenda."))
    amount = check_amount(amount)
    version = application.latest_submitted
    requested = version.requested_amount if version is not None else Decimal("0.00")
    if amount > requested:
        raise GrantError(_("The amount is more than the %(requested)s the application asks for.",
                           requested=fmt(requested)))
    recommendation = (recommendation or "").strip()
    if len(recommendation) > 2000:
        raise GrantError(_("The recommendation is too long (at most %(n)d characters).", n=2000))
    position = (session.scalar(select(func.max(AgendaItem.position)).where(AgendaItem.agenda_id == agenda.id))
                or 0) + 1
    item = AgendaItem(agenda_id=agenda.id, position=position, application_id=application.id, amount=amount,
                      recommendation=recommendation)
    session.add(item)
    session.flush()
    change_status(session, application, ApplicationStatus.on_agenda.value, actor)
    record_event(session, AuditTag.agenda_item_added, actor, "agenda_item", item.id, after={
        "agenda": agenda.id, "application": application.id, "amount": amount, "position": position})
    return item


def withdraw_item(session: Session, item: AgendaItem, actor: Any | None, reason: str = "") -> AgendaItem:
    """Take a pending item off its agenda; the application is recommended again (votes already cast stay)."""
    item = lock_item(session, item.id)
    if item.status != ItemStatus.pending.value:
        raise GrantError(_("Only an item waiting for a decision can be withdrawn."))
    reason = (reason or "").strip()[:500]
    item.status = ItemStatus.withdrawn.value
    session.flush()
    application = lock_application(session, item.application_id)
    if application.status == ApplicationStatus.on_agenda.value:
        change_status(session, application, ApplicationStatus.recommended.value, actor)
    record_event(session, AuditTag.agenda_item_withdrawn, actor, "agenda_item", item.id,
                 before={"status": ItemStatus.pending.value},
                 after={"status": item.status, "reason": reason} if reason else {"status": item.status})
    return item


def open_agenda(session: Session, agenda: BoardAgenda, actor: Any | None) -> BoardAgenda:
    """Open the vote and tell every board member."""
    agenda = lock_agenda(session, agenda.id)
    if agenda.status != AgendaStatus.draft.value:
        raise GrantError(_("Only a draft agenda can be opened."))
    pending = pending_items(session, agenda.id)
    if not pending:
        raise GrantError(_("Add at least one item before opening the agenda."))
    if deadline_passed(agenda):
        raise GrantError(_("The vote deadline has passed: set the agenda up again with a later deadline."))
    members = board_member_ids(session)
    if not members:
        raise GrantError(_("There are no board members to vote: give board members their role first."))
    agenda.status, agenda.opened_at = AgendaStatus.open.value, utcnow()
    session.flush()
    record_event(session, AuditTag.agenda_opened, actor, "board_agenda", agenda.id,
                 before={"status": AgendaStatus.draft.value}, after={"status": agenda.status, "members": len(members)})
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        subject = _("Board agenda open for your vote: %(title)s", title=agenda.title)
        body = _("%(n)d item(s) wait for your vote; the meeting is on %(date)s.", n=len(pending),
                 date=agenda.meeting_on.isoformat())
        if agenda.vote_deadline is not None:
            body += " " + _("Vote by %(deadline)s.", deadline=local_time(agenda.vote_deadline))
    notify(session, sorted(members), "agenda_open", subject, body, link=f"/grants/agendas/{agenda.id}")
    return agenda


def close_agenda(session: Session, agenda: BoardAgenda, actor: Any | None, on: dt.date | None = None
                 ) -> list[GrantDecision]:
    """Decide every pending item, then close. One item the fund cannot cover refuses the whole close."""
    agenda = lock_agenda(session, agenda.id)
    if agenda.status != AgendaStatus.open.value:
        raise GrantError(_("Only an open agenda can be closed."))
    decisions = []
    for item in pending_items(session, agenda.id):
        try:
            decision = decide_item(session, item, actor, on=on)
        except FundShortfall as error:
            raise FundShortfall(_("Item %(n)d (%(ref)s): %(message)s Withdraw the item or wait, then close again.",
                                  n=item.position, ref=item.application.reference, message=error.message)) from error
        if decision is not None:
            decisions.append(decision)
    agenda.status, agenda.closed_at = AgendaStatus.closed.value, utcnow()
    session.flush()
    record_event(session, AuditTag.agenda_closed, actor, "board_agenda", agenda.id,
                 before={"status": AgendaStatus.open.value},
                 after={"status": agenda.status, "decisions": [d.id for d in decisions]})
    return decisions


# --- votes and recusals --------------------------------------------------------------------------------------------


@dataclass
class VoteResult:
    """What a vote or recusal led to: the decision if it completed the count, or why the decision is held."""

    decision: GrantDecision | None = None
    held: str | None = None


def _check_votable(session: Session, item: AgendaItem, member: Any, *, draft_ok: bool = False) -> None:
    if not is_board_member(member):
        raise GrantError(_("Only board members vote on agenda items."))
    allowed = (AgendaStatus.open.value, AgendaStatus.draft.value) if draft_ok else (AgendaStatus.open.value,)
    if item.agenda.status not in allowed:
        raise GrantError(_("Voting is possible only while the agenda is open."))
    if item.status != ItemStatus.pending.value:
        raise GrantError(_("This item is no longer waiting for a decision."))
    if item.agenda.status == AgendaStatus.open.value and deadline_passed(item.agenda):
        raise GrantError(_("The vote deadline has passed."))
    if member.id in recused_ids(session, item.id):
        raise GrantError(_("You declared a conflict of interest on this item: you cannot vote on it."))
    if member.id in voter_ids(session, item.id):
        raise GrantError(_("You have already voted on this item; a vote is never changed."))


def vote_blocked(session: Session, item: AgendaItem, member: Any) -> str | None:
    """Why `member` cannot vote on `item` now, or None."""
    try:
        _check_votable(session, item, member)
    except GrantError as error:
        return error.message
    return None


def recusal_blocked(session: Session, item: AgendaItem, member: Any) -> str | None:
    try:
        _check_votable(session, item, member, draft_ok=True)
    except GrantError as error:
        return error.message
    return None


def _insert_once(session: Session, row: Any) -> None:
    """Insert a vote or recusal; the pair's UNIQUE constraint refuses a second one sent at the same moment."""
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError as error:
        raise GrantError(_("You have already voted or declared a conflict on this item.")) from error


def cast_vote(session: Session, item: AgendaItem, member: Any, choice: str, comment: str = "") -> VoteResult:
    if choice not in tuple(c.value for c in VoteChoice):
        raise GrantError(_("Choose approve, reject or abstain."))
    comment = (comment or "").strip()
    if len(comment) > 1000:
        raise GrantError(_("The comment is too long (at most %(n)d characters).", n=1000))
    item = lock_item(session, item.id)
    _check_votable(session, item, member)
    vote = BoardVote(item_id=item.id, member_id=member.id, choice=choice, comment=comment)
    _insert_once(session, vote)
    record_event(session, AuditTag.board_vote_cast, member, "board_vote", vote.id, after={
        "item": item.id, "choice": choice, "comment": comment})
    return decide_if_complete(session, item, member)


def declare_recusal(session: Session, item: AgendaItem, member: Any, reason: str) -> VoteResult:
    """A member declares a conflict of interest on an item: recused, they cannot vote on it."""
    reason = (reason or "").strip()
    if not reason:
        raise GrantError(_("Say what the conflict of interest is."))
    if len(reason) > 500:
        raise GrantError(_("The reason is too long (at most %(n)d characters).", n=500))
    item = lock_item(session, item.id)
    _check_votable(session, item, member, draft_ok=True)
    recusal = BoardRecusal(item_id=item.id, member_id=member.id, reason=reason)
    _insert_once(session, recusal)
    record_event(session, AuditTag.board_recusal_declared, member, "board_recusal", recusal.id, after={
        "item": item.id, "reason": reason})
    if item.agenda.status != AgendaStatus.open.value:
        return VoteResult()
    return decide_if_complete(session, item, member)


def decide_if_complete(session: Session, item: AgendaItem, actor: Any | None) -> VoteResult:
    """Decide the item once every board member has voted or declared a conflict. If the fund cannot cover it
    now, the vote stands and the item stays pending."""
    members = board_member_ids(session)
    done = set(voter_ids(session, item.id)) | recused_ids(session, item.id)
    if not members or not members <= done:
        return VoteResult()
    try:
        with session.begin_nested():
            decision = decide_item(session, item, actor)
    except FundShortfall as error:
        return VoteResult(held=error.message)
    return VoteResult(decision=decision)


# --- deciding ------------------------------------------------------------------------------------------------------


def decide_item(session: Session, item: AgendaItem, actor: Any | None, on: dt.date | None = None
                ) -> GrantDecision | None:
    """Count the votes on a pending item of an open agenda and record the board's decision. An item whose
    application was withdrawn meanwhile is withdrawn (None)."""
    on = on or local_today()
    item = lock_item(session, item.id)
    if item.status != ItemStatus.pending.value:
        raise GrantError(_("This item was already decided or withdrawn."))
    if item.agenda.status != AgendaStatus.open.value:
        raise GrantError(_("Items are decided while the agenda is open."))
    application = lock_application(session, item.application_id)
    if application.status != ApplicationStatus.on_agenda.value:
        item.status = ItemStatus.withdrawn.value
        session.flush()
        record_event(session, AuditTag.agenda_item_withdrawn, actor, "agenda_item", item.id,
                     before={"status": ItemStatus.pending.value},
                     after={"status": item.status, "reason": f"application {application.status}"})
        return None
    board_rules = rules()
    tally = tally_item(session, item.id)
    result = outcome(tally, board_rules.quorum, board_rules.majority)
    count = Count(votes_for=tally.approve, votes_against=tally.reject, abstentions=tally.abstain,
                  recused=tally.recused, eligible=tally.eligible, quorum_rule=board_rules.quorum_text,
                  majority_rule=board_rules.majority_text)
    decision = record_decision(
        session, application, kind=DecisionKind.board.value, outcome=result, amount=item.amount, actor=actor,
        count=count, item_id=item.id, on=on,
        public_summary=public_summary(application, kind=DecisionKind.board.value, outcome=result,
                                      amount=item.amount, on=on, count=count))
    if result == DecisionOutcome.no_quorum.value:
        change_status(session, application, ApplicationStatus.recommended.value, actor)
    item.status = ItemStatus.decided.value
    session.flush()
    return decision


def staff_decide(session: Session, application: Application, result: str, amount: Decimal | None, note: str,
                 actor: Any | None, on: dt.date | None = None) -> GrantDecision:
    """Staff approve (up to GRANT_STAFF_APPROVAL_LIMIT) or reject a recommended application alone."""
    on = on or local_today()
    application = lock_application(session, application.id)
    if application.status != ApplicationStatus.recommended.value:
        raise GrantError(_("Staff decide alone only on a recommended application."))
    if result not in (DecisionOutcome.approved.value, DecisionOutcome.rejected.value):
        raise GrantError(_("Choose approve or reject."))
    note = (note or "").strip()
    if len(note) > 1000:
        raise GrantError(_("The note is too long (at most %(n)d characters).", n=1000))
    version = application.latest_submitted
    requested = version.requested_amount if version is not None else Decimal("0.00")
    if result == DecisionOutcome.approved.value:
        amount = check_amount(amount)
        if amount > requested:
            raise GrantError(_("The amount is more than the %(requested)s the application asks for.",
                               requested=fmt(requested)))
        if amount > staff_limit():
            raise GrantError(_("Staff may approve grants of at most %(limit)s alone; %(amount)s needs the "
                               "board: put the application on a board agenda.",
                               limit=fmt(staff_limit()), amount=fmt(amount)))
    else:
        amount = requested
    return record_decision(
        session, application, kind=DecisionKind.staff.value, outcome=result, amount=amount, actor=actor,
        note=note, on=on, public_summary=public_summary(application, kind=DecisionKind.staff.value, outcome=result,
                                                        amount=amount, on=on, count=None))

