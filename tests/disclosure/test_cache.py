"""The public page cache (fundapp.disclosure.cache): served from memory until the data version moves.

The decorator is exercised on a view of this file inside request contexts, so what is tested is the mechanism:
a second request does not run the view; a posting or any audited change does; so do another language, another
query string and another day; signed-in visitors and non-200 answers are never cached; an ETag revalidation
answers 304.
"""

from __future__ import annotations

import datetime as dt
from unittest import mock

import pytest
from flask import abort
from flask_babel import refresh
from flask_login import login_user
from sqlalchemy import text

from fundapp.audit.services import AuditTag, record_event
from fundapp.disclosure import cache as cache_module
from fundapp.disclosure.cache import LRU, cached_page, data_version, page_cache
from fundapp.extensions import db
from tests.conftest import make_migrated_app
from tests.factories import make_fund, make_user, post


@pytest.fixture()
def cache_on(app):
    app.config["PUBLIC_CACHE_SIZE"] = 16
    app.extensions.pop("public_page_cache", None)
    try:
        yield app
    finally:
        app.config["PUBLIC_CACHE_SIZE"] = 0
        app.extensions.pop("public_page_cache", None)


class CountingView:
    def __init__(self, status: int = 200) -> None:
        self.calls = 0
        self.status = status

    def __call__(self):
        self.calls += 1
        if self.status != 200:
            abort(self.status)
        return f"rendered {self.calls}"


def request(app, view, path: str = "/public/probe", **headers):
    with app.test_request_context(path, headers=headers):
        refresh()  # the test's app context outlives the request; Flask-Babel would keep the first locale on it
        return cached_page(view)()


def test_a_second_request_is_served_from_the_cache(cache_on, session):
    view = CountingView()
    first, second = request(cache_on, view), request(cache_on, view)
    assert view.calls == 1
    assert first.get_data() == second.get_data() == b"rendered 1"
    assert second.headers["Cache-Control"] == "public, max-age=60"
    assert second.headers["ETag"] == first.headers["ETag"]
    assert {"Cookie", "Accept-Language"} <= set(second.vary)


def test_a_posting_or_any_audited_change_renders_again(cache_on, session):
    view = CountingView()
    fund = make_fund(session)
    request(cache_on, view)
    request(cache_on, view)
    post(session, fund, "10.00")  # moves the ledger head
    assert request(cache_on, view).get_data() == b"rendered 2"
    record_event(session, AuditTag.fund_updated, None, "fund", fund.id, before={"is_public": True},
                 after={"is_public": False})  # an audited change of anything else
    session.flush()  # a view commits before the next request
    assert request(cache_on, view).get_data() == b"rendered 3"
    assert request(cache_on, view).get_data() == b"rendered 3"


def test_language_query_string_and_day_are_part_of_the_key(cache_on, session):
    view = CountingView()
    request(cache_on, view, "/public/probe", **{"Accept-Language": "en"})
    request(cache_on, view, "/public/probe", **{"Accept-Language": "zh-CN"})
    request(cache_on, view, "/public/probe?page=2")
    assert view.calls == 3
    tomorrow = dt.date.today() + dt.timedelta(days=1)
    with mock.patch.object(cache_module, "local_today", return_value=tomorrow):
        request(cache_on, view, "/public/probe?page=2")
    assert view.calls == 4


def test_revalidation_with_the_etag_answers_304_without_rendering(cache_on, session):
    view = CountingView()
    etag = request(cache_on, view).headers["ETag"].strip('"')
    response = request(cache_on, view, **{"If-None-Match": f'"{etag}"'})
    assert response.status_code == 304 and response.get_data() == b""
    assert view.calls == 1
    post(session, make_fund(session), "1.00")
    assert request(cache_on, view, **{"If-None-Match": f'"{etag}"'}).status_code == 200


def test_signed_in_visitors_and_errors_are_never_cached(cache_on, session):
    view = CountingView()
    user = make_user(session, "finance")
    for _ in range(2):
        with cache_on.test_request_context("/public/probe"):
            login_user(user)
            cached_page(view)()
    assert view.calls == 2
    missing = CountingView(status=404)
    for _ in range(2):
        with pytest.raises(Exception):
            request(cache_on, missing)
    assert missing.calls == 2
    with cache_on.test_request_context("/"):
        assert len(page_cache()) == 0


def test_the_cache_is_off_when_its_size_is_zero(app, session):
    view = CountingView()
    request(app, view)
    request(app, view)
    assert view.calls == 2


def test_lru_keeps_the_most_recently_used():
    lru = LRU(2)
    lru.put("a", 1)
    lru.put("b", 2)
    assert lru.get("a") == 1  # "b" is now the least recently used
    lru.put("c", 3)
    assert (lru.get("a"), lru.get("b"), lru.get("c"), len(lru)) == (1, None, 3, 2)


@pytest.fixture()
def committed_app(backend, fresh_database_url):
    """An app on a database of its own, where changes are committed (the version engine is a second connection)."""
    app = make_migrated_app(fresh_database_url(backend, "version"))
    yield app
    with app.app_context():
        engine = app.extensions.pop("public_version_engine", None)
        if engine is not None:
            engine.dispose()
        db.session.remove()
        db.engine.dispose()


def test_the_version_query_runs_on_its_own_connection_and_sees_each_commit(committed_app):
    with committed_app.app_context():
        first = data_version()
        assert "public_version_engine" in committed_app.extensions  # the one-round-trip path, not the session's
        record_event(db.session, AuditTag.compliance_duty_done, None, "probe", 1)
        db.session.flush()
        # uncommitted work of this session: asked through the session itself, which sees it
        pending = data_version()
        assert pending[1] > first[1]
        db.session.commit()
        assert data_version() == pending  # committed: the version connection sees it too
        db.session.rollback()
        assert not db.session().in_transaction()


def test_the_version_query_reconnects_after_its_connection_is_killed(committed_app, backend):
    if backend != "postgresql":
        pytest.skip("killing a server connection is a PostgreSQL test")
    with committed_app.app_context():
        first = data_version()
        engine = committed_app.extensions["public_version_engine"]
        with engine.connect() as conn:
            victim = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar()
        with db.engine.connect() as admin:
            assert admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": victim}).scalar()
        assert data_version() == first  # the dead pooled connection is replaced, the visitor sees no error
