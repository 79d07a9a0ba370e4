"""Builders for test data. Each takes a session and flushes; none commits."""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
from decimal import Decimal

from sqlalchemy import select

from fundapp.auth.models import User
from fundapp.auth.services import create_user
from fundapp.dates import local_today
from fundapp.funds.services import create_fund
from fundapp.ledger.models import Account, Fund, JournalEntry
from fundapp.ledger.services import LineSpec, post_entry

PASSWORD = "correct-horse-battery"
_counter = itertools.count(1)


def account(session, code: str) -> Account:
    return session.scalar(select(Account).where(Account.code == code))


def make_fund(session, code: str | None = None, *, restricted: bool = False, fund_type: str = "general", **values) -> Fund:
    code = code or f"F{next(_counter):04d}"
    return create_fund(
        session,
        {"code": code, "name": values.pop("name", f"Fund {code}"), "fund_type": fund_type,
         "restriction": "restricted" if restricted else "unrestricted", **values},
        None,
    )


def make_user(session, *roles: str, email: str | None = None, password: str = PASSWORD) -> User:
    email = email or f"user{next(_counter)}@example.org"
    return create_user(session, email, password, roles or ("finance",), name=email.split("@")[0])


def post(session, fund: Fund, amount: str | Decimal, *, debit: str = "1002", credit: str = "4101",
         date: dt.date | None = None, key: str | None = None, memo: str = "test entry", author=None) -> JournalEntry:
    """A two-line entry in one fund: debit `debit`, credit `credit`."""
    amount = Decimal(amount)
    return post_entry(
        session,
        effective_date=date or local_today(),
        memo=memo,
        lines=[LineSpec(account(session, debit), fund, amount), LineSpec(account(session, credit), fund, -amount)],
        idempotency_key=key or f"test:{uuid.uuid4()}",
        author=author,
    )
