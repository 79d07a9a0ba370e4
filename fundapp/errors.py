"""Domain errors. Services raise them; views turn them into a flash or a form error."""

from __future__ import annotations


class DomainError(Exception):
    """A business rule refused an action. `message` is already translated for the user."""

    http_status = 400

    def __init__(self, message: str, **details):
        super().__init__(message)
        self.message = message
        self.details = details

    def __str__(self) -> str:
        return self.message


class NotFound(DomainError):
    http_status = 404


class Forbidden(DomainError):
    http_status = 403
