"""Donor writes: create, update, link to a portal user, merge duplicates.

A merge never deletes: the duplicate stays, marked `merged_into`, and its donations and pledges (and so
their receipts) move to the survivor. The audit event lists what moved.
"""

from __future__ import annotations

import re
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from fundapp.audit.services import AuditTag, record_event, snapshot
from fundapp.auth.models import Role, User
from fundapp.db import utcnow
from fundapp.donations.errors import DonationError
from fundapp.donations.models import Donation, Donor, DonorKind, Pledge

DONOR_FIELDS = ("kind", "name", "id_code", "contact_person", "phone", "email", "address", "anonymous_in_public",
                "notes")
TEXT_LIMITS = {"name": 200, "id_code": 50, "contact_person": 100, "phone": 50, "email": 254, "address": 500,
               "notes": 5000}
KIND_VALUES = {k.value for k in DonorKind}

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_CODE_RE = re.compile(r"^[0-9A-Z()\-]{1,50}$")


def resident_id_valid(code: str) -> bool:
    """China resident ID (GB 11643): 17 digits and a MOD 11-2 check character."""
    if not re.fullmatch(r"\d{17}[\dX]", code):
        return False
    total = sum(int(digit) * weight for digit, weight in zip(code[:17], _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11] == code[17]


def credit_code_valid(code: str) -> bool:
    """Unified social credit code (GB 32100-2015): 18 characters, the last a MOD 31 check character."""
    if len(code) != 18 or any(ch not in _USCC_ALPHABET for ch in code):
        return False
    total = sum(_USCC_ALPHABET.index(ch) * weight for ch, weight in zip(code[:17], _USCC_WEIGHTS, strict=True))
    return _USCC_ALPHABET[(31 - total % 31) % 31] == code[17]


def normalise_id_code(code: str | None) -> str:
    return re.sub(r"\s+", "", code or "").upper()


def _check_id_code(kind: str, code: str) -> None:
    if not code:
        return
    if not _CODE_RE.match(code):
        raise DonationError(_("An ID or credit code has only letters, digits, '-' and brackets."))
    if kind == DonorKind.person.value and len(code) == 18 and re.fullmatch(r"\d{17}[\dX]", code):
        if not resident_id_valid(code):
            raise DonationError(_("This resident ID number fails its check digit; check it."))
    if kind == DonorKind.organisation.value and len(code) == 18 and not credit_code_valid(code):
        raise DonationError(_("This unified social credit code fails its check character; check it."))


def _clean(values: dict[str, Any]) -> dict[str, Any]:
    out = {k: values[k] for k in DONOR_FIELDS if k in values}
    for key in TEXT_LIMITS:
        if key in out:
            out[key] = (out[key] or "").strip()
    if "id_code" in out:
        out["id_code"] = normalise_id_code(out["id_code"])
    if "email" in out:
        out["email"] = out["email"].lower()
    out["anonymous_in_public"] = bool(out.get("anonymous_in_public", False))
    return out


def _validate(session: Session, values: dict[str, Any], donor: Donor | None) -> None:
    if values.get("kind") not in KIND_VALUES:
        raise DonationError(_("Choose a person or an organisation."))
    if not values.get("name"):
        raise DonationError(_("A donor needs a name."))
    for key, limit in TEXT_LIMITS.items():
        if len(values.get(key) or "") > limit:
            raise DonationError(_("%(field)s is too long (at most %(n)d characters).", field=key, n=limit))
    email = values.get("email")
    if email and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email):
        raise DonationError(_("%(email)s is not a valid email address.", email=email))
    _check_id_code(values["kind"], values.get("id_code", ""))
    code = values.get("id_code")
    if code:
        clash = session.scalar(select(Donor).where(Donor.id_code == code, Donor.merged_into_id.is_(None)))
        if clash is not None and clash is not donor:
            raise DonationError(
                _("Donor %(name)s (#%(id)d) already has this ID or credit code; merge instead of adding a copy.",
                  name=clash.name, id=clash.id)
            )


def _refuse_merged(donor: Donor) -> None:
    if donor.is_merged:
        raise DonationError(_("This donor was merged into donor #%(id)d; use that record.", id=donor.merged_into_id))


def create_donor(session: Session, values: dict[str, Any], actor: Any | None) -> Donor:
    values = _clean(values)
    values.setdefault("kind", DonorKind.person.value)
    _validate(session, values, None)
    donor = Donor(**values)
    session.add(donor)
    session.flush()
    record_event(session, AuditTag.donor_created, actor, "donor", donor.id, after=snapshot(donor, DONOR_FIELDS))
    return donor


def update_donor(session: Session, donor: Donor, values: dict[str, Any], actor: Any | None) -> Donor:
    _refuse_merged(donor)
    values = snapshot(donor, DONOR_FIELDS) | _clean(values)
    _validate(session, values, donor)
    before = snapshot(donor, DONOR_FIELDS)
    for key, value in values.items():
        setattr(donor, key, value)
    donor.updated_at = utcnow()
    session.flush()
    record_event(session, AuditTag.donor_updated, actor, "donor", donor.id, before=before,
                 after=snapshot(donor, DONOR_FIELDS))
    return donor


def link_user(session: Session, donor: Donor, user: User | None, actor: Any | None) -> Donor:
    """Link the donor to a portal user holding the donor role (or unlink with user=None)."""
    _refuse_merged(donor)
    if user is not None:
        if not user.has_role(Role.donor.value):
            raise DonationError(_("%(email)s does not have the donor role.", email=user.email))
        other = session.scalar(select(Donor).where(Donor.user_id == user.id))
        if other is not None and other is not donor:
            raise DonationError(_("%(email)s is already linked to donor #%(id)d.", email=user.email, id=other.id))
    before = {"user_id": donor.user_id}
    donor.user_id = user.id if user is not None else None
    session.flush()
    record_event(session, AuditTag.donor_user_linked, actor, "donor", donor.id, before=before,
                 after={"user_id": donor.user_id})
    return donor


def link_user_by_email(session: Session, donor: Donor, email: str, actor: Any | None) -> Donor:
    """The donor form's portal field: an email of an existing user, or blank to unlink."""
    email = (email or "").strip().lower()
    if not email:
        return donor if donor.user_id is None else link_user(session, donor, None, actor)
    user = session.scalar(select(User).where(User.email == email))
    if user is None:
        raise DonationError(_("There is no user with the email %(email)s.", email=email))
    if donor.user_id == user.id:
        return donor
    return link_user(session, donor, user, actor)


def save_donor(session: Session, donor: Donor | None, values: dict[str, Any], portal_email: str | None,
               actor: Any | None) -> Donor:
    """The donor form in one call: create or update, then set the portal link."""
    donor = create_donor(session, values, actor) if donor is None else update_donor(session, donor, values, actor)
    if portal_email is not None:
        link_user_by_email(session, donor, portal_email, actor)
    return donor


def _fill_blanks(survivor: Donor, duplicate: Donor) -> list[str]:
    """Contact fields the survivor lacks are taken from the duplicate (nothing is overwritten)."""
    filled = []
    for key in ("id_code", "contact_person", "phone", "email", "address"):
        if not getattr(survivor, key) and getattr(duplicate, key):
            setattr(survivor, key, getattr(duplicate, key))
            filled.append(key)
    if duplicate.notes:
        survivor.notes = (survivor.notes + "\n" if survivor.notes else "") + duplicate.notes
    return filled


def merge_donors(session: Session, survivor: Donor, duplicate: Donor, actor: Any | None) -> Donor:
    """Move the duplicate's donations and pledges to the survivor and mark the duplicate merged."""
    if survivor.id == duplicate.id:
        raise DonationError(_("Choose two different donors to merge."))
    _refuse_merged(survivor)
    _refuse_merged(duplicate)
    if survivor.user_id and duplicate.user_id:
        raise DonationError(_("Both donors are linked to portal users; unlink one before merging."))
    donation_ids = list(session.scalars(select(Donation.id).where(Donation.donor_id == duplicate.id)))
    pledge_ids = list(session.scalars(select(Pledge.id).where(Pledge.donor_id == duplicate.id)))
    session.execute(update(Donation).where(Donation.donor_id == duplicate.id).values(donor_id=survivor.id)
                    .execution_options(synchronize_session="fetch"))
    session.execute(update(Pledge).where(Pledge.donor_id == duplicate.id).values(donor_id=survivor.id)
                    .execution_options(synchronize_session="fetch"))
    user_id, duplicate.user_id = duplicate.user_id, None
    duplicate.merged_into_id, duplicate.merged_at = survivor.id, utcnow()
    session.flush()  # frees the duplicate's ID code and user link before the survivor takes them
    filled = _fill_blanks(survivor, duplicate)
    if user_id and not survivor.user_id:
        survivor.user_id = user_id
    survivor.updated_at = utcnow()
    session.flush()
    record_event(session, AuditTag.donor_merged, actor, "donor", survivor.id,
                 before={"duplicate": duplicate.id, "duplicate_name": duplicate.name},
                 after={"donations": donation_ids, "pledges": pledge_ids, "filled": filled, "user_id": user_id})
    return survivor

