"""The scheduler as an RQ job, for RQ's cron (see rq_cron.py)."""

from __future__ import annotations

from returns_service.outbox.worker import get_app
from returns_service.scheduler.schedule import tick_if_leader


def scheduled_tick() -> dict[str, int] | None:
    """RQ job: one pass of every periodic job (None when another host is running one)."""
    return tick_if_leader(get_app())
