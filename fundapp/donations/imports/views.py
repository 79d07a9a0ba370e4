"""Import pages on the donations blueprint: upload a file, its preview (every problem with its row number) with a
progress bar while a task works on it, the JSON status the bar polls, and the confirmed import.

The checking and the import run as Huey tasks (fundapp.donations.tasks), so no request waits for them; the page
polls status.json with static/js/progress.js, or refreshes itself every few seconds without JavaScript.
"""

from __future__ import annotations

from flask import current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from fundapp.auth.decorators import roles_required
from fundapp.donations.forms import METHOD_LABELS, ActionForm, ImportForm
from fundapp.donations.imports.batches import create_batch, restartable, start_import
from fundapp.donations.imports.reading import COLUMNS, REQUIRED
from fundapp.donations.models import ImportBatch, ImportProblem
from fundapp.donations.tasks import check_import, progress_key, run_import
from fundapp.donations.views import bp
from fundapp.donations.web import MANAGERS, READERS
from fundapp.extensions import db
from fundapp.setup import select_locale
from fundapp.tasks import get_progress
from fundapp.web import form_service

PROBLEMS_PER_PAGE = 100
FORM_SLACK = 64 * 1024  # the multipart envelope around the file


def status_values(batch: ImportBatch) -> dict:
    """What the progress bar shows: the phase, rows done of total, and whether the work has finished."""
    progress = get_progress(progress_key(batch.id)) if batch.busy else None
    if progress:
        phase, done, total = progress["phase"], progress["done"], progress["total"]
    else:
        phase, done, total = ("waiting" if batch.busy else batch.status), 0, batch.total_rows
    finished = not batch.busy
    percent = 100 if finished else (min(99, done * 100 // total) if total else 0)
    return {"id": batch.id, "status": batch.status, "phase": phase, "done": done, "total": total, "percent": percent,
            "finished": finished, "rows": batch.total_rows, "new_rows": batch.new_rows,
            "skipped_rows": batch.skipped_rows, "problems": batch.problem_count, "posted_rows": batch.posted_rows,
            "message": batch.message}


def _recent() -> list[ImportBatch]:
    return list(db.session.scalars(select(ImportBatch).order_by(ImportBatch.id.desc()).limit(20)))


def _upload_page(form: ImportForm, status: int = 200):
    limit = current_app.config["IMPORT_MAX_BYTES"]
    return render_template("donations/import.html", form=form, batches=_recent(), columns=COLUMNS,
                           required=REQUIRED, limit_mb=limit // 2**20), status


@bp.route("/import", methods=["GET", "POST"])
@roles_required(*MANAGERS)
def import_upload():
    limit = current_app.config["IMPORT_MAX_BYTES"]
    if request.method == "POST" and (request.content_length or 0) > limit + FORM_SLACK:
        form = ImportForm(formdata=None)
        form.form_errors.append(_("The file is larger than %(mb)d MB; split it into smaller files.",
                                  mb=limit // 2**20))
        return _upload_page(form, 400)
    request.max_content_length = limit + FORM_SLACK
    form = ImportForm()
    if form.validate_on_submit():
        upload = form.file.data
        with form_service(form) as done:
            batch = create_batch(db.session, upload.read(limit + 1), upload.filename, current_user, select_locale())
        if done.ok:
            check_import(batch.id)
            return redirect(url_for("donations.import_batch", batch_id=batch.id))
    return _upload_page(form)


@bp.get("/imports/<int:batch_id>")
@roles_required(*READERS)
def import_batch(batch_id: int):
    batch = db.get_or_404(ImportBatch, batch_id)
    stmt = (select(ImportProblem).where(ImportProblem.batch_id == batch.id)
            .order_by(ImportProblem.row_number, ImportProblem.id))
    problems = db.paginate(stmt, per_page=PROBLEMS_PER_PAGE, max_per_page=PROBLEMS_PER_PAGE, error_out=False)
    return render_template("donations/import_batch.html", b=batch, problems=problems,
                           status=status_values(batch), form=ActionForm(), columns=COLUMNS,
                           can_manage=current_user.has_role(*MANAGERS), method_labels=METHOD_LABELS,
                           restartable=restartable(batch))


@bp.get("/imports/<int:batch_id>/status.json")
@roles_required(*READERS)
def import_status(batch_id: int):
    response = jsonify(status_values(db.get_or_404(ImportBatch, batch_id)))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/imports/<int:batch_id>/import")
@roles_required(*MANAGERS)
def import_run(batch_id: int):
    batch = db.get_or_404(ImportBatch, batch_id)
    if not ActionForm().validate_on_submit():
        flash(_("The form expired. Check it and submit it again."), "error")
        return redirect(url_for("donations.import_batch", batch_id=batch.id))
    if not start_import(db.session, batch):
        db.session.rollback()
        flash(_("This file is not ready to import: it has problems, or it is being imported already."), "error")
        return redirect(url_for("donations.import_batch", batch_id=batch.id))
    db.session.commit()
    run_import(batch.id, current_user.id)
    return redirect(url_for("donations.import_batch", batch_id=batch.id))
