"""Blueprint `api` at /api/v1: public, read-only JSON. Route modules register themselves on `bp`."""

from __future__ import annotations

from flask import Blueprint, jsonify

bp = Blueprint("api", __name__, url_prefix="/api/v1")


class BadParameter(ValueError):
    """A query parameter the API cannot use: answered with 400 and a JSON message."""


@bp.errorhandler(BadParameter)
def _bad_parameter(error: BadParameter):
    response = jsonify({"error": "bad_request", "message": str(error)})
    response.status_code = 400
    response.headers["Cache-Control"] = "no-store"
    return response


def int_param(args, name: str, default: int, low: int, high: int | None = None) -> int:
    raw = args.get(name)
    if raw is None:
        return default
    if not raw.isascii() or not raw.isdigit() or len(raw) > 12:
        raise BadParameter(f"'{name}' must be a whole number")
    value = int(raw)
    if value < low or (high is not None and value > high):
        bounds = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise BadParameter(f"'{name}' must be {bounds}")
    return value


from fundapp.api import giving360, ledger  # noqa: E402,F401  (register the 360Giving and ledger routes on bp)
