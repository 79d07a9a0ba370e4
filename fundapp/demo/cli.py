"""`flask demo load` (demo data for a fresh install, idempotent) and `flask demo generate` (a bulk ledger)."""

from __future__ import annotations

import datetime as dt

import click
from flask.cli import with_appcontext

from fundapp.errors import DomainError
from fundapp.extensions import db


@click.group("demo", help="Demo data.")
def demo_cli() -> None:
    pass


@demo_cli.command("load")
@with_appcontext
def load() -> None:
    """Load the demo foundation (users, funds, a year of entries, grant-making) unless it is already there."""
    from fundapp.dates import local_today
    from fundapp.demo.data import DEMO_PASSWORD, demo_loaded, load_demo
    from fundapp.demo.grants import load_grants
    from fundapp.demo.volunteers import load_volunteers, volunteers_loaded

    loaded = demo_loaded(db.session)
    if loaded and volunteers_loaded(db.session):
        click.echo("demo data already loaded; nothing to do")
        return
    today = local_today()
    try:
        if loaded:  # a demo loaded before the time bank existed: add only the time bank
            summary = load_volunteers(db.session, today=today, password=DEMO_PASSWORD)
        else:
            summary = load_demo(db.session, today=today)
            summary += f"; {load_grants(db.session, today=today, password=DEMO_PASSWORD)}"
            summary += f"; {load_volunteers(db.session, today=today, password=DEMO_PASSWORD)}"
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(f"demo data not loaded: {error.message}") from None
    click.echo(f"loaded demo data: {summary}")
    click.echo(f"sign in as admin@demo.fundapp.cn, finance@demo.fundapp.cn, board@demo.fundapp.cn ... "
               f"(the time bank: organiser@, volunteer@, volunteer2@demo.fundapp.cn) with the password {DEMO_PASSWORD}")


@demo_cli.command("generate")
@click.option("--lines", required=True, type=click.IntRange(min=2), help="Journal lines to write (exactly).")
@click.option("--seed", default=1, show_default=True, help="Same seed on an empty ledger, same hashes.")
@click.option("--funds", default=20, show_default=True, type=click.IntRange(min=1), help="Funds BULK-001...")
@click.option("--years", default=3, show_default=True, type=click.IntRange(min=1), help="Years the dates span.")
@click.option("--start", type=click.DateTime(["%Y-%m-%d"]), help="First date (default: Jan 1st, YEARS years ago).")
@click.option("--batch", "batch_lines", default=20_000, show_default=True, type=click.IntRange(min=6),
              help="Lines per transaction.")
@click.option("--no-copy", is_flag=True, help="PostgreSQL: INSERT (executemany) instead of COPY, to compare.")
@with_appcontext
def generate(lines: int, seed: int, funds: int, years: int, start: dt.datetime | None, batch_lines: int,
             no_copy: bool) -> None:
    """Append a realistic bulk ledger for benchmarks (commits per batch; for test databases only)."""
    from fundapp.ledger.bulk import generate_ledger

    def report(done) -> None:
        click.echo(f"  {done.lines:>12,} lines {done.entries:>10,} entries  {done.lines_per_second:>9,.0f} lines/s  "
                   f"{done.seconds:7.1f} s")

    result = generate_ledger(db.session, lines, seed=seed, funds=funds, years=years, batch_lines=batch_lines,
                             start=start.date() if start else None, progress=report, copy=not no_copy)
    click.echo(f"generated {result.lines:,} lines in {result.entries:,} entries, {result.first_date} to "
               f"{result.last_date}, in {result.seconds:.1f} s = {result.lines_per_second:,.0f} lines/s")
    click.echo(f"  time: generate+hash {result.generate_seconds:.1f} s, insert {result.insert_seconds:.1f} s, "
               f"commit (deferred checks) {result.commit_seconds:.1f} s")
    click.echo(f"  chain head {result.head_hash}")
