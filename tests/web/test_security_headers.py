"""Security headers on every response, cookies' flags, and templates that keep the CSP possible.

- Every GET route without arguments, requested anonymously: a CSP without 'unsafe-inline' or 'unsafe-eval' that
  forbids framing, nosniff, a referrer policy, a permissions policy; HSTS only over HTTPS.
- The open-data API may be read cross-origin (CORS *), nothing else is.
- No template (PDF templates aside: WeasyPrint, not a browser) holds an inline script, an event-handler
  attribute or a style attribute, which the CSP would block or which would need 'unsafe-inline'.
- The session cookie is HttpOnly and SameSite; production marks it Secure.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from config import ProductionConfig, TestingConfig

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.IGNORECASE)
HANDLER = re.compile(r"\son[a-z]+\s*=", re.IGNORECASE)
STYLE_ATTRIBUTE = re.compile(r"\sstyle\s*=", re.IGNORECASE)


def _plain_get_paths(app) -> list[str]:
    paths = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or rule.arguments or "GET" not in (rule.methods or ()):
            continue
        paths.append(rule.rule)
    return sorted(paths)


def test_every_page_carries_the_security_headers(client):
    paths = _plain_get_paths(client.application)
    assert len(paths) > 20
    for path in paths:
        response = client.get(path)
        response.close()  # file responses (the verifier script) hold their file open until closed
        headers = response.headers
        csp = headers.get("Content-Security-Policy", "")
        assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp, path
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp, path
        assert headers.get("X-Content-Type-Options") == "nosniff", path
        assert headers.get("Referrer-Policy") == "same-origin", path
        assert "camera=()" in headers.get("Permissions-Policy", ""), path
        assert "Strict-Transport-Security" not in headers, path  # plain HTTP: HSTS would be ignored, so not sent
        open_data = path.startswith("/api/v1/")
        assert (headers.get("Access-Control-Allow-Origin") == "*") is open_data, path


def test_hsts_over_https(client):
    response = client.get("/auth/login", base_url="https://localhost")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")


def test_templates_have_no_inline_script_handlers_or_style_attributes():
    offenders = []
    for template in TEMPLATES.rglob("*.html"):
        if template.parent.name == "pdf":
            continue
        text = template.read_text(encoding="utf-8")
        for pattern, what in ((INLINE_SCRIPT, "inline script"), (HANDLER, "event handler"),
                              (STYLE_ATTRIBUTE, "style attribute")):
            offenders += [f"{template.relative_to(TEMPLATES)}: {what}" for _ in pattern.finditer(text)]
    assert not offenders, offenders


def test_the_scan_would_notice_an_inline_script():
    assert INLINE_SCRIPT.search('<script>alert(1)</script>')
    assert not INLINE_SCRIPT.search('<script src="/static/js/app.js" defer></script>')
    assert not INLINE_SCRIPT.search('<script type="application/json" id="x">{}</script>')
    assert HANDLER.search('<a onclick="x()">') and STYLE_ATTRIBUTE.search('<div style="color:red">')


@pytest.mark.parametrize("config, secure", [(TestingConfig, False), (ProductionConfig, True)])
def test_cookie_flags(config, secure):
    assert config.SESSION_COOKIE_HTTPONLY is True and config.REMEMBER_COOKIE_HTTPONLY is True
    assert config.SESSION_COOKIE_SAMESITE in ("Lax", "Strict")
    assert config.SESSION_COOKIE_SECURE is secure and config.REMEMBER_COOKIE_SECURE is secure
