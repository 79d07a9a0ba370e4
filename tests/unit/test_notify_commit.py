"""Delivery after real commits, on a database of this module's own (the production wiring: `db.session` is
Flask-SQLAlchemy's session and the hook on it enqueues the task, run inline with HUEY_IMMEDIATE), and the
`flask notify deliver` command."""

from __future__ import annotations

import email
from email import policy

import pytest
import sqlalchemy as sa
from sqlalchemy import select

from fundapp.extensions import db
from fundapp.notify.models import Notification
from fundapp.notify.services import notify
from tests.conftest import PG_URL, make_migrated_app
from tests.factories import make_user


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def real_app(request, fresh_database_url, tmp_path_factory):
    if request.param == "postgresql" and not PG_URL:
        pytest.skip("TEST_DATABASE_URL is not set: PostgreSQL runs skipped")
    url = fresh_database_url(request.param, "notify")
    app = make_migrated_app(url, MAIL_SERVER="", MAIL_DELIVER_AFTER_COMMIT=True, SITE_URL="https://fund.example.org")
    yield app
    with app.app_context():
        db.engine.dispose()
    if request.param == "postgresql":
        admin = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{sa.make_url(url).database}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture()
def outbox(real_app, tmp_path, monkeypatch):
    folder = tmp_path / "outbox"
    monkeypatch.setitem(real_app.config, "MAIL_OUTBOX_DIR", str(folder))
    return folder


def sent(folder) -> list[email.message.EmailMessage]:
    files = sorted(folder.glob("*.eml")) if folder.exists() else []
    return [email.message_from_bytes(f.read_bytes(), policy=policy.default) for f in files]


def emailed_at(app, note_id: int):
    with app.app_context():
        return db.session.scalar(select(Notification.emailed_at).where(Notification.id == note_id))


def test_a_commit_sends_and_a_rollback_does_not(real_app, outbox):
    with real_app.test_request_context():
        user = make_user(db.session, "board")
        db.session.commit()
        (kept,) = notify(db.session, [user.id], "agenda_open", "Agenda open", link="/grants/agendas/1")
        assert sent(outbox) == []
        db.session.commit()
        kept_id, address = kept.id, user.email
        assert [m["To"] for m in sent(outbox)] == [address]

        notify(db.session, [user.id], "agenda_open", "Rolled back")
        db.session.rollback()
        db.session.commit()
    assert len(sent(outbox)) == 1
    assert emailed_at(real_app, kept_id) is not None
    with real_app.app_context():
        assert db.session.scalar(select(Notification.id).where(Notification.subject == "Rolled back")) is None


def test_the_cli_sends_what_the_hook_did_not(real_app, outbox, monkeypatch):
    monkeypatch.setitem(real_app.config, "MAIL_DELIVER_AFTER_COMMIT", False)  # as if the queue were down
    with real_app.test_request_context():
        user = make_user(db.session, "finance")
        (note,) = notify(db.session, [user.id], "second_approval", "Second approval needed", link="/grants/awards/2")
        db.session.commit()
        note_id = note.id
    assert sent(outbox) == []

    runner = real_app.test_cli_runner()
    result = runner.invoke(args=["notify", "deliver"])
    assert result.exit_code == 0, result.output
    assert "sent 1, failed 0" in result.output
    (message,) = sent(outbox)
    assert "https://fund.example.org/grants/awards/2" in message.get_content()
    assert emailed_at(real_app, note_id) is not None

    again = runner.invoke(args=["notify", "deliver", "--limit", "10"])
    assert "sent 0, failed 0" in again.output
    assert len(sent(outbox)) == 1
