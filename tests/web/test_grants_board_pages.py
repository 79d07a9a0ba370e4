"""The board pages: staff set up, open and close an agenda; a member reads the packet and votes (with a
confirmation step) or declares a conflict; staff decide alone under the limit; decisions and minutes are read-only.
Refused actions show their message and write nothing; role boundaries hold."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from fundapp.auth.models import User
from fundapp.grants import board
from fundapp.grants.models import (
    AgendaItem,
    Application,
    Award,
    BoardAgenda,
    BoardRecusal,
    BoardVote,
    GrantDecision,
)
from fundapp.notify.models import Notification
from tests.factories import make_user
from tests.grants_board_builders import agenda_with_items, board_members, recommended
from tests.grants_builders import funded_fund, make_programme

D = Decimal


def counts(app_ctx) -> tuple[int, ...]:
    with app_ctx() as s:
        return tuple(s.scalar(select(func.count()).select_from(model)) for model in (
            BoardAgenda, AgendaItem, BoardVote, BoardRecusal, GrantDecision, Award))


def open_item(app_ctx, *, others: int = 2, amount: str = "30000.00", fund_amount: str = "100000.00") -> dict:
    """An open agenda with one item of `amount`; `others` board members besides whoever is signed in."""
    with app_ctx() as s:
        staff = make_user(s, "finance")
        members = board_members(s, others)
        fund = funded_fund(s, fund_amount, name="Neighbourhood fund")
        programme = make_programme(s, fund, budget="90000.00")
        application = recommended(s, amount, programme=programme, title="Homework club")
        agenda, [item] = agenda_with_items(s, application, staff=staff)
        s.commit()
        return {"agenda": agenda.id, "item": item.id, "application": application.id, "members": [m.id for m in members],
                "staff": staff.id, "reference": application.reference}


def vote_as(app_ctx, member_id: int, item_id: int, choice: str = "approve") -> None:
    with app_ctx() as s:
        board.cast_vote(s, s.get(AgendaItem, item_id), s.get(User, member_id), choice, "")
        s.commit()


# --- staff ---------------------------------------------------------------------------------------------------------


def test_staff_create_fill_and_open_an_agenda(client, login, app_ctx):
    login("finance")
    with app_ctx() as s:
        members = [m.id for m in board_members(s, 2)]
        application = recommended(s, "45000.00", title="Riverside cleanup")
        s.commit()
        application_id, reference = application.id, application.reference
    assert "No board agendas yet" in client.get("/grants/agendas").get_data(as_text=True)
    refused = client.post("/grants/agendas/new", data={"title": "", "meeting_on": "2099-01-15"})
    assert refused.status_code == 200 and "Give the agenda a title." in refused.get_data(as_text=True)
    created = client.post("/grants/agendas/new", data={"title": "January board", "meeting_on": "2099-01-15",
                                                       "vote_deadline": "2099-01-14T18:00"})
    assert created.status_code == 302
    agenda_url = created.headers["Location"]
    agenda_id = int(agenda_url.rstrip("/").rsplit("/", 1)[1])
    page = client.get(f"/grants/agendas/{agenda_id}/items/new").get_data(as_text=True)
    assert reference in page and "Riverside cleanup" in page and "asks ¥45,000.00" in page
    too_much = client.post(f"/grants/agendas/{agenda_id}/items/new",
                           data={"application": application_id, "amount": "45000.01", "recommendation": ""})
    assert "more than the 45,000.00 the application asks for" in too_much.get_data(as_text=True)
    assert counts(app_ctx)[1] == 0
    added = client.post(f"/grants/agendas/{agenda_id}/items/new",
                        data={"application": application_id, "amount": "40,000", "recommendation": "Strong plan"})
    assert added.status_code == 302
    page = client.get(agenda_url).get_data(as_text=True)
    assert "Riverside cleanup" in page and "40,000.00" in page and "Open for votes" in page
    assert client.post(f"/grants/agendas/{agenda_id}/open").status_code == 302
    page = client.get(agenda_url).get_data(as_text=True)
    assert "The agenda is open: the board members were told." in page and "Close the agenda" in page
    assert "2099-01-14 18:00" in page  # the deadline in local time
    with app_ctx() as s:
        told = s.scalars(select(Notification.user_id).where(Notification.kind == "agenda_open")).all()
        assert sorted(told) == sorted(members)
        assert s.get(Application, application_id).status == "on_agenda"


def test_staff_close_the_agenda_after_a_confirmation(client, login, app_ctx):
    data = open_item(app_ctx, others=3)
    for member_id in data["members"][:2]:
        vote_as(app_ctx, member_id, data["item"])
    login("finance")
    page = client.get(f"/grants/agendas/{data['agenda']}/close").get_data(as_text=True)
    assert "Approved" in page and "2 for, 0 against, 0 abstaining, 0 recused; 3 entitled to vote." in page
    unconfirmed = client.post(f"/grants/agendas/{data['agenda']}/close", data={})
    assert unconfirmed.status_code == 200 and "Tick the box to confirm." in unconfirmed.get_data(as_text=True)
    assert counts(app_ctx)[4] == 0
    closed = client.post(f"/grants/agendas/{data['agenda']}/close", data={"confirm": "y"})
    assert closed.status_code == 302
    page = client.get(closed.headers["Location"]).get_data(as_text=True)
    assert "1 item(s) were decided" in page
    # the public summary is stored in the books' language (zh_CN): "the board approved a grant of ¥30,000.00 ..."
    assert "理事会批准从基金" in page and "资助 ¥30,000.00" in page
    with app_ctx() as s:
        decision = s.scalar(select(GrantDecision))
        assert (decision.outcome, decision.votes_for, decision.eligible) == ("approved", 2, 3)
    detail = client.get(f"/grants/decisions/{decision.id}").get_data(as_text=True)
    assert "Homework club" in detail and "Decisions and votes are recorded once and never changed." in detail
    pdf = client.get(f"/grants/decisions/{decision.id}/minutes.pdf")
    assert pdf.status_code == 200 and pdf.content_type == "application/pdf" and pdf.data.startswith(b"%PDF")
    assert client.post(f"/grants/decisions/{decision.id}").status_code == 405  # never editable


def test_a_close_the_fund_cannot_cover_is_refused_with_its_message(client, login, app_ctx):
    data = open_item(app_ctx, others=1, amount="30000.00", fund_amount="20000.00")
    vote_as(app_ctx, data["members"][0], data["item"])  # decided at once: held, the fund has only 20,000
    login("finance")
    before = counts(app_ctx)
    page = client.post(f"/grants/agendas/{data['agenda']}/close", data={"confirm": "y"}).get_data(as_text=True)
    assert "can spend 20,000.00 now, less than 30,000.00: approval refused." in page
    assert "Withdraw the item or wait" in page
    assert counts(app_ctx) == before
    item_page = client.get(f"/grants/items/{data['item']}").get_data(as_text=True)
    assert "an approval would be refused" in item_page
    assert client.post(f"/grants/items/{data['item']}/withdraw").status_code == 302
    with app_ctx() as s:
        assert s.get(AgendaItem, data["item"]).status == "withdrawn"
        assert s.get(Application, data["application"]).status == "recommended"


def test_staff_decide_one_item_now(client, login, app_ctx):
    data = open_item(app_ctx, others=3)
    vote_as(app_ctx, data["members"][0], data["item"])
    login("admin")
    page = client.get(f"/grants/items/{data['item']}/decide").get_data(as_text=True)
    assert "No quorum: not decided" in page
    assert client.post(f"/grants/items/{data['item']}/decide", data={"confirm": "y"}).status_code == 302
    with app_ctx() as s:
        assert s.scalar(select(GrantDecision.outcome)) == "no_quorum"
        assert s.get(Application, data["application"]).status == "recommended"
    again = client.get(f"/grants/items/{data['item']}/decide").get_data(as_text=True)
    assert "Only a waiting item of an open agenda can be decided." in again


# --- members -------------------------------------------------------------------------------------------------------


def test_a_member_reads_the_packet_and_votes_after_confirming(client, login, app_ctx):
    me = login("board")
    data = open_item(app_ctx, others=2)
    listing = client.get("/grants/agendas").get_data(as_text=True)
    assert "1 item(s) await your vote." in listing and "1 awaiting your vote" in listing
    page = client.get(f"/grants/items/{data['item']}").get_data(as_text=True)
    for text in ("Homework club", data["reference"], "Activities", "15,000.00", "Total", "Neighbourhood fund",
                 "Spendable now", "100,000.00", "Programme budget left", "90,000.00", "No reviewers were assigned.",
                 'name="choice" value="approve"', "Vote to approve", "I have a conflict of interest"):
        assert text in page, text
    step_one = client.post(f"/grants/items/{data['item']}/vote", data={"choice": "approve", "comment": "Well run"})
    assert step_one.status_code == 200
    confirm = step_one.get_data(as_text=True)
    assert "Confirm your vote" in confirm and "Well run" in confirm and 'name="confirmed" value="1"' in confirm
    assert counts(app_ctx)[2] == 0  # nothing cast yet
    cast = client.post(f"/grants/items/{data['item']}/vote",
                       data={"choice": "approve", "comment": "Well run", "confirmed": "1"})
    assert cast.status_code == 302
    page = client.get(cast.headers["Location"]).get_data(as_text=True)
    assert "Your vote (For) was recorded." in page and "You voted For" in page and "Vote to approve" not in page
    with app_ctx() as s:
        vote = s.scalar(select(BoardVote))
        assert (vote.member_id, vote.choice, vote.comment) == (me, "approve", "Well run")
    twice = client.post(f"/grants/items/{data['item']}/vote",
                        data={"choice": "reject", "comment": "", "confirmed": "1"})
    assert "You have already voted on this item" in twice.get_data(as_text=True)
    assert counts(app_ctx)[2] == 1
    assert "Nothing awaits your vote." in client.get("/grants/agendas").get_data(as_text=True)


def test_the_last_vote_decides_and_the_member_sees_it(client, login, app_ctx):
    login("board")
    data = open_item(app_ctx, others=1)
    vote_as(app_ctx, data["members"][0], data["item"], "reject")
    done = client.post(f"/grants/items/{data['item']}/vote", data={"choice": "abstain", "confirmed": "1"})
    page = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "the item was decided (Not approved)" in page
    assert "Against" in page and "Abstain" in page  # every vote is shown once decided


def test_a_member_declares_a_conflict_and_then_cannot_vote(client, login, app_ctx):
    login("board")
    data = open_item(app_ctx, others=2)
    form = client.get(f"/grants/items/{data['item']}/recuse").get_data(as_text=True)
    assert "What is the conflict of interest?" in form
    no_reason = client.post(f"/grants/items/{data['item']}/recuse", data={"reason": " ", "confirm": "y"})
    assert "Say what the conflict of interest is." in no_reason.get_data(as_text=True)
    assert counts(app_ctx)[3] == 0
    assert client.post(f"/grants/items/{data['item']}/recuse",
                       data={"reason": "My sister runs it", "confirm": "y"}).status_code == 302
    page = client.get(f"/grants/items/{data['item']}").get_data(as_text=True)
    assert "You declared a conflict of interest" in page and "My sister runs it" in page
    refused = client.post(f"/grants/items/{data['item']}/vote", data={"choice": "approve", "confirmed": "1"})
    assert "you cannot vote on it" in refused.get_data(as_text=True)
    assert counts(app_ctx)[2] == 0


def test_voting_on_a_closed_agenda_is_refused(client, login, app_ctx):
    login("board")
    data = open_item(app_ctx, others=2)
    with app_ctx() as s:
        board.close_agenda(s, s.get(BoardAgenda, data["agenda"]), s.get(User, data["staff"]))
        s.commit()
    refused = client.post(f"/grants/items/{data['item']}/vote", data={"choice": "approve", "confirmed": "1"})
    assert "Voting is possible only while the agenda is open." in refused.get_data(as_text=True)
    assert counts(app_ctx)[2] == 0


@pytest.mark.parametrize("role", ["finance", "admin", "reviewer", "applicant"])
def test_only_board_members_vote_or_recuse(client, login, app_ctx, role):
    data = open_item(app_ctx)
    login(role)
    assert client.post(f"/grants/items/{data['item']}/vote", data={"choice": "approve", "confirmed": "1"}
                       ).status_code == 403
    assert client.post(f"/grants/items/{data['item']}/recuse", data={"reason": "x", "confirm": "y"}).status_code == 403
    assert counts(app_ctx)[2:4] == (0, 0)


@pytest.mark.parametrize("role", ["reviewer", "applicant", "donor", "enterprise"])
def test_agendas_items_and_decisions_are_for_staff_and_board(client, login, app_ctx, role):
    data = open_item(app_ctx)
    login(role)
    for url in ("/grants/agendas", f"/grants/agendas/{data['agenda']}", f"/grants/items/{data['item']}"):
        assert client.get(url).status_code == 403, url


def test_board_members_do_not_see_draft_agendas_or_run_them(client, login, app_ctx):
    with app_ctx() as s:
        agenda, [item] = agenda_with_items(s, recommended(s), open_it=False, staff=None)
        s.commit()
        agenda_id, item_id = agenda.id, item.id
    login("board")
    assert client.get(f"/grants/agendas/{agenda_id}").status_code == 404
    assert client.get(f"/grants/items/{item_id}").status_code == 404
    assert client.post(f"/grants/items/{item_id}/vote", data={"choice": "approve"}).status_code == 404
    assert "Board meeting" not in client.get("/grants/agendas").get_data(as_text=True)
    assert client.post(f"/grants/agendas/{agenda_id}/open").status_code == 403
    assert client.post(f"/grants/items/{item_id}/withdraw").status_code == 403
    assert client.get(f"/grants/agendas/{agenda_id}/close").status_code == 403


# --- staff alone ---------------------------------------------------------------------------------------------------


def test_staff_approve_under_the_limit_after_a_confirmation(client, login, app_ctx):
    login("finance")
    with app_ctx() as s:
        application = recommended(s, "18000.00", title="Seniors' choir")
        s.commit()
        url = f"/grants/applications/{application.id}/decide"
    page = client.get(url).get_data(as_text=True)
    assert "Seniors&#39; choir" in page and "up to ¥20,000.00" in page
    step_one = client.post(url, data={"outcome": "approved", "amount": "18000", "note": ""})
    assert "Confirm the decision" in step_one.get_data(as_text=True)
    assert counts(app_ctx)[4] == 0
    done = client.post(url, data={"outcome": "approved", "amount": "18000", "note": "", "confirmed": "1"})
    assert done.status_code == 302 and "/grants/decisions/" in done.headers["Location"]
    detail = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "staff, under the limit" in detail and "18,000.00" in detail
    with app_ctx() as s:
        award = s.scalar(select(Award))
        assert award.amount == D("18000.00")


def test_staff_approval_above_the_limit_is_refused_with_a_clear_message(client, login, app_ctx):
    login("admin")
    with app_ctx() as s:
        application = recommended(s, "35000.00")
        s.commit()
        url = f"/grants/applications/{application.id}/decide"
    assert "asks for more than staff may approve alone" in client.get(url).get_data(as_text=True)
    refused = client.post(url, data={"outcome": "approved", "amount": "35000", "confirmed": "1"})
    assert refused.status_code == 200
    assert ("Staff may approve grants of at most 20,000.00 alone; 35,000.00 needs the board: put the application "
            "on a board agenda.") in refused.get_data(as_text=True)
    assert counts(app_ctx)[4:] == (0, 0)
    rejected = client.post(url, data={"outcome": "rejected", "amount": "", "note": "Out of scope", "confirmed": "1"})
    assert rejected.status_code == 302
    with app_ctx() as s:
        assert s.get(Application, application.id).status == "rejected"


def test_board_members_cannot_decide_alone(client, login, app_ctx):
    with app_ctx() as s:
        application = recommended(s, "1000.00")
        s.commit()
    login("board")
    assert client.get(f"/grants/applications/{application.id}/decide").status_code == 403


def test_the_agenda_page_runs_the_same_queries_for_one_item_or_five(client, login, app_ctx, count_queries):
    login("board")
    ids = []
    for n in (1, 5):
        with app_ctx() as s:
            members = board_members(s, 2)
            agenda, items = agenda_with_items(s, *[recommended(s) for _ in range(n)])
            for item in items:
                board.cast_vote(s, item, members[0], "approve")
                board.declare_recusal(s, item, members[1], "Relative")
            s.commit()
            ids.append(agenda.id)
    used = []
    for agenda_id in ids:
        client.get(f"/grants/agendas/{agenda_id}")  # warm
        with count_queries() as counter:
            assert client.get(f"/grants/agendas/{agenda_id}").status_code == 200
        used.append(counter[0])
    assert used[0] == used[1], used
