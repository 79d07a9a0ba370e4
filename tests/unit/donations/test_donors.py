"""Donors: validation, the portal link, merging duplicates without losing history, search and totals."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import select

from fundapp.audit.models import AuditEvent
from fundapp.donations.donors import (
    credit_code_valid,
    link_user,
    merge_donors,
    resident_id_valid,
    update_donor,
)
from fundapp.donations.errors import DonationError
from fundapp.donations.queries import donor_totals, donors_query, live_donor, outstanding_pledges
from fundapp.donations.services import reverse_donation
from tests.factories import make_fund, make_user
from tests.unit.donations.factories import gift, make_donor, pay, pledge

PERSON_ID = "11010519491231002X"
CREDIT_CODE = "91350100M000100Y43"


def test_check_digits_of_id_numbers_and_credit_codes():
    assert resident_id_valid(PERSON_ID) and not resident_id_valid("110105194912310021")
    assert credit_code_valid(CREDIT_CODE) and not credit_code_valid("91350100M000100Y44")


@pytest.mark.parametrize(
    "values, message",
    [
        ({"name": "  "}, "needs a name"),
        ({"kind": "robot"}, "person or an organisation"),
        ({"id_code": "110105194912310021"}, "check digit"),
        ({"kind": "organisation", "id_code": "91350100M000100Y44"}, "check character"),
        ({"id_code": "abc$%"}, "only letters"),
        ({"email": "not-an-email"}, "valid email"),
    ],
)
def test_bad_donor_values_are_refused(session, values, message):
    with pytest.raises(DonationError, match=message):
        make_donor(session, **({"name": "张三"} | values))


def test_id_code_is_normalised_and_unique_among_live_donors(session):
    donor = make_donor(session, "张三", id_code=" 11010519491231002x ")
    assert donor.id_code == PERSON_ID
    with pytest.raises(DonationError, match="already has this ID"):
        make_donor(session, "张叁", id_code=PERSON_ID)
    org = make_donor(session, "某某科技有限公司", kind="organisation", id_code=CREDIT_CODE)
    assert org.kind == "organisation"
    make_donor(session, "Jane Doe", id_code="E12345678")  # a passport number: no check digit to test


def test_portal_link_needs_the_donor_role_and_is_one_to_one(session):
    donor, other = make_donor(session), make_donor(session)
    with pytest.raises(DonationError, match="donor role"):
        link_user(session, donor, make_user(session, "finance"), None)
    user = make_user(session, "donor")
    link_user(session, donor, user, None)
    assert donor.user_id == user.id
    with pytest.raises(DonationError, match="already linked"):
        link_user(session, other, user, None)


def test_merge_moves_gifts_pledges_and_receipts_and_keeps_the_duplicate(session):
    fund = make_fund(session)
    survivor = make_donor(session, "王小明")
    duplicate = make_donor(session, "王晓明", phone="13800000000", id_code=PERSON_ID, notes="met at fair")
    mine = gift(session, fund, "10.00", donor=survivor)
    theirs = gift(session, fund, "20.00", donor=duplicate, issue=True)
    promised = pledge(session, fund, "30.00", duplicate)
    merge_donors(session, survivor, duplicate, None)
    assert duplicate.merged_into_id == survivor.id and duplicate.is_merged and duplicate.merged_at is not None
    assert mine.donor_id == theirs.donor_id == promised.donor_id == survivor.id
    assert theirs.active_receipt.payer_name == "王晓明"  # the receipt says what was printed
    assert (survivor.phone, survivor.id_code, survivor.notes) == ("13800000000", PERSON_ID, "met at fair")
    assert live_donor(duplicate) is survivor
    event = session.scalar(select(AuditEvent).where(AuditEvent.tag == "donations:donor:merged"))
    assert event.after["donations"] == [theirs.id] and event.after["pledges"] == [promised.id]
    assert event.before["duplicate"] == duplicate.id
    with pytest.raises(DonationError, match="merged"):
        update_donor(session, duplicate, {"name": "x"}, None)
    with pytest.raises(DonationError, match="merged"):
        merge_donors(session, duplicate, survivor, None)
    with pytest.raises(DonationError, match="two different"):
        merge_donors(session, survivor, survivor, None)


def test_merge_takes_over_the_portal_link(session):
    survivor, duplicate = make_donor(session), make_donor(session)
    user = make_user(session, "donor")
    link_user(session, duplicate, user, None)
    merge_donors(session, survivor, duplicate, None)
    assert survivor.user_id == user.id and duplicate.user_id is None


def test_search_sort_and_totals_count_only_recorded_gifts(session):
    fund = make_fund(session)
    small, big = make_donor(session, "甲 small"), make_donor(session, "乙 big", phone="021-555")
    gift(session, fund, "5.00", donor=small, on=dt.date(2026, 1, 2))
    gift(session, fund, "500.00", donor=big, on=dt.date(2026, 2, 3))
    reverse_donation(session, gift(session, fund, "9999.00", donor=small), "typo", None)
    ids = [small.id, big.id]
    by_total = [d.id for d in session.scalars(donors_query(sort="-total")) if d.id in ids]
    assert by_total == [big.id, small.id]
    assert [d.id for d in session.scalars(donors_query(text="021-555"))] == [big.id]
    totals = donor_totals(session, ids)
    assert (totals[small.id].total, totals[small.id].gifts) == (Decimal("5.00"), 1)
    assert totals[big.id].last == dt.date(2026, 2, 3)


def test_outstanding_pledges_are_aged_from_their_due_date(session):
    fund, donor = make_fund(session), make_donor(session)
    today = dt.date(2026, 9, 1)
    not_due = pledge(session, fund, "100.00", donor, on=dt.date(2026, 3, 1), due_on=dt.date(2026, 12, 31))
    overdue = pledge(session, fund, "300.00", donor, on=dt.date(2026, 3, 1), due_on=dt.date(2026, 6, 1))
    old = pledge(session, fund, "50.00", donor, on=dt.date(2025, 1, 1))
    pay(session, overdue, "100.00")
    paid = pledge(session, fund, "10.00", donor)
    pay(session, paid, "10.00")
    ageing = outstanding_pledges(session, today)
    mine = {p.id: bucket for p, bucket in ageing.rows if p.donor_id == donor.id}
    assert mine == {not_due.id: "not_due", overdue.id: "91-180", old.id: "over_180"}
    assert ageing.totals["91-180"] >= Decimal("200.00")
