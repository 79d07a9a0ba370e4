"""Email goes out only after the transaction that made the notifications commits.

The hook listens on Flask-SQLAlchemy's Session class (what `db.session` makes in production). The test fixture's
`db.session` is a plain SQLAlchemy session, so these tests open a Flask-SQLAlchemy session of their own on the
test connection; the delivery task then runs inline (HUEY_IMMEDIATE) in an app context and session of its own.
tests/unit/test_notify_commit.py checks the same against real commits.
"""

from __future__ import annotations

import contextlib

import pytest
from flask_sqlalchemy.session import Session as FlaskSession
from sqlalchemy import select

from fundapp.extensions import db
from fundapp.notify import tasks
from fundapp.notify.models import Notification
from fundapp.notify.services import notify
from tests.factories import make_user


@pytest.fixture()
def outbox(app, tmp_path, monkeypatch):
    folder = tmp_path / "outbox"
    monkeypatch.setitem(app.config, "MAIL_SERVER", "")
    monkeypatch.setitem(app.config, "MAIL_OUTBOX_DIR", str(folder))
    monkeypatch.setitem(app.config, "MAIL_DELIVER_AFTER_COMMIT", True)
    return folder


class ConnectionSession(FlaskSession):
    """Flask-SQLAlchemy's session (the class the hook listens on) kept on the test connection: its get_bind
    would otherwise pick the app's engine and commit for real."""

    def get_bind(self, *_args, **_kwargs):
        return self.bind


@pytest.fixture()
def flask_session(app, connection):
    """A Flask-SQLAlchemy session joined to the test transaction, in an app context."""

    @contextlib.contextmanager
    def open_session():
        with app.test_request_context(headers={"Accept-Language": "en"}):
            session = ConnectionSession(db, bind=connection, join_transaction_mode="create_savepoint",
                                   expire_on_commit=False)
            try:
                yield session
            finally:
                session.close()

    return open_session


def sent(folder) -> int:
    return len(list(folder.glob("*.eml"))) if folder.exists() else 0


def test_commit_sends_the_new_notifications(flask_session, outbox):
    with flask_session() as s:
        user = make_user(s, "board")
        (note,) = notify(s, [user.id], "agenda_open", "Agenda open", link="/grants/agendas/1")
        assert sent(outbox) == 0  # not before the commit
        s.commit()
        assert sent(outbox) == 1
        assert "notifications_queued" not in s.info
        assert s.scalar(select(Notification.emailed_at).where(Notification.id == note.id)) is not None


def test_a_rolled_back_transaction_sends_nothing(flask_session, outbox):
    with flask_session() as s:
        user = make_user(s, "board")
        notify(s, [user.id], "agenda_open", "Agenda open")
        s.rollback()
        assert "notifications_queued" not in s.info
        s.commit()  # a later commit of the same session has nothing to send
        assert sent(outbox) == 0


def test_releasing_a_savepoint_waits_for_the_outer_commit(flask_session, outbox):
    with flask_session() as s:
        user = make_user(s, "board")
        with s.begin_nested():
            notify(s, [user.id], "agenda_open", "Agenda open")
        assert sent(outbox) == 0
        assert s.info.get("notifications_queued") is True
        s.commit()
        assert sent(outbox) == 1


def test_a_rolled_back_savepoint_keeps_the_outer_notifications(flask_session, outbox):
    with flask_session() as s:
        user = make_user(s, "board")
        notify(s, [user.id], "kept", "Kept")
        nested = s.begin_nested()
        notify(s, [user.id], "dropped", "Dropped")
        nested.rollback()
        s.commit()
        assert sent(outbox) == 1


def test_a_failing_hook_never_breaks_the_commit(flask_session, outbox, monkeypatch, caplog):
    def broken():
        raise RuntimeError("queue is down")

    monkeypatch.setattr(tasks, "deliver_notifications", broken)
    monkeypatch.setattr(tasks.log, "disabled", False)  # alembic's fileConfig in the fixture disabled it
    with flask_session() as s:
        user = make_user(s, "board")
        (note,) = notify(s, [user.id], "agenda_open", "Agenda open")
        s.commit()
        assert s.scalar(select(Notification.emailed_at).where(Notification.id == note.id)) is None  # still pending
    assert sent(outbox) == 0
    assert "could not enqueue notification delivery" in caplog.text


def test_a_failing_delivery_never_breaks_the_commit(flask_session, outbox, monkeypatch):
    def broken(*_args, **_kwargs):
        raise RuntimeError("mailer bug")

    monkeypatch.setattr(tasks, "deliver_pending", broken)
    with flask_session() as s:
        user = make_user(s, "board")
        notify(s, [user.id], "agenda_open", "Agenda open")
        s.commit()
        assert s.scalar(select(Notification.id).where(Notification.user_id == user.id)) is not None


def test_testing_apps_do_not_deliver_unless_asked(flask_session, outbox, app, monkeypatch):
    monkeypatch.delitem(app.config, "MAIL_DELIVER_AFTER_COMMIT")
    with flask_session() as s:
        user = make_user(s, "board")
        notify(s, [user.id], "agenda_open", "Agenda open")
        s.commit()
    assert sent(outbox) == 0
