"""`flask notify ...`: send the emails still pending (a cron fallback for the after-commit task), check SMTP."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from fundapp.extensions import db
from fundapp.notify.mail import deliver_pending


@click.group("notify", help="Notifications: email delivery.")
def notify_cli() -> None:
    pass


@notify_cli.command("deliver")
@click.option("--limit", default=500, show_default=True, type=click.IntRange(1, 100_000),
              help="At most this many messages in one run.")
@with_appcontext
def deliver(limit: int) -> None:
    """Email every notification not yet sent (SMTP if MAIL_SERVER is set, else the outbox folder)."""
    result = deliver_pending(db.session, limit=limit)
    click.echo(f"sent {result.sent}, failed {result.failed}")
    if result.failed:
        click.echo("failed messages keep their error (notifications.email_error) and are tried again next run",
                   err=True)
