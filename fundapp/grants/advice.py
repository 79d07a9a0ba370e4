"""Payment advice (拨款通知单) of a paid tranche, as a PDF rendered by WeasyPrint from plain values.

Same machinery as the receipts (fundapp.donations.pdf): CJK font, a URL fetcher that serves only the app's static
files. The advice names the foundation, the award, the grantee and its bank account, the tranche, the amount in
figures and in words (大写), who requested and who approved the payment and when, and the journal entry.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from flask import current_app, render_template
from weasyprint import HTML

from fundapp.dates import DEFAULT_TIMEZONE
from fundapp.donations.pdf import CJK_FONT, StaticOnlyFetcher, money_text
from fundapp.donations.receipts import DEFAULT_FOUNDATION_NAME
from fundapp.grants.models import TranchePayment
from fundapp.money import to_capital


def _when(moment: dt.datetime | None) -> str:
    if moment is None:
        return "—"
    zone = ZoneInfo(current_app.config.get("BABEL_DEFAULT_TIMEZONE", DEFAULT_TIMEZONE))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def _person(user) -> str:
    return user.display_name if user is not None else "—"


def advice_values(payment: TranchePayment) -> dict[str, str]:
    """Everything printed on the advice, as plain strings (the template does no lookups)."""
    award, tranche = payment.award, payment.tranche
    organisation = award.organisation
    config = current_app.config
    return {
        "foundation_name": config.get("FOUNDATION_NAME") or DEFAULT_FOUNDATION_NAME,
        "foundation_reg_no": config.get("FOUNDATION_REG_NO") or "",
        "award_number": award.number,
        "title": award.title,
        "programme": award.programme.title,
        "fund": f"{award.fund.code} {award.fund.name}",
        "organisation": organisation.name,
        "reg_no": organisation.reg_no,
        "bank_name": organisation.bank_name or "—",
        "bank_account_name": organisation.bank_account_name or organisation.name,
        "bank_account_no": organisation.bank_account_no or "—",
        "tranche": f"{tranche.seq} / {len(award.tranches)}",
        "milestone": tranche.milestone or "—",
        "due_on": tranche.due_on.isoformat(),
        "amount": money_text(payment.amount),
        "amount_capital": to_capital(payment.amount),
        "award_amount": money_text(award.amount),
        "paid_on": payment.paid_on.isoformat(),
        "bank_reference": payment.bank_reference or "—",
        "maker": _person(payment.requested_by),
        "requested_at": _when(payment.requested_at),
        "checker": _person(payment.approved_by) if payment.approved_by_id else "",
        "approved_at": _when(payment.approved_at) if payment.approved_by_id else "",
        "entry": f"#{payment.entry.seq} (id {payment.entry_id})" if payment.entry is not None else "—",
        "entry_hash": payment.entry.hash[:16] if payment.entry is not None else "",
    }


def advice_pdf(payment: TranchePayment) -> bytes:
    html = render_template("pdf/payment_advice.html", a=advice_values(payment), font=CJK_FONT)
    root = current_app.static_folder
    return HTML(string=html, base_url=f"file://{root}/", url_fetcher=StaticOnlyFetcher(root)).write_pdf()
