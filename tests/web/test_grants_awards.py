"""Award pages: the list and the whole-life page, the schedule, payments and their second approval, the payment
advice, reports and their review, the close-out; and who may do which."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from decimal import Decimal
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from fundapp.auth.models import User
from fundapp.dates import local_today
from fundapp.grants.advice import advice_values
from fundapp.grants.awards import award_tranches, budget_lines
from fundapp.grants.decisions import Count, record_decision
from fundapp.grants.models import (
    AgendaItem,
    ApplicationStatus,
    Award,
    BoardAgenda,
    BoardRecusal,
    BoardVote,
    GrantReport,
    OrganisationMember,
    ReviewAssignment,
    ReviewScore,
    TranchePayment,
)
from fundapp.grants.payments import approve_payment
from fundapp.ledger.models import JournalEntry
from tests.factories import make_user
from tests.grants_award_builders import Cast, award_for, pay, report, schedule
from tests.grants_builders import funded_fund, make_application, make_organisation, make_programme

TODAY = local_today().isoformat()
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@dataclass(frozen=True)
class Ids:
    award: int
    organisation: int
    grantee: int
    maker: int
    number: str


@pytest.fixture()
def as_(client, login):
    """`as_("finance")`: sign out whoever is signed in, then sign in a new user with those roles."""

    def switch(*roles: str) -> int:
        client.post("/auth/logout")
        return login(*roles)

    return switch


@pytest.fixture()
def uploads(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "GRANT_UPLOAD_DIR", str(tmp_path / "grants"))
    return tmp_path / "grants"


def _award(app_ctx, amount: str = "10000.00", *, tranches: tuple[str, ...] = ("4000.00", "6000.00"),
           paid: int = 0) -> Ids:
    with app_ctx() as s:
        cast = Cast(s)
        award = award_for(s, cast, amount)
        if tranches:
            schedule(s, award, *tranches, actor=cast.maker)
        for seq in range(1, paid + 1):
            pay(s, award, seq, cast.maker)
        s.commit()
        return Ids(award.id, cast.organisation.id, cast.grantee.id, cast.maker.id, award.number)


def _people(s, ids: Ids) -> SimpleNamespace:
    """The grantee's user and a finance user (as `Cast` has them), for the report builder."""
    return SimpleNamespace(grantee=s.get(User, ids.grantee), maker=s.get(User, ids.maker))


def _member(app_ctx, user_id: int, organisation_id: int) -> None:
    with app_ctx() as s:
        s.add(OrganisationMember(organisation_id=organisation_id, user_id=user_id))
        s.commit()


def _counts(app_ctx) -> tuple[int, int, int]:
    with app_ctx() as s:
        return (s.scalar(select(func.count()).select_from(JournalEntry)),
                s.scalar(select(func.count()).select_from(TranchePayment)),
                s.scalar(select(func.count()).select_from(GrantReport)))


def _key(html: str) -> str:
    match = re.search(r'name="key" type="hidden" value="([^"]+)"', html)
    assert match, "no submission key on the form"
    return match.group(1)


def _tranche_field(html: str) -> str:
    match = re.search(r'name="tranche" type="hidden" value="(\d+)"', html)
    assert match, "no tranche on the form"
    return match.group(1)


def _pay(client, award_id: int, amount: str, *, key: str | None = None, reference: str = "TRX-1"):
    page = client.get(f"/grants/awards/{award_id}/pay").get_data(as_text=True)
    return client.post(f"/grants/awards/{award_id}/pay", data={
        "key": key or _key(page), "tranche": _tranche_field(page), "paid_on": TODAY, "amount": amount,
        "bank_reference": reference})


def _payment(app_ctx, award_id: int) -> TranchePayment:
    with app_ctx() as s:
        return s.scalars(select(TranchePayment).where(TranchePayment.award_id == award_id)
                         .order_by(TranchePayment.id.desc())).first()


# --- list and detail ----------------------------------------------------------------------------------------------


def test_staff_list_filter_and_export_awards(client, as_, app_ctx):
    first, second = _award(app_ctx), _award(app_ctx, "20000.00", tranches=())
    as_("finance")
    page = client.get("/grants/awards/").get_data(as_text=True)
    assert first.number in page and second.number in page
    page = client.get("/grants/awards/", query_string={"q": second.number}).get_data(as_text=True)
    assert second.number in page and first.number not in page
    page = client.get("/grants/awards/", query_string={"status": "closed"}).get_data(as_text=True)
    assert "No award matches these filters." in page
    csv = client.get("/grants/awards.csv", query_string={"sort": "amount"})
    assert csv.headers["Content-Type"].startswith("text/csv")
    rows = csv.get_data(as_text=True).lstrip("\ufeff").splitlines()
    assert rows[0].startswith("Award,Awarded on,Organisation")
    assert [r.split(",")[0] for r in rows[1:3]] == [second.number, first.number]


def test_an_applicant_lists_only_its_own_awards(client, as_, app_ctx):
    own, other = _award(app_ctx), _award(app_ctx)
    user_id = as_("applicant")
    page = client.get("/grants/awards/").get_data(as_text=True)
    assert "not linked to an organisation" in page and own.number not in page
    _member(app_ctx, user_id, own.organisation)
    page = client.get("/grants/awards/").get_data(as_text=True)
    assert own.number in page and other.number not in page
    csv = client.get("/grants/awards.csv").get_data(as_text=True)
    assert own.number in csv and other.number not in csv


def test_the_award_page_shows_the_grants_whole_life(client, as_, app_ctx):
    ids = _award(app_ctx, paid=1)
    as_("board")
    page = client.get(f"/grants/awards/{ids.award}").get_data(as_text=True)
    for text in ("Reviews", "Decision", "Approved by staff", "Payment schedule", "Milestone 2", "Payments",
                 "BANK-1", "Grantee reports", "Budget and spending", "Journal entries", "/ledger/entries/",
                 "4,000.00", "6,000.00", "Payment advice (PDF)", "/grants/applications/"):
        assert text in page, text
    assert "Pay tranche" not in page  # the board does not pay


def test_the_grantee_sees_its_award_without_the_books(client, as_, app_ctx):
    ids = _award(app_ctx, paid=1)
    user_id = as_("applicant")
    _member(app_ctx, user_id, ids.organisation)
    page = client.get(f"/grants/awards/{ids.award}").get_data(as_text=True)
    assert ids.number in page and "File a report" in page
    assert "Journal entries" not in page and "/ledger/entries/" not in page


def test_role_boundaries_on_an_award(client, as_, app_ctx):
    ids = _award(app_ctx, paid=1)
    payment_id = _payment(app_ctx, ids.award).id
    as_("reviewer")
    assert client.get("/grants/awards/").status_code == 403
    assert client.get(f"/grants/awards/{ids.award}").status_code == 403
    user_id = as_("applicant")
    _member(app_ctx, user_id, _other_organisation(app_ctx))
    assert client.get(f"/grants/awards/{ids.award}").status_code == 403
    assert client.get(f"/grants/payments/{payment_id}/advice.pdf").status_code == 403
    assert client.get("/grants/awards/999999").status_code == 404
    assert client.get(f"/grants/awards/{ids.award}/reports/new").status_code == 403
    as_("board")
    assert client.get(f"/grants/awards/{ids.award}/pay").status_code == 403
    assert client.post(f"/grants/payments/{payment_id}/approve").status_code == 403
    assert client.get(f"/grants/awards/{ids.award}/schedule").status_code == 403
    assert client.get(f"/grants/awards/{ids.award}/close").status_code == 403
    as_("admin")
    assert client.get(f"/grants/awards/{ids.award}/pay").status_code == 403  # finance pays


def _other_organisation(app_ctx) -> int:
    with app_ctx() as s:
        org = make_organisation(s)
        s.commit()
        return org.id


# --- schedule -----------------------------------------------------------------------------------------------------


def _rows(*rows: tuple[str, str, str, bool]) -> dict:
    data = {}
    for n, (amount, due, milestone, needs_report) in enumerate(rows):
        data |= {f"rows-{n}-amount": amount, f"rows-{n}-due_on": due, f"rows-{n}-milestone": milestone}
        if needs_report:
            data[f"rows-{n}-requires_report"] = "y"
    return data


def test_staff_set_the_schedule_on_the_page(client, as_, app_ctx):
    ids = _award(app_ctx, tranches=())
    as_("admin")
    page = client.get(f"/grants/awards/{ids.award}/schedule").get_data(as_text=True)
    assert 'name="rows-0-amount"' in page and 'name="rows-2-amount"' in page
    saved = client.post(f"/grants/awards/{ids.award}/schedule", data=_rows(
        ("3,000", TODAY, "Kick-off", False), ("7000.00", TODAY, "Mid-term", True), ("", "", "", True)))
    assert saved.status_code == 302
    with app_ctx() as s:
        assert [(t.amount, t.milestone, t.requires_report) for t in award_tranches(s, ids.award)] == [
            (Decimal("3000.00"), "Kick-off", False), (Decimal("7000.00"), "Mid-term", True)]


@pytest.mark.parametrize("rows, message", [
    ((("3000.00", TODAY, "", False), ("6000.00", TODAY, "", True)), "they must add up to the award, 10,000.00"),
    ((("abc", TODAY, "", False),), "Enter a number such as 1234.56."),
    ((("10000.00", "", "", False),), "Enter the date the tranche is due."),
])
def test_a_bad_schedule_is_refused_on_the_page(client, as_, app_ctx, rows, message):
    ids = _award(app_ctx, tranches=())
    as_("finance")
    refused = client.post(f"/grants/awards/{ids.award}/schedule", data=_rows(*rows))
    assert refused.status_code == 200 and message in refused.get_data(as_text=True)
    with app_ctx() as s:
        assert [t.amount for t in award_tranches(s, ids.award)] == [Decimal("10000.00")]


# --- payments -----------------------------------------------------------------------------------------------------


def test_finance_pays_a_tranche_and_downloads_the_advice(client, as_, app_ctx):
    ids = _award(app_ctx)
    as_("finance")
    page = client.get(f"/grants/awards/{ids.award}/pay").get_data(as_text=True)
    assert "6222" in page and "4,000.00" in page  # the organisation's bank account, the tranche
    paid = _pay(client, ids.award, "4,000.00")
    assert paid.status_code == 302 and "/grants/payments/" in paid.headers["Location"]
    payment = _payment(app_ctx, ids.award)
    assert payment.status == "paid" and payment.bank_reference == "TRX-1"
    advice = client.get(f"/grants/payments/{payment.id}/advice.pdf")
    assert advice.status_code == 200 and advice.headers["Content-Type"] == "application/pdf"
    assert advice.data.startswith(b"%PDF")


def test_the_advice_holds_the_payment_in_figures_and_words(app, session):
    cast = Cast(session)
    award = award_for(session, cast, "80000.00")
    payment = pay(session, award, 1, cast.maker)
    approve_payment(session, payment, cast.checker)
    values = advice_values(payment)
    assert values["amount"] == "80,000.00" and values["amount_capital"] == "捌万元整"
    assert values["award_number"] == award.number and values["bank_account_no"] == cast.organisation.bank_account_no
    assert values["maker"] == cast.maker.display_name and values["checker"] == cast.checker.display_name
    assert values["approved_at"] != "" and values["entry"].startswith("#")


def test_a_double_submitted_payment_form_pays_once(client, as_, app_ctx):
    ids = _award(app_ctx)
    as_("finance")
    key = _key(client.get(f"/grants/awards/{ids.award}/pay").get_data(as_text=True))
    assert _pay(client, ids.award, "4000", key=key).status_code == 302
    before = _counts(app_ctx)
    again = client.post(f"/grants/awards/{ids.award}/pay", data={
        "key": key, "tranche": "0", "paid_on": TODAY, "amount": "4000"})
    assert again.status_code == 302
    assert "already recorded" in client.get(again.headers["Location"]).get_data(as_text=True)
    assert _counts(app_ctx) == before
    with app_ctx() as s:
        assert s.get(Award, ids.award).paid_amount == Decimal("4000.00")


@pytest.mark.parametrize("amount, message", [
    ("10000.01", "more than the 10,000.00 still owed"),
    ("3999.99", "paid in full: 4,000.00"),
    ("", "Enter an amount."),
])
def test_a_refused_payment_shows_why_and_posts_nothing(client, as_, app_ctx, amount, message):
    ids = _award(app_ctx)
    as_("finance")
    before = _counts(app_ctx)
    refused = _pay(client, ids.award, amount)
    assert refused.status_code == 200 and message in refused.get_data(as_text=True)
    assert _counts(app_ctx) == before


def test_the_next_tranche_waits_for_its_report_on_the_page(client, as_, app_ctx):
    ids = _award(app_ctx, paid=1)
    as_("finance")
    refused = _pay(client, ids.award, "6000")
    assert "waits for the grantee&#39;s report" in refused.get_data(as_text=True)


def test_maker_checker_on_the_pages(client, as_, app_ctx):
    ids = _award(app_ctx, "80000.00", tranches=())
    maker = as_("finance")
    requested = _pay(client, ids.award, "80000")
    assert requested.status_code == 302
    page = client.get(requested.headers["Location"]).get_data(as_text=True)
    assert "second finance user" in page and "Approve and pay" not in page
    payment = _payment(app_ctx, ids.award)
    assert (payment.status, payment.requested_by_id) == ("awaiting_approval", maker)
    own = client.post(f"/grants/payments/{payment.id}/approve")
    assert own.status_code == 200 and "You requested this payment" in own.get_data(as_text=True)
    assert _payment(app_ctx, ids.award).status == "awaiting_approval"
    as_("finance")
    page = client.get(f"/grants/payments/{payment.id}").get_data(as_text=True)
    assert "Approve and pay" in page and "Reject the payment" in page
    assert client.post(f"/grants/payments/{payment.id}/reject", data={"reason": ""}).status_code == 200
    assert client.post(f"/grants/payments/{payment.id}/approve").status_code == 302
    done = _payment(app_ctx, ids.award)
    assert done.status == "paid" and done.approved_by_id not in (None, maker)


def test_a_checker_rejects_with_a_reason(client, as_, app_ctx):
    ids = _award(app_ctx, "80000.00", tranches=())
    as_("finance")
    _pay(client, ids.award, "80000")
    payment = _payment(app_ctx, ids.award)
    as_("finance")
    assert client.post(f"/grants/payments/{payment.id}/reject", data={"reason": "Wrong account"}).status_code == 302
    rejected = _payment(app_ctx, ids.award)
    assert (rejected.status, rejected.rejection_reason) == ("rejected", "Wrong account")
    assert client.get(f"/grants/payments/{payment.id}/advice.pdf").status_code == 404


# --- reports ------------------------------------------------------------------------------------------------------


def _report_form(**values) -> dict:
    return {"kind": "progress", "period_start": TODAY, "period_end": TODAY, "narrative": "Three workshops",
            "outputs": "Workshops", "beneficiaries_reached": "35", "spending-0": "1,000.00", "spending-1": "",
            "is_public": "y"} | values


def test_the_grantee_files_a_report_and_staff_accept_it(client, as_, app_ctx, uploads):
    ids = _award(app_ctx, paid=1)
    user_id = as_("applicant")
    _member(app_ctx, user_id, ids.organisation)
    page = client.get(f"/grants/awards/{ids.award}/reports/new").get_data(as_text=True)
    assert 'name="spending-0"' in page and 'name="spending-1"' in page
    filed = client.post(f"/grants/awards/{ids.award}/reports/new", data=_report_form(
        files=[(io.BytesIO(PNG), "workshop.png")]), content_type="multipart/form-data")
    assert filed.status_code == 302, filed.get_data(as_text=True)[:2000]
    assert len(list(uploads.iterdir())) == 1
    with app_ctx() as s:
        report_row = s.scalars(select(GrantReport).where(GrantReport.award_id == ids.award)).one()
        assert report_row.status == "submitted" and len(report_row.attachments) == 1
        assert [(sp.amount) for sp in report_row.spending] == [Decimal("1000.00")]
        report_id = report_row.id
    page = client.get(f"/grants/reports/{report_id}").get_data(as_text=True)
    assert "workshop.png" in page and "Accept the report" not in page
    as_("finance")
    assert client.post(f"/grants/reports/{report_id}/return", data={"reason": ""}).status_code == 200
    assert client.post(f"/grants/reports/{report_id}/accept", data={"note": "Good"}).status_code == 302
    with app_ctx() as s:
        assert s.get(GrantReport, report_id).status == "accepted"
    assert _pay(client, ids.award, "6000").status_code == 302  # the report unlocked tranche 2


@pytest.mark.parametrize("values, message", [
    ({"spending-0": "-5"}, "Enter a positive amount."),
    ({"spending-0": "4000.01"}, "cannot be more than the 4,000.00 paid so far"),
    ({"narrative": ""}, "Say what was done in the period."),
    ({"period_start": "2999-01-01", "period_end": "2999-01-02"}, "cannot end in the future"),
])
def test_a_bad_report_is_refused_on_the_page(client, as_, app_ctx, values, message):
    ids = _award(app_ctx, paid=1)
    user_id = as_("applicant")
    _member(app_ctx, user_id, ids.organisation)
    before = _counts(app_ctx)
    refused = client.post(f"/grants/awards/{ids.award}/reports/new", data=_report_form(**values))
    assert refused.status_code == 200 and message in refused.get_data(as_text=True)
    assert _counts(app_ctx) == before


def test_staff_return_a_report_and_the_grantee_files_again(client, as_, app_ctx):
    ids = _award(app_ctx, paid=1)
    with app_ctx() as s:
        filed = report(s, s.get(Award, ids.award), _people(s, ids), accept=False)
        s.commit()
        report_id = filed.id
    as_("admin")
    assert client.post(f"/grants/reports/{report_id}/return", data={"reason": "Add receipts"}).status_code == 302
    with app_ctx() as s:
        assert s.get(GrantReport, report_id).status == "returned"
    user_id = as_("applicant")
    _member(app_ctx, user_id, ids.organisation)
    assert client.post(f"/grants/awards/{ids.award}/reports/new", data=_report_form()).status_code == 302
    assert _counts(app_ctx)[2] == 2


# --- close-out ----------------------------------------------------------------------------------------------------


def _final(app_ctx, ids: Ids, spend: str) -> None:
    with app_ctx() as s:
        report(s, s.get(Award, ids.award), _people(s, ids), kind="final", spend=(spend,))
        s.commit()


def test_staff_close_an_award_after_confirming(client, as_, app_ctx):
    ids = _award(app_ctx, paid=1)
    as_("finance")
    page = client.get(f"/grants/awards/{ids.award}/close").get_data(as_text=True)
    assert "only after its final report was accepted" in page and 'name="confirm"' not in page
    _final(app_ctx, ids, "3500.00")
    page = client.get(f"/grants/awards/{ids.award}/close").get_data(as_text=True)
    assert 'value="500.00"' in page  # the unspent money, as the final report says
    data = {"closed_on": TODAY, "returned_amount": "500.00", "returned_on": TODAY, "return_reference": "RET-1",
            "note": "Done"}
    unconfirmed = client.post(f"/grants/awards/{ids.award}/close", data=data)
    assert unconfirmed.status_code == 200 and "Tick the box to confirm." in unconfirmed.get_data(as_text=True)
    closed = client.post(f"/grants/awards/{ids.award}/close", data=data | {"confirm": "y"})
    assert closed.status_code == 302
    with app_ctx() as s:
        award = s.get(Award, ids.award)
        assert (award.status, award.released_amount, award.returned_amount) == (
            "closed", Decimal("6000.00"), Decimal("500.00"))
    page = client.get(f"/grants/awards/{ids.award}").get_data(as_text=True)
    assert "Grant close-out" in page and "Pay tranche" not in page


def test_the_close_page_refuses_more_than_was_paid(client, as_, app_ctx):
    ids = _award(app_ctx, paid=1)
    _final(app_ctx, ids, "1000.00")
    as_("admin")
    before = _counts(app_ctx)
    refused = client.post(f"/grants/awards/{ids.award}/close", data={
        "closed_on": TODAY, "returned_amount": "4000.01", "returned_on": TODAY, "confirm": "y"})
    assert refused.status_code == 200 and "only 4,000.00 was paid" in refused.get_data(as_text=True)
    assert _counts(app_ctx) == before


def test_the_budget_lines_show_on_the_report_form(client, as_, app_ctx):
    ids = _award(app_ctx, paid=1)
    user_id = as_("applicant")
    _member(app_ctx, user_id, ids.organisation)
    page = client.get(f"/grants/awards/{ids.award}/reports/new").get_data(as_text=True)
    with app_ctx() as s:
        items = [line.item for line in budget_lines(s.get(Award, ids.award))]
    assert all(item in page for item in items)


def test_the_award_page_reads_a_fixed_number_of_queries(client, as_, app_ctx, count_queries):
    small = _award(app_ctx, tranches=("10000.00",), paid=1)
    large = _award(app_ctx, tranches=("2000.00", "2000.00", "2000.00", "2000.00", "2000.00"), paid=1)
    with app_ctx() as s:  # pay the rest of the large one, each after an accepted report
        award = s.get(Award, large.award)
        people = _people(s, large)
        for seq in range(2, 6):
            report(s, award, people)
            pay(s, award, seq, people.maker)
        s.commit()
    as_("finance")
    with count_queries() as few:
        assert client.get(f"/grants/awards/{small.award}").status_code == 200
    with count_queries() as many:
        assert client.get(f"/grants/awards/{large.award}").status_code == 200
    assert many[0] - few[0] <= 2, (few[0], many[0])


def _board_award(app_ctx) -> tuple[int, int]:
    """An award decided by the board (two votes for, one recusal) after two reviews; (award id, decision id)."""
    with app_ctx() as s:
        cast = Cast(s)
        programme = make_programme(s, funded_fund(s))
        application = make_application(s, programme, cast.organisation, amount="9000.00",
                                       status=ApplicationStatus.on_agenda.value)
        criteria = programme.criteria
        for name, points in (("Reviewer Wang", 8), ("Reviewer Li", 6)):
            reviewer = make_user(s, "reviewer", email=f"{name.split()[1].lower()}@example.org")
            reviewer.name = name
            assignment = ReviewAssignment(application_id=application.id, reviewer_id=reviewer.id,
                                          status="submitted", comment=f"{name} likes it")
            assignment.scores = [ReviewScore(criterion_id=c.id, score=Decimal(points)) for c in criteria]
            s.add(assignment)
        agenda = BoardAgenda(title="Spring board meeting", meeting_on=local_today(), status="open")
        s.add(agenda)
        s.flush()
        item = AgendaItem(agenda_id=agenda.id, position=1, application_id=application.id, amount=Decimal("9000.00"))
        s.add(item)
        s.flush()
        members = [make_user(s, "board") for _ in range(3)]
        members[0].name = "Director Zhao"
        s.add_all([BoardVote(item_id=item.id, member_id=members[0].id, choice="approve", comment="Worth it"),
                   BoardVote(item_id=item.id, member_id=members[1].id, choice="approve"),
                   BoardRecusal(item_id=item.id, member_id=members[2].id, reason="Sits on the applicant's board")])
        s.flush()
        decision = record_decision(s, application, kind="board", outcome="approved", amount=Decimal("9000.00"),
                                   actor=None, item_id=item.id,
                                   count=Count(votes_for=2, recused=1, eligible=2, quorum_rule="2/3",
                                               majority_rule="1/2"))
        s.commit()
        return s.scalars(select(Award.id).where(Award.application_id == application.id)).one(), decision.id


def test_the_award_page_shows_reviews_votes_recusals_and_the_minutes(client, as_, app_ctx):
    award_id, decision_id = _board_award(app_ctx)
    as_("admin")
    page = client.get(f"/grants/awards/{award_id}").get_data(as_text=True)
    for text in ("Reviewer Wang", "80.00", "60.00", "Mean weighted score: 70.00 of 100", "Reviewer Li likes it",
                 "Approved by the board", "2 for, 0 against, 0 abstaining, 1 recused",
                 "Director Zhao", "Worth it", "Sits on the applicant&#39;s board", "Spring board meeting",
                 f"/grants/decisions/{decision_id}/minutes.pdf"):
        assert text in page, text


def test_the_grantee_sees_the_decision_but_not_who_reviewed_or_voted(client, as_, app_ctx):
    award_id, _decision_id = _board_award(app_ctx)
    with app_ctx() as s:
        organisation_id = s.get(Award, award_id).organisation_id
    user_id = as_("applicant")
    _member(app_ctx, user_id, organisation_id)
    page = client.get(f"/grants/awards/{award_id}").get_data(as_text=True)
    assert "Approved by the board" in page and "70.00" in page
    for hidden in ("Reviewer Wang", "Director Zhao", "Worth it", "minutes.pdf"):
        assert hidden not in page, hidden


def test_pages_say_when_the_schedule_is_fixed_or_a_payment_waits(client, as_, app_ctx):
    paid = _award(app_ctx, paid=1)
    waiting = _award(app_ctx, "80000.00", tranches=())
    with app_ctx() as s:
        pay(s, s.get(Award, waiting.award), 1, s.get(User, waiting.maker))
        s.commit()
    as_("finance")
    page = client.get(f"/grants/awards/{paid.award}/schedule").get_data(as_text=True)
    assert "can no longer be changed" in page and 'name="rows-0-amount"' not in page
    refused = client.post(f"/grants/awards/{paid.award}/schedule", data=_rows(("10000.00", TODAY, "", False)))
    assert refused.status_code == 200 and "can no longer be changed" in refused.get_data(as_text=True)
    page = client.get(f"/grants/awards/{waiting.award}/pay").get_data(as_text=True)
    assert "already waiting for a second approver" in page and 'name="paid_on"' not in page


def test_a_stale_payment_form_never_pays_another_tranche(client, as_, app_ctx):
    ids = _award(app_ctx, tranches=("5000.00", "5000.00"))
    with app_ctx() as s:
        tranches = award_tranches(s, ids.award)
        tranches[1].requires_report = False  # so that only the order and the status can refuse
        s.commit()
        first = tranches[0].id
    as_("finance")
    page = client.get(f"/grants/awards/{ids.award}/pay").get_data(as_text=True)
    assert _tranche_field(page) == str(first)
    assert _pay(client, ids.award, "5000").status_code == 302  # someone pays tranche 1 meanwhile
    before = _counts(app_ctx)
    stale = client.post(f"/grants/awards/{ids.award}/pay", data={
        "key": _key(page), "tranche": str(first), "paid_on": TODAY, "amount": "5000"})
    assert stale.status_code == 200 and "Tranche 1 was already paid." in stale.get_data(as_text=True)
    bogus = client.post(f"/grants/awards/{ids.award}/pay", data={
        "key": _key(page), "tranche": "999999", "paid_on": TODAY, "amount": "5000"})
    assert "The tranche to pay has changed" in bogus.get_data(as_text=True)
    assert _counts(app_ctx) == before
