"""`flask users ...`: manage users without the web UI."""

from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext

from fundapp.auth.models import ROLE_VALUES
from fundapp.auth.services import AuthError, create_user, find_user_by_email
from fundapp.auth.two_factor import reset_two_factor
from fundapp.extensions import db


@click.group("users", help="Manage users.")
def users_cli() -> None:
    pass


@users_cli.command("add")
@click.argument("email")
@click.option("--role", "roles", multiple=True, required=True, type=click.Choice(ROLE_VALUES),
              help="A role; repeat for several.")
@click.option("--name", default="", help="Display name.")
@with_appcontext
def add_user(email: str, roles: tuple[str, ...], name: str) -> None:
    """Add a user. The password is asked for, or read from stdin when stdin is not a terminal."""
    if sys.stdin.isatty():
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    try:
        user = create_user(db.session, email, password, roles, name=name)
        db.session.commit()
    except AuthError as error:
        db.session.rollback()
        raise click.ClickException(error.message) from None
    click.echo(f"added user {user.email} with roles {', '.join(sorted(user.roles))}")


@users_cli.command("reset-two-factor")
@click.argument("email")
@with_appcontext
def reset_user_two_factor(email: str) -> None:
    """Forget a user's authenticator and recovery codes (audited); they set one up again at their next sign-in.
    For the last administrator who lost their phone; otherwise an admin does this on the user's page."""
    user = find_user_by_email(db.session, email)
    if user is None:
        raise click.ClickException(f"no user with the email {email}")
    reset_two_factor(db.session, user, None)
    db.session.commit()
    click.echo(f"two-factor sign-in of {user.email} was reset")
