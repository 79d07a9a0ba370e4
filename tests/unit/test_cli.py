"""`flask users add`, `flask funds add` and `flask ledger verify` against a real, migrated database.

The CLI commits for real, so these tests use databases of their own (dropped at the end on PostgreSQL). The app
speaks English here (the CLI uses the first configured language) so the messages can be asserted.
"""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from sqlalchemy import func, select

from fundapp.audit.models import AuditEvent
from fundapp.auth.models import User
from fundapp.auth.services import authenticate
from fundapp.extensions import db
from fundapp.ledger.models import Fund, JournalEntry
from tests.conftest import PG_URL, make_migrated_app
from tests.factories import make_fund, post

PASSWORD = "a-long-enough-password"


def _app_on(backend: str, fresh_database_url, label: str):
    if backend == "postgresql" and not PG_URL:
        pytest.skip("TEST_DATABASE_URL is not set: PostgreSQL runs skipped")
    url = fresh_database_url(backend, label)
    app = make_migrated_app(url, LANGUAGES=("en", "zh_CN"))
    yield app
    with app.app_context():
        db.engine.dispose()
    if backend == "postgresql":
        admin = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{sa.make_url(url).database}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def cli_app(request, fresh_database_url):
    """One database for the users and funds tests (each uses its own emails and codes)."""
    yield from _app_on(request.param, fresh_database_url, "cli")


@pytest.fixture(params=["sqlite", "postgresql"])
def ledger_app(request, fresh_database_url):
    """A database per test: the ledger tests tamper with it."""
    yield from _app_on(request.param, fresh_database_url, "cliledger")


def invoke(app, *args: str, input: str | None = None):
    return app.test_cli_runner().invoke(args=list(args), input=input)


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


# --- users ----------------------------------------------------------------------------------------


def test_users_add_reads_the_password_from_stdin(cli_app):
    result = invoke(cli_app, "users", "add", "Ada@Example.org", "--role", "admin", "--role", "finance",
                    "--name", "Ada", input=f"{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert "added user ada@example.org with roles admin, finance" in result.output
    assert PASSWORD not in result.output
    with cli_app.app_context():
        user = db.session.scalar(select(User).where(User.email == "ada@example.org"))
        assert user.roles == {"admin", "finance"} and user.name == "Ada"
        assert PASSWORD not in user.password_hash
        assert authenticate(db.session, "ada@example.org", PASSWORD) is user
        assert authenticate(db.session, "ada@example.org", PASSWORD + "x") is None
        assert db.session.scalar(select(AuditEvent).where(AuditEvent.tag == "auth:user:created",
                                                          AuditEvent.subject_id == str(user.id))) is not None
        db.session.rollback()


@pytest.mark.parametrize(
    "args, stdin, message",
    [
        (["not-an-email", "--role", "admin"], PASSWORD, "not-an-email is not a valid email address"),
        (["short@example.org", "--role", "admin"], "short", "at least 12 characters"),
        (["empty@example.org", "--role", "admin"], "", "at least 12 characters"),
        (["wizard@example.org", "--role", "wizard"], PASSWORD, "Invalid value for '--role'"),
        (["norole@example.org"], PASSWORD, "Missing option '--role'"),
    ],
)
def test_users_add_refuses_bad_input_and_creates_nothing(cli_app, args, stdin, message):
    before = count(cli_app, User)
    result = invoke(cli_app, "users", "add", *args, input=f"{stdin}\n")
    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output
    assert count(cli_app, User) == before


def test_users_add_refuses_a_duplicate_email(cli_app):
    assert invoke(cli_app, "users", "add", "twice@example.org", "--role", "board", input=f"{PASSWORD}\n").exit_code == 0
    before = count(cli_app, User)
    result = invoke(cli_app, "users", "add", "TWICE@example.org", "--role", "finance", input=f"{PASSWORD}\n")
    assert result.exit_code == 1
    assert "A user with the email twice@example.org already exists" in result.output
    assert count(cli_app, User) == before


# --- funds ----------------------------------------------------------------------------------------


def test_funds_add(cli_app):
    result = invoke(cli_app, "funds", "add", "edu-1", "Education fund", "--type", "named", "--restricted")
    assert result.exit_code == 0, result.output
    assert "added fund EDU-1 Education fund (named, restricted)" in result.output
    with cli_app.app_context():
        fund = db.session.scalar(select(Fund).where(Fund.code == "EDU-1"))
        assert (fund.name, fund.fund_type, fund.restriction, fund.is_public) == ("Education fund", "named",
                                                                                "restricted", True)
    listing = invoke(cli_app, "funds", "list")
    assert listing.exit_code == 0 and "EDU-1\tEducation fund\tnamed\trestricted\tactive" in listing.output


@pytest.mark.parametrize(
    "args, message",
    [
        (["BADTYPE", "Bad", "--type", "charity"], "Invalid value for '--type'"),
        (["NOTYPE", "Bad"], "Missing option '--type'"),
        (["has space", "Bad", "--type", "general"], "A fund code is 1 to 20 letters"),
        (["X" * 21, "Bad", "--type", "general"], "A fund code is 1 to 20 letters"),
        (["NONAME", " ", "--type", "general"], "A fund needs a name"),
    ],
)
def test_funds_add_refuses_bad_input(cli_app, args, message):
    before = count(cli_app, Fund)
    result = invoke(cli_app, "funds", "add", *args)
    assert result.exit_code != 0
    assert message in result.output
    assert count(cli_app, Fund) == before


def test_funds_add_refuses_a_duplicate_code(cli_app):
    assert invoke(cli_app, "funds", "add", "DUP", "First", "--type", "general").exit_code == 0
    before = count(cli_app, Fund)
    result = invoke(cli_app, "funds", "add", "dup", "Second", "--type", "project")
    assert result.exit_code == 1
    assert "Fund code DUP is already used" in result.output
    assert count(cli_app, Fund) == before


# --- ledger verify --------------------------------------------------------------------------------


def tamper_amount(app, entry_id: int) -> None:
    """Change a posted amount behind the guards' back (and commit it), as someone with database access could."""
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            db.session.execute(sa.text("SET LOCAL session_replication_role = replica"))
            amount = "21.00"
        else:
            db.session.execute(sa.text("DROP TRIGGER journal_lines_no_update"))
            amount = "2100"  # integer cents on SQLite
        db.session.execute(sa.text(f"UPDATE journal_lines SET amount = {amount} WHERE entry_id = :id AND line_no = 1"),
                           {"id": entry_id})
        db.session.commit()


def test_ledger_verify(ledger_app):
    empty = invoke(ledger_app, "ledger", "verify")
    assert empty.exit_code == 0 and "ok: 0 entries" in empty.output
    with ledger_app.app_context():
        fund = make_fund(db.session, "GEN")
        entries = [post(db.session, fund, f"{n}0.00", date=dt.date(2025, 1, n)) for n in (1, 2, 3)]
        ids, head = [e.id for e in entries], entries[-1].hash
        db.session.commit()

    clean = invoke(ledger_app, "ledger", "verify")
    assert clean.exit_code == 0, clean.output
    assert f"ok: 3 entries, chain head {head}" in clean.output

    tamper_amount(ledger_app, ids[1])
    broken = invoke(ledger_app, "ledger", "verify")
    assert broken.exit_code == 1
    assert "[chain] entry #2: content does not match its hash" in broken.stderr
    assert "[balance] entry #2:" in broken.stderr
    assert "ledger verification failed" in broken.stderr and "in 3 entries" in broken.stderr
    assert "entry #1" not in broken.stderr and "entry #3" not in broken.stderr
    assert count(ledger_app, JournalEntry) == 3
