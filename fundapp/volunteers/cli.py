"""`flask volunteers verify-points`: check the point ledger (exit 1 naming each problem)."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from fundapp.extensions import db
from fundapp.volunteers.points import verify_points

volunteers_cli = AppGroup("volunteers", help="Volunteers and the time bank.")


@volunteers_cli.command("verify-points")
def verify_points_command() -> None:
    """Check that every point movement balances and every kept balance equals its lines."""
    problems = verify_points(db.session)
    for problem in problems:
        click.echo(problem, err=True)
    if problems:
        raise SystemExit(1)
    click.echo("point ledger OK")


@volunteers_cli.command("expire-points")
def expire_points_command() -> None:
    """Apply the expiry rule (VOLUNTEER_POINTS_EXPIRY_MONTHS) as of today; safe to run daily."""
    from fundapp.volunteers.points import expire_points

    entries = expire_points(db.session)
    db.session.commit()
    click.echo(f"{len(entries)} account(s) had points expire")
