"""Crash faults: a process killed with SIGKILL in the middle of (a) a donation import and (b) a batch posting leaves
the database as if the work had never started, the chain verifies, and the same work can then be done in full.

The victim (tests/reliability/victim.py) runs the real code in a subprocess against a real database file or
PostgreSQL database and, once half-way, prints the rows its open transaction has written and waits; the test
checks those rows exist (the kill is mid-way, not before or after), kills it, and inspects what is left.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, select

from fundapp.audit.models import AuditEvent
from fundapp.dates import local_today
from fundapp.donations.imports.batches import check_batch, create_batch, restartable, start_import
from fundapp.donations.models import Donation, ImportBatch, ImportProblem, ImportStatus
from fundapp.extensions import db
from fundapp.ledger.models import Fund, PeriodBalance
from tests.factories import make_fund, post
from tests.reliability.helpers import app_on, books_of
from tests.unit.donations.factories import make_donor

ROOT = Path(__file__).resolve().parents[2]
ROWS = 2000
HEADER = "date,donor,amount,fund,method,restricted,purpose,reference,anonymous"


@pytest.fixture(scope="module")
def crash_app(backend, fresh_database_url, tmp_path_factory):
    folder = tmp_path_factory.mktemp("crash-imports")
    for app in app_on(backend, fresh_database_url, "crash", IMPORT_FOLDER=str(folder)):
        with app.test_request_context():
            make_fund(db.session, "GEN", name="General fund")
            make_donor(db.session, "Crash Donor")
            db.session.commit()
            db.session.remove()
        yield app


def url_of(app) -> str:
    with app.app_context():
        return db.engine.url.render_as_string(hide_password=False)


def counts(app) -> dict[str, int]:
    with app.app_context():
        found = {name: db.session.scalar(select(func.count()).select_from(model)) for name, model in (
            ("audit", AuditEvent), ("balances", PeriodBalance), ("problems", ImportProblem))}
        db.session.remove()
        return found


def kill_mid_way(*args: str) -> dict[str, int]:
    """Run the victim until it reports its flushed rows, SIGKILL it, and return what it had written."""
    victim = subprocess.Popen([sys.executable, "-m", "tests.reliability.victim", *args], cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    watchdog = threading.Timer(60, victim.kill)  # a victim that never gets half-way fails the test, not CI
    watchdog.start()
    try:
        line = victim.stdout.readline()
        assert line.startswith("FLUSHED"), line + victim.stderr.read()[-3000:]
        os.kill(victim.pid, signal.SIGKILL)
        assert victim.wait(timeout=30) == -signal.SIGKILL
    finally:
        watchdog.cancel()
        victim.stdout.close()
        victim.stderr.close()
    return {key: int(value) for key, value in (part.split("=") for part in line.split()[1:])}


def gifts_file(run: str) -> bytes:
    day = (local_today().replace(day=1)).isoformat()
    rows = [f"{day},Crash Donor,{10 + n % 90}.{n % 100:02d},GEN,bank_transfer,,,{run}-{n},"
            for n in range(ROWS)]
    return "\n".join([HEADER, *rows]).encode()


def started_batch(app, data: bytes) -> int:
    """A batch uploaded, checked without problems and started, as the upload and import pages leave it."""
    with app.test_request_context():
        batch = create_batch(db.session, data, "gifts.csv", None, "en")
        plan = check_batch(db.session, batch)
        assert plan is not None and not plan.problems and len(plan.new) == ROWS, plan and plan.problems[:3]
        assert start_import(db.session, batch)
        db.session.commit()
        batch_id = batch.id
        db.session.remove()
    return batch_id


def test_a_killed_import_leaves_nothing_and_can_be_run_again(crash_app, tmp_path):
    run = uuid.uuid4().hex[:8]
    data = gifts_file(run)
    batch_id = started_batch(crash_app, data)
    before, rows_before = books_of(crash_app), counts(crash_app)

    flushed = kill_mid_way("import", url_of(crash_app), crash_app.config["IMPORT_FOLDER"], str(batch_id))
    assert flushed["entries"] >= before.entries + 1000 and flushed["donations"] >= before.donations + 1000
    assert flushed["entries"] < before.entries + ROWS  # killed half-way, not after the last chunk

    after = books_of(crash_app)
    assert after == before  # no entry, donation or balance change; same head; the chain verifies
    assert counts(crash_app) == rows_before  # no audit event, balance row or problem row either
    with crash_app.app_context():
        batch = db.session.get(ImportBatch, batch_id)
        # The batch keeps the state committed before the import began; once quiet for IMPORT_STALE_SECONDS the
        # page may start it again (fundapp.donations.imports.batches.restartable).
        assert (batch.status, batch.posted_rows, batch.imported_at) == (ImportStatus.importing.value, 0, None)
        crash_app.config["IMPORT_STALE_SECONDS"] = 0
        try:
            assert restartable(batch)
        finally:
            crash_app.config["IMPORT_STALE_SECONDS"] = 900
        assert db.session.scalar(select(func.count()).where(Donation.reference.like(f"{run}-%"))) == 0
        db.session.remove()

    upload = tmp_path / "gifts.csv"
    upload.write_bytes(data)
    first = crash_app.test_cli_runner().invoke(args=["donations", "import", str(upload)])
    assert first.exit_code == 0 and f"imported {ROWS} donations" in first.output, first.output
    again = crash_app.test_cli_runner().invoke(args=["donations", "import", str(upload)])
    assert again.exit_code == 0 and f"all {ROWS} rows were imported before" in again.output, again.output
    done = books_of(crash_app)
    assert done.problems == () and done.entries == before.entries + ROWS and done.donations == before.donations + ROWS


def test_a_killed_batch_posting_leaves_nothing(crash_app):
    before, rows_before = books_of(crash_app), counts(crash_app)

    flushed = kill_mid_way("post", url_of(crash_app), "GEN", str(ROWS))
    assert flushed["entries"] == before.entries + ROWS  # entries and lines written, balances and head not yet

    assert books_of(crash_app) == before
    assert counts(crash_app) == rows_before
    with crash_app.test_request_context():  # the books still take postings: the chain head lock was released
        entry = post(db.session, db.session.scalar(select(Fund).where(Fund.code == "GEN")), "5.00")
        assert entry.seq == before.head[0] + 1 and entry.prev_hash == before.head[1]
        db.session.commit()
        db.session.remove()
    assert books_of(crash_app).problems == ()
