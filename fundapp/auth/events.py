"""Audit tags of sign-in security (two-factor, lockout): members of `AuditTag`, so the audit page lists them."""

from __future__ import annotations

from fundapp.audit.services import AuditTag

AuthEvent = AuditTag
