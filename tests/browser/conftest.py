"""Fixtures of the end-to-end browser tests: the real app served over HTTP from a background thread, a headless
Chromium driven by Playwright, and helpers to sign in (with the TOTP second step) and to take screenshots.

One server per database backend and one browser per test session. The app runs with CSRF protection ON (the
browser submits the real forms) and rate limiting off, on a migrated database of its own: the test thread writes
set-up rows through the services and commits them, the server thread serves the pages.

Chromium is Debian's (/usr/bin/chromium, never downloaded). Without it the tests are skipped, unless the
environment variable CI is set: in CI a missing browser fails the run.
"""

from __future__ import annotations

import itertools
import os
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from fundapp.extensions import db
from tests.conftest import make_migrated_app

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
IN_CI = os.environ.get("CI", "").lower() not in ("", "0", "false")
ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}
DESKTOP = {"viewport": {"width": 1280, "height": 900}}
TIMEOUT_MS = 30_000  # generous: a loaded CI machine renders a page in seconds


def browser_missing_reason() -> str | None:
    """Why the browser tests cannot run here, or None."""
    if not CHROMIUM.exists():
        return f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright Python package is not installed (requirements-dev.txt)"
    return None


def skip_without_browser() -> pytest.MarkDecorator:
    """The module mark: outside CI, skip when there is no browser; in CI run (and fail without one)."""
    reason = browser_missing_reason()
    return pytest.mark.skipif(reason is not None and not IN_CI, reason=f"browser tests skipped: {reason}")


@dataclass
class LiveApp:
    """The served app: `url` to browse, `app` for set-up with the services, `backend`, `shots` directory."""

    app: object
    url: str
    backend: str
    shots: Path

    @contextmanager
    def session(self) -> Iterator:
        """A database session in an app context and a request context (for gettext); commits at the end."""
        with self.app.test_request_context(headers={"Accept-Language": "en"}):
            try:
                yield db.session
                db.session.commit()
            finally:
                db.session.remove()


@pytest.fixture(scope="session")
def playwright_browser():
    reason = browser_missing_reason()
    if reason is not None:
        pytest.fail(f"CI is set but the browser tests cannot run: {reason}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield browser
        browser.close()


def _serve(backend: str, url: str) -> tuple[LiveApp, Callable[[], None]]:
    """Start the app on `url` in a background thread; returns it and the function that stops it."""
    app = make_migrated_app(url, WTF_CSRF_ENABLED=True, RATELIMIT_ENABLED=False)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name=f"live-{backend}", daemon=True)
    thread.start()
    shots = ARTIFACTS / "browser" / backend
    shutil.rmtree(shots, ignore_errors=True)
    shots.mkdir(parents=True, exist_ok=True)

    def stop() -> None:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        with app.app_context():
            db.engine.dispose()

    return LiveApp(app=app, url=f"http://127.0.0.1:{server.server_port}", backend=backend, shots=shots), stop


@pytest.fixture(scope="session")
def _live_apps(fresh_database_url):
    """One served app per backend for the whole session, started on first use (whatever order the tests of the
    two backends run in), stopped at the end."""
    started: dict[str, tuple[LiveApp, Callable[[], None]]] = {}

    def get(backend: str) -> LiveApp:
        if backend not in started:
            started[backend] = _serve(backend, fresh_database_url(backend, "browser"))
        return started[backend][0]

    yield get
    for _app, stop in started.values():
        stop()


@pytest.fixture()
def live_app(backend, _live_apps) -> LiveApp:
    return _live_apps(backend)


@pytest.fixture()
def new_page(playwright_browser, live_app):
    """`new_page(phone=False)`: a page in a fresh browser context (own cookies), English, on the live app."""
    contexts = []

    def make(phone: bool = False):
        context = playwright_browser.new_context(base_url=live_app.url, locale="en-GB",
                                                 extra_http_headers={"Accept-Language": "en"},
                                                 **(PHONE if phone else DESKTOP))
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.fixture()
def shot(live_app, request):
    """`shot(page, "name")` saves a screenshot of the viewport under tests/artifacts/browser/<backend>/; nothing
    reads them back (they are for people looking at a run)."""
    counter = itertools.count(1)
    test_name = request.node.originalname

    def save(page, name: str) -> None:
        page.screenshot(path=str(live_app.shots / f"{test_name}-{next(counter):02d}-{name}.png"),
                        animations="disabled")

    return save


# --- signing in ----------------------------------------------------------------------------------------------------


def totp_code(secret: str) -> str:
    """A code for the NEXT 30-second step: accepted within the app's one step of drift, and later than the step
    an enrolment made through the service just used (a code is never accepted twice for one step)."""
    import pyotp

    return pyotp.TOTP(secret.replace(" ", "")).at(time.time() + 30)


def sign_in(page, email: str, password: str, totp_secret: str | None = None) -> str | None:
    """Sign in through the login page; pass the two-factor step when the page asks for it: enrol (reading the
    secret the page shows) or enter a code of `totp_secret`. Returns the TOTP secret in use (None without one)."""
    import pyotp

    page.goto("/auth/login")
    page.fill("#email", email)
    page.fill("#password", password)
    with page.expect_navigation():
        page.locator("form:has(#password) button[type=submit]").click()
    secret = totp_secret
    if page.locator("#totp-secret").count():  # first sign-in of a role that needs a second step: enrol
        secret = page.inner_text("#totp-secret").replace(" ", "")
        page.fill("#code", pyotp.TOTP(secret).now())
        with page.expect_navigation():
            page.get_by_role("button", name="Confirm", exact=True).click()
        assert page.locator("ol.recovery-codes li").count() > 0, "enrolment did not show the recovery codes"
        with page.expect_navigation():
            page.get_by_role("link", name="I have stored them; continue").click()
    elif page.locator("form[action='/auth/login/code']").count():
        assert totp_secret, f"{email} must enter a TOTP code but no secret was given"
        page.fill("#code", totp_code(totp_secret))
        with page.expect_navigation():
            page.locator("form[action='/auth/login/code'] button[type=submit]").click()
    assert "/auth/login" not in page.url, f"sign-in of {email} failed: {page.inner_text('main')[:500]}"
    return secret


def enrol_with_service(live_app: LiveApp, email: str) -> str:
    """Set up an authenticator for the user through the two-factor services (no browser); returns the secret."""
    import pyotp
    from sqlalchemy import select

    from fundapp.auth.models import User
    from fundapp.auth.two_factor import confirm_enrolment, start_enrolment

    with live_app.session() as s:
        user = s.scalar(select(User).where(User.email == email))
        secret = start_enrolment(s, user).pending_secret
        confirm_enrolment(s, user, pyotp.TOTP(secret).now())
    return secret
