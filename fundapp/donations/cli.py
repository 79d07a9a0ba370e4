"""`flask donations ...`: year-end receipts and the consistency check."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext

from fundapp.donations.checks import verify_donations
from fundapp.donations.errors import DonationError
from fundapp.donations.queries import receipts_of_year
from fundapp.extensions import db


@click.group("donations", help="Donations, pledges and receipts.")
def donations_cli() -> None:
    pass


@donations_cli.command("issue-receipts")
@click.argument("year", type=click.IntRange(1900, 9999))
@with_appcontext
def issue_receipts(year: int) -> None:
    """Issue a receipt for every named gift of YEAR that has none."""
    from fundapp.donations.receipts import issue_missing_receipts

    try:
        issued = issue_missing_receipts(db.session, year, None)
        db.session.commit()
    except DonationError as error:
        db.session.rollback()
        raise click.ClickException(error.message) from None
    click.echo(f"issued {len(issued)} receipts for {year}"
               + (f": {issued[0].label} .. {issued[-1].label}" if issued else ""))


@donations_cli.command("receipts-pdf")
@click.argument("year", type=click.IntRange(1900, 9999))
@click.argument("output", type=click.Path(dir_okay=False, writable=True, path_type=Path))
@with_appcontext
def receipts_pdf(year: int, output: Path) -> None:
    """Write every receipt of YEAR (void ones marked 作废) to one PDF file."""
    from fundapp.donations.pdf import receipts_pdf as render

    receipts = receipts_of_year(db.session, year)
    if not receipts:
        raise click.ClickException(f"no receipts were issued in {year}")
    output.write_bytes(render(receipts))
    click.echo(f"wrote {len(receipts)} receipts to {output}")


@donations_cli.command("verify")
@with_appcontext
def verify() -> None:
    """Check pledges against payments, receipt numbering and check codes, donations against the journal."""
    problems = verify_donations(db.session)
    for problem in problems:
        click.echo(problem, err=True)
    if problems:
        raise SystemExit(1)
    click.echo("donations OK")
