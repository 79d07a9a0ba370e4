"""Starting an import: a batch left "importing" by a killed worker may be started again once stale; a fresh one
(its task queued or running) is refused, and so is a stale one whose task still reports progress."""

from __future__ import annotations

import datetime as dt
import secrets

import pytest

from fundapp.db import utcnow
from fundapp.donations.imports.batches import restartable, start_import
from fundapp.donations.models import ImportBatch, ImportStatus
from fundapp.donations.tasks import progress_key
from fundapp.tasks import clear_progress, set_progress


@pytest.fixture()
def stale_seconds(app):
    previous = app.config.get("IMPORT_STALE_SECONDS")
    app.config["IMPORT_STALE_SECONDS"] = 600
    yield 600
    if previous is None:
        app.config.pop("IMPORT_STALE_SECONDS", None)
    else:
        app.config["IMPORT_STALE_SECONDS"] = previous


def batch_in(session, status: str, *, quiet_for: dt.timedelta = dt.timedelta(0)) -> ImportBatch:
    batch = ImportBatch(filename="gifts.csv", stored_name=f"{secrets.token_hex(16)}.upload", size=10, sha256="0" * 64,
                        locale="en", status=status, message="", new_rows=3)
    session.add(batch)
    session.flush()
    batch.updated_at = utcnow() - quiet_for
    session.flush()
    session.expire(batch)
    return batch


def test_a_checked_batch_starts_once(session, stale_seconds):
    batch = batch_in(session, ImportStatus.checked.value)
    assert start_import(session, batch) is True
    assert batch.status == ImportStatus.importing.value
    assert start_import(session, batch) is False  # the second click


def test_a_fresh_importing_batch_is_refused(session, stale_seconds):
    batch = batch_in(session, ImportStatus.importing.value, quiet_for=dt.timedelta(seconds=stale_seconds - 60))
    before = batch.updated_at
    assert not restartable(batch)
    assert start_import(session, batch) is False
    assert batch.status == ImportStatus.importing.value and batch.updated_at == before


def test_a_stale_importing_batch_starts_again_once(session, stale_seconds):
    batch = batch_in(session, ImportStatus.importing.value, quiet_for=dt.timedelta(seconds=stale_seconds + 60))
    old = batch.updated_at
    assert restartable(batch)
    assert start_import(session, batch) is True
    assert batch.status == ImportStatus.importing.value and batch.updated_at > old
    assert not restartable(batch)
    assert start_import(session, batch) is False  # restarted just now: fresh again


def test_a_stale_batch_whose_task_reports_progress_is_refused(session, stale_seconds):
    batch = batch_in(session, ImportStatus.importing.value, quiet_for=dt.timedelta(seconds=stale_seconds * 3))
    set_progress(progress_key(batch.id), "importing", 4000, 200000)  # a long import, still posting
    try:
        assert not restartable(batch)
        assert start_import(session, batch) is False
    finally:
        clear_progress(progress_key(batch.id))
    assert start_import(session, batch) is True  # progress gone (the worker died): stale


def test_old_progress_left_by_a_killed_worker_does_not_keep_it_locked(session, stale_seconds, monkeypatch):
    batch = batch_in(session, ImportStatus.importing.value, quiet_for=dt.timedelta(seconds=stale_seconds * 3))
    import fundapp.tasks as tasks

    long_ago = tasks.time.time() - stale_seconds * 2
    monkeypatch.setattr(tasks.time, "time", lambda: long_ago)
    set_progress(progress_key(batch.id), "importing", 2000, 5000)
    monkeypatch.undo()
    try:
        assert start_import(session, batch) is True
    finally:
        clear_progress(progress_key(batch.id))


@pytest.mark.parametrize("status", [ImportStatus.checking.value, ImportStatus.invalid.value,
                                    ImportStatus.imported.value])
def test_other_states_are_refused_even_when_old(session, stale_seconds, status):
    batch = batch_in(session, status, quiet_for=dt.timedelta(days=2))
    assert not restartable(batch)
    assert start_import(session, batch) is False
    assert batch.status == status


def test_the_default_stale_time_is_a_few_minutes(session, app):
    assert app.config["IMPORT_STALE_SECONDS"] == 15 * 60  # config.py: 15 minutes unless set
    batch = batch_in(session, ImportStatus.importing.value, quiet_for=dt.timedelta(minutes=5))
    assert start_import(session, batch) is False
    old = batch_in(session, ImportStatus.importing.value, quiet_for=dt.timedelta(hours=1))
    assert start_import(session, old) is True
