"""A harness for races on PostgreSQL: a migrated app on a fresh database, and calls run in threads released at once.

Threads cannot share the per-test rolled-back transaction, so a race runs on a database of its own with real
commits (`fresh_app`), and each thread works in its own request context and session (`race`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from flask_babel import force_locale

from fundapp.extensions import db
from tests.conftest import make_migrated_app


@contextmanager
def fresh_app(fresh_database_url: Callable[[str, str], str], label: str) -> Iterator:
    """A migrated app on a new PostgreSQL database (for a fixture: `with fresh_app(...) as app: yield app`)."""
    app = make_migrated_app(fresh_database_url("postgresql", label))
    try:
        yield app
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def is_unexpected(outcome: object) -> bool:
    """An outcome that `race` marks as an error nobody expected: ("unexpected", error)."""
    return isinstance(outcome, tuple) and len(outcome) == 2 and outcome[0] == "unexpected"


def race(app, calls: list[tuple], *, expected: tuple[type[BaseException], ...], timeout: float = 120) -> list:
    """Run each call, a (function, *args) tuple, in its own thread; a barrier releases them all at once.

    Each thread has its own request context and an English locale (the tests read refusal messages). A call that
    returns commits and adds what it returned; one that raises an `expected` error rolls back and adds the error;
    any other error rolls back and adds ("unexpected", error). Outcomes come in the order the threads finish.
    """
    barrier, outcomes = threading.Barrier(len(calls)), []

    def worker(target, *args) -> None:
        with app.test_request_context():
            try:
                barrier.wait(timeout=30)
                with force_locale("en"):  # an English user: the refusal messages are read by the tests
                    outcomes.append(target(*args))
                db.session.commit()
            except expected as error:
                db.session.rollback()
                outcomes.append(error)
            except Exception as error:  # noqa: BLE001 - reported by the test
                db.session.rollback()
                outcomes.append(("unexpected", error))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker, args=call) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    return outcomes
