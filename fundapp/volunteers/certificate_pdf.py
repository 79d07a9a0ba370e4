"""Volunteer-service certificate PDFs, rendered with WeasyPrint from templates/pdf/volunteer_certificate.html and
plain values (the CJK font and the static-only URL fetcher of fundapp.donations.pdf).

The figures printed are those stored on the certificate when it was issued; the table of activities is read from
the verified service records of the period (so it adds up to the printed hours unless a record was corrected
since, which the public check by code shows from the stored figures)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from flask import current_app, render_template, url_for
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from weasyprint import HTML

from fundapp.donations.pdf import CJK_FONT, StaticOnlyFetcher, money_text
from fundapp.reports.periods import zh_date
from fundapp.volunteers.models import Activity, Certificate, RecordStatus, ServiceRecord, Shift, Signup

ZERO = Decimal("0.00")


def activity_lines(session: Session, certificate: Certificate) -> list[tuple[str, Decimal]]:
    """(activity title, verified hours) for the certificate's volunteer and period, most hours first."""
    start = dt.datetime.combine(certificate.period_start, dt.time(), dt.UTC)
    end = dt.datetime.combine(certificate.period_end + dt.timedelta(days=1), dt.time(), dt.UTC)
    stmt = (select(Activity.title, func.sum(ServiceRecord.hours))
            .select_from(ServiceRecord)
            .join(Signup, Signup.id == ServiceRecord.signup_id)
            .join(Shift, Shift.id == Signup.shift_id)
            .join(Activity, Activity.id == Shift.activity_id)
            .where(ServiceRecord.status == RecordStatus.verified.value, Signup.volunteer_id == certificate.volunteer_id,
                   Shift.starts_at >= start, Shift.starts_at < end)
            .group_by(Activity.id, Activity.title)
            .order_by(func.sum(ServiceRecord.hours).desc(), Activity.title))
    return [(title, Decimal(hours).quantize(ZERO)) for title, hours in session.execute(stmt)]


def check_url(certificate: Certificate) -> str:
    return url_for("disclosure.certificate_check", code=certificate.code, _external=True)


def certificate_values(session: Session, certificate: Certificate) -> dict:
    """Everything printed on the certificate, as plain strings."""
    return {
        "foundation_name": current_app.config.get("FOUNDATION_NAME") or "基金会",
        "volunteer": certificate.volunteer.name,
        "period": f"{zh_date(certificate.period_start)}至{zh_date(certificate.period_end)}",
        "period_en": f"{certificate.period_start.isoformat()} – {certificate.period_end.isoformat()}",
        "hours": money_text(certificate.hours),
        "activities_count": certificate.activities,
        "activities": [(title, money_text(hours)) for title, hours in activity_lines(session, certificate)],
        "code": certificate.code,
        "check_url": check_url(certificate),
        "issued_on": zh_date(certificate.issued_at.date()),
    }


def certificate_pdf(session: Session, certificate: Certificate) -> bytes:
    html = render_template("pdf/volunteer_certificate.html", c=certificate_values(session, certificate),
                           font=CJK_FONT)
    root = current_app.static_folder
    return HTML(string=html, base_url=f"file://{root}/", url_fetcher=StaticOnlyFetcher(root)).write_pdf()
