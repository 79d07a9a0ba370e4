"""What caused an entry (`JournalEntry.source_type`), as shown to people. Domains add their own sources here."""

from flask_babel import lazy_gettext as _l

SOURCE_LABELS = {
    "manual": _l("Manual"),
    "reversal": _l("Reversal"),
    "donation": _l("Donation"),
    "pledge": _l("Pledge"),
    "pledge-payment": _l("Pledge payment"),
    "enterprise_share": _l("Enterprise share"),
    "enterprise_payment": _l("Enterprise payment"),
    "grant_award": _l("Grant award"),
    "grant_payment": _l("Grant payment"),
    "grant_close": _l("Grant close-out"),
    "bulk": _l("Generated data"),
    "year_close": _l("Year-end close"),
    "restriction_release": _l("Release from restriction"),
    "volunteer_redemption": _l("Points exchange"),
}

# Entries whose source keeps state of its own: a donation its status and receipts, a pledge its balance, an
# enterprise payment what it settled, a points exchange the stock and the points spent. Reversing one in the
# ledger alone would leave the two disagreeing, so the ledger's reverse page refuses and says where to correct it.
CORRECTED_AT_SOURCE = {
    "donation": _l("on the donation's page (Reverse or Correct), which also voids its receipt"),
    "pledge": _l("on the pledge's page"),
    "pledge-payment": _l("on the donation's page of the payment"),
    "enterprise_payment": _l("on the enterprise payment's page"),
    "volunteer_redemption": _l("not at all yet: a points exchange has no correction flow; record the return of "
                               "the goods with a manual entry and tell the volunteer's organiser"),
}


def source_label(source_type: str) -> str:
    return str(SOURCE_LABELS.get(source_type, source_type))


def corrected_at_source(source_type: str) -> str | None:
    """Where an entry of this source is corrected, if not by a plain ledger reversal."""
    where = CORRECTED_AT_SOURCE.get(source_type)
    return None if where is None else str(where)
