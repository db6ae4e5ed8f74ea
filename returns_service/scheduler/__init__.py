"""Scheduled work in one place. Each domain registers its periodic jobs from its `init_app`
(`register_periodic(app, "expired", expire_overdue, position=10)`); one tick runs them all,
in position order, each in its own app context:

- `flask scheduler run --every 300`: a long-running process (one per deployment is enough;
  more are safe, see below);
- `flask scheduler tick`: one pass, for cron or a systemd timer;
- the RQ job `returns_service.worker.scheduled_tick`, for RQ's cron (deploy/rq_cron.py).

On PostgreSQL a pass first takes a session advisory lock: when several hosts run the
scheduler, one of them runs a given pass and the others skip it. Every job is idempotent
anyway (dedupe keys, status re-checked under row locks), so the lock spares work, it does not
guard money.
"""

from flask import Flask

from returns_service.outbox.relay import relay_pending
from returns_service.scheduler.cli import scheduler
from returns_service.scheduler.schedule import register_periodic, summary, tick, tick_if_leader

__all__ = ["init_app", "register_periodic", "summary", "tick", "tick_if_leader"]


def init_app(app: Flask) -> None:
    """Re-send outbox work left behind on every pass, and add `flask scheduler`."""
    register_periodic(app, "relayed", lambda _now: relay_pending(app), position=50,
                      in_app_context=False)
    app.cli.add_command(scheduler)
