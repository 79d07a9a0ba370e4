"""Helpers shared by the donation pages: who may do what, choices, donor lookup, CSV and PDF responses."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable

from flask import Response
from flask_babel import gettext as _
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from fundapp.dates import local_today
from fundapp.donations.donors import normalise_id_code
from fundapp.donations.models import Donor
from fundapp.donations.queries import find_donor_by_code, find_donors_by_name
from fundapp.extensions import db
from fundapp.ledger.models import Fund, FundStatus

MANAGERS = ("finance",)
READERS = ("finance", "admin")


def today() -> dt.date:
    return local_today()


def funds(active_only: bool = True) -> list[Fund]:
    stmt = select(Fund).order_by(Fund.code)
    return list(db.session.scalars(stmt.where(Fund.status == FundStatus.active.value) if active_only else stmt))


def fund_choices(items: Iterable[Fund], blank: str) -> list[SelectChoice]:
    return [SelectChoice("", blank)] + [SelectChoice(str(f.id), f"{f.code} {f.name}") for f in items]


def fund_by_id(items: Iterable[Fund], value: str | None) -> Fund | None:
    return {str(f.id): f for f in items}.get(value or "")


def resolve_donor(text: str | None) -> tuple[Donor | None, str | None]:
    """A donor from the form's text: "#12" or "12" (number), an ID or credit code, or an exact name.

    Returns (donor, None), (None, None) for blank text, or (None, message).
    """
    text = (text or "").strip()
    if not text:
        return None, None
    number = text.lstrip("#")
    if number.isdigit() and len(number) <= 9:
        donor = db.session.get(Donor, int(number))
        return (donor, None) if donor is not None else (None, _("There is no donor number %(n)s.", n=number))
    code = normalise_id_code(text)
    if re.fullmatch(r"[0-9A-Z()\-]{6,50}", code):
        donor = find_donor_by_code(db.session, code)
        if donor is not None:
            return donor, None
    matches = find_donors_by_name(db.session, text)
    if len(matches) == 1:
        return matches[0], None
    if matches:
        return None, _("Several donors are called %(name)s; enter the donor's number.", name=text)
    return None, _("No donor matches %(text)s; add the donor first.", text=text)


def pdf_response(pdf: bytes, filename: str, download: bool = False) -> Response:
    disposition = "attachment" if download else "inline"
    return Response(pdf, content_type="application/pdf",
                    headers={"Content-Disposition": f'{disposition}; filename="{filename}"',
                             "Cache-Control": "private, no-store"})
