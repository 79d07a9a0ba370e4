"""Organisations (社会组织) that apply for grants, and the applicant users who act for them.

An applicant user creates their organisation's profile once (and is linked to it); staff can create one too and
link applicant users to it. One user acts for one organisation. The bank account is where awards are paid, so
every change of the profile is audited with the values before and after.
"""

from __future__ import annotations

import re
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from fundapp.audit.services import AuditTag, record_event, snapshot
from fundapp.auth.models import User
from fundapp.donations.donors import credit_code_valid, normalise_id_code
from fundapp.grants.errors import GrantError
from fundapp.grants.models import Organisation, OrganisationMember
from fundapp.grants.web import APPLICANT

ORGANISATION_FIELDS = ("name", "reg_no", "org_type", "community", "contact_name", "contact_phone", "contact_email",
                       "address", "bank_name", "bank_account_name", "bank_account_no")
TEXT_LIMITS = {"name": 200, "reg_no": 30, "org_type": 50, "community": 200, "contact_name": 100,
               "contact_phone": 50, "contact_email": 254, "address": 300, "bank_name": 200,
               "bank_account_name": 200, "bank_account_no": 50}
REQUIRED = {
    "name": _l("Enter the organisation's name."),
    "reg_no": _l("Enter the unified social credit code."),
    "contact_name": _l("Enter a contact person."),
    "contact_phone": _l("Enter a contact phone number."),
    "bank_name": _l("Enter the bank where grants are paid."),
    "bank_account_name": _l("Enter the name on the bank account."),
    "bank_account_no": _l("Enter the bank account number."),
}


def _clean(values: dict[str, Any]) -> dict[str, Any]:
    out = {key: (values.get(key) or "").strip() for key in ORGANISATION_FIELDS if key in values}
    if "reg_no" in out:
        out["reg_no"] = normalise_id_code(out["reg_no"])
    if "contact_email" in out:
        out["contact_email"] = out["contact_email"].lower()
    if "bank_account_no" in out:
        out["bank_account_no"] = re.sub(r"[\s-]+", "", out["bank_account_no"])
    return out


def _validate(session: Session, values: dict[str, Any], organisation: Organisation | None) -> None:
    for key, message in REQUIRED.items():
        if not values.get(key):
            raise GrantError(str(message))
    for key, limit in TEXT_LIMITS.items():
        if len(values.get(key) or "") > limit:
            raise GrantError(_("%(field)s is too long (at most %(n)d characters).", field=key, n=limit))
    if not credit_code_valid(values["reg_no"]):
        raise GrantError(_("This unified social credit code fails its check character; check it."))
    email = values.get("contact_email")
    if email and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email):
        raise GrantError(_("%(email)s is not a valid email address.", email=email))
    if not re.fullmatch(r"[0-9]{8,30}", values["bank_account_no"]):
        raise GrantError(_("A bank account number has 8 to 30 digits."))
    clash = session.scalar(select(Organisation).where(Organisation.reg_no == values["reg_no"]))
    if clash is not None and clash is not organisation:
        raise GrantError(_("Organisation %(name)s (#%(id)d) already has this credit code.", name=clash.name,
                           id=clash.id))


def organisation_of(session: Session, user_id: int) -> Organisation | None:
    """The organisation a user acts for, if any."""
    return session.scalar(select(Organisation).join(OrganisationMember)
                          .where(OrganisationMember.user_id == user_id))


def save_organisation(session: Session, organisation: Organisation | None, values: dict[str, Any],
                      actor: Any | None) -> Organisation:
    """Create (`organisation` None) or update an organisation's profile."""
    values = _clean(values)
    merged = (snapshot(organisation, ORGANISATION_FIELDS) if organisation is not None else {}) | values
    _validate(session, merged, organisation)
    if organisation is None:
        organisation = Organisation(**{key: merged.get(key, "") for key in ORGANISATION_FIELDS})
        session.add(organisation)
        session.flush()
        record_event(session, AuditTag.organisation_created, actor, "organisation", organisation.id,
                     after=snapshot(organisation, ORGANISATION_FIELDS))
        return organisation
    before = snapshot(organisation, ORGANISATION_FIELDS)
    for key, value in values.items():
        setattr(organisation, key, value)
    session.flush()
    after = snapshot(organisation, ORGANISATION_FIELDS)
    changed = [key for key in ORGANISATION_FIELDS if before[key] != after[key]]
    if changed:
        record_event(session, AuditTag.organisation_updated, actor, "organisation", organisation.id,
                     before={key: before[key] for key in changed}, after={key: after[key] for key in changed})
    return organisation


def create_own_organisation(session: Session, values: dict[str, Any], actor: User) -> Organisation:
    """An applicant user's first profile: the organisation is created and the user linked to it."""
    if not actor.has_role(APPLICANT):
        raise GrantError(_("Only an applicant user can register an organisation for themselves."))
    if organisation_of(session, actor.id) is not None:
        raise GrantError(_("You already act for an organisation; edit its profile instead."))
    organisation = save_organisation(session, None, values, actor)
    _link(session, organisation, actor, actor)
    return organisation


def _link(session: Session, organisation: Organisation, user: User, actor: Any | None) -> OrganisationMember:
    member = OrganisationMember(organisation_id=organisation.id, user_id=user.id)
    session.add(member)
    session.flush()
    record_event(session, AuditTag.organisation_member_linked, actor, "organisation", organisation.id,
                 after={"user": user.id, "email": user.email, "linked": True})
    return member


def link_member(session: Session, organisation: Organisation, email: str, actor: Any | None) -> OrganisationMember:
    """Let the applicant user with this email act for `organisation` (one organisation per user)."""
    email = (email or "").strip().lower()
    if not email:
        raise GrantError(_("Enter the email of an applicant user."))
    user = session.scalar(select(User).where(func.lower(User.email) == email))
    if user is None:
        raise GrantError(_("There is no user with the email %(email)s.", email=email))
    if not user.has_role(APPLICANT):
        raise GrantError(_("%(email)s does not have the applicant role.", email=email))
    current = organisation_of(session, user.id)
    if current is not None:
        if current.id == organisation.id:
            raise GrantError(_("%(email)s already acts for this organisation.", email=email))
        raise GrantError(_("%(email)s already acts for %(org)s; a user acts for one organisation.", email=email,
                           org=current.name))
    return _link(session, organisation, user, actor)


def unlink_member(session: Session, member: OrganisationMember, actor: Any | None) -> None:
    """The user no longer acts for the organisation (they keep their account)."""
    organisation_id, user = member.organisation_id, member.user
    session.delete(member)
    session.flush()
    record_event(session, AuditTag.organisation_member_linked, actor, "organisation", organisation_id,
                 before={"user": user.id, "email": user.email, "linked": True},
                 after={"user": user.id, "email": user.email, "linked": False})


def organisations_query(text: str = "", sort: str = "name"):
    """Organisations matching `text` (name, credit code, community, contact), for the staff list."""
    stmt = select(Organisation)
    text = (text or "").strip()
    if text:
        like = f"%{text.replace('%', '').replace('_', '')}%"
        stmt = stmt.where(or_(Organisation.name.ilike(like), Organisation.reg_no.ilike(like),
                              Organisation.community.ilike(like), Organisation.contact_name.ilike(like),
                              Organisation.contact_email.ilike(like)))
    order = {"name": (Organisation.name, Organisation.id), "newest": (Organisation.created_at.desc(),
                                                                         Organisation.id.desc())}
    return stmt.order_by(*order.get(sort, order["name"]))
