"""Generating the annual report PDF in the background (Huey), and where the PDFs are kept.

The PDFs live in ANNUAL_REPORT_DIR (default instance/reports/, outside the web root) under random names; the
state of each year's report is a small JSON file beside them (annual-<year>.json: status queued / running / ready
/ failed, the PDF's file name, when it was made and how long it took). No database table: a report is derived
data, made again at will. Progress while it runs is kept in Huey's store (`fundapp.tasks.set_progress`), like the
imports'.

Generating a year again replaces its PDF: the new file is written, the state points at it, and every other PDF
of that year is removed, all under a per-year file lock, so two runs at once leave exactly one file. A failed run
keeps the previous PDF (still downloadable) and records the failure.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import logging
import os
import secrets
import time
from collections.abc import Iterator
from pathlib import Path

from flask import current_app
from flask_babel import force_locale

from fundapp.extensions import db
from fundapp.tasks import clear_progress, get_progress, huey, in_app_context, set_progress

log = logging.getLogger(__name__)

QUEUED, RUNNING, READY, FAILED = "queued", "running", "ready", "failed"
BUSY = (QUEUED, RUNNING)


def reports_dir() -> Path:
    path = Path(current_app.config.get("ANNUAL_REPORT_DIR") or Path(current_app.instance_path) / "reports")
    path.mkdir(parents=True, exist_ok=True)
    return path


def progress_key(year: int) -> str:
    return f"annual-report:{year}"


def get_progress_for(year: int) -> dict | None:
    return get_progress(progress_key(year))


def _state_path(year: int) -> Path:
    return reports_dir() / f"annual-{year}.json"


@contextlib.contextmanager
def _locked(year: int) -> Iterator[None]:
    with open(reports_dir() / f"annual-{year}.lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def read_state(year: int) -> dict | None:
    try:
        with open(_state_path(year), encoding="utf-8") as handle:
            state = json.load(handle)
    except (OSError, ValueError):
        return None
    return state if isinstance(state, dict) else None


def _write_state(year: int, state: dict) -> None:
    path = _state_path(year)
    temporary = path.with_suffix(f".{secrets.token_hex(4)}.tmp")
    temporary.write_text(json.dumps(state), encoding="utf-8")
    os.replace(temporary, path)


def _update(year: int, **changes) -> dict:
    state = {"year": year, "status": None, "file": "", "generated_at": "", "seconds": None, "message": ""}
    state.update(read_state(year) or {})
    state.update(changes)
    _write_state(year, state)
    return state


def pdf_path(year: int) -> Path | None:
    """The year's current PDF, if one was made and is still there."""
    state = read_state(year)
    name = (state or {}).get("file") or ""
    if not name or "/" in name or not name.endswith(".pdf"):
        return None
    path = reports_dir() / name
    return path if path.is_file() else None


def request_generation(year: int) -> None:
    """Mark the year queued (its current PDF stays downloadable meanwhile) and enqueue the task."""
    with _locked(year):
        _update(year, status=QUEUED, message="", queued_at=time.time())
    generate_annual_report(year)


def generate(year: int) -> Path:
    """Gather, render and store the year's report (the task's body; also used by the benchmark)."""
    from fundapp.reports.annual import gather, render_pdf

    with _locked(year):
        _update(year, status=RUNNING, message="")
    started = time.perf_counter()
    total = 9

    def report(phase: str, done: int, _total: int) -> None:
        set_progress(progress_key(year), phase, done, total)

    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        content = gather(db.session, year, report)
        report("pdf", 8, total)
        pdf = render_pdf(content)
    db.session.rollback()  # read only: end the transaction
    directory = reports_dir()
    name = f"annual-{year}-{secrets.token_urlsafe(18)}.pdf"
    with _locked(year):
        (directory / name).write_bytes(pdf)
        _update(year, status=READY, file=name, message="", seconds=round(time.perf_counter() - started, 2),
                generated_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), size=len(pdf))
        for other in directory.glob(f"annual-{year}-*.pdf"):
            if other.name != name:
                other.unlink(missing_ok=True)
    return directory / name


def _run(year: int) -> None:
    try:
        generate(year)
    except Exception as error:  # noqa: BLE001 - a task records its failure instead of raising
        log.exception("annual report %s failed", year)
        db.session.rollback()
        with _locked(year):
            _update(year, status=FAILED, message=type(error).__name__)
    finally:
        clear_progress(progress_key(year))


@huey.task()
def generate_annual_report(year: int) -> None:
    in_app_context(_run, year)
