"""What may be shown publicly: the one place that decides (pages, CSV and the API all ask here).

- A fund appears by name only if `is_public`; hidden funds are summed into "other funds" in aggregates.
- A donor appears by name only if the gift has a donor who did not ask for anonymity; never any contact
  detail, ID number, address or note.
- Totals and statements cover every fund, so they equal the books.
"""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import Select, select

from fundapp.donations.models import Donor
from fundapp.ledger.models import Fund


def public_funds_query() -> Select:
    return select(Fund).where(Fund.is_public.is_(True)).order_by(Fund.code)


def public_fund_ids_query() -> Select:
    return select(Fund.id).where(Fund.is_public.is_(True))


def anonymous_label() -> str:
    return _("Anonymous")


def donor_public_name(donor: Donor | None) -> str:
    """The donor's name as shown publicly: 匿名 for an anonymous gift or a donor who asked. A merged donor is
    followed to the donor it was merged into; if either record asked for anonymity, the gift stays anonymous.
    (The SQL form of this rule, for lists that search and page in the database: fundapp.disclosure.donations.)"""
    if donor is None or donor.anonymous_in_public:
        return anonymous_label()
    survivor = donor.merged_into
    if survivor is not None:
        return anonymous_label() if survivor.anonymous_in_public else survivor.name
    return donor.name


def other_funds_label() -> str:
    return _("Other funds")
