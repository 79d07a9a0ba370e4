"""Report pages: fund_statement_views."""

from __future__ import annotations

from fundapp.reports.views import bp  # noqa: F401
