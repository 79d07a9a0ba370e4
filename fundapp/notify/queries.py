"""Reads for the inbox."""

from __future__ import annotations

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from fundapp.notify.models import Notification


def unread_count(session: Session, user_id: int) -> int:
    """One COUNT on the (user_id, read_at) index."""
    return session.scalar(
        select(func.count()).select_from(Notification)
        .where(Notification.user_id == user_id, Notification.read_at.is_(None))
    ) or 0


def inbox_query(user_id: int, unread_only: bool = False) -> Select:
    """A user's messages, newest first."""
    query = select(Notification).where(Notification.user_id == user_id)
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    return query.order_by(Notification.created_at.desc(), Notification.id.desc())


def find_own(session: Session, notification_id: int, user_id: int) -> Notification | None:
    """The message if it exists and belongs to `user_id` (someone else's is as good as missing: 404)."""
    note = session.get(Notification, notification_id)
    return note if note is not None and note.user_id == user_id else None
