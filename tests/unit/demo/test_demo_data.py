"""`flask demo load`: a year of clean, solvent books for a foundation with every kind of fund and user."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal

from sqlalchemy import func, select

from fundapp.audit.models import AuditEvent
from fundapp.auth.models import ROLE_VALUES, User
from fundapp.auth.services import authenticate, find_user_by_email
from fundapp.dates import local_today
from fundapp.demo.data import DEMO_PASSWORD, demo_email, demo_loaded, load_demo
from fundapp.grants.models import Application, Award
from fundapp.ledger.invariants import verify_ledger
from fundapp.ledger.models import Account, Fund, FundType, JournalEntry, JournalLine, Period
from fundapp.ledger.periods import month_end
from fundapp.ledger.services import lock_date

CASH = ("1001", "1002", "1009")


def months_ago(today: dt.date, n: int) -> tuple[int, int]:
    index = today.year * 12 + today.month - 1 - n
    return index // 12, index % 12 + 1


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def lowest_cash_per_fund(session) -> dict[str, Decimal]:
    """The lowest cash balance each fund reached on any day."""
    stmt = (
        select(JournalLine.effective_date, Fund.code, func.sum(JournalLine.amount))
        .join(Account, Account.id == JournalLine.account_id)
        .join(Fund, Fund.id == JournalLine.fund_id)
        .where(Account.code.in_(CASH))
        .group_by(JournalLine.effective_date, Fund.code)
        .order_by(JournalLine.effective_date)
    )
    running: dict[str, Decimal] = defaultdict(Decimal)
    lowest: dict[str, Decimal] = {}
    for _day, code, amount in session.execute(stmt):
        running[code] += amount
        lowest[code] = min(lowest.get(code, running[code]), running[code])
    return lowest


def lines_of(*columns):
    return (select(*columns).select_from(JournalLine).join(Account, Account.id == JournalLine.account_id)
            .join(Fund, Fund.id == JournalLine.fund_id))


def assert_every_flow_with_the_right_class(session) -> None:
    used = set(session.scalars(lines_of(Account.code).distinct()))
    flows = {"1002", "1009", "1121", "1201", "1402", "2209", "4101", "4301", "4401", "4601", "5101", "5201", "5301"}
    assert flows <= used
    gift_classes = set(session.execute(lines_of(Fund.restriction, JournalLine.net_asset_class).distinct()
                                       .where(Account.code == "4101")).tuples())
    assert gift_classes == {("restricted", "restricted"), ("unrestricted", "unrestricted")}
    admin_funds = set(session.scalars(lines_of(Fund.code).distinct().where(Account.code == "5201")))
    assert admin_funds == {"GEN"}


def test_demo_books_are_a_clean_solvent_year(session):
    today = local_today()
    summary = load_demo(session)
    assert "某市某区社区基金会" in summary and demo_loaded(session)

    for role in ROLE_VALUES:
        assert find_user_by_email(session, demo_email(role)).roles == {role}
    assert authenticate(session, demo_email("finance"), DEMO_PASSWORD) is not None

    funds = list(session.scalars(select(Fund)))
    assert {f.fund_type for f in funds} == {t.value for t in FundType} and len(funds) == 8
    assert [f.code for f in funds if not f.is_public] == ["AID"]
    assert all(f.purpose for f in funds) and any("为老服务" in f.name for f in funds)

    every_entry = list(session.scalars(select(JournalEntry).order_by(JournalEntry.seq)))
    # the books' own year (fundapp/demo/entries.py); gifts and enterprises post through their services
    entries = [e for e in every_entry if (e.reverses or e).source_type == "manual"]
    assert 250 <= len(entries) <= 400
    first_day = dt.date(*months_ago(today, 12), 1)
    assert entries[0].effective_date.replace(day=1) == first_day
    assert max(e.effective_date for e in every_entry) <= month_end(*months_ago(today, 1))
    assert [e.effective_date for e in entries] == sorted(e.effective_date for e in entries)
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in e.memo) for e in entries)
    reversals = [e for e in entries if e.reverses_id is not None]
    assert len(reversals) == 2 and all("重复" in e.memo or "金额录入错误" in e.memo for e in reversals)

    assert lock_date(session) == month_end(*months_ago(today, 2))
    assert count(session, Period) == 11
    assert verify_ledger(session) == []
    assert min(lowest_cash_per_fund(session).values()) >= 0
    assert_every_flow_with_the_right_class(session)


def test_demo_load_command_runs_once(app, session, monkeypatch, tmp_path):
    monkeypatch.setitem(app.config, "GRANT_UPLOAD_DIR", str(tmp_path / "grants"))
    runner = app.test_cli_runner()
    first = runner.invoke(args=["demo", "load"])
    assert first.exit_code == 0, first.output
    assert "loaded demo data" in first.output and "grants: 6 organisations" in first.output
    tables = (JournalEntry, Fund, Period, User, Application, Award, AuditEvent)
    before = [count(session, table) for table in tables]
    assert before[0] > 250 and before[4] == 9
    assert verify_ledger(session) == []

    second = runner.invoke(args=["demo", "load"])
    assert second.exit_code == 0 and "already loaded" in second.output
    assert [count(session, table) for table in tables] == before
