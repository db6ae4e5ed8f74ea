"""Error reporting to Sentry (or any server speaking its protocol) when SENTRY_DSN is set:
errors logged by the web process and the workers, with the request id as a tag. Expected
waits (a job retried later) are not reported."""

from __future__ import annotations

from typing import Any

import sentry_sdk
from sentry_sdk.integrations.flask import FlaskIntegration

from returns_service.common.errors import RetryLater
from returns_service.common.logs import current_request_id


def init_error_reporting(dsn: str | None, environment: str | None) -> bool:
    """Start reporting to `dsn` (once per process); False when no DSN is set."""
    if not dsn:
        return False
    sentry_sdk.init(dsn=dsn, environment=environment or "production",
                    integrations=[FlaskIntegration()], auto_enabling_integrations=False,
                    send_default_pii=False, traces_sample_rate=0, before_send=_before_send)
    return True


def _before_send(event: dict[str, Any], hint: dict[str, Any]) -> dict[str, Any] | None:
    exc_info = hint.get("exc_info")
    if exc_info and isinstance(exc_info[1], RetryLater):
        return None  # a job that will be tried again is not an error
    request_id = current_request_id()
    if request_id:
        event.setdefault("tags", {})["request_id"] = request_id
    return event
