"""Background tasks with Huey: a well-kept, small task queue.

The queue lives in a SQLite file in instance/ (huey.sqlite3) by default, and in Redis when HUEY_REDIS_URL is set
(production with several machines). The worker is a separate process:

    .venv/bin/huey_consumer fundapp.tasks.huey --workers 2

(`make run` starts one beside the development server and stops it on exit). Tasks run in an app context of an
app made from the environment (the same DATABASE_URL as the web process). With HUEY_IMMEDIATE (always in tests)
tasks run inline, in the process that enqueues them, in an app context of their own.

Progress of a running task is kept in Huey's key-value store (not in the database, whose writes are not visible
to others until the task's single transaction commits): `set_progress` / `get_progress`.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from typing import Any

from flask import Flask, current_app, has_app_context
from huey import RedisHuey, SqliteHuey
from huey.api import Huey

from config import INSTANCE_DIR

NAME = "fundapp"
_app_lock = threading.Lock()
_worker_app: Flask | None = None


def make_huey() -> Huey:
    immediate = os.environ.get("HUEY_IMMEDIATE", "0") == "1"
    redis_url = os.environ.get("HUEY_REDIS_URL")
    if redis_url:
        return RedisHuey(NAME, url=redis_url, results=False, immediate=immediate)
    path = os.environ.get("HUEY_SQLITE_PATH") or str(INSTANCE_DIR / "huey.sqlite3")
    if not immediate:
        os.makedirs(os.path.dirname(path), exist_ok=True)
    return SqliteHuey(NAME, filename=path, results=False, immediate=immediate)


huey = make_huey()


def init_app(app: Flask) -> None:
    """Tests (HUEY_IMMEDIATE) run tasks inline. Never switched back off: one process, one queue."""
    if app.config.get("HUEY_IMMEDIATE"):
        huey.immediate = True


def _app() -> Flask:
    global _worker_app
    if has_app_context():
        return current_app._get_current_object()  # immediate mode: the enqueuing app
    with _app_lock:
        if _worker_app is None:
            from fundapp import create_app

            _worker_app = create_app()
        return _worker_app


def in_app_context(function: Callable[..., Any], *args: Any) -> Any:
    """Run `function(*args)` in a fresh app context (its own database session, removed at the end)."""
    with _app().app_context():
        return function(*args)


def set_progress(key: str, phase: str, done: int, total: int) -> None:
    huey.put(f"progress:{key}", {"phase": phase, "done": done, "total": total, "at": time.time()})


def get_progress(key: str) -> dict | None:
    value = huey.get(f"progress:{key}", peek=True)
    return value if isinstance(value, dict) else None


def clear_progress(key: str) -> None:
    huey.delete(f"progress:{key}")


# The tasks register themselves on `huey` when imported: the consumer imports this module only.
from fundapp.donations import tasks as _donation_tasks  # noqa: E402,F401
from fundapp.notify import tasks as _notify_tasks  # noqa: E402,F401
from fundapp.reports import annual_tasks as _annual_report_tasks  # noqa: E402,F401
