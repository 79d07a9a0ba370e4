"""Shared by the reliability tests: apps on databases of their own (real commits), a small ledger built with the
usual builders, and a snapshot of what must survive a backup, a restore or a crash."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlalchemy import func, select

from config import TestingConfig
from fundapp import create_app
from fundapp.dates import local_today
from fundapp.donations.models import Donation
from fundapp.extensions import db
from fundapp.ledger.invariants import verify_ledger
from fundapp.ledger.models import Fund, JournalEntry, LedgerHead
from fundapp.ledger.queries import fund_net_assets, trial_balance
from tests.conftest import PG_URL, make_migrated_app

ENGLISH = ("en", "zh_CN")


def bare_app(url: str, **overrides):
    """An app on `url` without running the migrations (a restore target may be an empty database)."""
    return create_app({**{k: getattr(TestingConfig, k) for k in dir(TestingConfig) if k.isupper()},
                       "SQLALCHEMY_DATABASE_URI": url, "LANGUAGES": ENGLISH, **overrides})


def drop_database(url: str) -> None:
    if sa.make_url(url).get_backend_name() != "postgresql":
        return
    admin = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{sa.make_url(url).database}" WITH (FORCE)'))
    admin.dispose()


def app_on(backend: str, fresh_database_url, label: str, *, migrated: bool = True, **overrides) -> Iterator:
    """For a fixture: `yield from app_on(...)`; a migrated (or bare) app on a new database, dropped afterwards."""
    if backend == "postgresql" and not PG_URL:
        pytest.skip("TEST_DATABASE_URL is not set: PostgreSQL runs skipped")
    url = fresh_database_url(backend, label)
    app = make_migrated_app(url, LANGUAGES=ENGLISH, **overrides) if migrated else bare_app(url, **overrides)
    try:
        yield app
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        drop_database(url)


def build_small_ledger(app) -> None:
    """Donations (one with its receipt) into two funds and a grant paid from a third, all committed."""
    from tests.factories import make_fund
    from tests.grants_award_builders import Cast, award_for, pay_through, schedule
    from tests.unit.donations.factories import gift, make_donor

    with app.test_request_context(headers={"Accept-Language": "en"}):
        general = make_fund(db.session, "GEN", name="General fund")
        library = make_fund(db.session, "LIB", restricted=True, fund_type="project", name="Library fund")
        donor = make_donor(db.session, "Donor One")
        day = local_today() - dt.timedelta(days=3)
        gift(db.session, general, "1200.50", donor=donor, on=day, issue=True)
        gift(db.session, library, "800.00", donor=donor, on=day, method="cash")
        gift(db.session, general, "99.99", on=day, method="online")
        cast = Cast(db.session)
        award = award_for(db.session, cast, "6000.00")
        schedule(db.session, award, "4000.00", "2000.00")
        pay_through(db.session, award, 1, cast)
        db.session.commit()
        db.session.remove()


@dataclass(frozen=True)
class Books:
    head: tuple[int, str]
    entries: int
    donations: int
    net_assets: dict[str, Decimal]  # fund code -> net assets
    trial_balance: tuple[tuple[str, Decimal], ...]  # (account code, balance)
    problems: tuple[str, ...]


def books_of(app) -> Books:
    with app.app_context():
        s = db.session
        head = s.get(LedgerHead, 1)
        codes = dict(s.execute(select(Fund.id, Fund.code)).all())
        today = local_today()
        books = Books(
            head=(head.seq, head.hash) if head else (0, ""),
            entries=s.scalar(select(func.count()).select_from(JournalEntry)),
            donations=s.scalar(select(func.count()).select_from(Donation)),
            net_assets={codes[fund_id]: value for fund_id, value in fund_net_assets(s, today).items()},
            trial_balance=tuple((row.account.code, row.balance) for row in trial_balance(s, today).rows),
            problems=tuple(str(p) for p in verify_ledger(s)),
        )
        s.remove()
        return books
