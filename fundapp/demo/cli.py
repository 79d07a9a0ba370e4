"""`flask demo load`: realistic demo data for a fresh install (idempotent)."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from fundapp.extensions import db


@click.group("demo", help="Demo data.")
def demo_cli() -> None:
    pass


@demo_cli.command("load")
@with_appcontext
def load() -> None:
    """Load the demo foundation (users, funds, a year of entries) unless it is already there."""
    from fundapp.demo.data import DEMO_PASSWORD, demo_loaded, load_demo

    if demo_loaded(db.session):
        click.echo("demo data already loaded; nothing to do")
        return
    summary = load_demo(db.session)
    db.session.commit()
    click.echo(f"loaded demo data: {summary}")
    click.echo(f"sign in as admin@demo.fundapp.cn, finance@demo.fundapp.cn, board@demo.fundapp.cn ... "
               f"with the password {DEMO_PASSWORD}")
