"""notify() and email delivery (`deliver_pending`): the outbox folder, SMTP through a fake server, failures.

deliver_pending commits as it goes; inside the test transaction those commits only release SAVEPOINTs.
"""

from __future__ import annotations

import datetime as dt
import email
import re
import smtplib
from email import policy

import pytest
from sqlalchemy import func, select

from fundapp.db import utcnow
from fundapp.notify import mail
from fundapp.notify.links import is_app_path
from fundapp.notify.mail import deliver_pending
from fundapp.notify.models import Notification
from fundapp.notify.services import mark_all_read, mark_read, notify
from tests.factories import make_user

SITE = "https://fund.example.org"
SENDER = "基金会 <noreply@fund.example.org>"


@pytest.fixture()
def outbox(app, session, tmp_path, monkeypatch):
    """Mail goes to a fresh outbox folder; no SMTP server is configured."""
    folder = tmp_path / "outbox"
    for key, value in {"MAIL_SERVER": "", "MAIL_OUTBOX_DIR": str(folder), "SITE_URL": SITE,
                       "MAIL_SENDER": SENDER}.items():
        monkeypatch.setitem(app.config, key, value)
    return folder


def eml_files(folder) -> list:
    return sorted(folder.glob("*.eml")) if folder.exists() else []


def read_eml(path) -> email.message.EmailMessage:
    return email.message_from_bytes(path.read_bytes(), policy=policy.default)


def rows(session, user_id: int) -> list[Notification]:
    return list(session.scalars(select(Notification).where(Notification.user_id == user_id)
                                .order_by(Notification.id).execution_options(populate_existing=True)))


# --- notify() -----------------------------------------------------------------------------------------------------


def test_notify_writes_one_row_per_distinct_user_and_flags_the_session(session):
    a, b = make_user(session, "board"), make_user(session, "board")
    session.info.pop("notifications_queued", None)
    made = notify(session, [a.id, b.id, a.id, None, b.id], "agenda_open", "Agenda open", "Please vote.",
                  "/grants/agendas/1")
    assert [n.user_id for n in made] == [a.id, b.id]
    assert all(n.id is not None and n.read_at is None and n.emailed_at is None for n in made)
    assert session.info["notifications_queued"] is True
    assert [(n.kind, n.subject, n.body, n.link) for n in rows(session, a.id)] == [
        ("agenda_open", "Agenda open", "Please vote.", "/grants/agendas/1")]


def test_notify_with_nobody_writes_nothing(session):
    session.info.pop("notifications_queued", None)
    before = session.scalar(select(func.count()).select_from(Notification))
    assert notify(session, [], "x", "Nothing") == []
    assert notify(session, [None, None], "x", "Nothing") == []
    assert session.scalar(select(func.count()).select_from(Notification)) == before
    assert "notifications_queued" not in session.info


def test_notify_cuts_over_long_values_to_the_columns(session):
    user = make_user(session, "reviewer")
    (row,) = notify(session, [user.id], "k" * 80, "s" * 300, "body", "/" + "p" * 400)
    session.flush()
    assert (len(row.kind), len(row.subject), len(row.link)) == (50, 200, 300)


def test_mark_read_keeps_the_first_time_and_mark_all_read_counts(session):
    user, other = make_user(session, "board"), make_user(session, "board")
    first, second, third = (notify(session, [user.id], "k", f"S{i}")[0] for i in range(3))
    (others,) = notify(session, [other.id], "k", "Other")
    assert mark_read(session, first) is True
    opened = first.read_at
    assert mark_read(session, first) is False and first.read_at == opened
    assert mark_all_read(session, user.id) == 2
    assert mark_all_read(session, user.id) == 0
    assert all(n.read_at is not None for n in rows(session, user.id))
    assert rows(session, other.id)[0].read_at is None


@pytest.mark.parametrize("link, ok", [
    ("/grants/awards/3", True), ("/inbox/?show=unread#top", True), ("/", True),
    ("", False), ("grants/awards/3", False), ("//evil.example", False), ("/\\evil.example", False),
    ("https://evil.example/x", False), ("javascript:alert(1)", False), ("/x\r\nLocation: //evil", False),
    ("/ /evil", False), ("\t//evil.example", False),
])
def test_only_app_paths_are_links(link, ok):
    assert is_app_path(link) is ok


# --- the outbox folder --------------------------------------------------------------------------------------------


def test_delivery_writes_one_eml_per_notification_and_marks_it(session, outbox):
    a = make_user(session, "board", email="board-a@example.org")
    b = make_user(session, "board", email="board-b@example.org")
    made = notify(session, [a.id, b.id], "agenda_open", "理事会议程已开放：社区花园项目",
                  "请在手机上查看材料并投票。", "/grants/agendas/7")
    session.commit()

    result = deliver_pending(session)

    assert (result.sent, result.failed) == (2, 0)
    files = eml_files(outbox)
    assert len(files) == 2
    by_recipient = {read_eml(f)["To"]: (f, read_eml(f)) for f in files}
    assert set(by_recipient) == {"board-a@example.org", "board-b@example.org"}
    for note in made:
        path, message = by_recipient[note.user.email]
        assert re.fullmatch(rf"\d{{8}}T\d{{12}}Z-{note.id}\.eml", path.name)
        assert message["Subject"] == "理事会议程已开放：社区花园项目"
        assert message["From"] == SENDER
        assert message.get_content_type() == "text/plain"
        assert message.get_content_charset() == "utf-8"
        assert message["Auto-Submitted"] == "auto-generated"
        text = message.get_content()
        assert "请在手机上查看材料并投票。" in text
        assert f"{SITE}/grants/agendas/7" in text
        assert f"{SITE}/inbox/" in text
    assert all(n.emailed_at is not None and n.email_error == "" for n in rows(session, a.id) + rows(session, b.id))
    assert not list(outbox.glob(".*"))  # no half-written files left behind


def test_a_second_delivery_sends_nothing(session, outbox):
    user = make_user(session, "reviewer")
    notify(session, [user.id], "review_assigned", "Review assigned", link="/grants/reviews/1")
    session.commit()
    assert deliver_pending(session).sent == 1
    emailed_at = rows(session, user.id)[0].emailed_at
    again = deliver_pending(session)
    assert (again.sent, again.failed) == (0, 0)
    assert len(eml_files(outbox)) == 1
    assert rows(session, user.id)[0].emailed_at == emailed_at


def test_delivery_respects_the_limit(session, outbox):
    user = make_user(session, "reviewer")
    for i in range(3):
        notify(session, [user.id], "k", f"Message {i}")
    session.commit()
    assert deliver_pending(session, limit=2).sent == 2
    assert deliver_pending(session, limit=2).sent == 1
    assert len(eml_files(outbox)) == 3


def test_a_row_claimed_by_another_run_is_not_sent_again(session, outbox, monkeypatch):
    user = make_user(session, "reviewer")
    (note,) = notify(session, [user.id], "k", "Once")
    session.commit()
    monkeypatch.setattr(mail, "pending_ids", lambda s, limit: [note.id])  # a run that read the row before...
    note.emailed_at = utcnow()  # ...another run claimed and sent it
    session.commit()
    assert (deliver_pending(session).sent, len(eml_files(outbox))) == (0, 0)


def test_disabled_users_and_users_without_an_address_keep_the_inbox_row_but_get_no_email(session, outbox):
    disabled = make_user(session, "applicant")
    disabled.is_enabled = False
    no_address = make_user(session, "applicant")
    no_address.email = ""
    enabled = make_user(session, "applicant")
    notify(session, [disabled.id, no_address.id, enabled.id], "application_status", "Status changed",
           link="/grants/applications/1")
    session.commit()
    assert deliver_pending(session).sent == 1
    assert [read_eml(f)["To"] for f in eml_files(outbox)] == [enabled.email]
    for user in (disabled, no_address):
        (row,) = rows(session, user.id)
        assert row.emailed_at is None and row.email_error == ""


def test_old_rows_are_no_longer_emailed(session, outbox):
    user = make_user(session, "board")
    (old,) = notify(session, [user.id], "k", "Long ago")
    old.created_at = utcnow() - dt.timedelta(days=30)
    session.commit()
    assert deliver_pending(session).sent == 0
    assert eml_files(outbox) == []


def test_unsafe_links_and_header_breaks_do_not_reach_the_email(session, outbox):
    user = make_user(session, "board")
    notify(session, [user.id], "k", "Line one\r\nBcc: victim@example.org", "Body", "https://evil.example/phish")
    session.commit()
    assert deliver_pending(session).sent == 1
    (path,) = eml_files(outbox)
    message = read_eml(path)
    assert message["Subject"] == "Line one Bcc: victim@example.org"
    assert message["Bcc"] is None
    assert "evil.example" not in message.get_content()
    assert message.get_content().count(f"{SITE}/inbox/") == 2  # the link falls back to the inbox


def test_an_outbox_that_cannot_be_written_records_the_error_on_every_row(session, outbox, app, monkeypatch, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setitem(app.config, "MAIL_OUTBOX_DIR", str(blocker / "outbox"))
    a, b = make_user(session, "board"), make_user(session, "board")
    notify(session, [a.id, b.id], "k", "Subject")
    session.commit()
    result = deliver_pending(session)
    assert (result.sent, result.failed) == (0, 2)
    for user in (a, b):
        (row,) = rows(session, user.id)
        assert row.emailed_at is None
        assert row.email_error.startswith(("FileExistsError", "NotADirectoryError"))


# --- SMTP ---------------------------------------------------------------------------------------------------------


class FakeSMTP:
    """Stands in for smtplib.SMTP: records what the mailer does; `refuse` recipients are refused."""

    instances: list[FakeSMTP] = []
    refuse: set[str] = set()
    fail_connect: Exception | None = None

    def __init__(self, host, port, timeout=None):
        if FakeSMTP.fail_connect is not None:
            raise FakeSMTP.fail_connect
        self.host, self.port, self.timeout = host, port, timeout
        self.calls: list[str] = []
        self.sent: list = []
        FakeSMTP.instances.append(self)

    def starttls(self, context=None):
        assert context is not None
        self.calls.append("starttls")

    def login(self, user, password):
        self.calls.append(f"login {user} {password}")

    def send_message(self, message):
        if message["To"] in FakeSMTP.refuse:
            raise smtplib.SMTPRecipientsRefused({message["To"]: (550, b"no such user")})
        self.sent.append(message)

    def quit(self):
        self.calls.append("quit")

    def close(self):
        self.calls.append("close")


@pytest.fixture()
def smtp(app, session, monkeypatch):
    FakeSMTP.instances, FakeSMTP.refuse, FakeSMTP.fail_connect = [], set(), None
    monkeypatch.setattr(mail.smtplib, "SMTP", FakeSMTP)
    for key, value in {"MAIL_SERVER": "smtp.example.org", "MAIL_PORT": 587, "MAIL_USE_TLS": True,
                       "MAIL_USERNAME": "mailer", "MAIL_PASSWORD": "s3cret", "MAIL_SENDER": SENDER,
                       "SITE_URL": SITE, "MAIL_OUTBOX_DIR": "/nonexistent/never-used"}.items():
        monkeypatch.setitem(app.config, key, value)
    return FakeSMTP


def test_smtp_sends_all_messages_over_one_tls_connection(session, smtp):
    users = [make_user(session, "finance") for _ in range(2)]
    notify(session, [u.id for u in users], "second_approval", "A payment needs a second approver",
           link="/grants/awards/5")
    session.commit()

    result = deliver_pending(session)

    assert (result.sent, result.failed) == (2, 0)
    (server,) = smtp.instances
    assert (server.host, server.port, server.timeout) == ("smtp.example.org", 587, mail.DEFAULT_TIMEOUT)
    assert server.calls == ["starttls", "login mailer s3cret", "quit", "close"]
    assert sorted(m["To"] for m in server.sent) == sorted(u.email for u in users)
    assert all(f"{SITE}/grants/awards/5" in m.get_content() for m in server.sent)
    assert all(rows(session, u.id)[0].emailed_at is not None for u in users)


def test_smtp_without_tls_or_username_does_neither(session, smtp, app, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_USE_TLS", False)
    monkeypatch.setitem(app.config, "MAIL_USERNAME", "")
    user = make_user(session, "finance")
    notify(session, [user.id], "k", "Plain")
    session.commit()
    assert deliver_pending(session).sent == 1
    assert smtp.instances[0].calls == ["quit", "close"]


def test_a_refused_recipient_is_recorded_and_the_others_are_sent(session, smtp):
    bad, good = make_user(session, "board"), make_user(session, "board")
    smtp.refuse = {bad.email}
    notify(session, [bad.id, good.id], "agenda_open", "Agenda open")
    session.commit()

    result = deliver_pending(session)

    assert (result.sent, result.failed) == (1, 1)
    (failed,) = rows(session, bad.id)
    assert failed.emailed_at is None
    assert failed.email_error.startswith("SMTPRecipientsRefused") and len(failed.email_error) <= 500
    assert rows(session, good.id)[0].emailed_at is not None
    assert len(smtp.instances) == 1  # a refusal does not cost a new connection

    smtp.refuse = set()  # the next run tries it again and clears the error
    assert deliver_pending(session).sent == 1
    (retried,) = rows(session, bad.id)
    assert retried.emailed_at is not None and retried.email_error == ""


def test_an_unreachable_server_fails_every_row_once_and_raises_nothing(session, smtp):
    smtp.fail_connect = ConnectionRefusedError(111, "Connection refused")
    users = [make_user(session, "board") for _ in range(3)]
    notify(session, [u.id for u in users], "k", "Subject")
    session.commit()
    result = deliver_pending(session)
    assert (result.sent, result.failed) == (0, 3)
    for user in users:
        (row,) = rows(session, user.id)
        assert row.emailed_at is None and "Connection refused" in row.email_error


def test_a_dropped_connection_is_reopened_for_the_next_message(session, smtp, monkeypatch):
    users = [make_user(session, "board") for _ in range(2)]
    notify(session, [u.id for u in users], "k", "Subject")
    session.commit()
    original = FakeSMTP.send_message

    def drop_first(self, message):
        if len(FakeSMTP.instances) == 1:
            raise smtplib.SMTPServerDisconnected("gone")
        original(self, message)

    monkeypatch.setattr(FakeSMTP, "send_message", drop_first)
    result = deliver_pending(session)
    assert (result.sent, result.failed) == (1, 1)
    assert len(smtp.instances) == 2 and "close" in smtp.instances[0].calls


def test_a_database_error_while_reading_is_logged_not_raised(session, outbox, monkeypatch, caplog):
    from sqlalchemy.exc import OperationalError

    def broken(*_args):
        raise OperationalError("select", {}, Exception("database is gone"))

    monkeypatch.setattr(mail, "pending_ids", broken)
    monkeypatch.setattr(mail.log, "disabled", False)  # alembic's fileConfig in the fixture disabled it
    result = deliver_pending(session)
    assert (result.sent, result.failed) == (0, 0)
    assert "could not read pending notifications" in caplog.text
