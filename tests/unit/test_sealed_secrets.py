"""TOTP secrets are sealed in the database (fundapp/auth/sealed.py): the stored value is a token, not the secret;
the app reads the secret back; another key reads nothing usable; the migration seals secrets already stored."""

from __future__ import annotations

import pyotp
import pytest
import sqlalchemy as sa

from config import TestingConfig
from fundapp import create_app
from fundapp.auth.models import TwoFactor
from fundapp.auth.sealed import PREFIX, UNREADABLE
from fundapp.auth.two_factor import confirm_enrolment, matching_step, start_enrolment
from fundapp.extensions import db
from tests.factories import make_user

STORED = sa.text("SELECT secret, pending_secret FROM user_two_factor WHERE user_id = :u")


def enrolled_user(session):
    user = make_user(session, "finance")
    pending = start_enrolment(session, user).pending_secret
    confirm_enrolment(session, user, pyotp.TOTP(pending).now())
    session.flush()
    return user, pending


def test_the_secret_is_stored_sealed_and_read_back_plain(session):
    user, secret = enrolled_user(session)
    stored, pending = session.execute(STORED, {"u": user.id}).one()
    assert pending is None
    assert stored.startswith(PREFIX) and secret not in stored
    session.expire_all()
    assert session.get(TwoFactor, user.id).secret == secret
    assert matching_step(secret, pyotp.TOTP(secret).now()) is not None


def test_another_key_reads_nothing_usable(app, session):
    user, secret = enrolled_user(session)
    session.expire_all()
    app.config["TWO_FACTOR_KEY"] = "a-different-key-after-a-careless-rotation"
    try:
        read = session.get(TwoFactor, user.id).secret
    finally:
        app.config["TWO_FACTOR_KEY"] = None
        session.expire_all()
    assert read == UNREADABLE
    assert matching_step(read, pyotp.TOTP(secret).now()) is None  # codes refused, nothing exposed


@pytest.fixture()
def plain_secret_db(backend, fresh_database_url):
    app = create_app({**{k: getattr(TestingConfig, k) for k in dir(TestingConfig) if k.isupper()},
                      "SQLALCHEMY_DATABASE_URI": fresh_database_url(backend, "sealed")})
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_the_migration_seals_secrets_stored_before_it(plain_secret_db):
    app, secret = plain_secret_db, pyotp.random_base32(length=32)
    runner = app.test_cli_runner()
    assert runner.invoke(args=["db", "upgrade", "a7c3e5f9b214"]).exit_code == 0
    with app.app_context(), db.engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO users (id, email, name, password_hash, is_enabled, created_at) "
                             "VALUES (1, 'old@example.org', 'Old', 'x', TRUE, CURRENT_TIMESTAMP)"))
        conn.execute(sa.text("INSERT INTO user_two_factor (user_id, secret) VALUES (1, :s)"), {"s": secret})
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
    with app.app_context():
        stored = db.session.execute(STORED, {"u": 1}).one()[0]
        assert stored.startswith(PREFIX) and secret not in stored
        assert db.session.get(TwoFactor, 1).secret == secret
        db.session.remove()
    assert runner.invoke(args=["db", "downgrade", "a7c3e5f9b214"]).exit_code == 0
    with app.app_context(), db.engine.connect() as conn:
        assert conn.execute(STORED, {"u": 1}).one()[0] == secret
