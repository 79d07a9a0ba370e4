"""Two-factor sign-in, lockout and session limits, through the web.

Time is frozen through `fundapp.auth.clock.now` (the `clock` fixture), so TOTP steps, lockout windows and session
ages are exact; codes are computed with pyotp for the frozen time.
"""

from __future__ import annotations

import datetime as dt
import re

import pyotp
import pytest
from argon2 import PasswordHasher
from sqlalchemy import func, select

from fundapp.audit.models import AuditEvent
from fundapp.auth import clock as auth_clock
from fundapp.auth.models import RecoveryCode, TwoFactor, User
from fundapp.auth.services import update_user
from tests.factories import PASSWORD, make_user

STAFF_ROLES = ["admin", "finance", "board"]
OTHER_ROLES = ["reviewer", "donor", "applicant", "enterprise"]
CODES = re.compile(r"<li><code>([a-z0-9]{5}-[a-z0-9]{5})</code></li>")


class FrozenClock:
    def __init__(self) -> None:
        self.now = dt.datetime.now(dt.UTC).replace(microsecond=0)

    def advance(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)

    def code(self, secret: str, steps_ahead: int = 0) -> str:
        return pyotp.TOTP(secret).at(self.now, counter_offset=steps_ahead)


@pytest.fixture()
def clock(monkeypatch) -> FrozenClock:
    frozen = FrozenClock()
    monkeypatch.setattr(auth_clock, "now", lambda: frozen.now)
    return frozen


def events(s, tag: str) -> list[AuditEvent]:
    return list(s.scalars(select(AuditEvent).where(AuditEvent.tag == tag).order_by(AuditEvent.id)))


def new_user(app_ctx, *roles: str, email: str) -> int:
    with app_ctx() as s:
        user = make_user(s, *roles, email=email)
        s.commit()
        return user.id


def password_step(client, email: str, password: str = PASSWORD):
    return client.post("/auth/login", data={"email": email, "password": password})


def credential(app_ctx, user_id: int) -> tuple[str | None, str | None]:
    with app_ctx() as s:
        row = s.get(TwoFactor, user_id)
        return (row.secret, row.pending_secret) if row else (None, None)


def enrol(client, app_ctx, clock: FrozenClock, email: str, user_id: int) -> tuple[str, list[str]]:
    """Sign in for the first time: password, enrolment; returns the secret and the recovery codes shown."""
    assert password_step(client, email).headers["Location"] == "/auth/login"
    page = client.get("/auth/login").get_data(as_text=True)
    _secret, pending = credential(app_ctx, user_id)
    assert "<svg" in page and pyotp.TOTP(pending).secret[:4] in page  # the QR code and the key as text
    response = client.post("/auth/login/enrol", data={"code": clock.code(pending)})
    assert response.status_code == 200
    return pending, CODES.findall(response.get_data(as_text=True))


def wrong_code(secret: str, clock: FrozenClock) -> str:
    accepted = {clock.code(secret, offset) for offset in (-1, 0, 1)}
    return next(f"{n:06d}" for n in range(1_000_000) if f"{n:06d}" not in accepted)


def signed_in(client) -> bool:
    return client.get("/auth/account").status_code == 200


@pytest.fixture()
def enrolled(client, app_ctx, clock) -> dict:
    """A finance user who set up an authenticator and signed out again."""
    user_id = new_user(app_ctx, "finance", email="staff@example.org")
    secret, codes = enrol(client, app_ctx, clock, "staff@example.org", user_id)
    client.post("/auth/logout")
    clock.advance(30)
    return {"id": user_id, "email": "staff@example.org", "secret": secret, "codes": codes}


# --- who needs a second step ------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", STAFF_ROLES)
def test_staff_roles_need_a_second_step(client, app_ctx, role):
    new_user(app_ctx, role, "reviewer", email=f"{role}@example.org")
    response = password_step(client, f"{role}@example.org")
    assert response.status_code == 302 and response.headers["Location"] == "/auth/login"
    assert not signed_in(client)
    page = client.get("/auth/login").get_data(as_text=True)
    assert "Set up two-factor sign-in" in page and 'id="totp-secret"' in page and 'name="password"' not in page
    assert "style=" not in page and "<script>" not in page  # the inline SVG obeys the CSP


@pytest.mark.parametrize("role", OTHER_ROLES)
def test_other_roles_sign_in_with_the_password(client, app_ctx, role):
    new_user(app_ctx, role, email=f"{role}@example.org")
    response = password_step(client, f"{role}@example.org")
    assert response.headers["Location"] == "/"
    assert signed_in(client)


def test_two_factor_roles_come_from_the_config(app, client, app_ctx, monkeypatch):
    monkeypatch.setitem(app.config, "TWO_FACTOR_ROLES", ("reviewer",))
    new_user(app_ctx, "reviewer", email="rev@example.org")
    new_user(app_ctx, "finance", email="fin@example.org")
    assert password_step(client, "rev@example.org").headers["Location"] == "/auth/login"
    client.post("/auth/login/cancel")
    assert password_step(client, "fin@example.org").headers["Location"] == "/"


# --- enrolment and codes ----------------------------------------------------------------------------------------


def test_nothing_is_reachable_between_the_password_and_the_code(client, app_ctx, clock, enrolled):
    password_step(client, enrolled["email"])
    for path in ("/funds/", "/admin/audit", "/auth/account", "/auth/password"):
        response = client.get(path)
        assert response.status_code == 302 and response.headers["Location"].startswith("/auth/login"), path
    assert client.post("/auth/logout").status_code == 302  # not signed in: sent to the login page
    page = client.get("/auth/login").get_data(as_text=True)
    assert "Two-factor sign-in" in page  # still waiting for the code
    client.post("/auth/login/code", data={"code": clock.code(enrolled["secret"])})
    assert client.get("/funds/").status_code == 200


def test_enrolment_refuses_a_wrong_code_then_shows_ten_recovery_codes_once(client, app_ctx, clock):
    user_id = new_user(app_ctx, "board", email="new.board@example.org")
    password_step(client, "new.board@example.org")
    client.get("/auth/login")
    _secret, pending = credential(app_ctx, user_id)
    refused = client.post("/auth/login/enrol", data={"code": wrong_code(pending, clock)})
    assert refused.status_code == 200 and "That code is not right" in refused.get_data(as_text=True)
    assert not signed_in(client)
    page = client.post("/auth/login/enrol", data={"code": clock.code(pending)}).get_data(as_text=True)
    codes = CODES.findall(page)
    assert len(codes) == 10 and len(set(codes)) == 10
    assert signed_in(client)
    with app_ctx() as s:
        row = s.get(TwoFactor, user_id)
        assert row.secret == pending and row.pending_secret is None and row.last_step is not None
        hashes = s.scalars(select(RecoveryCode.code_hash).where(RecoveryCode.user_id == user_id)).all()
        assert len(hashes) == 10 and all(h.startswith("$argon2id$") for h in hashes)
        assert not any(code.replace("-", "") in h for code in codes for h in hashes)
        assert [e.subject_id for e in events(s, "auth:two_factor:enrolled")] == [str(user_id)]
        assert events(s, "auth:two_factor:failed") and events(s, "auth:login:failed")[-1].after["step"] == "two_factor"
        [success] = events(s, "auth:login:succeeded")
        assert success.after == {"second_factor": "totp"}
    assert 'class="recovery-codes"' not in client.get("/auth/account").get_data(as_text=True)  # shown only once


def test_a_code_signs_in_once_and_cannot_be_replayed(client, app_ctx, clock, enrolled):
    code = clock.code(enrolled["secret"])
    password_step(client, enrolled["email"])
    refused = client.post("/auth/login/code", data={"code": wrong_code(enrolled["secret"], clock)})
    assert refused.status_code == 200 and "not right" in refused.get_data(as_text=True) and not signed_in(client)
    assert client.post("/auth/login/code", data={"code": code}).headers["Location"] == "/"
    assert signed_in(client)
    client.post("/auth/logout")
    password_step(client, enrolled["email"])
    replay = client.post("/auth/login/code", data={"code": code})
    assert replay.status_code == 200 and not signed_in(client)
    clock.advance(30)  # the next step's code is new
    assert client.post("/auth/login/code", data={"code": clock.code(enrolled["secret"])}).status_code == 302
    assert signed_in(client)


def test_a_code_of_the_previous_step_is_accepted_but_not_older(client, clock, enrolled):
    clock.advance(120)
    password_step(client, enrolled["email"])
    old = clock.code(enrolled["secret"], steps_ahead=-2)
    assert client.post("/auth/login/code", data={"code": old}).status_code == 200
    late = clock.code(enrolled["secret"], steps_ahead=-1)
    assert client.post("/auth/login/code", data={"code": late}).status_code == 302


def test_a_recovery_code_works_once(client, app_ctx, clock, enrolled):
    first = enrolled["codes"][0]
    password_step(client, enrolled["email"])
    response = client.post("/auth/login/code", data={"code": first.upper().replace("-", " ")})
    assert response.status_code == 302
    assert "9 are left" in client.get("/").get_data(as_text=True)  # the flash shows on the next page
    assert signed_in(client)
    client.post("/auth/logout")
    password_step(client, enrolled["email"])
    again = client.post("/auth/login/code", data={"code": first})
    assert again.status_code == 200 and not signed_in(client)
    with app_ctx() as s:
        [used] = events(s, "auth:two_factor:recovery_code_used")
        assert used.subject_id == str(enrolled["id"]) and used.after == {"left": 9}
        assert events(s, "auth:login:succeeded")[-1].after == {"second_factor": "recovery"}
        assert s.scalar(select(func.count()).select_from(RecoveryCode).where(
            RecoveryCode.user_id == enrolled["id"], RecoveryCode.used_at.is_not(None))) == 1


def test_pending_step_expires(client, clock, enrolled):
    password_step(client, enrolled["email"])
    clock.advance(301)
    response = client.post("/auth/login/code", data={"code": clock.code(enrolled["secret"])})
    assert response.headers["Location"] == "/auth/login" and not signed_in(client)
    assert 'name="password"' in client.get("/auth/login").get_data(as_text=True)


def test_session_is_renewed_at_sign_in(client, clock, enrolled):
    with client.session_transaction() as state:
        state["planted"] = "by someone else"
    password_step(client, enrolled["email"])
    with client.session_transaction() as state:
        assert "planted" not in state and "_user_id" not in state
    client.post("/auth/login/code", data={"code": clock.code(enrolled["secret"])})
    with client.session_transaction() as state:
        assert "auth_pending" not in state and state["_user_id"] == str(enrolled["id"]) and state["auth_mfa"]


# --- the account page and the administrator ---------------------------------------------------------------------


def test_regenerate_recovery_codes_needs_the_current_code(client, app_ctx, clock, enrolled):
    password_step(client, enrolled["email"])
    client.post("/auth/login/code", data={"code": clock.code(enrolled["secret"])})
    page = client.get("/auth/account").get_data(as_text=True)
    assert "10 unused recovery codes left" in page
    refused = client.post("/auth/account/recovery-codes", data={"code": wrong_code(enrolled["secret"], clock)})
    assert refused.status_code == 200 and not CODES.findall(refused.get_data(as_text=True))
    clock.advance(30)
    fresh = CODES.findall(client.post("/auth/account/recovery-codes",
                                      data={"code": clock.code(enrolled["secret"])}).get_data(as_text=True))
    assert len(fresh) == 10 and not set(fresh) & set(enrolled["codes"])
    client.post("/auth/logout")
    password_step(client, enrolled["email"])
    assert client.post("/auth/login/code", data={"code": enrolled["codes"][1]}).status_code == 200  # old: void
    assert client.post("/auth/login/code", data={"code": fresh[0]}).status_code == 302
    with app_ctx() as s:
        assert len(events(s, "auth:two_factor:recovery_codes_regenerated")) == 1


def test_move_to_a_new_phone(client, app_ctx, clock, enrolled):
    password_step(client, enrolled["email"])
    client.post("/auth/login/code", data={"code": clock.code(enrolled["secret"])})
    clock.advance(30)
    assert client.post("/auth/account/two-factor", data={"code": "000000x"}).status_code == 200
    assert client.post("/auth/account/two-factor", data={"code": clock.code(enrolled["secret"])}).status_code == 302
    page = client.get("/auth/account").get_data(as_text=True)
    assert "<svg" in page and 'id="totp-secret"' in page
    _secret, pending = credential(app_ctx, enrolled["id"])
    assert pending and pending != enrolled["secret"]
    assert client.post("/auth/account/two-factor/confirm", data={"code": clock.code(pending)}).status_code == 200
    assert credential(app_ctx, enrolled["id"]) == (pending, None)
    with app_ctx() as s:
        assert events(s, "auth:two_factor:enrolled")[-1].after == {"replaced": True}


def test_other_roles_may_turn_it_on(client, app_ctx, clock):
    user_id = new_user(app_ctx, "donor", email="keen@example.org")
    password_step(client, "keen@example.org")
    assert "Turn on two-factor sign-in" in client.get("/auth/account").get_data(as_text=True)
    assert client.post("/auth/account/two-factor").status_code == 302
    _secret, pending = credential(app_ctx, user_id)
    client.post("/auth/account/two-factor/confirm", data={"code": clock.code(pending)})
    client.post("/auth/logout")
    clock.advance(30)
    assert password_step(client, "keen@example.org").headers["Location"] == "/auth/login"  # now asked for a code


def test_admin_resets_two_factor_audited(client, login, app_ctx, clock, enrolled):
    admin_id = login("admin")
    page = client.get(f"/admin/users/{enrolled['id']}/edit").get_data(as_text=True)
    assert "Reset two-factor sign-in" in page
    response = client.post(f"/admin/users/{enrolled['id']}/two-factor/reset")
    assert response.status_code == 302
    with app_ctx() as s:
        assert s.get(TwoFactor, enrolled["id"]) is None
        assert s.scalar(select(func.count()).select_from(RecoveryCode).where(
            RecoveryCode.user_id == enrolled["id"])) == 0
        [event] = events(s, "auth:two_factor:reset")
        assert (event.actor_id, event.subject_id, event.before) == (admin_id, str(enrolled["id"]), {"enrolled": True})
    client.post("/auth/logout")
    password_step(client, enrolled["email"])
    assert "Set up two-factor sign-in" in client.get("/auth/login").get_data(as_text=True)


def test_only_an_admin_resets_two_factor(client, login, enrolled):
    login("finance")
    assert client.post(f"/admin/users/{enrolled['id']}/two-factor/reset").status_code == 403


def test_a_role_granted_mid_session_asks_for_the_second_step(client, app_ctx, login):
    user_id = login("donor")
    assert signed_in(client)
    with app_ctx() as s:
        update_user(s, s.get(User, user_id), name="x", roles=["donor", "finance"], enabled=True, actor=None)
        s.commit()
    response = client.get("/funds/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/auth/login")
    assert "Please sign in again." in client.get("/auth/login").get_data(as_text=True)


# --- lockout ----------------------------------------------------------------------------------------------------


@pytest.fixture()
def lockout_of_three(app, monkeypatch):
    monkeypatch.setitem(app.config, "LOCKOUT_THRESHOLD", 3)


def _message(response) -> str:
    found = re.search(r'<div class="error">([^<]+)</div>', response.get_data(as_text=True))
    return found.group(1) if found else ""


def test_lockout_after_failures_with_the_same_messages_for_unknown_emails(client, app_ctx, clock, lockout_of_three):
    new_user(app_ctx, "donor", email="known@example.org")
    messages = {}
    for email in ("known@example.org", "nobody@example.org"):
        seen = [_message(password_step(client, email, "wrong-password-1")) for _n in range(3)]
        seen.append(_message(password_step(client, email, PASSWORD)))  # even the right password now waits
        messages[email] = seen
    assert messages["known@example.org"] == messages["nobody@example.org"]
    assert messages["known@example.org"][:2] == ["Wrong email or password."] * 2
    assert all("Too many failed sign-ins" in message for message in messages["known@example.org"][2:])
    assert not signed_in(client)
    with app_ctx() as s:
        locked = events(s, "auth:login:locked")
        assert [e.after["email"] for e in locked] == ["known@example.org", "nobody@example.org"]
    clock.advance(15 * 60 + 1)
    assert password_step(client, "known@example.org").headers["Location"] == "/"


def test_failures_outside_the_window_do_not_add_up(client, app_ctx, clock, lockout_of_three):
    new_user(app_ctx, "donor", email="slow@example.org")
    for _n in range(2):
        password_step(client, "slow@example.org", "wrong-password-1")
    clock.advance(15 * 60 + 1)
    for _n in range(2):
        password_step(client, "slow@example.org", "wrong-password-1")
    assert password_step(client, "slow@example.org").headers["Location"] == "/"


def test_wrong_codes_count_toward_the_lockout(client, app_ctx, clock, enrolled, lockout_of_three):
    password_step(client, enrolled["email"])
    bad = wrong_code(enrolled["secret"], clock)
    assert client.post("/auth/login/code", data={"code": bad}).status_code == 200
    assert client.post("/auth/login/code", data={"code": bad}).status_code == 200
    third = client.post("/auth/login/code", data={"code": bad})
    assert third.headers["Location"] == "/auth/login"  # locked: back to the start
    assert "Too many failed sign-ins" in client.get("/auth/login").get_data(as_text=True)
    assert "Too many failed sign-ins" in _message(password_step(client, enrolled["email"]))
    with app_ctx() as s:
        assert len(events(s, "auth:login:locked")) == 1


def test_unknown_and_locked_emails_take_the_hashing_path(client, app_ctx, monkeypatch, lockout_of_three):
    """Same work whatever the case: one argon2 verification per attempt (the timing does not tell)."""
    from fundapp.auth import services

    calls = []

    class CountingHasher(PasswordHasher):
        def verify(self, *args):
            calls.append(1)
            return super().verify(*args)

    monkeypatch.setattr(services, "_fast", CountingHasher(time_cost=1, memory_cost=1024, parallelism=1))
    new_user(app_ctx, "donor", email="timing@example.org")
    counts = {}
    for _n in range(3):
        password_step(client, "locked@example.org", "wrong-password-1")
    for case, email, password in [("wrong password", "timing@example.org", "wrong-password-1"),
                                  ("unknown email", "ghost@example.org", "wrong-password-1"),
                                  ("locked", "locked@example.org", "wrong-password-1"),
                                  ("right password", "timing@example.org", PASSWORD)]:
        calls.clear()
        password_step(client, email, password)
        counts[case] = len(calls)
    assert set(counts.values()) == {1}, counts


# --- session limits ---------------------------------------------------------------------------------------------


def test_idle_session_expires(client, app_ctx, clock, login):
    login("finance")
    assert client.get("/funds/").status_code == 200
    clock.advance(29 * 60)
    assert client.get("/funds/").status_code == 200  # activity keeps it alive
    clock.advance(29 * 60)
    assert client.get("/funds/").status_code == 200
    clock.advance(30 * 60 + 1)
    response = client.get("/funds/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/auth/login")
    assert "after a while without activity" in client.get("/auth/login").get_data(as_text=True)
    assert not signed_in(client)


def test_session_ends_after_its_absolute_lifetime(client, clock, login):
    login("reviewer")
    for _n in range(35):  # active every 20 minutes: 11 h 40 min
        clock.advance(20 * 60)
        assert signed_in(client)
    clock.advance(21 * 60)  # 12 h 1 min after signing in
    assert not signed_in(client)
    assert "time limit" in client.get("/auth/login").get_data(as_text=True)


def test_a_session_without_sign_in_marks_is_ended(client, app_ctx):
    user_id = new_user(app_ctx, "donor", email="forged@example.org")
    with client.session_transaction() as state:
        state["_user_id"], state["_fresh"] = str(user_id), True  # signed in some other way
    assert not signed_in(client)


def test_login_fixture_completes_the_second_step(client, login, app_ctx):
    user_id = login("admin", "finance", "board")
    assert client.get("/admin/users").status_code == 200
    with app_ctx() as s:
        assert s.get(TwoFactor, user_id).enrolled


# --- a change of credentials ends the user's other sessions -----------------------------------------------------

NEW_PASSWORD = "another-long-passphrase-2026"


def second_browser(app):
    other = app.test_client()
    other.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return other


def test_a_password_change_signs_out_the_other_browsers_but_not_this_one(app, client, app_ctx, clock, enrolled):
    other = second_browser(app)
    for browser in (client, other):
        assert password_step(browser, enrolled["email"]).headers["Location"] == "/auth/login"
        assert browser.post("/auth/login/code", data={"code": clock.code(enrolled["secret"])}).status_code == 302
        clock.advance(30)  # a code is accepted once: the next browser waits for the next step
    assert signed_in(client) and signed_in(other)
    response = client.post("/auth/password", data={"current": PASSWORD, "password": NEW_PASSWORD,
                                                   "confirm": NEW_PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    assert signed_in(client)  # the browser that changed it stays signed in
    assert not signed_in(other)
    assert "was changed. Please sign in again" in other.get("/auth/login").get_data(as_text=True)


def test_an_admin_reset_of_two_factor_signs_the_user_out(app, client, login, app_ctx, clock, enrolled):
    user_browser = second_browser(app)
    password_step(user_browser, enrolled["email"])
    assert user_browser.post("/auth/login/code", data={"code": clock.code(enrolled["secret"])}).status_code == 302
    assert signed_in(user_browser)
    login("admin")
    assert client.post(f"/admin/users/{enrolled['id']}/two-factor/reset").status_code == 302
    assert not signed_in(user_browser)


def test_a_session_keeps_going_while_the_credentials_stay_the_same(client, clock, enrolled):
    password_step(client, enrolled["email"])
    client.post("/auth/login/code", data={"code": clock.code(enrolled["secret"])})
    for _n in range(5):
        clock.advance(10 * 60)
        assert signed_in(client)
