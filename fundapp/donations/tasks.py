"""Background work of donation imports: checking an uploaded file (the preview) and importing it.

Each task opens its own app context and session, speaks the uploader's language (the problems it stores are
read by them), commits once, and reports progress through `fundapp.tasks.set_progress`. A task never raises:
an unexpected error rolls back and marks the batch failed (nothing was written; the import may be tried again).
"""

from __future__ import annotations

import logging

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _

from fundapp.auth.models import User
from fundapp.donations.imports.batches import check_batch, discard_upload, fail_batch, import_batch
from fundapp.donations.models import ImportBatch, ImportStatus
from fundapp.errors import DomainError
from fundapp.extensions import db
from fundapp.tasks import clear_progress, huey, in_app_context, set_progress

log = logging.getLogger(__name__)


def progress_key(batch_id: int) -> str:
    return f"import:{batch_id}"


def _reporter(batch_id: int):
    def report(phase: str, done: int, total: int) -> None:
        set_progress(progress_key(batch_id), phase, done, total)

    return report


def _locale(batch: ImportBatch) -> str:
    languages = current_app.config["LANGUAGES"]
    return batch.locale if batch.locale in languages else languages[0]


def _fail(batch_id: int, error: Exception) -> None:
    db.session.rollback()
    batch = db.session.get(ImportBatch, batch_id)
    if batch is None:
        return
    with force_locale(_locale(batch)):
        message = error.message if isinstance(error, DomainError) else _(
            "Something went wrong; nothing was imported. Try again or tell the administrator.")
        fail_batch(db.session, batch, message)
    db.session.commit()


def _check(batch_id: int) -> None:
    batch = db.session.get(ImportBatch, batch_id)
    if batch is None or batch.status != ImportStatus.checking.value:
        return
    try:
        with force_locale(_locale(batch)):
            check_batch(db.session, batch, _reporter(batch_id))
        db.session.commit()
    except Exception as error:  # noqa: BLE001 - a task records its failure instead of raising
        log.exception("checking import batch %s failed", batch_id)
        _fail(batch_id, error)
    finally:
        clear_progress(progress_key(batch_id))


def _import(batch_id: int, actor_id: int | None) -> None:
    batch = db.session.get(ImportBatch, batch_id)
    if batch is None or batch.status != ImportStatus.importing.value:
        return
    actor = db.session.get(User, actor_id) if actor_id else None
    try:
        with force_locale(_locale(batch)):
            import_batch(db.session, batch, actor, _reporter(batch_id))
        db.session.commit()
    except Exception as error:  # noqa: BLE001 - a task records its failure instead of raising
        log.exception("import batch %s failed", batch_id)
        _fail(batch_id, error)
    else:
        if batch.status == ImportStatus.imported.value:
            discard_upload(batch)
    finally:
        clear_progress(progress_key(batch_id))


@huey.task()
def check_import(batch_id: int) -> None:
    in_app_context(_check, batch_id)


@huey.task()
def run_import(batch_id: int, actor_id: int | None) -> None:
    in_app_context(_import, batch_id, actor_id)
