"""Background entry point of notifications (an outbox handler), registered by
`returns_service.notifications.init_app`."""

from __future__ import annotations

from typing import Any

from returns_service.notifications import services


def send_notification(payload: dict[str, Any]) -> str:
    """Deliver one notification by id (at most once; RetryLater on SMTP trouble)."""
    return services.deliver(int(payload["notification_id"]))
