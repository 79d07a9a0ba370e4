"""End-to-end journeys in a real headless browser (issue #9), on SQLite and PostgreSQL:

- finance records a donation, downloads its official receipt, and the public donations page lists the gift;
- an applicant applies, a reviewer scores, two board members approve on a phone, finance pays a tranche, and the
  public grants page lists the grant with the payment.

The steps that matter go through the pages (real forms, CSRF on, sign-in with the TOTP second step); the staff
work between them (assigning the reviewer, recommending, the board agenda, the tranche schedule) is set up with
the services those staff pages call. Each step leaves a screenshot under tests/artifacts/ (never read back).
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from decimal import Decimal

import pytest
from sqlalchemy import select

from fundapp.auth.models import User
from fundapp.dates import local_today
from fundapp.donations.donors import create_donor
from fundapp.donations.models import Donation
from fundapp.grants import board, review
from fundapp.grants.applications import recommend
from fundapp.grants.awards import TrancheSpec, set_schedule
from fundapp.grants.models import AgendaItem, Application, ApplicationStatus, Award, ReviewAssignment
from tests.browser.conftest import enrol_with_service, sign_in, skip_without_browser
from tests.factories import PASSWORD, make_user
from tests.grants_builders import funded_fund, make_organisation, make_programme

pytestmark = [skip_without_browser(), pytest.mark.xdist_group("browser")]

_serial = itertools.count(1)


def unique(prefix: str) -> str:
    return f"{prefix}{next(_serial)}"


def flash_text(page) -> str:
    return " ".join(page.locator(".flash").all_inner_texts())


def expect_flash(page, text: str) -> None:
    """Wait until the page shows a flash message containing `text` (the page after a form's redirect)."""
    from playwright.sync_api import expect

    expect(page.locator(".flash", has_text=text)).to_have_count(1)


def new_user(live_app, *roles: str) -> str:
    """A user with `roles` (committed); returns the email (the password is tests.factories.PASSWORD)."""
    with live_app.session() as s:
        return make_user(s, *roles, email=f"{unique('-'.join(roles))}@example.org").email


# --- finance: a donation and its receipt -------------------------------------------------------------------------


def test_finance_records_a_donation_downloads_its_receipt_and_the_public_page_lists_it(live_app, new_page, shot):
    donor_name = unique("Browser Donor ")
    with live_app.session() as s:
        fund = funded_fund(s, "0", name=unique("Browser Fund "))
        donor = create_donor(s, {"name": donor_name, "kind": "person"}, None)
        fund_id, fund_name, donor_id = fund.id, fund.name, donor.id
    finance_email = new_user(live_app, "finance")

    page = new_page()
    assert sign_in(page, finance_email, PASSWORD) is not None  # finance enrols an authenticator on first sign-in
    shot(page, "finance-signed-in")

    page.goto("/donations/new")
    page.fill("#donor", f"#{donor_id}")
    page.fill("#amount", "1234.50")
    page.select_option("#fund", str(fund_id))
    page.select_option("#method", "bank_transfer")
    page.fill("#purpose", "School books")
    assert page.is_checked("#issue_receipt")
    shot(page, "donation-form")
    page.get_by_role("button", name="Record donation", exact=True).click()
    page.wait_for_url(re.compile(r"/donations/\d+$"))
    expect_flash(page, "Donation recorded.")
    assert "¥1,234.50" in page.inner_text("h1")
    shot(page, "donation-recorded")

    with live_app.session() as s:
        donation = s.scalar(select(Donation).where(Donation.donor_id == donor_id))
        assert donation.amount == Decimal("1234.50") and donation.fund_id == fund_id
        assert donation.active_receipt is not None
        receipt_label = donation.active_receipt.label

    link = page.get_by_role("link", name=receipt_label)
    # The browser's own cookies make it a signed-in download; the first PDF loads WeasyPrint and its fonts: slow.
    response = page.request.get(link.get_attribute("href"), timeout=90_000)
    assert response.status == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.body().startswith(b"%PDF-")

    public = new_page(phone=True)  # a visitor, not signed in
    public.goto("/public/donations")
    shot(public, "public-donations")
    rows = public.locator("table tbody tr", has_text=donor_name)
    assert rows.count() == 1, public.inner_text("main")[:1500]
    assert "1,234.50" in rows.first.inner_text()
    assert fund_name in rows.first.inner_text()


# --- grants: from an application to a paid tranche on the public page --------------------------------------------


def _apply(page, programme_id: int, title: str, shot) -> int:
    """The applicant starts, fills in, saves and submits an application; returns its id."""
    page.goto(f"/grants/programmes/{programme_id}")
    page.get_by_role("button", name="Start an application", exact=True).click()
    page.wait_for_url(re.compile(r"/grants/applications/\d+/edit$"))
    application_id = int(re.search(r"/applications/(\d+)/edit", page.url).group(1))
    today = local_today()
    page.fill("#title", title)
    page.fill("#community", "Riverside Community")
    page.fill("#summary", "Reading corners for children after school.")
    page.fill("#objectives", "Open four reading corners and train twelve volunteers.")
    page.fill("#beneficiaries", "Children aged 6 to 12 and their families")
    page.fill("#beneficiaries_count", "240")
    page.fill("#starts_on", (today + dt.timedelta(days=30)).isoformat())
    page.fill("#ends_on", (today + dt.timedelta(days=300)).isoformat())
    page.fill("#requested_amount", "30000.00")
    page.fill("#lines-0-category", "activity")
    page.fill("#lines-0-item", "Reading sessions")
    page.fill("#lines-0-amount", "18000.00")
    page.fill("#lines-1-category", "materials")
    page.fill("#lines-1-item", "Books and shelves")
    page.fill("#lines-1-amount", "12000.00")
    shot(page, "application-form")
    page.get_by_role("button", name="Save draft", exact=True).click()
    page.wait_for_url(re.compile(rf"/grants/applications/{application_id}$"))
    expect_flash(page, "The draft was saved.")

    page.goto(f"/grants/applications/{application_id}/submit")
    assert page.locator(".flash-error").count() == 0, page.inner_text("main")[:1000]
    page.check("#confirm")
    shot(page, "application-submit")
    page.get_by_role("button", name="Submit application", exact=True).click()
    page.wait_for_url(re.compile(rf"/grants/applications/{application_id}$"))
    expect_flash(page, "was submitted")
    shot(page, "application-submitted")
    return application_id


def _score(page, criteria_ids: list[int], shot) -> None:
    """The reviewer opens their assignment, confirms no conflict of interest, scores every criterion, submits."""
    page.goto("/grants/reviews/")
    page.get_by_role("link", name="Start", exact=True).click()
    page.check("#confirm")
    page.get_by_role("button", name="Confirm and start scoring", exact=True).click()
    expect_flash(page, "You can score the application now.")
    for criterion_id, score in zip(criteria_ids, ("8", "7", "9"), strict=True):
        page.fill(f"#score_{criterion_id}", score)
        page.fill(f"#comment_{criterion_id}", "Well argued.")
    page.fill("#comment", "A sound project with a clear budget.")
    page.check("#final")
    shot(page, "review-scores")
    page.get_by_role("button", name="Submit the review", exact=True).click()
    page.wait_for_url(re.compile(r"/grants/reviews/$"))
    expect_flash(page, "Your review was submitted.")
    shot(page, "review-submitted")


def _vote_approve(page, item_id: int, name: str, shot) -> str:
    """A board member approves the item from a phone (choice, then the confirmation page); returns the flashes."""
    page.goto(f"/grants/items/{item_id}")
    page.fill("#comment", f"Approved by {name}.")
    shot(page, f"vote-{name}")
    page.get_by_role("button", name="Vote to approve", exact=True).click()
    page.wait_for_selector("h1:has-text('Confirm your vote')")
    shot(page, f"vote-confirm-{name}")
    page.get_by_role("button", name=re.compile("Cast my vote")).click()
    page.wait_for_url(re.compile(rf"/grants/items/{item_id}$"))
    expect_flash(page, "Your vote (For) was recorded.")
    shot(page, f"voted-{name}")
    return flash_text(page)


def test_a_grant_from_application_to_a_paid_tranche_on_the_public_page(live_app, new_page, shot):
    title = unique("Reading Corners ")
    with live_app.session() as s:
        staff = make_user(s, "admin", email=f"{unique('staff')}@example.org")
        applicant = make_user(s, "applicant", email=f"{unique('applicant')}@example.org")
        organisation = make_organisation(s, applicant, name=unique("Riverside Youth Centre "))
        fund = funded_fund(s, "100000.00", name=unique("Children's Fund "))
        programme = make_programme(s, fund, budget="90000.00")
        reviewer = make_user(s, "reviewer", email=f"{unique('reviewer')}@example.org")
        members = [make_user(s, "board", email=f"{unique('board')}@example.org") for _n in range(2)]
        finance = make_user(s, "finance", email=f"{unique('finance')}@example.org")
        programme_id, criteria_ids = programme.id, [c.id for c in programme.criteria]
        staff_id, reviewer_id, organisation_name = staff.id, reviewer.id, organisation.name
        emails = {"applicant": applicant.email, "reviewer": reviewer.email, "finance": finance.email,
                  "board": [m.email for m in members]}
    secrets = {email: enrol_with_service(live_app, email) for email in emails["board"]}

    # The applicant applies (no second step for applicants).
    page = new_page()
    assert sign_in(page, emails["applicant"], PASSWORD) is None
    application_id = _apply(page, programme_id, title, shot)

    # Staff assign a reviewer (the service behind the application's reviewers page); the reviewer scores.
    with live_app.session() as s:
        review.assign_reviewers(s, s.get(Application, application_id), [reviewer_id], s.get(User, staff_id))
    page = new_page()
    sign_in(page, emails["reviewer"], PASSWORD)
    _score(page, criteria_ids, shot)
    with live_app.session() as s:
        assignment = s.scalar(select(ReviewAssignment).where(ReviewAssignment.application_id == application_id))
        assert assignment.status == "submitted" and len(assignment.scores) == 3

    # Staff recommend it and put it on an open board agenda (above the staff limit: the board decides).
    with live_app.session() as s:
        actor = s.get(User, staff_id)
        application = recommend(s, s.get(Application, application_id), actor)
        agenda = board.create_agenda(s, "Board meeting", local_today() + dt.timedelta(days=7), None, actor)
        item = board.add_item(s, agenda, application, Decimal("30000.00"), "Recommended by staff", actor)
        board.open_agenda(s, agenda, actor)
        item_id = item.id

    # Two board members approve on their phones; the second vote completes the count and decides the item.
    flashes = []
    for n, email in enumerate(emails["board"], start=1):
        phone = new_page(phone=True)
        sign_in(phone, email, PASSWORD, totp_secret=secrets[email])
        flashes.append(_vote_approve(phone, item_id, f"member{n}", shot))
        assert phone.evaluate("document.documentElement.scrollWidth") <= 390, "the vote page scrolls sideways"
    assert "Your vote (For) was recorded." in flashes[0] and "decided" not in flashes[0], flashes[0]
    assert "Every board member has voted or declared a conflict: the item was decided" in flashes[1], flashes[1]
    with live_app.session() as s:
        assert s.get(AgendaItem, item_id).status != "pending"
        assert s.get(Application, application_id).status == ApplicationStatus.approved.value
        award = s.scalar(select(Award).where(Award.application_id == application_id))
        set_schedule(s, award, [TrancheSpec(Decimal("20000.00"), local_today(), "Start"),
                                TrancheSpec(Decimal("10000.00"), local_today() + dt.timedelta(days=180), "Midway")],
                     s.get(User, staff_id))
        award_id = award.id

    # Finance (enrolling an authenticator on the way) pays the first tranche.
    page = new_page()
    sign_in(page, emails["finance"], PASSWORD)
    page.goto(f"/grants/awards/{award_id}")
    shot(page, "award")
    page.get_by_role("link", name="Pay tranche 1", exact=True).click()
    page.fill("#amount", "20000.00")
    page.fill("#bank_reference", "BR-2026-0001")
    shot(page, "pay-form")
    page.get_by_role("button", name="Pay this tranche", exact=True).click()
    page.wait_for_url(re.compile(r"/grants/payments/\d+$"))
    expect_flash(page, "Tranche 1 was paid and posted.")
    shot(page, "paid")
    with live_app.session() as s:
        award = s.get(Award, award_id)
        assert award.paid_amount == Decimal("20000.00") and award.outstanding == Decimal("10000.00")

    # A visitor finds the grant on the public site, and its paid tranche on its page.
    public = new_page(phone=True)
    public.goto("/public/grants")
    shot(public, "public-grants")
    row = public.locator("table tbody tr", has_text=title)
    assert row.count() == 1, public.inner_text("main")[:1500]
    assert organisation_name in row.inner_text() and "30,000.00" in row.inner_text()
    row.get_by_role("link").first.click()
    public.wait_for_url(re.compile(r"/public/grants/\d+$"))
    shot(public, "public-grant")
    text = public.inner_text("main")
    assert title in text and "20,000.00" in text, text[:1500]
