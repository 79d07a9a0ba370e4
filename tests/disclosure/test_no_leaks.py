"""Nothing private leaks on any public page or API route: one crawl over the whole public surface.

Per backend: the demo is loaded into a fresh database and private sentinels are added through the services: an
anonymous donor (name, phone, email, ID number, address), a named donor's contact details and notes, a bank
reference, a hidden fund (name, purpose, a gift's purpose), draft, submitted and rejected applications, an
organisation's contact and bank details, a staff member's name. Then an anonymous visitor requests every public
GET route of the URL map (routes with arguments once per fund code, award, enterprise and year in the database),
follows every same-site link on the public pages and every link in the API's JSON, in Chinese and in English.

No response may be a server error, no body (HTML, CSV, JSON) may contain a sentinel, and the hidden fund's own
pages answer 404. A new public route is crawled without touching this file; a route argument this file does not
know fails the test, so its values must be added to `_argument_values`.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import deque
from decimal import Decimal
from html import unescape
from urllib.parse import urljoin, urlsplit

import pytest
from sqlalchemy import select

from fundapp.auth.decorators import PUBLIC
from fundapp.dates import local_today
from fundapp.donations.donors import create_donor
from fundapp.donations.services import DonationInput, record_donation
from fundapp.enterprises.models import Enterprise
from fundapp.extensions import db
from fundapp.grants.models import ApplicationStatus, Award
from fundapp.ledger.models import Fund, JournalEntry
from fundapp.volunteers.reports import issue_certificate
from fundapp.volunteers.service import enter_hours, sign_up, verify
from tests.conftest import make_migrated_app
from tests.factories import make_fund, make_user
from tests.grants_builders import make_application, make_award, make_organisation, make_programme
from tests.volunteer_builders import make_activity, make_volunteer

ANON_NAME = "隐名捐赠人SENTINELANON"
SECRETS = {
    "anonymous donor's name": ANON_NAME,
    "anonymous donor's phone": "13912345678",
    "anonymous donor's email": "anon.sentinel@example.org",
    "anonymous donor's ID number": "11010519491231002X",
    "anonymous donor's address": "SENTINEL秘密路1号",
    "named donor's phone": "13987654321",
    "named donor's email": "named.sentinel@example.org",
    "named donor's address": "SENTINEL幸福路9号",
    "named donor's notes": "SENTINELNOTE",
    "bank reference": "SENTINELBANKREF",
    "hidden fund's name": "SENTINEL隐藏基金",
    "hidden fund's purpose": "SENTINELHIDDENPURPOSE",
    "purpose of a gift to a hidden fund": "SENTINELGIFTHIDDEN",
    "draft application": "SENTINELDRAFTTITLE",
    "submitted application": "SENTINELSUBMITTEDTITLE",
    "rejected application": "SENTINELREJECTEDTITLE",
    "organisation's contact email": "org.sentinel@example.org",
    "organisation's bank account": "6222000SENTINEL",
    "staff member's name": "SENTINELSTAFFNAME",
    "non-consenting volunteer's name": "SENTINEL不公开志愿者",
    "non-consenting volunteer's phone": "13811112222",
    "non-consenting volunteer's email": "volunteer.sentinel@example.org",
}
HIDDEN_CODE = "ZHIDDEN"
MAX_REQUESTS = 900
SKIPPED_PREFIXES = ("/static/", "/auth/", "/lang/")


def _add_sentinels(s) -> None:
    staff = make_user(s, "finance")
    staff.name = SECRETS["staff member's name"]
    public_fund = s.scalars(select(Fund).where(Fund.is_public.is_(True)).order_by(Fund.id)).first()
    hidden = make_fund(s, HIDDEN_CODE, name=SECRETS["hidden fund's name"], is_public=False,
                       purpose=SECRETS["hidden fund's purpose"])
    anonymous = create_donor(s, {"kind": "person", "name": ANON_NAME, "anonymous_in_public": True,
                                 "phone": SECRETS["anonymous donor's phone"],
                                 "email": SECRETS["anonymous donor's email"],
                                 "id_code": SECRETS["anonymous donor's ID number"],
                                 "address": SECRETS["anonymous donor's address"]}, staff)
    named = create_donor(s, {"kind": "person", "name": "公开捐赠人", "phone": SECRETS["named donor's phone"],
                             "email": SECRETS["named donor's email"], "address": SECRETS["named donor's address"],
                             "notes": SECRETS["named donor's notes"]}, staff)
    day = local_today() - dt.timedelta(days=3)
    for donor, fund, purpose in ((anonymous, public_fund, "社区助老"), (named, public_fund, "社区助老"),
                                 (named, hidden, SECRETS["purpose of a gift to a hidden fund"])):
        record_donation(s, DonationInput(fund=fund, received_on=day, amount=Decimal("888.00"),
                                         method="bank_transfer", donor=donor, purpose=purpose,
                                         reference=SECRETS["bank reference"]), staff, issue=True)
    programme = make_programme(s, public_fund)
    for n, (title, status) in enumerate((("draft application", ApplicationStatus.draft.value),
                          ("submitted application", ApplicationStatus.submitted.value),
                          ("rejected application", ApplicationStatus.rejected.value)), start=1):
        make_application(s, programme, title=SECRETS[title], status=status, reference=f"LEAK-{n}")
    organisation = make_organisation(s, name="公开社会组织")
    organisation.contact_email = SECRETS["organisation's contact email"]
    organisation.bank_account_no = SECRETS["organisation's bank account"]
    award = make_award(s, "3000.00", fund=public_fund, organisation=organisation, actor=staff)
    _add_volunteer_sentinels(s, award)


def _add_volunteer_sentinels(s, award) -> None:
    """A volunteer who did not consent to be named, with verified hours in a project and a certificate."""
    volunteer = make_volunteer(s, SECRETS["non-consenting volunteer's name"], consent_public=False,
                               phone=SECRETS["non-consenting volunteer's phone"],
                               email=SECRETS["non-consenting volunteer's email"])
    start = dt.datetime.combine(local_today() - dt.timedelta(days=5), dt.time(9), dt.UTC)
    activity = make_activity(s, title="防泄漏测试活动", community="测试社区", award_id=award.id, people_served=3,
                             start=start)
    verify(s, enter_hours(s, sign_up(s, volunteer, activity.shifts[0]), Decimal("2.5")))
    issue_certificate(s, volunteer, start.date(), start.date())


@pytest.fixture()
def leak_app(backend, fresh_database_url, tmp_path):
    app = make_migrated_app(fresh_database_url(backend, "leaks"), GRANT_UPLOAD_DIR=str(tmp_path / "grants"),
                            ANNUAL_REPORT_DIR=str(tmp_path / "annual"))
    result = app.test_cli_runner().invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        _add_sentinels(db.session)
        db.session.commit()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _argument_values(s) -> dict[str, list]:
    years = sorted({day.year for day in s.scalars(select(JournalEntry.effective_date).distinct())})
    return {
        "code": list(s.scalars(select(Fund.code).order_by(Fund.code))),
        "award_id": list(s.scalars(select(Award.id).order_by(Award.id))),
        "enterprise_id": list(s.scalars(select(Enterprise.id).order_by(Enterprise.id))),
        "year": years + [1999],
    }


def _is_public_surface(path: str) -> bool:
    return path.startswith(("/public", "/api/v1")) and not path.startswith(SKIPPED_PREFIXES)


def _seed_urls(app) -> list[str]:
    urls = []
    with app.app_context():
        values = _argument_values(db.session)
        adapter = app.url_map.bind("localhost")
        for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
            view = app.view_functions[rule.endpoint]
            if getattr(view, "access_rule", None) != PUBLIC or "GET" not in (rule.methods or ()):
                continue
            if not _is_public_surface(rule.rule):
                continue
            unknown = set(rule.arguments) - set(values)
            assert not unknown, f"{rule.rule}: add values for {sorted(unknown)} to _argument_values"
            if not rule.arguments:
                urls.append(adapter.build(rule.endpoint, {}))
            for name in rule.arguments:  # one argument per rule is all the public site has
                urls.extend(adapter.build(rule.endpoint, {name: value}) for value in values[name])
    return urls


HREF = re.compile(r"""(?:href|src|action)="([^"]+)\"""")


def _links(url: str, response) -> list[str]:
    found: list[str] = []
    if response.mimetype == "text/html":
        found = [unescape(href) for href in HREF.findall(response.get_data(as_text=True))]
    elif response.mimetype == "application/json":
        def walk(value):
            if isinstance(value, dict):
                for item in value.values():
                    yield from walk(item)
            elif isinstance(value, list):
                for item in value:
                    yield from walk(item)
            elif isinstance(value, str) and (value.startswith("/") or value.startswith("http://localhost/")):
                yield value
        found = list(walk(response.get_json()))
    links = []
    for href in found:
        parts = urlsplit(urljoin(url, href))
        if parts.netloc not in ("", "localhost") or not _is_public_surface(parts.path):
            continue
        links.append(parts.path + (f"?{parts.query}" if parts.query else ""))
    return links


def _crawl(app, language: str) -> dict[str, int]:
    client = app.test_client()
    headers = {"Accept-Language": language}
    seen: dict[str, int] = {}
    queue = deque(_seed_urls(app))
    while queue and len(seen) < MAX_REQUESTS:
        url = queue.popleft()
        if url in seen:
            continue
        response = client.get(url, headers=headers)
        seen[url] = response.status_code
        assert response.status_code < 500, f"{url} answered {response.status_code}"
        body = response.get_data()
        response.close()  # file responses (the verifier script) hold their file open until closed
        text = body.decode("utf-8", errors="replace")
        if response.mimetype == "application/json":
            text += json.dumps(response.get_json(), ensure_ascii=False)  # \\u escapes spelled out
        for what, secret in SECRETS.items():
            assert secret not in text, f"{what} ({secret}) leaks on {url}"
        if response.status_code == 200:
            queue.extend(link for link in _links(url, response) if link not in seen)
    return seen


@pytest.mark.parametrize("language", ["zh-CN", "en"])
def test_no_private_data_on_any_public_route(leak_app, language):
    seen = _crawl(leak_app, language)
    public_pages = [url for url in seen if url.startswith("/public")]
    api_routes = [url for url in seen if url.startswith("/api/v1")]
    assert len(public_pages) >= 10 and len(api_routes) >= 5, (public_pages, api_routes)
    hidden_pages = [url for url in seen if url.rstrip("/").endswith(f"/{HIDDEN_CODE}")]
    assert hidden_pages, "the hidden fund's own URLs were not requested"
    for url in hidden_pages:
        assert seen[url] == 404, f"{url} answered {seen[url]} for a hidden fund"
