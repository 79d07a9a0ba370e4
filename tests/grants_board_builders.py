"""Builders for the board tests: members, an agenda with items (through the board services), vote helpers.
Each takes a session and flushes; none commits."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from fundapp.dates import local_today
from fundapp.grants import board
from fundapp.grants.models import AgendaItem, ApplicationStatus, BoardAgenda
from tests.factories import make_user
from tests.grants_builders import funded_fund, make_application, make_programme


def board_members(session, n: int) -> list:
    return [make_user(session, "board") for _ in range(n)]


def recommended(session, amount: str | Decimal = "30000.00", *, fund=None, programme=None, title: str | None = None,
                organisation=None):
    programme = programme or make_programme(session, fund or funded_fund(session, "100000.00"), budget="90000.00")
    return make_application(session, programme, organisation, amount=amount,
                            status=ApplicationStatus.recommended.value, title=title)


def agenda_with_items(session, *applications, amounts: tuple[str, ...] = (), open_it: bool = True,
                      staff=None, deadline: dt.datetime | None = None) -> tuple[BoardAgenda, list[AgendaItem]]:
    """A draft agenda with one item per application (amount: the one asked for, unless given), opened."""
    agenda = board.create_agenda(session, "Board meeting", local_today() + dt.timedelta(days=7), deadline, staff)
    items = []
    for n, application in enumerate(applications):
        amount = Decimal(amounts[n]) if n < len(amounts) else application.latest_submitted.requested_amount
        items.append(board.add_item(session, agenda, application, amount, "Recommended by staff", staff))
    if open_it:
        board.open_agenda(session, agenda, staff)
    return agenda, items


def vote_all(session, item, members, choices: str) -> board.VoteResult:
    """`choices` one letter per member: a(pprove), r(eject), b (abstain), - (nothing)."""
    result = board.VoteResult()
    names = {"a": "approve", "r": "reject", "b": "abstain"}
    for member, letter in zip(members, choices, strict=True):
        if letter != "-":
            result = board.cast_vote(session, item, member, names[letter], f"comment of {member.name}")
    return result
