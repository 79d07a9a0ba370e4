"""`flask enterprises ...`: the consistency check."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from fundapp.enterprises.checks import verify_enterprises
from fundapp.extensions import db


@click.group("enterprises", help="Community social enterprises, their reports and payments.")
def enterprises_cli() -> None:
    pass


@enterprises_cli.command("verify")
@with_appcontext
def verify() -> None:
    """Check reports against revisions, payments and the journal, and every share against its recomputation."""
    problems = verify_enterprises(db.session)
    for problem in problems:
        click.echo(problem, err=True)
    if problems:
        raise SystemExit(1)
    click.echo("enterprises OK")
