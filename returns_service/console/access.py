"""Console sign-in and permission checks: login required, the permissions table
(returns_service.staff.permissions) checked on the server and read by the pages' buttons."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import abort, redirect, request, url_for
from flask_login import current_user, logout_user

from returns_service.http.auth import staff_actor
from returns_service.staff.models import StaffUser
from returns_service.staff.permissions import user_may
from workflows.returns import Actor

F = TypeVar("F", bound=Callable[..., Any])


def may(user: Any, action: str) -> bool:
    """True when the signed-in user may take `action` (admins may do everything)."""
    return bool(getattr(user, "is_authenticated", False)) and user_may(user, action)


def permission_required(action: str) -> Callable[[F], F]:
    """Signed in (else to the login page) and allowed `action` (else 403) before the view
    runs."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated or not current_user.is_active:
                logout_user()  # a user disabled mid-session is signed out at once
                return redirect(url_for("console.login", next=request.full_path.rstrip("?")))
            if not user_may(current_user, action):
                abort(403)
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorator


def current_actor() -> Actor:
    user: StaffUser = current_user._get_current_object()  # type: ignore[attr-defined]
    return staff_actor(user)


def safe_next(target: str | None) -> str | None:
    """Only same-site paths are followed after login (no open redirects)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc else None
