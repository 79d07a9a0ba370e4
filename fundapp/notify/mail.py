"""Email delivery of notifications: every inbox row is emailed once to an enabled user with an address.

With MAIL_SERVER set, messages go out by SMTP (STARTTLS when MAIL_USE_TLS, implicit TLS on port 465, a login
when MAIL_USERNAME is set). Without it (the embedded default) each message is written as
`<MAIL_OUTBOX_DIR>/<timestamp>-<id>.eml`, ready for any mail tool to pick up or a person to read.

`deliver_pending` runs in a task after the transaction that made the rows commits (`fundapp.notify.tasks`), and
from `flask notify deliver` (cron fallback). It owns its session's transactions: each row is first claimed
(`emailed_at` set where it was NULL, committed) so that two deliverers never send the same row, then sent; on
a failure the claim is undone and `email_error` kept, and the row is tried again by the next run. A crash
between claim and send loses that one email (the inbox row stays). Rows older than MAIL_MAX_AGE_DAYS (default
7) are no longer emailed, so a failing address is not retried forever and a re-enabled user is not flooded.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import case, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from fundapp.auth.models import User
from fundapp.db import utcnow
from fundapp.notify.links import absolute_url, is_app_path
from fundapp.notify.models import Notification

log = logging.getLogger(__name__)

ERROR_MAX = 500  # Notification.email_error is String(500)
DEFAULT_TIMEOUT = 10  # seconds, for connecting and for each SMTP command
SMTPS_PORT = 465


@dataclass
class Delivery:
    sent: int = 0
    failed: int = 0


# --- the message --------------------------------------------------------------------------------------------------


def _one_line(text: str) -> str:
    """Header values may not contain line breaks (header injection); collapse all whitespace."""
    return " ".join(text.split())


def inbox_path() -> str:
    return current_app.url_map.bind("localhost").build("inbox.index")


def message_text(note: Notification, site_url: str) -> str:
    """The plain-text body: the message, its absolute link, and where the inbox is (the foundation's language)."""
    link = note.link if is_app_path(note.link) else inbox_path()
    name = current_app.config.get("FOUNDATION_NAME") or ""
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        parts = [note.body.strip()] if note.body and note.body.strip() else []
        parts.append(_("Open: %(url)s", url=absolute_url(site_url, link)))
        footer = _("This message is also in your inbox: %(url)s", url=absolute_url(site_url, inbox_path()))
    return "\n\n".join(parts) + "\n\n-- \n" + (name + "\n" if name else "") + footer + "\n"


def build_message(note: Notification, recipient: str) -> EmailMessage:
    config = current_app.config
    sender = config["MAIL_SENDER"]
    domain = sender.rpartition("@")[2].strip(" >") or "localhost"
    message = EmailMessage()
    message["Subject"] = _one_line(note.subject)
    message["From"] = sender
    message["To"] = recipient
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = make_msgid(idstring=f"notification-{note.id}", domain=domain)
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies
    message.set_content(message_text(note, config["SITE_URL"]), charset="utf-8")
    return message


# --- transports ---------------------------------------------------------------------------------------------------


class OutboxTransport:
    """Writes each message to the outbox folder; a file appears whole or not at all."""

    def __init__(self, folder: str):
        self.folder = Path(folder)

    def send(self, message: EmailMessage, note_id: int) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        name = f"{utcnow().strftime('%Y%m%dT%H%M%S%fZ')}-{note_id}.eml"
        partial = self.folder / f".{name}.part"
        partial.write_bytes(message.as_bytes())
        os.replace(partial, self.folder / name)

    def close(self) -> None:
        pass


class SmtpTransport:
    """One SMTP connection for a run. If connecting fails, the rest of the run fails fast with the same error
    (instead of waiting a timeout per message); a message refused by the server does not close the connection."""

    def __init__(self, config):
        self.config = config
        self.smtp: smtplib.SMTP | None = None
        self.connect_error: Exception | None = None

    def _connect(self) -> smtplib.SMTP:
        if self.connect_error is not None:
            raise self.connect_error
        host, port = self.config["MAIL_SERVER"], int(self.config["MAIL_PORT"])
        timeout = self.config.get("MAIL_TIMEOUT", DEFAULT_TIMEOUT)
        try:
            if port == SMTPS_PORT:
                smtp = smtplib.SMTP_SSL(host, port, timeout=timeout, context=ssl.create_default_context())
            else:
                smtp = smtplib.SMTP(host, port, timeout=timeout)
                if self.config["MAIL_USE_TLS"]:
                    smtp.starttls(context=ssl.create_default_context())
            if self.config["MAIL_USERNAME"]:
                smtp.login(self.config["MAIL_USERNAME"], self.config["MAIL_PASSWORD"])
        except Exception as error:
            self.connect_error = error
            raise
        return smtp

    def send(self, message: EmailMessage, note_id: int) -> None:
        if self.smtp is None:
            self.smtp = self._connect()
        try:
            self.smtp.send_message(message)
        except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused, smtplib.SMTPDataError):
            raise  # this message was refused; the connection is still good
        except Exception:
            self._drop()
            raise

    def _drop(self) -> None:
        smtp, self.smtp = self.smtp, None
        if smtp is not None:
            try:
                smtp.close()
            except Exception:  # noqa: BLE001 - closing a broken connection
                pass

    def close(self) -> None:
        if self.smtp is not None:
            try:
                self.smtp.quit()
            except Exception:  # noqa: BLE001 - the messages were sent; a failed goodbye changes nothing
                pass
            self._drop()


def transport():
    config = current_app.config
    return SmtpTransport(config) if config.get("MAIL_SERVER") else OutboxTransport(config["MAIL_OUTBOX_DIR"])


# --- delivery -----------------------------------------------------------------------------------------------------


def pending_ids(session: Session, limit: int) -> list[int]:
    """Rows not yet emailed, of enabled users with an address; never-failed first, oldest first."""
    max_age = dt.timedelta(days=current_app.config.get("MAIL_MAX_AGE_DAYS", 7))
    return list(session.scalars(
        select(Notification.id)
        .join(User, User.id == Notification.user_id)
        .where(Notification.emailed_at.is_(None), User.is_enabled.is_(True), User.email != "",
               Notification.created_at >= utcnow() - max_age)
        .order_by(case((Notification.email_error == "", 0), else_=1), Notification.id)
        .limit(limit)
    ))


def _claim(session: Session, note_id: int) -> tuple[Notification, str] | None:
    """Mark the row as emailed (if nobody did yet) and commit, so a concurrent run skips it."""
    claimed = session.execute(
        update(Notification)
        .where(Notification.id == note_id, Notification.emailed_at.is_(None))
        .values(emailed_at=utcnow(), email_error="")
        .execution_options(synchronize_session=False)
    ).rowcount
    session.commit()
    if claimed != 1:
        return None
    row = session.execute(
        select(Notification, User.email).join(User, User.id == Notification.user_id)
        .where(Notification.id == note_id).execution_options(populate_existing=True)
    ).one()
    return row[0], row[1]


def _unclaim(session: Session, note_id: int, error: Exception) -> None:
    message = f"{type(error).__name__}: {error}"[:ERROR_MAX]
    session.execute(
        update(Notification).where(Notification.id == note_id)
        .values(emailed_at=None, email_error=message).execution_options(synchronize_session=False)
    )
    session.commit()


def _deliver_one(session: Session, sender, note_id: int) -> bool | None:
    """True if sent, False if it failed, None if another run had it."""
    claimed = _claim(session, note_id)
    if claimed is None:
        return None
    note, recipient = claimed
    try:
        sender.send(build_message(note, recipient), note.id)
    except Exception as error:  # noqa: BLE001 - record it on the row and carry on with the others
        log.warning("emailing notification %s to user %s failed: %s", note.id, note.user_id, error)
        _unclaim(session, note_id, error)
        return False
    return True


def deliver_pending(session: Session, limit: int = 200) -> Delivery:
    """Email up to `limit` pending notifications. Commits as it goes; never raises (errors are logged)."""
    result = Delivery()
    try:
        ids = pending_ids(session, limit)
    except SQLAlchemyError:
        log.exception("could not read pending notifications")
        session.rollback()
        return result
    if not ids:
        return result
    sender = transport()
    try:
        for note_id in ids:
            try:
                outcome = _deliver_one(session, sender, note_id)
            except SQLAlchemyError:
                log.exception("could not record the delivery of notification %s", note_id)
                session.rollback()
                outcome = False
            if outcome is True:
                result.sent += 1
            elif outcome is False:
                result.failed += 1
    finally:
        sender.close()
    return result
