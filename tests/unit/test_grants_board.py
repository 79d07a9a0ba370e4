"""Board services: agendas, items, votes, recusals, the count, decisions (board and staff alone), refusals.

Every refused action is checked to write nothing. Default rules: quorum 2/3 of the members entitled to vote,
approval when approvals are more than 1/2 of the votes cast."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from fundapp.audit.models import AuditEvent
from fundapp.db import utcnow
from fundapp.grants import board
from fundapp.grants.errors import FundShortfall, GrantError
from fundapp.grants.models import (
    AgendaItem,
    Award,
    BoardRecusal,
    BoardVote,
    GrantDecision,
)
from fundapp.ledger.models import JournalEntry
from fundapp.notify.models import Notification
from tests.factories import make_user
from tests.grants_board_builders import agenda_with_items, board_members, recommended, vote_all
from tests.grants_builders import funded_fund, make_programme

D = Decimal


def counts(session) -> tuple[int, ...]:
    """Everything a board action may write."""
    return tuple(session.scalar(select(func.count()).select_from(model)) for model in (
        BoardVote, BoardRecusal, GrantDecision, Award, JournalEntry, AgendaItem, AuditEvent, Notification))


def lines_of(entry: JournalEntry) -> list[tuple[str, str, str, Decimal]]:
    return [(line.account.code, line.fund.code, line.net_asset_class, line.amount) for line in entry.lines]


def refused(session, call, message: str, error=GrantError) -> None:
    before = counts(session)
    with pytest.raises(error) as raised:
        call()
    assert message in raised.value.message
    assert counts(session) == before


@pytest.fixture()
def staff(session):
    return make_user(session, "finance")


# --- agendas and items ---------------------------------------------------------------------------------------------


def test_an_agenda_is_created_filled_and_opened_and_the_members_are_told(session, staff):
    members = board_members(session, 3)
    make_user(session, "board").is_enabled = False  # a disabled member is not told and does not count
    application = recommended(session, "30000.00")
    agenda, [item] = agenda_with_items(session, application, amounts=("25000.00",), staff=staff)
    assert (agenda.status, item.status, item.position, item.amount) == ("open", "pending", 1, D("25000.00"))
    assert application.status == "on_agenda"
    told = session.scalars(select(Notification).where(Notification.kind == "agenda_open")).all()
    assert sorted(n.user_id for n in told) == sorted(m.id for m in members)
    assert {n.link for n in told} == {f"/grants/agendas/{agenda.id}"}
    tags = set(session.scalars(select(AuditEvent.tag).where(AuditEvent.subject_type.in_(
        ["board_agenda", "agenda_item"]))))
    assert tags == {"grants:agenda:created", "grants:agenda:item_added", "grants:agenda:opened"}


def test_agenda_input_is_checked(session, staff):
    meeting = dt.date.today()
    refused(session, lambda: board.create_agenda(session, "  ", meeting, None, staff), "title")
    refused(session, lambda: board.create_agenda(session, "Meeting", meeting, utcnow() - dt.timedelta(hours=1),
                                                 staff), "deadline must be in the future")


def test_only_a_recommended_application_goes_on_a_draft_agenda_for_at_most_what_it_asks(session, staff):
    board_members(session, 1)
    application = recommended(session, "30000.00")
    agenda, _ = agenda_with_items(session, open_it=False, staff=staff)
    refused(session, lambda: board.add_item(session, agenda, application, D("30000.01"), "", staff),
            "more than the 30,000.00 the application asks for")
    refused(session, lambda: board.add_item(session, agenda, application, D("0"), "", staff), "positive amount")
    board.add_item(session, agenda, application, D("30000.00"), "", staff)
    refused(session, lambda: board.add_item(session, agenda, application, D("100"), "", staff),
            "Only a recommended application")
    board.open_agenda(session, agenda, staff)
    other = recommended(session)
    refused(session, lambda: board.add_item(session, agenda, other, D("100"), "", staff),
            "while the agenda is a draft")
    refused(session, lambda: board.open_agenda(session, agenda, staff), "Only a draft agenda")


def test_an_empty_agenda_or_a_board_without_members_does_not_open(session, staff):
    agenda, _ = agenda_with_items(session, open_it=False, staff=staff)
    refused(session, lambda: board.open_agenda(session, agenda, staff), "at least one item")
    board.add_item(session, agenda, recommended(session), D("1000"), "", staff)
    refused(session, lambda: board.open_agenda(session, agenda, staff), "no board members")


def test_withdrawing_an_item_recommends_the_application_again(session, staff):
    board_members(session, 2)
    application = recommended(session)
    agenda, [item] = agenda_with_items(session, application, open_it=False, staff=staff)
    board.withdraw_item(session, item, staff)
    assert (item.status, application.status) == ("withdrawn", "recommended")
    refused(session, lambda: board.withdraw_item(session, item, staff), "Only an item waiting")
    again, [later] = agenda_with_items(session, application, staff=staff)  # it can go on a later agenda
    assert later.status == "pending" and application.status == "on_agenda"


# --- votes and recusals --------------------------------------------------------------------------------------------


def test_a_member_votes_once(session, staff):
    members = board_members(session, 3)
    _, [item] = agenda_with_items(session, recommended(session), staff=staff)
    result = board.cast_vote(session, item, members[0], "approve", " fine ")
    assert result.decision is None and result.held is None
    vote = session.scalar(select(BoardVote).where(BoardVote.item_id == item.id))
    assert (vote.member_id, vote.choice, vote.comment) == (members[0].id, "approve", "fine")
    refused(session, lambda: board.cast_vote(session, item, members[0], "reject"), "already voted")
    refused(session, lambda: board.declare_recusal(session, item, members[0], "my cousin"), "already voted")


def test_a_second_vote_is_refused_by_the_unique_constraint_even_past_the_check(session, staff, monkeypatch):
    members = board_members(session, 3)
    _, [item] = agenda_with_items(session, recommended(session), staff=staff)
    board.cast_vote(session, item, members[0], "approve")
    monkeypatch.setattr(board, "_check_votable", lambda *args, **kwargs: None)  # as if both passed the check
    refused(session, lambda: board.cast_vote(session, item, members[0], "reject"), "already voted")
    assert session.scalar(select(BoardVote.choice).where(BoardVote.item_id == item.id)) == "approve"


def test_a_recused_member_cannot_vote(session, staff):
    members = board_members(session, 3)
    _, [item] = agenda_with_items(session, recommended(session), staff=staff)
    refused(session, lambda: board.declare_recusal(session, item, members[0], "   "), "conflict of interest is")
    board.declare_recusal(session, item, members[0], "I chair the applicant")
    refused(session, lambda: board.cast_vote(session, item, members[0], "approve"), "declared a conflict")
    refused(session, lambda: board.declare_recusal(session, item, members[0], "again"), "declared a conflict")


def test_only_board_members_vote(session, staff):
    board_members(session, 2)
    _, [item] = agenda_with_items(session, recommended(session), staff=staff)
    refused(session, lambda: board.cast_vote(session, item, staff, "approve"), "Only board members")
    gone = make_user(session, "board")
    gone.is_enabled = False
    refused(session, lambda: board.cast_vote(session, item, gone, "approve"), "Only board members")
    refused(session, lambda: board.declare_recusal(session, item, staff, "x"), "Only board members")


def test_voting_only_while_the_agenda_is_open_and_before_the_deadline(session, staff):
    members = board_members(session, 3)
    agenda, [item] = agenda_with_items(session, recommended(session), open_it=False, staff=staff)
    refused(session, lambda: board.cast_vote(session, item, members[0], "approve"), "only while the agenda is open")
    board.declare_recusal(session, item, members[2], "Declared before the meeting")  # allowed on a draft
    board.open_agenda(session, agenda, staff)
    refused(session, lambda: board.cast_vote(session, item, members[0], "maybe"), "Choose approve")
    refused(session, lambda: board.cast_vote(session, item, members[0], "approve", "x" * 1001), "too long")
    agenda.vote_deadline = utcnow() - dt.timedelta(minutes=1)
    session.flush()
    refused(session, lambda: board.cast_vote(session, item, members[0], "approve"), "deadline has passed")
    agenda.vote_deadline = None
    session.flush()
    board.close_agenda(session, agenda, staff)
    refused(session, lambda: board.cast_vote(session, item, members[0], "approve"), "only while the agenda is open")


# --- the count and the decision ------------------------------------------------------------------------------------


def test_the_last_vote_decides_the_item_and_an_approval_posts_the_payable(session, staff):
    members = board_members(session, 3)
    fund = funded_fund(session, "100000.00")
    application = recommended(session, "30000.00", fund=fund, title="Elder canteen")
    _, [item] = agenda_with_items(session, application, amounts=("28000.00",), staff=staff)
    assert vote_all(session, item, members[:2], "ar").decision is None
    result = board.cast_vote(session, item, members[2], "approve")
    decision = result.decision
    assert decision is not None and item.status == "decided" and application.status == "approved"
    assert (decision.kind, decision.outcome, decision.amount, decision.item_id) == ("board", "approved",
                                                                                    D("28000.00"), item.id)
    assert (decision.votes_for, decision.votes_against, decision.abstentions, decision.recused,
            decision.eligible, decision.quorum_rule, decision.majority_rule) == (2, 1, 0, 0, 3, "2/3", "1/2")
    award = session.scalar(select(Award).where(Award.application_id == application.id))
    assert award.amount == D("28000.00") and award.decision_id == decision.id
    assert lines_of(award.payable_entry) == [("5101", fund.code, "unrestricted", D("28000.00")),
                                             ("2209", fund.code, "unrestricted", D("-28000.00"))]
    summary = decision.public_summary
    assert "28,000.00" in summary and "Elder canteen" in summary and application.organisation.name in summary
    assert fund.name in summary and "2" in summary
    for member in members:
        assert member.name not in summary
    assert "comment of" not in summary
    refused(session, lambda: board.decide_item(session, item, staff), "already decided")


def test_an_approval_from_a_restricted_fund_releases_the_restriction(session, staff):
    members = board_members(session, 1)
    fund = funded_fund(session, "50000.00", restricted=True)
    _, [item] = agenda_with_items(session, recommended(session, "21000.00", fund=fund), staff=staff)
    decision = board.cast_vote(session, item, members[0], "approve").decision
    award = session.scalar(select(Award).where(Award.decision_id == decision.id))
    assert sorted(lines_of(award.payable_entry)) == sorted([
        ("5101", fund.code, "unrestricted", D("21000.00")), ("2209", fund.code, "restricted", D("-21000.00")),
        ("3102", fund.code, "restricted", D("21000.00")), ("3101", fund.code, "unrestricted", D("-21000.00"))])


def test_a_majority_of_rejections_and_abstentions_rejects(session, staff):
    members = board_members(session, 3)
    application = recommended(session)
    _, [item] = agenda_with_items(session, application, staff=staff)
    decision = vote_all(session, item, members, "arb").decision  # 1 of 3 votes: not more than half
    assert decision.outcome == "rejected" and application.status == "rejected"
    assert session.scalar(select(func.count()).select_from(Award)) == 0


def test_recused_members_leave_the_count_and_the_rest_decide(session, staff):
    members = board_members(session, 3)
    _, [item] = agenda_with_items(session, recommended(session), staff=staff)
    board.declare_recusal(session, item, members[0], "Former employee of the applicant")
    board.cast_vote(session, item, members[1], "approve")
    decision = board.cast_vote(session, item, members[2], "reject").decision
    assert (decision.outcome, decision.eligible, decision.recused, decision.votes_for) == ("rejected", 2, 1, 1)


def test_closing_without_quorum_records_no_quorum_and_recommends_the_application_again(session, staff):
    members = board_members(session, 4)
    application = recommended(session)
    agenda, [item] = agenda_with_items(session, application, staff=staff)
    board.cast_vote(session, item, members[0], "approve")
    board.cast_vote(session, item, members[1], "approve")  # 2 of 4: a quorum needs ⌈2/3 × 4⌉ = 3
    [decision] = board.close_agenda(session, agenda, staff)
    assert (decision.outcome, decision.votes_for, decision.eligible) == ("no_quorum", 2, 4)
    assert (agenda.status, item.status, application.status) == ("closed", "decided", "recommended")
    assert session.scalar(select(func.count()).select_from(Award)) == 0
    assert "未达法定人数" in decision.public_summary  # the summary is in the books' language (zh_CN)
    refused(session, lambda: board.close_agenda(session, agenda, staff), "Only an open agenda")
    _, [again] = agenda_with_items(session, application, staff=staff)  # on a later agenda
    assert again.status == "pending"


def test_staff_decide_one_item_while_others_wait(session, staff):
    members = board_members(session, 2)
    first, second = recommended(session), recommended(session)
    agenda, [one, two] = agenda_with_items(session, first, second, staff=staff)
    board.cast_vote(session, one, members[0], "approve")
    board.cast_vote(session, one, members[1], "abstain")
    board.cast_vote(session, two, members[0], "approve")
    decision = board.decide_item(session, two, staff)  # 1 of 2 voted: ⌈4/3⌉ = 2 needed
    assert decision.outcome == "no_quorum" and one.status == "decided" and two.status == "decided"
    assert session.get(GrantDecision, decision.id).decided_by_id == staff.id
    refused(session, lambda: board.decide_item(session, two, staff), "already decided")


def test_a_fund_that_cannot_cover_the_approval_refuses_the_close_and_writes_nothing(session, staff):
    members = board_members(session, 2)
    fund = funded_fund(session, "40000.00")
    programme = make_programme(session, fund, budget="90000.00")
    small, large = recommended(session, "10000.00", programme=programme), recommended(session, "35000.00",
                                                                                      programme=programme)
    agenda, [one, two] = agenda_with_items(session, small, large, staff=staff)
    vote_all(session, two, members, "a-")
    vote_all(session, one, members, "aa")  # decided: 10,000 awarded, 30,000 left
    assert one.status == "decided"
    held = board.cast_vote(session, two, members[1], "approve")  # the last vote cannot complete the approval
    assert held.decision is None and "can spend 30,000.00 now, less than 35,000.00" in held.held
    assert two.status == "pending" and session.scalar(select(func.count()).select_from(BoardVote)
                                                      .where(BoardVote.item_id == two.id)) == 2
    refused(session, lambda: board.close_agenda(session, agenda, staff), "Item 2 (", FundShortfall)
    assert (agenda.status, two.status, large.status) == ("open", "pending", "on_agenda")
    board.withdraw_item(session, two, staff)
    assert board.close_agenda(session, agenda, staff) == [] and agenda.status == "closed"
    assert large.status == "recommended"


def test_an_item_whose_application_was_withdrawn_is_withdrawn_at_the_close(session, staff):
    board_members(session, 1)
    application = recommended(session)
    agenda, [item] = agenda_with_items(session, application, staff=staff)
    application.status = "withdrawn"  # as the applicant's withdrawal leaves it
    session.flush()
    assert board.close_agenda(session, agenda, staff) == []
    assert item.status == "withdrawn"


def test_awaiting_counts_what_a_member_has_not_voted_on(session, staff):
    members = board_members(session, 2)
    agenda, [one, two] = agenda_with_items(session, recommended(session), recommended(session), staff=staff)
    assert board.awaiting_counts(session, members[0].id) == {agenda.id: 2}
    board.cast_vote(session, one, members[0], "approve")
    board.declare_recusal(session, two, members[0], "Relative")
    assert board.awaiting_counts(session, members[0].id) == {}
    assert board.awaiting_counts(session, members[1].id) == {agenda.id: 2}


# --- staff alone ---------------------------------------------------------------------------------------------------


def test_staff_approve_under_the_limit_alone(session, staff):
    fund = funded_fund(session, "100000.00")
    application = recommended(session, "15000.00", fund=fund)
    decision = board.staff_decide(session, application, "approved", D("12000.00"), "", staff)
    assert (decision.kind, decision.outcome, decision.amount, decision.item_id) == ("staff", "approved",
                                                                                    D("12000.00"), None)
    assert application.status == "approved"
    award = session.scalar(select(Award).where(Award.decision_id == decision.id))
    assert lines_of(award.payable_entry) == [("5101", fund.code, "unrestricted", D("12000.00")),
                                             ("2209", fund.code, "unrestricted", D("-12000.00"))]
    # the summary is in the books' language (zh_CN): "由工作人员决定" is "a staff decision"
    assert "12,000.00" in decision.public_summary and "由工作人员决定" in decision.public_summary
    refused(session, lambda: board.staff_decide(session, application, "approved", D("100"), "", staff),
            "only on a recommended application")


def test_staff_approval_above_the_limit_is_refused(session, staff):
    application = recommended(session, "30000.00")
    refused(session, lambda: board.staff_decide(session, application, "approved", D("20000.01"), "", staff),
            "at most 20,000.00 alone; 20,000.01 needs the board")
    refused(session, lambda: board.staff_decide(session, application, "approved", D("30000.01"), "", staff),
            "more than the 30,000.00")
    assert application.status == "recommended"
    decision = board.staff_decide(session, application, "approved", D("20000.00"), "", staff)
    assert decision.amount == D("20000.00")


def test_staff_reject_alone_and_the_applicant_hears_why(session, staff):
    applicant = make_user(session, "applicant")
    from tests.grants_builders import make_organisation

    application = recommended(session, "50000.00", organisation=make_organisation(session, applicant))
    decision = board.staff_decide(session, application, "rejected", None, "Outside the call's scope", staff)
    assert (decision.outcome, decision.amount, application.status) == ("rejected", D("50000.00"), "rejected")
    told = session.scalars(select(Notification).where(Notification.user_id == applicant.id)).all()
    assert any("Outside the call's scope" in n.body for n in told)
    other = recommended(session)
    refused(session, lambda: board.staff_decide(session, other, "no_quorum", None, "", staff),
            "Choose approve or reject")


# --- rules ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "value"), [("2/3", (2, 3)), ("1/2", (1, 2)), (" 0.5 ", (1, 2)), ("1", (1, 1))])
def test_rules_are_exact_fractions(text, value):
    parsed = board.parse_rule(text)
    assert (parsed.numerator, parsed.denominator) == value


@pytest.mark.parametrize("text", ["", "two thirds", "3/2", "-1/2", "1/0"])
def test_bad_rules_are_refused(text):
    with pytest.raises(ValueError):
        board.parse_rule(text)


@pytest.mark.parametrize(("approve", "reject", "abstain", "eligible", "expected"), [
    (2, 1, 0, 3, "approved"),
    (1, 1, 0, 3, "rejected"),  # a tie is not more than half
    (1, 0, 1, 3, "rejected"),  # abstentions count in the votes cast
    (2, 0, 0, 4, "no_quorum"),  # ⌈8/3⌉ = 3 needed
    (3, 0, 0, 4, "approved"),
    (0, 0, 0, 0, "no_quorum"),  # everyone recused
    (1, 0, 0, 1, "approved"),
])
def test_the_count(approve, reject, abstain, eligible, expected):
    from fractions import Fraction

    tally = board.Tally(approve, reject, abstain, 0, eligible)
    assert board.outcome(tally, Fraction(2, 3), Fraction(1, 2)) == expected


def test_the_rules_come_from_the_configuration(session, staff, app, monkeypatch):
    monkeypatch.setitem(app.config, "BOARD_QUORUM", "1/2")
    monkeypatch.setitem(app.config, "BOARD_MAJORITY", "2/3")
    members = board_members(session, 4)
    agenda, [item] = agenda_with_items(session, recommended(session), staff=staff)
    vote_all(session, item, members, "aar-")  # quorum 2 of 4 met; 2 of 3 is not more than 2/3
    [decision] = board.close_agenda(session, agenda, staff)
    assert (decision.outcome, decision.quorum_rule, decision.majority_rule) == ("rejected", "1/2", "2/3")
