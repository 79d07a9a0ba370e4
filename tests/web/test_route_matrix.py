"""Every route's access, derived from the `access_rule` its decorator leaves on the view (never a hand-kept table).

1. Every endpoint but `static` carries an access rule: a new route without one fails here.
2. Every route is requested as an anonymous visitor and as a user of each role:
   anonymous -> 302 to the login page unless the rule is public; roles outside the rule -> 403;
   inside -> 200 or 302. GET routes are requested by everyone; POST-only routes only by those who must be
   refused (so nothing is changed). URL parameters come from a small dataset (one fund, one entry, one
   account, one user); a parameter of unknown meaning gets a guessed value, and then 404 is accepted too.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest
from werkzeug.routing import BuildError

from config import TestingConfig
from fundapp import create_app
from fundapp.auth.decorators import ANY_USER, PUBLIC
from fundapp.auth.models import ROLE_VALUES
from tests.factories import account, make_fund, make_user, post

LOGIN_PATH = "/auth/login"
ROLES = ROLE_VALUES  # every role the app knows: a new role is requested too
GUESSES = (1, "x")
# Object-level checks on a known parameter: the dataset's donor user has no donor record and no gift to the fund,
# so 404 is the right answer for a role inside the rule (the owner's 200 is tested with the route's own tests).
# The public fund routes take a fund code; the dataset's "code" ("en", for the language route) is no fund: 404.
OBJECT_CHECKED = frozenset({"portal.fund_statement", "disclosure.fund", "api.fund"})


@dataclass(frozen=True)
class Route:
    endpoint: str
    methods: frozenset[str]
    arguments: frozenset[str]
    access_rule: object


def _routes(app) -> list[Route]:
    routes = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: (r.rule, r.endpoint)):
        if rule.endpoint == "static":
            continue
        view = app.view_functions[rule.endpoint]
        methods = frozenset(rule.methods or ()) - {"HEAD", "OPTIONS"}
        routes.append(Route(rule.endpoint, methods, frozenset(rule.arguments), getattr(view, "access_rule", None)))
    return routes


def _valid_rule(rule: object) -> bool:
    if rule in (PUBLIC, ANY_USER):
        return True
    return isinstance(rule, frozenset) and bool(rule) and rule <= set(ROLE_VALUES)


def test_every_endpoint_declares_a_valid_access_rule():
    app = create_app(TestingConfig)
    routes = _routes(app)
    assert len(routes) > 10
    missing = [r.endpoint for r in routes if r.access_rule is None]
    assert not missing, f"views without roles_required / login_required_any / public: {missing}"
    invalid = [(r.endpoint, r.access_rule) for r in routes if not _valid_rule(r.access_rule)]
    assert not invalid, f"access rules naming unknown roles: {invalid}"


def expectation(rule: object, roles: frozenset[str] | None) -> str:
    if rule == PUBLIC:
        return "open"
    if roles is None:
        return "login"
    if rule == ANY_USER or rule & roles:
        return "open"
    return "forbidden"


def _url(adapter, route: Route, method: str, known: dict) -> tuple[str, bool] | None:
    """The route's URL and whether a parameter had to be guessed; None if no guess builds."""
    values = {name: known[name] for name in route.arguments if name in known}
    unknown = sorted(route.arguments - set(values))
    for guess in GUESSES if unknown else (None,):
        try:
            url = adapter.build(route.endpoint, values | {name: guess for name in unknown}, method=method)
            return url, bool(unknown)
        except (BuildError, ValueError, TypeError):
            continue
    return None


def _problem(response, wanted: str, guessed: bool, signed_in: bool) -> str | None:
    status, location = response.status_code, response.headers.get("Location", "")
    to_login = urlsplit(location).path == LOGIN_PATH
    if wanted == "login":
        ok = status == 302 and to_login
    elif wanted == "forbidden":
        ok = status == 403
    else:
        ok = status == 200 or (status == 302 and not (signed_in and to_login)) or (guessed and status == 404)
    return None if ok else f"expected {wanted}, got {status} {location}".strip()


@pytest.fixture()
def dataset(app_ctx) -> dict:
    with app_ctx() as s:
        fund = make_fund(s, "MATRIX")
        entry = post(s, fund, "100.00")
        user = make_user(s, "donor")
        s.commit()
        return {"fund_id": fund.id, "entry_id": entry.id, "account_id": account(s, "1002").id, "user_id": user.id,
                "code": "en"}


@pytest.mark.parametrize("role", [None, *ROLES], ids=["anonymous", *ROLES])
def test_route_matrix(app, client, login, dataset, role):
    roles = None if role is None else frozenset({role})
    if role is not None:
        login(role)
    adapter = app.url_map.bind("localhost")
    problems, checked = [], 0
    for route in _routes(app):
        if route.access_rule is None:
            problems.append(f"{route.endpoint}: no access rule")
            continue
        wanted = expectation(route.access_rule, roles)
        method = "GET" if "GET" in route.methods else "POST"
        if method == "POST" and wanted == "open":
            continue  # would change data; the refusals are what matters here
        built = _url(adapter, route, method, dataset)
        if built is None:
            problems.append(f"{route.endpoint}: cannot build a URL for {sorted(route.arguments)}")
            continue
        url, guessed = built
        try:
            response = client.open(url, method=method)
            response.get_data()  # consume streamed bodies (CSV exports) inside the test
            response.close()
        except Exception as error:  # noqa: BLE001 - report every route, not just the first failure
            problems.append(f"{method} {url} ({route.endpoint}): raised {type(error).__name__}: {error}")
            continue
        checked += 1
        problem = _problem(response, wanted, guessed or route.endpoint in OBJECT_CHECKED, signed_in=role is not None)
        if problem:
            problems.append(f"{method} {url} ({route.endpoint}, rule {route.access_rule}): {problem}")
    assert checked > 5
    assert not problems, "\n".join(problems)
