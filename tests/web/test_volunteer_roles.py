"""Role boundaries of the two time-bank roles across the whole app, derived from the URL map and the `access_rule`
each view carries (as in test_route_matrix, whose helpers this reuses).

test_route_matrix checks that every route enforces the rule it declares; this checks the rules themselves for
`volunteer` and `organiser`: no finance, admin, board or grants-staff page and no other portal (the donor's /my/,
the enterprise pages, the applicant's and reviewer's grants pages) lets them in, by rule and by request (403);
the volunteer portal is the volunteer's alone, the staff volunteer and points pages are never the volunteer's;
each reaches their own pages. Written against the rules, not the pages' content (those are still being built).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from config import TestingConfig
from fundapp import create_app
from fundapp.auth.decorators import ANY_USER, PUBLIC
from fundapp.volunteers import reports, service
from fundapp.volunteers.models import Certificate
from tests.volunteer_builders import make_activity, make_volunteer
from tests.web.test_route_matrix import LOGIN_PATH, _routes, _url

NEW_ROLES = frozenset({"volunteer", "organiser"})
# blueprints of staff (finance, admin, board, grants staff) and of the other portals (donor, enterprise, applicant,
# reviewer): nothing in them is for a volunteer or an organiser
CLOSED = ("admin", "compliance", "donations", "enterprises", "funds", "grants", "ledger", "portal", "reports")
# ... except what any signed-in user may read by design (the open calls for grant applications) and the compliance
# calendar feed, public but behind its secret token
OPEN_TO_ANY_USER = frozenset({"grants.index", "grants.programme_detail"})
PUBLIC_BY_TOKEN = frozenset({"compliance.feed"})
# the time bank's own blueprints, and who must never be let into each
PORTAL, STAFF_PAGES, POINTS, CERTIFICATES = "volunteer_portal", "volunteers", "points", "certificates"
NEVER = {"volunteer": (STAFF_PAGES, POINTS), "organiser": (PORTAL,)}
OWN_HOME = {"volunteer": f"{PORTAL}.index", "organiser": f"{STAFF_PAGES}.index"}


def blueprint(endpoint: str) -> str:
    return endpoint.split(".", 1)[0]


@pytest.fixture(scope="module")
def routes():
    return _routes(create_app(TestingConfig))


def forbidden_routes(routes, role: str) -> list:
    """Routes `role` must be refused on: the closed blueprints and the time-bank pages never theirs."""
    zones = set(CLOSED) | set(NEVER[role])
    exceptions = OPEN_TO_ANY_USER | PUBLIC_BY_TOKEN
    return [r for r in routes if blueprint(r.endpoint) in zones and r.endpoint not in exceptions]


# --- the rules ------------------------------------------------------------------------------------------------


def test_the_closed_blueprints_exist_and_none_of_their_rules_names_a_time_bank_role(routes):
    present = {blueprint(r.endpoint) for r in routes}
    assert set(CLOSED) | {PORTAL, STAFF_PAGES, POINTS, CERTIFICATES} <= present
    problems = []
    for route in routes:
        if blueprint(route.endpoint) not in CLOSED:
            continue
        rule = route.access_rule
        if rule == PUBLIC:
            if route.endpoint not in PUBLIC_BY_TOKEN:
                problems.append(f"{route.endpoint}: public")
        elif rule == ANY_USER:
            if route.endpoint not in OPEN_TO_ANY_USER:
                problems.append(f"{route.endpoint}: open to any signed-in user (so to volunteers and organisers)")
        elif not isinstance(rule, frozenset) or rule & NEW_ROLES:
            problems.append(f"{route.endpoint}: rule {rule}")
    assert not problems, "\n".join(problems)
    # the exceptions are still what they were (a rule tightened to staff must be taken off the list)
    assert {r.endpoint for r in routes if r.access_rule == ANY_USER} >= OPEN_TO_ANY_USER
    assert {r.endpoint for r in routes if r.access_rule == PUBLIC} >= PUBLIC_BY_TOKEN


def test_the_time_bank_rules_keep_each_role_to_its_own_pages(routes):
    problems = []
    for route in routes:
        zone, rule = blueprint(route.endpoint), route.access_rule
        if zone not in (PORTAL, STAFF_PAGES, POINTS, CERTIFICATES):
            continue
        if not isinstance(rule, frozenset):  # never public nor any-user: a time account is personal data
            problems.append(f"{route.endpoint}: rule {rule}")
        elif zone == PORTAL and rule != {"volunteer"}:
            problems.append(f"{route.endpoint}: the volunteer's own portal, but rule {sorted(rule)}")
        elif zone in (STAFF_PAGES, POINTS) and "volunteer" in rule:
            problems.append(f"{route.endpoint}: a staff page open to volunteers")
        elif zone in (STAFF_PAGES, POINTS) and rule & {"donor", "enterprise", "applicant", "reviewer"}:
            problems.append(f"{route.endpoint}: a staff page open to another portal's users: {sorted(rule)}")
    assert not problems, "\n".join(problems)
    home = {endpoint for endpoint in OWN_HOME.values()}
    rules = {r.endpoint: r.access_rule for r in routes}
    assert all(role in rules[OWN_HOME[role]] for role in NEVER) and home <= set(rules)
    # certificates: staff issue them, a volunteer for themself (the object check is the view's)
    assert {"admin", "organiser", "volunteer"} <= rules[f"{CERTIFICATES}.issue"]


# --- the requests ---------------------------------------------------------------------------------------------


def _request(client, adapter, route):
    method = "GET" if "GET" in route.methods else "POST"
    built = _url(adapter, route, method, {})
    assert built is not None, f"{route.endpoint}: cannot build a URL"
    response = client.open(built[0], method=method)
    response.get_data()
    response.close()
    return method, built[0], response


@pytest.mark.parametrize("role", sorted(NEW_ROLES))
def test_every_staff_page_and_other_portal_refuses_the_role(app, client, login, routes, role):
    login(role)
    adapter = app.url_map.bind("localhost")
    targets = forbidden_routes(routes, role)
    assert len(targets) > 150
    problems = []
    for route in targets:
        method, url, response = _request(client, adapter, route)
        if response.status_code != 403:
            problems.append(f"{method} {url} ({route.endpoint}): {response.status_code}, expected 403")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("role", sorted(NEW_ROLES))
def test_the_role_reaches_its_own_pages(app, client, login, app_ctx, routes, role):
    user_id = login(role)
    if role == "volunteer":
        with app_ctx() as s:
            make_volunteer(s, "测试志愿者", user_id=user_id)
            s.commit()
    home = client.get(app.url_map.bind("localhost").build(OWN_HOME[role]))
    assert home.status_code == 200, home.status_code
    # every page whose rule names the role, or any signed-in user, lets it in (a guessed id may be someone
    # else's or missing: 404; a page may send it on: 302, but never to the login page)
    adapter = app.url_map.bind("localhost")
    problems, opened = [], 0
    for route in routes:
        rule = route.access_rule
        if "GET" not in route.methods or route.endpoint in {"auth.logout", "main.set_language"}:
            continue
        if not (rule == ANY_USER or (isinstance(rule, frozenset) and role in rule)):
            continue
        method, url, response = _request(client, adapter, route)
        opened += 1
        status, location = response.status_code, response.headers.get("Location", "")
        if status in (403, 500) or (status == 302 and urlsplit(location).path == LOGIN_PATH):
            problems.append(f"{method} {url} ({route.endpoint}): {status} {location}".strip())
        elif status == 404 and not route.arguments and route.endpoint not in {f"{CERTIFICATES}.issue"}:
            problems.append(f"{method} {url} ({route.endpoint}): 404 on a page without parameters")
    assert opened >= 4 and not problems, "\n".join(problems)


def _other_volunteer_with_a_certificate(s) -> tuple[int, int]:
    """A volunteer with verified hours in 2026 and a certificate for them: (volunteer id, certificate id)."""
    other = make_volunteer(s, "别人甲乙")
    activity = make_activity(s)
    record = service.enter_hours(s, service.sign_up(s, other, activity.shifts[0]), Decimal("2.00"))
    service.verify(s, record)
    certificate = reports.issue_certificate(s, other, dt.date(2026, 1, 1), dt.date(2026, 12, 31))
    return other.id, certificate.id


def test_a_volunteer_cannot_reach_another_volunteers_certificates(app, client, login, app_ctx):
    """A volunteer issues and reads certificates for themself only: another's is refused (403 or 404), and
    nothing is issued for them."""
    user_id = login("volunteer")
    with app_ctx() as s:
        make_volunteer(s, "本人", user_id=user_id)
        other, certificate = _other_volunteer_with_a_certificate(s)
        s.commit()
    adapter = app.url_map.bind("localhost")
    refused = []
    response = client.get(adapter.build("certificates.issue", {"volunteer_id": other}))
    refused.append(("GET issue", response.status_code))
    response = client.post(adapter.build("certificates.issue"), data={
        "volunteer_id": other, "period_start": "2026-01-01", "period_end": "2026-12-31"})
    refused.append(("POST issue", response.status_code))
    readers = [r for r in app.url_map.iter_rules()
               if r.endpoint.startswith("certificates.") and "certificate_id" in r.arguments]
    assert readers  # the certificate's page and its PDF
    for rule in readers:
        response = client.get(adapter.build(rule.endpoint, {"certificate_id": certificate}))
        refused.append((rule.endpoint, response.status_code))
    assert all(status in (403, 404) for _what, status in refused), refused
    with app_ctx() as s:
        assert s.scalar(select(func.count()).select_from(Certificate).where(Certificate.volunteer_id == other)) == 1


def test_a_volunteer_user_without_a_volunteer_record_sees_no_ones_account(app, client, login, app_ctx):
    login("volunteer")
    with app_ctx() as s:
        _other_volunteer_with_a_certificate(s)
        s.commit()
    response = client.get(app.url_map.bind("localhost").build(OWN_HOME["volunteer"]))
    assert response.status_code in (200, 404)
    assert "别人甲乙" not in response.get_data(as_text=True)
