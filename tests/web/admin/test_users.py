"""Admin user management: list, create, edit, roles, passwords, and the refusals."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from fundapp.audit.models import AuditEvent
from fundapp.auth.models import User
from fundapp.auth.services import find_user_by_email
from tests.conftest import complete_two_factor
from tests.factories import PASSWORD, make_user

NEW_PASSWORD = "a-long-enough-password"


def user_count(s) -> int:
    return s.scalar(select(func.count()).select_from(User))


def test_admin_creates_a_user_who_can_sign_in(client, login, app_ctx):
    admin_id = login("admin")
    page = client.get("/admin/users/new").get_data(as_text=True)
    assert 'name="roles" value="finance"' in page and 'name="email"' in page
    response = client.post("/admin/users/new", data={"email": " Li.Ming@Example.org ", "name": "Li Ming",
                                                     "password": NEW_PASSWORD, "roles": ["finance", "board"]})
    assert response.status_code == 302 and response.headers["Location"].endswith("/admin/users")
    with app_ctx() as s:
        user = find_user_by_email(s, "li.ming@example.org")
        assert (user.email, user.name, user.roles, user.is_enabled) == (
            "li.ming@example.org", "Li Ming", {"finance", "board"}, True)
        event = s.scalar(select(AuditEvent).where(AuditEvent.tag == "auth:user:created",
                                                  AuditEvent.subject_id == str(user.id)))
        assert event.actor_id == admin_id and event.after["roles"] == ["board", "finance"]
    listing = client.get("/admin/users?q=li.ming").get_data(as_text=True)
    assert "li.ming@example.org" in listing and "Finance" in listing and "Board member" in listing
    client.post("/auth/logout")
    signed_in = client.post("/auth/login", data={"email": "li.ming@example.org", "password": NEW_PASSWORD})
    assert signed_in.status_code == 302 and signed_in.headers["Location"] == "/auth/login"  # finance: a 2nd step
    complete_two_factor(client, app_ctx, user.id)
    assert client.get("/funds/").status_code == 200
    assert client.get("/admin/users").status_code == 403


@pytest.mark.parametrize(
    "data, message",
    [
        ({"email": "not-an-email"}, "is not a valid email address."),
        ({"password": "short"}, "A password needs at least 12 characters."),
        ({"email": "taken@example.org"}, "A user with the email taken@example.org already exists."),
        ({"roles": ["wizard"]}, "not a valid choice"),
        ({"email": ""}, "This field is required."),
    ],
)
def test_bad_user_input_shows_an_error_and_writes_nothing(client, login, app_ctx, data, message):
    with app_ctx() as s:
        make_user(s, "donor", email="taken@example.org")
        s.commit()
    login("admin")
    with app_ctx() as s:
        before = user_count(s), s.scalar(select(func.count()).select_from(AuditEvent))
    body = {"email": "new@example.org", "name": "New", "password": NEW_PASSWORD, "roles": ["board"], **data}
    response = client.post("/admin/users/new", data=body)
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    with app_ctx() as s:
        assert (user_count(s), s.scalar(select(func.count()).select_from(AuditEvent))) == before


def test_edit_user_roles_name_enabled_and_password(client, login, app_ctx):
    with app_ctx() as s:
        user_id = make_user(s, "donor", email="edit.me@example.org").id
        s.commit()
    admin_id = login("admin")
    page = client.get(f"/admin/users/{user_id}/edit").get_data(as_text=True)
    assert 'value="donor" checked' in page and 'name="email"' not in page
    response = client.post(f"/admin/users/{user_id}/edit", data={
        "name": "Edited", "roles": ["reviewer", "applicant"], "enabled": "y", "password": NEW_PASSWORD})
    assert response.status_code == 302
    with app_ctx() as s:
        user = s.get(User, user_id)
        assert (user.name, user.roles, user.is_enabled) == ("Edited", {"reviewer", "applicant"}, True)
        event = s.scalar(select(AuditEvent).where(AuditEvent.tag == "auth:user:updated"))
        assert event.actor_id == admin_id and event.subject_id == str(user_id)
        assert event.before == {"email": "edit.me@example.org", "name": "edit.me", "enabled": True, "roles": ["donor"]}
        assert event.after == {"email": "edit.me@example.org", "name": "Edited", "enabled": True,
                               "roles": ["applicant", "reviewer"]}
        assert s.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.tag == "auth:user:password_changed", AuditEvent.subject_id == str(user_id))) == 1
    client.post("/auth/logout")
    assert client.post("/auth/login", data={"email": "edit.me@example.org", "password": PASSWORD}).status_code == 200
    signed_in = client.post("/auth/login", data={"email": "edit.me@example.org", "password": NEW_PASSWORD})
    assert signed_in.status_code == 302


def test_empty_password_keeps_the_old_one_and_disabled_user_cannot_sign_in(client, login, app_ctx):
    with app_ctx() as s:
        user = make_user(s, "board", email="off@example.org")
        s.commit()
        user_id, old_hash = user.id, user.password_hash
    login("admin")
    response = client.post(f"/admin/users/{user_id}/edit", data={"name": "Off", "roles": ["board"], "password": ""})
    assert response.status_code == 302
    with app_ctx() as s:
        user = s.get(User, user_id)
        assert user.password_hash == old_hash and user.is_enabled is False
    client.post("/auth/logout")
    assert client.post("/auth/login", data={"email": "off@example.org", "password": PASSWORD}).status_code == 200


def test_short_new_password_rolls_back_the_whole_edit(client, login, app_ctx):
    with app_ctx() as s:
        user_id = make_user(s, "donor", email="keep@example.org").id
        s.commit()
    login("admin")
    response = client.post(f"/admin/users/{user_id}/edit", data={
        "name": "Changed", "roles": ["board"], "enabled": "y", "password": "short"})
    assert response.status_code == 200
    assert "A password needs at least 12 characters." in response.get_data(as_text=True)
    with app_ctx() as s:
        user = s.get(User, user_id)
        assert (user.name, user.roles) == ("keep", {"donor"})
        assert s.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.tag == "auth:user:updated")) == 0


def test_admin_cannot_remove_own_admin_role(client, login, app_ctx):
    admin_id = login("admin", "finance")
    response = client.post(f"/admin/users/{admin_id}/edit", data={"name": "Me", "roles": ["finance"], "enabled": "y"})
    assert response.status_code == 200
    assert "You cannot remove your own admin role or disable yourself." in response.get_data(as_text=True)
    with app_ctx() as s:
        assert s.get(User, admin_id).roles == {"admin", "finance"}


@pytest.mark.parametrize("role", ["finance", "board", "donor"])
def test_non_admin_gets_403(client, login, app_ctx, role):
    with app_ctx() as s:
        other_id = make_user(s, "donor").id
        s.commit()
    login(role)
    assert client.get("/admin/users").status_code == 403
    assert client.get("/admin/users/new").status_code == 403
    assert client.post("/admin/users/new", data={"email": "x@example.org", "password": NEW_PASSWORD,
                                                 "roles": ["admin"]}).status_code == 403
    assert client.post(f"/admin/users/{other_id}/edit", data={"roles": ["admin"], "enabled": "y"}).status_code == 403
    with app_ctx() as s:
        assert find_user_by_email(s, "x@example.org") is None
        assert s.get(User, other_id).roles == {"donor"}


def test_user_list_search_and_pagination(client, login, app_ctx, app):
    with app_ctx() as s:
        for n in range(3):
            make_user(s, "donor", email=f"page{n}@example.org")
        s.commit()
    login("admin")
    size = app.config["PAGE_SIZE"]
    app.config["PAGE_SIZE"] = 2
    try:
        first = client.get("/admin/users?q=page").get_data(as_text=True)
        second = client.get("/admin/users?q=page&page=2").get_data(as_text=True)
    finally:
        app.config["PAGE_SIZE"] = size
    assert "page0@example.org" in first and "page1@example.org" in first and "page2@" not in first
    assert "page2@example.org" in second and "Page 2 of 2" in second
    assert "No users match these filters." in client.get("/admin/users?q=nobody-here").get_data(as_text=True)


def test_disabling_a_user_ends_their_open_session(app, client, login, app_ctx):
    with app_ctx() as s:
        user_id = make_user(s, "finance", email="soon.off@example.org").id
        s.commit()
    other = app.test_client()
    other.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    assert other.post("/auth/login", data={"email": "soon.off@example.org", "password": PASSWORD}).status_code == 302
    complete_two_factor(other, app_ctx, user_id)
    assert other.get("/funds/").status_code == 200
    login("admin")
    client.post(f"/admin/users/{user_id}/edit", data={"name": "Off", "roles": ["finance"]})
    response = other.get("/funds/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/auth/login")
