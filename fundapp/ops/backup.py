"""Backups and restores of the whole database, each with a small JSON manifest beside the dump.

PostgreSQL: `pg_dump -Fc` run on a snapshot exported by a REPEATABLE READ transaction that also reads the ledger
head, so the manifest describes exactly what the dump holds even while the app keeps posting; `pg_restore --clean
--if-exists --no-owner --single-transaction` restores it (into an empty or an existing database).
SQLite: the sqlite3 online backup API (a consistent copy while the app runs); a restore copies the pages back.

    <dump>        the database (pg_dump custom format, or an SQLite database file)
    <dump>.json   the manifest: when, which database kind, the ledger head (seq, hash), the entry count, the
                  Alembic revision and the dump's sha256 (a restore refuses a dump that does not match it)

Every failure is an `OpsError` carrying a message for the operator; nothing here prints or commits app data.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import sqlite3
import subprocess
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from fundapp.ledger.chain import GENESIS_HASH

MANIFEST_VERSION = 1
PG_DUMP = os.environ.get("PG_DUMP", "/usr/bin/pg_dump")
PG_RESTORE = os.environ.get("PG_RESTORE", "/usr/bin/pg_restore")
KINDS = ("postgresql", "sqlite")
MAGIC = {"postgresql": b"PGDMP", "sqlite": b"SQLite format 3\x00"}
SUFFIX = {"postgresql": ".dump", "sqlite": ".sqlite3"}
TOOL_TIMEOUT = 6 * 3600


class OpsError(Exception):
    """A backup or restore could not be done; `message` says why, for the operator."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Manifest:
    version: int
    created_at: str  # ISO 8601, UTC
    database: str  # "postgresql" or "sqlite"
    format: str  # "pg_dump-custom" or "sqlite3"
    file: str  # the dump's file name (the manifest sits beside it)
    size: int
    sha256: str
    head_seq: int
    head_hash: str
    entries: int
    alembic_revision: str

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True) + "\n"


@dataclass(frozen=True)
class Facts:
    """What the manifest says about the data: the chain head, the entry count, the schema revision."""

    head_seq: int
    head_hash: str
    entries: int
    alembic_revision: str


def database_kind(engine: Engine) -> str:
    name = engine.dialect.name
    if name not in KINDS:
        raise OpsError(f"backups support PostgreSQL and SQLite, not {name}")
    return name


def manifest_path(dump: Path) -> Path:
    return dump.with_name(dump.name + ".json")


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_facts(conn: Connection) -> Facts:
    head = conn.execute(sa.text("SELECT seq, hash FROM ledger_head WHERE id = 1")).first()
    entries = conn.scalar(sa.text("SELECT count(*) FROM journal_entries"))
    revisions = conn.scalars(sa.text("SELECT version_num FROM alembic_version ORDER BY version_num")).all()
    return Facts(head_seq=head[0] if head else 0, head_hash=head[1] if head else GENESIS_HASH, entries=entries,
                 alembic_revision=",".join(revisions))


def _utc_stamp(now: dt.datetime) -> str:
    return now.strftime("%Y%m%dT%H%M%SZ")


def default_output(folder: Path, kind: str, now: dt.datetime) -> Path:
    return folder / f"fundapp-{kind}-{_utc_stamp(now)}{SUFFIX[kind]}"


# --- PostgreSQL -----------------------------------------------------------------------------------------------


def _libpq(url: sa.URL) -> tuple[str, dict[str, str]]:
    """A libpq URI for the tools (the password goes in the environment, not on the command line) and that env."""
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    uri = url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    return uri, env


def _run_tool(args: list[str], env: dict[str, str], what: str) -> None:
    try:
        result = subprocess.run(args, env=env, capture_output=True, text=True, timeout=TOOL_TIMEOUT, check=False)
    except FileNotFoundError:
        raise OpsError(f"{args[0]} is not installed; install the PostgreSQL client tools (version 15)") from None
    except subprocess.TimeoutExpired:
        raise OpsError(f"{what} took longer than {TOOL_TIMEOUT // 3600} hours and was stopped") from None
    if result.returncode != 0:
        detail = "\n".join(line for line in result.stderr.strip().splitlines()[-8:])
        raise OpsError(f"{what} failed: {detail or f'exit status {result.returncode}'}")


def check_tool_version(engine: Engine, tool: str) -> None:
    """Refuse a client tool older than the server (pg_dump cannot dump a newer server)."""
    try:
        output = subprocess.run([tool, "--version"], capture_output=True, text=True, check=False).stdout
    except FileNotFoundError:
        raise OpsError(f"{tool} is not installed; install the PostgreSQL client tools") from None
    found = re.search(r"\(PostgreSQL\) (\d+)", output)
    client_major = int(found.group(1)) if found else 0
    with engine.connect() as conn:
        server_major = int(conn.scalar(sa.text("SHOW server_version_num"))) // 10000
    if client_major < server_major:
        raise OpsError(f"{tool} is version {client_major} but the server is PostgreSQL {server_major}; "
                       f"install client tools of version {server_major} or newer (set PG_DUMP / PG_RESTORE)")


def _dump_postgresql(engine: Engine, target: Path) -> Facts:
    check_tool_version(engine, PG_DUMP)
    uri, env = _libpq(engine.url)
    with engine.connect() as conn:
        conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            snapshot = conn.scalar(sa.text("SELECT pg_export_snapshot()"))
            facts = read_facts(conn)
            # The transaction stays open while pg_dump reads the same snapshot: dump and manifest agree.
            _run_tool([PG_DUMP, "-Fc", "--no-owner", f"--snapshot={snapshot}", "-f", str(target), "--dbname", uri],
                      env, "pg_dump")
    return facts


def _restore_postgresql(engine: Engine, dump: Path) -> None:
    check_tool_version(engine, PG_RESTORE)
    uri, env = _libpq(engine.url)
    engine.dispose()  # our own idle connections must not hold locks on the tables being dropped
    _run_tool([PG_RESTORE, "--clean", "--if-exists", "--no-owner", "--no-privileges", "--single-transaction",
               "--exit-on-error", "--dbname", uri, str(dump)], env, "pg_restore")


# --- SQLite ---------------------------------------------------------------------------------------------------


def _sqlite_path(engine: Engine) -> Path:
    name = engine.url.database
    if not name or name == ":memory:" or name.startswith("file:"):
        raise OpsError("the configured SQLite database is in memory; there is no file to back up or restore")
    return Path(name)


def _facts_of_sqlite_file(path: Path) -> Facts:
    engine = sa.create_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as conn:
            return read_facts(conn)
    finally:
        engine.dispose()


def _dump_sqlite(engine: Engine, target: Path) -> Facts:
    source_path = _sqlite_path(engine)
    if not source_path.is_file():
        raise OpsError(f"the SQLite database {source_path} does not exist")
    source = sqlite3.connect(f"file:{source_path}?mode=ro", uri=True)
    destination = sqlite3.connect(target)
    try:
        source.backup(destination)  # consistent: pages copied as of one moment, writers carry on
    except sqlite3.Error as error:
        raise OpsError(f"the SQLite backup failed: {error}") from None
    finally:
        destination.close()
        source.close()
    return _facts_of_sqlite_file(target)


def _restore_sqlite(engine: Engine, dump: Path) -> None:
    target_path = _sqlite_path(engine)
    engine.dispose()
    source = sqlite3.connect(f"file:{dump}?mode=ro", uri=True)
    try:
        problems = source.execute("PRAGMA integrity_check").fetchall()
        if problems != [("ok",)]:
            raise OpsError(f"the dump is not a sound SQLite database: {problems[0][0]}")
        target_path.parent.mkdir(parents=True, exist_ok=True)
        destination = sqlite3.connect(target_path)
        try:
            source.backup(destination)  # replaces every page of the target in one transaction
        finally:
            destination.close()
    except sqlite3.DatabaseError as error:
        raise OpsError(f"the dump is not a readable SQLite database: {error}") from None
    finally:
        source.close()


# --- backup and restore ---------------------------------------------------------------------------------------


def backup(engine: Engine, output: Path | None, folder: Path, now: dt.datetime | None = None) -> tuple[Path, Manifest]:
    """Dump the database to `output` (or a time-stamped file in `folder`) and write its manifest beside it."""
    kind = database_kind(engine)
    now = now or dt.datetime.now(dt.UTC)
    target = output or default_output(folder, kind, now)
    if target.is_dir():
        target = default_output(target, kind, now)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
        os.close(handle)
    except OSError as error:
        raise OpsError(f"cannot write to {target.parent}: {error.strerror or error}") from None
    partial = Path(temporary)
    try:
        if kind == "postgresql":
            facts = _dump_postgresql(engine, partial)
        else:
            partial.unlink()  # sqlite3 writes a new database file
            facts = _dump_sqlite(engine, partial)
        manifest = Manifest(
            version=MANIFEST_VERSION, created_at=now.isoformat(timespec="seconds"), database=kind,
            format="pg_dump-custom" if kind == "postgresql" else "sqlite3", file=target.name,
            size=partial.stat().st_size, sha256=sha256_of(partial), **asdict(facts))
        os.replace(partial, target)
    except sa.exc.DBAPIError as error:
        raise OpsError(f"cannot read the database: {_first_line(error)}") from None
    finally:
        partial.unlink(missing_ok=True)
    manifest_path(target).write_text(manifest.to_json(), encoding="utf-8")
    return target, manifest


def _first_line(error: sa.exc.DBAPIError) -> str:
    return str(error.orig).strip().splitlines()[0] if error.orig else str(error)


def load_manifest(dump: Path) -> Manifest:
    """The dump's manifest, after checking the dump exists and still has the manifest's sha256 and header."""
    if not dump.is_file():
        raise OpsError(f"there is no file {dump}")
    path = manifest_path(dump)
    if not path.is_file():
        raise OpsError(f"the manifest {path.name} is missing beside the dump; restore only a dump made by "
                       f"`flask backup`")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        manifest = Manifest(**{name: data[name] for name in Manifest.__dataclass_fields__})
    except (ValueError, KeyError, TypeError):
        raise OpsError(f"the manifest {path.name} is not a valid backup manifest") from None
    if manifest.database not in KINDS:
        raise OpsError(f"the manifest names an unknown database kind {manifest.database!r}")
    if sha256_of(dump) != manifest.sha256:
        raise OpsError(f"{dump.name} does not match its manifest (sha256 differs): the file was changed or "
                       f"damaged; refusing to restore it")
    return manifest


def check_kind(engine: Engine, dump: Path, manifest: Manifest) -> None:
    """Refuse a dump of the other database kind, or a file that is not a dump of the kind its manifest says."""
    kind = database_kind(engine)
    if kind != manifest.database:
        raise OpsError(f"the dump is of a {manifest.database} database but the configured database is {kind}; "
                       f"refusing to restore it")
    with dump.open("rb") as handle:
        if handle.read(len(MAGIC[kind])) != MAGIC[kind]:
            raise OpsError(f"{dump.name} is not a {kind} dump")


def restore(engine: Engine, dump: Path, manifest: Manifest) -> None:
    """Replace the configured database's content with the dump (checked by `load_manifest` and `check_kind`)."""
    check_kind(engine, dump, manifest)
    try:
        if manifest.database == "postgresql":
            _restore_postgresql(engine, dump)
        else:
            _restore_sqlite(engine, dump)
    except sa.exc.DBAPIError as error:
        raise OpsError(f"cannot reach the database: {_first_line(error)}") from None


def target_description(engine: Engine) -> str:
    url = engine.url
    if url.get_backend_name() == "sqlite":
        return f"SQLite file {url.database}"
    return f"PostgreSQL database {url.database} on {url.host or 'localhost'}:{url.port or 5432}"
