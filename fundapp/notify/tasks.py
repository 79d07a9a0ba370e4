"""Email goes out after the commit: a hook on Flask-SQLAlchemy's session enqueues a delivery task.

`notify()` sets `session.info["notifications_queued"]`. When that session's outermost transaction commits,
the hook clears the flag and enqueues `deliver_notifications`, which runs `deliver_pending` in an app context
(and database session) of its own — inline with HUEY_IMMEDIATE, else in the Huey worker. A rolled-back
transaction left no rows and clears the flag, so it sends nothing; a SAVEPOINT's release is not the end of
the transaction and sends nothing yet. The hook never breaks a commit: its errors are logged (the rows stay
pending for the next run or `flask notify deliver`).

The hook is off while the app is TESTING (no outbox files or SMTP from other packages' tests); tests of
delivery set MAIL_DELIVER_AFTER_COMMIT = True, or call `deliver_pending` directly.
"""

from __future__ import annotations

import logging

from flask import current_app, has_app_context
from flask_sqlalchemy.session import Session as FlaskSession
from sqlalchemy import event

from fundapp.extensions import db
from fundapp.notify.mail import deliver_pending
from fundapp.tasks import huey, in_app_context

log = logging.getLogger(__name__)

QUEUED = "notifications_queued"  # the flag notify() sets in session.info


def _deliver() -> None:
    try:
        result = deliver_pending(db.session)
    except Exception:  # noqa: BLE001 - deliver_pending should not raise; a task never does
        log.exception("delivering notifications failed")
        db.session.rollback()
        return
    if result.sent or result.failed:
        log.info("notifications emailed: %s sent, %s failed", result.sent, result.failed)


@huey.task()
def deliver_notifications() -> None:
    in_app_context(_deliver)


def delivers_after_commit() -> bool:
    return has_app_context() and bool(current_app.config.get("MAIL_DELIVER_AFTER_COMMIT", not current_app.testing))


@event.listens_for(FlaskSession, "after_commit")
def _enqueue_after_commit(session) -> None:
    if not session.info.get(QUEUED) or session.in_nested_transaction():
        return  # nothing queued, or only a SAVEPOINT was released: the transaction goes on
    session.info.pop(QUEUED, None)
    try:
        if delivers_after_commit():
            deliver_notifications()
    except Exception:  # noqa: BLE001 - the commit has happened; never let mail break it
        log.exception("could not enqueue notification delivery; `flask notify deliver` will send them")


@event.listens_for(FlaskSession, "after_transaction_end")
def _forget_after_rollback(session, transaction) -> None:
    if transaction.parent is None:  # the outermost transaction ended (after a commit the flag is gone already)
        session.info.pop(QUEUED, None)
