"""Organisations, programmes and applications: every allowed and refused transition, the budget against what the
fund can commit (an endowment's principal never), submission checks, frozen versions (also by the database),
revisions, withdrawal, and nothing written on bad input."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from fundapp.audit.models import AuditEvent
from fundapp.dates import local_today
from fundapp.donations.donors import credit_code_valid
from fundapp.donations.services import DonationInput, record_donation
from fundapp.grants.applications import (
    ApplicationIncomplete,
    LineInput,
    recommend,
    reject_at_screening,
    request_revision,
    save_draft,
    start_application,
    start_revision,
    submit_application,
    timeline,
    withdraw_application,
)
from fundapp.grants.errors import FundShortfall, GrantError
from fundapp.grants.models import (
    Application,
    ApplicationStatus,
    ApplicationVersion,
    Organisation,
    OrganisationMember,
    Programme,
    RubricCriterion,
)
from fundapp.grants.organisations import create_own_organisation, link_member, save_organisation, unlink_member
from fundapp.grants.programmes import CriterionInput, create_programme, set_programme_status, update_programme
from fundapp.notify.models import Notification
from tests.factories import make_user, post
from tests.grants_builders import (
    funded_fund,
    make_applicant,
    make_application,
    make_award,
    make_organisation,
    make_programme,
)

S = ApplicationStatus
D = Decimal
TODAY = local_today()
ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
RUBRIC = [CriterionInput("Need", D("40")), CriterionInput("Feasibility", D("35"), 5),
          CriterionInput("Value", D("25"), 10, "Value for money")]


def credit_code(body: str) -> str:
    """`body` (17 characters) with its check character."""
    return next(body + ch for ch in ALPHABET if credit_code_valid(body + ch))


def org_values(**overrides) -> dict:
    return {"name": "阳光社区服务中心", "reg_no": credit_code("52310000MJ1234567"), "org_type": "民办非企业单位",
            "community": "阳光社区", "contact_name": "王芳", "contact_phone": "13800000000",
            "contact_email": "Wang@Example.org", "address": "阳光路1号", "bank_name": "工商银行阳光支行",
            "bank_account_name": "阳光社区服务中心", "bank_account_no": "6222 0200 1234 5678"} | overrides


def programme_values(fund, **overrides) -> dict:
    return {"code": "CV2026", "title": "Community ventures 2026", "kind": "venture", "fund_id": fund.id,
            "budget": D("50000.00"), "description": "", "eligibility": "Registered organisations",
            "opens_on": TODAY - dt.timedelta(days=1), "closes_on": TODAY + dt.timedelta(days=30),
            "max_request": D("20000.00")} | overrides


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def events(session, tag: str) -> list[AuditEvent]:
    return list(session.scalars(select(AuditEvent).where(AuditEvent.tag == tag).order_by(AuditEvent.id)))


def complete(session, application: Application, amount: str = "10000.00", *, lines=None) -> ApplicationVersion:
    """Fill the editable version with everything a submission needs."""
    amount = D(amount)
    lines = lines if lines is not None else [LineInput("Workshops", amount - D("1000.00"), "Activities"),
                                             LineInput("Materials", D("1000.00"), "Materials")]
    values = {"title": "Elderly lunch club", "community": "阳光社区", "summary": "Lunch twice a week",
              "objectives": "Less isolation", "beneficiaries": "Residents over 70", "beneficiaries_count": 80,
              "starts_on": TODAY + dt.timedelta(days=30), "ends_on": TODAY + dt.timedelta(days=200),
              "requested_amount": amount}
    return save_draft(session, application, values, lines, None)


@pytest.fixture()
def started(session):
    """An open programme, an applicant organisation and its draft application."""
    organisation, user = make_applicant(session)
    programme = make_programme(session, budget="50000.00")
    programme.max_request = D("20000.00")
    session.flush()
    application = start_application(session, programme, organisation, user, on=TODAY)
    return programme, organisation, user, application


# --- organisations ------------------------------------------------------------------------------------------------


def test_an_applicant_registers_their_organisation_and_is_linked(session):
    user = make_user(session, "applicant")
    organisation = create_own_organisation(session, org_values(), user)
    assert organisation.reg_no.endswith(organisation.reg_no[-1]) and organisation.bank_account_no == "6222020012345678"
    assert organisation.contact_email == "wang@example.org"
    assert [m.user_id for m in organisation.members] == [user.id]
    assert events(session, "grants:organisation:created")[0].after["name"] == "阳光社区服务中心"
    assert events(session, "grants:organisation:member_linked")[0].after == {"user": user.id, "email": user.email,
                                                                            "linked": True}
    with pytest.raises(GrantError, match="already act for an organisation"):
        create_own_organisation(session, org_values(reg_no=credit_code("52310000MJ7654321")), user)
    assert count(session, Organisation) == 1


@pytest.mark.parametrize("overrides, message", [
    ({"reg_no": "52310000MJ12345670"}, "check character"),
    ({"reg_no": "123"}, "check character"),
    ({"name": "  "}, "organisation's name"),
    ({"bank_account_no": ""}, "bank account number"),
    ({"bank_account_no": "12ab"}, "8 to 30 digits"),
    ({"contact_email": "not-an-email"}, "not a valid email"),
    ({"contact_phone": ""}, "phone"),
])
def test_a_bad_profile_is_refused_and_nothing_is_written(session, overrides, message):
    user = make_user(session, "applicant")
    if "reg_no" in overrides and overrides["reg_no"] == "52310000MJ12345670":
        assert not credit_code_valid(overrides["reg_no"])
    with pytest.raises(GrantError, match=message):
        create_own_organisation(session, org_values(**overrides), user)
    assert count(session, Organisation) == 0 and count(session, OrganisationMember) == 0
    assert not events(session, "grants:organisation:created")


def test_a_credit_code_belongs_to_one_organisation(session):
    save_organisation(session, None, org_values(), None)
    with pytest.raises(GrantError, match="already has this credit code"):
        save_organisation(session, None, org_values(name="Other"), None)
    assert count(session, Organisation) == 1


def test_every_change_of_the_profile_is_audited_with_before_and_after(session):
    organisation = save_organisation(session, None, org_values(), None)
    staff = make_user(session, "finance")
    save_organisation(session, organisation, {"bank_account_no": "6222999988887777", "contact_name": "李强"}, staff)
    event = events(session, "grants:organisation:updated")[0]
    assert event.before == {"bank_account_no": "6222020012345678", "contact_name": "王芳"}
    assert event.after == {"bank_account_no": "6222999988887777", "contact_name": "李强"}
    assert event.actor_id == staff.id
    save_organisation(session, organisation, {"contact_name": "李强"}, staff)  # no change, no event
    assert len(events(session, "grants:organisation:updated")) == 1


def test_staff_link_an_applicant_user_to_one_organisation_only(session):
    first = save_organisation(session, None, org_values(), None)
    second = save_organisation(session, None, org_values(name="B", reg_no=credit_code("52310000MJ7654321")), None)
    applicant = make_user(session, "applicant", email="a@example.org")
    donor = make_user(session, "donor", email="d@example.org")
    member = link_member(session, first, " A@Example.org ", None)
    assert member.user_id == applicant.id
    with pytest.raises(GrantError, match="already acts for this organisation"):
        link_member(session, first, "a@example.org", None)
    with pytest.raises(GrantError, match="one organisation"):
        link_member(session, second, "a@example.org", None)
    with pytest.raises(GrantError, match="applicant role"):
        link_member(session, second, donor.email, None)
    with pytest.raises(GrantError, match="no user"):
        link_member(session, second, "nobody@example.org", None)
    assert count(session, OrganisationMember) == 1
    unlink_member(session, member, None)
    assert count(session, OrganisationMember) == 0
    assert events(session, "grants:organisation:member_linked")[-1].after["linked"] is False
    assert link_member(session, second, "a@example.org", None).organisation_id == second.id


# --- programmes ---------------------------------------------------------------------------------------------------


def test_a_programme_is_created_in_draft_with_its_rubric(session):
    fund = funded_fund(session, "100000.00")
    staff = make_user(session, "finance")
    programme = create_programme(session, programme_values(fund), RUBRIC, staff, on=TODAY)
    assert programme.status == "draft" and programme.created_by_id == staff.id
    assert [(c.position, c.name, c.weight, c.max_score) for c in programme.criteria] == [
        (1, "Need", D("40"), 10), (2, "Feasibility", D("35"), 5), (3, "Value", D("25"), 10)]
    event = events(session, "grants:programme:created")[0]
    assert event.after["budget"] == "50000.00" and len(event.after["criteria"]) == 3


@pytest.mark.parametrize("criteria, message", [
    ([CriterionInput("Need", D("40")), CriterionInput("Value", D("50"))], "add up to 90%"),
    ([CriterionInput("Need", D("60")), CriterionInput("Value", D("50"))], "add up to 110%"),
    ([], "at least one criterion"),
    ([CriterionInput("Need", D("0")), CriterionInput("Value", D("100"))], "weight is a percentage"),
    ([CriterionInput("Need", D("50")), CriterionInput("need", D("50"))], "appears twice"),
    ([CriterionInput("", D("100"))], "needs a name"),
    ([CriterionInput("Need", D("100"), 0)], "top score"),
    ([CriterionInput("Need", D("33.333")), CriterionInput("V", D("66.667"))], "weight is a percentage"),
])
def test_a_bad_rubric_is_refused_and_nothing_is_written(session, criteria, message):
    fund = funded_fund(session)
    with pytest.raises(GrantError, match=message):
        create_programme(session, programme_values(fund), criteria, None, on=TODAY)
    assert count(session, Programme) == 0 and count(session, RubricCriterion) == 0


@pytest.mark.parametrize("overrides, message", [
    ({"code": "bad code!"}, "programme code"),
    ({"title": ""}, "needs a title"),
    ({"kind": "lottery"}, "kind of programme"),
    ({"budget": D("0")}, "positive budget"),
    ({"budget": D("1.001")}, "two decimal places"),
    ({"closes_on": TODAY - dt.timedelta(days=5)}, "cannot close"),
    ({"max_request": D("60000.00")}, "cannot exceed the budget"),
    ({"fund_id": None}, "Choose the fund"),
])
def test_bad_programme_values_are_refused(session, overrides, message):
    fund = funded_fund(session)
    with pytest.raises(GrantError, match=message):
        create_programme(session, programme_values(fund, **overrides), RUBRIC, None, on=TODAY)
    assert count(session, Programme) == 0


def test_the_budget_cannot_exceed_what_the_fund_can_commit(session):
    fund = funded_fund(session, "80000.00", name="Community fund")
    create_programme(session, programme_values(fund, code="ONE", budget=D("50000.00")), RUBRIC, None, on=TODAY)
    with pytest.raises(FundShortfall) as refused:
        create_programme(session, programme_values(fund, code="TWO", budget=D("30000.01"), max_request=None),
                         RUBRIC, None, on=TODAY)
    assert "Community fund" in refused.value.message and "30,000.00" in refused.value.message
    assert "30,000.01" in refused.value.message
    assert count(session, Programme) == 1
    two = create_programme(session, programme_values(fund, code="TWO", budget=D("30000.00"), max_request=None),
                           RUBRIC, None, on=TODAY)
    # raising a budget is checked without the programme's own commitment
    with pytest.raises(FundShortfall):
        update_programme(session, two, {"budget": D("30000.01")}, RUBRIC, None, on=TODAY)
    assert session.get(Programme, two.id).budget == D("30000.00")
    # an archived programme releases what is left of its budget
    one = session.scalar(select(Programme).where(Programme.code == "ONE"))
    set_programme_status(session, one, "open", None, on=TODAY)
    set_programme_status(session, one, "closed", None, on=TODAY)
    set_programme_status(session, one, "archived", None, on=TODAY)
    update_programme(session, two, {"budget": D("80000.00")}, RUBRIC, None, on=TODAY)


def test_an_endowments_principal_is_never_spendable(session):
    fund = funded_fund(session, "0", fund_type="endowment", name="Lin family endowment")
    record_donation(session, DonationInput(fund=fund, received_on=TODAY - dt.timedelta(days=60),
                                           amount=D("100000.00"), method="bank_transfer"), None)
    with pytest.raises(FundShortfall, match="can commit 0.00"):
        create_programme(session, programme_values(fund, budget=D("1000.00"), max_request=None), RUBRIC, None,
                         on=TODAY)
    post(session, fund, "4000.00", credit="4601", date=TODAY - dt.timedelta(days=10))  # investment income
    with pytest.raises(FundShortfall, match="can commit 4,000.00"):
        create_programme(session, programme_values(fund, budget=D("4000.01"), max_request=None), RUBRIC, None,
                         on=TODAY)
    programme = create_programme(session, programme_values(fund, budget=D("4000.00"), max_request=None), RUBRIC,
                                 None, on=TODAY)
    assert programme.budget == D("4000.00")


def test_programme_status_moves(session):
    programme = make_programme(session, status="draft")
    for refused in ("closed", "archived", "draft"):
        with pytest.raises(GrantError, match="cannot become"):
            set_programme_status(session, programme, refused, None, on=TODAY)
    set_programme_status(session, programme, "open", None, on=TODAY)
    with pytest.raises(GrantError, match="cannot become"):
        set_programme_status(session, programme, "archived", None, on=TODAY)
    set_programme_status(session, programme, "closed", None, on=TODAY)
    set_programme_status(session, programme, "open", None, on=TODAY)  # reopened
    set_programme_status(session, programme, "closed", None, on=TODAY)
    waiting = make_application(session, programme)
    with pytest.raises(GrantError, match="1 applications still wait"):
        set_programme_status(session, programme, "archived", None, on=TODAY)
    withdraw_application(session, waiting, None)
    set_programme_status(session, programme, "archived", None, on=TODAY)
    for refused in ("open", "closed", "draft"):
        with pytest.raises(GrantError, match="cannot become"):
            set_programme_status(session, programme, refused, None, on=TODAY)
    assert [e.after["status"] for e in events(session, "grants:programme:status_changed")] == [
        "open", "closed", "open", "closed", "archived"]


def test_a_call_whose_closing_date_passed_cannot_open(session):
    programme = make_programme(session, status="draft")
    programme.opens_on, programme.closes_on = TODAY - dt.timedelta(days=20), TODAY - dt.timedelta(days=1)
    session.flush()
    with pytest.raises(GrantError, match="closed on"):
        set_programme_status(session, programme, "open", None, on=TODAY)
    assert programme.status == "draft"


def test_opening_checks_the_budget_again(session):
    fund = funded_fund(session, "50000.00")
    programme = create_programme(session, programme_values(fund, budget=D("50000.00"), max_request=None), RUBRIC,
                                 None, on=TODAY)
    post(session, fund, "10000.00", debit="5201", credit="1002")  # the fund spent money meanwhile
    with pytest.raises(FundShortfall):
        set_programme_status(session, programme, "open", None, on=TODAY)
    assert programme.status == "draft"


def test_the_rubric_and_fund_freeze_once_an_application_is_submitted(session):
    fund = funded_fund(session, "200000.00")
    programme = create_programme(session, programme_values(fund), RUBRIC, None, on=TODAY)
    other_fund = funded_fund(session, "200000.00")
    changed = [CriterionInput("Need", D("50")), CriterionInput("Value", D("50"))]
    update_programme(session, programme, {"title": "Renamed"}, changed, None, on=TODAY)  # no submission yet
    assert [c.name for c in programme.criteria] == ["Need", "Value"]
    make_application(session, programme)
    with pytest.raises(GrantError, match="rubric and fund can no longer change"):
        update_programme(session, programme, {}, RUBRIC, None, on=TODAY)
    with pytest.raises(GrantError, match="rubric and fund can no longer change"):
        update_programme(session, programme, {"fund_id": other_fund.id}, changed, None, on=TODAY)
    update_programme(session, programme, {"description": "More detail"}, changed, None, on=TODAY)
    assert programme.description == "More detail" and programme.fund_id == fund.id


def test_the_budget_cannot_drop_below_what_was_awarded(session):
    award = make_award(session, "10000.00")
    programme = session.get(Programme, award.programme_id)
    criteria = [CriterionInput(c.name, c.weight, c.max_score) for c in programme.criteria]
    with pytest.raises(GrantError, match="less than the 10,000.00 already awarded"):
        update_programme(session, programme, {"budget": D("9999.99")}, criteria, None, on=TODAY)


# --- starting and editing ------------------------------------------------------------------------------------------


def test_an_application_is_started_with_a_reference_and_an_empty_draft(session, started):
    programme, organisation, user, application = started
    assert re.fullmatch(rf"A{TODAY.year}-\d{{5}}", application.reference)
    assert application.status == "draft" and application.created_by_id == user.id
    assert [(v.version, v.is_frozen, v.community) for v in application.versions] == [(1, False, "")]
    assert events(session, "grants:application:created")[0].after["reference"] == application.reference
    other = start_application(session, programme, make_organisation(session), None, on=TODAY)
    assert int(other.reference[-5:]) == int(application.reference[-5:]) + 1


def test_one_live_application_per_organisation_and_programme(session, started):
    programme, organisation, user, application = started
    with pytest.raises(GrantError, match="already has application"):
        start_application(session, programme, organisation, user, on=TODAY)
    withdraw_application(session, application, user)
    assert start_application(session, programme, organisation, user, on=TODAY).status == "draft"


@pytest.mark.parametrize("change", ["closed", "draft", "before", "after"])
def test_only_an_open_call_takes_new_applications(session, change):
    organisation, user = make_applicant(session)
    programme = make_programme(session)
    if change in ("closed", "draft"):
        programme.status = change
    elif change == "before":
        programme.opens_on = TODAY + dt.timedelta(days=1)
        programme.closes_on = TODAY + dt.timedelta(days=2)
    else:
        programme.closes_on = TODAY - dt.timedelta(days=1)
        programme.opens_on = TODAY - dt.timedelta(days=9)
    session.flush()
    with pytest.raises(GrantError, match="not accepting applications"):
        start_application(session, programme, organisation, user, on=TODAY)
    assert count(session, Application) == 0


def test_a_draft_is_saved_with_its_budget_lines(session, started):
    _programme, _org, user, application = started
    version = complete(session, application)
    assert [(line.position, line.item, line.amount) for line in version.budget_lines] == [
        (1, "Workshops", D("9000.00")), (2, "Materials", D("1000.00"))]
    save_draft(session, application, {"title": "Shorter", "requested_amount": D("500.00")},
               [LineInput("Only line", D("500.00"))], user)
    session.expire_all()
    version = session.get(ApplicationVersion, version.id)
    assert version.title == "Shorter" and [line.item for line in version.budget_lines] == ["Only line"]
    saved = events(session, "grants:application:saved")
    assert saved[-1].before["title"] == "Elderly lunch club" and saved[-1].after["lines"] == [["", "Only line",
                                                                                              "500.00"]]


@pytest.mark.parametrize("values, lines, message", [
    ({"requested_amount": D("-1.00")}, [], "cannot be negative"),
    ({"beneficiaries_count": -3}, [], "whole number"),
    ({"starts_on": TODAY, "ends_on": TODAY - dt.timedelta(days=1)}, [], "cannot end"),
    ({}, [LineInput("", D("10.00"))], "description of the item"),
    ({}, [LineInput("Thing", D("0"))], "positive amount"),
    ({}, [LineInput("Thing", D("1.005"))], "two decimal places"),
    ({"title": "x" * 201}, [], "too long"),
])
def test_a_bad_draft_is_refused_and_nothing_is_written(session, started, values, lines, message):
    _programme, _org, user, application = started
    version = complete(session, application)
    before = [(line.item, line.amount) for line in version.budget_lines]
    saves = len(events(session, "grants:application:saved"))
    with pytest.raises(GrantError, match=message):
        save_draft(session, application, {"title": "Changed"} | values, lines, user)
    session.expire_all()
    version = session.get(ApplicationVersion, version.id)
    assert version.title == "Elderly lunch club"
    assert [(line.item, line.amount) for line in version.budget_lines] == before
    assert len(events(session, "grants:application:saved")) == saves


# --- submitting -----------------------------------------------------------------------------------------------------


def test_submitting_freezes_the_version_and_tells_the_applicant(session, started):
    _programme, _org, user, application = started
    complete(session, application)
    version = submit_application(session, application, user, on=TODAY)
    assert version.is_frozen and version.submitted_by_id == user.id
    assert application.status == "submitted" and application.submitted_at == version.submitted_at
    event = events(session, "grants:application:submitted")[0]
    assert (event.before, event.after) == ({"status": "draft"}, {"status": "submitted"})
    notice = session.scalar(select(Notification).where(Notification.user_id == user.id))
    assert application.reference in notice.subject and notice.link == f"/grants/applications/{application.id}"


def test_submitting_twice_or_editing_after_submission_is_refused(session, started):
    _programme, _org, user, application = started
    complete(session, application)
    submit_application(session, application, user, on=TODAY)
    with pytest.raises(GrantError, match="cannot be submitted now"):
        submit_application(session, application, user, on=TODAY)
    with pytest.raises(GrantError, match="cannot be edited now"):
        save_draft(session, application, {"title": "Sneaky"}, [], user)
    assert session.get(Application, application.id).current.title == "Elderly lunch club"
    assert len(events(session, "grants:application:submitted")) == 1


def test_the_database_refuses_any_change_to_a_submitted_version(session, started):
    _programme, _org, user, application = started
    version = complete(session, application)
    submit_application(session, application, user, on=TODAY)
    statements = [
        ("UPDATE application_versions SET title = 'Tampered' WHERE id = :id", {"id": version.id}),
        ("UPDATE application_versions SET submitted_at = NULL WHERE id = :id", {"id": version.id}),
        ("DELETE FROM application_versions WHERE id = :id", {"id": version.id}),
        ("UPDATE application_budget_lines SET amount = 1 WHERE version_id = :id", {"id": version.id}),
        ("DELETE FROM application_budget_lines WHERE version_id = :id", {"id": version.id}),
        ("INSERT INTO application_budget_lines (version_id, position, category, item, amount) "
         "VALUES (:id, 9, '', 'Extra', 100)", {"id": version.id}),
    ]
    for sql, params in statements:
        with pytest.raises(DBAPIError), session.begin_nested():
            session.execute(text(sql), params)
    session.expire_all()
    version = session.get(ApplicationVersion, version.id)
    assert version.title == "Elderly lunch club" and len(version.budget_lines) == 2


def test_an_unbalanced_budget_is_refused_with_the_figures_and_nothing_is_written(session, started):
    _programme, _org, user, application = started
    complete(session, application, "10000.00", lines=[LineInput("Workshops", D("9000.00")),
                                                      LineInput("Materials", D("999.99"))])
    with pytest.raises(ApplicationIncomplete) as refused:
        submit_application(session, application, user, on=TODAY)
    assert refused.value.problems == [
        "The budget lines add up to 9,999.99 but the request is 10,000.00; they must be equal."]
    session.expire_all()
    application = session.get(Application, application.id)
    assert application.status == "draft" and application.submitted_at is None
    assert not application.current.is_frozen
    assert not events(session, "grants:application:submitted")
    assert count(session, Notification) == 0


def test_every_missing_piece_is_listed(session, started):
    _programme, _org, user, application = started
    with pytest.raises(ApplicationIncomplete) as refused:
        submit_application(session, application, user, on=TODAY)
    problems = " ".join(refused.value.problems)
    for words in ("title", "community", "summary", "objectives", "who benefits", "number of beneficiaries",
                  "start and end dates", "amount requested", "budget lines"):
        assert words in problems
    assert session.get(Application, application.id).status == "draft"


@pytest.mark.parametrize("case, message", [
    ("over_max", "above this programme's largest grant (20,000.00)"),
    ("over_budget", "above the programme's whole budget"),
    ("ended", "has passed"),
    ("backwards", "cannot end before it starts"),
])
def test_requests_and_dates_are_checked(session, started, case, message):
    programme, _org, user, application = started
    if case == "over_max":
        complete(session, application, "20000.01")
    elif case == "over_budget":
        programme.max_request = None
        session.flush()
        complete(session, application, "50000.01")
    else:
        version = complete(session, application)
        version.starts_on = TODAY - dt.timedelta(days=100)
        version.ends_on = TODAY - dt.timedelta(days=1) if case == "ended" else TODAY - dt.timedelta(days=200)
        session.flush()
    with pytest.raises(ApplicationIncomplete, match=re.escape(message)):
        submit_application(session, application, user, on=TODAY)
    assert session.get(Application, application.id).status == "draft"


@pytest.mark.parametrize("change", ["closed", "deadline"])
def test_submitting_to_a_closed_programme_is_refused(session, started, change):
    programme, _org, user, application = started
    complete(session, application)
    if change == "closed":
        set_programme_status(session, programme, "closed", None, on=TODAY)
    on = TODAY if change == "closed" else programme.closes_on + dt.timedelta(days=1)
    with pytest.raises(ApplicationIncomplete, match="not accepting applications"):
        submit_application(session, application, user, on=on)
    assert session.get(Application, application.id).status == "draft"


# --- revisions ----------------------------------------------------------------------------------------------------


def test_a_revision_starts_a_copy_and_old_versions_stay_frozen(session, started):
    programme, _org, user, application = started
    staff = make_user(session, "finance")
    complete(session, application)
    submit_application(session, application, user, on=TODAY)
    with pytest.raises(GrantError, match="Say what"):
        request_revision(session, application, "  ", staff)
    with pytest.raises(GrantError, match="only be started when staff asked"):
        start_revision(session, application, user)
    request_revision(session, application, "Split the workshops line by month.", staff)
    assert application.status == "revision_requested"
    assert application.revision_note == "Split the workshops line by month."
    notice = session.scalars(select(Notification).where(Notification.user_id == user.id)
                             .order_by(Notification.id.desc())).first()
    assert notice.body == "Split the workshops line by month."
    with pytest.raises(GrantError, match="start the next version"):
        save_draft(session, application, {"title": "x"}, [], user)

    set_programme_status(session, programme, "closed", None, on=TODAY)  # a revision is still accepted
    v2 = start_revision(session, application, user)
    assert start_revision(session, application, user).id == v2.id  # started once
    assert v2.version == 2 and not v2.is_frozen and v2.title == "Elderly lunch club"
    assert [(line.item, line.amount) for line in v2.budget_lines] == [("Workshops", D("9000.00")),
                                                                       ("Materials", D("1000.00"))]
    save_draft(session, application, {**{k: getattr(v2, k) for k in ("title", "community", "summary", "objectives",
                                                                      "beneficiaries", "beneficiaries_count",
                                                                      "starts_on", "ends_on")},
                                      "requested_amount": D("10000.00")},
               [LineInput("Workshops March", D("4500.00")), LineInput("Workshops April", D("4500.00")),
                LineInput("Materials", D("1000.00"))], user)
    submit_application(session, application, user, on=TODAY)
    session.expire_all()
    application = session.get(Application, application.id)
    assert application.status == "submitted"
    assert [(v.version, v.is_frozen, len(v.budget_lines)) for v in application.versions] == [(1, True, 2),
                                                                                             (2, True, 3)]
    assert application.submitted_at == application.versions[0].submitted_at  # the first submission is kept
    assert [(s.status, s.version) for s in timeline(session, application)] == [
        ("draft", None), ("submitted", None), ("revision_requested", None), (None, 2), ("submitted", None)]


# --- withdrawal and staff screening -------------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["draft", "submitted", "in_review", "revision_requested", "recommended",
                                    "on_agenda"])
def test_withdrawing_before_a_decision(session, status):
    application = make_application(session, make_programme(session), status=status)
    withdraw_application(session, application, None, "We merged with another project.")
    assert application.status == "withdrawn"
    assert events(session, "grants:application:withdrawn")[0].after == {
        "status": "withdrawn", "note": "We merged with another project."}


@pytest.mark.parametrize("status", ["approved", "rejected", "withdrawn"])
def test_withdrawing_after_a_decision_is_refused(session, status):
    application = make_application(session, make_programme(session), status=status)
    with pytest.raises(GrantError, match="can no longer be withdrawn"):
        withdraw_application(session, application, None)
    assert session.get(Application, application.id).status == status


def test_withdrawing_an_awarded_application_is_refused(session):
    award = make_award(session, "5000.00")
    application = session.get(Application, award.application_id)
    with pytest.raises(GrantError, match="can no longer be withdrawn"):
        withdraw_application(session, application, None)


@pytest.mark.parametrize("status", ["submitted", "in_review"])
def test_staff_recommend_or_turn_down_at_screening(session, status):
    programme = make_programme(session)
    first = make_application(session, programme, status=status)
    second = make_application(session, programme, status=status)
    recommend(session, first, None)
    assert first.status == "recommended"
    with pytest.raises(GrantError, match="Give the reason"):
        reject_at_screening(session, second, "", None)
    reject_at_screening(session, second, "Outside the programme's area.", None)
    assert second.status == "rejected"
    assert events(session, "grants:application:status_changed")[-1].after == {
        "status": "rejected", "note": "Outside the programme's area."}


@pytest.mark.parametrize("status", ["draft", "revision_requested", "recommended", "approved", "withdrawn"])
def test_screening_actions_need_a_submitted_application(session, status):
    application = make_application(session, make_programme(session), status=status)
    for action in (lambda: recommend(session, application, None),
                   lambda: reject_at_screening(session, application, "No.", None),
                   lambda: request_revision(session, application, "Fix it.", None)):
        with pytest.raises(GrantError, match=f"“{re.escape(status_text(status))}”"):
            action()
    assert session.get(Application, application.id).status == status


def status_text(status: str) -> str:
    from fundapp.grants.transitions import STATUS_LABELS

    return STATUS_LABELS[status]


def test_a_reference_taken_meanwhile_is_skipped(session, monkeypatch):
    """Two applicants starting at once read the same last number; the loser of the race takes the next one."""
    from fundapp.grants import applications

    programme = make_programme(session)
    first = start_application(session, programme, make_organisation(session), None, on=TODAY)
    real, calls = applications._last_reference, []

    def stale_once(s, prefix):
        calls.append(prefix)
        return int(first.reference[-5:]) - 1 if len(calls) == 1 else real(s, prefix)

    monkeypatch.setattr(applications, "_last_reference", stale_once)
    second = start_application(session, programme, make_organisation(session), None, on=TODAY)
    assert len(calls) == 2  # the clash was seen and the number read again
    assert int(second.reference[-5:]) == int(first.reference[-5:]) + 1
    assert count(session, Application) == 2
