"""Test fixtures: every database test runs on SQLite and, when TEST_DATABASE_URL is set, on PostgreSQL.

The schema comes from the Alembic migrations (never create_all). Each test runs inside a transaction on one
connection that is rolled back at the end; sessions join it with SAVEPOINTs, so a view's commit() is real
to the code under test yet leaves nothing behind.

Two styles, never mixed in one test (Flask-Login caches the user on the app context):
- `session`: an app context is pushed for the test; call services directly.
- `client` (+ `app_ctx()` for short looks at the database): web requests, each in its own app context.
"""

from __future__ import annotations

import contextlib
import os
import uuid

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade
from sqlalchemy.orm import scoped_session, sessionmaker

from config import TestingConfig
from fundapp import create_app
from fundapp.extensions import db

PG_URL = os.environ.get("TEST_DATABASE_URL")
BACKENDS = ["sqlite", "postgresql"]


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


def _fresh_pg_database(name: str) -> str:
    """Drop and create database `name` on the TEST_DATABASE_URL server; return its URL."""
    server = sa.make_url(PG_URL)
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return server.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def fresh_database_url(tmp_path_factory):
    """Factory: a new, empty database URL for `backend` (used by tests that need real commits)."""

    def make(backend: str, label: str) -> str:
        if backend == "postgresql":
            return _fresh_pg_database(f"fundapp_{label}_{_worker()}_{uuid.uuid4().hex[:6]}")
        return f"sqlite:///{tmp_path_factory.mktemp(label) / 'db.sqlite3'}"

    return make


def make_migrated_app(url: str, **overrides):
    app = create_app({**{k: getattr(TestingConfig, k) for k in dir(TestingConfig) if k.isupper()},
                      "SQLALCHEMY_DATABASE_URI": url, **overrides})
    with app.app_context():
        upgrade()
        from fundapp.ledger.chart import seed_chart

        seed_chart(db.session)
        db.session.commit()
    return app


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request) -> str:
    if request.param == "postgresql" and not PG_URL:
        pytest.skip("TEST_DATABASE_URL is not set: PostgreSQL runs skipped")
    return request.param


@pytest.fixture(scope="session")
def app(backend, fresh_database_url):
    app = make_migrated_app(fresh_database_url(backend, "test"))
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture()
def connection(app):
    """One connection and an outer transaction per test, rolled back at the end."""
    with app.app_context():
        conn = db.engine.connect()
    outer = conn.begin()
    original = db.session
    factory = sessionmaker(bind=conn, join_transaction_mode="create_savepoint", expire_on_commit=False)
    db.session = scoped_session(factory, scopefunc=original.registry.scopefunc)
    try:
        yield conn
    finally:
        db.session = original  # sessions were removed as their app contexts ended
        outer.rollback()
        conn.close()


@pytest.fixture()
def session(app, connection):
    """Service-level tests: an app context (and a test request context for gettext) for the whole test."""
    with app.test_request_context(headers={"Accept-Language": "en"}):
        yield db.session


@pytest.fixture()
def app_ctx(app, connection):
    """For web tests: `with app_ctx() as s:` gives a session in a short app context of its own."""

    @contextlib.contextmanager
    def open_ctx():
        with app.app_context():
            yield db.session
            db.session.remove()

    return open_ctx


@pytest.fixture()
def client(app, connection):
    """A browser speaking English (pass headers={"Accept-Language": "zh-CN"} to see the Chinese UI)."""
    test_client = app.test_client()
    test_client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return test_client


def complete_two_factor(client, open_session, user_id: int) -> None:
    """After a correct password: pass the pending second step through the web, reading the user's TOTP secret
    from the database (`open_session()`: a context manager giving a session). Enrols a user who has no
    authenticator yet (the response shows the recovery codes), else posts the current code."""
    import pyotp

    from fundapp.auth.models import TwoFactor

    with open_session() as s:
        credential = s.get(TwoFactor, user_id)
        secret, pending = credential.secret, credential.pending_secret
    if secret is None:
        response = client.post("/auth/login/enrol", data={"code": pyotp.TOTP(pending).now()})
        assert response.status_code == 200 and "recovery-codes" in response.get_data(as_text=True), response.status
    else:
        response = client.post("/auth/login/code", data={"code": pyotp.TOTP(secret).now()})
        assert response.status_code == 302, response.get_data(as_text=True)[:500]


@pytest.fixture()
def login(client, app_ctx):
    """`login("finance", "board")` creates a user with those roles, signs the client in, returns the user id.
    Users whose roles need two-factor sign-in (TWO_FACTOR_ROLES) enrol an authenticator on the way."""
    from tests.factories import PASSWORD, make_user

    def sign_in(*roles: str) -> int:
        with app_ctx() as s:
            user = make_user(s, *roles)
            s.commit()
            email, user_id = user.email, user.id
        response = client.post("/auth/login", data={"email": email, "password": PASSWORD})
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        if response.headers["Location"] == "/auth/login":  # the second step is pending
            complete_two_factor(client, app_ctx, user_id)
        return user_id

    return sign_in


@pytest.fixture()
def count_queries(app):
    """`with count_queries() as counter:` counts the SQL statements run meanwhile (counter[0]); keeps pages N+1-free."""
    with app.app_context():
        engine = db.engine

    @contextlib.contextmanager
    def counting():
        counter = [0]

        def on_execute(*_args):
            counter[0] += 1

        sa.event.listen(engine, "before_cursor_execute", on_execute)
        try:
            yield counter
        finally:
            sa.event.remove(engine, "before_cursor_execute", on_execute)

    return counting
