"""`flask donations ...`: year-end receipts, the consistency check and bulk import."""

from __future__ import annotations

import sys
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


class _ProgressBar:
    """Text progress bars for `flask donations import`, one per phase (checking, then posting)."""

    LABELS = {"checking": "checking rows", "importing": "posting      "}

    def __init__(self) -> None:
        self.bar, self.phase, self.done = None, None, 0

    def __call__(self, phase: str, done: int, total: int) -> None:
        if phase != self.phase:
            self.close()
            self.bar = click.progressbar(length=max(total, 1), label=self.LABELS.get(phase, phase), file=sys.stderr,
                                         show_pos=True)
            self.bar.__enter__()
            self.phase, self.done = phase, 0
        self.bar.update(done - self.done)
        self.done = done

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None


@donations_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--check", "check_only", is_flag=True, help="Check every row and report; post nothing.")
@click.option("--user", "email", default="", help="Email of the user the import is recorded for (audit trail).")
@with_appcontext
def import_donations(file: Path, check_only: bool, email: str) -> None:
    """Import donations from a CSV or .xlsx FILE (format: README.md). All rows or none; rows imported before are
    skipped. Exits 1 listing every bad row."""
    from fundapp.auth.models import User
    from fundapp.donations.imports.batches import import_file

    actor = db.session.scalar(db.select(User).where(User.email == email.strip().lower())) if email else None
    if email and actor is None:
        raise click.ClickException(f"there is no user {email}")
    bar = _ProgressBar()
    try:
        result = import_file(db.session, file.read_bytes(), actor, source=f"cli:{file.name}", check_only=check_only,
                             progress=bar)
    except DonationError as error:
        db.session.rollback()
        raise click.ClickException(error.message) from None
    finally:
        bar.close()
    plan = result.plan
    if plan.problems:
        db.session.rollback()
        for problem in plan.problems:
            column = f" [{problem.column}]" if problem.column else ""
            click.echo(f"row {problem.row}{column}: {problem.message}", err=True)
        bad_rows = len({problem.row for problem in plan.problems})
        click.echo(f"{len(plan.problems)} problems in {bad_rows} of {plan.total_rows} rows; nothing was imported",
                   err=True)
        raise SystemExit(1)
    if result.posted is None:
        db.session.rollback()
        click.echo(f"{plan.total_rows} rows checked, no problems: {len(plan.new)} to import "
                   f"(¥{plan.total_amount}), {len(plan.skipped)} imported before")
        return
    db.session.commit()
    if result.posted:
        click.echo(f"imported {result.posted} donations (¥{plan.total_amount}); "
                   f"{len(plan.skipped)} rows were imported before and skipped")
    else:
        click.echo(f"nothing to import: all {plan.total_rows} rows were imported before; nothing was posted")
