"""Sign-in, sign-out and the web security settings around them."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pyotp
import pytest
from sqlalchemy import func, select

from fundapp.audit.models import AuditEvent
from fundapp.auth.models import TwoFactor, User
from fundapp.extensions import db, limiter
from tests.conftest import complete_two_factor, make_migrated_app
from tests.factories import PASSWORD, make_user


def sign_in(client, email: str, password: str = PASSWORD, **query):
    return client.post("/auth/login", query_string=query, data={"email": email, "password": password})


@pytest.fixture()
def member(app_ctx) -> str:
    """A finance user: signing in takes a password and a second step (see sign_in_fully)."""
    with app_ctx() as s:
        user = make_user(s, "finance", email="member@example.org")
        s.commit()
        return user.email


@pytest.fixture()
def sign_in_fully(client, app_ctx):
    """Password, then the second step (enrolment the first time); the last response (a redirect or the
    recovery codes page) is returned."""

    def run(email: str, password: str = PASSWORD, **data):
        response = client.post("/auth/login", query_string=data, data={"email": email, "password": password})
        assert response.status_code == 302 and response.headers["Location"] == "/auth/login"
        with app_ctx() as s:
            user_id = s.scalar(select(User.id).where(User.email == email.lower()))
        complete_two_factor(client, app_ctx, user_id)
        return response

    return run


def failed_logins(s) -> int:
    return s.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.tag == "auth:login:failed"))


# --- the login page and the language ----------------------------------------------------------------------------


@pytest.mark.parametrize("accept_language", [None, "zh", "zh-CN,zh;q=0.9,en;q=0.5"])
def test_login_page_renders_in_chinese_by_default(client, accept_language):
    del client.environ_base["HTTP_ACCEPT_LANGUAGE"]
    headers = {"Accept-Language": accept_language} if accept_language else {}
    response = client.get("/auth/login", headers=headers)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<html lang="zh-CN">' in page
    assert 'name="email"' in page and 'name="password"' in page and 'type="password"' in page
    assert 'href="/lang/en' in page  # the switch offers the other language


def test_login_page_in_english_when_asked(client):
    page = client.get("/auth/login").get_data(as_text=True)
    assert '<html lang="en">' in page and "Sign in" in page


def test_language_switch(client):
    del client.environ_base["HTTP_ACCEPT_LANGUAGE"]
    response = client.get("/lang/en", query_string={"next": "/auth/login"})
    assert response.status_code == 302 and response.headers["Location"] == "/auth/login"
    assert '<html lang="en">' in client.get("/auth/login").get_data(as_text=True)
    client.get("/lang/fr")  # unknown: ignored
    assert '<html lang="en">' in client.get("/auth/login").get_data(as_text=True)
    client.get("/lang/zh_CN")
    assert '<html lang="zh-CN">' in client.get("/auth/login").get_data(as_text=True)
    assert client.get("/lang/en", query_string={"next": "https://evil.example"}).headers["Location"] == "/"


# --- signing in and out -----------------------------------------------------------------------------------------


def test_login_success_signs_in(client, member, app_ctx, sign_in_fully):
    sign_in_fully("Member@Example.org")
    assert client.get("/funds/").status_code == 200
    assert client.get("/auth/login").status_code == 302  # already signed in
    with app_ctx() as s:
        assert s.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.tag == "auth:login:succeeded")) == 1


@pytest.mark.parametrize(
    "email, password", [("member@example.org", "wrong-password"), ("nobody@example.org", PASSWORD)]
)
def test_login_failure_stays_signed_out(client, member, app_ctx, email, password):
    response = sign_in(client, email, password)
    assert response.status_code == 200
    assert "Wrong email or password." in response.get_data(as_text=True)
    assert client.get("/funds/").status_code == 302
    with app_ctx() as s:
        assert failed_logins(s) == 1


def test_login_without_second_step_for_other_roles(client, app_ctx):
    with app_ctx() as s:
        make_user(s, "reviewer", email="plain@example.org")
        s.commit()
    response = sign_in(client, "plain@example.org")
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert client.get("/auth/account").status_code == 200


def test_logout_is_post_only(client, member, sign_in_fully):
    sign_in_fully(member)
    assert client.get("/auth/logout").status_code == 405
    assert client.get("/funds/").status_code == 200  # still signed in
    response = client.post("/auth/logout")
    assert response.status_code == 302 and response.headers["Location"] == "/auth/login"
    response = client.get("/funds/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/auth/login")


@pytest.mark.parametrize(
    "target", ["https://evil.example", "//evil.example", "https:evil.example", "/\\evil.example", "/\t/evil.example",
               "javascript:alert(1)"]
)
def test_next_refuses_other_sites(client, app_ctx, target):
    with app_ctx() as s:
        make_user(s, "donor", email="donor@example.org")
        s.commit()
    response = sign_in(client, "donor@example.org", next=target)
    location = response.headers["Location"]
    assert response.status_code == 302
    assert not urlsplit(location).netloc and not location.startswith("//") and "\\" not in location
    if target == "https://evil.example":
        assert location == "/"


def test_next_follows_a_local_path_through_the_second_step(client, member, app_ctx):
    anonymous = client.get("/funds/?q=abc")
    assert anonymous.status_code == 302
    login_url = anonymous.headers["Location"]
    assert login_url.startswith("/auth/login?next=")
    response = client.post(login_url, data={"email": member, "password": PASSWORD})
    assert response.headers["Location"] == "/auth/login"
    with app_ctx() as s:
        user_id = s.scalar(select(User.id).where(User.email == member))
    client.get("/auth/login")  # the enrolment page
    with app_ctx() as s:
        secret = s.get(TwoFactor, user_id).pending_secret
    page = client.post("/auth/login/enrol", data={"code": pyotp.TOTP(secret).now()}).get_data(as_text=True)
    assert 'href="/funds/?q=abc"' in page  # the recovery codes page continues to the page asked for


def test_session_cookie_flags_and_no_remember_token(client, member, sign_in_fully):
    client.post("/auth/login", data={"email": member, "password": PASSWORD, "remember": "y"})
    with client.session_transaction() as state:
        assert "_user_id" not in state and state["auth_pending"]["remember"] is True
    client.post("/auth/login/cancel")
    plain = client.post("/auth/login", data={"email": member, "password": PASSWORD})
    cookie = next(c for c in plain.headers.getlist("Set-Cookie") if c.startswith("session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Expires" not in cookie  # ends with the browser


def test_keep_me_signed_in_is_a_bounded_session_cookie(client, app_ctx):
    with app_ctx() as s:
        make_user(s, "donor", email="keep@example.org")
        s.commit()
    response = client.post("/auth/login", data={"email": "keep@example.org", "password": PASSWORD, "remember": "y"})
    cookies = {c.split("=", 1)[0]: c for c in response.headers.getlist("Set-Cookie")}
    assert "remember_token" not in cookies  # no token that outlives the idle and absolute limits
    assert "HttpOnly" in cookies["session"] and "SameSite=Lax" in cookies["session"] and "Expires" in cookies["session"]


# --- CSRF and the login rate limit: apps of their own on a fresh SQLite file -----------------------------------


@pytest.fixture(scope="module")
def security_db(fresh_database_url) -> str:
    """A migrated database holding one user, for the apps below (they commit for real)."""
    url = fresh_database_url("sqlite", "security")
    app = make_migrated_app(url)
    with app.app_context():
        make_user(db.session, "reviewer", email="guard@example.org")  # signs in with a password only
        db.session.commit()
        db.engine.dispose()
    return url


def _dispose(app) -> None:
    with app.app_context():
        db.engine.dispose()


def test_csrf_is_enforced_when_enabled(security_db):
    app = make_migrated_app(security_db, WTF_CSRF_ENABLED=True)
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    try:
        refused = client.post("/auth/login", data={"email": "guard@example.org", "password": PASSWORD})
        assert refused.status_code == 400 and "Form expired" in refused.get_data(as_text=True)
        assert client.post("/funds/new", data={"code": "X"}).status_code == 400
        page = client.get("/auth/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        wrong = client.post("/auth/login", data={"email": "guard@example.org", "password": "bad", "csrf_token": "x"})
        assert wrong.status_code == 400
        accepted = client.post("/auth/login", data={"email": "guard@example.org", "password": PASSWORD,
                                                    "csrf_token": token})
        assert accepted.status_code == 302
        signed_in = client.get("/auth/account").get_data(as_text=True)
        assert 'name="csrf_token"' in signed_in  # the sign-out form carries a token
        assert client.post("/auth/logout").status_code == 400
        assert client.get("/auth/account").status_code == 200  # the refused sign-out changed nothing
    finally:
        _dispose(app)


@pytest.fixture()
def rate_limited_app(security_db):
    """The limiter is one object for the process: re-disable it afterwards so other tests are not limited."""
    app = make_migrated_app(security_db, RATELIMIT_ENABLED=True)
    limiter.reset()
    try:
        yield app
    finally:
        limiter.reset()
        limiter.enabled = False
        _dispose(app)


def test_login_rate_limit(rate_limited_app):
    client = rate_limited_app.test_client()
    with rate_limited_app.app_context():
        before = failed_logins(db.session)
        db.session.remove()
    codes = [sign_in(client, "guard@example.org", f"wrong-{n}").status_code for n in range(11)]
    assert codes == [200] * 10 + [429]
    assert sign_in(client, "guard@example.org").status_code == 429  # even the right password waits
    assert client.get("/auth/login").status_code == 200  # only POSTs are counted
    with rate_limited_app.app_context():
        assert failed_logins(db.session) == before + 10  # refused attempts never reached the view
        db.session.remove()
