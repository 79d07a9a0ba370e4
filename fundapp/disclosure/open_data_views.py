"""The open data page (/public/data): every public API endpoint and CSV download, read from the app's own routes (a
new one appears here by itself), the 360Giving exports, the OpenAPI document, the ledger head and the verifier,
and the licence."""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask import current_app, render_template, url_for

from fundapp.api.openapi import PATHS
from fundapp.auth.decorators import PUBLIC, public
from fundapp.disclosure.cache import cached_page
from fundapp.disclosure.home import DATA_LICENCE, DATA_LICENCE_URL
from fundapp.disclosure.views import bp
from fundapp.notify.views import has_endpoint

API_PREFIX = "/api/v1"
PUBLIC_PREFIX = "/public"
ARGUMENT = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")


@dataclass(frozen=True)
class Download:
    path: str  # as shown: /api/v1/funds/{code}
    url: str | None  # a link when the route needs no argument
    summary: str = ""


def _public_rules(prefix: str) -> list:
    rules = []
    for rule in current_app.url_map.iter_rules():
        view = current_app.view_functions.get(rule.endpoint)
        if rule.rule.startswith(prefix + "/") and getattr(view, "access_rule", None) == PUBLIC \
                and "GET" in (rule.methods or ()):
            rules.append(rule)
    return sorted(rules, key=lambda r: r.rule)


def _download(rule, prefix: str = "") -> Download:
    shown = ARGUMENT.sub(r"{\1}", rule.rule)
    operation = PATHS.get(shown[len(prefix):], {}).get("get", {}) if prefix else {}
    url = None if rule.arguments else url_for(rule.endpoint)
    return Download(shown, url, operation.get("summary", ""))


def api_endpoints() -> list[Download]:
    """Every public route under /api/v1, with the summary the OpenAPI document gives it."""
    return [_download(rule, API_PREFIX) for rule in _public_rules(API_PREFIX)]


def csv_downloads() -> list[Download]:
    """Every public route under /public that answers a CSV file."""
    return [_download(rule) for rule in _public_rules(PUBLIC_PREFIX) if rule.rule.endswith(".csv")]


def _link(endpoint: str) -> str | None:
    return url_for(endpoint) if has_endpoint(endpoint) else None


@bp.get("/data")
@public
@cached_page
def open_data():
    links = {name: _link(endpoint) for name, endpoint in (
        ("openapi", "api.openapi"), ("head", "api.ledger_head"), ("entries", "api.ledger_entries"),
        ("giving_json", "api.grants_360giving_json"), ("giving_csv", "api.grants_360giving_csv"),
        ("verify", "disclosure.verify"), ("verifier", "disclosure.verifier_script"),
        ("hash_doc", "disclosure.hash_format"))}
    return render_template("disclosure/open_data.html", endpoints=api_endpoints(), csvs=csv_downloads(),
                           links=links, licence=DATA_LICENCE, licence_url=DATA_LICENCE_URL)
