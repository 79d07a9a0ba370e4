"""Tell people that something awaits them: an inbox row per user, emailed after the transaction commits.

`notify()` only adds rows in the caller's transaction, so a rolled-back action tells nobody. Delivery
(`fundapp.notify.mail.deliver_pending`) sends each row once: by SMTP when MAIL_SERVER is set (production),
otherwise by writing an .eml file to the outbox folder (MAIL_OUTBOX_DIR, default instance/outbox).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import update
from sqlalchemy.orm import Session

from fundapp.db import utcnow
from fundapp.notify.models import Notification


def notify(session: Session, user_ids: Iterable[int | None], kind: str, subject: str, body: str = "",
           link: str = "") -> list[Notification]:
    """Queue one message per distinct user. `subject`/`body` are already in the recipient's language
    (the foundation's default locale: wrap the call in force_locale when the request is in another)."""
    rows = []
    for user_id in dict.fromkeys(u for u in user_ids if u is not None):
        row = Notification(user_id=user_id, kind=kind[:50], subject=subject[:200], body=body, link=link[:300])
        session.add(row)
        rows.append(row)
    if rows:
        session.flush()
        session.info.setdefault("notifications_queued", True)
    return rows


def mark_read(session: Session, notification: Notification) -> bool:
    """Mark one message read (once: the first time it was opened is kept). True if it was unread."""
    if notification.read_at is not None:
        return False
    notification.read_at = utcnow()
    session.flush()
    return True


def mark_all_read(session: Session, user_id: int) -> int:
    """Mark every unread message of `user_id` read; returns how many were unread."""
    result = session.execute(
        update(Notification).where(Notification.user_id == user_id, Notification.read_at.is_(None))
        .values(read_at=utcnow()).execution_options(synchronize_session="fetch")
    )
    return result.rowcount or 0
