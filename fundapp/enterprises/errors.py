"""The enterprises domain's error: a business rule refused the action and nothing was written."""

from __future__ import annotations

from fundapp.errors import DomainError


class EnterpriseError(DomainError):
    pass
