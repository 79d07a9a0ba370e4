"""Every published correction, newest first: one query for the public page, its CSV and the API.

Kinds (each row says what was corrected, why and when):
- `donation`: a reversed gift to a public fund (amount, fund, donor's public name, reason);
- `receipt`: a voided receipt (its number is kept; the donor is named only as scope allows);
- `amendment`: a confirmed amendment of an enterprise's revenue report (the share before and after, why);
- `grant_payment`: a reversed grant payment (award, grantee, amount, the reversal's memo);
- `entry`: any other reversing journal entry (memo, the entry it reverses).
Every reversing entry appears once: as its donation's row when that gift is on a public fund, as a grant payment's
when it reverses one, else as an entry (its memo is public in the ledger anyway).

`list_corrections` runs a UNION of one small select per kind (kind, id, day, recorded at) for the page and its
count, then one bounded query per kind present on the page for the details: a fixed number of queries whatever
the number of corrections (reversals are found through the unique index on `reverses_id`, gifts through the one
on `reversal_entry_id`). A row's date is the accounting date of its entry where it has one, else the local day
the correction was recorded (voided receipts, amendments).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Date, DateTime, Integer, String, cast, func, literal, select, type_coerce, union_all
from sqlalchemy.orm import Session, aliased

from fundapp.dates import DEFAULT_TIMEZONE
from fundapp.disclosure import scope
from fundapp.disclosure.paging import Page
from fundapp.donations.models import Donation, Donor, Receipt, receipt_label
from fundapp.enterprises.models import Enterprise, EnterprisePayment, ReportRevision, RevenueReport, RevisionStatus
from fundapp.grants.models import Award, Organisation, TranchePayment
from fundapp.ledger.models import Fund, JournalEntry

KINDS = {
    "donation": _l("Reversed donation"),
    "receipt": _l("Voided receipt"),
    "amendment": _l("Amended enterprise report"),
    "grant_payment": _l("Reversed grant payment"),
    "entry": _l("Reversed journal entry"),
}
DONATION_SOURCES = ("donation", "pledge-payment")
GRANT_PAYMENT_SOURCE = "grant_payment"
FIRST_YEAR, LAST_YEAR = 1900, 9999


@dataclass
class Correction:
    kind: str
    id: int
    date: dt.date
    reason: str = ""
    subject: str = ""  # what was corrected, as shown publicly
    amount: Decimal | None = None  # the gift, receipt or payment; an amendment's new share
    old_amount: Decimal | None = None  # an amendment's share before
    fund: str = ""  # "CODE name" of a public fund, else "Other funds"
    donor: str = ""  # the donor's public name (donations, receipts)
    entry_seq: int | None = None  # the correcting entry
    reverses_seq: int | None = None  # the entry it reverses
    extra: dict = field(default_factory=dict)

    @property
    def kind_label(self) -> str:
        return str(KINDS[self.kind])

    def as_dict(self) -> dict:
        money = (lambda v: None if v is None else f"{v:.2f}")  # noqa: E731
        return {"kind": self.kind, "id": self.id, "date": self.date.isoformat(), "reason": self.reason,
                "subject": self.subject, "amount": money(self.amount), "old_amount": money(self.old_amount),
                "fund": self.fund or None, "donor": self.donor or None, "entry_seq": self.entry_seq,
                "reverses_seq": self.reverses_seq}


CorrectionPage = Page  # a page of this list (fundapp.disclosure.paging)


# --- the union ----------------------------------------------------------------------------------------------------


def _timezone() -> str:
    return current_app.config.get("BABEL_DEFAULT_TIMEZONE", DEFAULT_TIMEZONE)


def _local_day(session: Session, column):
    """The local calendar day of a stored UTC timestamp, as a Date expression on either database."""
    name = _timezone()
    if session.get_bind().dialect.name == "postgresql":
        return cast(func.timezone(name, column), Date)
    offset = dt.datetime.now(ZoneInfo(name)).utcoffset() or dt.timedelta()
    return type_coerce(func.date(column, f"{int(offset.total_seconds() // 60):+d} minutes"), Date)


def _part(kind: str, id_column, day, at):
    return select(literal(kind, String).label("kind"), type_coerce(id_column, Integer).label("id"),
                  type_coerce(day, Date).label("day"), type_coerce(at, DateTime(timezone=True)).label("at"))


def _parts(session: Session) -> dict:
    public_ids = scope.public_fund_ids_query()
    reversal, original = aliased(JournalEntry), aliased(JournalEntry)
    public_donation_reversal = (select(Donation.id).where(Donation.reversal_entry_id == reversal.id,
                                                          Donation.fund_id.in_(public_ids)).exists())
    return {
        "donation": _part("donation", Donation.id, reversal.effective_date, Donation.reversed_at)
        .join(reversal, reversal.id == Donation.reversal_entry_id)
        .where(Donation.reversal_entry_id.is_not(None), Donation.fund_id.in_(public_ids)),
        "receipt": _part("receipt", Receipt.id, _local_day(session, Receipt.void_at), Receipt.void_at)
        .where(Receipt.void_at.is_not(None)),
        "amendment": _part("amendment", ReportRevision.id, _local_day(session, ReportRevision.decided_at),
                           ReportRevision.decided_at)
        .where(ReportRevision.revision > 1, ReportRevision.status == RevisionStatus.confirmed.value),
        "grant_payment": _part("grant_payment", reversal.id, reversal.effective_date, reversal.created_at)
        .join(original, original.id == reversal.reverses_id)
        .where(reversal.reverses_id.is_not(None), original.source_type == GRANT_PAYMENT_SOURCE),
        "entry": _part("entry", reversal.id, reversal.effective_date, reversal.created_at)
        .join(original, original.id == reversal.reverses_id)
        .where(reversal.reverses_id.is_not(None), original.source_type != GRANT_PAYMENT_SOURCE,
               ~public_donation_reversal),
    }


def _union(session: Session, kind: str | None, year: int | None):
    parts = _parts(session)
    chosen = [parts[kind]] if kind else list(parts.values())
    if year is not None:
        start, end = dt.date(year, 1, 1), dt.date(year, 12, 31)
        chosen = [part.where(part.selected_columns.day.between(start, end)) for part in chosen]
    return union_all(*chosen).subquery("corrections")


def list_corrections(session: Session, *, kind: str | None = None, year: int | None = None, page: int = 1,
                     per_page: int = 50) -> CorrectionPage:
    """Corrections newest first (by date, then by when they were recorded), one page of them with the total."""
    if kind is not None and kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}")
    union = _union(session, kind, year)
    total = session.scalar(select(func.count()).select_from(union)) or 0
    keys = session.execute(
        select(union.c.kind, union.c.id, union.c.day)
        .order_by(union.c.day.desc(), union.c.at.desc(), union.c.kind, union.c.id.desc())
        .limit(per_page).offset((page - 1) * per_page)).all()
    details = _details(session, keys)
    items = [details[(row.kind, row.id)] for row in keys if (row.kind, row.id) in details]
    return CorrectionPage(items, page, per_page, total)


def latest_correction_date(session: Session) -> dt.date | None:
    union = _union(session, None, None)
    return session.scalar(select(func.max(union.c.day)))


def correction_years(session: Session) -> list[int]:
    """The years that have corrections, newest first (for the filter)."""
    union = _union(session, None, None)
    days = session.execute(select(func.min(union.c.day), func.max(union.c.day))).one()
    if days[0] is None:
        return []
    return list(range(days[1].year, days[0].year - 1, -1))


# --- details of one page ------------------------------------------------------------------------------------------


def _fund_label(code: str | None, name: str | None, is_public: bool | None) -> str:
    if code is None:
        return ""
    return f"{code} {name}" if is_public else scope.other_funds_label()


def _details(session: Session, keys) -> dict[tuple[str, int], Correction]:
    ids: dict[str, list[int]] = {}
    for row in keys:
        ids.setdefault(row.kind, []).append(row.id)
    days = {(row.kind, row.id): row.day for row in keys}
    loaders = {"donation": _donations, "receipt": _receipts, "amendment": _amendments,
               "grant_payment": _grant_payments, "entry": _entries}
    out: dict[tuple[str, int], Correction] = {}
    for kind, kind_ids in ids.items():
        for item in loaders[kind](session, kind_ids):
            item.date = days[(kind, item.id)]
            out[(kind, item.id)] = item
    return out


def _donations(session: Session, ids: list[int]) -> list[Correction]:
    reversal, original = aliased(JournalEntry), aliased(JournalEntry)
    rows = session.execute(
        select(Donation.id, Donation.amount, Donation.received_on, Donation.reversal_reason, Donor, Fund.code,
               Fund.name, reversal.seq, original.seq)
        .join(Fund, Fund.id == Donation.fund_id)
        .outerjoin(Donor, Donor.id == Donation.donor_id)
        .join(reversal, reversal.id == Donation.reversal_entry_id)
        .join(original, original.id == Donation.entry_id)
        .where(Donation.id.in_(ids)))
    return [Correction("donation", did, received, reason or "",
                       _("Gift received on %(date)s", date=received.isoformat()), amount,
                       fund=f"{code} {name}", donor=scope.donor_public_name(donor), entry_seq=seq,
                       reverses_seq=orig_seq)
            for did, amount, received, reason, donor, code, name, seq, orig_seq in rows]


def _receipts(session: Session, ids: list[int]) -> list[Correction]:
    rows = session.execute(
        select(Receipt.id, Receipt.year, Receipt.number, Receipt.amount, Receipt.void_reason, Donor,
               Receipt.donation_id, Fund.code, Fund.name, Fund.is_public, Enterprise.name)
        .outerjoin(Donation, Donation.id == Receipt.donation_id)
        .outerjoin(Donor, Donor.id == Donation.donor_id)
        .outerjoin(EnterprisePayment, EnterprisePayment.id == Receipt.enterprise_payment_id)
        .outerjoin(Enterprise, Enterprise.id == EnterprisePayment.enterprise_id)
        .outerjoin(Fund, Fund.id == func.coalesce(Donation.fund_id, EnterprisePayment.fund_id))
        .where(Receipt.id.in_(ids)))
    out = []
    for rid, year, number, amount, reason, donor, donation_id, code, name, is_public, enterprise in rows:
        if donation_id is not None:
            payer = scope.donor_public_name(donor) if is_public else scope.anonymous_label()
        else:
            payer = enterprise or ""
        out.append(Correction("receipt", rid, dt.date.min, reason or "",
                              _("Receipt %(label)s", label=receipt_label(year, number)), amount,
                              fund=_fund_label(code, name, is_public), donor=payer,
                              extra={"receipt": receipt_label(year, number), "year": year}))
    return out


def _amendments(session: Session, ids: list[int]) -> list[Correction]:
    rows = session.execute(
        select(ReportRevision.id, ReportRevision.revision, ReportRevision.share, ReportRevision.difference,
               ReportRevision.note, RevenueReport.period_start, RevenueReport.period_end, Enterprise.name,
               JournalEntry.seq)
        .join(RevenueReport, RevenueReport.id == ReportRevision.report_id)
        .join(Enterprise, Enterprise.id == RevenueReport.enterprise_id)
        .outerjoin(JournalEntry, JournalEntry.id == ReportRevision.entry_id)
        .where(ReportRevision.id.in_(ids)))
    return [Correction("amendment", rid, dt.date.min, note or "",
                       _("%(enterprise)s: report for %(start)s – %(end)s, amendment %(n)d", enterprise=enterprise,
                         start=start.isoformat(), end=end.isoformat(), n=revision - 1),
                       share, share - (difference or Decimal("0.00")), entry_seq=seq)
            for rid, revision, share, difference, note, start, end, enterprise, seq in rows]


def _grant_payments(session: Session, ids: list[int]) -> list[Correction]:
    original = aliased(JournalEntry)
    rows = session.execute(
        select(JournalEntry.id, JournalEntry.seq, JournalEntry.memo, original.seq, TranchePayment.amount,
               Award.number, Award.title, Organisation.name, Fund.code, Fund.name, Fund.is_public)
        .join(original, original.id == JournalEntry.reverses_id)
        .outerjoin(TranchePayment, TranchePayment.entry_id == original.id)
        .outerjoin(Award, Award.id == TranchePayment.award_id)
        .outerjoin(Organisation, Organisation.id == Award.organisation_id)
        .outerjoin(Fund, Fund.id == Award.fund_id)
        .where(JournalEntry.id.in_(ids)))
    return [Correction("grant_payment", eid, dt.date.min, memo,
                       _("Grant %(number)s %(title)s, paid to %(org)s", number=number, title=title, org=org)
                       if number else _("Grant payment, entry #%(seq)d", seq=orig_seq),
                       amount, fund=_fund_label(code, name, is_public), entry_seq=seq, reverses_seq=orig_seq)
            for eid, seq, memo, orig_seq, amount, number, title, org, code, name, is_public in rows]


def _entries(session: Session, ids: list[int]) -> list[Correction]:
    original = aliased(JournalEntry)
    rows = session.execute(
        select(JournalEntry.id, JournalEntry.seq, JournalEntry.memo, original.seq, original.effective_date)
        .join(original, original.id == JournalEntry.reverses_id)
        .where(JournalEntry.id.in_(ids)))
    return [Correction("entry", eid, dt.date.min, memo,
                       _("Entry #%(seq)d of %(date)s", seq=orig_seq, date=orig_date.isoformat()),
                       entry_seq=seq, reverses_seq=orig_seq)
            for eid, seq, memo, orig_seq, orig_date in rows]
