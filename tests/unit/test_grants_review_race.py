"""Races on PostgreSQL, with real commits on a fresh database (threads cannot share the per-test transaction):
two staff assigning the same reviewer at once, a reviewer submitting the same review from two tabs, and staff
taking a reviewer off while the reviewer saves a draft. Each ends in one clean outcome and a clear refusal."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from fundapp.audit.models import AuditEvent
from fundapp.auth.models import User
from fundapp.extensions import db
from fundapp.grants import review
from fundapp.grants.errors import GrantError
from fundapp.grants.models import Application, ReviewAssignment, ReviewScore
from tests.concurrency import fresh_app, race
from tests.conftest import PG_URL
from tests.factories import make_user
from tests.grants_builders import make_application, make_programme

pytestmark = pytest.mark.skipif(not PG_URL, reason="TEST_DATABASE_URL is not set: the PostgreSQL race is skipped")


@pytest.fixture(scope="module")
def race_app(fresh_database_url):
    with fresh_app(fresh_database_url, "reviewrace") as app:
        yield app


def _run(app, target, args_list) -> list:
    return race(app, [(target, *args) for args in args_list], expected=(GrantError,))


def _setup(app, *, assign: bool, no_conflict: bool = False) -> dict:
    with app.test_request_context():
        staff = [make_user(db.session, "finance") for _ in range(2)]
        reviewer = make_user(db.session, "reviewer")
        programme = make_programme(db.session)
        application = make_application(db.session, programme)
        ids = {"staff": [u.id for u in staff], "reviewer": reviewer.id, "application": application.id,
               "criteria": [c.id for c in programme.criteria]}
        if assign:
            (assignment,) = review.assign_reviewers(db.session, application, [reviewer.id], staff[0])
            if no_conflict:
                review.confirm_no_conflict(db.session, assignment, reviewer)
            ids["assignment"] = assignment.id
        db.session.commit()
        return ids


def _count(app, model, **where) -> int:
    with app.app_context():
        stmt = select(func.count()).select_from(model)
        for name, value in where.items():
            stmt = stmt.where(getattr(model, name) == value)
        try:
            return db.session.scalar(stmt)
        finally:
            db.session.remove()


def _assign(application_id: int, reviewer_id: int, staff_id: int):
    return review.assign_reviewers(db.session, db.session.get(Application, application_id), [reviewer_id],
                                   db.session.get(User, staff_id))


def _submit(assignment_id: int, reviewer_id: int, criteria: list[int], submit: bool = True):
    assignment = db.session.get(ReviewAssignment, assignment_id)
    if assignment is None:  # already deleted when read: the page would answer 404
        raise GrantError("no longer assigned (404)")
    entries = [review.ScoreInput(c, Decimal("6")) for c in criteria]
    return review.save_review(db.session, assignment, entries, "", db.session.get(User, reviewer_id), submit=submit)


def _unassign(assignment_id: int, staff_id: int):
    review.unassign_reviewer(db.session, db.session.get(ReviewAssignment, assignment_id),
                             db.session.get(User, staff_id))
    return "unassigned"


def test_two_staff_assign_the_same_reviewer_at_once(race_app):
    ids = _setup(race_app, assign=False)
    results = _run(race_app, _assign, [(ids["application"], ids["reviewer"], s) for s in ids["staff"]])
    assert not [r for r in results if isinstance(r, tuple)], results
    made = [r for r in results if isinstance(r, list)]
    refused = [r for r in results if isinstance(r, GrantError)]
    assert len(made) == 1 and len(refused) == 1 and "already on" in refused[0].message
    assert _count(race_app, ReviewAssignment, application_id=ids["application"]) == 1
    assert _count(race_app, AuditEvent, tag="grants:application:status_changed",
                  subject_id=str(ids["application"])) == 1


def test_a_review_submitted_from_two_tabs_counts_once(race_app):
    ids = _setup(race_app, assign=True, no_conflict=True)
    args = (ids["assignment"], ids["reviewer"], ids["criteria"])
    results = _run(race_app, _submit, [args, args])
    assert not [r for r in results if isinstance(r, tuple)], results
    refused = [r for r in results if isinstance(r, GrantError)]
    assert len(refused) == 1 and "final" in refused[0].message
    assert _count(race_app, AuditEvent, tag="grants:review:submitted", subject_id=str(ids["application"])) == 1
    assert _count(race_app, ReviewScore, assignment_id=ids["assignment"]) == 3


def test_taking_a_reviewer_off_while_they_save_a_draft(race_app):
    ids = _setup(race_app, assign=True, no_conflict=True)
    results = _run(race_app, lambda kind, *a: _unassign(*a) if kind == "off" else _submit(*a, submit=False),
                   [("off", ids["assignment"], ids["staff"][0]),
                    ("save", ids["assignment"], ids["reviewer"], ids["criteria"])])
    assert not [r for r in results if isinstance(r, tuple)], results
    refused = [r for r in results if isinstance(r, GrantError)]
    assert len(refused) == 1, results
    if "unassigned" in results:  # staff first: the reviewer's save finds the assignment gone
        assert "no longer assigned" in refused[0].message
        assert _count(race_app, ReviewAssignment, id=ids["assignment"]) == 0
    else:  # the draft first: staff may no longer take the reviewer off
        assert "started scoring" in refused[0].message
        assert _count(race_app, ReviewScore, assignment_id=ids["assignment"]) == 3
