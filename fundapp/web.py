"""Shared view plumbing: one service call per form submission, committed or turned into a form error."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from fundapp.errors import DomainError
from fundapp.extensions import db


@dataclass
class Outcome:
    ok: bool = False


@contextmanager
def form_service(form) -> Iterator[Outcome]:
    """Run the block's service call: commit if it succeeds, else roll back and show the DomainError on the form.

        with form_service(form) as done:
            fund = create_fund(db.session, form.values(), current_user)
        if done.ok:
            flash(...)
            return redirect(...)
    """
    outcome = Outcome()
    try:
        yield outcome
    except DomainError as error:
        db.session.rollback()
        form.form_errors.append(error.message)
    else:
        db.session.commit()
        outcome.ok = True


MAX_ROW_ID = 2**31 - 1  # the integer id columns (PostgreSQL refuses a larger number with an error)


def row_id(value: object) -> int | None:
    """A row id from user input (a form field, a query string): a whole number 1..2^31-1, else None."""
    text = str(value).strip() if isinstance(value, str | int) and not isinstance(value, bool) else ""
    if not (text.isascii() and text.isdigit() and len(text) <= 10):
        return None
    number = int(text)
    return number if 0 < number <= MAX_ROW_ID else None
