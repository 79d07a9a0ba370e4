"""Crawl the demo: `flask demo load` on a fresh database, then every demo user signs in and opens every page.

Per backend, once (the loader commits, so the database is a new one of its own): each demo user GETs every rule
without arguments and, for rules with arguments, the URLs of the demo's objects: every grants page of every
programme, application, review, agenda, item, decision, award, payment, report, organisation and file, and a few
funds, entries, accounts and users. Pages whose content depends on who is looking (PERSONAL, and for staff and
board PERSONAL_TO_READERS) are opened by every user; the others by the first user of each role. Expected, from
the `access_rule` each view carries (as in test_route_matrix) and the object-level rules of the grants pages:

- a role outside the rule: 403;
- an applicant on another organisation's application, award, payment, report, organisation or file: 403;
- a reviewer on an application (or its files, or a review) not assigned to them, or declared conflicted: 403;
- the payment advice of a payment not yet paid: 404;
- an applicant's edit pages of an application that cannot be edited now: a redirect to the application;
- everything else: 200 (a redirect only where the page sends the user on by design: REDIRECTS).

No response may be a server error, and no grants page opened with a plain GET may show a form field in error (a
filter form refusing its own empty state). At the end the ledger must verify (`flask ledger verify`).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from fundapp.auth.decorators import ANY_USER, PUBLIC
from fundapp.auth.models import User
from fundapp.demo.data import DEMO_PASSWORD
from fundapp.extensions import db
from fundapp.grants.models import (
    AgendaItem,
    Application,
    ApplicationAttachment,
    AssignmentStatus,
    Award,
    BoardAgenda,
    GrantDecision,
    GrantReport,
    Organisation,
    OrganisationMember,
    PaymentStatus,
    Programme,
    ReviewAssignment,
    TranchePayment,
)
from fundapp.ledger.invariants import verify_ledger
from fundapp.ledger.models import Account, Fund, JournalEntry
from fundapp.volunteers.models import (
    Activity,
    Certificate,
    PointAccount,
    PointEntry,
    Reward,
    Shift,
    Signup,
    Volunteer,
)
from tests.conftest import complete_two_factor, make_migrated_app

LOGIN_PATH = "/auth/login"
READERS = {"finance", "admin", "board"}
# GET rules left out: logging out and switching language change the session, opening a message marks it read
SKIPPED = {"auth.logout", "main.set_language", "inbox.open_message", "static"}
# (endpoint, role) -> why a signed-in user allowed there is sent on instead of shown a page
REDIRECTS = {
    ("auth.login", None): "a signed-in user is sent home",
    ("grants.my_organisation", "applicant"): "an applicant with an organisation is sent to its page",
    ("enterprises.mine", "enterprise"): "an enterprise user with an enterprise is sent to its page",
}
# the applicant's edit pages redirect to the application unless it is a draft (or a revision was started)
EDIT_PAGES = {"grants.application_edit", "grants.application_submit"}
# pages whose content or access depends on who the user is, not only on the role: every user opens these; other
# pages with arguments are opened by the first user of each role only
PERSONAL = {"grants.application_detail", "grants.application_edit", "grants.application_submit",
            "grants.application_withdraw", "grants.attachment_download", "grants.review_assignment",
            "grants.agenda_detail", "grants.item_detail", "grants.item_recuse", "grants.award_detail",
            "grants.award_pay", "grants.payment", "grants.payment_advice", "grants.grant_report",
            "grants.grant_report_new", "grants.organisation_detail", "grants.organisation_edit"}
# of those, the pages that differ between two staff or board users: votes, recusals, the second approver
PERSONAL_TO_READERS = {"grants.agenda_detail", "grants.item_detail", "grants.item_recuse", "grants.award_detail",
                       "grants.award_pay", "grants.payment"}


@dataclass(frozen=True)
class Target:
    """One URL and what decides who may open it."""

    url: str
    endpoint: str
    rule: object
    organisation_id: int | None = None  # an applicant sees it only for their own organisation
    application_id: int | None = None  # a reviewer sees it only when assigned (not conflicted)
    reviewer_id: int | None = None  # a review: only its own reviewer (not conflicted), or readers
    draft_file: bool = False  # a file of a draft version: never for a reviewer
    missing: bool = False  # the object exists but the page does not (yet): 404
    sends_on: bool = False  # the page redirects by design (an application that cannot be edited now)
    everyone: bool = True  # opened by every user (else by the first user of each role only)
    every_reader: bool = True  # opened by every staff and board user (else by the first of each role only)
    # the time bank: besides staff and board, only these users (an activity's organiser, a certificate's
    # volunteer) or holders of `open_to` roles see the object; anyone else allowed by role gets 404
    viewers: frozenset[int] | None = None
    open_to: frozenset[str] = frozenset()


@dataclass
class Demo:
    users: list[tuple[str, str, frozenset[str]]] = field(default_factory=list)  # email, name, roles
    member_org: dict[str, int] = field(default_factory=dict)  # applicant email -> organisation id
    user_ids: dict[str, int] = field(default_factory=dict)
    active_reviews: set[tuple[int, int]] = field(default_factory=set)  # (reviewer id, application id)
    targets: list[Target] = field(default_factory=list)


@pytest.fixture()
def demo_app(backend, fresh_database_url, tmp_path):
    app = make_migrated_app(fresh_database_url(backend, "crawl"), GRANT_UPLOAD_DIR=str(tmp_path / "grants"))
    result = app.test_cli_runner().invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    assert "grants:" in result.output
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _rules(app):
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if rule.endpoint in SKIPPED or "GET" not in (rule.methods or ()):
            continue
        yield rule, getattr(app.view_functions[rule.endpoint], "access_rule", None)


def _collect(app) -> Demo:
    demo = Demo()
    with app.app_context():
        s = db.session
        for user in s.scalars(select(User).order_by(User.id)):
            demo.users.append((user.email, user.name, frozenset(user.roles)))
            demo.user_ids[user.email] = user.id
        demo.member_org = {email: org_id for email, org_id in s.execute(
            select(User.email, OrganisationMember.organisation_id).join(OrganisationMember,
                                                                        OrganisationMember.user_id == User.id))}
        demo.active_reviews = set(s.execute(select(ReviewAssignment.reviewer_id, ReviewAssignment.application_id)
                                            .where(ReviewAssignment.status != AssignmentStatus.conflicted.value)))
        objects = _objects(s)
        adapter = app.url_map.bind("localhost")
        for rule, access in _rules(app):
            arguments = sorted(rule.arguments)
            if not arguments:
                demo.targets.append(Target(adapter.build(rule.endpoint, {}), rule.endpoint, access))
                continue
            key = (rule.endpoint.split(".")[0], arguments[0])
            if len(arguments) != 1 or key not in objects:
                continue
            for value, scope in objects[key]:
                url = adapter.build(rule.endpoint, {arguments[0]: value})
                scope = dict(scope)
                unpaid, editable = scope.pop("unpaid", False), scope.pop("editable", True)
                scope["missing"] = rule.endpoint == "grants.payment_advice" and unpaid
                scope["sends_on"] = rule.endpoint in EDIT_PAGES and not editable
                scope["everyone"] = rule.endpoint in PERSONAL
                scope["every_reader"] = rule.endpoint in PERSONAL_TO_READERS
                demo.targets.append(Target(url, rule.endpoint, access, **scope))
    return demo


def _objects(s) -> dict[tuple[str, str], list[tuple[object, dict]]]:
    """(blueprint, argument name) -> (value, scope) of the demo's objects."""
    objects: dict[tuple[str, str], list[tuple[object, dict]]] = defaultdict(list)

    def add(name: str, value: object, **scope) -> None:
        objects[("grants", name)].append((value, scope))

    for programme in s.scalars(select(Programme)):
        add("programme_id", programme.id)
    for application in s.scalars(select(Application)):
        current = application.current
        editable = application.status == "draft" or (application.status == "revision_requested"
                                                     and not current.is_frozen)
        add("application_id", application.id, organisation_id=application.organisation_id,
            application_id=application.id, editable=editable)
    for award in s.scalars(select(Award)):
        add("award_id", award.id, organisation_id=award.organisation_id)
    for payment in s.scalars(select(TranchePayment)):
        add("payment_id", payment.id, organisation_id=payment.award.organisation_id,
            unpaid=payment.status != PaymentStatus.paid.value)
    for report in s.scalars(select(GrantReport)):
        add("report_id", report.id, organisation_id=report.award.organisation_id)
    for organisation in s.scalars(select(Organisation)):
        add("organisation_id", organisation.id, organisation_id=organisation.id)
    for attachment in s.scalars(select(ApplicationAttachment)):
        if attachment.version is not None:
            application, draft = attachment.version.application, not attachment.version.is_frozen
        else:
            application, draft = attachment.report.award.application, False
        add("attachment_id", attachment.id, organisation_id=application.organisation_id,
            application_id=application.id, draft_file=draft)
    for assignment in s.scalars(select(ReviewAssignment)):
        add("assignment_id", assignment.id, application_id=assignment.application_id,
            reviewer_id=assignment.reviewer_id)
    for model, name in ((BoardAgenda, "agenda_id"), (AgendaItem, "item_id"), (GrantDecision, "decision_id")):
        for row_id in s.scalars(select(model.id)):
            add(name, row_id)
    # beyond grants, a sample: three funds, the grant entries and the first entry, two accounts, two users
    other: dict = {}
    funds = s.scalars(select(Fund.id).where(Fund.code.in_(("GEN", "ELD", "VEN"))))
    objects[("funds", "fund_id")] = [(fund_id, other) for fund_id in funds]
    entries = s.scalars(select(JournalEntry.id).where(JournalEntry.source_type.like("grant%"))).all()
    first = s.scalar(select(JournalEntry.id).order_by(JournalEntry.seq).limit(1))
    objects[("ledger", "entry_id")] = [(entry_id, other) for entry_id in [*entries, first]]
    accounts = s.scalars(select(Account.id).where(Account.code.in_(("1002", "5101"))))
    objects[("ledger", "account_id")] = [(account_id, other) for account_id in accounts]
    objects[("ledger", "fmt")] = [("beancount", other), ("hledger", other)]
    objects[("admin", "user_id")] = [(u, other) for u in s.scalars(select(User.id).order_by(User.id).limit(2))]
    _time_bank_objects(s, objects)
    return objects


def _time_bank_objects(s, objects) -> None:
    """The time bank's objects: an organiser sees their own activities and shifts and the volunteers signed up
    to them; a volunteer their own sign-ups and certificates; staff everything (404 for the others)."""
    organiser_of = {row.id: row.organiser_id for row in s.execute(select(Activity.id, Activity.organiser_id))}
    served_under: dict[int, set[int]] = defaultdict(set)  # volunteer id -> organisers of their activities
    for volunteer_id, activity_id in s.execute(select(Signup.volunteer_id, Shift.activity_id)
                                               .join(Shift, Shift.id == Signup.shift_id)):
        if organiser_of.get(activity_id) is not None:
            served_under[volunteer_id].add(organiser_of[activity_id])
    user_of = {row.id: row.user_id for row in s.execute(select(Volunteer.id, Volunteer.user_id))}

    def add(blueprint: str, name: str, value: object, viewers=None, open_to=frozenset()) -> None:
        scope = {} if viewers is None else {"viewers": frozenset(viewers), "open_to": frozenset(open_to)}
        objects[(blueprint, name)].append((value, scope))

    for volunteer_id in s.scalars(select(Volunteer.id).order_by(Volunteer.id)):
        add("volunteers", "volunteer_id", volunteer_id, served_under[volunteer_id])
    for activity_id, organiser_id in organiser_of.items():
        add("volunteers", "activity_id", activity_id, {organiser_id} - {None})
    for shift_id, activity_id in s.execute(select(Shift.id, Shift.activity_id).order_by(Shift.id).limit(12)):
        add("volunteers", "shift_id", shift_id, {organiser_of[activity_id]} - {None})
    for certificate_id, volunteer_id in s.execute(select(Certificate.id, Certificate.volunteer_id)):
        add("certificates", "certificate_id", certificate_id, {user_of[volunteer_id]} - {None}, {"organiser"})
    for reward_id in s.scalars(select(Reward.id)):
        add("points", "reward_id", reward_id)
    for account_id in s.scalars(select(PointAccount.id).order_by(PointAccount.id).limit(6)):
        add("points", "point_account_id", account_id)
    for entry_id in s.scalars(select(PointEntry.id).order_by(PointEntry.id).limit(6)):
        add("points", "point_entry_id", entry_id)


def role_allowed(target: Target, roles: frozenset[str]) -> bool:
    return target.rule in (PUBLIC, ANY_USER) or bool(roles & target.rule)


def expected(demo: Demo, target: Target, email: str, roles: frozenset[str]) -> str:
    """'page' (200), 'moved' (302), 'forbidden' (403) or 'missing' (404) for this user."""
    if not role_allowed(target, roles):
        return "forbidden"
    if target.viewers is not None and not roles & (READERS | target.open_to):
        return "page" if demo.user_ids[email] in target.viewers else "missing"
    if not (roles & READERS or _may_see(demo, target, email, roles)):
        return "forbidden"
    if target.missing:
        return "missing"
    return "moved" if target.sends_on else "page"


def _may_see(demo: Demo, target: Target, email: str, roles: frozenset[str]) -> bool:
    """The object-level rule for a user who is not staff or board."""
    user_id = demo.user_ids[email]
    if target.reviewer_id is not None:  # a review: its own reviewer, not conflicted
        return target.reviewer_id == user_id and (user_id, target.application_id) in demo.active_reviews
    if target.organisation_id is not None and demo.member_org.get(email) == target.organisation_id:
        return True
    if "reviewer" in roles and target.application_id is not None:
        return (user_id, target.application_id) in demo.active_reviews and not target.draft_file
    return target.organisation_id is None


def _problem(response, wanted: str, endpoint: str, roles: frozenset[str]) -> str | None:
    status, location = response.status_code, response.headers.get("Location", "")
    if status >= 500:
        return f"server error {status}"
    if wanted == "forbidden":
        return None if status == 403 else f"expected 403, got {status} {location}".strip()
    if wanted == "missing":
        return None if status == 404 else f"expected 404, got {status} {location}".strip()
    if wanted == "moved":
        return None if status == 302 and urlsplit(location).path != LOGIN_PATH else f"expected 302, got {status}"
    if status == 200:
        return None
    redirect_ok = (endpoint, None) in REDIRECTS or any((endpoint, role) in REDIRECTS for role in roles)
    if status == 302 and redirect_ok and urlsplit(location).path != LOGIN_PATH:
        return None
    return f"expected 200, got {status} {location}".strip()


@contextmanager
def _session_of(app):
    with app.app_context():
        yield db.session
        db.session.remove()


def _user_id(app, email: str) -> int:
    with _session_of(app) as s:
        return s.scalar(select(User.id).where(User.email == email))


def _crawl_user(app, demo: Demo, email: str, roles: frozenset[str], *, full: bool, language: str,
                pdfs_seen: set, outcomes: Counter) -> list[str]:
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = language
    response = client.post(LOGIN_PATH, data={"email": email, "password": DEMO_PASSWORD})
    assert response.status_code == 302, f"{email} cannot sign in: {response.status_code}"
    if response.headers["Location"] == LOGIN_PATH:  # admin, finance and board enrol an authenticator first
        complete_two_factor(client, lambda: _session_of(app), _user_id(app, email))
    problems, refused = [], set()
    for target in demo.targets:
        if not (full or (target.every_reader if roles & READERS else target.everyone)):
            continue
        if not role_allowed(target, roles):  # refused by role whatever the object: one URL per endpoint will do
            if target.endpoint in refused:
                continue
            refused.add(target.endpoint)
        wanted = expected(demo, target, email, roles)
        if wanted == "page" and target.url.endswith(".pdf"):
            key = (target.url, bool(roles & READERS), demo.member_org.get(email))
            if key in pdfs_seen:  # a PDF is rendered once for readers, once for its grantee: WeasyPrint is slow
                continue
            pdfs_seen.add(key)
        try:
            response = client.get(target.url)
            body = response.get_data()
            response.close()
        except Exception as error:  # noqa: BLE001 - report every page, not only the first failure
            problems.append(f"{email} GET {target.url} ({target.endpoint}): raised {type(error).__name__}: {error}")
            continue
        outcomes[wanted] += 1
        problem = _problem(response, wanted, target.endpoint, roles)
        if problem is None and wanted == "page" and response.mimetype == "text/html":
            if not body.strip():
                problem = "an empty page"
            elif b"has-error" in body and target.endpoint.startswith("grants."):  # nothing was submitted yet
                problem = "a form field shows an error on a plain GET"
        if problem:
            problems.append(f"{email} GET {target.url} ({target.endpoint}): {problem}")
    return problems


def test_every_demo_user_can_open_every_page_and_the_ledger_verifies(demo_app):
    demo = _collect(demo_app)
    emails = [email for email, _name, _roles in demo.users]
    assert len(emails) >= 14 and all(email.endswith("@demo.fundapp.cn") for email in emails)
    endpoints = {t.endpoint for t in demo.targets}
    grants_endpoints = {rule.endpoint for rule, _access in _rules(demo_app) if rule.endpoint.startswith("grants.")}
    assert grants_endpoints <= endpoints, f"grants pages never requested: {sorted(grants_endpoints - endpoints)}"

    problems, first_of_role, pdfs_seen, outcomes = [], set(), set(), Counter()
    for n, (email, _name, roles) in enumerate(demo.users):
        full = roles not in first_of_role
        first_of_role.add(roles)
        problems += _crawl_user(demo_app, demo, email, roles, full=full, pdfs_seen=pdfs_seen, outcomes=outcomes,
                                language="zh-CN,zh;q=0.9" if n % 2 == 0 else "en")
    checked = sum(outcomes.values())
    assert not problems, f"{len(problems)} problems in {checked} requests:\n" + "\n".join(problems)
    # every kind of expectation was put to the test, object-level refusals included
    assert checked > 1000 and min(outcomes[k] for k in ("page", "moved", "forbidden", "missing")) > 0, outcomes
    assert outcomes["page"] > 500

    with demo_app.app_context():
        assert verify_ledger(db.session) == []
