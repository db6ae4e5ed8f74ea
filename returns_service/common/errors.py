"""Domain errors: a business rule said no. Every layer raises them; the HTTP layer renders
them (returns_service.http.problems) as problem+json or an error page."""

from __future__ import annotations

from typing import Any

PROBLEM_BASE = "https://returns-service.dev/problems/"


class DomainError(Exception):
    """A business rule said no. Subclasses set the HTTP status and problem type."""

    status = 400
    type = "bad-request"
    title = "Bad request"

    def __init__(self, detail: str, **extensions: Any):
        super().__init__(detail)
        self.detail = detail
        self.extensions = extensions


class NotFound(DomainError):
    status, type, title = 404, "not-found", "Not found"


class ValidationFailed(DomainError):
    """Input is well-formed but breaks a rule; `errors` maps field paths to messages."""

    status, type, title = 422, "validation-error", "Validation failed"

    def __init__(self, errors: dict[str, list[str]], detail: str = "Some fields are invalid."):
        super().__init__(detail, errors=errors)
        self.errors = errors


class EditConflict(DomainError):
    status, type, title = 409, "edit-conflict", "The return was changed by someone else"


class Unauthorized(DomainError):
    status, type, title = 401, "unauthorized", "Authentication required"


class Forbidden(DomainError):
    status, type, title = 403, "forbidden", "Not allowed for your role"


class RetryLater(Exception):
    """A transient failure (Stripe or SMTP unreachable, no key configured yet): the job's
    message stays and is tried again; not an error to report."""
