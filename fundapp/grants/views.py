"""The grants blueprint. Routes live in one module per stage; importing them here registers them."""

from __future__ import annotations

from flask import Blueprint

from fundapp.grants import models as _models  # noqa: F401  (registers the tables)

bp = Blueprint("grants", __name__, url_prefix="/grants")

from fundapp.grants import (  # noqa: E402,F401  (route modules register on bp)
    application_views,
    award_views,
    board_views,
    programme_views,
    review_views,
)
