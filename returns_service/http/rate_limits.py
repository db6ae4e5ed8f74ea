"""One rate limit for every anonymous lookup by order number or RMA plus an email: the
portal's forms and the public API share it per client address, so guessing pairs costs the
same whichever door is used. Requests with a valid staff token are not counted."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import current_app
from limits import parse

from returns_service.common.errors import Unauthorized
from returns_service.http.auth import current_api_user
from returns_service.http.extensions import limiter


def lookup_limit() -> str:
    return str(current_app.config["RATELIMIT_LOOKUP"])


def _too_many() -> str:
    return f"Too many lookups from this address (at most {parse(lookup_limit())}). Try again later."


def _staff_request() -> bool:

    try:
        return current_api_user() is not None
    except Unauthorized:  # a wrong token is no exemption (the view answers 401 itself)
        return False


def limit_lookups(*methods: str) -> Callable[[Any], Any]:
    """Decorate a view whose `methods` requests look up an order or a return by email.
    A GET view answers HEAD too (Flask runs the same view): HEAD is counted alike, or its
    status code alone would tell whether an order and email belong together, unlimited."""
    counted = {*methods, "HEAD"} if "GET" in methods else set(methods)
    return limiter.shared_limit(lookup_limit, scope="customer-lookup", methods=sorted(counted),
                                exempt_when=_staff_request, error_message=_too_many)
