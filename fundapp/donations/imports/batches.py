"""Import batches: an uploaded file kept under a random name outside the web root, its check (the preview, with
every problem stored per row) and its import. Services flush, never commit; the task runner and the CLI commit.

    checking --(no problems)--> checked --(confirmed)--> importing --> imported
        \\--(problems)--> invalid                              \\--> failed (nothing written; may be tried again)

A batch left "importing" by a killed worker (nothing written) may be started again once stale (`start_import`).

The import checks the file again first (the books may have changed since the preview) and posts only if no row
has a problem. Files are deleted once imported; uploads older than a week are swept away.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import and_, delete, or_, update
from sqlalchemy.orm import Session

from fundapp.audit.services import AuditTag, record_event
from fundapp.db import utcnow
from fundapp.donations.errors import DonationError
from fundapp.donations.imports.checking import Plan, Progress, check_sheet
from fundapp.donations.imports.posting import post_plan
from fundapp.donations.imports.reading import open_sheet
from fundapp.donations.models import ImportBatch, ImportProblem, ImportStatus
from fundapp.ledger.batch import insert_rows

MAX_STORED_PROBLEMS = 100_000
KEEP_UPLOADS_SECONDS = 7 * 24 * 3600
DEFAULT_STALE_SECONDS = 15 * 60  # IMPORT_STALE_SECONDS: an "importing" batch this quiet was abandoned


def upload_folder() -> Path:
    return Path(current_app.config["IMPORT_FOLDER"])


def _upload_path(batch: ImportBatch) -> Path:
    return upload_folder() / batch.stored_name


def _sweep_old_uploads(folder: Path) -> None:
    limit = time.time() - KEEP_UPLOADS_SECONDS
    for path in folder.glob("*.upload"):
        try:
            if path.stat().st_mtime < limit:
                path.unlink()
        except OSError:
            continue


def _store(data: bytes) -> str:
    folder = upload_folder()
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    _sweep_old_uploads(folder)
    name = f"{secrets.token_hex(16)}.upload"
    descriptor = os.open(folder / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)
    return name


def display_name(filename: str | None) -> str:
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1].strip()
    return "".join(ch for ch in name if ch.isprintable())[:200] or "upload"


def create_batch(session: Session, data: bytes, filename: str | None, actor: Any | None, locale: str) -> ImportBatch:
    """Keep the upload and add its batch, waiting to be checked."""
    limit = current_app.config["IMPORT_MAX_BYTES"]
    if not data:
        raise DonationError(_("Choose a file to import."))
    if len(data) > limit:
        raise DonationError(_("The file is larger than %(mb)d MB; split it into smaller files.", mb=limit // 2**20))
    batch = ImportBatch(filename=display_name(filename), stored_name=_store(data), size=len(data),
                        sha256=hashlib.sha256(data).hexdigest(), locale=locale or "",
                        status=ImportStatus.checking.value, created_by_id=getattr(actor, "id", None))
    session.add(batch)
    session.flush()
    record_event(session, AuditTag.import_uploaded, actor, "donation_import", batch.id,
                 after={"file": batch.filename, "size": batch.size, "sha256": batch.sha256})
    return batch


def read_upload(batch: ImportBatch) -> bytes:
    try:
        return _upload_path(batch).read_bytes()
    except FileNotFoundError:
        raise DonationError(_("The uploaded file is no longer kept; upload it again.")) from None


def discard_upload(batch: ImportBatch) -> None:
    """Delete the kept file (call after the commit that made it unneeded)."""
    _upload_path(batch).unlink(missing_ok=True)


def _save_problems(session: Session, batch: ImportBatch, problems: list) -> None:
    session.execute(delete(ImportProblem).where(ImportProblem.batch_id == batch.id))
    rows = [{"batch_id": batch.id, "row_number": p.row, "column": p.column, "message": p.message[:500]}
            for p in problems[:MAX_STORED_PROBLEMS]]
    insert_rows(session, ImportProblem.__table__, rows)


def _record_check(session: Session, batch: ImportBatch, plan: Plan | None, message: str) -> None:
    batch.message = message
    batch.total_rows = plan.total_rows if plan else 0
    batch.new_rows = len(plan.new) if plan else 0
    batch.skipped_rows = len(plan.skipped) if plan else 0
    batch.problem_count = len(plan.problems) if plan else 0
    batch.total_amount = plan.total_amount if plan else None
    batch.sample = plan.sample if plan else None
    batch.status = (ImportStatus.checked if plan is not None and not plan.problems else ImportStatus.invalid).value
    batch.updated_at = utcnow()
    _save_problems(session, batch, plan.problems if plan else [])
    session.flush()


def check_batch(session: Session, batch: ImportBatch, progress: Progress | None = None) -> Plan | None:
    """Read and check the batch's file, writing only the batch's findings. None if the file cannot be read."""
    try:
        sheet = open_sheet(read_upload(batch), current_app.config["IMPORT_MAX_ROWS"])
    except DonationError as error:
        _record_check(session, batch, None, error.message)
        return None
    plan = check_sheet(session, sheet, progress=progress)
    _record_check(session, batch, plan, "")
    return plan


def stale_after() -> dt.timedelta:
    """How long an "importing" batch may go without a sign of life before it counts as abandoned."""
    return dt.timedelta(seconds=int(current_app.config.get("IMPORT_STALE_SECONDS", DEFAULT_STALE_SECONDS)))


def _task_alive(batch: ImportBatch, cutoff: dt.datetime) -> bool:
    """Whether the import task reported progress since `cutoff` (it reports every few thousand rows)."""
    from fundapp.donations.tasks import progress_key
    from fundapp.tasks import get_progress

    progress = get_progress(progress_key(batch.id))
    return bool(progress) and float(progress.get("at") or 0) >= cutoff.timestamp()


def restartable(batch: ImportBatch) -> bool:
    """Whether the batch was left "importing" by a worker that died: the page may offer to start it again."""
    if batch.status != ImportStatus.importing.value or batch.updated_at is None:
        return False
    cutoff = utcnow() - stale_after()
    updated = batch.updated_at if batch.updated_at.tzinfo else batch.updated_at.replace(tzinfo=dt.UTC)  # SQLite
    return updated < cutoff and not _task_alive(batch, cutoff)


def start_import(session: Session, batch: ImportBatch) -> bool:
    """Mark a checked (or failed) batch as importing; False if it is not in such a state (e.g. a second click).

    A batch left "importing" by a worker that died (nothing was written: the import is one transaction) may be
    started again, but only once it is stale: not updated and no progress reported for `IMPORT_STALE_SECONDS`.
    A fresh one is refused (its task is queued or running). The conditional UPDATE decides between two clicks;
    on PostgreSQL it also waits for a running import's transaction (which holds the batch row) and then sees
    its final status, so a slow but live import is never started twice.
    """
    cutoff = utcnow() - stale_after()
    startable = ImportBatch.status.in_([ImportStatus.checked.value, ImportStatus.failed.value])
    if batch.status == ImportStatus.importing.value and not _task_alive(batch, cutoff):
        startable = or_(startable, and_(ImportBatch.status == ImportStatus.importing.value,
                                        ImportBatch.updated_at < cutoff))
    result = session.execute(
        update(ImportBatch)
        .where(ImportBatch.id == batch.id, startable)
        .values(status=ImportStatus.importing.value, message="", updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    session.refresh(batch)
    return result.rowcount == 1


def import_batch(session: Session, batch: ImportBatch, actor: Any | None,
                 progress: Progress | None = None) -> ImportBatch:
    """Check the file again and, if no row has a problem, post it all (the caller commits once)."""
    plan = check_batch(session, batch, progress)
    if plan is None or plan.problems:
        return batch
    posted = post_plan(session, plan, actor, source=f"batch:{batch.id}", progress=progress) if plan.new else 0
    batch.status, batch.posted_rows, batch.imported_at = ImportStatus.imported.value, posted, utcnow()
    session.flush()
    return batch


def fail_batch(session: Session, batch: ImportBatch, message: str) -> None:
    batch.status, batch.message, batch.updated_at = ImportStatus.failed.value, message, utcnow()
    session.flush()


@dataclass
class FileResult:
    plan: Plan
    posted: int | None  # None: not posted (problems, or a check only)


def import_file(session: Session, data: bytes, actor: Any | None, *, source: str, check_only: bool = False,
                progress: Progress | None = None) -> FileResult:
    """The command line's import: check, and post if no row has a problem. ImportFileError if unreadable."""
    sheet = open_sheet(data, current_app.config["IMPORT_MAX_ROWS"])
    plan = check_sheet(session, sheet, progress=progress)
    if plan.problems or check_only:
        return FileResult(plan, None)
    return FileResult(plan, post_plan(session, plan, actor, source=source, progress=progress) if plan.new else 0)
