"""The compliance calendar: every disclosure duty of DESIGN.md, computed from the data (never stored).

Duties and their stable keys (a key is what "mark done" records):
- annual work report and financial report for year Y, due 31 May of Y+1: "annual-work-report:Y",
  "financial-report:Y";
- a fund created or changed (audit events funds:fund:created/updated; named funds, basic information): due 30 days
  after the change: "fund-change:<audit event id>";
- a grant project longer than 6 months (award date to the close-out date, or to the planned end of the application;
  a project whose end is not known counts as long): an update every 3 months from the award date while it runs,
  "grant-update:<award id>:<n>", done when a report of the grantee was accepted within that 3-month window;
- and its final disclosure, with the leftover money (payable released + money returned at close-out), within
  3 months of the close-out: "grant-final:<award id>".
Status: done (evidence or marked done), overdue (due date passed), due soon (within COMPLIANCE_DUE_SOON_DAYS),
upcoming. Duties due more than COMPLIANCE_LOOKBACK_DAYS ago are left out.
"""

from __future__ import annotations

import calendar as cal
import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fundapp.audit.models import AuditEvent
from fundapp.audit.services import AuditTag, record_event
from fundapp.compliance.models import DutyDone
from fundapp.errors import DomainError
from fundapp.grants.models import ApplicationVersion, Award, AwardStatus, GrantReport, ReportStatus
from fundapp.ledger.models import JournalEntry

UPCOMING, DUE_SOON, OVERDUE, DONE = "upcoming", "due_soon", "overdue", "done"
CHANGE_DAYS = 30
UPDATE_MONTHS = 3
LONG_PROJECT_MONTHS = 6
FINAL_MONTHS = 3
NOTE_MAX = 1000


class DutyError(DomainError):
    pass


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day `months` later, or the month's last day when it is shorter (31 Jan + 1 month = 28/29 Feb)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return dt.date(year, month, min(day.day, cal.monthrange(year, month)[1]))


@dataclass
class Duty:
    key: str
    kind: str  # annual / change / grant_update / grant_final
    title: str
    due: dt.date
    status: str = UPCOMING
    evidence: str = ""  # how it was done
    done_on: dt.date | None = None
    link: str = ""  # an app path to the thing the duty is about

    @property
    def open(self) -> bool:
        return self.status != DONE


def _local_date(moment: dt.datetime) -> dt.date:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(ZoneInfo(current_app.config.get("BABEL_DEFAULT_TIMEZONE", "Asia/Shanghai"))).date()


def _annual(session: Session, today: dt.date, since: dt.date) -> list[Duty]:
    first = session.scalar(select(func.min(JournalEntry.effective_date)))
    first_year = first.year if first else today.year
    duties = []
    for year in range(first_year, today.year + 1):
        due = dt.date(year + 1, 5, 31)
        if due < since:
            continue
        duties.append(Duty(f"annual-work-report:{year}", "annual",
                           _("Annual work report for %(year)d (年度工作报告)", year=year), due))
        duties.append(Duty(f"financial-report:{year}", "annual",
                           _("Financial report for %(year)d (audited if the foundation raises funds publicly)",
                             year=year), due))
    return duties


def _fund_changes(session: Session, since: dt.date) -> list[Duty]:
    tags = (AuditTag.fund_created.value, AuditTag.fund_updated.value)
    cutoff = dt.datetime.combine(since - dt.timedelta(days=CHANGE_DAYS + 1), dt.time(), tzinfo=dt.UTC)
    events = session.scalars(select(AuditEvent).where(AuditEvent.tag.in_(tags), AuditEvent.created_at >= cutoff)
                             .order_by(AuditEvent.id))
    duties = []
    for event in events:
        changed = _local_date(event.created_at)
        due = changed + dt.timedelta(days=CHANGE_DAYS)
        if due < since:
            continue
        snap = event.after or {}
        name = f"{snap.get('code', '')} {snap.get('name', '')}".strip() or f"#{event.subject_id}"
        if event.tag == AuditTag.fund_created.value:
            title = _("Disclose the new fund %(fund)s (created %(date)s)", fund=name, date=changed.isoformat())
        else:
            title = _("Disclose the change to fund %(fund)s (changed %(date)s)", fund=name, date=changed.isoformat())
        duties.append(Duty(f"fund-change:{event.id}", "change", title, due,
                           link=f"/funds/{event.subject_id}" if event.subject_id else ""))
    return duties


def _planned_ends(session: Session, application_ids: list[int]) -> dict[int, dt.date | None]:
    ends: dict[int, tuple[int, dt.date | None]] = {}
    if not application_ids:
        return {}
    rows = session.execute(select(ApplicationVersion.application_id, ApplicationVersion.version,
                                  ApplicationVersion.ends_on)
                           .where(ApplicationVersion.application_id.in_(application_ids)))
    for app_id, version, ends_on in rows:
        if app_id not in ends or version > ends[app_id][0]:
            ends[app_id] = (version, ends_on)
    return {app_id: end for app_id, (_v, end) in ends.items()}


def _grants(session: Session, today: dt.date, since: dt.date) -> list[Duty]:
    awards = list(session.scalars(select(Award).order_by(Award.awarded_on, Award.id)))
    if not awards:
        return []
    planned = _planned_ends(session, [a.application_id for a in awards])
    accepted: dict[int, list[dt.date]] = {}
    for award_id, reviewed_at in session.execute(
            select(GrantReport.award_id, GrantReport.reviewed_at)
            .where(GrantReport.status == ReportStatus.accepted.value, GrantReport.reviewed_at.is_not(None))):
        accepted.setdefault(award_id, []).append(_local_date(reviewed_at))
    duties = []
    for award in awards:
        closed = award.status == AwardStatus.closed.value and award.closed_on is not None
        end = award.closed_on if closed else planned.get(award.application_id)
        if end is not None and end <= add_months(award.awarded_on, LONG_PROJECT_MONTHS):
            continue  # six months or shorter: disclosed once, with the annual report
        link = f"/grants/awards/{award.id}"
        n = 1
        while True:
            due = add_months(award.awarded_on, UPDATE_MONTHS * n)
            window_start = add_months(award.awarded_on, UPDATE_MONTHS * (n - 1))
            if closed and due >= award.closed_on:
                break
            if not closed and end is not None and due >= end:
                break
            if not closed and window_start > today:
                break  # only the next update ahead of today
            if due >= since:
                duty = Duty(f"grant-update:{award.id}:{n}", "grant_update",
                            _("Project update %(n)d for grant %(number)s (%(title)s)", n=n, number=award.number,
                              title=award.title), due, link=link)
                evidence = [d for d in accepted.get(award.id, []) if window_start < d <= due]
                if evidence:
                    duty.status, duty.done_on = DONE, evidence[0]
                    duty.evidence = _("A report of the grantee was accepted on %(date)s.", date=evidence[0].isoformat())
                duties.append(duty)
            n += 1
        if closed:
            due = add_months(award.closed_on, FINAL_MONTHS)
            if due >= since:
                leftover = (award.released_amount or Decimal("0")) + (award.returned_amount or Decimal("0"))
                duties.append(Duty(f"grant-final:{award.id}", "grant_final",
                                   _("Final disclosure of grant %(number)s (%(title)s), including how the leftover "
                                     "money of ¥%(leftover)s was handled", number=award.number, title=award.title,
                                     leftover=f"{leftover:,.2f}"), due, link=link))
    return duties


def compute_duties(session: Session, today: dt.date) -> list[Duty]:
    """Every duty due from (today − lookback) on, with its status, in due-date order."""
    since = today - dt.timedelta(days=current_app.config.get("COMPLIANCE_LOOKBACK_DAYS", 400))
    soon = current_app.config.get("COMPLIANCE_DUE_SOON_DAYS", 14)
    duties = _annual(session, today, since) + _fund_changes(session, since) + _grants(session, today, since)
    marked = {row.duty_key: row for row in session.scalars(
        select(DutyDone).where(DutyDone.duty_key.in_([d.key for d in duties])))} if duties else {}
    for duty in duties:
        row = marked.get(duty.key)
        if row is not None and duty.status != DONE:
            duty.status, duty.done_on = DONE, row.done_on
            duty.evidence = _("Marked done on %(date)s: %(note)s", date=row.done_on.isoformat(), note=row.note)
        elif duty.status != DONE:
            if duty.due < today:
                duty.status = OVERDUE
            elif (duty.due - today).days <= soon:
                duty.status = DUE_SOON
    duties.sort(key=lambda d: (d.due, d.key))
    return duties


def find_duty(session: Session, key: str, today: dt.date) -> Duty | None:
    return next((d for d in compute_duties(session, today) if d.key == key), None)


def mark_done(session: Session, key: str, done_on: dt.date | None, note: str, actor, today: dt.date) -> DutyDone:
    """Record that a duty was fulfilled (published on 慈善中国 ...). Refused for an unknown duty, a duty already
    done, a date in the future, or an empty note; nothing is written then."""
    note = (note or "").strip()
    duty = find_duty(session, key, today)
    if duty is None:
        raise DutyError(_("There is no such disclosure duty."))
    if duty.status == DONE or session.scalar(select(DutyDone.id).where(DutyDone.duty_key == key)) is not None:
        raise DutyError(_("This duty is already done."))
    if done_on is None or done_on > today:
        raise DutyError(_("Give the date it was done; it cannot be in the future."))
    if not note:
        raise DutyError(_("Say where and how it was disclosed."))
    if len(note) > NOTE_MAX:
        raise DutyError(_("The note is too long (at most %(n)d characters).", n=NOTE_MAX))
    row = DutyDone(duty_key=key, done_on=done_on, note=note, user_id=getattr(actor, "id", None))
    session.add(row)
    session.flush()
    record_event(session, AuditTag.compliance_duty_done, actor, "compliance_duty", key,
                 after={"duty_key": key, "title": duty.title, "due": duty.due, "done_on": done_on, "note": note})
    return row


# --- the iCalendar feed (RFC 5545, by hand) ----------------------------------------------------------------------

FEED_SALT = b"compliance-calendar-feed:"


def feed_token(user_id: int, secret: str) -> str:
    """A per-user secret for the feed URL (a calendar app cannot sign in): "<user id>.<HMAC-SHA256 of it>"."""
    import hashlib
    import hmac

    digest = hmac.new(secret.encode(), FEED_SALT + str(user_id).encode(), hashlib.sha256).hexdigest()
    return f"{user_id}.{digest}"


def user_id_from_token(token: str | None, secret: str) -> int | None:
    """The user id the token was made for, or None when it is missing or forged."""
    import hmac

    if not token or "." not in token:
        return None
    head = token.split(".", 1)[0]
    if not head.isdigit() or len(head) > 12:
        return None
    return int(head) if hmac.compare_digest(feed_token(int(head), secret), token) else None


def _escape(text: str) -> str:
    return (text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
            .replace("\r\n", "\\n").replace("\n", "\\n"))


def fold(line: str) -> str:
    """Fold a content line at 75 octets (continuations start with one space), never inside a UTF-8 character."""
    out, current, size = [], "", 0
    for char in line:
        width = len(char.encode("utf-8"))
        limit = 75 if not out else 74  # a continuation line's leading space counts
        if size + width > limit:
            out.append(current)
            current, size = "", 0
        current += char
        size += width
    out.append(current)
    return "\r\n ".join(out)


def to_ics(duties: list[Duty], *, host: str, stamp: dt.datetime, name: str) -> str:
    """A VCALENDAR with one all-day VEVENT per duty on its due date; lines end in CRLF."""
    stamp_text = stamp.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//fundapp//compliance calendar//EN", "CALSCALE:GREGORIAN",
             "METHOD:PUBLISH", f"X-WR-CALNAME:{_escape(name)}"]
    for duty in duties:
        summary = duty.title if duty.status != DONE else f"✓ {duty.title}"
        lines += ["BEGIN:VEVENT", f"UID:{_escape(duty.key)}@{host}", f"DTSTAMP:{stamp_text}",
                  f"DTSTART;VALUE=DATE:{duty.due:%Y%m%d}",
                  f"DTEND;VALUE=DATE:{duty.due + dt.timedelta(days=1):%Y%m%d}",
                  f"SUMMARY:{_escape(summary)}", f"STATUS:{'CONFIRMED'}", "TRANSP:TRANSPARENT"]
        if duty.evidence:
            lines.append(f"DESCRIPTION:{_escape(duty.evidence)}")
        lines.append("END:VEVENT")
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + "\r\n" for line in lines)
