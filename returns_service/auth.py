"""API authentication (Bearer tokens) and role checks shared by every JSON endpoint."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import g, request

from returns_service.errors import Forbidden, Unauthorized
from returns_service.staff.models import StaffUser
from returns_service.staff.services import user_for_token
from workflows.returns import Actor

F = TypeVar("F", bound=Callable[..., Any])


def current_api_user() -> StaffUser | None:
    """The staff user behind the request's Bearer token; None when there is no header."""
    if "api_user" in g:
        return g.api_user
    header = request.headers.get("Authorization", "")
    user = None
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("Use 'Authorization: Bearer <token>'.")
        user = user_for_token(token.strip())
        if user is None:
            raise Unauthorized("The token is unknown, revoked, or its user is disabled.")
    g.api_user = user
    return user


def has_role(user: StaffUser, roles: tuple[str, ...]) -> bool:
    return user.role == "admin" or user.role in roles


def require_roles(*roles: str) -> Callable[[F], F]:
    """Require a Bearer token whose user has one of `roles` (admins pass every check)."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            user = current_api_user()
            if user is None:
                raise Unauthorized("This endpoint needs a staff API token.")
            if roles and not has_role(user, roles):
                raise Forbidden(f"Needs role {' or '.join(roles)}; your role is {user.role}.")
            return view(*args, **kwargs)

        wrapper.required_roles = roles  # type: ignore[attr-defined]  (read by access checks)
        return wrapper  # type: ignore[return-value]

    return decorator


def staff_actor(user: StaffUser) -> Actor:
    return Actor("staff", user.id, user.email)


def current_staff_actor() -> Actor:
    """The actor for a request that passed require_roles (so a token user is known)."""
    user = current_api_user()
    if user is None:
        raise Unauthorized("This endpoint needs a staff API token.")
    return staff_actor(user)


STAFF_READ = ("agent", "warehouse", "integration")


def check_declared_roles() -> None:
    """before_request: apply a view's @require_roles before its input is parsed, so callers
    without a token (401) or the right role (403) never see validation details (422)."""
    from flask import current_app

    view = current_app.view_functions.get(request.endpoint or "")
    roles = getattr(view, "required_roles", None)
    if roles is None:
        return
    user = current_api_user()
    if user is None:
        raise Unauthorized("This endpoint needs a staff API token.")
    if roles and not has_role(user, roles):
        raise Forbidden(f"Needs role {' or '.join(roles)}; your role is {user.role}.")
