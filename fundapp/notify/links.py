"""Links in notifications are paths inside this app; anything else is refused (no open redirect)."""

from __future__ import annotations

from urllib.parse import urlsplit


def is_app_path(link: str | None) -> bool:
    """True for "/grants/awards/3" (query and fragment allowed); False for "", "//host", "/\\host", "http://..."
    and anything with whitespace or control characters (browsers strip or reinterpret those)."""
    if not link or not link.startswith("/") or link.startswith("//"):
        return False
    if "\\" in link or any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in link):
        return False
    parts = urlsplit(link)
    return not parts.scheme and not parts.netloc


def absolute_url(site_url: str, path: str) -> str:
    """SITE_URL (which may carry a mount prefix) joined with an app path."""
    return site_url.rstrip("/") + path
