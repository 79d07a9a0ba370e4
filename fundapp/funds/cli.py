"""`flask funds ...`."""

from __future__ import annotations

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from fundapp.extensions import db
from fundapp.funds.services import FundError, create_fund
from fundapp.ledger.models import Fund, FundType, NetAssetClass


@click.group("funds", help="Manage funds.")
def funds_cli() -> None:
    pass


@funds_cli.command("add")
@click.argument("code")
@click.argument("name")
@click.option("--type", "fund_type", required=True, type=click.Choice([t.value for t in FundType]))
@click.option("--restricted", is_flag=True, help="Donor-restricted (限定性) fund.")
@click.option("--purpose", default="")
@click.option("--private", is_flag=True, help="Hide from the public site.")
@with_appcontext
def add_fund(code: str, name: str, fund_type: str, restricted: bool, purpose: str, private: bool) -> None:
    restriction = NetAssetClass.restricted.value if restricted else NetAssetClass.unrestricted.value
    values = {"code": code, "name": name, "fund_type": fund_type, "restriction": restriction,
              "purpose": purpose, "is_public": not private}
    try:
        fund = create_fund(db.session, values, None)
        db.session.commit()
    except FundError as error:
        db.session.rollback()
        raise click.ClickException(error.message) from None
    click.echo(f"added fund {fund.code} {fund.name} ({fund.fund_type}, {fund.restriction})")


@funds_cli.command("list")
@with_appcontext
def list_funds() -> None:
    for fund in db.session.scalars(select(Fund).order_by(Fund.code)):
        click.echo(f"{fund.code}\t{fund.name}\t{fund.fund_type}\t{fund.restriction}\t{fund.status}")
