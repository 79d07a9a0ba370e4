"""`flask backup` and `flask restore`: the whole database to a file with a manifest, and back.

Both are logged (logger "fundapp.ops", and a line on standard output), not written to the audit trail: a restore
replaces the audit tables with the dump's, so an event recorded by the restore itself would need a tag of its own
recorded after the restore (see the report of issue #9). Errors end with a one-line message and exit status 1.
"""

from __future__ import annotations

import logging
from pathlib import Path

import click
import sqlalchemy as sa
from alembic.script import ScriptDirectory
from flask import current_app
from flask.cli import with_appcontext

from fundapp.extensions import db, migrate
from fundapp.ledger.invariants import verify_ledger
from fundapp.ops.backup import OpsError, backup, check_kind, load_manifest, read_facts, restore, target_description

log = logging.getLogger("fundapp.ops")


def _backup_folder() -> Path:
    return Path(current_app.config.get("BACKUP_FOLDER") or Path(current_app.instance_path) / "backups")


@click.command("backup")
@click.option("--output", "-o", type=click.Path(path_type=Path), default=None, metavar="PATH",
              help="The dump file (or a folder for a time-stamped one); default: instance/backups/.")
@with_appcontext
def backup_command(output: Path | None) -> None:
    """Back up the whole database (pg_dump -Fc, or SQLite's online backup) with a JSON manifest beside it."""
    try:
        path, manifest = backup(db.engine, output, _backup_folder())
    except OpsError as error:
        log.error("backup failed: %s", error.message)
        raise click.ClickException(error.message) from None
    log.info("backup written to %s (%s, head #%s %s, sha256 %s)", path, manifest.database, manifest.head_seq,
             manifest.head_hash, manifest.sha256)
    click.echo(f"backup written: {path} ({manifest.size} bytes)")
    click.echo(f"manifest: {path.name}.json; {manifest.entries} entries, chain head #{manifest.head_seq} "
               f"{manifest.head_hash}; revision {manifest.alembic_revision}; sha256 {manifest.sha256}")


def _verify_restored(expected_seq: int, expected_hash: str) -> None:
    """`flask ledger verify` on the restored database, plus the head the manifest promised."""
    problems = [str(problem) for problem in verify_ledger(db.session)]
    facts = read_facts(db.session.connection())
    db.session.rollback()
    if (facts.head_seq, facts.head_hash) != (expected_seq, expected_hash):
        problems.append(f"[manifest] the restored chain head #{facts.head_seq} {facts.head_hash} is not the "
                        f"manifest's #{expected_seq} {expected_hash}")
    for problem in problems:
        click.echo(problem, err=True)
    if problems:
        log.error("restore verification failed: %d problem(s)", len(problems))
        raise click.ClickException(f"ledger verification failed after the restore: {len(problems)} problem(s) in "
                                   f"{facts.entries} entries")
    click.echo(f"ok: {facts.entries} entries, chain head #{facts.head_seq} {facts.head_hash}")
    heads = ScriptDirectory.from_config(migrate.get_config()).get_heads()
    if facts.alembic_revision != ",".join(sorted(heads)):
        click.echo(f"note: the restored schema is at revision {facts.alembic_revision}; this code expects "
                   f"{','.join(sorted(heads))}: run `flask db upgrade`", err=True)


@click.command("restore")
@click.argument("path", type=click.Path(path_type=Path), metavar="PATH")
@click.option("--yes", is_flag=True, help="Replace the configured database without asking.")
@with_appcontext
def restore_command(path: Path, yes: bool) -> None:
    """Restore the dump PATH (made by `flask backup`) into the configured database, replacing its content, then
    verify the ledger; exit 1 if the dump is refused or the verification fails."""
    try:
        manifest = load_manifest(path)
        check_kind(db.engine, path, manifest)
    except OpsError as error:
        raise click.ClickException(error.message) from None
    click.echo(f"dump of {manifest.created_at}: {manifest.entries} entries, chain head #{manifest.head_seq} "
               f"{manifest.head_hash}")
    if not yes:
        click.confirm(f"Replace everything in the {target_description(db.engine)} with this dump?", abort=True)
    db.session.remove()
    try:
        restore(db.engine, path, manifest)
    except OpsError as error:
        log.error("restore of %s failed: %s", path, error.message)
        raise click.ClickException(error.message) from None
    log.warning("database restored from %s (created %s, head #%s %s)", path, manifest.created_at,
                manifest.head_seq, manifest.head_hash)
    click.echo(f"restored {path.name} into the {target_description(db.engine)}")
    try:
        _verify_restored(manifest.head_seq, manifest.head_hash)
    except sa.exc.DBAPIError as error:
        raise click.ClickException(f"cannot read the restored database: {str(error.orig).strip()}") from None


commands: list[click.Command] = [backup_command, restore_command]
