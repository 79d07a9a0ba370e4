"""The grants menu in base.html: entries by role, each shown only once its page exists."""

from __future__ import annotations

import re

import pytest

GRANTS_MENU = {  # label -> endpoint
    "Programmes": "grants.index",
    "My applications": "grants.index",
    "Applications": "grants.applications",
    "My reviews": "grants.my_reviews",
    "Board": "grants.agendas",
    "Awards": "grants.awards",
}
EXPECTED = {
    "finance": {"Programmes", "Applications", "Board", "Awards"},
    "admin": {"Programmes", "Applications", "Board", "Awards"},
    "board": {"Programmes", "Applications", "Board", "Awards"},
    "reviewer": {"Programmes", "My reviews"},
    "applicant": {"My applications", "Awards"},
    "donor": {"Programmes"},
    "enterprise": {"Programmes"},
}


def nav_labels(html: str) -> set[str]:
    menu = html.split('<nav id="mainnav"', 1)[1].split("</nav>", 1)[0]
    return {label for label in re.findall(r"<a [^>]*>([^<]+)</a>", menu) if label in GRANTS_MENU}


@pytest.fixture()
def every_page_exists(app, monkeypatch):
    """As if every grants page were built: has_endpoint says yes, url_for makes /fake/<endpoint> for the missing."""
    real_url_for = app.jinja_env.globals["url_for"]

    def url_for(endpoint, **values):
        if endpoint in app.view_functions:
            return real_url_for(endpoint, **values)
        return f"/fake/{endpoint}"

    monkeypatch.setitem(app.jinja_env.globals, "has_endpoint", lambda name: True)
    monkeypatch.setitem(app.jinja_env.globals, "url_for", url_for)


@pytest.mark.parametrize("role", sorted(EXPECTED))
def test_each_role_gets_its_grants_entries(client, login, every_page_exists, role):
    login(role)
    assert nav_labels(client.get("/inbox/").get_data(as_text=True)) == EXPECTED[role]


def test_an_applicant_who_also_reviews_sees_programmes_and_reviews(client, login, every_page_exists):
    login("applicant", "reviewer")
    assert nav_labels(client.get("/inbox/").get_data(as_text=True)) == {"Programmes", "My reviews", "Awards"}


@pytest.mark.parametrize("role", sorted(EXPECTED))
def test_pages_render_whatever_grants_pages_exist_yet(app, client, login, role):
    """With the real app: entries whose view is registered appear (with their real URL), the others do not."""
    login(role)
    response = client.get("/inbox/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    wanted = {label for label in EXPECTED[role] if GRANTS_MENU[label] in app.view_functions}
    assert nav_labels(html) == wanted
    with app.test_request_context():
        from flask import url_for

        for label in wanted:
            assert f'href="{url_for(GRANTS_MENU[label])}"' in html


def test_the_current_area_is_marked_active(client, login):
    login("finance")
    html = client.get("/inbox/").get_data(as_text=True)
    assert re.search(r'<a href="/inbox/" class="active"', html)
    assert 'class="active">Programmes' not in html
