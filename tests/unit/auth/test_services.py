"""Users and passwords: argon2id hashing, authentication (audited), create/update validations."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from fundapp.audit.models import AuditEvent
from fundapp.auth.models import User
from fundapp.auth.services import (
    AuthError,
    authenticate,
    create_user,
    find_user_by_email,
    hash_password,
    record_sign_in,
    set_password,
    update_user,
)
from tests.factories import PASSWORD, make_user


def events(session, tag: str) -> list[AuditEvent]:
    return list(session.scalars(select(AuditEvent).where(AuditEvent.tag == tag).order_by(AuditEvent.id)))


def test_passwords_are_hashed_with_argon2id(session):
    user = make_user(session, "finance")
    assert user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash
    assert hash_password(PASSWORD) != hash_password(PASSWORD)  # salted


def test_production_hasher_is_argon2id_too():
    """Without the fast test setting (here: no app at all), the library-default (RFC 9106) parameters are used."""
    hashed = hash_password("x" * 12)
    assert hashed.startswith("$argon2id$") and "m=65536" in hashed


def test_authenticate_ok_then_record_sign_in_records_login_and_time(session):
    user = make_user(session, "board", email="ok@example.org")
    assert authenticate(session, " OK@example.org ", PASSWORD) is user
    assert user.last_login_at is None and events(session, "auth:login:succeeded") == []  # the 2nd step is to come
    record_sign_in(session, user, "totp")
    assert user.last_login_at is not None
    [event] = events(session, "auth:login:succeeded")
    assert (event.actor_id, event.subject_id) == (user.id, str(user.id))


@pytest.mark.parametrize(
    "email, password, enabled",
    [
        ("known@example.org", "wrong-password-123", True),
        ("unknown@example.org", PASSWORD, True),
        ("known@example.org", PASSWORD, False),
        ("known@example.org", "", True),
    ],
    ids=["wrong-password", "unknown-email", "disabled-user", "empty-password"],
)
def test_failed_authentication_returns_none_and_is_audited(session, email, password, enabled):
    user = make_user(session, "finance", email="known@example.org")
    user.is_enabled = enabled
    session.flush()
    assert authenticate(session, email, password) is None
    assert user.last_login_at is None
    [event] = events(session, "auth:login:failed")
    assert event.after == {"email": email} and event.actor_id is None
    assert event.subject_id == (str(user.id) if email == "known@example.org" else None)
    assert events(session, "auth:login:succeeded") == []


def test_each_failed_login_writes_its_own_row(session):
    make_user(session, "finance", email="many@example.org")
    for _attempt in range(3):
        authenticate(session, "many@example.org", "nope-nope-nope")
    assert len(events(session, "auth:login:failed")) == 3


def test_create_user_normalises_and_audits(session):
    actor = make_user(session, "admin")
    user = create_user(session, "  New.Person@Example.ORG ", PASSWORD, ["board", "finance", "board"],
                       name=" New Person ", actor=actor)
    assert (user.email, user.name, user.roles, user.is_enabled) == (
        "new.person@example.org", "New Person", {"board", "finance"}, True)
    [event] = [e for e in events(session, "auth:user:created") if e.subject_id == str(user.id)]
    assert event.actor_id == actor.id
    assert event.after == {"email": "new.person@example.org", "name": "New Person", "enabled": True,
                           "roles": ["board", "finance"]}


@pytest.mark.parametrize(
    "email, password, roles, message",
    [
        ("not an email", PASSWORD, ["donor"], "not a valid email address"),
        ("", PASSWORD, ["donor"], "not a valid email address"),
        ("short@example.org", "123456789", ["donor"], "at least 12 characters"),
        ("role@example.org", PASSWORD, ["donor", "superuser"], "Unknown role: superuser."),
        ("DUP@example.org", PASSWORD, ["donor"], "already exists"),
    ],
    ids=["bad-email", "empty-email", "short-password", "unknown-role", "duplicate-email"],
)
def test_create_user_validations_write_nothing(session, email, password, roles, message):
    make_user(session, "donor", email="dup@example.org")
    before = session.scalar(select(func.count()).select_from(User)), len(events(session, "auth:user:created"))
    with pytest.raises(AuthError, match=message):
        create_user(session, email, password, roles)
    after = session.scalar(select(func.count()).select_from(User)), len(events(session, "auth:user:created"))
    assert after == before


def test_update_user_records_before_and_after(session):
    actor = make_user(session, "admin")
    user = make_user(session, "donor", email="up@example.org")
    update_user(session, user, name="Updated", roles=["reviewer"], enabled=False, actor=actor)
    assert (user.name, user.roles, user.is_enabled, user.is_active) == ("Updated", {"reviewer"}, False, False)
    [event] = events(session, "auth:user:updated")
    assert event.before["roles"] == ["donor"] and event.after["roles"] == ["reviewer"]
    assert event.before["enabled"] is True and event.after["enabled"] is False


@pytest.mark.parametrize("roles, enabled", [(["finance"], True), (["admin"], False)])
def test_admin_cannot_remove_own_admin_role_or_disable_self(session, roles, enabled):
    admin = make_user(session, "admin", "finance")
    with pytest.raises(AuthError, match="your own admin role"):
        update_user(session, admin, name="me", roles=roles, enabled=enabled, actor=admin)
    assert "admin" in admin.roles and admin.is_enabled


def test_update_user_refuses_unknown_role(session):
    user = make_user(session, "donor")
    with pytest.raises(AuthError, match="Unknown role"):
        update_user(session, user, name="x", roles=["root"], enabled=True, actor=None)
    assert user.roles == {"donor"}


def test_set_password_checks_strength_and_audits(session):
    user = make_user(session, "donor", email="pw@example.org")
    old_hash = user.password_hash
    with pytest.raises(AuthError, match="at least 12 characters"):
        set_password(session, user, "short", user)
    assert user.password_hash == old_hash
    set_password(session, user, "another-long-password", user)
    assert user.password_hash.startswith("$argon2id$") and user.password_hash != old_hash
    assert authenticate(session, "pw@example.org", PASSWORD) is None
    assert authenticate(session, "pw@example.org", "another-long-password") is user
    assert len(events(session, "auth:user:password_changed")) == 1


def test_find_user_by_email_ignores_case(session):
    user = make_user(session, "donor", email="case@example.org")
    assert find_user_by_email(session, "CASE@EXAMPLE.ORG") is user
    assert find_user_by_email(session, "nobody@example.org") is None
