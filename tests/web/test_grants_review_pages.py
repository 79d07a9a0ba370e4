"""Review pages: the reviewer's declaration and score sheet, role boundaries, staff assigning and unassigning,
the ranking page and its CSV, bulk assignment and recommending from the ranking."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from fundapp.auth.models import User
from fundapp.db import utcnow
from fundapp.grants import review
from fundapp.grants.models import (
    Application,
    ApplicationAttachment,
    ApplicationStatus,
    AssignmentStatus,
    Programme,
    ReviewAssignment,
    ReviewScore,
)
from fundapp.grants.review import ScoreInput
from fundapp.notify.models import Notification
from tests.factories import make_user
from tests.grants_builders import make_application, make_programme

S = ApplicationStatus


@dataclass(frozen=True)
class Case:
    programme: int
    application: int
    assignment: int
    criteria: tuple[int, ...]


def assigned(app_ctx, reviewer_id: int, *, no_conflict: bool = False, **application) -> Case:
    """A programme, an application in review, and an assignment of `reviewer_id` to it."""
    with app_ctx() as s:
        staff = make_user(s, "finance")
        programme = make_programme(s)
        app = make_application(s, programme, **application)
        reviewer = s.get(User, reviewer_id)
        (assignment,) = review.assign_reviewers(s, app, [reviewer_id], staff)
        if no_conflict:
            review.confirm_no_conflict(s, assignment, reviewer)
        s.commit()
        return Case(programme.id, app.id, assignment.id, tuple(c.id for c in programme.criteria))


def assignment_of(app_ctx, assignment_id: int) -> tuple[str, bool, dict[int, Decimal]]:
    with app_ctx() as s:
        a = s.get(ReviewAssignment, assignment_id)
        return a.status, a.no_conflict, {x.criterion_id: x.score for x in a.scores}


def sheet(case: Case, *scores: str, **extra) -> dict:
    data = {f"score_{c}": v for c, v in zip(case.criteria, scores, strict=True)}
    data |= {f"comment_{c}": f"note on criterion {c}" for c, v in zip(case.criteria, scores, strict=True) if v}
    return data | {"comment": "Overall fine"} | extra


def switch(client, login, role: str) -> int:
    """Sign out whoever is signed in, then sign in a new user with `role`."""
    client.post("/auth/logout")
    return login(role)


def url(case: Case, action: str = "") -> str:
    return f"/grants/reviews/{case.assignment}{action}"


# --- the reviewer ---------------------------------------------------------------------------------------------


def test_declare_no_conflict_then_save_a_draft_then_submit(client, login, app_ctx):
    me = login("reviewer")
    case = assigned(app_ctx, me)

    page = client.get(url(case)).get_data(as_text=True)
    assert "First: any conflict of interest?" in page and f'name="score_{case.criteria[0]}"' not in page
    assert "Elderly residents" in page  # the application's content, read-only

    assert client.post(url(case, "/no-conflict"), data={}).status_code == 400  # the box was not ticked
    assert assignment_of(app_ctx, case.assignment) == ("assigned", False, {})
    response = client.post(url(case, "/no-conflict"), data={"confirm": "y"})
    assert response.status_code == 302
    page = client.get(url(case)).get_data(as_text=True)
    assert "First: any conflict" not in page and f'name="score_{case.criteria[0]}"' in page

    assert client.post(url(case, "/scores"), data=sheet(case, "7.5", "", "", save="Save draft")).status_code == 302
    assert assignment_of(app_ctx, case.assignment) == ("assigned", True, {case.criteria[0]: Decimal("7.5")})
    assert 'value="7.5"' in client.get(url(case)).get_data(as_text=True)

    incomplete = client.post(url(case, "/scores"), data=sheet(case, "7.5", "6", "", send="Submit", final="y"))
    assert incomplete.status_code == 400 and "missing: Value" in incomplete.get_data(as_text=True)
    unconfirmed = client.post(url(case, "/scores"), data=sheet(case, "7.5", "6", "9", send="Submit"))
    assert unconfirmed.status_code == 400 and "review is final" in unconfirmed.get_data(as_text=True)
    assert assignment_of(app_ctx, case.assignment) == ("assigned", True, {case.criteria[0]: Decimal("7.5")})

    done = client.post(url(case, "/scores"), data=sheet(case, "7.5", "6", "9", send="Submit", final="y"))
    assert done.status_code == 302 and done.headers["Location"].endswith("/grants/reviews/")
    status, _none, scores = assignment_of(app_ctx, case.assignment)
    assert status == "submitted" and scores == dict(zip(case.criteria, map(Decimal, ("7.5", "6", "9")), strict=True))
    # 7.5/10×40 + 6/10×35 + 9/10×25 = 30 + 21 + 22.5
    assert "Weighted total: 73.50 of 100" in client.get(url(case)).get_data(as_text=True)

    again = client.post(url(case, "/scores"), data=sheet(case, "1", "1", "1", send="Submit", final="y"))
    assert again.status_code == 400 and "submitted and is final" in again.get_data(as_text=True)
    draft = client.post(url(case, "/scores"), data=sheet(case, "1", "1", "1", save="Save draft"))
    assert draft.status_code == 400
    assert client.post(url(case, "/conflict"), data={"note": "late"}).status_code == 400
    assert assignment_of(app_ctx, case.assignment)[2] == scores


@pytest.mark.parametrize("bad", ["11", "10.5", "-1", "7.25", "abc", "1e1"])
def test_scores_out_of_range_are_marked_and_nothing_saved(client, login, app_ctx, bad):
    me = login("reviewer")
    case = assigned(app_ctx, me, no_conflict=True)
    response = client.post(url(case, "/scores"), data=sheet(case, bad, "5", "5", save="Save draft"))
    assert response.status_code == 400
    assert "Enter a score from 0 to 10, with at most one decimal." in response.get_data(as_text=True)
    assert assignment_of(app_ctx, case.assignment) == ("assigned", True, {})


def test_scoring_before_the_declaration_is_refused(client, login, app_ctx):
    me = login("reviewer")
    case = assigned(app_ctx, me)
    response = client.post(url(case, "/scores"), data=sheet(case, "5", "5", "5", save="Save draft"))
    assert response.status_code == 400 and "before scoring" in response.get_data(as_text=True)
    assert assignment_of(app_ctx, case.assignment) == ("assigned", False, {})


def test_a_declared_conflict_takes_the_reviewer_off_the_application(client, login, app_ctx):
    me = login("reviewer")
    case = assigned(app_ctx, me)
    with app_ctx() as s:
        version = s.get(Application, case.application).latest_submitted
        attachment = ApplicationAttachment(version_id=version.id, stored_name="f" * 32, original_name="plan.pdf",
                                           kind="pdf", size=10, sha256="0" * 64, uploaded_at=utcnow())
        s.add(attachment)
        s.commit()
        attachment_id = attachment.id
    assert client.get(f"/grants/attachments/{attachment_id}").status_code == 404  # allowed; the file is not on disk
    assert client.get(f"/grants/applications/{case.application}").status_code == 200

    empty = client.post(url(case, "/conflict"), data={"note": "  "})
    assert empty.status_code == 400 and assignment_of(app_ctx, case.assignment)[0] == "assigned"
    response = client.post(url(case, "/conflict"), data={"note": "I chair their board"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/grants/reviews/")

    assert assignment_of(app_ctx, case.assignment)[0] == "conflicted"
    assert client.get(url(case)).status_code == 403
    assert client.get(f"/grants/attachments/{attachment_id}").status_code == 403
    assert client.get(f"/grants/applications/{case.application}").status_code == 403
    for action in ("/scores", "/no-conflict", "/conflict"):
        assert client.post(url(case, action), data={"confirm": "y", "note": "x"}).status_code == 403
    mine = client.get("/grants/reviews/").get_data(as_text=True)
    assert "Conflict declared" in mine and url(case) not in mine
    with app_ctx() as s:
        told = s.scalars(select(Notification).where(Notification.kind == "review_conflict")).all()
        assert told and all(n.link == f"/grants/applications/{case.application}/reviewers" for n in told)


def test_reviewers_see_only_their_own_assignments(client, login, app_ctx):
    other = login("reviewer")
    theirs = assigned(app_ctx, other, no_conflict=True)
    me = switch(client, login, "reviewer")
    mine = assigned(app_ctx, me)
    listing = client.get("/grants/reviews/").get_data(as_text=True)
    assert url(mine) in listing and url(theirs) not in listing
    assert client.get(url(theirs)).status_code == 403
    assert client.post(url(theirs, "/scores"), data=sheet(theirs, "5", "5", "5", save="Save")).status_code == 403
    assert client.post(url(theirs, "/conflict"), data={"note": "x"}).status_code == 403
    assert client.post(url(theirs, "/no-conflict"), data={"confirm": "y"}).status_code == 403
    assert client.get(f"/grants/programmes/{theirs.programme}/ranking").status_code == 403
    assert client.get("/grants/reviews/999999").status_code == 404
    assert assignment_of(app_ctx, theirs.assignment) == ("assigned", True, {})


def test_applicants_see_no_reviews_at_all(client, login, app_ctx):
    reviewer = login("reviewer")
    case = assigned(app_ctx, reviewer, no_conflict=True)
    switch(client, login, "applicant")
    for path in (url(case), "/grants/reviews/", f"/grants/programmes/{case.programme}/ranking",
                 f"/grants/programmes/{case.programme}/ranking.csv",
                 f"/grants/applications/{case.application}/reviewers"):
        assert client.get(path).status_code == 403, path


def test_board_reads_a_submitted_review_but_not_a_draft(client, login, app_ctx):
    reviewer = login("reviewer")
    case = assigned(app_ctx, reviewer, no_conflict=True)
    client.post(url(case, "/scores"), data=sheet(case, "3", "4", "", save="Save draft"))
    switch(client, login, "board")
    page = client.get(url(case)).get_data(as_text=True)
    assert "has not submitted this review yet" in page and "note on criterion" not in page
    assert 'name="score_' not in page
    assert client.post(url(case, "/scores"), data=sheet(case, "5", "5", "5", save="Save")).status_code == 403
    with app_ctx() as s:
        a = s.get(ReviewAssignment, case.assignment)
        review.save_review(s, a, [ScoreInput(c, Decimal("5")) for c in case.criteria], "ok", a.reviewer, submit=True)
        s.commit()
    page = client.get(url(case)).get_data(as_text=True)
    assert "Weighted total: 50.00 of 100" in page and "has not submitted" not in page


# --- staff: assigning -----------------------------------------------------------------------------------------


def test_staff_assign_several_reviewers_and_take_one_off(client, login, app_ctx):
    login("finance")
    with app_ctx() as s:
        programme = make_programme(s)
        app = make_application(s, programme)
        one, two, board = make_user(s, "reviewer"), make_user(s, "reviewer"), make_user(s, "board")
        s.commit()
        app_id, ids, board_id = app.id, (one.id, two.id), board.id
    path = f"/grants/applications/{app_id}/reviewers"
    page = client.get(path).get_data(as_text=True)
    assert f'value="{ids[0]}"' in page and f'value="{board_id}"' not in page

    assert client.post(path, data={"reviewers": [board_id]}).status_code == 400
    assert client.post(path, data={}).status_code == 400
    with app_ctx() as s:
        assert s.scalar(select(func.count()).select_from(ReviewAssignment)) == 0

    assert client.post(path, data={"reviewers": list(ids)}).status_code == 302
    with app_ctx() as s:
        assert s.get(Application, app_id).status == S.in_review.value
        rows = s.scalars(select(ReviewAssignment).order_by(ReviewAssignment.id)).all()
        assert [r.reviewer_id for r in rows] == list(ids)
        told = s.scalars(select(Notification.user_id).where(Notification.kind == "review_assigned")).all()
        assert sorted(told) == sorted(ids)
        first, second = rows[0].id, rows[1].id
        review.confirm_no_conflict(s, rows[1], rows[1].reviewer)
        review.save_review(s, rows[1], [ScoreInput(rows[1].application.programme.criteria[0].id, Decimal("4"))],
                           "", rows[1].reviewer)
        s.commit()

    assert client.post(f"/grants/reviews/{first}/unassign").status_code == 302
    refused = client.post(f"/grants/reviews/{second}/unassign", follow_redirects=True)
    assert "started scoring" in refused.get_data(as_text=True)
    with app_ctx() as s:
        assert [r.id for r in s.scalars(select(ReviewAssignment))] == [second]


def test_only_staff_assign(client, login, app_ctx):
    reviewer = login("reviewer")
    case = assigned(app_ctx, reviewer)
    for role in ("board", "reviewer", "applicant"):
        switch(client, login, role)
        assert client.post(f"/grants/applications/{case.application}/reviewers",
                           data={"reviewers": [reviewer]}).status_code == 403
        assert client.post(f"/grants/reviews/{case.assignment}/unassign").status_code == 403
    with app_ctx() as s:
        assert s.scalar(select(func.count()).select_from(ReviewAssignment)) == 1


# --- the ranking ----------------------------------------------------------------------------------------------


def submitted(s, app, staff, *scores):
    reviewer = make_user(s, "reviewer")
    (a,) = review.assign_reviewers(s, app, [reviewer.id], staff)
    review.confirm_no_conflict(s, a, reviewer)
    review.save_review(s, a, [ScoreInput(c.id, Decimal(x)) for c, x in zip(app.programme.criteria, scores,
                                                                            strict=True)], "", reviewer, submit=True)


@pytest.fixture()
def ranking_case(app_ctx):
    """Budget 20,000. X (12,000): 9/9/9 = 90 and 7/7/7 = 70 → 80.00, σ 10.00; Y (10,000): 5/5/5 → 50.00;
    Z waiting (submitted, no reviewer)."""
    with app_ctx() as s:
        staff = make_user(s, "finance")
        programme = make_programme(s, budget="20000.00")
        x = make_application(s, programme, amount="12000.00", title="Elder canteen")
        y = make_application(s, programme, amount="10000.00", title="Youth library")
        z = make_application(s, programme, amount="3000.00", title="Garden")
        submitted(s, x, staff, "9", "9", "9")
        submitted(s, x, staff, "7", "7", "7")
        submitted(s, y, staff, "5", "5", "5")
        s.commit()
        return programme.id, x.id, y.id, z.id, x.reference, y.reference, z.reference


def test_ranking_page_shows_scores_spread_and_the_budget_line(client, login, ranking_case):
    programme_id, *_ids, x_ref, y_ref, z_ref = ranking_case
    login("board")
    page = client.get(f"/grants/programmes/{programme_id}/ranking").get_data(as_text=True)
    assert page.index(x_ref) < page.index(y_ref)
    for figure in ("80.00", "70.00 – 90.00", "10.00", "50.00", "12,000.00", "22,000.00", "Budget runs out here"):
        assert figure in page, figure
    assert z_ref not in page and "Mark as recommended" not in page  # board reads; staff act


def test_ranking_csv(client, login, ranking_case):
    programme_id, *_ids, x_ref, y_ref, _z = ranking_case
    login("finance")
    response = client.get(f"/grants/programmes/{programme_id}/ranking.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][:2] == ["Rank", "Application"]
    assert [(r[0], r[1], r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12], r[13], r[14]) for r in rows[1:]] == [
        ("1", x_ref, "80.00", "70.00", "90.00", "10.00", "2", "2", "0", "12000.00", "12000.00", "yes"),
        ("2", y_ref, "50.00", "50.00", "50.00", "0.00", "1", "1", "0", "10000.00", "22000.00", "no"),
    ]


def test_bulk_assign_and_recommend_from_the_ranking(client, login, app_ctx, ranking_case):
    programme_id, x_id, y_id, z_id, *_refs = ranking_case
    login("finance")
    page = client.get(f"/grants/programmes/{programme_id}/ranking").get_data(as_text=True)
    assert "Waiting for reviewers" in page and f'value="{z_id}"' in page
    with app_ctx() as s:
        reviewer_id = make_user(s, "reviewer").id
        s.commit()
    base = f"/grants/programmes/{programme_id}/ranking"
    assert client.post(f"{base}/assign", data={"applications": [z_id]}).status_code == 400  # no reviewer
    response = client.post(f"{base}/assign", data={"applications": [y_id, z_id], "reviewers": [reviewer_id]})
    assert response.status_code == 302
    with app_ctx() as s:
        pairs = s.execute(select(ReviewAssignment.application_id).where(ReviewAssignment.reviewer_id == reviewer_id))
        assert sorted(p for (p,) in pairs) == sorted([y_id, z_id])
        assert s.get(Application, z_id).status == S.in_review.value

    unconfirmed = client.post(f"{base}/recommend", data={"applications": [x_id]})
    assert unconfirmed.status_code == 400 and "Tick the box" in unconfirmed.get_data(as_text=True)
    response = client.post(f"{base}/recommend", data={"applications": [x_id], "confirm": "y", "note": "Top"})
    assert response.status_code == 302
    with app_ctx() as s:
        assert s.get(Application, x_id).status == S.recommended.value
        assert s.get(Application, y_id).status == S.in_review.value
    again = client.post(f"{base}/recommend", data={"applications": [x_id], "confirm": "y"})
    assert again.status_code == 400 and "cannot be recommended" in again.get_data(as_text=True)


def test_ranking_actions_are_staff_only(client, login, ranking_case):
    programme_id, x_id, *_rest = ranking_case
    for role in ("board", "reviewer", "applicant"):
        switch(client, login, role)
        base = f"/grants/programmes/{programme_id}/ranking"
        assert client.post(f"{base}/recommend", data={"applications": [x_id], "confirm": "y"}).status_code == 403
        assert client.post(f"{base}/assign", data={"applications": [x_id], "reviewers": [1]}).status_code == 403


def test_applications_of_another_programme_are_ignored(client, login, app_ctx, ranking_case):
    programme_id, *_rest = ranking_case
    with app_ctx() as s:
        other = make_application(s, make_programme(s), status=S.in_review.value)
        s.commit()
        other_id = other.id
    login("finance")
    response = client.post(f"/grants/programmes/{programme_id}/ranking/recommend",
                           data={"applications": [other_id], "confirm": "y"})
    assert response.status_code == 400
    with app_ctx() as s:
        assert s.get(Application, other_id).status == S.in_review.value


def test_ranking_page_queries_do_not_grow_with_applications(client, login, app_ctx, count_queries):
    login("finance")
    with app_ctx() as s:
        staff = make_user(s, "finance")
        programme = make_programme(s)
        for _ in range(2):
            submitted(s, make_application(s, programme), staff, "5", "6", "7")
        s.commit()
        programme_id = programme.id
    path = f"/grants/programmes/{programme_id}/ranking"
    client.get(path)
    with count_queries() as few:
        assert client.get(path).status_code == 200
    with app_ctx() as s:
        staff = make_user(s, "finance")
        programme = s.get(Programme, programme_id)
        for _ in range(6):
            submitted(s, make_application(s, programme), staff, "8", "2", "7")
        s.commit()
    with count_queries() as many:
        assert client.get(path).status_code == 200
    assert many[0] == few[0]


def test_my_reviews_filters_by_status(client, login, app_ctx):
    me = login("reviewer")
    todo = assigned(app_ctx, me)
    started = assigned(app_ctx, me, no_conflict=True)
    assert url(todo) in client.get("/grants/reviews/?state=declare").get_data(as_text=True)
    page = client.get("/grants/reviews/?state=scoring").get_data(as_text=True)
    assert url(started) in page and url(todo) not in page
    assert "No review matches" in client.get("/grants/reviews/?state=submitted").get_data(as_text=True)
    with app_ctx() as s:
        assert s.get(ReviewAssignment, started.assignment).status == AssignmentStatus.assigned.value
        assert s.scalar(select(func.count()).select_from(ReviewScore)) == 0
