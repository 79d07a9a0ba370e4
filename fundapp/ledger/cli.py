"""`flask ledger ...`."""

from __future__ import annotations

import click
from flask.cli import with_appcontext
from sqlalchemy import func, select

from fundapp.extensions import db
from fundapp.ledger.chart import seed_chart
from fundapp.ledger.invariants import verify_ledger
from fundapp.ledger.models import JournalEntry, LedgerHead


@click.group("ledger", help="The books: verify, seed the chart of accounts.")
def ledger_cli() -> None:
    pass


@ledger_cli.command("verify")
@with_appcontext
def verify() -> None:
    """Recompute the hash chain and balances; exit 1 naming the first bad entry if anything is wrong."""
    problems = verify_ledger(db.session)
    count = db.session.scalar(select(func.count()).select_from(JournalEntry))
    head = db.session.get(LedgerHead, 1)
    if problems:
        for problem in problems:
            click.echo(str(problem), err=True)
        raise click.ClickException(f"ledger verification failed: {len(problems)} problem(s) in {count} entries")
    click.echo(f"ok: {count} entries, chain head {head.hash if head else 'empty'}")


@ledger_cli.command("seed-chart")
@with_appcontext
def seed() -> None:
    """Add any missing default accounts (民间非营利组织会计制度)."""
    added = seed_chart(db.session)
    db.session.commit()
    click.echo(f"added {added} account(s)")
