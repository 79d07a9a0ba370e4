"""`flask ledger ...`."""

from __future__ import annotations

import click
from flask.cli import with_appcontext
from sqlalchemy import func, select

from fundapp.errors import DomainError
from fundapp.extensions import db
from fundapp.ledger.chart import seed_chart
from fundapp.ledger.export import FORMATS, ExportError, export_ledger, write_export_file
from fundapp.ledger.invariants import verify_ledger
from fundapp.ledger.models import JournalEntry, LedgerHead
from fundapp.ledger.release import release_restrictions
from fundapp.ledger.yearend import close_year


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


@ledger_cli.command("export")
@click.option("--format", "fmt", required=True, type=click.Choice(FORMATS), help="hledger files also suit ledger-cli.")
@click.argument("path", metavar="FILE")
@with_appcontext
def export(fmt: str, path: str) -> None:
    """Write the whole ledger to FILE ("-" for standard output) for bean-check, hledger or ledger."""
    try:
        if path == "-":
            with click.open_file("-", "w", encoding="utf-8") as out:
                count = export_ledger(db.session, fmt, out)
        else:
            count = write_export_file(db.session, fmt, path)
    except ExportError as error:
        raise click.ClickException(error.message) from None
    except OSError as error:
        raise click.ClickException(f"cannot write {path}: {error.strerror or error}") from None
    click.echo(f"wrote {count} entries" + ("" if path == "-" else f" to {path}"), err=path == "-")


@ledger_cli.command("close-year")
@click.argument("year", type=int)
@with_appcontext
def close_year_command(year: int) -> None:
    """Close YEAR: post its closing entry (dated YEAR-12-31) and close every open month through December."""
    try:
        result = close_year(db.session, year, None)
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(f"{year} not closed: {error.message}") from None
    db.session.commit()
    entry = result.entry
    click.echo(f"closed {year}: entry #{entry.seq} ({len(entry.lines)} lines, total {entry.total}); "
               f"books closed through {result.periods[-1].end_date.isoformat()}"
               + (f"; restrictions released first by entry #{result.release.seq}" if result.release else ""))


@ledger_cli.command("release-restrictions")
@click.option("--through", required=True, type=click.DateTime(formats=["%Y-%m-%d"]), metavar="YYYY-MM-DD",
              help="Release the restricted expenses booked up to this date (the entry's date).")
@with_appcontext
def release_restrictions_command(through) -> None:
    """Post the release from restriction: expenses booked against restricted net assets through the date are
    moved to unrestricted, and each fund's total from 3102 to 3101, by one entry dated THROUGH."""
    day = through.date()
    try:
        entry = release_restrictions(db.session, day, None)
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(f"nothing released through {day.isoformat()}: {error.message}") from None
    db.session.commit()
    click.echo(f"released through {day.isoformat()}: entry #{entry.seq} ({len(entry.lines)} lines, "
               f"total {entry.total})")
