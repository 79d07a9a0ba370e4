"""`flask backup` and `flask restore`: a ledger backed up and restored into a fresh database has the same books and
chain head; a changed dump, a dump of the other database kind, a missing file and an unconfirmed restore are
refused and leave the target as it was; a restored ledger that fails verification makes the restore exit 1."""

from __future__ import annotations

import json
import threading
import time

import pytest
import sqlalchemy as sa

from fundapp.extensions import db
from fundapp.ledger.models import Fund
from tests.conftest import PG_URL
from tests.factories import post
from tests.reliability.helpers import app_on, books_of, build_small_ledger


@pytest.fixture(scope="module")
def source(backend, fresh_database_url):
    """A migrated database holding a small ledger (shared: the tests only read it)."""
    for app in app_on(backend, fresh_database_url, "bksrc"):
        build_small_ledger(app)
        yield app


@pytest.fixture()
def other_target(backend, fresh_database_url):
    yield from app_on(backend, fresh_database_url, "bkdst2", migrated=False)


@pytest.fixture()
def target(backend, fresh_database_url):
    """An EMPTY database (no migrations run): the restore must bring the whole schema."""
    yield from app_on(backend, fresh_database_url, "bkdst", migrated=False)


def invoke(app, *args: str, input: str | None = None):
    return app.test_cli_runner().invoke(args=list(args), input=input)


def backup_of(app, tmp_path) -> tuple:
    dump = tmp_path / "books.dump"
    result = invoke(app, "backup", "--output", str(dump))
    assert result.exit_code == 0, result.output
    return dump, json.loads((tmp_path / "books.dump.json").read_text())


def table_count(app) -> int:
    with app.app_context():
        return len(sa.inspect(db.engine).get_table_names())


def test_restore_into_a_fresh_database_gives_the_same_books(source, target, backend, tmp_path):
    before = books_of(source)
    assert before.problems == () and before.entries >= 5 and before.donations == 3
    assert any(code.startswith("2209") for code, _ in before.trial_balance)  # the grant payable is in the books

    dump, manifest = backup_of(source, tmp_path)
    assert manifest["database"] == backend
    assert (manifest["head_seq"], manifest["head_hash"]) == before.head
    assert manifest["entries"] == before.entries and manifest["alembic_revision"]
    assert manifest["file"] == "books.dump" and manifest["size"] == dump.stat().st_size

    result = invoke(target, "restore", str(dump), "--yes")
    assert result.exit_code == 0, result.output
    assert f"ok: {before.entries} entries, chain head #{before.head[0]} {before.head[1]}" in result.output
    after = books_of(target)
    assert after == before  # head, counts, fund net assets, trial balance, and no problems

    again = invoke(target, "restore", str(dump), "--yes")  # into an existing database: replaced, not doubled
    assert again.exit_code == 0, again.output
    assert books_of(target) == before


def test_a_changed_dump_is_refused_and_the_target_left_alone(source, target, tmp_path):
    dump, _manifest = backup_of(source, tmp_path)
    data = bytearray(dump.read_bytes())
    data[len(data) // 2] ^= 0x01
    dump.write_bytes(bytes(data))

    result = invoke(target, "restore", str(dump), "--yes")
    assert result.exit_code == 1
    assert "does not match its manifest (sha256 differs)" in result.output and "Traceback" not in result.output
    assert table_count(target) == 0


def test_refusals_say_why_without_a_traceback(source, target, backend, tmp_path):
    dump, manifest = backup_of(source, tmp_path)
    missing = invoke(target, "restore", str(tmp_path / "nothing.dump"), "--yes")
    assert missing.exit_code == 1 and "there is no file" in missing.output

    (tmp_path / "books.dump.json").write_text("{not json")
    bad_manifest = invoke(target, "restore", str(dump), "--yes")
    assert bad_manifest.exit_code == 1 and "is not a valid backup manifest" in bad_manifest.output

    other = "sqlite" if backend == "postgresql" else "postgresql"
    (tmp_path / "books.dump.json").write_text(json.dumps({**manifest, "database": other}))
    wrong_kind = invoke(target, "restore", str(dump), "--yes")
    assert wrong_kind.exit_code == 1
    assert f"the dump is of a {other} database but the configured database is {backend}" in wrong_kind.output

    (tmp_path / "books.dump.json").write_text(json.dumps(manifest))
    declined = invoke(target, "restore", str(dump), input="n\n")
    assert declined.exit_code == 1 and "Replace everything in the" in declined.output
    assert table_count(target) == 0
    for result in (missing, bad_manifest, wrong_kind, declined):
        assert "Traceback" not in result.output and result.exception is None or isinstance(result.exception,
                                                                                            SystemExit)


def test_a_restored_ledger_that_fails_verification_exits_1(source, target, other_target, backend, tmp_path):
    dump, _manifest = backup_of(source, tmp_path)
    assert invoke(target, "restore", str(dump), "--yes").exit_code == 0
    with target.app_context():  # someone with database access rewrote a memo (and committed)
        if backend == "postgresql":
            db.session.execute(sa.text("SET LOCAL session_replication_role = replica"))
        else:
            db.session.execute(sa.text("DROP TRIGGER journal_entries_no_update"))
        db.session.execute(sa.text("UPDATE journal_entries SET memo = 'rewritten' WHERE seq = 2"))
        db.session.commit()
    (tmp_path / "tampered").mkdir()
    tampered, _manifest = backup_of(target, tmp_path / "tampered")

    result = invoke(other_target, "restore", str(tampered), "--yes")
    assert result.exit_code == 1
    assert "[chain] entry #2: content does not match its hash" in result.output
    assert "ledger verification failed after the restore" in result.output


def test_an_unreachable_database_is_a_message(tmp_path):
    if not PG_URL:
        pytest.skip("TEST_DATABASE_URL is not set: PostgreSQL runs skipped")
    from tests.reliability.helpers import bare_app

    nowhere = sa.make_url(PG_URL).set(host="127.0.0.1", port=1).render_as_string(hide_password=False)
    result = invoke(bare_app(nowhere), "backup", "--output", str(tmp_path / "x.dump"))
    assert result.exit_code == 1 and "cannot read the database" in result.output
    assert "Traceback" not in result.output and not list(tmp_path.iterdir())


def test_a_backup_taken_while_postings_run_is_consistent(source, target, tmp_path):
    """The manifest's head is the dump's head even while another connection keeps posting (PostgreSQL: an
    exported snapshot shared with pg_dump; SQLite: the online backup API)."""
    stop, posted = threading.Event(), []

    def keep_posting() -> None:
        with source.test_request_context():
            fund = db.session.scalar(sa.select(Fund).where(Fund.code == "GEN"))
            while not stop.is_set() and len(posted) < 500:
                seq = post(db.session, fund, "1.00").seq
                db.session.commit()
                posted.append(seq)
            db.session.remove()

    writer = threading.Thread(target=keep_posting)
    writer.start()
    try:
        while not posted:
            time.sleep(0.01)
        dump, manifest = backup_of(source, tmp_path)
    finally:
        stop.set()
        writer.join(timeout=60)
    assert posted[0] <= manifest["head_seq"] <= posted[-1]  # taken while the writer ran

    result = invoke(target, "restore", str(dump), "--yes")
    assert result.exit_code == 0, result.output  # verify passes and the head is the manifest's
    assert books_of(target).head == (manifest["head_seq"], manifest["head_hash"])
