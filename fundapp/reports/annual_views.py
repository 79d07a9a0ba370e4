"""Annual report pages: the years with a Generate button, a year's page (progress bar while the report is made,
then the download), the JSON status the bar polls, and the PDF download.

Finance, admin and the board use them. Generating runs as a Huey task (fundapp.reports.annual_tasks); the page
polls status.json with static/js/progress.js, or refreshes itself every few seconds without JavaScript.
"""

from __future__ import annotations

import datetime as dt

from flask import Response, abort, flash, jsonify, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_wtf import FlaskForm

from fundapp.auth.decorators import roles_required
from fundapp.dates import local_today
from fundapp.extensions import db
from fundapp.reports.annual import report_years
from fundapp.reports.annual_tasks import BUSY, READY, get_progress_for, pdf_path, read_state, request_generation
from fundapp.reports.views import READERS, bp

FIRST_YEAR = 2000


class GenerateForm(FlaskForm):
    """A one-button form: only its CSRF token."""


def _year(year: int) -> int:
    if not FIRST_YEAR <= year <= local_today().year:
        abort(404)
    return year


def status_values(year: int) -> dict:
    """What the progress bar shows: the phase, parts done of total, and whether the work has finished."""
    state = read_state(year) or {}
    status = state.get("status")
    busy = status in BUSY
    progress = get_progress_for(year) if busy else None
    if progress:
        phase, done, total = progress["phase"], progress["done"], progress["total"]
    else:
        phase, done, total = ("waiting" if busy else status or "none"), 0, 0
    percent = 100 if not busy else (min(99, done * 100 // total) if total else 0)
    generated = state.get("generated_at") or ""
    return {"year": year, "status": status or "none", "phase": phase, "done": done, "total": total,
            "percent": percent, "finished": not busy, "ready": pdf_path(year) is not None,
            "generated_at": generated, "seconds": state.get("seconds"), "failed": status == "failed"}


def _generated_label(value: str) -> str:
    try:
        return dt.datetime.fromisoformat(value).strftime("%Y-%m-%d %H:%M UTC")
    except ValueError:
        return ""


@bp.get("/annual")
@roles_required(*READERS)
def annual_index():
    years = [(year, status_values(year)) for year in report_years(db.session, local_today())]
    for _ignored, status in years:
        status["generated_label"] = _generated_label(status["generated_at"])
    return render_template("reports/annual_index.html", years=years, form=GenerateForm(), busy=BUSY)


@bp.post("/annual/<int:year>/generate")
@roles_required(*READERS)
def annual_generate(year: int):
    _year(year)
    if not GenerateForm().validate_on_submit():
        flash(_("The form expired. Check it and submit it again."), "error")
        return redirect(url_for(".annual_index"))
    db.session.rollback()  # nothing written here: the task reads in its own session
    request_generation(year)
    return redirect(url_for(".annual_detail", year=year))


@bp.get("/annual/<int:year>")
@roles_required(*READERS)
def annual_detail(year: int):
    status = status_values(_year(year))
    status["generated_label"] = _generated_label(status["generated_at"])
    return render_template("reports/annual_detail.html", year=year, status=status, form=GenerateForm(),
                           busy=status["status"] in BUSY, ready_status=READY)


@bp.get("/annual/<int:year>/status.json")
@roles_required(*READERS)
def annual_status(year: int):
    response = jsonify(status_values(_year(year)))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/annual/<int:year>.pdf")
@roles_required(*READERS)
def annual_download(year: int):
    path = pdf_path(_year(year))
    if path is None:
        abort(404)
    try:
        body = path.read_bytes()
    except FileNotFoundError:  # replaced by a new run meanwhile
        abort(404)
    return Response(body, content_type="application/pdf", headers={
        "Content-Disposition": f'inline; filename="annual-report-{year}.pdf"', "Cache-Control": "private, no-store"})
