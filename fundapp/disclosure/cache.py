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
from sqlalchemy import text

from fundapp.dates import local_today
from fundapp.extensions import db

VERSION_SQL = text("SELECT (SELECT seq FROM ledger_head WHERE id = 1), (SELECT max(id) FROM audit_events)")
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


def data_version() -> tuple[int, int]:
    seq, audit_id = db.session.execute(VERSION_SQL).one()
    return seq or 0, audit_id or 0


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
