"""Enterprise writes: create and update an enterprise, its portal users and its related-party flags.

Portal users are users with role `enterprise`; each is linked to at most one enterprise and sees only it.
A related party (关联方) is a board member (role `board`) with an interest in the enterprise: the enterprise is
flagged wherever it appears, so its dealings can be disclosed and the member can recuse.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fundapp.audit.services import AuditTag, record_event, snapshot
from fundapp.auth.models import Role, User
from fundapp.donations.donors import credit_code_valid, normalise_id_code
from fundapp.enterprises.errors import EnterpriseError
from fundapp.enterprises.models import Enterprise, EnterpriseMember, EnterpriseStatus, RelatedParty

ENTERPRISE_FIELDS = ("name", "credit_code", "sector", "community", "contact_person", "phone", "email", "address",
                     "status", "related_party_note", "notes")
TEXT_LIMITS = {"name": 200, "credit_code": 50, "sector": 100, "community": 200, "contact_person": 100, "phone": 50,
               "email": 254, "address": 500, "related_party_note": 500, "notes": 5000}
STATUS_VALUES = {s.value for s in EnterpriseStatus}


def _clean(values: dict[str, Any]) -> dict[str, Any]:
    out = {k: values[k] for k in ENTERPRISE_FIELDS if k in values}
    for key in TEXT_LIMITS:
        if key in out:
            out[key] = (out[key] or "").strip()
    if "credit_code" in out:
        out["credit_code"] = normalise_id_code(out["credit_code"])
    if "email" in out:
        out["email"] = out["email"].lower()
    return out


def _validate(session: Session, values: dict[str, Any], enterprise: Enterprise | None) -> None:
    if not values.get("name"):
        raise EnterpriseError(_("An enterprise needs a name."))
    for key, limit in TEXT_LIMITS.items():
        if len(values.get(key) or "") > limit:
            raise EnterpriseError(_("%(field)s is too long (at most %(n)d characters).", field=key, n=limit))
    if values.get("status", EnterpriseStatus.active.value) not in STATUS_VALUES:
        raise EnterpriseError(_("Choose a status."))
    email = values.get("email")
    if email and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email):
        raise EnterpriseError(_("%(email)s is not a valid email address.", email=email))
    code = values.get("credit_code")
    if code and not credit_code_valid(code):
        raise EnterpriseError(_("This unified social credit code fails its check character; check it."))
    if code:
        clash = session.scalar(select(Enterprise).where(Enterprise.credit_code == code))
        if clash is not None and clash is not enterprise:
            raise EnterpriseError(_("Enterprise %(name)s (#%(id)d) already has this credit code.", name=clash.name,
                                    id=clash.id))


def _portal_users(session: Session, emails: Iterable[str], enterprise: Enterprise | None) -> list[User]:
    users = []
    for email in dict.fromkeys(e.strip().lower() for e in emails if e and e.strip()):
        user = session.scalar(select(User).where(func.lower(User.email) == email))
        if user is None:
            raise EnterpriseError(_("There is no user with the email %(email)s.", email=email))
        if not user.has_role(Role.enterprise.value):
            raise EnterpriseError(_("%(email)s does not have the enterprise role.", email=email))
        taken = session.scalar(select(EnterpriseMember).where(EnterpriseMember.user_id == user.id))
        if taken is not None and (enterprise is None or taken.enterprise_id != enterprise.id):
            raise EnterpriseError(_("%(email)s is already linked to another enterprise.", email=email))
        users.append(user)
    return users


def _board_members(session: Session, user_ids: Iterable[int]) -> list[User]:
    users = []
    for user_id in dict.fromkeys(user_ids):
        user = session.get(User, user_id)
        if user is None or not user.has_role(Role.board.value):
            raise EnterpriseError(_("A related party must be a board member."))
        users.append(user)
    return users


def _state(enterprise: Enterprise) -> dict[str, Any]:
    return snapshot(enterprise, ENTERPRISE_FIELDS) | {
        "members": sorted(m.user_id for m in enterprise.members),
        "related_parties": sorted(r.user_id for r in enterprise.related_parties),
    }


def _set_links(enterprise: Enterprise, members: list[User], related: list[User]) -> None:
    keep = [m for m in enterprise.members if m.user_id in {u.id for u in members}]
    have = {m.user_id for m in keep}
    enterprise.members = keep + [EnterpriseMember(user_id=u.id) for u in members if u.id not in have]
    keep_related = [r for r in enterprise.related_parties if r.user_id in {u.id for u in related}]
    have = {r.user_id for r in keep_related}
    enterprise.related_parties = keep_related + [RelatedParty(user_id=u.id) for u in related if u.id not in have]


def save_enterprise(session: Session, enterprise: Enterprise | None, values: dict[str, Any], actor: Any | None, *,
                    member_emails: Iterable[str] = (), related_user_ids: Iterable[int] = ()) -> Enterprise:
    """Create (`enterprise` None) or update an enterprise with its portal users and related board members."""
    values = _clean(values)
    merged = (snapshot(enterprise, ENTERPRISE_FIELDS) if enterprise else {}) | values
    _validate(session, merged, enterprise)
    members = _portal_users(session, member_emails, enterprise)
    related = _board_members(session, related_user_ids)
    before = _state(enterprise) if enterprise is not None else None
    if enterprise is None:
        enterprise = Enterprise(**values)
        session.add(enterprise)
    else:
        for key, value in values.items():
            setattr(enterprise, key, value)
    _set_links(enterprise, members, related)
    session.flush()
    tag = AuditTag.enterprise_created if before is None else AuditTag.enterprise_updated
    record_event(session, tag, actor, "enterprise", enterprise.id, before=before, after=_state(enterprise))
    return enterprise
