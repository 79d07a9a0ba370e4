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
}


def source_label(source_type: str) -> str:
    return str(SOURCE_LABELS.get(source_type, source_type))
