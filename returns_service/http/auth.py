"""API authentication (Bearer tokens) and the permission check of every JSON endpoint, against
the one permissions table (returns_service.staff.permissions)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import current_app, g, request

from returns_service.common.errors import Forbidden, Unauthorized
from returns_service.staff.permissions import role_may, roles_for
from returns_service.staff.services import TokenUser, user_for_token
from workflows.returns import Actor

F = TypeVar("F", bound=Callable[..., Any])


def current_api_user() -> TokenUser | None:
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


def require(action: str) -> Callable[[F], F]:
    """Require a Bearer token whose user may take `action` (see staff.permissions). The
    check runs before the request's input is parsed (`check_permission`, a before_request
    hook of the API blueprints), and again around the view."""
    roles_for(action)  # an unknown action fails at import, not at request time

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            _check(action)
            return view(*args, **kwargs)

        wrapper.required_action = action  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorator


def _check(action: str) -> TokenUser:
    user = current_api_user()
    if user is None:
        raise Unauthorized("This endpoint needs a staff API token.")
    if not role_may(user.role, action):
        roles = roles_for(action) or ("admin",)
        raise Forbidden(f"Needs role {' or '.join(roles)}; your role is {user.role}.")
    return user


def staff_actor(user: TokenUser) -> Actor:
    return Actor("staff", user.id, user.email)


def current_staff_actor() -> Actor:
    """The actor for a request that passed @require (so a token user is known)."""
    user = current_api_user()
    if user is None:
        raise Unauthorized("This endpoint needs a staff API token.")
    return staff_actor(user)


def check_permission() -> None:
    """before_request of the API blueprints: apply a view's @require before its input is
    parsed, so callers without a token (401) or the permission (403) never see validation
    details (422)."""
    view = current_app.view_functions.get(request.endpoint or "")
    action = getattr(view, "required_action", None)
    if action is not None:
        _check(action)
