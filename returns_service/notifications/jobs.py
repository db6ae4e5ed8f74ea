"""Entry points for background work on notifications: the outbox handler and the tick job.

Importing this module (jobs_registry does) also subscribes to the returns workflow signal,
so every customer-visible status change queues its email in the same transaction.
"""

from __future__ import annotations

from typing import Any

from returns_service.notifications import services
from returns_service.outbox.registry import handler
from returns_service.returns.signals import status_changed

status_changed.connect(services.on_status_changed)


@handler(services.TOPIC)
def send_notification(payload: dict[str, Any]) -> str:
    """Deliver one notification by id (at most once; RetryLater on SMTP trouble)."""
    return services.deliver(int(payload["notification_id"]))


def scheduled_tick() -> dict[str, int]:
    """RQ job (for `rq cron` or any scheduler): run the notification tick once."""
    from returns_service.notifications.schedule import tick
    from returns_service.worker import get_app

    return tick(get_app())
