"""Grant pages: applications."""

from __future__ import annotations

from fundapp.grants.views import bp  # noqa: F401
