"""Server-side role checks. Every view is wrapped in exactly one of `roles_required`, `login_required_any`
or `public`; the route-matrix test reads the `access_rule` these leave on the view."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import abort
from flask_login import current_user

from fundapp.extensions import login_manager

ANY_USER = "any-user"
PUBLIC = "public"


def roles_required(*roles: str) -> Callable:
    """Allow signed-in users holding at least one of `roles`; others get 403, anonymous users the login page."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if not current_user.has_role(*roles):
                abort(403)
            return view(*args, **kwargs)

        wrapped.access_rule = frozenset(roles)
        return wrapped

    return decorator


def login_required_any(view: Callable) -> Callable:
    """Any signed-in user (whatever their roles)."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        return view(*args, **kwargs)

    wrapped.access_rule = ANY_USER
    return wrapped


def public(view: Callable) -> Callable:
    """Explicitly open to everyone, signed in or not."""
    view.access_rule = PUBLIC
    return view
