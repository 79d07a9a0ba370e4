"""Blueprint `api` at /api/v1: public, read-only JSON. Route modules register themselves on `bp`."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, url_for

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


def not_found(message: str) -> Response:
    """The API's 404: the same JSON body as the app answers for an unknown /api/v1 URL."""
    response = jsonify({"error": "not_found", "message": message})
    response.status_code = 404
    return response


DEFAULT_PER_PAGE = 50
MAX_PER_PAGE = 200


def page_args(args) -> tuple[int, int]:
    """`page` (from 1) and `per_page` (1..200, default 50) of a paginated list."""
    return int_param(args, "page", 1, 1, 1_000_000), int_param(args, "per_page", DEFAULT_PER_PAGE, 1, MAX_PER_PAGE)


def check_params(args, known: frozenset[str]) -> None:
    """A misspelt filter is an error, not a silently unfiltered list."""
    unknown = sorted(set(args) - known)
    if unknown:
        raise BadParameter(f"unknown parameter '{unknown[0]}' (known: {', '.join(sorted(known))})")


def paged(items: list, *, page: int, per_page: int, total: int, endpoint: str, **values) -> Response:
    """The envelope of every paginated list: items, the page, the total and links to the neighbours."""
    last = max(1, -(-total // per_page))

    def link(number: int) -> str | None:
        if number < 1 or number > last:
            return None
        return url_for(endpoint, page=number, per_page=per_page, _external=True, **values)

    response = jsonify({"items": items, "page": page, "per_page": per_page, "total": total, "pages": last,
                        "next": link(page + 1), "prev": link(page - 1) if page <= last else link(last)})
    response.headers["Cache-Control"] = "public, max-age=60"
    return response


from fundapp.api import (  # noqa: E402,F401  (register each area's routes on bp)
    donations,
    enterprises,
    financial,
    funds,
    giving360,
    grants,
    ledger,
    openapi,
    volunteers,
)
