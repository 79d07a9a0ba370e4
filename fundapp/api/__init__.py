"""The public, read-only JSON API under /api/v1 (issue #8). No login, no personal data."""
