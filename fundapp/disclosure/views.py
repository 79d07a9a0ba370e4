"""Blueprint `disclosure` at /public: no login needed for anything here. Every view is `@public` and,
for GET pages, `@cached_page` (fundapp.disclosure.cache). Area modules register their routes on `bp`."""

from __future__ import annotations

from flask import Blueprint, request

bp = Blueprint("disclosure", __name__, url_prefix="/public")


def page_number() -> int:
    """`?page=` as a positive whole number; anything else is page 1 (a public list never answers 500 or 400)."""
    raw = request.args.get("page", "1")
    return int(raw) if raw.isascii() and raw.isdigit() and 0 < len(raw) <= 6 and int(raw) > 0 else 1


from fundapp.disclosure import (  # noqa: E402,F401  (register each area's routes on bp)
    donation_views,
    enterprise_views,
    financial_views,
    fund_views,
    grant_views,
    home_views,
    open_data_views,
    volunteer_views,
)
