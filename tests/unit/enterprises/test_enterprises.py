"""Enterprise records: portal users must have the enterprise role and belong to one enterprise; related parties
must be board members; credit codes are checked; every save is audited."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from fundapp.audit.models import AuditEvent
from fundapp.enterprises.enterprises import save_enterprise
from fundapp.enterprises.errors import EnterpriseError
from fundapp.enterprises.queries import find_enterprise_for_user
from tests.factories import make_user
from tests.unit.enterprises.factories import make_enterprise


def test_portal_users_and_related_parties_are_linked_and_audited(session):
    portal = make_user(session, "enterprise", email="canteen@example.org")
    board = make_user(session, "board", email="director@example.org")
    enterprise = make_enterprise(session, "幸福食堂", credit_code="91350100M000100Y43", sector="餐饮",
                                 community="幸福社区", member_emails=["Canteen@Example.org"],
                                 related_user_ids=[board.id], related_party_note="理事担任监事")
    assert [m.user_id for m in enterprise.members] == [portal.id]
    assert enterprise.is_related_party and [r.user_id for r in enterprise.related_parties] == [board.id]
    assert find_enterprise_for_user(session, portal.id) is enterprise
    save_enterprise(session, enterprise, {"name": "幸福食堂", "status": "suspended"}, None)
    assert not enterprise.members and not enterprise.is_related_party and enterprise.status == "suspended"
    tags = list(session.scalars(select(AuditEvent.tag).where(AuditEvent.subject_type == "enterprise")))
    assert tags == ["enterprises:enterprise:created", "enterprises:enterprise:updated"]


@pytest.mark.parametrize("make_values, message", [
    (lambda s: {"member_emails": [make_user(s, "donor").email]}, "does not have the enterprise role"),
    (lambda s: {"member_emails": ["nobody@example.org"]}, "no user with the email"),
    (lambda s: {"related_user_ids": [make_user(s, "finance").id]}, "must be a board member"),
    (lambda s: {"credit_code": "91350100M000100Y44"}, "fails its check character"),
    (lambda s: {"status": "bankrupt"}, "Choose a status"),
    (lambda s: {"name": "  "}, "needs a name"),
])
def test_bad_enterprise_values_are_refused(session, make_values, message):
    values = {"name": "甲企业"} | make_values(session)
    members, related = values.pop("member_emails", ()), values.pop("related_user_ids", ())
    with pytest.raises(EnterpriseError, match=message):
        save_enterprise(session, None, values, None, member_emails=members, related_user_ids=related)


def test_a_portal_user_belongs_to_one_enterprise_and_a_credit_code_to_one_enterprise(session):
    portal = make_user(session, "enterprise")
    make_enterprise(session, "甲", credit_code="91350100M000100Y43", member_emails=[portal.email])
    with pytest.raises(EnterpriseError, match="already linked to another enterprise"):
        make_enterprise(session, "乙", member_emails=[portal.email])
    with pytest.raises(EnterpriseError, match="already has this credit code"):
        make_enterprise(session, "丙", credit_code="91350100M000100Y43")
