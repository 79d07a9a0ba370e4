"""Release from restriction at period end (fundapp/ledger/release.py), against lines written out by hand.

Fixture, year 2025 (today = 2026-02-10):
  GEN (unrestricted): 2025-01-10 gift 10,000.00; 2025-02-01 5201 expense 3,000.00           (unrestricted class)
  PR2 (restricted):   2025-01-05 gift  8,000.00; 2025-05-05 5101 expense 2,500.25           (restricted class)
  PRJ (restricted):   2025-02-14 gift 50,000.00; 2025-03-09 5101 expense 20,000.00;
                      2025-04-01 5201 expense 1,000.50                                     (restricted class)
                      2025-04-02 5101 expense 300.00 booked unrestricted (nothing to release)
                      2025-07-15 5101 expense 700.00 (restricted, after 06-30)

Release through 2025-06-30, one entry dated 2025-06-30, funds in code order (PR2 before PRJ):
  PR2: Dr 5101 2,500.25 (U) / Cr 5101 2,500.25 (R); Dr 3102 2,500.25 (R) / Cr 3101 2,500.25 (U)
  PRJ: Dr 5101 20,000.00 (U) / Cr 5101 20,000.00 (R); Dr 5201 1,000.50 (U) / Cr 5201 1,000.50 (R);
       Dr 3102 21,000.50 (R) / Cr 3101 21,000.50 (U)
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from fundapp.audit.models import AuditEvent
from fundapp.ledger.invariants import verify_ledger
from fundapp.ledger.models import JournalEntry, PeriodBalance
from fundapp.ledger.periods import close_through
from fundapp.ledger.queries import balances_as_of
from fundapp.ledger.release import (
    ReleaseError,
    default_through,
    plan_release,
    release_key,
    release_restrictions,
    unreleased,
)
from fundapp.ledger.services import LineSpec, post_entry
from fundapp.ledger.yearend import close_year, plan_close
from fundapp.reports.periods import ReportPeriod, year_period
from fundapp.reports.statements import activities, balance_sheet
from tests.factories import account, make_fund, make_user, post

TODAY = dt.date(2026, 2, 10)
JUNE = dt.date(2025, 6, 30)
H1 = ReportPeriod(dt.date(2025, 1, 1), JUNE)
D = Decimal

EXPECTED_JUNE = [
    ("5101", "PR2", "unrestricted", D("2500.25")),
    ("5101", "PR2", "restricted", D("-2500.25")),
    ("3102", "PR2", "restricted", D("2500.25")),
    ("3101", "PR2", "unrestricted", D("-2500.25")),
    ("5101", "PRJ", "unrestricted", D("20000.00")),
    ("5101", "PRJ", "restricted", D("-20000.00")),
    ("5201", "PRJ", "unrestricted", D("1000.50")),
    ("5201", "PRJ", "restricted", D("-1000.50")),
    ("3102", "PRJ", "restricted", D("21000.50")),
    ("3101", "PRJ", "unrestricted", D("-21000.50")),
]


def expense(session, fund, amount, day, code="5101", klass=None):
    amount = D(amount)
    return post_entry(session, effective_date=day, memo="fixture expense",
                      lines=[LineSpec(account(session, code), fund, amount, klass),
                             LineSpec(account(session, "1002"), fund, -amount, klass)],
                      idempotency_key=f"test:{uuid.uuid4()}")


@pytest.fixture()
def books(session):
    gen = make_fund(session, "GEN")
    prj = make_fund(session, "PRJ", restricted=True, fund_type="project")
    pr2 = make_fund(session, "PR2", restricted=True, fund_type="project")
    post(session, gen, "10000.00", date=dt.date(2025, 1, 10))
    expense(session, gen, "3000.00", dt.date(2025, 2, 1), "5201")
    post(session, pr2, "8000.00", date=dt.date(2025, 1, 5))
    expense(session, pr2, "2500.25", dt.date(2025, 5, 5))
    post(session, prj, "50000.00", date=dt.date(2025, 2, 14))
    expense(session, prj, "20000.00", dt.date(2025, 3, 9))
    expense(session, prj, "1000.50", dt.date(2025, 4, 1), "5201")
    expense(session, prj, "300.00", dt.date(2025, 4, 2), klass="unrestricted")
    expense(session, prj, "700.00", dt.date(2025, 7, 15))
    return gen, prj, pr2


def lines_of(entry):
    return [(x.account.code, x.fund.code, x.net_asset_class, x.amount) for x in entry.lines]


def written(session) -> tuple[int, int, int]:
    return tuple(session.scalar(select(func.count()).select_from(m)) for m in (JournalEntry, PeriodBalance, AuditEvent))


def restricted_expenses(session, as_of):
    kinds = {account(session, code).id for code in ("5101", "5201", "5301", "5401")}
    return {k: v for k, v in balances_as_of(session, as_of).items() if k[0] in kinds and k[2] == "restricted"}


def test_the_release_matches_the_hand_written_lines(session, books):
    actor = make_user(session, "finance")
    plan = plan_release(session, JUNE, TODAY)
    assert plan.postable and plan.blockers == []
    assert [(x.account.code, x.fund.code, x.net_asset_class, x.amount) for x in plan.lines] == EXPECTED_JUNE
    assert [(f.fund.code, f.total) for f in plan.funds] == [("PR2", D("2500.25")), ("PRJ", D("21000.50"))]
    entry = release_restrictions(session, JUNE, actor, today=TODAY)
    assert lines_of(entry) == EXPECTED_JUNE
    assert entry.effective_date == JUNE and entry.source_type == "restriction_release"
    assert entry.idempotency_key == release_key(JUNE) == "restriction-release:2025-06-30"
    assert entry.source_id == "2025-06-30" and entry.author_id == actor.id
    assert "2025-06-30" in entry.memo
    events = list(session.scalars(select(AuditEvent).where(AuditEvent.tag == "ledger:restrictions:released")))
    assert len(events) == 1 and events[0].actor_id == actor.id and str(events[0].subject_id) == str(entry.id)
    # what is left restricted: only July's 700.00 of PRJ
    assert restricted_expenses(session, JUNE) == {}
    _gen, prj, _pr2 = books
    assert restricted_expenses(session, dt.date(2025, 12, 31)) == {
        (account(session, "5101").id, prj.id, "restricted"): D("700.00")}
    assert verify_ledger(session) == []


def test_the_memo_is_in_the_books_language(session, books, app):
    entry = release_restrictions(session, JUNE, None, today=TODAY)
    # the books' language is the default locale whatever the request's; the msgid is English until translated
    assert entry.memo.endswith("2025-06-30）") or entry.memo.endswith("(through 2025-06-30)")


def _change_by_class(session, period):
    sheet = balance_sheet(session, period)
    return {klass: sheet.value(key, "closing") - sheet.value(key, "opening")
            for klass, key in (("u", "na_unrestricted"), ("r", "na_restricted"))}


def test_the_statements_reconcile_without_an_implied_release(session, books):
    before = activities(session, H1)
    assert before.notes, "expenses booked as restricted without a release are flagged"
    figures_before = {c: before.value("change", c) for c in ("u", "r", "t")}
    release_restrictions(session, JUNE, None, today=TODAY)
    statement = activities(session, H1)
    assert statement.notes == [] and statement.problems == []
    # the release row now comes from the entry: 23,500.75 = 2,500.25 + 21,000.50
    assert (statement.value("release", "u"), statement.value("release", "r")) == (D("23500.75"), D("-23500.75"))
    # 净资产变动额 = the change of net assets on the balance sheet, class by class and in total
    change = _change_by_class(session, H1)
    assert statement.value("change", "u") == change["u"]
    assert statement.value("change", "r") == change["r"]
    assert statement.value("change", "t") == change["u"] + change["r"]
    # unrestricted: 10,000 - 3,000 - 300 - 23,500.75 (expenses) + 23,500.75 (release) = 6,700.00
    assert change["u"] == D("6700.00")
    # restricted: 8,000 + 50,000 - 23,500.75 released = 34,499.25
    assert change["r"] == D("34499.25")
    # the figures are those the implied release gave before: only the note is gone
    assert {c: statement.value("change", c) for c in ("u", "r", "t")} == figures_before
    assert not balance_sheet(session, H1).problems


def test_releasing_twice_is_refused_and_writes_nothing(session, books):
    first = release_restrictions(session, JUNE, None, today=TODAY)
    count = written(session)
    with pytest.raises(ReleaseError, match=f"already released through 2025-06-30 \\(entry #{first.seq}\\)"):
        release_restrictions(session, JUNE, None, today=TODAY)
    assert written(session) == count


def test_nothing_to_release_is_refused(session):
    gen = make_fund(session, "GEN")
    post(session, gen, "100.00", date=dt.date(2025, 1, 3))
    expense(session, gen, "40.00", dt.date(2025, 1, 4))
    count = written(session)
    with pytest.raises(ReleaseError, match="Nothing to release through 2025-06-30"):
        release_restrictions(session, JUNE, None, today=TODAY)
    assert written(session) == count


def test_a_closed_period_and_a_future_date_are_refused(session, books):
    close_through(session, 2025, 6, None, today=TODAY)
    count = written(session)
    with pytest.raises(ReleaseError, match="closed through 2025-06-30"):
        release_restrictions(session, JUNE, None, today=TODAY)
    with pytest.raises(ReleaseError, match="in the future"):
        release_restrictions(session, TODAY + dt.timedelta(days=1), None, today=TODAY)
    assert written(session) == count
    # a later open date releases everything up to it, July included
    entry = release_restrictions(session, dt.date(2025, 7, 31), None, today=TODAY)
    assert sum(x.amount for x in entry.lines if x.account.code == "3102") == D("24200.75")


def test_an_earlier_date_after_a_later_release_of_the_same_year_is_refused(session, books):
    later = release_restrictions(session, dt.date(2025, 7, 31), None, today=TODAY)
    _gen, prj, _pr2 = books
    expense(session, prj, "50.00", dt.date(2025, 5, 1))  # booked later, dated before the release
    count = written(session)
    with pytest.raises(ReleaseError, match=f"already released through 2025-07-31 \\(entry #{later.seq}\\)"):
        release_restrictions(session, JUNE, None, today=TODAY)
    assert written(session) == count
    # a later date picks it up, once
    entry = release_restrictions(session, dt.date(2025, 8, 31), None, today=TODAY)
    assert lines_of(entry) == [("5101", "PRJ", "unrestricted", D("50.00")), ("5101", "PRJ", "restricted", D("-50.00")),
                               ("3102", "PRJ", "restricted", D("50.00")), ("3101", "PRJ", "unrestricted", D("-50.00"))]


def test_each_year_is_released_within_itself(session, books):
    """A release in 2026 leaves 2025's restricted expenses to 2025 (its own release or close)."""
    _gen, prj, _pr2 = books
    expense(session, prj, "90.00", dt.date(2026, 1, 20))
    jan = release_restrictions(session, dt.date(2026, 1, 31), None, today=TODAY)
    assert [x.amount for x in jan.lines] == [D("90.00"), D("-90.00"), D("90.00"), D("-90.00")]
    # 2025 is still to release, although a release of a later date (in 2026) exists
    dec = release_restrictions(session, dt.date(2025, 12, 31), None, today=TODAY)
    assert sum(x.amount for x in dec.lines if x.account.code == "3102") == D("24200.75")
    assert restricted_expenses(session, dt.date(2026, 1, 31)) == {}


def test_the_year_end_close_includes_the_release(session, books):
    release_restrictions(session, JUNE, None, today=TODAY)
    plan = plan_close(session, 2025, today=TODAY)
    assert plan.release is not None and plan.release.total == D("700.00")
    done = close_year(session, 2025, None, today=TODAY)
    assert lines_of(done.release) == [("5101", "PRJ", "unrestricted", D("700.00")),
                                      ("5101", "PRJ", "restricted", D("-700.00")),
                                      ("3102", "PRJ", "restricted", D("700.00")),
                                      ("3101", "PRJ", "unrestricted", D("-700.00"))]
    assert done.release.effective_date == dt.date(2025, 12, 31) and done.release.seq == done.entry.seq - 1
    # the closing entry closes no expense in the restricted class
    assert not [x for x in done.entry.lines if x.account.code.startswith("5") and x.net_asset_class == "restricted"]
    # statement of the year: no implied release, and it reconciles with the balance sheet
    statement = activities(session, year_period(2025))
    assert statement.notes == []
    change = _change_by_class(session, year_period(2025))
    assert (statement.value("change", "u"), statement.value("change", "r")) == (change["u"], change["r"])
    assert statement.value("release", "u") == D("24200.75")
    assert verify_ledger(session) == []


def test_net_assets_per_fund_and_class_do_not_move(session, books):
    sheet_before = balance_sheet(session, year_period(2025))
    release_restrictions(session, JUNE, None, today=TODAY)
    sheet = balance_sheet(session, year_period(2025))
    for key in ("na_unrestricted", "na_restricted", "assets_total"):
        assert sheet.value(key, "closing") == sheet_before.value(key, "closing")


def test_an_inactive_fund_blocks_with_a_clear_message(session, books):
    _gen, _prj, pr2 = books
    pr2.status = "closed"
    session.flush()
    count = written(session)
    with pytest.raises(ReleaseError, match="Fund PR2 is not active"):
        release_restrictions(session, JUNE, None, today=TODAY)
    assert written(session) == count


def test_a_negative_restricted_balance_is_released_backwards(session):
    """A refund credited to a restricted expense beyond what was spent: the lines simply change sides."""
    prj = make_fund(session, "PRJ", restricted=True, fund_type="project")
    post(session, prj, "100.00", date=dt.date(2025, 1, 3))
    expense(session, prj, "-30.00", dt.date(2025, 1, 4))
    entry = release_restrictions(session, dt.date(2025, 1, 31), None, today=TODAY)
    assert lines_of(entry) == [("5101", "PRJ", "unrestricted", D("-30.00")), ("5101", "PRJ", "restricted", D("30.00")),
                               ("3102", "PRJ", "restricted", D("-30.00")), ("3101", "PRJ", "unrestricted", D("30.00"))]


def test_unreleased_reads_the_year_only(session, books):
    _gen, prj, pr2 = books
    assert unreleased(session, JUNE) == {
        (account(session, "5101").id, pr2.id): D("2500.25"),
        (account(session, "5101").id, prj.id): D("20000.00"),
        (account(session, "5201").id, prj.id): D("1000.50"),
    }
    assert unreleased(session, dt.date(2026, 1, 31)) == {}  # 2025 is not 2026's to release


def test_default_date(session):
    assert default_through(session, dt.date(2026, 2, 10)) == dt.date(2026, 1, 31)
    assert default_through(session, dt.date(2026, 1, 1)) == dt.date(2025, 12, 31)
    close_through(session, 2026, 1, None, today=dt.date(2026, 2, 10))
    assert default_through(session, dt.date(2026, 2, 10)) == dt.date(2026, 2, 10)


def test_a_release_of_expenses_booked_in_an_earlier_period_reconciles_and_says_so(session, books):
    """Released on 07-31 for expenses of the first half: the third quarter shows no expense of the first half,
    no release row for it, a note that says why, and still reconciles with the balance sheet."""
    release_restrictions(session, dt.date(2025, 7, 31), None, today=TODAY)
    q3 = ReportPeriod(dt.date(2025, 7, 1), dt.date(2025, 9, 30))
    statement = activities(session, q3)
    assert len(statement.notes) == 1 and "before the period" in statement.notes[0]
    assert "23,500.75" in statement.notes[0]
    # the 700.00 of July is released in Q3: an unrestricted expense, and a release of 700.00
    assert (statement.value("release", "u"), statement.value("release", "r")) == (D("700.00"), D("-700.00"))
    assert statement.value("expenses_total", "u") == D("700.00") and statement.value("expenses_total", "r") == 0
    start, end = balance_sheet(session, H1), balance_sheet(session, q3)
    for column, key in (("u", "na_unrestricted"), ("r", "na_restricted")):
        assert statement.value("change", column) == end.value(key, "closing") - start.value(key, "closing")
    # and the first half, read after the release of 07-31, still shows its release (implied, with the note)
    h1 = activities(session, H1)
    assert h1.value("release", "u") == D("23500.75") and "without a release entry" in h1.notes[0]
