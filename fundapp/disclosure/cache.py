"""Cache for public pages, keyed on the data version: nothing is ever served stale, nothing needs expiring.

Every balance change moves the ledger head and every other state change writes an audit event, so the pair
(ledger head seq, newest audit event id) changes whenever anything a public page shows may have changed. One
query reads both; a page whose key is cached is served without running its view. Signed-in visitors bypass the
cache (their header differs). Responses carry an ETag, so a browser's revalidation costs one query and a 304.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable
from functools import wraps

from flask import current_app, make_response, request
from flask_babel import get_locale
from flask_login import current_user
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection, Engine

from fundapp.dates import local_today
from fundapp.extensions import db

VERSION_SQL = "SELECT (SELECT seq FROM ledger_head WHERE id = 1), (SELECT max(id) FROM audit_events)"
STORED_HEADERS = ("Content-Type", "Content-Disposition")


class LRU:
    """A small thread-safe least-recently-used map (gunicorn's threaded workers share one per process)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key):
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key, value) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        return len(self._items)


def page_cache() -> LRU:
    cache = current_app.extensions.get("public_page_cache")
    if cache is None:
        cache = current_app.extensions["public_page_cache"] = LRU(current_app.config["PUBLIC_CACHE_SIZE"])
    return cache


def _version_engine() -> Engine:
    """An engine of its own for the version query: autocommit and no pre-ping, so the query is one round trip
    (through the app's session it is four: pre-ping, BEGIN, the query, ROLLBACK) and a cached page touches
    neither the session nor its pool. A dropped connection is noticed by the query itself (see data_version)."""
    engine = current_app.extensions.get("public_version_engine")
    if engine is None:
        size = current_app.config["PUBLIC_VERSION_POOL_SIZE"]
        engine = create_engine(db.engine.url, isolation_level="AUTOCOMMIT", pool_pre_ping=False,
                               pool_size=size, max_overflow=size)
        engine = current_app.extensions.setdefault("public_version_engine", engine)
    return engine


def _ask(session) -> tuple[int, int]:
    seq, audit_id = session.execute(text(VERSION_SQL)).one()
    return seq or 0, audit_id or 0


def data_version() -> tuple[int, int]:
    """(ledger head seq, newest audit event id) as committed now."""
    bind = db.session.get_bind()
    if isinstance(bind, Connection) or db.session().in_transaction() or bind.url.database in (None, "", ":memory:"):
        # The session is pinned to one connection (a test's outer transaction), has work of its own under way,
        # or the database lives in this connection's memory: only the session's connection sees what it sees.
        return _ask(db.session)
    engine = _version_engine()
    for attempt in (1, 2):
        # The driver's own cursor: the statement has no parameters and one row, SQLAlchemy's execution context
        # would be a third of the cost of a cached page.
        conn = engine.raw_connection()
        try:
            cursor = conn.cursor()
            cursor.execute(VERSION_SQL)
            seq, audit_id = cursor.fetchone()
            cursor.close()
            return seq or 0, audit_id or 0
        except engine.dialect.loaded_dbapi.Error:
            conn.invalidate()  # the server restarted or the connection broke: one retry on a new connection
            if attempt == 2:
                raise
        finally:
            conn.close()
    raise AssertionError("unreachable")


def _key() -> tuple:
    return (request.endpoint, request.full_path, str(get_locale()), local_today().isoformat(), *data_version())


def cached_page(view: Callable) -> Callable:
    """Serve a public GET view from the cache when the data has not changed since it was rendered."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if current_app.config["PUBLIC_CACHE_SIZE"] <= 0 or current_user.is_authenticated:
            return view(*args, **kwargs)
        key = _key()
        etag = hashlib.sha256(repr(key).encode()).hexdigest()[:32]
        if etag in request.if_none_match:
            response = make_response("", 304)
        else:
            cache = page_cache()
            stored = cache.get(key)
            if stored is None:
                response = make_response(view(*args, **kwargs))
                if response.status_code != 200 or response.is_streamed:
                    return response
                headers = {name: response.headers[name] for name in STORED_HEADERS if name in response.headers}
                cache.put(key, (response.get_data(), headers))
            else:
                body, headers = stored
                response = make_response(body, 200, headers)
        response.set_etag(etag)
        response.headers["Cache-Control"] = "public, max-age=60"
        response.vary.update(("Cookie", "Accept-Language"))
        return response

    return wrapped
