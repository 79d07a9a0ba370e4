"""The in-app inbox."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("inbox", __name__, url_prefix="/inbox")
from fundapp.notify import models as _models  # noqa: F401,E402  (registers the table)
